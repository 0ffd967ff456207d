"""Worker processes that stop when the main process is gone.

Without it, a local process pool (``--n-jobs``) outlives a main process killed by a
signal it cannot handle (SIGKILL, or SIGTERM and SIGHUP sent to it alone): its
workers fit and save the subjects already handed to them, then wait for more work
for ever, holding the terminal's output open, and the fork server waits for them.
A :class:`Lifeline` tells them:

- the main process makes a pipe and keeps its write end; each worker gets the read
  end through the pool's initializer (:func:`hold`). Nothing is ever written: the
  read end becomes readable (end of file) when the last write end closes, which the
  system does when the main process ends, however it ends. A pipe, unlike a process
  id, is never reused by another process; and the worker's parent is the fork
  server, not the main process, so ``os.getppid()`` would not tell;
- a thread of each worker waits on it. When the pipe ends, a worker between jobs
  exits at once; a worker in a job (:class:`Guarded`) is interrupted as Ctrl-C would
  interrupt it, by SIGINT to its main thread: ``KeyboardInterrupt`` unwinds the job,
  so the save's all-or-nothing cleanup runs, then the worker exits instead of
  taking the next job. If the cleanup has not ended after ``GRACE_SECONDS``, the
  worker exits anyway;
- the fork server then exits by itself: it stops when the last process holding its
  "alive" pipe (the main process and every worker) is gone.

The main process cuts the lifeline itself (:meth:`Lifeline.cut`) when the pool
ends, and at once when it is interrupted, so that Ctrl-C stops the workers too.

Examples
--------
>>> lifeline = Lifeline()
>>> lifeline.guard(len)('sub-01')  # in the main process, a guarded job is the job itself
6
>>> lifeline.cut()
"""

from __future__ import annotations

import _thread
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.connection import Connection
    from types import FrameType

__all__ = ['GRACE_SECONDS', 'Guarded', 'Lifeline', 'hold']

#: How long an interrupted job may take to clean up before its worker exits anyway.
GRACE_SECONDS = 5.0
#: The exit status of a worker that stopped because the main process is gone, the
#: one a shell reports for Ctrl-C (nobody reads it: the main process is gone).
_EXIT_STATUS = 128 + signal.SIGINT

Result = TypeVar('Result')


@dataclass
class _WorkerState:
    """What the lifeline thread of a worker and its main thread share."""

    severed: threading.Event = field(default_factory=threading.Event)
    busy: bool = False


_WORKER = _WorkerState()


class Lifeline:
    """The main process's end of the lifeline of a process pool.

    Give :attr:`initializer` and :attr:`initargs` to the pool, submit jobs wrapped
    by :meth:`guard`, and :meth:`cut` the lifeline once the pool has shut down (or
    at once, to stop the workers).
    """

    def __init__(self) -> None:
        self._reader, self._writer = multiprocessing.Pipe(duplex=False)

    @property
    def initializer(self) -> Callable[[Connection], None]:
        """The pool's initializer: :func:`hold`."""
        return hold

    @property
    def initargs(self) -> tuple[Connection]:
        """The initializer's arguments: the read end of the pipe."""
        return (self._reader,)

    def guard(self, work: Callable[[Any], Result]) -> Guarded[Result]:
        """Wrap a job function so that a worker stops with the main process."""
        return Guarded(work)

    def cut(self) -> None:
        """Close the pipe: every worker still running stops its job and exits."""
        self._writer.close()
        self._reader.close()


@dataclass(frozen=True)
class Guarded(Generic[Result]):
    """A job function that a worker runs only while the main process lives.

    Parameters
    ----------
    work : callable
        The job function (module-level, so that it can be sent to a worker).
    """

    work: Callable[[Any], Result]

    def __call__(self, job: Any) -> Result:  # noqa: ANN401 - whatever the work takes
        """Run ``work(job)``; in a worker whose lifeline is cut, exit instead."""
        if _WORKER.severed.is_set():
            os._exit(_EXIT_STATUS)
        _WORKER.busy = True
        try:
            return self.work(job)
        except KeyboardInterrupt:
            if _WORKER.severed.is_set():  # the job is cleaned up: do not take another
                os._exit(_EXIT_STATUS)
            raise
        finally:
            _WORKER.busy = False


def hold(reader: Connection) -> None:
    """Initialize a worker: watch the lifeline from a thread of its own.

    Runs in the worker's main thread (a pool's initializer does), where it also
    sets the SIGINT handler: as Python's own while the main process lives; once it
    is gone, it ends a worker that is between jobs.

    Parameters
    ----------
    reader : multiprocessing.connection.Connection
        The read end of the lifeline's pipe.
    """
    signal.signal(signal.SIGINT, _on_interrupt)
    main_thread = threading.main_thread().ident
    assert main_thread is not None  # the main thread has started: this runs in it
    watcher = threading.Thread(
        target=_watch, args=(reader, main_thread), name='bidsglm-lifeline', daemon=True
    )
    watcher.start()


def _watch(reader: Connection, main_thread: int) -> None:
    """Wait for the end of the pipe, then stop the worker."""
    multiprocessing.connection.wait([reader])
    _WORKER.severed.set()
    if not _WORKER.busy:
        os._exit(_EXIT_STATUS)
    _interrupt(main_thread)
    time.sleep(GRACE_SECONDS)
    os._exit(_EXIT_STATUS)


def _interrupt(main_thread: int) -> None:
    """Raise ``KeyboardInterrupt`` in the main thread, as Ctrl-C does."""
    if hasattr(signal, 'pthread_kill'):
        # a signal to that thread also ends a blocking system call it is in
        signal.pthread_kill(main_thread, signal.SIGINT)
    else:  # pragma: no cover - Windows
        _thread.interrupt_main()


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    """Handle SIGINT in a worker: exit if the main process is gone and no job runs."""
    if _WORKER.severed.is_set() and not _WORKER.busy:
        os._exit(_EXIT_STATUS)
    signal.default_int_handler(signum, frame)
