"""The standard deviation over time of a 4D series, summed a block of volumes at a time.

A residual series is summarised by each voxel's standard deviation over its volumes
(the report's "residual SD"). It is computed in three places: from a file read back,
from an image in memory, and from the volumes of a file being written. All three go
through :class:`BlockedSd`, which sums the volumes in blocks whose size depends only
on the grid and the type, laid out the same way, so the three give the same numbers
bit for bit.
"""

from __future__ import annotations

import numpy as np

__all__ = ['CHUNK_BYTES', 'BlockedSd', 'VolumeRows', 'volumes_per_block']

#: About how many bytes of the series (whole volumes) are summed at once.
CHUNK_BYTES = 16 * 2**20


def volumes_per_block(grid_voxels: int, itemsize: int) -> int:
    """Return how many volumes of a grid are summed at once (at least one).

    Examples
    --------
    >>> volumes_per_block(64 * 64 * 36, 4)
    28
    """
    return max(1, CHUNK_BYTES // max(grid_voxels * itemsize, 1))


class BlockedSd:
    """Sum a series block by block; give each value's standard deviation (``ddof=0``).

    Parameters
    ----------
    n_values : int
        The values summarised per volume (voxels of a mask, or of the whole grid).

    Examples
    --------
    >>> series = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]], dtype=np.float32)
    >>> sd = BlockedSd(2)
    >>> sd.add_block(series.T)
    >>> sd.sd().tolist()
    [1.632993161855452, 0.0]
    """

    def __init__(self, n_values: int) -> None:
        self._total = np.zeros(n_values)
        self._squares = np.zeros(n_values)
        self._volumes = 0

    def add_block(self, block: np.ndarray) -> None:
        """Add a ``(values, volumes)`` block, summed in float64.

        Blocks laid out alike (each volume's values contiguous) give the same sums.
        """
        values = block.astype(np.float64)
        self._total += values.sum(axis=1)
        self._squares += np.einsum('ij,ij->i', values, values)
        self._volumes += block.shape[1]

    def sd(self) -> np.ndarray:
        """Return the standard deviation of each value over the volumes added."""
        count = max(self._volumes, 1)
        mean = self._total / count
        return np.sqrt(np.maximum(self._squares / count - mean**2, 0.0))


class VolumeRows:
    """Gather volumes' rows into the blocks :class:`BlockedSd` sums, and sum them.

    Each row (one volume's values) is copied into a ``(volumes, values)`` buffer;
    when it holds a block of :func:`volumes_per_block` volumes, its transpose is
    added: the layout of a block read from a file, restricted to the same values.

    Parameters
    ----------
    n_values : int
        The length of each row.
    grid_voxels : int
        The voxels of a whole volume of the file (which set the block size).
    dtype : numpy dtype
        The type the rows are written in.

    Examples
    --------
    >>> rows = VolumeRows(2, grid_voxels=2, dtype=np.float32)
    >>> for row in ([1.0, 2.0], [3.0, 2.0], [5.0, 2.0]):
    ...     rows.add(np.array(row, dtype=np.float32))
    >>> rows.sd().tolist()
    [1.632993161855452, 0.0]
    """

    def __init__(self, n_values: int, grid_voxels: int, dtype: np.dtype | type) -> None:
        size = volumes_per_block(grid_voxels, np.dtype(dtype).itemsize)
        self._buffer = np.empty((size, n_values), dtype=dtype)
        self._filled = 0
        self._sums = BlockedSd(n_values)

    def add(self, row: np.ndarray) -> None:
        """Add one volume's values."""
        self._buffer[self._filled] = row
        self._filled += 1
        if self._filled == len(self._buffer):
            self._flush()

    def sd(self) -> np.ndarray:
        """Return the standard deviation of each value over the volumes added."""
        self._flush()
        return self._sums.sd()

    def _flush(self) -> None:
        if self._filled:
            self._sums.add_block(self._buffer[: self._filled].T)
            self._filled = 0
