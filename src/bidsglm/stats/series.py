"""The standard deviation over time of a 4D series, summed a volume at a time.

A residual series is summarised by each voxel's standard deviation over its volumes
(the report's "residual SD"). It is computed in three places: from a file read back,
from an image in memory, and from the volumes of a file being written. All three go
through :class:`SeriesSd`, which adds each voxel's values one volume after the other
in float64, so the three give the same numbers bit for bit, whatever the order of
the voxels or the blocks the volumes come in.
"""

from __future__ import annotations

import numpy as np

__all__ = ['SeriesSd']


class SeriesSd:
    """Sum a series volume by volume; give each value's standard deviation (``ddof=0``).

    Parameters
    ----------
    n_values : int
        The values of a volume (voxels of a mask, or of the whole grid).

    Examples
    --------
    >>> series = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]], dtype=np.float32)
    >>> sd = SeriesSd(2)
    >>> for volume in series:
    ...     sd.add(volume)
    >>> sd.sd().tolist()
    [1.632993161855452, 0.0]
    """

    def __init__(self, n_values: int) -> None:
        self._total = np.zeros(n_values)
        self._squares = np.zeros(n_values)
        self._volumes = 0

    def add(self, volume: np.ndarray) -> None:
        """Add one volume's values (any float type; summed in float64)."""
        np.add(self._total, volume, out=self._total)
        np.add(self._squares, np.square(volume, dtype=np.float64), out=self._squares)
        self._volumes += 1

    def add_block(self, block: np.ndarray) -> None:
        """Add a ``(values, volumes)`` block, a volume at a time."""
        for index in range(block.shape[1]):
            self.add(block[:, index])

    def sd(self) -> np.ndarray:
        """Return the standard deviation of each value over the volumes added."""
        count = max(self._volumes, 1)
        mean = self._total / count
        return np.sqrt(np.maximum(self._squares / count - mean**2, 0.0))
