"""Reading saved maps for the report: 3D maps whole, 4D residuals a few volumes at a time.

:class:`SavedMaps` reads them from memory when the writer hands its images over
(a save writes the report right after the maps), and from disk otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

import nibabel as nib
import numpy as np
from isal import igzip_threaded

from bidsglm.bids.surface_files import StagedSurface
from bidsglm.bids.writer import PendingSeries, StreamedSeries
from bidsglm.errors import ImageDimensionError
from bidsglm.models.surface import SurfaceLayout, read_surface
from bidsglm.stats.series import SeriesSd

if TYPE_CHECKING:
    import os

    from nibabel.spatialimages import SpatialImage

    from bidsglm.bids.reader import SavedMap
    from bidsglm.bids.writer import StagedImage

__all__ = ['SavedMaps', 'read_volume', 'residual_sd']

_CHUNK_BYTES = 16 * 2**20


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
    """Open a NIfTI file for sequential reading, inflating in a second thread if gzipped."""
    if str(path).endswith('.gz'):
        stream: BinaryIO = igzip_threaded.open(path, 'rb', threads=1)
        return stream
    return open(path, 'rb')


def residual_sd(
    path: str | os.PathLike[str], mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return the standard deviation over time of a 4D residual map.

    The file is read once, front to back, a few volumes at a time, so memory stays
    small whatever the number of volumes.

    Parameters
    ----------
    path : path-like
        A 4D NIfTI file (``stat-errorts``).
    mask : (nx, ny, nz) ndarray of bool, optional
        Compute only these voxels (the model's mask, outside which residuals are 0);
        the others are 0. Each voxel computed has the value the whole grid gives it,
        bit for bit.

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
        shape = _check_4d(header.get_data_shape(), path)
        dtype = header.get_data_dtype()
        stream.read(max(int(header.get_data_offset()) - stream.tell(), 0))
        sd = _sd_over_time(_blocks_from_stream(stream, shape, dtype), shape, mask)
        slope, _inter = header.get_slope_inter()
    scale = 1.0 if slope is None else abs(float(slope))
    return sd * scale, np.asarray(header.get_best_affine(), dtype=float)


def _check_4d(shape: tuple[int, ...], path: str | os.PathLike[str]) -> tuple[int, ...]:
    if len(shape) != 4:
        msg = f'The residual map {str(path)!r} should be 4D; it has shape {shape}.'
        raise ImageDimensionError(msg)
    return shape


def _blocks_from_stream(
    stream: BinaryIO, shape: tuple[int, ...], dtype: np.dtype
) -> Iterator[np.ndarray]:
    """Yield (voxels, volumes) blocks of a 4D file, a few volumes at a time."""
    n_voxels = int(np.prod(shape[:3]))
    per_chunk = max(1, _CHUNK_BYTES // (n_voxels * dtype.itemsize))
    for start in range(0, shape[3], per_chunk):
        count = min(per_chunk, shape[3] - start)
        raw = stream.read(count * n_voxels * dtype.itemsize)
        yield np.frombuffer(raw, dtype=dtype).reshape(count, n_voxels).T


def _blocks_from_array(data: np.ndarray) -> Iterator[np.ndarray]:
    """Yield (voxels, volumes) blocks of a 4D array, a few volumes at a time."""
    flat = data.reshape(-1, data.shape[3], order='F')  # a view for Fortran-ordered data
    per_chunk = max(1, _CHUNK_BYTES // max(flat.shape[0] * flat.itemsize, 1))
    for start in range(0, flat.shape[1], per_chunk):
        yield flat[:, start : start + per_chunk]


def _voxel_index(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """Return the Fortran-order positions of the mask's voxels; None for the whole grid.

    A mask of another grid than the map's is not used (None).
    """
    if mask is None or np.shape(mask) != tuple(shape[:3]):
        return None
    return np.flatnonzero(np.asarray(mask, dtype=bool).ravel(order='F'))


def _rows_of(block: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Return the rows ``index`` of a (voxels, volumes) block, voxels contiguous.

    Laid out as the blocks are (each volume's voxels contiguous), so that each
    volume's values are one contiguous slice to add.
    """
    volumes = np.empty((block.shape[1], index.size), dtype=block.dtype)
    np.take(block.T, index, axis=1, out=volumes)
    return volumes.T


def _sd_over_time(
    blocks: Iterator[np.ndarray], shape: tuple[int, ...], mask: np.ndarray | None = None
) -> np.ndarray:
    """Return the standard deviation (``ddof=0``) over time, summing in float64.

    With ``mask``, only its voxels are summed and the others are 0. Each voxel's
    values are added one volume after the other (:class:`~bidsglm.stats.series.SeriesSd`),
    so its value is the whole grid's, bit for bit, and a streamed file's.

    Examples
    --------
    >>> data = np.arange(24.0).reshape(2, 3, 1, 4) ** 2
    >>> blocks = list(_blocks_from_array(data))
    >>> mask = np.zeros((2, 3, 1), bool); mask[1, 2, 0] = True
    >>> whole = _sd_over_time(iter(blocks), data.shape)
    >>> inside = _sd_over_time(iter(blocks), data.shape, mask)
    >>> bool(inside[1, 2, 0] == whole[1, 2, 0]), float(inside.sum() - inside[1, 2, 0])
    (True, 0.0)
    """
    index = _voxel_index(mask, shape)
    sums = SeriesSd(int(np.prod(shape[:3])) if index is None else index.size)
    for block in blocks:
        sums.add_block(block if index is None else _rows_of(block, index))
    sd = sums.sd()
    if index is not None:
        grid = np.zeros(int(np.prod(shape[:3])))
        grid[index] = sd
        sd = grid
    return sd.reshape(shape[:3], order='F')


@dataclass(frozen=True)
class SavedMaps:
    """Read a saved model's maps, from memory when the writer handed them over.

    Parameters
    ----------
    images : mapping of path to nibabel image or StagedSurface, optional
        Images already in memory, by the path of the file they were saved to (a
        surface map under the path of each of its files).

    Examples
    --------
    >>> from pathlib import Path
    >>> image = nib.Nifti1Image(np.arange(8.0).reshape(2, 2, 2), np.eye(4))
    >>> maps = SavedMaps({Path('z.nii.gz'): image})
    >>> float(maps.volume('z.nii.gz')[0][1, 1, 1])
    7.0
    """

    images: Mapping[Path, StagedImage] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_absolute = {Path(path).absolute(): image for path, image in self.images.items()}
        object.__setattr__(self, 'images', by_absolute)

    def _in_memory(self, path: str | os.PathLike[str]) -> SpatialImage | None:
        image = self.images.get(Path(path).absolute())
        streamed = (StreamedSeries, PendingSeries, StagedSurface)
        return None if isinstance(image, streamed) else image

    def surface_rows(self, saved: SavedMap) -> tuple[np.ndarray, SurfaceLayout]:
        """Return every row of a saved surface map, as stored, and its surface.

        From memory when the writer staged every file of the map, else read from
        disk (:func:`~bidsglm.models.surface.read_surface`): the same values and
        parts either way.

        Examples
        --------
        >>> from bidsglm.bids.surface_files import SurfaceMap, staged_surface
        >>> from bidsglm.models.surface import SurfaceLayout
        >>> layout = SurfaceLayout('gifti', (('left', 2), ('right', 1)))
        >>> staged = staged_surface(layout, SurfaceMap(np.array([[1.0, 2.0, 3.0]]), 'z', ('z',)))
        >>> maps = SavedMaps({Path('l.func.gii'): staged, Path('r.func.gii'): staged})
        >>> rows, parts = maps.surface_rows({'left': 'l.func.gii', 'right': 'r.func.gii'})
        >>> rows.tolist(), parts.describe()
        ([[1.0, 2.0, 3.0]], 'GIFTI (left 2, right 1)')
        """
        staged = self._staged_surface(saved)
        if staged is None:
            surface = read_surface(saved, 'the saved map')
            return surface.data, surface.layout
        if staged.layout.kind == 'cifti':
            return staged.values, staged.layout
        return staged.values, SurfaceLayout('gifti', staged.layout.parts)  # as files read

    def surface_values(self, saved: SavedMap) -> tuple[np.ndarray, SurfaceLayout]:
        """Return the first map of a saved surface file as float64, and its surface."""
        rows, layout = self.surface_rows(saved)
        return np.asarray(rows[0], dtype=np.float64), layout

    def _staged_surface(self, saved: SavedMap) -> StagedSurface | None:
        """Return the staged map behind every file of ``saved``, in the order of its parts."""
        paths = list(saved.values()) if isinstance(saved, dict) else [saved]
        found = [self.images.get(Path(path).absolute()) for path in paths]
        first = found[0]
        if not isinstance(first, StagedSurface) or any(item is not first for item in found):
            return None
        if first.layout.kind != 'cifti':
            names = [name for name, _count in first.layout.parts]
            if not isinstance(saved, dict) or list(saved) != names:
                return None  # read from disk, in the order asked for
        return first

    def volume(self, path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return a 3D map as float64 and its affine, as :func:`read_volume` does."""
        image = self._in_memory(path)
        if image is None:
            return read_volume(path)
        data = np.asarray(image.dataobj, dtype=np.float64)
        return (data[..., 0] if data.ndim == 4 else data), np.asarray(image.affine, dtype=float)

    def residual_sd(
        self, path: str | os.PathLike[str], mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the SD over time of a 4D map and its affine, as :func:`residual_sd` does.

        With ``mask``, only its voxels are computed (see :func:`residual_sd`). A file
        the writer streamed comes with its SD, which is used as it is.
        """
        summary = self.images.get(Path(path).absolute())
        if isinstance(summary, PendingSeries):
            summary = summary.wait()
        if isinstance(summary, StreamedSeries):
            return summary.sd, summary.affine
        image = self._in_memory(path)
        if image is None:
            return residual_sd(path, mask)
        data = np.asanyarray(image.dataobj)
        shape = _check_4d(data.shape, path)
        sd = _sd_over_time(_blocks_from_array(data), shape, mask)
        return sd, np.asarray(image.affine, float)
