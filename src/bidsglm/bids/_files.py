"""Writing bytes to disk: NIfTI maps (gzip), JSON sidecars, TSV tables.

Every writer is deterministic in what it writes, so saving twice gives the same
files: gzip streams carry no time stamp, JSON keeps insertion order, TSV floats use
pandas' shortest round-trip form. A map's inflated bytes are always identical; its
gzip bytes almost always (see README, "What is identical": under heavy load ISA-L's
deflate was seen, about once in 100,000 maps, to choose other valid matches for the
same data). Compression goes through :func:`gzip_stream` only: python-isal
(``isal.isal_zlib``, several times faster than zlib) when installed, else the standard
library's zlib, at level 1; images are streamed into it, never copied whole.

The compressed bytes depend on the data alone, not on how they were written: isal's
deflate, unlike zlib's, gives other (equally valid) bytes for the same data passed in
pieces of other sizes, so :func:`gzip_stream` passes it blocks of one fixed size
(``BLOCK_BYTES``), whatever the sizes of the writes. The same data thus give the same
file however a save ran (threads, processes, Dask) and whichever nibabel or Python
version cut them into writes. They still depend on the compressor: the version of
python-isal (and of the ISA-L library inside it) and the instruction set it picks for
the processor (SSE, AVX2 or AVX-512 kernels); one installation on one kind of
processor gives the same bytes, but for the rare exception above.

The largest file of a group, its residuals (``stat-errorts``, 4D), goes through
:func:`parallel_gzip_stream` instead (``write_nifti_volumes(..., deflate_threads=2)``):
chunks of one fixed size (``PARALLEL_CHUNK_BYTES``) are deflated each on its own, on
two threads, and joined into one gzip member, as pigz does (without pigz's
dictionary from the chunk before). Its bytes too depend on the data alone, however
it is written.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import math
import os
import struct
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO

import nibabel as nib
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    import pandas as pd
    from _typeshed import ReadableBuffer
    from numpy.typing import DTypeLike


def _zlib_module() -> ModuleType:
    """Return python-isal's zlib module when installed, else the standard library's."""
    try:
        return importlib.import_module('isal.isal_zlib')
    except ImportError:  # pragma: no cover - isal is a dependency, zlib the fallback
        return zlib


_ZLIB = _zlib_module()

__all__ = [
    'BLOCK_BYTES',
    'PARALLEL_CHUNK_BYTES',
    'GzipBlockWriter',
    'ParallelGzipWriter',
    'gzip_stream',
    'json_bytes',
    'json_safe',
    'nifti_image',
    'parallel_gzip_stream',
    'sync_folder',
    'write_durably',
    'write_json',
    'write_nifti',
    'write_nifti_volumes',
    'write_tsv',
    'zlib_compress',
]

_LEVEL = 1
#: ``wbits`` that make the compressor write the gzip header (no name, no time stamp)
#: and trailer itself.
_GZIP_WBITS = 31
#: The size of the blocks the compressor is given (256 KiB: at least as fast as
#: whole volumes, and the copies into blocks cost little).
BLOCK_BYTES = 256 * 2**10
#: The size of the chunks :class:`ParallelGzipWriter` deflates independently (4 MiB:
#: as small a file as 1 MiB chunks, and faster, on a group's residuals).
PARALLEL_CHUNK_BYTES = 4 * 2**20
#: ``wbits`` of a raw deflate stream (no header, no trailer).
_RAW_WBITS = -15
#: The header of a gzip member with no name and no time stamp, as the compressor
#: writes it for ``_GZIP_WBITS``: deflate, no flags, time 0, no extra flags, OS unknown.
_GZIP_HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF])


class GzipBlockWriter(io.BufferedIOBase):
    """A binary file that gzips what is written into ``raw``, in fixed-size blocks.

    Writes are cut into, or gathered into, blocks of ``block_bytes``, which alone
    reach the compressor (the last one shorter), so the output depends only on the
    bytes written. Besides ``write``, it can ``tell`` and ``seek`` forwards (zeros
    fill the gap), as nibabel needs. Close it before ``raw``, which stays open.

    Parameters
    ----------
    raw : binary file object
        Where the compressed bytes go.
    block_bytes : int, default=BLOCK_BYTES
        The size of the blocks given to the compressor.
    """

    def __init__(self, raw: BinaryIO, block_bytes: int = BLOCK_BYTES) -> None:
        super().__init__()
        self._raw = raw
        self._compressor = _ZLIB.compressobj(_LEVEL, _ZLIB.DEFLATED, _GZIP_WBITS)
        self._block = memoryview(bytearray(block_bytes))  # the block being gathered
        self._filled = 0
        self._position = 0

    def writable(self) -> bool:
        """Return True."""
        return True

    def write(self, buffer: ReadableBuffer, /) -> int:
        """Take ``buffer`` (any bytes-like object); return its length."""
        data = memoryview(buffer).cast('B')
        size = data.nbytes
        block = len(self._block)
        if self._filled:  # complete the block begun by earlier writes
            data = data[self._gather(data) :]
        whole = len(data) - len(data) % block
        for start in range(0, whole, block):  # whole blocks go as they are, uncopied
            self._compress(data[start : start + block])
        self._gather(data[whole:])
        self._position += size
        return size

    def _gather(self, data: memoryview) -> int:
        """Copy the start of ``data`` into the block, compressing it once full."""
        taken = min(len(self._block) - self._filled, len(data))
        self._block[self._filled : self._filled + taken] = data[:taken]
        self._filled += taken
        if self._filled == len(self._block):
            self._compress(self._block)
            self._filled = 0
        return taken

    def tell(self) -> int:
        """Return how many bytes were written."""
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        """Move forwards to ``offset`` by writing zeros; return the new position.

        Raises
        ------
        io.UnsupportedOperation
            For a move backwards, or from the end.
        """
        target = offset + (self._position if whence == io.SEEK_CUR else 0)
        if whence == io.SEEK_END or target < self._position:
            msg = 'A gzip stream being written can only move forwards.'
            raise io.UnsupportedOperation(msg)
        self.write(bytes(target - self._position))
        return self._position

    def close(self) -> None:
        """Compress what is left and end the gzip stream."""
        if self.closed:
            return
        try:
            self._compress(self._block[: self._filled])
            self._filled = 0
            self._raw.write(self._compressor.flush())
        finally:
            super().close()

    def _compress(self, block: ReadableBuffer) -> None:
        self._raw.write(self._compressor.compress(block))


def zlib_compress(data: ReadableBuffer) -> bytes:
    """Deflate ``data`` as one zlib stream, at the level of every gzipped file.

    Examples
    --------
    >>> zlib.decompress(zlib_compress(b'abc' * 100)) == b'abc' * 100
    True
    """
    return bytes(_ZLIB.compress(data, _LEVEL))


class ParallelGzipWriter(GzipBlockWriter):
    """A gzip writer that deflates fixed-size chunks independently, on worker threads.

    Each chunk of ``chunk_bytes`` (the last one shorter) is deflated on its own,
    ending on a byte boundary (a sync flush; the last one ends the stream), and the
    pieces are written in order after one gzip header, then the CRC-32 and the size
    of everything written: one gzip member, which any gzip reader inflates. The
    bytes depend only on the bytes written. A chunk is copied before it is handed
    over, so the caller may reuse its buffers at once.

    Parameters
    ----------
    raw : binary file object
        Where the compressed bytes go; it stays open.
    threads : int, default=2
        The threads that deflate.
    chunk_bytes : int, default=PARALLEL_CHUNK_BYTES
        The size of the chunks.
    """

    def __init__(
        self, raw: BinaryIO, threads: int = 2, chunk_bytes: int = PARALLEL_CHUNK_BYTES
    ) -> None:
        super().__init__(raw, chunk_bytes)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix='bidsglm-gzip')
        self._pieces: deque[Future[bytes]] = deque()
        self._waiting = 2 * threads  # chunks deflated or queued before one is written
        self._crc = 0
        self._size = 0
        raw.write(_GZIP_HEADER)

    def close(self) -> None:
        """Deflate what is left, write every piece and the gzip trailer."""
        if self.closed:
            return
        try:
            self._submit(self._block[: self._filled], last=True)
            self._filled = 0
            self._write_pieces(0)
            self._raw.write(struct.pack('<II', self._crc, self._size % 2**32))
        finally:
            self._pool.shutdown(cancel_futures=True)
            io.BufferedIOBase.close(self)

    def _compress(self, block: ReadableBuffer) -> None:
        self._submit(block, last=False)
        self._write_pieces(self._waiting)

    def _submit(self, block: ReadableBuffer, *, last: bool) -> None:
        chunk = bytes(block)
        self._crc = _ZLIB.crc32(chunk, self._crc)
        self._size += len(chunk)
        self._pieces.append(self._pool.submit(_deflate_chunk, chunk, last=last))

    def _write_pieces(self, keep: int) -> None:
        """Write the pieces in order until at most ``keep`` are left pending."""
        while len(self._pieces) > keep:
            self._raw.write(self._pieces.popleft().result())


def _deflate_chunk(chunk: bytes, *, last: bool) -> bytes:
    """Deflate ``chunk`` on its own: ending on a byte boundary, or ending the stream."""
    compressor = _ZLIB.compressobj(_LEVEL, _ZLIB.DEFLATED, _RAW_WBITS)
    end = _ZLIB.Z_FINISH if last else _ZLIB.Z_SYNC_FLUSH
    return bytes(compressor.compress(chunk) + compressor.flush(end))


def parallel_gzip_stream(raw: BinaryIO, threads: int = 2) -> ParallelGzipWriter:
    """Open a deterministic gzip writer that deflates on several threads, for large files.

    Parameters
    ----------
    raw : binary file object
        Where the compressed bytes go.
    threads : int, default=2
        The threads that deflate; the bytes do not depend on them.

    Returns
    -------
    ParallelGzipWriter
        At level 1, no time stamp nor file name in its header; the same content
        always gives the same bytes, however it is written. Close it before ``raw``.

    Examples
    --------
    >>> import gzip
    >>> data = bytes(range(256)) * 40_000  # 10 MB: three chunks
    >>> raw_a, raw_b = io.BytesIO(), io.BytesIO()
    >>> with parallel_gzip_stream(raw_a) as stream:
    ...     _ = stream.write(data)
    >>> with parallel_gzip_stream(raw_b) as stream:
    ...     _ = [stream.write(data[i : i + 999_999]) for i in range(0, len(data), 999_999)]
    >>> raw_a.getvalue() == raw_b.getvalue(), gzip.decompress(raw_a.getvalue()) == data
    (True, True)
    """
    return ParallelGzipWriter(raw, threads)


def _deflating_stream(raw: BinaryIO, threads: int) -> GzipBlockWriter:
    """Open :func:`gzip_stream` for one thread, :func:`parallel_gzip_stream` for more."""
    return gzip_stream(raw) if threads <= 1 else parallel_gzip_stream(raw, threads)


def gzip_stream(raw: BinaryIO) -> GzipBlockWriter:
    """Open a fast, deterministic gzip writer over a binary file.

    Parameters
    ----------
    raw : binary file object
        Where the compressed bytes go.

    Returns
    -------
    GzipBlockWriter
        A gzip writer at level 1, with no time stamp and no file name in its header,
        compressing fixed-size blocks (so the same content always gives the same
        bytes, however it is written); close it before ``raw``.

    Examples
    --------
    >>> import gzip
    >>> data = bytes(range(256)) * 4096
    >>> raw_a, raw_b = io.BytesIO(), io.BytesIO()
    >>> with gzip_stream(raw_a) as stream:
    ...     _ = stream.write(data)
    >>> with gzip_stream(raw_b) as stream:
    ...     _ = [stream.write(data[i : i + 1000]) for i in range(0, len(data), 1000)]
    >>> raw_a.getvalue() == raw_b.getvalue(), gzip.decompress(raw_a.getvalue()) == data
    (True, True)
    """
    return GzipBlockWriter(raw)


def nifti_image(
    img: nib.spatialimages.SpatialImage,
    *,
    dtype: DTypeLike | None = None,
    intent: tuple[str, Sequence[float]] | None = None,
    t_step: float = 1.0,
) -> nib.Nifti1Image:
    """Copy an image into a fresh NIfTI-1 image with units, codes and intent.

    Parameters
    ----------
    img : nibabel spatial image
        The map; its data and affine are kept.
    dtype : numpy dtype, optional
        Store the data with this type (default: as they are).
    intent : (str, sequence of float), optional
        A NIfTI intent name and its parameters, e.g. ``('t test', (24.0,))``.
    t_step : float, default=1.0
        The step of the 4th axis (the repetition time for a time series).

    Returns
    -------
    nibabel.Nifti1Image
        With xyzt units ``('mm', 'sec')``, the sform of ``img`` (code 2, aligned,
        when it had none) and no qform.

    Examples
    --------
    >>> out = nifti_image(nib.Nifti1Image(np.zeros((2, 2, 2, 3)), np.eye(4)), t_step=2.0)
    >>> out.header.get_xyzt_units(), float(out.header.get_zooms()[3])
    (('mm', 'sec'), 2.0)
    """
    data = np.asanyarray(img.dataobj)
    if dtype is not None:
        data = data.astype(dtype, copy=False)
    header = getattr(img, 'header', None)
    code = int(header['sform_code']) if isinstance(header, nib.Nifti1Header) else 0
    out = nib.Nifti1Image(data, img.affine)
    out.set_sform(img.affine, code=code or 2)
    out.set_qform(None, code=0)
    out.header.set_xyzt_units('mm', 'sec')
    if data.ndim == 4:
        out.header.set_zooms((*out.header.get_zooms()[:3], t_step))
    if intent is not None:
        out.header.set_intent(intent[0], tuple(intent[1]))
    return out


def write_nifti(path: Path, img: nib.Nifti1Image) -> None:
    """Stream ``img`` to ``path`` (``.nii.gz``) through :func:`gzip_stream`."""
    with path.open('wb') as raw, gzip_stream(raw) as stream:
        img.to_stream(stream)


def write_nifti_volumes(
    path: Path,
    header: nib.Nifti1Header,
    volumes: Iterable[np.ndarray],
    *,
    deflate_threads: int = 1,
) -> None:
    """Stream a 4D image to ``path`` (``.nii.gz``) one volume at a time.

    The header is written as nibabel writes it, then each volume's bytes (Fortran
    order, the header's type): the 4D array is never in memory. On one thread
    (:func:`gzip_stream`) the file is the one :func:`write_nifti` writes of the same
    image, byte for byte; on more (:func:`parallel_gzip_stream`) it holds the same
    bytes once inflated, deflated in independent chunks.

    Parameters
    ----------
    path : pathlib.Path
        The file (created, or truncated).
    header : nibabel.Nifti1Header
        The complete header: 4D shape, type, affine, units.
    volumes : iterable of ndarray
        The volumes in order, each 3D or flat in Fortran order; as many as the
        header's fourth dimension.
    deflate_threads : int, default=1
        The threads that deflate: more for a large file written while the cores are
        otherwise idle (a group's residuals).

    Raises
    ------
    ValueError
        If the number of volumes differs from the header's.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> image = nifti_image(nib.Nifti1Image(np.arange(24.0).reshape(2, 3, 2, 2), np.eye(4)))
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_nifti(folder / 'a.nii.gz', image)
    >>> data = image.get_fdata()
    >>> volumes = (data[..., 0], data[..., 1])
    >>> write_nifti_volumes(folder / 'b.nii.gz', image.header, volumes)
    >>> (folder / 'a.nii.gz').read_bytes() == (folder / 'b.nii.gz').read_bytes()
    True
    >>> write_nifti_volumes(folder / 'c.nii.gz', image.header, volumes, deflate_threads=2)
    >>> import gzip
    >>> gzip.decompress((folder / 'a.nii.gz').read_bytes()) == gzip.decompress(
    ...     (folder / 'c.nii.gz').read_bytes()
    ... )
    True
    """
    dtype = header.get_data_dtype()
    expected = int(header.get_data_shape()[3])
    header = header.copy()
    header.set_slope_inter(1.0, 0.0)  # as nibabel's writer sets it for unscaled data
    with path.open('wb') as raw, _deflating_stream(raw, deflate_threads) as stream:
        header.write_to(stream)
        stream.seek(int(header.get_data_offset()))
        count = 0
        for volume in volumes:
            values = np.asarray(volume, dtype=dtype)
            stream.write(values.ravel(order='F').data)
            count += 1
    if count != expected:
        msg = f'The header of {path.name} says {expected} volumes; {count} were written.'
        raise ValueError(msg)


def json_safe(value: Any) -> Any:  # noqa: ANN401, PLR0911 - one return per kind of value
    """Turn numpy values, tuples and odd objects into plain JSON values.

    Parameters
    ----------
    value : object
        Anything found in a model's parameters.

    Returns
    -------
    object
        Built from dict, list, str, int, float, bool and None only; NaN and
        infinities become None, callables their name, other objects their ``str``.

    Examples
    --------
    >>> json_safe({'a': np.float64(2.0), 'b': (1, np.nan), 'c': np.eye(2)})
    {'a': 2.0, 'b': [1, None], 'c': [[1.0, 0.0], [0.0, 1.0]]}
    """
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if callable(value):
        return getattr(value, '__name__', type(value).__name__)
    return str(value)


def json_bytes(content: dict[str, Any]) -> bytes:
    r"""Return ``content`` as indented JSON, keys in insertion order, final newline.

    Examples
    --------
    >>> json_bytes({'Name': 'x', 'Value': np.float32(0.5)})
    b'{\n  "Name": "x",\n  "Value": 0.5\n}\n'
    """
    return (json.dumps(json_safe(content), indent=2, allow_nan=False) + '\n').encode('utf-8')


def write_json(path: Path, content: dict[str, Any]) -> None:
    """Write ``content`` as :func:`json_bytes` does."""
    path.write_bytes(json_bytes(content))


def write_tsv(path: Path, table: pd.DataFrame) -> None:
    """Write a table as BIDS TSV: header row, no index, newline line ends."""
    table.to_csv(path, sep='\t', index=False, lineterminator='\n', na_rep='n/a')


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file and make it reach the disk before returning.

    Parameters
    ----------
    path : pathlib.Path
        The file (created, or truncated).
    data : bytes
        Its content.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / 'x.json'
    >>> write_durably(path, b'{}')
    >>> path.read_bytes()
    b'{}'
    """
    with path.open('wb') as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def sync_folder(folder: Path) -> None:
    """Make the entries of ``folder`` (names created, renamed, removed) reach the disk.

    Where folders cannot be opened (Windows), this does nothing.
    """
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open folders
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on folders
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
