"""Reading saved maps for the report: 3D maps whole, 4D residuals a few volumes at a time."""

from __future__ import annotations

import gzip
import importlib
from typing import TYPE_CHECKING, BinaryIO, cast

import nibabel as nib
import numpy as np

from bidsglm.errors import ImageDimensionError

if TYPE_CHECKING:
    import os
    from types import ModuleType

__all__ = ['read_volume', 'residual_sd']

_CHUNK_BYTES = 64 * 2**20


def _gzip_module() -> ModuleType:
    """Return python-isal's gzip module (several times faster) or the standard one."""
    try:
        return importlib.import_module('isal.igzip')
    except ImportError:  # pragma: no cover - isal is a dependency
        return gzip


def read_volume(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read a 3D map (or the first volume of a 4D one) as float64, with its affine.

    Parameters
    ----------
    path : path-like
        A NIfTI file.

    Returns
    -------
    data : (nx, ny, nz) ndarray
        The values.
    affine : (4, 4) ndarray
        The affine.
    """
    image = cast('nib.Nifti1Image', nib.load(path))
    data = np.asarray(image.dataobj, dtype=np.float64)
    if data.ndim == 4:
        data = data[..., 0]
    return data, np.asarray(image.affine, dtype=float)


def _open(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a NIfTI file for sequential reading, decompressing if needed."""
    if str(path).endswith('.gz'):
        stream: BinaryIO = _gzip_module().open(path, 'rb')
        return stream
    return open(path, 'rb')


def residual_sd(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return the standard deviation over time of a 4D residual map.

    The file is read once, front to back, a few volumes at a time, so memory stays
    small whatever the number of volumes.

    Parameters
    ----------
    path : path-like
        A 4D NIfTI file (``stat-errorts``).

    Returns
    -------
    sd : (nx, ny, nz) ndarray
        The standard deviation (``ddof=0``) of each voxel's residuals.
    affine : (4, 4) ndarray
        The affine.

    Raises
    ------
    ImageDimensionError
        If the file is not 4D.
    """
    with _open(path) as stream:
        header = nib.Nifti1Header.from_fileobj(stream)
        shape = header.get_data_shape()
        if len(shape) != 4:
            msg = f'The residual map {str(path)!r} should be 4D; it has shape {shape}.'
            raise ImageDimensionError(msg)
        dtype = header.get_data_dtype()
        stream.read(max(int(header.get_data_offset()) - stream.tell(), 0))
        total, squares = _moments(stream, shape, dtype)
        slope, _inter = header.get_slope_inter()
    mean = total / shape[3]
    variance = np.maximum(squares / shape[3] - mean**2, 0.0)
    scale = 1.0 if slope is None else abs(float(slope))
    return np.sqrt(variance) * scale, np.asarray(header.get_best_affine(), dtype=float)


def _moments(
    stream: BinaryIO, shape: tuple[int, ...], dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Sum the values and their squares over time, reading volumes in chunks."""
    n_voxels = int(np.prod(shape[:3]))
    per_chunk = max(1, _CHUNK_BYTES // (n_voxels * dtype.itemsize))
    total = np.zeros(n_voxels)
    squares = np.zeros(n_voxels)
    remaining = shape[3]
    while remaining:
        count = min(per_chunk, remaining)
        raw = stream.read(count * n_voxels * dtype.itemsize)
        block = np.frombuffer(raw, dtype=dtype).reshape(count, n_voxels).astype(float)
        total += block.sum(axis=0)
        squares += np.einsum('ij,ij->j', block, block)
        remaining -= count
    return total.reshape(shape[:3], order='F'), squares.reshape(shape[:3], order='F')
