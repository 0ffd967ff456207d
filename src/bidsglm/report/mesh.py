"""Meshes of the hemispheres, to draw a surface model's maps on.

A mesh is given per hemisphere, ``{'left': ..., 'right': ...}``, each as a GIFTI
surface file (``*.surf.gii``, such as fMRIPrep's ``hemi-L_pial.surf.gii`` or
FreeSurfer's fsaverage meshes converted to GIFTI), a ``nibabel.gifti.GiftiImage``
of one, or a ``(coordinates, faces)`` pair of arrays: ``(n, 3)`` vertex positions
in mm and ``(m, 3)`` triangles as vertex indices. :func:`read_meshes` reads and
checks them; :func:`check_meshes` checks them against a saved model's surface
before any drawing: a GIFTI hemisphere needs a mesh of as many vertices as its
map, a CIFTI-2 cortex (``CORTEX_LEFT``, ``CORTEX_RIGHT``) one of the surface's
full vertex count (its grayordinates are some of those vertices). A model fitted
on nilearn's ``SurfaceImage`` brings its own meshes (:func:`model_meshes`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import nibabel as nib
import numpy as np

from bidsglm.errors import InputNotFoundError, ParameterTypeError, ShapeMismatchError
from bidsglm.models.surface import model_indices

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bidsglm.models.surface import SurfaceLayout

__all__ = [
    'HEMISPHERES',
    'Mesh',
    'check_meshes',
    'expected_vertices',
    'hemisphere_values',
    'model_meshes',
    'read_mesh',
    'read_meshes',
]

#: The hemispheres a mesh is given for, and the CIFTI-2 structure of each.
HEMISPHERES = {'left': 'CIFTI_STRUCTURE_CORTEX_LEFT', 'right': 'CIFTI_STRUCTURE_CORTEX_RIGHT'}
_VOXELS = 'CIFTI_MODEL_TYPE_VOXELS'
_FORMS = 'a GIFTI surface file (.surf.gii), a nibabel GiftiImage, or a (coordinates, faces) pair'


@dataclass(frozen=True, eq=False)
class Mesh:
    """A triangle mesh: vertex positions and faces.

    Parameters
    ----------
    coordinates : (n, 3) ndarray of float
        The position of each vertex (mm).
    faces : (m, 3) ndarray of int
        Each triangle, as three vertex indices.
    source : str, optional
        The file it was read from, named under the report's figures.

    Examples
    --------
    >>> mesh = read_mesh((np.eye(3), [[0, 1, 2]]))
    >>> mesh.n_vertices, mesh.faces.tolist()
    (3, [[0, 1, 2]])
    """

    coordinates: np.ndarray
    faces: np.ndarray
    source: str | None = None

    @property
    def n_vertices(self) -> int:
        """The number of vertices."""
        return int(self.coordinates.shape[0])


def _arrays_of(value: object, name: str) -> tuple[Any, Any]:
    """Return the coordinates and faces of a mesh in any accepted form, unchecked."""
    if isinstance(value, (str, os.PathLike)):
        if not os.path.isfile(value):
            msg = f'The mesh of the {name} hemisphere: no file at {os.fspath(value)!r}.'
            raise InputNotFoundError(msg)
        value = nib.load(value)
    if isinstance(value, nib.gifti.GiftiImage):
        try:
            coordinates, faces = value.agg_data(('pointset', 'triangle'))
        except ValueError:
            coordinates, faces = (), ()
        return coordinates, faces
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    msg = f'The mesh of the {name} hemisphere must be {_FORMS}. Got {type(value).__name__}.'
    raise ParameterTypeError(msg)


def read_mesh(value: object, name: str = 'given') -> Mesh:
    """Read one hemisphere's mesh and check its arrays.

    Parameters
    ----------
    value : path-like, nibabel.gifti.GiftiImage or (array, array)
        A ``.surf.gii`` file (a pointset and a triangle array), its image, or
        ``(coordinates, faces)``.
    name : str, default='given'
        The hemisphere, for messages.

    Returns
    -------
    Mesh

    Raises
    ------
    InputNotFoundError
        If a file does not exist.
    ParameterTypeError
        For another kind of value.
    ShapeMismatchError
        If the coordinates are not ``(n, 3)`` finite numbers, or the faces not
        ``(m, 3)`` indices of those vertices.

    Examples
    --------
    >>> read_mesh((np.eye(3), [[0, 1, 3]]), 'left')
    Traceback (most recent call last):
    ...
    bidsglm.errors.ShapeMismatchError: The mesh of the left hemisphere has faces ...
    """
    coordinates, faces = _arrays_of(value, name)
    source = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    points = np.asarray(coordinates, dtype=float)
    if points.ndim != 2 or points.shape[1:] != (3,) or not np.isfinite(points).all():
        msg = (
            f'The mesh of the {name} hemisphere needs (n, 3) finite vertex coordinates; '
            f'got an array of shape {points.shape}. Give {_FORMS}.'
        )
        raise ShapeMismatchError(msg)
    triangles = np.asarray(faces)
    fits = triangles.ndim == 2 and triangles.shape[1:] == (3,) and triangles.size > 0
    if not fits or not np.issubdtype(triangles.dtype, np.integer):
        msg = (
            f'The mesh of the {name} hemisphere needs (m, 3) integer faces; got {triangles.shape}.'
        )
        raise ShapeMismatchError(msg)
    if triangles.min() < 0 or triangles.max() >= len(points):
        msg = (
            f'The mesh of the {name} hemisphere has faces naming vertices outside its '
            f'{len(points)} vertices (indices from {triangles.min()} to {triangles.max()}).'
        )
        raise ShapeMismatchError(msg)
    return Mesh(points, triangles.astype(np.int64), source)


def read_meshes(meshes: Mapping[str, object] | None) -> dict[str, Mesh]:
    """Read a mesh per hemisphere, ``{'left': ..., 'right': ...}`` (either may be left out).

    Parameters
    ----------
    meshes : mapping of str to mesh, or None
        See :func:`read_mesh` for the forms of a mesh.

    Returns
    -------
    dict of str to Mesh
        Empty for None.

    Raises
    ------
    ParameterTypeError
        If ``meshes`` is not a mapping or names another part than ``'left'`` and
        ``'right'``.

    Examples
    --------
    >>> sorted(read_meshes({'right': (np.eye(3), [[0, 1, 2]])}))
    ['right']
    >>> read_meshes({'lh': (np.eye(3), [[0, 1, 2]])})
    Traceback (most recent call last):
    ...
    bidsglm.errors.ParameterTypeError: The meshes are given per hemisphere...
    """
    if meshes is None:
        return {}
    if not hasattr(meshes, 'items') or set(meshes) - set(HEMISPHERES):
        shown = sorted(map(str, meshes)) if hasattr(meshes, 'keys') else type(meshes).__name__
        msg = (
            f"The meshes are given per hemisphere, as {{'left': ..., 'right': ...}}; got {shown}."
        )
        raise ParameterTypeError(msg)
    return {part: read_mesh(value, part) for part, value in meshes.items()}


def model_meshes(model: object) -> dict[str, Mesh]:
    """Return the meshes a fitted model's data came with: those of a ``SurfaceImage``.

    A model fitted on nilearn's ``SurfaceImage`` keeps its first run as the template
    of its outputs, mesh included; GIFTI and CIFTI-2 data carry no mesh.

    Parameters
    ----------
    model : object
        A fitted bidsglm model (or any object with such a ``masker_``).

    Returns
    -------
    dict of str to Mesh
        The ``'left'`` and ``'right'`` meshes found; empty when none is.

    Examples
    --------
    >>> model_meshes(object())
    {}
    """
    layout = getattr(getattr(getattr(model, 'masker_', None), 'mask_', None), 'layout', None)
    parts = getattr(getattr(getattr(layout, 'template', None), 'mesh', None), 'parts', None)
    if not isinstance(parts, dict):
        return {}
    return {
        part: read_mesh((mesh.coordinates, mesh.faces), part)
        for part, mesh in parts.items()
        if part in HEMISPHERES
    }


def _cortex_models(layout: SurfaceLayout) -> dict[str, Any]:
    """Return the CIFTI-2 brain model of each hemisphere's cortex in a layout."""
    found = {}
    for model in layout.brain_models.brain_models:
        for part, structure in HEMISPHERES.items():
            if str(model.brain_structure) == structure and str(model.model_type) != _VOXELS:
                found[part] = model
    return found


def expected_vertices(layout: SurfaceLayout) -> dict[str, int]:
    """Return the number of mesh vertices each hemisphere of a model's surface needs.

    A GIFTI hemisphere needs as many as its map has; a CIFTI-2 cortex its surface's
    full count (``surface_number_of_vertices``: its grayordinates leave the medial
    wall out).

    Parameters
    ----------
    layout : SurfaceLayout
        The model's surface.

    Returns
    -------
    dict of str to int
        By hemisphere (``'left'``, ``'right'``), those the surface has.

    Examples
    --------
    >>> from bidsglm.models.surface import SurfaceLayout
    >>> expected_vertices(SurfaceLayout('gifti', (('left', 4), ('right', 5))))
    {'left': 4, 'right': 5}
    """
    if layout.brain_models is not None:
        models = _cortex_models(layout)
        return {part: int(model.surface_number_of_vertices) for part, model in models.items()}
    return {part: count for part, count in layout.parts if part in HEMISPHERES}


def check_meshes(meshes: Mapping[str, Mesh], layout: SurfaceLayout) -> None:
    """Refuse meshes that do not fit a model's surface, naming both vertex counts.

    Parameters
    ----------
    meshes : mapping of str to Mesh
        From :func:`read_meshes`.
    layout : SurfaceLayout
        The model's surface.

    Raises
    ------
    ShapeMismatchError
        If a mesh is given for a hemisphere the model does not have, or its number
        of vertices is not the hemisphere's.

    Examples
    --------
    >>> from bidsglm.models.surface import SurfaceLayout
    >>> layout = SurfaceLayout('gifti', (('left', 4), ('right', 4)))
    >>> check_meshes(read_meshes({'left': (np.eye(3), [[0, 1, 2]])}), layout)
    Traceback (most recent call last):
    ...
    bidsglm.errors.ShapeMismatchError: The mesh of the left hemisphere has 3 vertices, ...
    """
    expected = expected_vertices(layout)
    for part, mesh in meshes.items():
        if part not in expected:
            msg = (
                f'A mesh is given for the {part} hemisphere, which this model '
                f'({layout.describe()}) does not have. Give meshes of its hemispheres only.'
            )
            raise ShapeMismatchError(msg)
        if mesh.n_vertices != expected[part]:
            msg = (
                f'The mesh of the {part} hemisphere has {mesh.n_vertices} vertices, but the '
                f"model's {part} hemisphere has {expected[part]}: the mesh does not match "
                'the data. Give the mesh of the surface the data were sampled on (same '
                'space and density, such as fsaverage5 for den-10k).'
            )
            raise ShapeMismatchError(msg)


def hemisphere_values(
    values: np.ndarray, layout: SurfaceLayout, part: str, n_vertices: int
) -> np.ndarray:
    """Return a hemisphere's values on all its mesh's vertices, NaN where the map has none.

    Parameters
    ----------
    values : (n_elements,) ndarray
        A map of the model, the parts one after the other.
    layout : SurfaceLayout
        Its parts.
    part : {'left', 'right'}
        The hemisphere.
    n_vertices : int
        The number of vertices of its mesh.

    Returns
    -------
    (n_vertices,) ndarray
        The values by mesh vertex.

    Examples
    --------
    >>> from bidsglm.models.surface import SurfaceLayout
    >>> layout = SurfaceLayout('gifti', (('left', 2), ('right', 3)))
    >>> hemisphere_values(np.arange(5.0), layout, 'right', 3).tolist()
    [2.0, 3.0, 4.0]
    """
    out = np.full(n_vertices, np.nan)
    if layout.brain_models is not None:
        model = _cortex_models(layout)[part]
        start = int(model.index_offset)
        places = model_indices(model)
        out[places] = values[start : start + len(places)]
        return out
    start = 0
    for name, count in layout.parts:
        if name == part:
            out[:count] = values[start : start + count]
        start += count
    return out
