"""Late binding: a lower layer declares a call that a higher layer carries out.

The layers import downwards only (DESIGN.md, section 2), yet a model offers
``generate_report``, which :mod:`bidsglm.report` draws, and ``models`` may not
import ``report``, not even inside a function. So ``models`` calls a :class:`Hook`
declared here, and the package's entry point (``bidsglm/__init__.py``, which runs
before any layer is imported) supplies the function behind it. This module
imports nothing of bidsglm, so every layer may use it.

    models/  --calls-->  _hooks.GENERATE_REPORT  <--supplied by--  bidsglm/__init__.py
                                                                     (imports report/
                                                                      on first call)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    import os
    from collections.abc import Callable
    from pathlib import Path

__all__ = ['GENERATE_REPORT', 'Hook', 'HtmlDocument']

F = TypeVar('F', bound='Callable[..., Any]')


class Hook(Generic[F]):
    """A call declared by a lower layer, supplied by the package's entry point.

    Parameters
    ----------
    name : str
        What the call does, for the error raised when nothing supplies it.

    Examples
    --------
    >>> double = Hook('double')
    >>> double.supply(lambda value: 2 * value)
    >>> double.function(21)
    42
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._function: F | None = None

    def supply(self, function: F) -> None:
        """Set the function behind the hook (done once, by ``bidsglm/__init__.py``)."""
        self._function = function

    @property
    def function(self) -> F:
        """The function behind the hook.

        Raises
        ------
        RuntimeError
            If nothing supplied it (``bidsglm`` was not imported the usual way).
        """
        if self._function is None:
            msg = (
                f'Nothing supplies {self.name!r}: bidsglm/__init__.py does when the package is '
                'imported. Import bidsglm normally (not one of its modules by file path).'
            )
            raise RuntimeError(msg)
        return self._function


class HtmlDocument(Protocol):
    """What ``generate_report`` returns: a page to save, open or show in a notebook."""

    def save_as_html(self, file_name: str | os.PathLike[str]) -> None:
        """Write the page to a file."""

    def open_in_browser(self, file_name: str | os.PathLike[str] | None = None) -> Path:
        """Save the page and open it in a web browser."""

    def _repr_html_(self) -> str:
        """Return the HTML a notebook shows."""


#: ``generate_report(model, **keywords)`` of both models, drawn by bidsglm.report.
GENERATE_REPORT: Hook[Callable[..., HtmlDocument]] = Hook('generate_report')
