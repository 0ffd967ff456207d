"""The maps of a group, one row of values per map, kept on disk rather than in memory.

A second-level model reads each input map once and appends its values to a
:class:`MapStore`: an unnamed temporary file (removed by the system when closed,
even after a crash) that holds a ``(maps, voxels)`` matrix row by row. The fit then
reads it back a block of voxels (columns) at a time, and the residuals one map (row)
at a time, so the memory a group needs is that of a block and of the outputs, not
of the number of maps. Reads go through ``readinto`` into arrays, never through a
memory map, so the pages read are not counted in the process's resident memory.
"""

from __future__ import annotations

import io
import tempfile
import threading
import weakref
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

__all__ = ['MapStore']


class MapStore:
    """A ``(maps, voxels)`` matrix in a temporary file, appended one row at a time.

    Parameters
    ----------
    n_columns : int
        The number of values of each row.
    dtype : numpy dtype
        The type of the values; a row of a wider type widens the whole store (as
        ``numpy.stack`` would promote).

    Examples
    --------
    >>> store = MapStore(3, np.float32)
    >>> store.append(np.array([1.0, 2.0, 3.0], np.float32))
    >>> store.append(np.array([4.0, 5.0, 6.0], np.float32))
    >>> store.shape, store.row(1).tolist()
    ((2, 3), [4.0, 5.0, 6.0])
    >>> store.columns(np.array([0, 2])).tolist()
    [[1.0, 3.0], [4.0, 6.0]]
    """

    def __init__(self, n_columns: int, dtype: DTypeLike) -> None:
        self._n_columns = int(n_columns)
        self._dtype = np.dtype(dtype)
        self._n_rows = 0
        self._lock = threading.Lock()
        self._open()

    def _open(self) -> None:
        """Open a new temporary file, closed with the store (no warning left behind)."""
        self._file = _temporary_file()
        self._closer = weakref.finalize(self, self._file.close)

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> MapStore:
        """Return a store holding the rows of a 2D array.

        Examples
        --------
        >>> MapStore.from_rows(np.eye(2)).row(0).tolist()
        [1.0, 0.0]
        """
        store = cls(rows.shape[1], rows.dtype)
        for row in rows:
            store.append(row)
        return store

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return self._n_rows, self._n_columns

    @property
    def dtype(self) -> np.dtype:
        """The type of the values."""
        return self._dtype

    @property
    def nbytes(self) -> int:
        """The size of the matrix, in bytes (on disk, not in memory)."""
        return self._n_rows * self._row_bytes

    @property
    def _row_bytes(self) -> int:
        return self._n_columns * self._dtype.itemsize

    def append(self, row: np.ndarray) -> None:
        """Add one row at the end (converted to the store's type, widened if wider)."""
        if row.shape != (self._n_columns,):
            msg = f'A row of this store holds {self._n_columns} values; got shape {row.shape}.'
            raise ValueError(msg)
        wider = np.result_type(self._dtype, row.dtype)
        if wider != self._dtype:
            self._widen(wider)
        values = np.ascontiguousarray(row, dtype=self._dtype)
        with self._lock:
            self._file.seek(self.nbytes)
            self._file.write(values.data.cast('B'))
            self._n_rows += 1

    def row(self, index: int) -> np.ndarray:
        """Return row ``index`` (a new array)."""
        out = np.empty(self._n_columns, self._dtype)
        self._read_into(out, index * self._row_bytes)
        return out

    def columns(self, positions: np.ndarray) -> np.ndarray:
        """Return the columns at ``positions`` (increasing) of every row, ``(rows, k)``.

        Each row's span from the first position to the last is read in one call.
        """
        first, last = int(positions[0]), int(positions[-1]) + 1
        span = np.empty((self._n_rows, last - first), self._dtype)
        start = first * self._dtype.itemsize
        for index in range(self._n_rows):
            self._read_into(span[index], index * self._row_bytes + start)
        if span.shape[1] == positions.size:
            return span
        return np.ascontiguousarray(span[:, positions - first])

    def to_array(self) -> np.ndarray:
        """Return the whole matrix in memory (for attributes that need all of it)."""
        out = np.empty(self.shape, self._dtype)
        for index in range(self._n_rows):
            self._read_into(out[index], index * self._row_bytes)
        return out

    def close(self) -> None:
        """Remove the temporary file now (it is removed with the store anyway)."""
        self._closer()

    def _read_into(self, out: np.ndarray, offset: int) -> None:
        view = out.data.cast('B')
        with self._lock:
            self._file.seek(offset)
            done = 0
            while done < view.nbytes:
                count = self._file.readinto(view[done:])
                if not count:
                    msg = 'The temporary file of the group maps was cut short.'
                    raise OSError(msg)
                done += count

    def _widen(self, dtype: np.dtype) -> None:
        """Rewrite every row with a wider type."""
        rows = self.to_array().astype(dtype)
        self._closer()
        self._open()
        self._dtype, self._n_rows = np.dtype(dtype), 0
        for row in rows:
            self.append(row)

    # A store is pickled (copied, sent to another process) with its values.
    def __getstate__(self) -> dict[str, Any]:
        return {'rows': self.to_array(), 'n_columns': self._n_columns}

    def __setstate__(self, state: dict[str, Any]) -> None:
        rows = state['rows']
        self.__init__(state['n_columns'], rows.dtype)  # type: ignore[misc]
        for row in rows:
            self.append(row)


def _temporary_file() -> io.RawIOBase:
    """Open an unnamed temporary file, unbuffered (reads land straight in arrays)."""
    return cast('io.RawIOBase', tempfile.TemporaryFile(prefix='bidsglm-group-', buffering=0))
