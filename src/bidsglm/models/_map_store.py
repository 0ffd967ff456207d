"""The maps of a group, one row of values per map, kept on disk rather than in memory.

A second-level model reads each input map once and appends its values to a
:class:`MapStore`: an unnamed temporary file (removed by the system when closed,
even after a crash) that holds a ``(maps, voxels)`` matrix row by row. The fit then
reads it back a block of voxels (columns) at a time, and the residuals one map (row)
at a time, so the memory a group needs is that of a block and of the outputs, not
of the number of maps. Reads go through ``readinto`` into arrays, never through a
memory map, so the pages read are not counted in the process's resident memory.

A row may be shorter than the matrix is wide: its missing values, at the end, are
zeros, which take no room on disk. Maps whose voxels outside a brain are all 0 are
thus kept as their brain alone, when the columns are ordered so that the voxels
ever non-zero come first (see :func:`bidsglm.models._group_fit.read_maps`); the
matrix can widen as rows come (:meth:`MapStore.widen`).
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
        The number of values of each row (the matrix's width): a row may give fewer,
        its last values being zeros.
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

    A short row ends with zeros, and a wider matrix gives every row more zeros:

    >>> store.append(np.array([7.0], np.float32))
    >>> store.widen(4)
    >>> store.to_array().tolist()
    [[1.0, 2.0, 3.0, 0.0], [4.0, 5.0, 6.0, 0.0], [7.0, 0.0, 0.0, 0.0]]
    """

    def __init__(self, n_columns: int, dtype: DTypeLike) -> None:
        self._n_columns = int(n_columns)
        self._dtype = np.dtype(dtype)
        self._sizes: list[int] = []  # the values each row holds on disk
        self._starts: list[int] = []  # where each row starts, in values
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
        return len(self._sizes), self._n_columns

    @property
    def dtype(self) -> np.dtype:
        """The type of the values."""
        return self._dtype

    @property
    def nbytes(self) -> int:
        """The size of the values kept, in bytes (on disk, not in memory)."""
        return self._end * self._dtype.itemsize

    @property
    def _end(self) -> int:
        """Where the next row starts, in values."""
        return self._starts[-1] + self._sizes[-1] if self._sizes else 0

    def append(self, row: np.ndarray) -> None:
        """Add one row at the end (converted to the store's type, widened if wider).

        ``row`` holds the first values of the row, at most ``n_columns``; the rest
        are zeros.
        """
        if row.ndim != 1 or row.size > self._n_columns:
            msg = (
                f'A row of this store holds at most {self._n_columns} values; got shape '
                f'{row.shape}.'
            )
            raise ValueError(msg)
        wider = np.result_type(self._dtype, row.dtype)
        if wider != self._dtype:
            self._widen_type(wider)
        values = np.ascontiguousarray(row, dtype=self._dtype)
        with self._lock:
            self._file.seek(self.nbytes)
            self._file.write(values.data.cast('B'))
            self._starts.append(self._end)
            self._sizes.append(values.size)

    def widen(self, n_columns: int) -> None:
        """Make the matrix ``n_columns`` wide: the new columns are zeros in every row."""
        if n_columns < self._n_columns:
            msg = f'A store can only widen: it has {self._n_columns} columns, not {n_columns}.'
            raise ValueError(msg)
        self._n_columns = int(n_columns)

    def row(self, index: int) -> np.ndarray:
        """Return row ``index`` (a new array)."""
        out = np.zeros(self._n_columns, self._dtype)
        self._read_values(out, index, 0)
        return out

    def columns(self, positions: np.ndarray) -> np.ndarray:
        """Return the columns at ``positions`` (increasing) of every row, ``(rows, k)``.

        Each row's span from the first position to the last is read in one call.
        """
        first, last = int(positions[0]), int(positions[-1]) + 1
        span = np.zeros((len(self._sizes), last - first), self._dtype)
        for index in range(len(self._sizes)):
            self._read_values(span[index], index, first)
        if span.shape[1] == positions.size:
            return span
        return np.ascontiguousarray(span[:, positions - first])

    def to_array(self) -> np.ndarray:
        """Return the whole matrix in memory (for attributes that need all of it)."""
        out = np.zeros(self.shape, self._dtype)
        for index in range(len(self._sizes)):
            self._read_values(out[index], index, 0)
        return out

    def close(self) -> None:
        """Remove the temporary file now (it is removed with the store anyway)."""
        self._closer()

    def _read_values(self, out: np.ndarray, index: int, first: int) -> None:
        """Read the values of row ``index`` from column ``first`` into ``out``.

        The columns the row does not hold stay as they are in ``out`` (zeros).
        """
        count = min(out.size, self._sizes[index] - first)
        if count > 0:
            self._read_into(out[:count], (self._starts[index] + first) * self._dtype.itemsize)

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

    def _widen_type(self, dtype: np.dtype) -> None:
        """Rewrite every row with a wider type (each as long as it was)."""
        rows = self._held_rows()
        self._closer()
        self._open()
        self._dtype, self._sizes, self._starts = np.dtype(dtype), [], []
        for row in rows:
            self.append(row)

    def _held_rows(self) -> list[np.ndarray]:
        """Return the values each row holds on disk (without its zeros at the end)."""
        rows = []
        for index, size in enumerate(self._sizes):
            rows.append(np.empty(size, self._dtype))
            self._read_values(rows[-1], index, 0)
        return rows

    # A store is pickled (copied, sent to another process) with its values.
    def __getstate__(self) -> dict[str, Any]:
        return {'rows': self._held_rows(), 'n_columns': self._n_columns, 'dtype': self._dtype}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state['n_columns'], state['dtype'])  # type: ignore[misc]
        for row in state['rows']:
            self.append(row)


def _temporary_file() -> io.RawIOBase:
    """Open an unnamed temporary file, unbuffered (reads land straight in arrays)."""
    return cast('io.RawIOBase', tempfile.TemporaryFile(prefix='bidsglm-group-', buffering=0))
