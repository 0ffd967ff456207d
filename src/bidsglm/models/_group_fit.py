"""The group GLM at any number of maps: each map read once, the fit made in voxel blocks.

:func:`read_maps` reads the input maps one at a time into a
:class:`~bidsglm.models._map_store.MapStore` (on disk), taking their mean on the way
when the mask is to be computed from it. Until the mask is known, the store keeps
the voxels that are non-zero in some map read so far (the brain of maps saved with
zeros outside it), in the order they were first seen; a voxel 0 in every map needs
no column, its values being known. :meth:`GroupFit.fit` then fits the design
to a block of voxels at a time with :func:`bidsglm.stats.fit_glm`, keeping the
estimates, variances and r-squared of every voxel but not the residuals: those are
``(maps, voxels)``, as large as the input, and :meth:`GroupFit.residual_rows` gives
them one map at a time from the store (to write ``stat-errorts`` block-wise), or
whole on demand. Memory is thus bounded by a block and the outputs, whatever the
number of maps; the numbers are those of one fit of the whole matrix (the voxels of
an OLS fit are independent).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import nibabel as nib
import numpy as np

from bidsglm._steps import StepCounter
from bidsglm.models._ahead import ahead, ahead_map
from bidsglm.models._group_inputs import RunningMean
from bidsglm.models._images import volume_values
from bidsglm.models._map_store import MapStore
from bidsglm.stats import GLMFit, fit_ols

if TYPE_CHECKING:
    from typing import TypeAlias

    Fwhm: TypeAlias = float | Sequence[float | None] | str

__all__ = ['BLOCK_BYTES', 'GroupFit', 'MapReading', 'read_maps']

#: Bytes of float64 values fitted together, ``maps x voxels`` (8 MiB: 5,000 voxels
#: of 200 maps). Reading and fitting a block then costs a few times this in memory;
#: blocks of 32 MiB took 1.5 times as long to fit (their temporary arrays are
#: mapped afresh for each block, page by page).
BLOCK_BYTES = 8 * 2**20
#: Threads fitting blocks at once (the fit of a block is numpy's, without the GIL).
FIT_THREADS = 2


@dataclass(frozen=True)
class MapReading:
    """The input maps, read once.

    Parameters
    ----------
    store : MapStore
        One row per map: the values of the voxels read (the mask's, or those of
        ``positions``).
    mean : nibabel.Nifti1Image or None
        The mean of the maps as read (before smoothing), when asked for.
    positions : (n_columns,) ndarray of int or None
        When the maps were read without a mask: the voxel of each column of
        ``store``, as a flat position in Fortran order; every other voxel is 0 in
        every map.
    """

    store: MapStore
    mean: nib.Nifti1Image | None
    positions: np.ndarray | None = None

    def sample(self) -> nib.Nifti1Image:
        """Return the mean, which the mask is computed from (an error if not kept)."""
        if self.mean is None:
            msg = 'The maps were read without their mean.'
            raise ValueError(msg)
        return self.mean

    def columns_of(self, voxels: np.ndarray) -> np.ndarray:
        """Return the column of ``store`` holding each of ``voxels`` (of maps read unmasked).

        A voxel that is 0 in every map gets a column of zeros, added at the end of
        the store.

        Parameters
        ----------
        voxels : (n,) ndarray of int
            Flat positions in Fortran order (see
            :func:`~bidsglm.models._images.fortran_index`).

        Examples
        --------
        >>> maps = [nib.Nifti1Image(np.array([[[0.0]], [[v]]]), np.eye(4)) for v in (1, 2)]
        >>> reading = read_maps(maps, None)
        >>> reading.store.shape, reading.columns_of(np.array([1, 0])).tolist()
        ((2, 1), [0, 1])
        >>> reading.store.to_array().tolist()
        [[1.0, 0.0], [2.0, 0.0]]
        """
        if self.positions is None:
            msg = 'The maps were read with a mask: their columns are its voxels.'
            raise ValueError(msg)
        n_columns = self.positions.size
        grid_size = max(int(voxels.max(initial=0)), int(self.positions.max(initial=0))) + 1
        column_of = np.full(grid_size, n_columns)
        column_of[self.positions] = np.arange(n_columns)
        columns = column_of[voxels]
        if columns.size and columns.max() == n_columns:
            self.store.widen(n_columns + 1)
        return columns


class _NonzeroVoxels:
    """The voxels non-zero in some row seen so far, in the order they were first seen.

    A value counts as non-zero unless all its bits are 0 (so -0.0 and NaN count):
    the voxels left out are exactly +0 in every row.

    Examples
    --------
    >>> voxels = _NonzeroVoxels(4)
    >>> voxels.take(np.array([0.0, 2.0, 0.0, 0.0])).tolist()
    [2.0]
    >>> voxels.take(np.array([5.0, 3.0, 0.0, -0.0])).tolist()
    [3.0, 5.0, -0.0]
    >>> voxels.positions.tolist()
    [1, 0, 3]
    """

    def __init__(self, n_voxels: int) -> None:
        self._seen = np.zeros(n_voxels, dtype=bool)
        self.positions = np.empty(0, dtype=np.intp)

    def take(self, row: np.ndarray) -> np.ndarray:
        """Note the voxels of ``row`` non-zero for the first time; return its known voxels."""
        new = np.flatnonzero(_nonzero(row) & ~self._seen)
        if new.size:
            self._seen[new] = True
            self.positions = np.concatenate([self.positions, new])
        return row[self.positions]


def _nonzero(values: np.ndarray) -> np.ndarray:
    """Tell which values have a bit set (so -0.0 and NaN are non-zero, +0 is not)."""
    if values.dtype.itemsize in (1, 2, 4, 8):
        return np.not_equal(values.view(f'u{values.dtype.itemsize}'), 0)
    return np.asarray(values.view(np.uint8).reshape(values.size, -1).any(axis=1))


def read_maps(
    images: Sequence[nib.Nifti1Image],
    voxels: np.ndarray | None,
    *,
    smoothing_fwhm: Fwhm | None = None,
    keep_mean: bool = False,
) -> MapReading:
    """Read each map once: its values into a store, and into a running mean if asked.

    The next maps are read (inflated, their values taken) on two helper threads
    while one is stored and added to the mean.

    Parameters
    ----------
    images : sequence of nibabel.Nifti1Image
        The maps, 3D, on one grid (files are read one at a time).
    voxels : (x, y, z) ndarray of bool or None
        The mask whose voxels are kept (in C order); None (the mask is not known
        yet) keeps the voxels non-zero in some map, their positions in the result's
        ``positions``.
    smoothing_fwhm : float, sequence, 'fast' or None
        Smooth each map before taking its values, as the masker does.
    keep_mean : bool, default=False
        Also return the mean of the maps, as nilearn's ``mean_img`` computes it.

    Returns
    -------
    MapReading

    Examples
    --------
    >>> maps = [nib.Nifti1Image(np.full((2, 1, 1), v), np.eye(4)) for v in (1.0, 3.0)]
    >>> reading = read_maps(maps, None, keep_mean=True)
    >>> reading.store.shape, reading.mean.get_fdata().ravel().tolist()
    ((2, 2), [2.0, 2.0])
    """
    if not images:
        msg = 'read_maps needs at least one map.'
        raise ValueError(msg)
    mean = RunningMean() if keep_mean else None
    nonzero = None if voxels is not None else _NonzeroVoxels(int(np.prod(images[0].shape[:3])))
    store: MapStore | None = None

    def read_values(image: nib.Nifti1Image) -> tuple[np.ndarray, np.ndarray]:
        data = np.asanyarray(image.dataobj)  # a file read, a gzipped one inflated
        return data, volume_values(data, image.affine, voxels, smoothing_fwhm=smoothing_fwhm)

    read = StepCounter('maps', len(images))
    for image, (data, values) in zip(images, ahead_map(read_values, images), strict=True):
        if mean is not None:
            mean.add(data, image.affine)
        del data
        row = values if nonzero is None else nonzero.take(values)
        if store is None:
            store = MapStore(row.size, row.dtype)
        store.widen(row.size)
        store.append(row)
        read.advance()
    assert store is not None
    positions = None if nonzero is None else nonzero.positions
    return MapReading(store, None if mean is None else mean.image(), positions)


@dataclass(frozen=True)
class GroupFit:
    """An OLS fit of a group design, its maps kept on disk for the residuals.

    Parameters
    ----------
    glm : bidsglm.stats.GLMFit
        The fit of every voxel, but for its ``residuals``, which have no column:
        read them with :meth:`residual_rows` or :meth:`residuals`.
    store : MapStore
        The maps, one row each.
    columns : (n_voxels,) ndarray of int
        The column of ``store`` that holds each of the mask's voxels (in the C
        order of the voxels, as :func:`~bidsglm.models._images.apply_mask`).
    design : (n_maps, p) ndarray
        The design.

    Examples
    --------
    >>> store = MapStore.from_rows(np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 7.0]]))
    >>> fit = GroupFit.fit(store, np.arange(2), np.ones((3, 1)))
    >>> fit.glm.beta.tolist(), fit.residuals().tolist()
    ([[3.0, 5.0]], [[-2.0, -3.0], [0.0, 1.0], [2.0, 2.0]])
    """

    glm: GLMFit
    store: MapStore
    columns: np.ndarray
    design: np.ndarray

    @classmethod
    def fit(cls, store: MapStore, columns: np.ndarray, design: np.ndarray) -> GroupFit:
        """Fit ``design`` to the ``columns`` of ``store``, a block of voxels at a time.

        The blocks follow the store's columns, so each reads one span of every row;
        ``FIT_THREADS`` threads fit them (numpy computes without the GIL), each
        block's numbers the same whichever thread fits it.
        """
        n_maps, n_voxels = store.shape[0], columns.size
        width = max(1, BLOCK_BYTES // (8 * n_maps))
        order = np.argsort(columns, kind='stable')  # blocks read the store left to right
        blocks = [order[start : start + width] for start in range(0, n_voxels, width)]
        beta = np.empty((design.shape[1], n_voxels))
        dispersion, r_square = np.empty(n_voxels), np.empty(n_voxels)
        fitted_blocks = StepCounter('blocks', len(blocks))

        def fit_block(voxels: np.ndarray) -> GLMFit:
            return fit_ols(store.columns(columns[voxels]), design, keep_residuals=False)

        with ThreadPoolExecutor(FIT_THREADS, thread_name_prefix='bidsglm-fit') as pool:
            for voxels, part in zip(blocks, pool.map(fit_block, blocks), strict=True):
                beta[:, voxels], dispersion[voxels], r_square[voxels] = (
                    part.beta,
                    part.dispersion,
                    part.r_square,
                )
                fitted_blocks.advance()
        glm = dataclasses.replace(
            part,
            beta=beta,
            dispersion=dispersion,
            labels=np.zeros(n_voxels, dtype=part.labels.dtype),
            residuals=np.empty((n_maps, 0), dtype=np.float32),
            r_square=r_square,
        )
        return cls(glm, store, columns, np.asarray(design, dtype=np.float64))

    @property
    def n_maps(self) -> int:
        """The number of maps (rows of the design)."""
        return int(self.design.shape[0])

    @functools.cached_property
    def _columns_in_order(self) -> bool:
        """Whether the store's columns are the mask's voxels, in order."""
        n_columns = self.store.shape[1]
        return self.columns.size == n_columns and bool(
            np.array_equal(self.columns, np.arange(n_columns))
        )

    def residual_row(self, index: int) -> np.ndarray:
        """Return the residuals of map ``index``, float32, one per voxel."""
        values = self.store.row(index)
        if not self._columns_in_order:
            values = values[self.columns]
        fitted = self.design[index] @ self.glm.beta
        return (values.astype(np.float64) - fitted).astype(np.float32)

    def residual_rows(self) -> Iterator[np.ndarray]:
        """Yield the residuals of each map in turn (see :meth:`residual_row`).

        The next map's are computed on a helper thread while one is used.
        """
        return ahead(self.residual_row(index) for index in range(self.n_maps))

    def residuals(self) -> np.ndarray:
        """Return every residual, ``(maps, voxels)`` float32 (as large as the input)."""
        out = np.empty((self.n_maps, self.columns.size), dtype=np.float32)
        for index in range(self.n_maps):
            out[index] = self.residual_row(index)
        return out

    def with_residuals(self) -> GLMFit:
        """Return the fit with its residuals, as one fit of the whole matrix gives it."""
        return dataclasses.replace(self.glm, residuals=self.residuals())
