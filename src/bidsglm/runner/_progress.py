"""A tiny progress bar on stderr, drawn only for a person at a terminal."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ['Progress']

_WIDTH = 24


class Progress:
    r"""Count finished items and redraw one line: ``label [####    ] 3/8 12s``.

    Parameters
    ----------
    total : int
        How many items there are.
    label : str
        What is counted (``'subjects'``).
    enabled : bool, optional
        Draw or not; by default only when stderr is a terminal.
    stream : file, optional
        Where to draw (default: ``sys.stderr``).

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> with Progress(2, 'subjects', enabled=True, stream=stream) as progress:
    ...     progress.advance()
    ...     progress.advance()
    >>> stream.getvalue().split('\r')[-1].split()[:3]
    ['subjects', '[########################]', '2/2']
    """

    def __init__(
        self, total: int, label: str, enabled: bool | None = None, stream: TextIO | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = max(total, 1)
        self.label = label
        self.done = 0
        self._start = time.monotonic()

    def __enter__(self) -> Progress:
        self._draw()
        return self

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more finished items and redraw."""
        self.done = min(self.done + count, self.total)
        self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        filled = round(_WIDTH * self.done / self.total)
        seconds = time.monotonic() - self._start
        bar = '#' * filled + ' ' * (_WIDTH - filled)
        self.stream.write(f'\r{self.label} [{bar}] {self.done}/{self.total} {seconds:.0f}s')
        self.stream.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.enabled:
            self.stream.write('\n')
            self.stream.flush()
