"""Steps of long work, told to whoever listens: the command line's progress line.

The models say each step they finish (a run fitted, a group map read, a block of
voxels fitted) through a :class:`StepCounter`; nothing happens unless a caller set a
listener with :func:`listening`. The command line listens in each worker process
and forwards the steps to the main process, the only one that draws. This module
imports nothing of bidsglm, so every layer may use it.

Examples
--------
>>> heard = []
>>> with listening(lambda kind, done, total: heard.append((kind, done, total))):
...     runs = StepCounter('runs', 2)
...     runs.advance()
...     runs.advance()
>>> heard
[('runs', 1, 2), ('runs', 2, 2)]
>>> StepCounter('runs', 1).advance()   # nobody listens: nothing happens
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ['StepCounter', 'listening']

logger = logging.getLogger('bidsglm')

#: Called as ``listener(kind, done, total)``: ``done`` of ``total`` steps of ``kind``.
_listener: Callable[[str, int, int], None] | None = None


@contextlib.contextmanager
def listening(listener: Callable[[str, int, int], None]) -> Iterator[None]:
    """Hear every step told in this process (any thread) inside the ``with`` block.

    Parameters
    ----------
    listener : callable
        Called as ``listener(kind, done, total)``; it must be quick and thread-safe.
        An error it raises is logged (at debug level) and never stops the work.

    Yields
    ------
    None
    """
    global _listener  # noqa: PLW0603 - one listener per process, by design
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous


class StepCounter:
    """Count the finished steps of one piece of work, telling the listener each time.

    Parameters
    ----------
    kind : str
        What a step is, plural (``'runs'``, ``'maps'``, ``'blocks'``).
    total : int
        How many steps the work has.

    Examples
    --------
    >>> heard = []
    >>> with listening(lambda *step: heard.append(step)):
    ...     StepCounter('blocks', 3).advance(2)
    >>> heard
    [('blocks', 2, 3)]
    """

    def __init__(self, kind: str, total: int) -> None:
        self.kind = kind
        self.total = total
        self.done = 0
        self._guard = threading.Lock()

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more finished steps (threads may call it at once)."""
        with self._guard:
            self.done = min(self.done + count, self.total)
            done = self.done
        listener = _listener
        if listener is None:
            return
        try:
            listener(self.kind, done, self.total)
        except Exception:  # progress is never worth a failed fit
            logger.debug('A progress listener failed.', exc_info=True)
