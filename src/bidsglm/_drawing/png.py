"""Write PNG files from uint8 arrays (gray (h, w) or RGB (h, w, 3), 8 bits), and read them.

A PNG is the 8-byte signature and three chunks: IHDR (size and pixel format), one
IDAT (the zlib stream of the filtered rows) and IEND. Each row is stored with
filter type 2 ("Up": the difference with the row above, modulo 256), which costs
one subtraction over the whole picture and turns repeated rows, common in
pictures scaled up by repeating rows, into zeros that deflate to almost nothing.
The output depends only on the pixels, so the same picture gives the same bytes.

:func:`read_png` reads 8-bit gray, RGB and RGBA files back, whatever their row
filters (a browser's screenshots use all five): the tests use it to check the
pixels of our figures and of screenshots without an imaging library.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from bidsglm.errors import InvalidParameterError

__all__ = ['PNG_SIGNATURE', 'encode_png', 'read_png']

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'

#: PNG colour types by the number of samples per pixel: gray (0) and RGB (2).
_COLOUR_TYPES = {1: 0, 3: 2}
#: Samples per pixel by the colour types that :func:`read_png` reads (RGBA too).
_SAMPLES = {0: 1, 2: 3, 6: 4}
_FILTER_UP = 2
_BAD_PNG = "The 'png' parameter of read_png must be an 8-bit, non-interlaced PNG file: "


def _chunk(kind: bytes, data: bytes) -> bytes:
    """Frame one chunk: length, type, data, and the CRC-32 of type and data."""
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', crc)


def _samples(pixels: np.ndarray) -> np.ndarray:
    """Return the picture as (h, w, samples) uint8, or raise if it is not one."""
    array = np.asarray(pixels)
    if array.ndim == 2:
        array = array[..., None]
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] not in _COLOUR_TYPES:
        msg = (
            "The 'pixels' parameter of encode_png must be a uint8 array of shape (h, w) "
            f'or (h, w, 3). Got {array.dtype} of shape {np.shape(pixels)} instead.'
        )
        raise InvalidParameterError(msg)
    if 0 in array.shape:
        msg = (
            "The 'pixels' parameter of encode_png must hold at least one pixel. "
            f'Got shape {np.shape(pixels)} instead.'
        )
        raise InvalidParameterError(msg)
    return array


#: The deflate level of the pictures. A subject's report and figures hold about 4.4 MB
#: of filtered pixels: level 3 deflates them in 0.028 s to 378 kB, level 6 (zlib's
#: default) in 0.057 s to 354 kB, level 1 in 0.026 s to 387 kB.
PNG_LEVEL = 3


def encode_png(pixels: np.ndarray, level: int = PNG_LEVEL) -> bytes:
    """Encode a gray or RGB picture as PNG bytes.

    Parameters
    ----------
    pixels : (h, w) or (h, w, 3) ndarray of uint8
        The picture, top row first.
    level : int, default=3
        The deflate level of the standard library's zlib (0 to 9). zlib, not
        python-isal: its bytes depend on the pixels alone, which ISA-L's deflate
        does not promise (see README, "What is identical"), and pictures are small.

    Returns
    -------
    bytes
        The PNG file.

    Raises
    ------
    InvalidParameterError
        If ``pixels`` is not a non-empty uint8 array of one of those shapes.

    Examples
    --------
    >>> png = encode_png(np.array([[0, 255]], dtype=np.uint8))
    >>> png[:8] == PNG_SIGNATURE, png[12:16], struct.unpack('>II', png[16:24])
    (True, b'IHDR', (2, 1))
    """
    samples = _samples(pixels)
    height, width, depth = samples.shape
    rows = samples.reshape(height, width * depth)
    filtered = np.empty((height, width * depth + 1), dtype=np.uint8)
    filtered[:, 0] = _FILTER_UP
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # uint8 wraps modulo 256
    header = struct.pack('>IIBBBBB', width, height, 8, _COLOUR_TYPES[depth], 0, 0, 0)
    return b''.join(
        [
            PNG_SIGNATURE,
            _chunk(b'IHDR', header),
            _chunk(b'IDAT', zlib.compress(filtered.tobytes(), level)),
            _chunk(b'IEND', b''),
        ]
    )


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (type, data) chunks, checking the signature and every CRC."""
    if png[:8] != PNG_SIGNATURE:
        msg = _BAD_PNG + 'the signature is missing.'
        raise InvalidParameterError(msg)
    chunks, at = [], 8
    while at + 12 <= len(png):
        length, kind = struct.unpack('>I4s', png[at : at + 8])
        data = png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack('>I', png[at + 8 + length : at + 12 + length])
        if crc != zlib.crc32(data, zlib.crc32(kind)):
            msg = _BAD_PNG + f'the CRC of a {kind.decode("latin-1")} chunk is wrong.'
            raise InvalidParameterError(msg)
        chunks.append((kind, data))
        at += 12 + length
    if not chunks or chunks[0][0] != b'IHDR' or chunks[-1][0] != b'IEND':
        msg = _BAD_PNG + 'the IHDR or IEND chunk is missing.'
        raise InvalidParameterError(msg)
    return chunks


def _paeth(left: np.ndarray, up: np.ndarray, corner: np.ndarray) -> np.ndarray:
    """Predict with Paeth's rule: whichever neighbour is nearest to left + up - corner."""
    guess = left + up - corner
    to_left, to_up, to_corner = np.abs(guess - left), np.abs(guess - up), np.abs(guess - corner)
    return np.where(
        (to_left <= to_up) & (to_left <= to_corner), left, np.where(to_up <= to_corner, up, corner)
    )


def _unfilter(raw: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Undo the row filters, one anti-diagonal of pixels at a time.

    A pixel depends on its left, upper and upper-left neighbours only, so all the
    pixels of an anti-diagonal can be found at once from the two before it.
    """
    height, width = raw.shape[:2]
    out = np.zeros((height + 1, width + 1, raw.shape[2]), dtype=np.int32)  # zero border
    for diagonal in range(height + width - 1):
        rows = np.arange(max(0, diagonal - width + 1), min(height, diagonal + 1))
        columns = diagonal - rows
        left, up = out[rows + 1, columns], out[rows, columns + 1]
        kind = kinds[rows][:, None]
        guess = np.select(
            [kind == 1, kind == 2, kind == 3, kind == 4],
            [left, up, (left + up) // 2, _paeth(left, up, out[rows, columns])],
            0,
        )
        out[rows + 1, columns + 1] = (raw[rows, columns] + guess) & 255
    return out[1:, 1:]


def read_png(png: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced gray, RGB or RGBA PNG file.

    Parameters
    ----------
    png : bytes
        The file.

    Returns
    -------
    (h, w) or (h, w, samples) ndarray of uint8
        The pixels, top row first; gray pictures have no samples axis.

    Raises
    ------
    InvalidParameterError
        If the signature or a CRC is wrong, or the format is one this reader skips.

    Examples
    --------
    >>> picture = np.array([[[0, 10, 20], [30, 40, 50]]], dtype=np.uint8)
    >>> read_png(encode_png(picture)).tolist()
    [[[0, 10, 20], [30, 40, 50]]]
    """
    chunks = _chunks(png)
    width, height, depth, colour, _, _, interlace = struct.unpack('>IIBBBBB', chunks[0][1])
    if depth != 8 or interlace != 0 or colour not in _SAMPLES:
        msg = _BAD_PNG + f'got bit depth {depth}, colour type {colour}, interlace {interlace}.'
        raise InvalidParameterError(msg)
    samples = _SAMPLES[colour]
    stream = zlib.decompress(b''.join(data for kind, data in chunks if kind == b'IDAT'))
    rows = np.frombuffer(stream, dtype=np.uint8).reshape(height, 1 + width * samples)
    raw = rows[:, 1:].reshape(height, width, samples).astype(np.int32)
    if (rows[:, 0] == _FILTER_UP).all():  # what encode_png writes: a running sum downwards
        pixels = (np.cumsum(raw, axis=0) & 255).astype(np.uint8)
    else:
        pixels = _unfilter(raw, rows[:, 0]).astype(np.uint8)
    return pixels[..., 0] if samples == 1 else pixels
