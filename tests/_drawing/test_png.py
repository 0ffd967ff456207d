import struct
import zlib

import numpy as np
import pytest

from bidsglm._drawing.png import PNG_SIGNATURE, encode_png, read_png
from bidsglm.errors import InvalidParameterError


def chunks(png):
    """Split a PNG by hand: (type, data, stored CRC) of each chunk."""
    out, at = [], 8
    while at < len(png):
        length, kind = struct.unpack('>I4s', png[at : at + 8])
        data = png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack('>I', png[at + 8 + length : at + 12 + length])
        out.append((kind, data, crc))
        at += 12 + length
    return out


def inflate(png):
    """Decode our PNGs by hand: inflate the IDAT and undo the 'up' filter of each row."""
    header = chunks(png)[0][1]
    width, height, _, colour = struct.unpack('>IIBB', header[:10])
    samples = {0: 1, 2: 3}[colour]
    idat = b''.join(data for kind, data, _ in chunks(png) if kind == b'IDAT')
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, -1)
    assert (rows[:, 0] == 2).all()
    pixels = np.cumsum(rows[:, 1:].astype(np.int64), axis=0) % 256
    return pixels.reshape(height, width, samples).squeeze(axis=2 if samples == 1 else ())


@pytest.mark.parametrize('shape', [(7, 5, 3), (4, 9), (1, 1, 3), (300, 2)])
def test_encode_png_round_trips_pixels_exactly(rng, shape):
    picture = rng.integers(0, 256, size=shape, dtype=np.uint8)
    png = encode_png(picture)
    np.testing.assert_array_equal(inflate(png), picture)
    np.testing.assert_array_equal(read_png(png), picture)


def test_encode_png_writes_a_valid_signature_header_and_crcs(rng):
    png = encode_png(rng.integers(0, 256, size=(3, 4, 3), dtype=np.uint8))
    assert png[:8] == PNG_SIGNATURE == b'\x89PNG\r\n\x1a\n'
    found = chunks(png)
    assert [kind for kind, _, _ in found] == [b'IHDR', b'IDAT', b'IEND']
    for kind, data, crc in found:
        assert crc == zlib.crc32(kind + data)
    # width 4, height 3, 8 bits, colour type 2 (RGB), deflate, filter method 0, no interlace
    assert struct.unpack('>IIBBBBB', found[0][1]) == (4, 3, 8, 2, 0, 0, 0)
    assert found[2][1] == b''


def test_encode_png_of_a_gray_picture_is_colour_type_0():
    png = encode_png(np.zeros((2, 3), np.uint8))
    assert struct.unpack('>IIBB', chunks(png)[0][1][:10]) == (3, 2, 8, 0)


def test_encode_png_is_deterministic_and_small_for_repeated_rows(rng):
    row = rng.integers(0, 256, size=(1, 200, 3), dtype=np.uint8)
    picture = np.repeat(row, 100, axis=0)
    assert encode_png(picture) == encode_png(picture.copy())
    # the first row, then nearly nothing: 1249 bytes at level 3, 60,100 unfiltered
    assert len(encode_png(picture)) < 3 * row.nbytes < picture.nbytes / 30


@pytest.mark.parametrize(
    'bad', [np.zeros((2, 2)), np.zeros((2, 2, 4), np.uint8), np.zeros((0, 3), np.uint8)]
)
def test_encode_png_refuses_other_arrays(bad):
    with pytest.raises(InvalidParameterError, match=r"'pixels' parameter of encode_png"):
        encode_png(bad)


def filtered_png(picture, kinds):
    """Write a PNG whose rows use the given filter types (0 to 4), straight from the spec."""
    height, width, samples = picture.shape
    pixels = picture.astype(np.int64)
    padded = np.zeros((height + 1, width + 1, samples), np.int64)
    padded[1:, 1:] = pixels
    stream = bytearray()
    for r, kind in enumerate(kinds):
        stream.append(kind)
        for c in range(width):
            for s in range(samples):
                a, b, up_left = padded[r + 1, c, s], padded[r, c + 1, s], padded[r, c, s]
                p = a + b - up_left
                paeth = min((abs(p - a), 0, a), (abs(p - b), 1, b), (abs(p - up_left), 2, up_left))
                guess = [0, a, b, (a + b) // 2, paeth[2]][kind]
                stream.append(int(pixels[r, c, s] - guess) % 256)
    colour = {1: 0, 3: 2, 4: 6}[samples]
    header = struct.pack('>IIBBBBB', width, height, 8, colour, 0, 0, 0)

    def chunk(kind, data):
        return (
            struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
        )

    return (
        PNG_SIGNATURE
        + chunk(b'IHDR', header)
        + chunk(b'IDAT', zlib.compress(bytes(stream)))
        + chunk(b'IEND', b'')
    )


@pytest.mark.parametrize('samples', [1, 3, 4])
def test_read_png_undoes_every_row_filter(rng, samples):
    picture = rng.integers(0, 256, size=(10, 6, samples), dtype=np.uint8)
    png = filtered_png(picture, [0, 1, 2, 3, 4, 4, 3, 2, 1, 0])
    decoded = read_png(png)
    np.testing.assert_array_equal(decoded, picture[..., 0] if samples == 1 else picture)


def test_read_png_refuses_a_damaged_file():
    png = bytearray(encode_png(np.zeros((2, 2, 3), np.uint8)))
    png[-20] ^= 1  # a byte of the IDAT data
    with pytest.raises(InvalidParameterError, match='CRC of a IDAT chunk is wrong'):
        read_png(bytes(png))
    with pytest.raises(InvalidParameterError, match='signature'):
        read_png(b'GIF89a')
