"""Pieces that several figures share: rotated column names, round ticks, colour bars.

Each piece knows the room it needs (so a figure can compute its margins before
drawing) and returns its SVG elements as a list of strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bidsglm._drawing import svg
from bidsglm._drawing.png import encode_png

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ['ColourBar', 'ColumnNames', 'nice_ticks', 'tick_label']

#: Column names rise at this angle (degrees above the horizontal), reading upwards.
_ANGLE = math.radians(60.0)
_ASCENT = 0.75  # the height of capital letters above the baseline, in font sizes
_DESCENT = 0.25


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return round values (1, 2 or 5 times a power of ten apart) between two bounds.

    Parameters
    ----------
    low, high : float
        The bounds (included when round).
    count : int, default=5
        About how many intervals the range should be cut into (at most).

    Returns
    -------
    list of float
        The ticks, increasing.

    Examples
    --------
    >>> nice_ticks(0, 239), nice_ticks(0, 19), nice_ticks(-0.3, 0.3, 4)
    ([0.0, 50.0, 100.0, 150.0, 200.0], [0.0, 5.0, 10.0, 15.0], [-0.2, 0.0, 0.2])
    """
    if not high > low:
        return [float(low)]
    raw = (high - low) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    return [round(k * step, 12) + 0.0 for k in range(first, last + 1)]


def tick_label(value: float) -> str:
    """Write a tick value with three significant digits.

    Parameters
    ----------
    value : float
        The value.

    Returns
    -------
    str
        The label; ``-0`` is written ``0``.

    Examples
    --------
    >>> tick_label(0.123456), tick_label(200.0), tick_label(-0.0)
    ('0.123', '200', '0')
    """
    written = f'{value:.3g}'
    return '0' if written == '-0' else written


@dataclass(frozen=True)
class ColumnNames:
    """Names written above the columns of a matrix, rising to the right at 60 degrees.

    Parameters
    ----------
    names : sequence of str
        The names, one per column.
    size : float
        The font size in pixels.
    """

    names: tuple[str, ...]
    size: float

    def _widths(self) -> np.ndarray:
        return np.array([svg.text_width(name, self.size) for name in self.names] or [0.0])

    def height(self) -> float:
        """Return the height the names need above the matrix."""
        return float(self._widths().max()) * math.sin(_ANGLE) + _ASCENT * self.size

    def reach(self, centres: Sequence[float]) -> float:
        """Return the right end of the names written over columns centred at ``centres``."""
        lengths = self._widths()[: len(centres)] * math.cos(_ANGLE)
        return float(np.max(np.asarray(centres) + lengths + self.size))

    def elements(self, centres: Sequence[float], bottom: float, fill: str = '#222') -> list[str]:
        """Write the names, each starting just above ``bottom`` over its column centre."""
        shift = 0.35 * self.size * math.sin(_ANGLE)  # centres the letters on the column
        return [
            svg.text(x + shift, bottom - 3, name, size=self.size, rotate=-60, fill=fill)
            for x, name in zip(centres, self.names, strict=True)
        ]


@dataclass(frozen=True)
class ColourBar:
    """A colour scale: a strip of colours with tick labels, and a title.

    Parameters
    ----------
    colours : (n, 3) ndarray of uint8
        The colours from the low end to the high end.
    low, high : float
        The values at the two ends.
    ticks : sequence of float
        The values labelled, between ``low`` and ``high``.
    title : str, optional
        Written above (vertical bar) or on the left (horizontal bar).
    size : float, default=10
        The font size of the labels.
    """

    colours: np.ndarray
    low: float
    high: float
    ticks: tuple[float, ...]
    title: str = ''
    size: float = 10.0

    def _where(self, value: float) -> float:
        """Return how far along the bar a value lies, from 0 (low end) to 1."""
        return (value - self.low) / ((self.high - self.low) or 1.0)

    def _labels_width(self) -> float:
        return max(svg.text_width(tick_label(t), self.size) for t in self.ticks)

    def width(self, thickness: float, title_above: bool = True) -> float:
        """Return the width a vertical bar needs, with its labels and title."""
        labels = thickness + 6 + self._labels_width()
        if not self.title:
            return labels
        if title_above:
            return max(labels, svg.text_width(self.title, self.size + 1))
        return labels + 6 + self.size + 1

    def vertical(
        self,
        x: float,
        y: float,
        thickness: float,
        length: float,
        fill: str = '#222',
        *,
        title_above: bool = True,
    ) -> list[str]:
        """Draw the bar upright at (x, y), the high end at the top, labels on the right.

        The title is above the bar, or on the right of the labels, reading upwards.
        """
        strip = encode_png(np.ascontiguousarray(self.colours[::-1, None, :]))
        out = [svg.image(x, y, thickness, length, strip)]
        for value in self.ticks:
            level = y + (1.0 - self._where(value)) * length
            out.append(svg.line(x + thickness, level, x + thickness + 3, level, stroke=fill))
            out.append(
                svg.text(
                    x + thickness + 5,
                    level + 0.35 * self.size,
                    tick_label(value),
                    size=self.size,
                    fill=fill,
                )
            )
        if self.title and title_above:
            out.append(svg.text(x, y - 7, self.title, size=self.size + 1, fill=fill))
        elif self.title:
            side = x + thickness + 6 + self._labels_width() + 6 + self.size
            out.append(
                svg.text(
                    side,
                    y + length / 2,
                    self.title,
                    size=self.size + 1,
                    anchor='middle',
                    rotate=-90,
                    fill=fill,
                )
            )
        return out

    def horizontal(
        self, x: float, y: float, length: float, thickness: float, fill: str = '#222'
    ) -> list[str]:
        """Draw the bar lying at (x, y), the low end on the left, labels below."""
        out = [svg.image(x, y, length, thickness, encode_png(self.colours[None, :, :]))]
        for value in self.ticks:
            where = x + self._where(value) * length
            out.append(svg.line(where, y + thickness, where, y + thickness + 3, stroke=fill))
            out.append(
                svg.text(
                    where,
                    y + thickness + 4 + self.size,
                    tick_label(value),
                    size=self.size,
                    anchor='middle',
                    fill=fill,
                )
            )
        if self.title:
            middle = y + thickness / 2 + 0.35 * self.size
            out.append(
                svg.text(x - 6, middle, self.title, size=self.size, anchor='end', fill=fill)
            )
        return out
