"""Where the values of a saved surface map are, and which of them pass a threshold.

A surface model's maps have one value per element: the vertices of each
hemisphere (GIFTI), or the grayordinates of a CIFTI-2 file, which are cortical
vertices and subcortical voxels by brain structure. :class:`SurfaceElements` names
each element by its part and its place in the part (a vertex index, or a voxel's
``i, j, k``); :func:`strongest_elements` and :func:`survivor_counts` make the
report's tables of a thresholded z map, part by part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bidsglm.models.surface import model_indices, read_surface

if TYPE_CHECKING:
    from bidsglm.bids.reader import SavedMap
    from bidsglm.models.surface import SurfaceLayout

__all__ = [
    'PEAK_COLUMNS',
    'SubcorticalVolume',
    'SurfaceElements',
    'read_surface_values',
    'strongest_elements',
    'subcortical_volume',
    'survivor_counts',
]

#: The columns of :func:`strongest_elements`.
PEAK_COLUMNS = ('Part', 'Element', 'Index', 'z')
_STRUCTURE_PREFIX = 'CIFTI_STRUCTURE_'
_VOXELS = 'CIFTI_MODEL_TYPE_VOXELS'


def _part_name(name: str) -> str:
    """Name a part for people: ``left hemisphere``, ``cortex left``, ``thalamus right``."""
    if name in ('left', 'right'):
        return f'{name} hemisphere'
    return name.removeprefix(_STRUCTURE_PREFIX).replace('_', ' ').lower()


@dataclass(frozen=True)
class SurfaceElements:
    """The parts of a surface model and the place of each of its elements.

    Parameters
    ----------
    parts : tuple of str
        The parts, named for people (``left hemisphere``, ``cortex left``...).
    kinds : tuple of str
        ``'vertex'`` or ``'voxel'``, per part.
    part_of : (n_elements,) ndarray of int
        The part of each element (an index into ``parts``).
    index_of : tuple of str
        The place of each element in its part: a vertex index, or a voxel's
        ``i, j, k`` in the CIFTI-2 file's volume.

    Examples
    --------
    >>> from bidsglm.models.surface import SurfaceLayout
    >>> elements = SurfaceElements.of(SurfaceLayout('gifti', (('left', 2), ('right', 3))))
    >>> elements.parts, elements.part_of.tolist(), elements.index_of
    (('left hemisphere', 'right hemisphere'), [0, 0, 1, 1, 1], ('0', '1', '0', '1', '2'))
    """

    parts: tuple[str, ...]
    kinds: tuple[str, ...]
    part_of: np.ndarray
    index_of: tuple[str, ...]

    @classmethod
    def of(cls, layout: SurfaceLayout) -> SurfaceElements:
        """Name the elements of a surface layout (GIFTI parts, CIFTI-2 brain models)."""
        if layout.brain_models is not None:
            return cls._of_brain_models(layout.brain_models)
        counts = [count for _name, count in layout.parts]
        return cls(
            parts=tuple(_part_name(name) for name, _count in layout.parts),
            kinds=('vertex',) * len(counts),
            part_of=np.repeat(np.arange(len(counts)), counts),
            index_of=tuple(str(i) for count in counts for i in range(count)),
        )

    @classmethod
    def _of_brain_models(cls, brain_map: Any) -> SurfaceElements:  # noqa: ANN401 - nibabel's
        """Name the grayordinates of a CIFTI-2 file: vertex indices, or voxels ``i, j, k``."""
        parts, kinds, part_of, index_of = [], [], [], []
        for number, model in enumerate(brain_map.brain_models):
            parts.append(_part_name(str(model.brain_structure)))
            indices = model_indices(model).tolist()
            if str(model.model_type) == _VOXELS:
                kinds.append('voxel')
                places = [f'{i}, {j}, {k}' for i, j, k in indices]
            else:
                kinds.append('vertex')
                places = [str(v) for v in indices]
            part_of += [number] * len(places)
            index_of += places
        return cls(tuple(parts), tuple(kinds), np.asarray(part_of, dtype=int), tuple(index_of))

    @property
    def n_elements(self) -> int:
        """The number of elements over all parts."""
        return len(self.index_of)

    def describe(self, inside: np.ndarray) -> str:
        """Say how many elements of each part a mask keeps.

        Examples
        --------
        >>> from bidsglm.models.surface import SurfaceLayout
        >>> elements = SurfaceElements.of(SurfaceLayout('gifti', (('left', 2), ('right', 3))))
        >>> elements.describe(np.array([True, False, True, True, True]))
        'left hemisphere 1 of 2 vertices, right hemisphere 3 of 3 vertices'
        """
        texts = []
        for number, (part, kind) in enumerate(zip(self.parts, self.kinds, strict=True)):
            here = self.part_of == number
            noun = 'vertices' if kind == 'vertex' else 'voxels'
            texts.append(f'{part} {int(inside[here].sum())} of {int(here.sum())} {noun}')
        return ', '.join(texts)


def read_surface_values(saved: SavedMap) -> tuple[np.ndarray, SurfaceLayout]:
    """Read the first map of a saved surface file (GIFTI pair, CIFTI-2) as float64.

    Parameters
    ----------
    saved : pathlib.Path or dict of str to pathlib.Path
        A map as :class:`~bidsglm.bids.LoadedGlm` gives it.

    Returns
    -------
    values : (n_elements,) ndarray
        The map, the parts one after the other.
    layout : SurfaceLayout
        Its parts.
    """
    surface = read_surface(saved, 'the saved map')
    return np.asarray(surface.data[0], dtype=np.float64), surface.layout


def _sides(two_sided: bool) -> tuple[tuple[str, int], ...]:
    return (('positive', 1), ('negative', -1)) if two_sided else (('positive', 1),)


def survivor_counts(
    z: np.ndarray,
    inside: np.ndarray,
    elements: SurfaceElements,
    threshold: float,
    *,
    two_sided: bool = True,
) -> pd.DataFrame:
    """Count, per part, the elements of a mask whose z passes a threshold, by sign.

    Parameters
    ----------
    z : (n_elements,) ndarray
        The z map.
    inside : (n_elements,) ndarray of bool
        The model's mask.
    elements : SurfaceElements
        The parts of the elements.
    threshold : float
        The z threshold (``z >= threshold``; also ``z <= -threshold`` when two-sided).
    two_sided : bool, default=True
        Count negative z too.

    Returns
    -------
    pandas.DataFrame
        One row per part: ``Part``, ``In mask``, ``Positive`` (and ``Negative``).

    Examples
    --------
    >>> from bidsglm.models.surface import SurfaceLayout
    >>> elements = SurfaceElements.of(SurfaceLayout('gifti', (('left', 3), ('right', 2))))
    >>> z, inside = np.array([4.0, -5.0, 1.0, 3.5, 9.0]), np.array([1, 1, 1, 1, 0], bool)
    >>> survivor_counts(z, inside, elements, 3.1).to_dict('list')
    {'Part': ['left hemisphere', 'right hemisphere'], 'In mask': [3, 1], 'Positive': [1, 1], 'Negative': [1, 0]}
    """  # noqa: E501 - a doctest's output line
    rows = []
    for number, part in enumerate(elements.parts):
        here = inside & (elements.part_of == number)
        row: dict[str, object] = {'Part': part, 'In mask': int(here.sum())}
        for side, sign in _sides(two_sided):
            row[side.capitalize()] = int((here & (sign * z >= threshold)).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def strongest_elements(
    z: np.ndarray,
    inside: np.ndarray,
    elements: SurfaceElements,
    threshold: float,
    *,
    sign: int = 1,
    per_part: int = 10,
) -> pd.DataFrame:
    """Return the strongest elements of one sign that pass a threshold, per part.

    Parameters
    ----------
    z : (n_elements,) ndarray
        The z map.
    inside : (n_elements,) ndarray of bool
        The model's mask.
    elements : SurfaceElements
        Where each element is.
    threshold : float
        The z threshold (positive).
    sign : {1, -1}, default=1
        Positive effects (``z >= threshold``) or negative ones (``z <= -threshold``).
    per_part : int, default=10
        At most this many elements per part, the strongest first.

    Returns
    -------
    pandas.DataFrame
        The :data:`PEAK_COLUMNS`: part, ``vertex`` or ``voxel``, its index (or
        ``i, j, k``) and z; parts in order, the strongest first within each.

    Examples
    --------
    >>> from bidsglm.models.surface import SurfaceLayout
    >>> elements = SurfaceElements.of(SurfaceLayout('gifti', (('left', 3), ('right', 2))))
    >>> z, inside = np.array([4.0, -5.0, 6.0, 3.5, 9.0]), np.array([1, 1, 1, 1, 0], bool)
    >>> strongest_elements(z, inside, elements, 3.1).values.tolist()
    [['left hemisphere', 'vertex', '2', 6.0], ['left hemisphere', 'vertex', '0', 4.0], ['right hemisphere', 'vertex', '0', 3.5]]
    >>> strongest_elements(z, inside, elements, 3.1, sign=-1).values.tolist()
    [['left hemisphere', 'vertex', '1', -5.0]]
    """  # noqa: E501 - doctest output lines
    rows = []
    for number, (part, kind) in enumerate(zip(elements.parts, elements.kinds, strict=True)):
        found = np.flatnonzero(inside & (elements.part_of == number) & (sign * z >= threshold))
        order = found[np.argsort(-sign * z[found], kind='stable')][:per_part]
        rows += [(part, kind, elements.index_of[i], float(z[i])) for i in order]
    return pd.DataFrame(rows, columns=list(PEAK_COLUMNS))


@dataclass(frozen=True)
class SubcorticalVolume:
    """The voxels of a CIFTI-2 file's volume parts, put back on their grid.

    Parameters
    ----------
    values : (nx, ny, nz) ndarray
        The map on the grid, 0 outside the voxels of the file.
    inside : (nx, ny, nz) ndarray of bool
        The voxels of the file (its subcortical structures).
    affine : (4, 4) ndarray
        Voxel indices to mm.
    """

    values: np.ndarray
    inside: np.ndarray
    affine: np.ndarray


def subcortical_volume(values: np.ndarray, layout: SurfaceLayout) -> SubcorticalVolume | None:
    """Put the voxels of a CIFTI-2 map back on their volume; None without voxels.

    Parameters
    ----------
    values : (n_elements,) ndarray
        A map, the grayordinates in the file's order.
    layout : SurfaceLayout
        Its parts (a CIFTI-2 layout has brain models; others have no voxels).

    Returns
    -------
    SubcorticalVolume or None

    Examples
    --------
    >>> import nibabel as nib
    >>> from bidsglm.models.surface import model_indices, read_surface
    >>> models = nib.cifti2.BrainModelAxis.from_mask(np.ones(2, bool), 'CortexLeft') + (
    ...     nib.cifti2.BrainModelAxis.from_mask(np.eye(2, dtype=bool)[..., None], 'ThalamusLeft',
    ...                                         np.diag([2.0, 2.0, 2.0, 1.0])))
    >>> image = nib.Cifti2Image(np.array([[1.0, 2.0, 3.0, 4.0]]),
    ...                         (nib.cifti2.ScalarAxis(['z']), models))
    >>> volume = subcortical_volume(image.get_fdata()[0], read_surface(image).layout)
    >>> volume.values[..., 0].tolist(), float(volume.affine[0, 0])
    ([[3.0, 0.0], [0.0, 4.0]], 2.0)
    """
    brain_map = layout.brain_models
    volume = None if brain_map is None else brain_map.volume
    if volume is None:
        return None
    shape = tuple(int(n) for n in volume.volume_dimensions)
    grid, inside = np.zeros(shape), np.zeros(shape, dtype=bool)
    for model in brain_map.brain_models:
        if str(model.model_type) != _VOXELS:
            continue
        ijk = np.asarray(model.voxel_indices_ijk, dtype=np.int64).reshape(-1, 3)
        start = int(model.index_offset)
        grid[tuple(ijk.T)] = values[start : start + len(ijk)]
        inside[tuple(ijk.T)] = True
    if not inside.any():
        return None
    transform = volume.transformation_matrix_voxel_indices_ijk_to_xyz
    affine = np.array(transform.matrix, dtype=float)
    affine[:3] *= 10.0 ** (int(transform.meter_exponent) + 3)  # to mm
    return SubcorticalVolume(grid, inside, affine)
