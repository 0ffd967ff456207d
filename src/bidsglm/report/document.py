"""A report page held in memory: saved, opened in a browser, or shown in a notebook.

:class:`HTMLReport` is what ``generate_report`` returns, with the methods of
nilearn's report object (``save_as_html``, ``open_in_browser``, ``get_iframe``,
``get_standalone``, ``resize``, ``width``, ``height``). Its page is one
self-contained document (:mod:`bidsglm.report.html`): a notebook shows it in a
frame (``srcdoc``), so that its styles stay inside the frame and leave the
notebook's alone.
"""

from __future__ import annotations

import html
import os
import tempfile
import webbrowser
from pathlib import Path

from bidsglm.errors import ParameterTypeError, warn_caller

__all__ = ['HTMLReport']


def _pixels(value: object, name: str) -> int:
    """Read a frame size: a positive whole number of pixels."""
    try:
        pixels = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        pixels = 0
    if pixels <= 0:
        msg = f'The {name!r} of a report must be a positive number of pixels. Got {value!r}.'
        raise ParameterTypeError(msg)
    return pixels


class HTMLReport:
    """An HTML report page, as ``generate_report`` returns it.

    Parameters
    ----------
    document : str
        The whole page.
    width, height : int, default=1600, 800
        The size (pixels) of the frame a notebook shows the page in.

    Attributes
    ----------
    html : str
        The whole page (also ``str(report)``).

    Examples
    --------
    >>> report = HTMLReport('<!DOCTYPE html><title>GLM</title><p>a &amp; b</p>', 640, 480)
    >>> print(report.get_iframe())
    <iframe srcdoc="&lt;!DOCTYPE html&gt;&lt;title&gt;GLM&lt;/title&gt;&lt;p&gt;a &amp;amp;
    b&lt;/p&gt;" width="640" height="480" style="border: 0"></iframe>
    >>> report.resize(800, 600).width
    800
    """

    def __init__(self, document: str, width: int = 1600, height: int = 800) -> None:
        self.html = document
        self.width = width
        self.height = height

    @property
    def width(self) -> int:
        """The width (pixels) of the frame a notebook shows."""
        return self._width

    @width.setter
    def width(self, value: int) -> None:
        self._width = _pixels(value, 'width')

    @property
    def height(self) -> int:
        """The height (pixels) of the frame a notebook shows."""
        return self._height

    @height.setter
    def height(self, value: int) -> None:
        self._height = _pixels(value, 'height')

    def resize(self, width: int, height: int) -> HTMLReport:
        """Set the size of the frame a notebook shows; return the report."""
        self.width, self.height = width, height
        return self

    def get_standalone(self) -> str:
        """Return the whole page."""
        return self.html

    def get_iframe(self, width: int | None = None, height: int | None = None) -> str:
        """Return the page in a frame (``<iframe srcdoc=...>``), to put in another page.

        Parameters
        ----------
        width, height : int, optional
            The frame's size (pixels); by default :attr:`width` and :attr:`height`.

        Returns
        -------
        str
            The ``<iframe>`` element.
        """
        width = self.width if width is None else _pixels(width, 'width')
        height = self.height if height is None else _pixels(height, 'height')
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" width="{width}" '
            f'height="{height}" style="border: 0"></iframe>'
        )

    def _repr_html_(self) -> str:
        """Return what a notebook shows: the page in a frame of the report's size."""
        return self.get_iframe()

    def __str__(self) -> str:
        return self.html

    def save_as_html(self, file_name: str | os.PathLike[str]) -> None:
        """Write the page to a file, to open in any browser, offline.

        Parameters
        ----------
        file_name : path-like
            The file (``.html``); replaced if it exists.
        """
        Path(file_name).write_text(self.html, encoding='utf-8')

    def open_in_browser(self, file_name: str | os.PathLike[str] | None = None) -> Path:
        """Save the page and open it in the default web browser.

        Parameters
        ----------
        file_name : path-like, optional
            Where to save the page; by default a new file in the system's temporary
            folder (``bidsglm-report-*.html``), left there for the browser to read.

        Returns
        -------
        pathlib.Path
            The file opened.

        Warns
        -----
        UserWarning
            When no browser could be started (on a server, say): the page is saved,
            and the message says where.
        """
        if file_name is None:
            handle, name = tempfile.mkstemp(prefix='bidsglm-report-', suffix='.html')
            os.close(handle)
            file_name = name
        path = Path(file_name).resolve()
        self.save_as_html(path)
        if not webbrowser.open(path.as_uri()):
            warn_caller(f'No web browser could be started. The report is saved at {path}.')
        return path
