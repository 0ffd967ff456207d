"""SVG figures of a design matrix and of contrast weights.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with the SVG canvas:
no pyplot, no global figure registry, nothing to close. The SVG is deterministic (no
date, fixed element ids, text kept as text), so saving twice gives the same bytes.
matplotlib is imported when the first figure is drawn, not with bidsglm.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ['contrast_svg', 'design_svg']


def _render(width: float, height: float, draw: Callable[[Axes], None]) -> bytes:
    """Draw on a new figure (SVG canvas, outside pyplot) and return deterministic SVG.

    Text is never parsed as math, so names holding ``$`` or ``_`` print as they are.
    """
    import matplotlib as mpl  # noqa: PLC0415 - matplotlib only loads when drawing
    from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    with mpl.rc_context(
        {'svg.hashsalt': 'bidsglm', 'svg.fonttype': 'none', 'text.parse_math': False}
    ):
        figure = Figure(figsize=(width, height))
        FigureCanvasSVG(figure)
        draw(figure.add_subplot())
        buffer = io.BytesIO()
        figure.savefig(buffer, format='svg', metadata={'Date': None}, bbox_inches='tight')
    return buffer.getvalue()


def _column_ticks(axes: Axes, columns: Sequence[str]) -> None:
    """Label the x axis with the column names, rotated."""
    axes.set_xticks(range(len(columns)))
    axes.set_xticklabels(columns, rotation=60, ha='right', fontsize=8)


def design_svg(design: pd.DataFrame, title: str = '') -> bytes:
    """Draw a design matrix, one column per regressor, scans downwards.

    Each column is divided by its largest absolute value, so regressors of any
    scale are visible.

    Parameters
    ----------
    design : pandas.DataFrame
        The design matrix.
    title : str, optional
        A title.

    Returns
    -------
    bytes
        An SVG document.

    Examples
    --------
    >>> import pandas as pd
    >>> svg = design_svg(pd.DataFrame({'a': [0.0, 1.0, 0.0], 'constant': 1.0}))
    >>> svg.startswith(b'<?xml'), b'constant' in svg
    (True, True)
    """
    values = design.to_numpy(dtype=float)
    scale = np.abs(values).max(axis=0)
    scale[scale == 0] = 1.0

    def draw(axes: Axes) -> None:
        axes.imshow(values / scale, aspect='auto', cmap='gray', interpolation='nearest')
        _column_ticks(axes, [str(c) for c in design.columns])
        axes.set_ylabel('scan number')
        axes.set_title(title, fontsize=9)

    return _render(max(3.0, 0.3 * values.shape[1] + 1.5), 6.0, draw)


def contrast_svg(weights: np.ndarray, columns: Sequence[str], title: str = '') -> bytes:
    """Draw contrast weights over the design columns, one row per contrast row.

    Parameters
    ----------
    weights : (q, p) array-like
        The weights.
    columns : sequence of str
        The ``p`` column names.
    title : str, optional
        A title, e.g. the contrast name.

    Returns
    -------
    bytes
        An SVG document.

    Examples
    --------
    >>> svg = contrast_svg([[1.0, -1.0, 0.0]], ['a', 'b', 'constant'], 'a - b')
    >>> b'a - b' in svg
    True
    """
    matrix = np.atleast_2d(np.asarray(weights, dtype=float))
    bound = float(np.abs(matrix).max()) or 1.0

    def draw(axes: Axes) -> None:
        axes.imshow(
            matrix, aspect='auto', cmap='RdBu_r', vmin=-bound, vmax=bound, interpolation='nearest'
        )
        _column_ticks(axes, columns)
        axes.set_yticks(range(matrix.shape[0]))
        axes.set_title(title, fontsize=9)

    return _render(max(3.0, 0.3 * matrix.shape[1] + 1.5), 1.2 + 0.3 * matrix.shape[0], draw)
