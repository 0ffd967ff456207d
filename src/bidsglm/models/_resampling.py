"""The models' ``target_affine`` and ``target_shape``: masks, runs and maps resampled.

As nilearn 0.14.1 passes them to its masker (:mod:`bidsglm.stats.resampling` gives
the numbers):

- the mask is resampled onto the target grid by nearest neighbour (the grid's shape,
  when not given, holds the mask's own grid); a first-level mask computed from the
  runs is computed on the target grid instead, from each run's mean resampled there;
- each run (or the second level's maps, together) is resampled onto the mask's
  grid, cropped to the mask's bounding box plus one voxel, by cubic splines, and
  clipped to its data's range (0 included); then smoothed (``smoothing_fwhm``) on
  that box, and masked.

Volumes are resampled one at a time; a gzipped run is even read one volume at a
time, so that its 4D array is never held. Without smoothing only the masked values
are kept; with smoothing, the resampled box of every volume (the clip comes before
the smoothing and needs the range of all volumes).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import nibabel as nib
import numpy as np

from bidsglm.errors import InvalidParameterError
from bidsglm.models._images import iter_volumes, load_mask, smooth_array
from bidsglm.stats.resampling import (
    ORDERS,
    Grid,
    clip_bounds,
    crop_box,
    resample_volume,
    target_grid,
    voxel_mapping,
)

if TYPE_CHECKING:
    from typing import TypeAlias

    from numpy.typing import ArrayLike

    Fwhm: TypeAlias = float | Sequence[float | None] | str

__all__ = ['Target', 'image_grid', 'resample_and_mask', 'resample_mask', 'resample_mean']


@dataclass(frozen=True)
class Target:
    """A model's ``target_affine`` and ``target_shape`` (None and None: no resampling).

    Examples
    --------
    >>> Target(None, None).given, Target(np.eye(4), None).given
    (False, True)
    """

    affine: ArrayLike | None
    shape: ArrayLike | None

    @property
    def given(self) -> bool:
        """Whether there is a target to resample onto."""
        return self.affine is not None

    def grid_for(self, source: Grid) -> Grid:
        """Return the grid an image on ``source`` is resampled onto."""
        assert self.affine is not None
        return target_grid(source, self.affine, self.shape)


def image_grid(img: nib.Nifti1Image) -> Grid:
    """Return the voxel grid of an image (3D or 4D)."""
    shape = img.shape
    return Grid(np.asarray(img.affine, dtype=np.float64), (shape[0], shape[1], shape[2]))


def resample_mask(mask_img: nib.Nifti1Image, target: Target) -> nib.Nifti1Image:
    """Resample a uint8 0/1 mask onto the target grid by nearest neighbour.

    The mask is returned as it is when the target grid is its own grid (nilearn
    interpolates it there, which changes nothing).
    """
    source = image_grid(mask_img)
    grid = target.grid_for(source)
    if grid.same_as(source):
        return mask_img
    data = np.asarray(mask_img.dataobj, dtype=np.uint8)
    resampled = resample_volume(
        data, voxel_mapping(source.affine, grid.affine), grid.shape, ORDERS['nearest']
    )
    if not resampled.any():
        msg = (
            f'The mask holds no voxel once resampled onto the target grid (shape '
            f'{grid.shape}): target_affine and target_shape leave out every voxel of '
            'the mask. Check them (the offset is in mm), or give only a target_affine.'
        )
        raise InvalidParameterError(msg)
    image = nib.Nifti1Image(resampled, grid.affine)
    image.header.set_xyzt_units(xyz=mask_img.header.get_xyzt_units()[0])
    return image


def resample_mean(mean: np.ndarray, affine: np.ndarray, target: Target) -> tuple[np.ndarray, ...]:
    """Resample a 3D mean volume by cubic splines, clipped to its range; give the affine."""
    source = Grid(
        np.asarray(affine, dtype=np.float64), (mean.shape[0], mean.shape[1], mean.shape[2])
    )
    grid = target.grid_for(source)
    if grid.same_as(source):
        return mean, source.affine
    values = _finite(mean)
    resampled = resample_volume(
        values, voxel_mapping(source.affine, grid.affine), grid.shape, ORDERS['continuous']
    )
    np.clip(resampled, *clip_bounds(values.min(), values.max()), out=resampled)
    return resampled, grid.affine


def _finite(volume: np.ndarray) -> np.ndarray:
    """Return the volume with non-finite values set to 0 (a copy only if needed)."""
    if volume.dtype.kind != 'f' or np.all(np.isfinite(volume)):
        return volume
    finite = np.array(volume)
    finite[~np.isfinite(finite)] = 0
    return finite


@dataclass
class _Range:
    """The smallest and largest source value seen so far."""

    lowest: float = np.inf
    highest: float = -np.inf

    def see(self, volume: np.ndarray) -> None:
        self.lowest = min(self.lowest, volume.min())
        self.highest = max(self.highest, volume.max())


def _resampled_volumes(
    volumes: Iterator[np.ndarray], source_affine: np.ndarray, grid: Grid, seen: _Range
) -> Iterator[np.ndarray]:
    """Yield each volume resampled onto ``grid`` (not clipped); record their range."""
    mapping = voxel_mapping(source_affine, grid.affine)
    for volume in volumes:
        values = _finite(volume)
        seen.see(values)
        yield resample_volume(values, mapping, grid.shape, ORDERS['continuous'])


def _masked_rows(
    resampled: Iterator[np.ndarray], inside: np.ndarray, n_volumes: int
) -> np.ndarray:
    """Keep only the in-mask values of each resampled volume, (volumes, voxels)."""
    series: np.ndarray | None = None
    for index, volume in enumerate(resampled):
        if series is None:
            dtype = volume.dtype if volume.dtype.kind == 'f' else np.dtype(np.float32)
            series = np.empty((n_volumes, int(inside.sum())), dtype=dtype)
        series[index] = volume[inside]
    assert series is not None
    return series


def _smoothed_rows(
    resampled: Iterator[np.ndarray],
    inside: np.ndarray,
    n_volumes: int,
    smoothing: tuple[np.ndarray, Fwhm],
    seen: _Range,
) -> np.ndarray:
    """Stack the resampled volumes, clip, smooth, then keep the in-mask values."""
    stack: np.ndarray | None = None
    for index, volume in enumerate(resampled):
        if stack is None:
            stack = np.empty((*volume.shape, n_volumes), dtype=volume.dtype, order='F')
        stack[..., index] = volume
    assert stack is not None
    np.clip(stack, *clip_bounds(seen.lowest, seen.highest), out=stack)
    affine, fwhm = smoothing
    smoothed = smooth_array(stack, affine, fwhm)
    return np.ascontiguousarray(smoothed[inside].T)


def resample_and_mask(
    images: Sequence[nib.Nifti1Image],
    mask_img: nib.Nifti1Image,
    *,
    smoothing_fwhm: Fwhm | None = None,
) -> np.ndarray:
    """Resample images onto the mask's grid, as nilearn's masker does; mask them.

    Parameters
    ----------
    images : sequence of nibabel.Nifti1Image
        One 4D run, or 3D maps (or 4D images), all on one grid: their volumes are
        resampled together (one clip range for all of them).
    mask_img : nibabel.Nifti1Image
        The mask, on the target grid.
    smoothing_fwhm : float, sequence of 3 floats, 'fast' or None
        Smoothing applied after resampling, on the mask's box.

    Returns
    -------
    (n_volumes, n_voxels) ndarray
        Floating data keep their type, other data become float32; the columns follow
        the C order of the mask's voxels, as :func:`~bidsglm.models._images.apply_mask`.

    Examples
    --------
    >>> mask = np.zeros((4, 4, 4), np.uint8)
    >>> mask[1:3, 1:3, 1:3] = 1
    >>> mask_img = nib.Nifti1Image(mask, np.diag([2.0, 2.0, 2.0, 1.0]))
    >>> run = nib.Nifti1Image(np.full((8, 8, 8, 3), 5.0), np.eye(4))
    >>> values = resample_and_mask([run], mask_img)
    >>> values.shape, float(values.min()), float(values.max())
    ((3, 8), 5.0, 5.0)
    """
    inside_full = load_mask(mask_img, name='mask')
    box = crop_box(inside_full)
    grid = image_grid(mask_img).cropped(box)
    inside = inside_full[box]
    n_volumes = sum(image.shape[3] if len(image.shape) == 4 else 1 for image in images)
    seen = _Range()
    volumes = itertools.chain.from_iterable(iter_volumes(image) for image in images)
    resampled = _resampled_volumes(volumes, np.asarray(images[0].affine), grid, seen)
    if smoothing_fwhm is not None:
        return _smoothed_rows(resampled, inside, n_volumes, (grid.affine, smoothing_fwhm), seen)
    series = _masked_rows(resampled, inside, n_volumes)
    np.clip(series, *clip_bounds(seen.lowest, seen.highest), out=series)
    return series
