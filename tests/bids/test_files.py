from __future__ import annotations

import gzip
import io
import json
import zlib

import nibabel as nib
import numpy as np
import pandas as pd
from isal import isal_zlib

from bidsglm.bids._files import (
    ParallelGzipWriter,
    gzip_stream,
    json_safe,
    nifti_image,
    write_json,
    write_nifti,
    write_tsv,
)


def test_write_nifti_gives_the_same_bytes_whatever_the_file_name(tmp_path):
    image = nifti_image(nib.Nifti1Image(np.arange(24.0).reshape(2, 3, 4), np.eye(4)))
    write_nifti(tmp_path / 'a.nii.gz', image)
    write_nifti(tmp_path / 'b.nii.gz', image)
    packed = (tmp_path / 'a.nii.gz').read_bytes()
    assert packed == (tmp_path / 'b.nii.gz').read_bytes()
    assert packed[3] == 0  # no file name in the gzip header
    assert packed[4:8] == bytes(4)  # no time stamp
    assert gzip.decompress(packed) == image.to_bytes()


def _in_pieces(data: bytes, sizes: list[int], open_writer=gzip_stream) -> bytes:
    """Compress ``data`` through a writer (``open_writer(raw)``), in pieces of these sizes."""
    raw = io.BytesIO()
    with open_writer(raw) as stream:
        at = 0
        for size in sizes:
            stream.write(data[at : at + size])
            at += size
        stream.write(data[at:])
    return raw.getvalue()


def test_gzip_stream_bytes_depend_on_the_data_not_on_how_it_is_written(rng):
    # isal's deflate, unlike zlib's, gives other (valid) bytes when the same data
    # come in pieces of other sizes; nothing of the way a file is written may show
    inside = np.zeros((30, 30, 20, 1), np.float32)
    inside[5:25, 5:25, 3:17] = 1.0
    data = (inside * rng.standard_normal((30, 30, 20, 40))).astype(np.float32).tobytes()
    volume = len(data) // 40
    pieces = {
        'whole': [],
        'volumes': [volume] * 40,
        'header, then volumes': [348, 4, *[volume] * 39],
        'small': [1000] * (len(data) // 1000),
        'random': list(rng.integers(1, 300_000, 50)),
    }
    packed = {name: _in_pieces(data, sizes) for name, sizes in pieces.items()}
    assert gzip.decompress(packed['whole']) == data
    assert {name: value == packed['whole'] for name, value in packed.items()} == dict.fromkeys(
        pieces, True
    )


def test_nifti_image_sets_units_codes_time_step_and_intent():
    source = nib.Nifti1Image(np.zeros((2, 2, 2, 5)), np.diag([2.0, 2.0, 2.0, 1.0]))
    image = nifti_image(source, dtype=np.float32, intent=('t test', [12.0]), t_step=2.5)
    header = image.header
    assert header.get_xyzt_units() == ('mm', 'sec')
    assert header.get_zooms() == (2.0, 2.0, 2.0, 2.5)
    assert (int(header['sform_code']), int(header['qform_code'])) == (2, 0)
    assert header.get_intent() == ('t test', (12.0,), '')
    assert image.get_data_dtype() == np.float32


def test_write_nifti_round_trips_values_exactly(tmp_path):
    values = np.random.default_rng(0).standard_normal((2, 3, 4))
    path = tmp_path / 'x.nii.gz'
    write_nifti(path, nifti_image(nib.Nifti1Image(values, np.eye(4))))
    np.testing.assert_array_equal(nib.load(path).get_fdata(), values)


def test_json_safe_turns_numpy_and_odd_values_into_json():
    value = {'a': np.int64(2), 'b': (1.0, np.inf), 'c': np.arange(2), 'd': len, 'e': object}
    assert json_safe(value) == {'a': 2, 'b': [1.0, None], 'c': [0, 1], 'd': 'len', 'e': 'object'}


def test_write_json_and_write_tsv_follow_bids(tmp_path):
    write_json(tmp_path / 'a.json', {'x': np.float32(0.5)})
    assert json.loads((tmp_path / 'a.json').read_text()) == {'x': 0.5}
    write_tsv(tmp_path / 'a.tsv', pd.DataFrame({'a': [1.0, np.nan], 'b': [0.1, 2.0]}))
    assert (tmp_path / 'a.tsv').read_text() == 'a\tb\n1.0\t0.1\nn/a\t2.0\n'


def _parallel_gzip(data: bytes, sizes: list[int], chunk_bytes: int, threads: int = 2) -> bytes:
    """Compress ``data`` through ParallelGzipWriter, written in pieces of these sizes."""
    return _in_pieces(
        data, sizes, lambda raw: ParallelGzipWriter(raw, threads=threads, chunk_bytes=chunk_bytes)
    )


def test_parallel_gzip_bytes_depend_on_the_data_not_on_writes_or_threads(rng):
    inside = np.zeros((20, 20, 10, 1), np.float32)
    inside[5:15, 5:15, 2:8] = 1.0
    data = (inside * rng.standard_normal((20, 20, 10, 12))).astype(np.float32).tobytes()
    chunk = 10_000  # 20 chunks, the last one shorter
    whole = _parallel_gzip(data, [], chunk)
    assert gzip.decompress(whole) == data
    assert isal_zlib.decompress(whole, 31) == data
    assert whole[:10] == _in_pieces(b'', [])[:10]  # the header gzip_stream writes
    assert int.from_bytes(whole[-8:-4], 'little') == zlib.crc32(data)
    assert int.from_bytes(whole[-4:], 'little') == len(data)
    volume = len(data) // 12
    for sizes in (
        [volume] * 12,
        [1] * 50 + [chunk - 50, chunk],
        list(rng.integers(1, 30_000, 20)),
    ):
        assert _parallel_gzip(data, sizes, chunk) == whole
    assert _parallel_gzip(data, [], chunk, threads=1) == whole
    assert _parallel_gzip(data, [], 7_000) != whole  # the chunk size shows; nothing else


def test_parallel_gzip_of_an_exact_number_of_chunks_or_nothing_is_valid():
    data = bytes(range(200)) * 50  # 10,000 bytes
    for chunk in (1_000, 10_000, 20_000):
        assert gzip.decompress(_parallel_gzip(data, [], chunk)) == data
    assert gzip.decompress(_parallel_gzip(b'', [], 1_000)) == b''


def test_a_parallel_gzip_writer_does_not_keep_the_caller_buffer():
    buffer = bytearray(b'a' * 3000)
    raw = io.BytesIO()
    with ParallelGzipWriter(raw, chunk_bytes=1000) as stream:
        stream.write(buffer)  # three whole chunks, handed over as they are
        buffer[:] = b'b' * 3000
        stream.write(buffer)
    assert gzip.decompress(raw.getvalue()) == b'a' * 3000 + b'b' * 3000
