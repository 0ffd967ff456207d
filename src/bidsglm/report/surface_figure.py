"""The thresholded z map of a surface model, drawn on the meshes of its hemispheres.

Each hemisphere is seen from its lateral and its medial side, in orthographic
projection with superior up: the left hemisphere's lateral view looks from the
left (anterior on the left of the picture), its medial view from the right; the
right hemisphere's the other way round. Faces are painted far ones first
(:func:`bidsglm._drawing.triangles.visible_triangles`, once per view of a mesh
for all the maps drawn on it) and shaded by a light at the
viewer (a face turned towards it is bright, one seen edge-on dark). A face whose
three vertices all pass the threshold with one sign is coloured by the mean z of
its vertices, with the ramps of the volume figures (red to yellow for positive z,
blue to cyan for negative z); the other faces are gray. The views are one PNG in an
SVG document with captions and the colour bar, like the volume figures; the
picture's size is fixed, whatever the mesh's.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from bidsglm._drawing.triangles import colour_pixels, visible_triangles
from bidsglm.report.figures import _bytes, _overlay, _Panel, _slices_svg, _stat_colourbar, _tile

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bidsglm.report.mesh import Mesh

__all__ = ['VIEWS', 'face_values', 'render_view', 'surface_figure']

#: The views of each hemisphere: name and the direction the viewer looks in (RAS).
VIEWS: dict[str, tuple[tuple[str, tuple[float, float, float]], ...]] = {
    'left': (('lateral', (1.0, 0.0, 0.0)), ('medial', (-1.0, 0.0, 0.0))),
    'right': (('lateral', (-1.0, 0.0, 0.0)), ('medial', (1.0, 0.0, 0.0))),
}
_UP = np.array([0.0, 0.0, 1.0])
_VIEW_WIDTH_PX = 300
_MARGIN_PX = 6
_GRAY = 0.72


def face_values(mesh: Mesh, values: np.ndarray, threshold: float, two_sided: bool) -> np.ndarray:
    """Return the z each face is coloured by: its vertices' mean when all pass, else 0.

    Parameters
    ----------
    mesh : Mesh
        The hemisphere's mesh.
    values : (n_vertices,) ndarray
        z by mesh vertex (NaN where the map has no value).
    threshold : float
        The z threshold: ``z >= threshold``, or ``z <= -threshold`` when two-sided.
    two_sided : bool
        Colour negative z too.

    Returns
    -------
    (n_faces,) ndarray
        The mean z of the faces whose three vertices pass with one sign, 0 elsewhere.

    Examples
    --------
    >>> from bidsglm.report.mesh import read_mesh
    >>> mesh = read_mesh((np.eye(4)[:, :3], [[0, 1, 2], [1, 2, 3]]))
    >>> face_values(mesh, np.array([4.0, 5.0, 6.0, 1.0]), 3.0, True).tolist()
    [5.0, 0.0]
    """
    z = np.nan_to_num(np.asarray(values, dtype=float))[mesh.faces]
    positive = (z >= threshold).all(axis=1)
    negative = (z <= -threshold).all(axis=1) & two_sided
    return np.where(positive | negative, z.mean(axis=1), 0.0)


def _shading(mesh: Mesh, forward: np.ndarray) -> np.ndarray:
    """Light each face from the viewer: 1 facing it, 0 edge-on (either winding)."""
    corners = mesh.coordinates[mesh.faces]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    facing = np.abs(normals @ forward) / np.where(lengths > 0, lengths, 1.0)
    return np.where(lengths > 0, facing, 0.0)


def render_view(
    mesh: Mesh,
    colours: np.ndarray,
    forward: Sequence[float],
    scale: float,
    shape: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a mesh seen along ``forward``, orthographically, centred in the picture.

    Parameters
    ----------
    mesh : Mesh
        The mesh.
    colours : (n_faces, 3) ndarray
        The colour of each face (0-1), before shading.
    forward : sequence of 3 float
        The direction the viewer looks in; superior (+z) is up.
    scale : float
        Pixels per mm.
    shape : (int, int)
        The picture's height and width.

    Returns
    -------
    picture : (height, width, 3) ndarray
        The shaded colours (0-1), black where no face is.
    painted : (height, width) ndarray of int
        The face seen at each pixel, -1 where none is.
    """
    ahead = tuple(float(x) for x in np.asarray(forward, dtype=float))
    painted, light = _view_of(mesh, ahead, scale, shape)
    return colour_pixels(painted, colours * light[:, None]), painted


@functools.lru_cache(maxsize=16)
def _view_of(
    mesh: Mesh, forward: tuple[float, ...], scale: float, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Return the face seen at each pixel of a view (-1 where none is), and each face's light.

    The geometry alone decides them: a report draws each contrast on the same views
    of the same meshes, and finds them once per view (meshes are hashed by
    identity), then only colours the faces.
    """
    ahead = np.asarray(forward)
    light = 0.35 + 0.65 * _shading(mesh, ahead)
    right = np.cross(ahead, _UP)
    coordinates = mesh.coordinates
    across, upward = coordinates @ right, coordinates @ _UP
    height, width = shape
    points = np.column_stack(
        [
            width / 2 + (across - (across.min() + across.max()) / 2) * scale,
            height / 2 - (upward - (upward.min() + upward.max()) / 2) * scale,
        ]
    )
    painted = visible_triangles(points, coordinates @ ahead, mesh.faces, shape)
    for shared in (painted, light):  # by every call with this view
        shared.flags.writeable = False
    return painted, light


def _frame(meshes: Sequence[Mesh]) -> tuple[float, tuple[int, int]]:
    """Return the scale (pixels per mm) and the shape shared by every view."""
    points = np.concatenate([mesh.coordinates for mesh in meshes])
    extent = np.ptp(points, axis=0)
    across = max(float(extent[1]), 1e-6)  # a side view is as wide as the mesh is long
    scale = (_VIEW_WIDTH_PX - 2 * _MARGIN_PX) / across
    height = int(np.ceil(float(extent[2]) * scale)) + 2 * _MARGIN_PX
    return scale, (max(height, 2 * _MARGIN_PX + 1), _VIEW_WIDTH_PX)


def surface_figure(
    hemispheres: Sequence[tuple[str, Mesh, np.ndarray]], threshold: float, two_sided: bool
) -> bytes:
    """Draw the lateral and medial views of each hemisphere with a thresholded z map.

    Parameters
    ----------
    hemispheres : sequence of (str, Mesh, ndarray)
        Each hemisphere (``'left'`` or ``'right'``), its mesh and z by mesh vertex.
    threshold : float
        The z threshold.
    two_sided : bool
        Colour negative z (``<= -threshold``) too.

    Returns
    -------
    bytes
        An SVG document: a row of two views per hemisphere, a colour bar.

    Examples
    --------
    >>> from xml.etree import ElementTree
    >>> from bidsglm.report.mesh import read_mesh
    >>> corners = np.array([[0.0, 0, 0], [0, 10, 0], [0, 0, 10], [5, 5, 5]])
    >>> mesh = read_mesh((corners, [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]))
    >>> figure = surface_figure([('left', mesh, np.full(4, 4.0))], 3.0, True)
    >>> root = ElementTree.fromstring(figure)
    >>> [t.text for t in root.findall('{*}text')][:2]
    ['left hemisphere, lateral', 'left hemisphere, medial']
    """
    scale, shape = _frame([mesh for _part, mesh, _z in hemispheres])
    peak = max((float(np.nanmax(np.abs(z), initial=0.0)) for *_, z in hemispheres), default=0.0)
    vmax = max(peak, threshold + 1.0)
    rows = []
    for part, mesh, z in hemispheres:
        faces = face_values(mesh, z, threshold, two_sided)
        gray = np.full((len(faces), 3), _GRAY)
        colours = _overlay(gray, faces, threshold, vmax, two_sided)
        row = []
        for view, forward in VIEWS[part]:
            picture, _painted = render_view(mesh, colours, forward, scale, shape)
            row.append(_Panel(_bytes(picture), f'{part} hemisphere, {view}'))
        rows.append(row)
    canvas, labels = _tile(rows)
    return _slices_svg(canvas, labels, _stat_colourbar(threshold, vmax, two_sided))
