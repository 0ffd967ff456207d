"""One progress line on stderr, drawn only for a person at a terminal.

The line counts the finished jobs and, beside them, the steps inside the jobs that
the models tell (:mod:`bidsglm._steps`): runs fitted, group maps read, voxel blocks
fitted. Only the main process draws. Workers send their steps to it
(:class:`Relayed`: through a queue from a local process pool, as Dask events from
a cluster), and log lines are written on a line of their own, the progress line
drawn again below them, so that several workers never garble the terminal.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TextIO, TypeVar

from bidsglm._steps import listening

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from multiprocessing.queues import SimpleQueue
    from types import TracebackType

__all__ = ['DASK_TOPIC', 'Progress', 'Relayed', 'relay_queue', 'send_steps_to']

_WIDTH = 24
#: Seconds between two redraws caused by steps (jobs always redraw).
_REDRAW_SECONDS = 0.1
#: The Dask event topic that carries the steps of the workers.
DASK_TOPIC = 'bidsglm-steps'

Result = TypeVar('Result')


class Progress:
    r"""Count finished jobs and the steps inside them on one redrawn line.

    ``subjects [####      ] 3/8 · runs 9/16 · 12s``

    Parameters
    ----------
    total : int
        How many jobs there are.
    label : str
        What is counted (``'subjects'``).
    enabled : bool, optional
        Draw or not; by default only when stderr is a terminal.
    stream : file, optional
        Where to draw (default: ``sys.stderr``).
    expected : mapping of str to int, optional
        Steps known in advance, by kind (``{'runs': 16}``); the total of other
        kinds is what the jobs have announced so far.

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> with Progress(2, 'subjects', enabled=True, stream=stream, expected={'runs': 4}) as bar:
    ...     bar.step('sub-01', 'runs', 2, 2)
    ...     bar.advance()
    >>> stream.getvalue().split('\r')[-1].split()[:6]
    ['subjects', '[############', ']', '1/2', '·', 'runs']
    >>> stream.getvalue().split('\r')[-1].split()[6]
    '2/4'
    """

    def __init__(
        self,
        total: int,
        label: str,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        expected: Mapping[str, int] | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = max(total, 1)
        self.label = label
        self.done = 0
        self.expected = dict(expected or {})
        self._steps: dict[str, dict[str, tuple[int, int]]] = {}
        self._start = time.monotonic()
        self._drawn_at = 0.0
        self._lock = threading.RLock()
        self._line_keepers: list[logging.Handler] = []

    def __enter__(self) -> Progress:
        if self.enabled:
            self._keep_log_lines_apart()
        self._draw()
        return self

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more finished jobs and redraw."""
        with self._lock:
            self.done = min(self.done + count, self.total)
            self._draw()

    def step(self, job: str, kind: str, done: int, total: int) -> None:
        """Record that ``job`` has finished ``done`` of its ``total`` steps of ``kind``.

        Thread-safe; redraws at most every tenth of a second.
        """
        with self._lock:
            self._steps.setdefault(kind, {})[job] = (done, total)
            if time.monotonic() - self._drawn_at >= _REDRAW_SECONDS or done == total:
                self._draw()

    def steps_text(self) -> str:
        """Return the steps part of the line (``' · runs 9/16'``), empty without steps.

        Examples
        --------
        >>> progress = Progress(1, 'contrasts')
        >>> progress.step('faces', 'maps', 20, 20)
        >>> progress.step('faces', 'blocks', 1, 4)
        >>> progress.steps_text()
        ' · maps 20/20 · blocks 1/4'
        """
        parts = []
        for kind, by_job in self._steps.items():
            done = sum(d for d, _ in by_job.values())
            total = self.expected.get(kind, sum(t for _, t in by_job.values()))
            parts.append(f' · {kind} {min(done, total)}/{total}')
        return ''.join(parts)

    def _line(self) -> str:
        filled = round(_WIDTH * self.done / self.total)
        bar = '#' * filled + ' ' * (_WIDTH - filled)
        seconds = time.monotonic() - self._start
        return f'{self.label} [{bar}] {self.done}/{self.total}{self.steps_text()} {seconds:.0f}s'

    def _draw(self) -> None:
        if not self.enabled:
            return
        with self._lock:
            self.stream.write(f'\r{self._line()}\x1b[K')
            self.stream.flush()
            self._drawn_at = time.monotonic()

    def _clear(self) -> None:
        with self._lock:
            self.stream.write('\r\x1b[K')
            self.stream.flush()

    def _keep_log_lines_apart(self) -> None:
        """Clear the line before each log line of bidsglm, draw it again after."""
        logger = logging.getLogger('bidsglm')
        clear, redraw = _Call(self._clear), _Call(self._draw)
        logger.handlers.insert(0, clear)
        logger.addHandler(redraw)
        self._line_keepers = [clear, redraw]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        logger = logging.getLogger('bidsglm')
        for handler in self._line_keepers:
            logger.removeHandler(handler)
        if self.enabled:
            self._draw()
            self.stream.write('\n')
            self.stream.flush()


class _Call(logging.Handler):
    """A logging handler that calls a function instead of writing the record."""

    def __init__(self, function: Callable[[], None]) -> None:
        super().__init__()
        self.function = function

    def emit(self, record: logging.LogRecord) -> None:
        self.function()


# ------------------------------------------------------------------ workers' steps
#: Where the steps of this worker process go (set by :func:`send_steps_to`).
_queue: SimpleQueue[Any] | None = None


def send_steps_to(queue: SimpleQueue[Any]) -> None:
    """In a worker process of a local pool: send the steps of every job to ``queue``."""
    global _queue  # noqa: PLW0603 - one queue per worker process
    _queue = queue


@dataclass(frozen=True)
class Relayed(Generic[Result]):
    """A job function whose steps reach the main process's progress line.

    Parameters
    ----------
    work : callable
        The job function (module-level, so that it can be sent to a worker); jobs
        have a ``name``.
    via : {'queue', 'dask'}
        How the steps travel: the queue given to :func:`send_steps_to` (a local
        process pool), or events of topic :data:`DASK_TOPIC` (a Dask worker).
    """

    work: Callable[[Any], Result]
    via: Literal['queue', 'dask']

    def __call__(self, job: Any) -> Result:  # noqa: ANN401 - whatever the work takes
        """Run ``work(job)``, sending each step it tells."""
        with listening(self._sender(str(job.name))):
            return self.work(job)

    def _sender(self, name: str) -> Callable[[str, int, int], None]:
        if self.via == 'dask':
            from distributed import get_worker  # noqa: PLC0415 - Dask is optional

            worker = get_worker()  # here, in the task's thread; the fit's threads too
            return lambda kind, done, total: worker.log_event(
                DASK_TOPIC, [name, kind, done, total]
            )
        queue = _queue
        if queue is None:
            return lambda kind, done, total: None
        return lambda kind, done, total: queue.put((name, kind, done, total))


@contextlib.contextmanager
def relay_queue(queue: SimpleQueue[Any], progress: Progress) -> Iterator[None]:
    """Draw the steps that workers put in ``queue`` while the ``with`` block runs."""

    def drain() -> None:
        while (item := queue.get()) is not None:
            progress.step(*item)

    reader = threading.Thread(target=drain, name='bidsglm-steps', daemon=True)
    reader.start()
    try:
        yield
    finally:
        queue.put(None)
        reader.join(timeout=1.0)  # a worker killed mid-message may leave it waiting
