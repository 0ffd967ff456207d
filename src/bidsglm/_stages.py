"""Where a job's time goes: named stages, timed only while a job records them.

A layer marks the work it does with :func:`timed` (``read``, ``fit``,
``contrasts``, ``write``, ``report``...); that costs nothing unless a caller is
:func:`recording`, as the command line does around each subject's job. Stages nest
and the innermost one takes the time: a ``read`` inside a ``fit`` is not counted in
the ``fit``, so the stages of a job never add up to more than its duration. Time
spent outside every stage is not counted in any.

The clock follows the context of the thread that records (a :mod:`contextvars`
variable): work a stage hands to other threads counts as the time the recording
thread spends in that stage, waiting for it included. Like :mod:`bidsglm._hooks`,
this module imports nothing of bidsglm, so every layer may use it.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ['StageClock', 'recording', 'timed']


class StageClock:
    """Seconds spent in each stage, the innermost open stage taking the time.

    Examples
    --------
    >>> clock = StageClock()
    >>> clock.enter('fit')
    >>> clock.enter('read')
    >>> clock.leave()
    >>> clock.leave()
    >>> sorted(clock.seconds)
    ['fit', 'read']
    >>> all(seconds >= 0 for seconds in clock.seconds.values())
    True
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._open: list[str] = []
        self._since = time.perf_counter()

    def _charge(self) -> None:
        """Give the time since the last change to the innermost open stage."""
        now = time.perf_counter()
        if self._open:
            name = self._open[-1]
            self.seconds[name] = self.seconds.get(name, 0.0) + now - self._since
        self._since = now

    def enter(self, name: str) -> None:
        """Open stage ``name`` inside the stages already open."""
        self._charge()
        self._open.append(name)
        self.seconds.setdefault(name, 0.0)

    def leave(self) -> None:
        """Close the innermost open stage."""
        self._charge()
        self._open.pop()


_CLOCK: ContextVar[StageClock | None] = ContextVar('bidsglm_stage_clock', default=None)


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Count the time of the block as stage ``name`` of the job being recorded.

    Parameters
    ----------
    name : str
        The stage (``'read'``, ``'fit'``...). A block may enter the same stage
        several times: the times add up.

    Examples
    --------
    >>> with timed('fit'):  # nothing records: nothing is counted
    ...     pass
    >>> with recording() as clock:
    ...     with timed('fit'):
    ...         with timed('read'):
    ...             pass
    >>> sorted(clock.seconds)
    ['fit', 'read']
    """
    clock = _CLOCK.get()
    if clock is None:
        yield
        return
    clock.enter(name)
    try:
        yield
    finally:
        clock.leave()


@contextmanager
def recording() -> Iterator[StageClock]:
    """Record the stages of the block (in this thread's context) in a new clock.

    Yields
    ------
    StageClock
        Its ``seconds`` hold each stage's time once the block is left.

    Examples
    --------
    >>> import time
    >>> with recording() as clock, timed('write'):
    ...     time.sleep(0.01)
    >>> clock.seconds['write'] >= 0.01
    True
    """
    clock = StageClock()
    token = _CLOCK.set(clock)
    try:
        yield clock
    finally:
        _CLOCK.reset(token)
