"""SVG figures of a design matrix and of contrast weights.

Each figure is an SVG document written as text (see :mod:`bidsglm._drawing`): the
matrix is one small PNG, one pixel per cell, that the SVG scales up with sharp
pixels; names, ticks and titles are SVG text. The margins are computed from the
longest name, so nothing is clipped, and the output holds no date or random id:
saving twice gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bidsglm._drawing import svg
from bidsglm._drawing.colours import colourise, ramp_table
from bidsglm._drawing.parts import ColourBar, ColumnNames, nice_ticks, tick_label
from bidsglm._drawing.png import encode_png

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

__all__ = ['contrast_svg', 'design_svg', 'row_ticks']

_PAD = 10.0
_TITLE_SIZE = 13.0
_TICK_SIZE = 10.0
_LINE = '#444'
#: At most this many picture rows for a design: longer runs are averaged in bins of rows.
_DESIGN_HEIGHT = 480
#: Weights are written in the cells of contrasts with at most this many columns.
_MAX_WRITTEN_COLUMNS = 30


@dataclass(frozen=True)
class _Columns:
    """The horizontal layout of a matrix: cell width, names above, left edge."""

    names: ColumnNames
    cell: float
    left: float

    @classmethod
    def of(cls, columns: Sequence[str], left: float) -> _Columns:
        """Choose the cell width (13 to 36 pixels) and the names' font for ``columns``."""
        cell = float(np.clip(round(480 / max(len(columns), 1)), 13, 36))
        return cls(ColumnNames(tuple(columns), min(11.0, 0.7 * cell)), cell, left)

    @property
    def width(self) -> float:
        """Return the width of the matrix."""
        return self.cell * len(self.names.names)

    def centres(self) -> list[float]:
        """Return the horizontal centre of each column."""
        return [self.left + (j + 0.5) * self.cell for j in range(len(self.names.names))]

    def right(self) -> float:
        """Return the right edge of what is drawn: the matrix or the names rising past it."""
        return max(self.left + self.width, self.names.reach(self.centres()))


def _title(title: str, centre: float, width: float) -> list[str]:
    """Centre a title over ``centre``, kept inside a document ``width`` wide."""
    if not title:
        return []
    half = svg.text_width(title, _TITLE_SIZE) / 2
    x = min(max(centre, _PAD + half), width - _PAD - half)
    return [svg.text(x, _PAD + _TITLE_SIZE, title, size=_TITLE_SIZE, anchor='middle', bold=True)]


def _title_height(title: str) -> float:
    return _TITLE_SIZE + 8 if title else 0.0


def _document(
    width: float, height: float, title: str, centre: float, elements: list[str]
) -> bytes:
    """Finish a figure: a white page, the title, the elements."""
    width = max(width, svg.text_width(title, _TITLE_SIZE) + 2 * _PAD)
    return svg.document(width, height, _title(title, centre, width) + elements, '#fff')


def _binned_rows(values: np.ndarray, limit: int) -> np.ndarray:
    """Average rows in bins so at most ``limit`` remain (a long run would alias)."""
    size = -(-values.shape[0] // limit)  # ceiling division
    if size == 1:
        return values
    starts = np.arange(0, values.shape[0], size)
    counts = np.diff(np.append(starts, values.shape[0]))[:, None]
    return np.add.reduceat(values, starts, axis=0) / counts


def row_ticks(first: int, last: int) -> list[int]:
    """Return round whole row numbers from ``first`` to ``last``, the first one included.

    Parameters
    ----------
    first, last : int
        The numbers of the first and last rows.

    Returns
    -------
    list of int
        Increasing, distinct, at least one apart.

    Examples
    --------
    >>> row_ticks(0, 2), row_ticks(1, 21), row_ticks(0, 239)
    ([0, 1, 2], [1, 5, 10, 15, 20], [0, 50, 100, 150, 200])
    """
    count = max(min(5, last - first), 1)
    ticks = {int(t) for t in nice_ticks(first, last, count) if float(t).is_integer()}
    return sorted(ticks | {first})


def _row_axis(n_rows: int, rows: str, top: float, left: float, height: float) -> list[str]:
    """Ticks at round row numbers on the left of the matrix, and the axis title.

    Scans are numbered from 0 (as nilearn's figures); input maps from 1.
    """
    first = 0 if rows == 'scan' else 1
    step = height / n_rows
    out = []
    for tick in row_ticks(first, first + n_rows - 1):
        y = top + (tick - first + 0.5) * step
        out.append(svg.line(left - 4, y, left, y, stroke=_LINE))
        out.append(svg.text(left - 6, y + 3.5, str(tick), size=_TICK_SIZE, anchor='end'))
    label_width = svg.text_width(str(first + n_rows - 1), _TICK_SIZE)
    x = left - 12 - label_width
    title = f'{rows} number'
    out.append(svg.text(x, top + height / 2, title, size=11, anchor='middle', rotate=-90))
    return out


def _constant_values(
    design: pd.DataFrame, columns: _Columns, top: float, height: float
) -> list[str]:
    """Write the value of each constant column in its middle (white on white otherwise)."""
    values = design.to_numpy(dtype=float)
    constant = (values == values[:1]).all(axis=0) if len(values) else np.zeros(0, bool)
    size = min(10.0, columns.cell - 4)
    return [
        svg.text(x, top + height / 2 + 0.35 * size, tick_label(values[0, j]), size=size,
                 anchor='middle', fill='#666')
        for j, x in enumerate(columns.centres())
        if constant[j]
    ]  # fmt: skip


def _design_pixels(design: pd.DataFrame) -> np.ndarray:
    """Return the gray picture of a design: columns scaled by their largest absolute value.

    Parameters
    ----------
    design : pandas.DataFrame
        The design matrix.

    Returns
    -------
    (n_rows, n_columns) ndarray of uint8
        Black at the smallest scaled value (or 0, if all are positive), white at the
        largest; runs longer than 480 scans are averaged in bins of rows first.

    Examples
    --------
    >>> import pandas as pd
    >>> _design_pixels(pd.DataFrame({'a': [0.0, 2.0, -2.0], 'constant': 1.0})).tolist()
    [[128, 255], [255, 255], [0, 255]]
    """
    values = design.to_numpy(dtype=float)
    scale = np.abs(values).max(axis=0, initial=0.0)
    scale[scale == 0] = 1.0
    scaled = values / scale
    low, high = float(scaled.min(initial=0.0)), float(scaled.max(initial=0.0))
    fraction = (_binned_rows(scaled, _DESIGN_HEIGHT) - low) / ((high - low) or 1.0)
    return np.rint(255.0 * fraction).astype(np.uint8)


def design_svg(design: pd.DataFrame, title: str = '', *, rows: str = 'scan') -> bytes:
    """Draw a design matrix, one column per regressor, rows (scans, input maps) downwards.

    Each column is divided by its largest absolute value, so regressors of any
    scale are visible; the gray scale runs from the smallest scaled value, or 0
    (black), to the largest (white), and a constant column (the intercept) has its
    value written in it. One picture pixel per cell, or per bin of rows when the run
    is longer than 480 scans.

    Parameters
    ----------
    design : pandas.DataFrame
        The design matrix.
    title : str, optional
        A title.
    rows : str, default='scan'
        What a row is, in the singular: ``'scan'`` (numbered from 0), or at the
        second level ``'input map'``, ``'subject'``, ``'study'``... (from 1). The
        row axis is titled ``'<rows> number'``.

    Returns
    -------
    bytes
        An SVG document.

    Examples
    --------
    >>> import pandas as pd
    >>> svg = design_svg(pd.DataFrame({'a': [0.0, 1.0, 0.0], 'constant': 1.0}))
    >>> svg.startswith(b'<?xml'), b'>constant</text>' in svg
    (True, True)
    >>> group = design_svg(pd.DataFrame({'intercept': [1.0] * 3}), rows='study')
    >>> b'>study number</text>' in group, b'>1</text>' in group
    (True, True)
    """
    n_rows = design.shape[0]
    left = _PAD + 11 + 12 + svg.text_width(str(n_rows - 1), _TICK_SIZE)
    columns = _Columns.of([str(c) for c in design.columns], left)
    top = _PAD + _title_height(title) + columns.names.height() + 3
    height = float(np.clip(2 * n_rows, 240, _DESIGN_HEIGHT))
    picture = encode_png(_design_pixels(design))
    elements = [
        *columns.names.elements(columns.centres(), top),
        svg.image(left, top, columns.width, height, picture),
        svg.rect(left, top, columns.width, height, stroke=_LINE),
        *_constant_values(design, columns, top, height),
        *_row_axis(n_rows, rows, top, left, height),
    ]
    width = columns.right() + _PAD
    return _document(width, top + height + _PAD, title, left + columns.width / 2, elements)


def _cell_texts(
    matrix: np.ndarray, bound: float, columns: _Columns, top: float, row: float
) -> list[str]:
    """Write each weight in its cell, in white on dark cells."""
    labels = [[tick_label(w) for w in weights] for weights in matrix]
    longest = max(len(label) for weights in labels for label in weights)
    size = min(10.0, (columns.cell - 3) / (svg.CHARACTER_WIDTH * longest), row - 4)
    if matrix.shape[1] > _MAX_WRITTEN_COLUMNS or size < 6:
        return []
    out = []
    centres = columns.centres()
    for i, weights in enumerate(labels):
        y = top + (i + 0.5) * row + 0.35 * size
        for j, label in enumerate(weights):
            fill = '#fff' if abs(matrix[i, j]) > 0.55 * bound else '#222'
            out.append(svg.text(centres[j], y, label, size=size, anchor='middle', fill=fill))
    return out


def _cell_lines(columns: _Columns, top: float, row: float, n_rows: int) -> list[str]:
    """Thin lines between the cells, and a frame."""
    right, bottom = columns.left + columns.width, top + row * n_rows
    verticals = [columns.left + j * columns.cell for j in range(1, len(columns.names.names))]
    return [
        *(svg.line(x, top, x, bottom, stroke='#ccc') for x in verticals),
        *(
            svg.line(columns.left, top + i * row, right, top + i * row, stroke='#ccc')
            for i in range(1, n_rows)
        ),
        svg.rect(columns.left, top, columns.width, row * n_rows, stroke=_LINE),
    ]


def contrast_svg(weights: np.ndarray, columns: Sequence[str], title: str = '') -> bytes:
    """Draw contrast weights over the design columns, one row per contrast row.

    Cells are coloured on a blue-white-red ramp symmetric around 0 (white for 0, the
    ends for plus or minus the largest absolute weight), with the weight written in
    each cell when there are at most 30 columns, and a colour legend below.

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
    >>> b'>a - b</text>' in svg, b'>-1</text>' in svg
    (True, True)
    """
    matrix = np.atleast_2d(np.asarray(weights, dtype=float))
    bound = float(np.abs(matrix).max(initial=0.0)) or 1.0
    layout = _Columns.of([str(c) for c in columns], _PAD)
    top = _PAD + _title_height(title) + layout.names.height() + 3
    row = float(np.clip(360 / matrix.shape[0], 8, 24))
    bottom = top + row * matrix.shape[0]
    legend = ColourBar(ramp_table('diverging'), -bound, bound, (-bound, 0.0, bound), 'weight')
    legend_left = _PAD + svg.text_width('weight', legend.size) + 6
    elements = [
        *layout.names.elements(layout.centres(), top),
        svg.image(
            _PAD,
            top,
            layout.width,
            bottom - top,
            encode_png(colourise(matrix, 'diverging', -bound, bound)),
        ),
        *_cell_lines(layout, top, row, matrix.shape[0]),
        *_cell_texts(matrix, bound, layout, top, row),
        *legend.horizontal(legend_left, bottom + 12, 120, 8),
    ]
    width = max(layout.right(), legend_left + 120 + 12) + _PAD
    height = bottom + 12 + 8 + 4 + legend.size + 4 + _PAD
    return _document(width, height, title, _PAD + layout.width / 2, elements)
