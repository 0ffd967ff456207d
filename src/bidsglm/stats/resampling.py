"""Resampling volumes onto another voxel grid, as nilearn 0.14.1's ``resample_img``.

A grid is a voxel-to-world affine and a 3D shape. The recipe (``target_affine`` and
``target_shape`` of the models, passed on by nilearn to its masker):

- The target grid. A 4x4 ``target_affine`` with a ``target_shape`` is used as it is.
  Without a shape, the shape is the bounding box of the source grid's corners in the
  target's voxel coordinates, plus one voxel: ``ceil(max) + 1`` per axis. A 3x3
  ``target_affine`` (axes only) gets the offset that puts the corner of that box at
  voxel 0. A box that lies entirely at negative coordinates holds none of the data,
  an error.
- Each 3D volume is interpolated with :func:`scipy.ndimage.affine_transform` at the
  target voxels mapped into source voxel coordinates (``inv(source) @ target``;
  the identity when the affines are equal; a diagonal matrix is passed as its
  diagonal, as nilearn does, which selects scipy's faster zoom-and-shift path),
  with 0 outside the source (``cval=0``), order 3 ("continuous", for data) or 0
  ("nearest", for masks). Continuous interpolation of signed integers writes
  floats of the same size (float32 at least); other types keep theirs.
- The values are then clipped to the range of the source data, 0 included
  (``[min(data.min(), 0), max(data.max(), 0)]``, over all volumes of an image), so
  that the cubic spline's ringing stays within the data.
- Masked data are resampled onto the bounding box of the mask padded by one voxel
  (nilearn crops the mask so), which matters only for what comes after, a smoothing
  whose edges are those of the box.

Numbers are nilearn's to rounding: the same scipy function on the same inputs. One
difference on purpose, made by the caller: nilearn fills non-finite source values
from their neighbours before interpolating and puts NaN back where the nearest
source voxel was not finite; bidsglm sets them to 0 first (as it does without
resampling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import linalg
from scipy.ndimage import affine_transform

from bidsglm.errors import InvalidParameterError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    'Grid',
    'check_target',
    'clip_bounds',
    'crop_box',
    'resample_volume',
    'resampled_dtype',
    'target_grid',
    'voxel_mapping',
]

#: Interpolation orders by nilearn's names.
ORDERS = {'continuous': 3, 'linear': 1, 'nearest': 0}


@dataclass(frozen=True)
class Grid:
    """A voxel grid: its voxel-to-world affine and its 3D shape.

    Parameters
    ----------
    affine : (4, 4) ndarray
    shape : tuple of 3 int

    Examples
    --------
    >>> grid = Grid(np.diag([2.0, 2.0, 2.0, 1.0]), (10, 10, 8))
    >>> grid.same_as(Grid(np.diag([2.0, 2.0, 2.0, 1.0]), (10, 10, 8)))
    True
    >>> grid.cropped((slice(2, 5), slice(0, 10), slice(1, 8))).affine[:3, 3].tolist()
    [4.0, 0.0, 2.0]
    """

    affine: np.ndarray
    shape: tuple[int, int, int]

    def same_as(self, other: Grid) -> bool:
        """Whether two grids have the same shape and affines equal to ``allclose``."""
        return self.shape == other.shape and bool(np.allclose(self.affine, other.affine))

    def cropped(self, box: tuple[slice, slice, slice]) -> Grid:
        """Return the grid of the box ``box`` of this grid (its origin moved)."""
        linear = self.affine[:3, :3]
        start = np.array([part.start for part in box])
        affine = np.eye(4)
        affine[:3, :3] = linear
        affine[:3, 3] = self.affine[:3, 3] + linear.dot(start)
        shape = tuple(int(part.stop - part.start) for part in box)
        return Grid(affine, (shape[0], shape[1], shape[2]))


def check_target(target_affine: ArrayLike | None, target_shape: ArrayLike | None) -> None:
    """Refuse a target that nilearn's ``resample_img`` refuses, with the way out.

    Raises
    ------
    InvalidParameterError
        If the affine is neither 4x4 nor 3x3 or holds non-finite numbers, the shape is
        not 3 positive integers, or a shape comes without a 4x4 affine.

    Examples
    --------
    >>> check_target(np.eye(3) * 2, None)
    >>> check_target(None, (4, 4, 4))
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: A target_shape needs a 4x4 target_affine ...
    """
    if target_affine is not None:
        affine = np.asarray(target_affine)
        if affine.shape not in ((4, 4), (3, 3)) or not np.all(np.isfinite(affine)):
            msg = (
                'target_affine must be a 4x4 voxel-to-world affine, or a 3x3 matrix of '
                f'the voxel axes; got {affine.tolist()!r}.'
            )
            raise InvalidParameterError(msg)
    if target_shape is None:
        return
    shape = np.asarray(target_shape)
    if shape.shape != (3,) or shape.dtype.kind not in 'iu' or np.any(shape < 1):
        msg = f'target_shape must be 3 positive integers (x, y, z); got {target_shape!r}.'
        raise InvalidParameterError(msg)
    if target_affine is None or np.shape(target_affine) != (4, 4):
        msg = (
            'A target_shape needs a 4x4 target_affine that places it (a 3x3 one has no '
            'offset); give both, or only a target_affine.'
        )
        raise InvalidParameterError(msg)


def _box_bounds(shape: tuple[int, ...], transform: np.ndarray) -> np.ndarray:
    """Return the (3, 2) min and max of a grid's corners mapped by ``transform``."""
    last = np.array(shape[:3], dtype=np.float64) - 1
    corners = np.array(
        [[x, y, z, 1.0] for x in (0.0, last[0]) for y in (0.0, last[1]) for z in (0.0, last[2])]
    ).T
    mapped = np.dot(transform, corners)[:3]
    return np.column_stack([mapped.min(axis=-1), mapped.max(axis=-1)])


def target_grid(
    source: Grid, target_affine: ArrayLike, target_shape: ArrayLike | None = None
) -> Grid:
    """Return the grid a source grid is resampled onto (see the module docstring).

    Parameters
    ----------
    source : Grid
        The grid of the image to resample.
    target_affine : (4, 4) or (3, 3) array-like
        The target affine, or only its voxel axes.
    target_shape : 3 ints, optional
        The target shape (with a 4x4 affine only).

    Returns
    -------
    Grid

    Raises
    ------
    InvalidParameterError
        If the target grid holds none of the source grid.

    Examples
    --------
    >>> source = Grid(np.eye(4), (10, 10, 10))
    >>> grid = target_grid(source, np.diag([2.0, 2.0, 2.0, 1.0]))
    >>> grid.shape
    (6, 6, 6)
    >>> target_grid(source, np.eye(3) * 3).affine[:3, 3].tolist()
    [0.0, 0.0, 0.0]
    """
    check_target(target_affine, target_shape)
    given = np.asarray(target_affine, dtype=np.float64)
    affine = np.eye(4)
    if given.shape == (3, 3):
        affine[:3, :3] = given
    else:
        affine[...] = given
    bounds = _box_bounds(source.shape, np.linalg.inv(affine).dot(source.affine))
    if given.shape == (3, 3):
        affine[:3, 3] = affine[:3, :3].dot(bounds[:, 0])
        bounds = np.column_stack([np.zeros(3), bounds[:, 1] - bounds[:, 0]])
    if np.any(bounds[:, 1] < 0):
        msg = (
            'The target_affine and target_shape hold none of the data: their field of '
            'view lies outside the image. Check the affine (its offset, in mm), or give '
            'only a target_affine so that the shape is chosen to hold the data.'
        )
        raise InvalidParameterError(msg)
    if target_shape is None:
        shape = tuple(int(np.ceil(upper)) + 1 for upper in bounds[:, 1])
    else:
        shape = tuple(int(size) for size in np.asarray(target_shape))
    return Grid(affine, (shape[0], shape[1], shape[2]))


def voxel_mapping(source_affine: np.ndarray, target_affine: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return the matrix (its diagonal when diagonal) and offset from target to source voxels.

    Examples
    --------
    >>> matrix, offset = voxel_mapping(np.eye(4), np.diag([2.0, 2.0, 2.0, 1.0]))
    >>> matrix.tolist(), offset.tolist()
    ([2.0, 2.0, 2.0], [0.0, 0.0, 0.0])
    """
    if np.all(target_affine == source_affine):
        transform = np.eye(4)
    else:
        transform = np.dot(linalg.inv(source_affine), target_affine)
    matrix, offset = transform[:3, :3], transform[:3, 3]
    if np.all(np.diag(np.diag(matrix)) == matrix):
        matrix = np.diag(matrix)
    return matrix, offset


def resampled_dtype(dtype: np.dtype, order: int) -> np.dtype:
    """Return the type a volume is resampled into: signed integers become floats.

    Only for interpolation of order > 1 ("continuous"), a signed integer type becomes
    the float of its size (float32 at least); any other type is kept, as nilearn's.

    Examples
    --------
    >>> str(resampled_dtype(np.dtype(np.int16), 3)), str(resampled_dtype(np.dtype(np.int16), 0))
    ('float32', 'int16')
    """
    if order == ORDERS['continuous'] and dtype.kind == 'i':
        return np.dtype(f'float{max(32, 8 * dtype.itemsize)}')
    return dtype.newbyteorder('=')


def resample_volume(
    volume: np.ndarray,
    mapping: tuple[np.ndarray, ...],
    shape: tuple[int, int, int],
    order: int,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Interpolate one 3D volume at the voxels of a target grid (0 outside the source).

    Parameters
    ----------
    volume : (x, y, z) ndarray
        The source values, finite.
    mapping : tuple of (matrix, offset)
        From :func:`voxel_mapping`.
    shape : tuple of 3 int
        The target shape.
    order : int
        3 for continuous interpolation, 0 for nearest.
    out : ndarray, optional
        Where to write, of ``shape``; by default a new array of
        :func:`resampled_dtype`.

    Returns
    -------
    ndarray
        The resampled volume (not clipped; see :func:`clip_bounds`).

    Examples
    --------
    >>> volume = np.arange(8.0).reshape(2, 2, 2)
    >>> mapping = voxel_mapping(np.eye(4), np.diag([0.5, 1.0, 1.0, 1.0]))
    >>> resample_volume(volume, mapping, (3, 2, 2), order=0)[:, 0, 0]  # 0.5 rounds up
    array([0., 4., 4.])
    """
    if out is None:
        out = np.empty(shape, dtype=resampled_dtype(volume.dtype, order))
    matrix, offset = mapping
    affine_transform(
        volume, matrix, offset=offset, output_shape=shape, output=out, cval=0.0, order=order
    )
    return out


def clip_bounds(lowest: float, highest: float) -> tuple[float, float]:
    """Return the clip range of resampled values: the data's range, 0 included.

    Examples
    --------
    >>> clip_bounds(3.5, 900.0)
    (0, 900.0)
    """
    return min(lowest, 0), max(highest, 0)


def crop_box(mask: np.ndarray) -> tuple[slice, slice, slice]:
    """Return the bounding box of a 3D mask's voxels, padded by one voxel where possible.

    Examples
    --------
    >>> mask = np.zeros((6, 6, 6), bool)
    >>> mask[2:4, 0, 5] = True
    >>> crop_box(mask)
    (slice(1, 5, None), slice(0, 2, None), slice(4, 6, None))
    """
    where = np.nonzero(mask)
    if where[0].size == 0:
        return (slice(0, mask.shape[0]), slice(0, mask.shape[1]), slice(0, mask.shape[2]))
    start = [max(int(axis.min()) - 1, 0) for axis in where]
    stop = [min(int(axis.max()) + 2, size) for axis, size in zip(where, mask.shape, strict=True)]
    return (slice(start[0], stop[0]), slice(start[1], stop[1]), slice(start[2], stop[2]))
