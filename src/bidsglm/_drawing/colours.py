"""Colour ramps: a few anchor colours, interpolated linearly into 256-entry tables.

Each ramp of :data:`RAMPS` is a list of anchor colours (0-255 RGB), spread evenly
from the low end to the high end. :func:`ramp_table` interpolates a ramp into a
(256, 3) uint8 lookup table, and :func:`colourise` maps values to colours through
it: one subtraction, one multiplication and one indexing for a whole picture.

The table's two halves each run 128 steps, from an end to the middle of the ramp,
so entries 127 and 128 are both the exact middle colour: the middle of a symmetric
range (a weight of 0 between -1 and 1) lands on it exactly, as do the two ends.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ['RAMPS', 'colourise', 'hex_colour', 'ramp_table']

#: Named ramps, by their anchor colours from the low end to the high end.
RAMPS: dict[str, tuple[tuple[int, int, int], ...]] = {
    # black to white
    'gray': ((0, 0, 0), (255, 255, 255)),
    # deep blue, light blue, white, light red, deep red: signed values around 0
    'diverging': ((30, 60, 150), (120, 165, 220), (250, 250, 250), (235, 140, 110), (165, 20, 35)),
    # dark indigo to pale yellow, brightness rising all the way: values from 0 up
    'sequential': ((25, 15, 60), (40, 80, 145), (35, 150, 140), (140, 205, 85), (250, 240, 150)),
    # black, red, orange, yellow, white: like metal heating up
    'heat': ((0, 0, 0), (150, 20, 10), (235, 90, 10), (255, 205, 40), (255, 255, 255)),
}

_SIZE = 256


@cache
def _table(name: str) -> np.ndarray:
    anchors = np.asarray(RAMPS[name], dtype=float)
    half = np.linspace(0.0, 0.5, _SIZE // 2)
    where = np.concatenate([half, 1.0 - half[::-1]])
    stops = np.linspace(0.0, 1.0, len(anchors))
    columns = [np.interp(where, stops, anchors[:, channel]) for channel in range(3)]
    table = np.rint(np.stack(columns, axis=1)).astype(np.uint8)
    table.flags.writeable = False
    return table


def ramp_table(name: str) -> np.ndarray:
    """Return the lookup table of a ramp: 256 colours from its low end to its high end.

    Parameters
    ----------
    name : str
        A key of :data:`RAMPS`.

    Returns
    -------
    (256, 3) ndarray of uint8
        The colours, read-only.

    Raises
    ------
    KeyError
        If the ramp is unknown.

    Examples
    --------
    >>> table = ramp_table('diverging')
    >>> table[0].tolist(), table[128].tolist(), table[255].tolist()
    ([30, 60, 150], [250, 250, 250], [165, 20, 35])
    """
    return _table(name)


def colourise(values: np.ndarray, name: str, low: float, high: float) -> np.ndarray:
    """Colour values on a ramp: ``low`` and below its first colour, ``high`` and up its last.

    Parameters
    ----------
    values : ndarray
        The values, any shape; NaN gets the first colour.
    name : str
        A key of :data:`RAMPS`.
    low, high : float
        The values at the two ends of the ramp (``high > low``).

    Returns
    -------
    (values.shape + (3,)) ndarray of uint8
        The RGB colours.

    Examples
    --------
    >>> colourise(np.array([-1.0, 0.0, 1.0]), 'gray', -1.0, 1.0).tolist()
    [[0, 0, 0], [128, 128, 128], [255, 255, 255]]
    """
    span = (high - low) or 1.0
    fraction = (np.asarray(values, dtype=float) - low) * ((_SIZE - 1) / span)
    index = np.rint(np.nan_to_num(np.clip(fraction, 0, _SIZE - 1))).astype(np.intp)
    return _table(name)[index]


def hex_colour(rgb: np.ndarray | tuple[int, int, int]) -> str:
    """Write an RGB colour (0-255) as ``#rrggbb``.

    Parameters
    ----------
    rgb : sequence of 3 int
        The colour.

    Returns
    -------
    str
        The colour for SVG and CSS.

    Examples
    --------
    >>> hex_colour((250, 128, 0))
    '#fa8000'
    """
    red, green, blue = (int(c) for c in rgb)
    return f'#{red:02x}{green:02x}{blue:02x}'
