"""Compute the next items of a sequence while the current one is used.

Reading a gzipped map (inflated by python-isal without the GIL), or computing a map
of residuals (numpy, without the GIL), can run on a second core while the first
uses the previous one: :func:`ahead` runs an iterable on a helper thread, a few
items ahead, and hands them over in order. :func:`ahead_map` computes a function
of each item on several threads at once (several maps inflated together), handing
the results over in order too.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar, cast

__all__ = ['ahead', 'ahead_map']

T = TypeVar('T')
R = TypeVar('R')

#: How long the helper waits to hand an item over before it looks whether to stop.
_POLL_SECONDS = 0.1


class _Done:
    """The end of the items."""


class _Failed:
    """An error of the helper, raised where the next item was due."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Handover:
    """The queue between the helper and the caller, and the caller's signal to stop."""

    def __init__(self, depth: int) -> None:
        self.queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()

    def give(self, item: object) -> bool:
        """Queue ``item`` once there is room; False if the caller stopped meanwhile."""
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def produce(self, items: Iterable[object]) -> None:
        """Run on the helper thread: queue every item, then the end (or the error)."""
        try:
            for item in items:
                if not self.give(item):
                    return
        except BaseException as error:
            self.give(_Failed(error))
            return
        self.give(_Done())


def ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield the items of ``items``, computed up to ``depth`` ahead on a helper thread.

    An error raised while computing an item is raised here, in its place. Leaving
    the loop early (or an error of the caller) stops the helper after the item it is
    computing.

    Parameters
    ----------
    items : iterable
        Consumed on the helper thread only.
    depth : int, default=2
        How many items may wait, computed, besides the one being used.

    Yields
    ------
    object
        The items, in order.

    Examples
    --------
    >>> [value * 10 for value in ahead(iter(range(4)))]
    [0, 10, 20, 30]
    """
    handover = _Handover(depth)
    helper = threading.Thread(
        target=handover.produce, args=(items,), name='bidsglm-ahead', daemon=True
    )
    helper.start()
    try:
        while not isinstance(item := handover.queue.get(), _Done):
            if isinstance(item, _Failed):
                raise item.error
            yield cast('T', item)
    finally:
        handover.stop.set()
        helper.join()


def ahead_map(
    function: Callable[[T], R], items: Iterable[T], workers: int = 2, depth: int = 4
) -> Iterator[R]:
    """Yield ``function(item)`` for each item, in order, computed on ``workers`` threads.

    At most ``depth`` results are computed or being computed ahead of the one
    used, so memory holds a few of them whatever the number of items. An error of
    ``function`` is raised in place of its result. Leaving the loop early (or an
    error of the caller) waits for the results being computed and drops them.

    Parameters
    ----------
    function : callable
        Run on the worker threads; it should spend its time without the GIL
        (inflating, numpy) for the threads to run at once.
    items : iterable
        Read on the caller's thread, ``depth`` ahead.
    workers : int, default=2
        The threads.
    depth : int, default=4
        How many results may be computed ahead.

    Yields
    ------
    object
        The results, in the order of ``items``.

    Examples
    --------
    >>> list(ahead_map(lambda value: value * 10, range(6)))
    [0, 10, 20, 30, 40, 50]
    """
    with ThreadPoolExecutor(workers, thread_name_prefix='bidsglm-ahead') as pool:
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(function, item))
                if len(pending) > depth:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
