"""Atlas labels of cluster peaks, for models whose coordinates are in an MNI space.

The atlas shipped with bidsglm is the Schaefer 2018 parcellation of the cerebral
cortex (400 parcels named by the 17 networks of Yeo 2011, 2 mm, MIT licence; see
``bidsglm/data/schaefer2018/README.md``). Its parcels are functional, with coarse
anatomical hints in their names ("Left secondary somatosensory cortex (S2),
somatomotor B network (parcel 1)"); it has no subcortical, cerebellar or white-matter
regions.

A peak is labelled with the parcel of the atlas voxel nearest to it. When that voxel
is outside every parcel, the nearest parcel voxel within :data:`NEAREST_WITHIN_MM`
is named with its distance ("nearest, 4 mm: ..."); farther than that, the peak has no
label. Models in any other space (scanner space, a surface, a non-MNI template) get
no labels: the atlas's coordinates mean nothing there.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, cast

import nibabel as nib
import numpy as np
from nibabel.affines import apply_affine

from bidsglm.errors import InvalidParameterError, ShapeMismatchError
from bidsglm.report.underlay import is_mni_space

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    'ATLAS_CREDIT',
    'ATLAS_NAME',
    'NEAREST_WITHIN_MM',
    'NO_LABEL',
    'Atlas',
    'atlas_for',
    'read_atlas',
    'shipped_atlas',
]

#: How the report names the atlas.
ATLAS_NAME = 'the Schaefer 2018 cortical parcellation (400 parcels, 17 networks)'
#: The attribution the atlas's licence asks for, as the report prints it.
ATLAS_CREDIT = (
    'Atlas labels: Schaefer et al. (2018) Cerebral Cortex 28:3095-3114, 400 parcels '
    'and 17 networks (Yeo et al. 2011), © 2016 Computational Brain Imaging Group, MIT licence.'
)
#: A peak outside every region is given the nearest region up to this far (mm).
NEAREST_WITHIN_MM = 6.0
#: How many atlas voxels a search for nearest regions measures at once.
_SEARCHED_VOXELS = 2**20
#: The label of a peak with no region within :data:`NEAREST_WITHIN_MM`.
NO_LABEL = f'no cortical parcel within {NEAREST_WITHIN_MM:g} mm'
_FOLDER = 'schaefer2018'
_IMAGE = 'schaefer2018_400parcels_17networks_2mm.nii.gz'


@dataclass(frozen=True)
class Atlas:
    """A labelled volume and the names of its regions.

    Parameters
    ----------
    regions : (nx, ny, nz) ndarray of int
        The region of each voxel, 0 outside every region.
    affine : (4, 4) ndarray
        Voxel indices to millimetres.
    names : mapping of int to str
        The name of each region number.

    Examples
    --------
    >>> regions = np.zeros((5, 5, 5), dtype=int); regions[3:, :, :] = 7
    >>> atlas = Atlas(regions, np.diag([2.0, 2.0, 2.0, 1.0]), {7: 'Far side'})
    >>> atlas.label_of([6.0, 4.0, 4.0])
    'Far side'
    >>> atlas.label_of([2.0, 4.0, 4.0])
    'nearest, 4 mm: Far side'
    >>> atlas.label_of([-20.0, 4.0, 4.0])
    'no cortical parcel within 6 mm'
    """

    regions: np.ndarray
    affine: np.ndarray
    names: Mapping[int, str]

    def __post_init__(self) -> None:
        if np.ndim(self.regions) != 3 or np.shape(self.affine) != (4, 4):
            msg = (
                f'An Atlas needs a 3D volume of regions and a 4x4 affine; got a volume of '
                f'shape {np.shape(self.regions)} and an affine of shape {np.shape(self.affine)}.'
            )
            raise ShapeMismatchError(msg)
        unnamed = sorted(set(np.unique(self.regions).tolist()) - {0} - set(self.names))
        if unnamed:
            msg = (
                f'The atlas volume has regions {unnamed[:10]} that its names do not list; '
                'give a name to every region number of the volume.'
            )
            raise InvalidParameterError(msg)

    def label_of(self, xyz: np.ndarray | list[float]) -> str:
        """Name the region at a point in mm (or the nearest one, see the module)."""
        return self.labels_of(np.asarray(xyz, dtype=float))[0]

    def labels_of(self, xyz: np.ndarray) -> list[str]:
        """Name the region at each point of an ``(n, 3)`` array of mm coordinates.

        As :meth:`label_of` for each point, all points at once: those outside
        every region are searched together (:meth:`_nearest_labels`).
        """
        points = np.asarray(xyz, dtype=float).reshape(-1, 3)
        ijk = np.rint(apply_affine(self._to_voxels, points)).astype(int)
        regions = self._regions_at(ijk)
        labels = [self.names[int(region)] if region > 0 else '' for region in regions]
        outside = np.flatnonzero(regions <= 0)
        nearest = self._nearest_labels(points[outside], ijk[outside])
        for index, label in zip(outside, nearest, strict=True):
            labels[index] = label
        return labels

    @cached_property
    def _to_voxels(self) -> np.ndarray:
        """The inverse of the affine: millimetres to voxel indices (computed once)."""
        return np.linalg.inv(self.affine)

    @cached_property
    def _offsets(self) -> np.ndarray:
        """The voxels a :data:`NEAREST_WITHIN_MM` search may reach, (m, 3), in C order.

        The cube of half-side ``ceil(NEAREST_WITHIN_MM / smallest voxel size)``
        around a voxel, listed as ``np.argwhere`` lists the voxels of a block: so
        of two voxels at the same distance, the first in the volume's order wins.
        """
        reach = int(np.ceil(NEAREST_WITHIN_MM / np.linalg.norm(self.affine[:3, :3], axis=0).min()))
        span = np.arange(-reach, reach + 1)
        return np.stack(np.meshgrid(span, span, span, indexing='ij'), axis=-1).reshape(-1, 3)

    def _regions_at(self, ijk: np.ndarray) -> np.ndarray:
        """Return the region numbers at voxel indices (..., 3); 0 outside the volume."""
        inside = np.all((ijk >= 0) & (ijk < self.regions.shape), axis=-1)
        regions = np.zeros(inside.shape, dtype=self.regions.dtype)
        regions[inside] = self.regions[tuple(ijk[inside].T)]
        return regions

    def _nearest_labels(self, points: np.ndarray, ijk: np.ndarray) -> list[str]:
        """Name the region voxel nearest to each point within the distance, if any.

        ``points`` (n, 3) in mm and their voxels ``ijk`` (n, 3); one search cube
        per point (:attr:`_offsets`), measured for many points at a time (about a
        million voxels: 3,000 points of a 2 mm atlas).
        """
        chunk = max(1, _SEARCHED_VOXELS // len(self._offsets))
        return [
            label
            for start in range(0, len(points), chunk)
            for label in self._nearest_in_cubes(
                points[start : start + chunk], ijk[start : start + chunk]
            )
        ]

    def _nearest_in_cubes(self, points: np.ndarray, ijk: np.ndarray) -> list[str]:
        """:meth:`_nearest_labels` of a few points, all measured in one pass."""
        voxels = ijk[:, np.newaxis, :] + self._offsets
        regions = self._regions_at(voxels)
        millimetres = apply_affine(self.affine, voxels)
        distance = np.linalg.norm(millimetres - points[:, np.newaxis], axis=2)
        distance[regions <= 0] = np.inf
        best = distance.argmin(axis=1)
        labels = []
        for row, column in enumerate(best):
            if distance[row, column] > NEAREST_WITHIN_MM:  # inf: no region voxel at all
                labels.append(NO_LABEL)
                continue
            name = self.names[int(regions[row, column])]
            labels.append(f'nearest, {distance[row, column]:.0f} mm: {name}')
        return labels


def read_atlas(image: str | Path, names: str | Path) -> Atlas:
    """Read an atlas from a labelled image and a TSV of ``index`` and ``name`` columns.

    Parameters
    ----------
    image : str or pathlib.Path
        A 3D NIfTI image of integer region numbers, 0 outside every region.
    names : str or pathlib.Path
        A tab-separated table with a header and the columns ``index`` and ``name``.

    Returns
    -------
    Atlas
        The regions and their names.

    Examples
    --------
    >>> atlas = shipped_atlas()
    >>> atlas.regions.shape, len(atlas.names)
    ((91, 109, 91), 400)
    """
    loaded = cast('nib.Nifti1Image', nib.load(image))
    regions = np.asarray(loaded.dataobj).astype(np.int32)
    with Path(names).open(newline='', encoding='utf-8') as stream:
        table = {int(row['index']): row['name'] for row in csv.DictReader(stream, delimiter='\t')}
    return Atlas(regions, np.asarray(loaded.affine, dtype=float), table)


@cache
def shipped_atlas() -> Atlas:
    """Return the atlas shipped with bidsglm (read once, then kept)."""
    folder = Path(str(resources.files('bidsglm') / 'data' / _FOLDER))
    return read_atlas(folder / _IMAGE, folder / 'labels.tsv')


def atlas_for(path: str | Path) -> Atlas | None:
    """Return the atlas for a saved model's coordinates, from its ``space-`` entity.

    Parameters
    ----------
    path : str or pathlib.Path
        A file of the model (its ``statmap.json``).

    Returns
    -------
    Atlas or None
        The shipped atlas for an MNI space, else None.

    Examples
    --------
    >>> atlas_for('task-x_space-MNI152NLin2009cAsym_statmap.json').label_of([-54, -2, -30])
    'Left temporal cortex, default B network (parcel 2)'
    >>> atlas_for('sub-01_task-x_statmap.json') is None
    True
    """
    return shipped_atlas() if is_mni_space(path) else None
