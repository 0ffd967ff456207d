"""Figures of the report: slice views of maps, and the design's column correlations.

Every figure is an SVG document written as text (see :mod:`bidsglm._drawing`),
returned as bytes; :func:`svg_data_uri` turns it into the ``data:`` URI that the
HTML page embeds.

Slice views are composed as one RGB picture with numpy (volumes turned to the
closest RAS orientation, so the left hemisphere is on the left, anterior and
superior up; slices resampled to square display pixels by nearest neighbour;
colours looked up once), then stored as a single PNG shown at one picture pixel
per screen pixel, with the captions and the colour bar as SVG text beside it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from nibabel.affines import apply_affine
from nibabel.orientations import apply_orientation, inv_ornt_aff, io_orientation
from scipy import ndimage

from bidsglm._drawing import svg
from bidsglm._drawing.colours import RAMPS, colourise, ramp_table
from bidsglm._drawing.parts import ColourBar, ColumnNames
from bidsglm._drawing.png import encode_png
from bidsglm.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

__all__ = [
    'background_volume',
    'correlation_figure',
    'stat_map_figure',
    'svg_data_uri',
    'volume_figure',
]

_WIDTH_PX = 640  # width of the slice pictures, colour bar excluded
_GAP_PX = 4
_POSITIVE = ((0.55, 0.0, 0.0), (1.0, 0.35, 0.0), (1.0, 0.95, 0.3))  # dark red to yellow
_NEGATIVE = ((0.0, 0.1, 0.55), (0.0, 0.45, 1.0), (0.45, 0.95, 1.0))  # dark blue to cyan
_CAPTION_SIZE = 11.0
_BAR_THICKNESS = 14.0
_BLANK = (200, 200, 200)  # correlations of constant columns: neutral gray


@dataclass(frozen=True)
class _Panel:
    """One slice picture, its caption, and the directions at its left and right edges."""

    rgb: np.ndarray
    caption: str
    sides: tuple[str, str] = ('', '')


@dataclass(frozen=True)
class _Label:
    """A text placed on the composed picture: at (x, y), anchored at its start or end."""

    x: float
    y: float
    text: str
    anchor: str = 'start'


@dataclass(frozen=True)
class _Grid:
    """Volumes in the closest RAS orientation, with their affine and voxel sizes."""

    affine: np.ndarray
    zooms: np.ndarray

    @classmethod
    def of(cls, affine: np.ndarray, shape: Sequence[int]) -> tuple[_Grid, np.ndarray]:
        """Return the RAS grid and the orientation turning ``shape`` into it."""
        orientation = io_orientation(affine)
        ras = np.asarray(affine) @ inv_ornt_aff(orientation, tuple(shape))
        return cls(ras, np.sqrt((ras[:3, :3] ** 2).sum(axis=0))), orientation

    def voxel(self, xyz: Sequence[float], shape: Sequence[int]) -> np.ndarray:
        """Return the voxel of this grid nearest to a point in mm, inside the volume."""
        ijk = np.rint(apply_affine(np.linalg.inv(self.affine), np.asarray(xyz, dtype=float)))
        return np.clip(ijk.astype(int), 0, np.asarray(shape[:3]) - 1)


# ------------------------------------------------------------------ URIs
def svg_data_uri(svg: bytes) -> str:
    """Wrap SVG bytes (a figure of this module, or a saved one) in a ``data:`` URI.

    Parameters
    ----------
    svg : bytes
        An SVG document.

    Returns
    -------
    str
        The URI.

    Examples
    --------
    >>> svg_data_uri(b'<svg/>')
    'data:image/svg+xml;base64,PHN2Zy8+'
    """
    return 'data:image/svg+xml;base64,' + base64.b64encode(svg).decode('ascii')


# ------------------------------------------------------------------ volumes and slices
def background_volume(
    image: np.ndarray, image_affine: np.ndarray, affine: np.ndarray, shape: Sequence[int]
) -> np.ndarray:
    """Resample a background image (a mean EPI, a template) onto a map's grid.

    Parameters
    ----------
    image : (nx, ny, nz) ndarray
        The background.
    image_affine : (4, 4) ndarray
        Its affine.
    affine : (4, 4) ndarray
        The affine of the map grid.
    shape : sequence of 3 int
        The shape of the map grid.

    Returns
    -------
    (shape) ndarray
        The background on the map grid (linear interpolation, 0 outside).

    Examples
    --------
    >>> volume = np.arange(8.0).reshape(2, 2, 2)
    >>> shifted = np.eye(4); shifted[0, 3] = 1.0  # the image starts 1 mm further right
    >>> float(background_volume(volume, shifted, np.eye(4), (2, 2, 2))[1, 1, 1])
    3.0
    """
    values = np.asarray(image, dtype=float)
    if values.shape == tuple(shape) and np.allclose(image_affine, affine):
        return values
    mapping = np.linalg.inv(np.asarray(image_affine, dtype=float)) @ np.asarray(affine)
    return ndimage.affine_transform(values, mapping, output_shape=tuple(shape), order=1)


def _square_pixels(picture: np.ndarray, sizes: tuple[float, float], pixel: float) -> np.ndarray:
    """Resample a 2D (rows, columns, ...) picture to square pixels of ``pixel`` mm."""
    indices = []
    for count, size in zip(picture.shape[:2], sizes, strict=True):
        n_out = max(1, round(count * size / pixel))
        indices.append(
            np.minimum(((np.arange(n_out) + 0.5) * pixel / size).astype(int), count - 1)
        )
    return picture[indices[0][:, None], indices[1][None, :]]


#: Slice planes, by the coordinate that is fixed: (fixed axis, axis shown as columns,
#: axis shown as rows, upwards) in the RAS-oriented volume.
_PLANES = {'x': (0, 1, 2), 'y': (1, 0, 2), 'z': (2, 0, 1)}
#: The directions at the left and right edges of each plane (columns grow to R, or A).
SIDES = {'x': ('P', 'A'), 'y': ('L', 'R'), 'z': ('L', 'R')}


def _slice(volume: np.ndarray, grid: _Grid, plane: str, index: int, pixel: float) -> np.ndarray:
    """Cut one slice, oriented for display, in square pixels of ``pixel`` mm."""
    fixed, column_axis, row_axis = _PLANES[plane]
    picture = np.take(volume, index, axis=fixed)
    picture = np.flip(np.swapaxes(picture, 0, 1), axis=0)  # rows = row_axis, upwards
    sizes = (float(grid.zooms[row_axis]), float(grid.zooms[column_axis]))
    return _square_pixels(picture, sizes, pixel)


def _ramp(colours: Sequence[tuple[float, float, float]], fraction: np.ndarray) -> np.ndarray:
    """Interpolate colours along a ramp, for fractions in [0, 1]."""
    stops = np.linspace(0.0, 1.0, len(colours))
    table = np.asarray(colours)
    return np.stack([np.interp(fraction, stops, table[:, c]) for c in range(3)], axis=-1)


def _gray(values: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Scale a background to [0, 1] gray, by robust limits inside the mask."""
    if not inside.any():
        return np.zeros(values.shape)
    low, high = np.percentile(values[inside], [2.0, 99.5])
    scaled = np.clip((values - low) / ((high - low) or 1.0), 0.0, 1.0)
    return np.where(inside, 0.15 + 0.7 * scaled, 0.0)


def _overlay(
    rgb: np.ndarray, stat: np.ndarray, threshold: float, vmax: float, two_sided: bool
) -> np.ndarray:
    """Paint suprathreshold values over an RGB picture."""
    span = max(vmax - threshold, 1e-12)
    out = rgb.copy()
    positive = stat >= threshold
    out[positive] = _ramp(_POSITIVE, np.clip((stat[positive] - threshold) / span, 0, 1))
    if two_sided:
        negative = stat <= -threshold
        out[negative] = _ramp(_NEGATIVE, np.clip((-stat[negative] - threshold) / span, 0, 1))
    return out


def _tile(rows: Sequence[Sequence[_Panel]]) -> tuple[np.ndarray, list[_Label]]:
    """Join panels row by row on black; return the picture and its labels.

    Each panel's caption sits at its top left; its directions at the middle of its
    left and right edges.
    """
    widths = [sum(p.rgb.shape[1] for p in row) + _GAP_PX * (len(row) - 1) for row in rows]
    heights = [max(p.rgb.shape[0] for p in row) for row in rows]
    shape = (sum(heights) + _GAP_PX * (len(rows) - 1), max(widths), 3)
    canvas = np.zeros(shape, dtype=rows[0][0].rgb.dtype)
    captions = []
    top = 0
    for row, height in zip(rows, heights, strict=True):
        left = 0
        for panel in row:
            h, w = panel.rgb.shape[:2]
            offset = top + (height - h) // 2
            canvas[offset : offset + h, left : left + w] = panel.rgb
            captions.append(_Label(left + 3, top + 3 + _CAPTION_SIZE, panel.caption))
            middle = offset + h / 2 + _CAPTION_SIZE / 2
            captions += [
                _Label(left + 3, middle, panel.sides[0]),
                _Label(left + w - 3, middle, panel.sides[1], 'end'),
            ]
            left += w + _GAP_PX
        top += height + _GAP_PX
    return canvas, captions


def _bytes(rgb: np.ndarray) -> np.ndarray:
    """Turn colours in [0, 1] into 0-255 values."""
    return np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def _slices_svg(canvas: np.ndarray, labels: Sequence[_Label], bar: ColourBar) -> bytes:
    """Show a composed picture at one screen pixel per picture pixel, with a colour bar.

    White captions and directions sit on each slice; the bar is on the right, on black.
    """
    height, width = canvas.shape[:2]
    total_height = max(height, 120)
    elements = [svg.image(0, 0, width, height, encode_png(canvas))]
    elements += [
        svg.text(
            label.x, label.y, label.text, size=_CAPTION_SIZE, fill='#fff', anchor=label.anchor
        )
        for label in labels
        if label.text
    ]
    top = 12 + 2 * bar.size
    elements += bar.vertical(width + 10, top, _BAR_THICKNESS, total_height - top - 14, '#fff')
    total_width = width + 10 + bar.width(_BAR_THICKNESS) + 8
    return svg.document(total_width, total_height, elements, '#000')


def _stat_colourbar(threshold: float, vmax: float, two_sided: bool) -> ColourBar:
    """Colour bar of a thresholded map: gray below threshold, the ramps above."""
    low = -vmax if two_sided else 0.0
    values = np.linspace(low, vmax, 256)[:, None]
    colours = _overlay(np.full((256, 1, 3), 0.35), values, threshold, vmax, two_sided)[:, 0]
    ticks = (threshold, vmax) if not two_sided else (-vmax, -threshold, threshold, vmax)
    return ColourBar(_bytes(colours), low, vmax, ticks, 'z')


def _cuts(inside: np.ndarray, count: int) -> np.ndarray:
    """Return ``count`` axial slice indices spread over the slices the mask covers."""
    filled = np.flatnonzero(inside.any(axis=(0, 1)))
    if not filled.size:
        filled = np.arange(inside.shape[2])
    edges = np.linspace(filled[0], filled[-1], count + 2)[1:-1]
    return np.unique(np.rint(edges).astype(int))


def _z_cuts(grid: _Grid, z_values: Sequence[float], shape: Sequence[int]) -> np.ndarray:
    """Return the axial slice indices nearest to z coordinates (mm), in increasing order."""
    centre = apply_affine(grid.affine, (np.asarray(shape[:3]) - 1) / 2)
    return np.unique([grid.voxel((centre[0], centre[1], z), shape)[2] for z in z_values])


def _oriented(volumes: Sequence[np.ndarray], affine: np.ndarray) -> tuple[list[np.ndarray], _Grid]:
    """Turn volumes of one grid to the closest RAS orientation."""
    grid, orientation = _Grid.of(affine, volumes[0].shape)
    return [apply_orientation(np.asarray(v), orientation) for v in volumes], grid


def _fov(grid: _Grid, shape: Sequence[int]) -> np.ndarray:
    """Return the extent of the volume along each axis, in mm."""
    return np.asarray(shape[:3]) * grid.zooms


def _ortho_row(rgb: np.ndarray, grid: _Grid, voxel: np.ndarray) -> list[_Panel]:
    """Sagittal, coronal and axial slices through one voxel, filling the width."""
    fov = _fov(grid, rgb.shape)
    pixel = (fov[1] + 2 * fov[0]) / (_WIDTH_PX - 2 * _GAP_PX)
    xyz = apply_affine(grid.affine, voxel)
    return [
        _Panel(
            _slice(rgb, grid, plane, int(voxel[axis]), pixel),
            f'{plane} = {xyz[axis]:.0f}',
            SIDES[plane],
        )
        for axis, plane in enumerate('xyz')
    ]


def _axial_rows(
    rgb: np.ndarray, grid: _Grid, cuts: np.ndarray, per_row: int
) -> list[list[_Panel]]:
    """Axial slices at ``cuts``, ``per_row`` to a row filling the width."""
    fov = _fov(grid, rgb.shape)
    pixel = per_row * fov[0] / (_WIDTH_PX - (per_row - 1) * _GAP_PX)
    panels = [
        _Panel(
            _slice(rgb, grid, 'z', int(k), pixel),
            f'z = {apply_affine(grid.affine, (0, 0, k))[2]:.0f}',
            SIDES['z'],
        )
        for k in cuts
    ]
    return [panels[start : start + per_row] for start in range(0, len(panels), per_row)]


def stat_map_figure(
    stat: np.ndarray,
    affine: np.ndarray,
    *,
    threshold: float,
    mask: np.ndarray | None = None,
    background: np.ndarray | None = None,
    two_sided: bool = False,
    cut: Sequence[float] | None = None,
    axial: int | Sequence[float] = 6,
) -> bytes:
    """Draw a thresholded map over a background: three planes at a point, and axial slices.

    Parameters
    ----------
    stat : (nx, ny, nz) ndarray
        The map; values below ``threshold`` (in absolute value if ``two_sided``) are
        not painted.
    affine : (4, 4) ndarray
        Its affine.
    threshold : float
        The lowest value painted; the colour scale runs from it to the largest value.
    mask : (nx, ny, nz) ndarray of bool, optional
        The brain; drawn in gray when there is no background.
    background : (nx, ny, nz) ndarray, optional
        An image on the same grid (a mean EPI, a resampled template).
    two_sided : bool, default=False
        Also paint values ``<= -threshold``, in blue.
    cut : sequence of 3 float, optional
        The point (mm) of the three planes; by default the centre of the mask.
    axial : int or sequence of float, default=6
        The axial slices below: their number, spread over the mask, or their z
        coordinates (mm; each drawn at the nearest slice of the volume).

    Returns
    -------
    bytes
        An SVG document about 690 pixels wide: one PNG of the slices, their captions
        and a colour bar.

    Examples
    --------
    >>> z = np.zeros((8, 9, 10)); z[2:4, 3:5, 4:6] = 5.0
    >>> from xml.etree import ElementTree
    >>> figure = stat_map_figure(z, np.diag([3.0, 3.0, 3.0, 1.0]), threshold=3.0)
    >>> root = ElementTree.fromstring(figure)
    >>> root.get('width'), root.get('height'), len(root.findall('{*}image'))
    ('684', '373', 2)
    """
    stat = np.nan_to_num(np.asarray(stat, dtype=float))
    inside = np.ones(stat.shape, bool) if mask is None else np.asarray(mask, bool)
    shown = background if background is not None else inside.astype(float)
    (stat, inside, shown), grid = _oriented([stat, inside, np.asarray(shown, float)], affine)
    gray = _gray(shown, inside) if background is not None else np.where(inside, 0.3, 0.0)
    peak = float(np.abs(stat).max(initial=0.0))
    vmax = max(peak, threshold + 1.0)
    rgb = _bytes(
        _overlay(np.repeat(gray[..., None], 3, axis=-1), stat, threshold, vmax, two_sided)
    )
    if cut is None:
        centre = ndimage.center_of_mass(inside) if inside.any() else np.array(stat.shape) / 2
        voxel = np.clip(np.rint(centre).astype(int), 0, np.array(stat.shape) - 1)
    else:
        voxel = grid.voxel(cut, stat.shape)
    cuts = _cuts(inside, axial) if isinstance(axial, int) else _z_cuts(grid, axial, stat.shape)
    rows = [_ortho_row(rgb, grid, voxel), *_axial_rows(rgb, grid, cuts, 6)]
    canvas, captions = _tile(rows)
    return _slices_svg(canvas, captions, _stat_colourbar(threshold, vmax, two_sided))


def _check_ramp(cmap: str) -> None:
    """Refuse a colour ramp name that :data:`RAMPS` does not hold."""
    if cmap not in RAMPS:
        valid = ', '.join(repr(name) for name in sorted(RAMPS))
        msg = (
            f"The 'cmap' parameter of volume_figure must be one of {valid}. Got {cmap!r} instead."
        )
        raise InvalidParameterError(msg)


def volume_figure(
    values: np.ndarray,
    affine: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    cmap: str = 'sequential',
    vmin: float | None = None,
    vmax: float | None = None,
    label: str = '',
    n_slices: int = 10,
) -> bytes:
    """Draw a map (r-squared, residual standard deviation) as axial slices in colour.

    Parameters
    ----------
    values : (nx, ny, nz) ndarray
        The map.
    affine : (4, 4) ndarray
        Its affine.
    mask : (nx, ny, nz) ndarray of bool, optional
        Voxels outside are black.
    cmap : {'sequential', 'heat', 'gray', 'diverging'}, default='sequential'
        The colour ramp (see :data:`bidsglm._drawing.colours.RAMPS`).
    vmin, vmax : float, optional
        The colour scale; by default the smallest value and the 99th percentile
        inside the mask.
    label : str, optional
        The colour bar's title.
    n_slices : int, default=10
        The number of axial slices, five to a row.

    Returns
    -------
    bytes
        An SVG document: one PNG of the slices, their captions and a colour bar.

    Raises
    ------
    InvalidParameterError
        If ``cmap`` names no ramp.

    Examples
    --------
    >>> from xml.etree import ElementTree
    >>> figure = volume_figure(np.ones((6, 6, 6)), np.eye(4), label='r²')
    >>> root = ElementTree.fromstring(figure)
    >>> [element.text for element in root.findall('{*}text')][:7]  # each slice: where, L, R
    ['z = 0', 'L', 'R', 'z = 1', 'L', 'R', 'z = 2']
    >>> [element.text for element in root.findall('{*}text')][-4:]  # the colour bar
    ['1', '1.5', '2', 'r²']
    """
    _check_ramp(cmap)
    values = np.nan_to_num(np.asarray(values, dtype=float))
    inside = np.ones(values.shape, bool) if mask is None else np.asarray(mask, bool)
    (values, inside), grid = _oriented([values, inside], affine)
    data = values[inside] if inside.any() else np.zeros(1)
    low = float(np.min(data)) if vmin is None else vmin
    high = float(np.percentile(data, 99.0)) if vmax is None else vmax
    high = high if high > low else low + 1.0
    rgb = colourise(values, cmap, low, high)
    rgb[~inside] = 0
    canvas, captions = _tile(_axial_rows(rgb, grid, _cuts(inside, n_slices), 5))
    bar = ColourBar(ramp_table(cmap), low, high, (low, (low + high) / 2, high), label)
    return _slices_svg(canvas, captions, bar)


def _correlations(design: pd.DataFrame) -> np.ndarray:
    """Correlations between columns; NaN in the rows and columns of constant ones."""
    values = design.to_numpy(dtype=float)
    centred = values - values.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    with np.errstate(invalid='ignore', divide='ignore'):
        unit = centred / norms
    unit[:, norms <= 1e-12 * max(1.0, float(np.abs(values).max(initial=0.0)))] = np.nan
    return unit.T @ unit


def correlation_figure(design: pd.DataFrame) -> bytes:
    """Draw the correlations between the columns of a design matrix.

    Constant columns (the intercept) have no correlation and are left blank (gray).

    Parameters
    ----------
    design : pandas.DataFrame
        The design matrix.

    Returns
    -------
    bytes
        An SVG document: a square of correlations coloured from -1 (blue) to 1 (red),
        the column names above and on the left, and a colour bar.

    Examples
    --------
    >>> import pandas as pd
    >>> design = pd.DataFrame({'a': [0.0, 1, 0, 1], 'b': [1.0, 0, 1, 1], 'constant': 1.0})
    >>> figure = correlation_figure(design)
    >>> figure.count(b'>constant</text>'), figure.count(b'>correlation</text>')
    (2, 1)
    """
    correlation = _correlations(design)
    names = [str(column) for column in design.columns]
    cell = float(np.clip(360 // max(len(names), 1), 12, 32))
    size = min(11.0, 0.7 * cell)
    above = ColumnNames(tuple(names), size)
    left = 10 + max(svg.text_width(name, size) for name in names) + 6
    top = 10 + above.height() + 3
    side = cell * len(names)
    centres = [left + (j + 0.5) * cell for j in range(len(names))]
    middles = [top + (i + 0.5) * cell for i in range(len(names))]
    rgb = colourise(correlation, 'diverging', -1.0, 1.0)
    rgb[np.isnan(correlation)] = _BLANK
    bar = ColourBar(ramp_table('diverging'), -1.0, 1.0, (-1.0, -0.5, 0.0, 0.5, 1.0), 'correlation')
    elements = [
        *above.elements(centres, top),
        *(
            svg.text(left - 5, y + 0.35 * size, name, size=size, anchor='end')
            for y, name in zip(middles, names, strict=True)
        ),
        svg.image(left, top, side, side, encode_png(rgb)),
        svg.rect(left, top, side, side, stroke='#444'),
        *bar.vertical(left + side + 14, top, _BAR_THICKNESS, side, title_above=False),
    ]
    width = max(above.reach(centres), left + side + 14 + bar.width(_BAR_THICKNESS, False)) + 10
    return svg.document(width, top + side + 10, elements, '#fff')
