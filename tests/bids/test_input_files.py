"""Tests of bidsglm.bids.input_files: damaged images and confounds, found before any fit."""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm.bids import input_files
from bidsglm.bids.input_files import check_confounds_file, check_nifti_file
from bidsglm.errors import InvalidParameterError, ShapeMismatchError

SHAPE = (4, 5, 6, 10)


@pytest.fixture
def run_path(tmp_path, rng):
    """A gzipped float32 run of random data (it barely compresses)."""
    path = tmp_path / 'sub-01_task-x_bold.nii.gz'
    nib.save(nib.Nifti1Image(rng.random(SHAPE, dtype=np.float32), np.eye(4)), path)
    return path


@pytest.fixture
def inflations(monkeypatch):
    """Count the files check_nifti_file inflates."""
    calls = []
    inflate = input_files._inflated_size

    def counting(path):
        calls.append(path)
        return inflate(path)

    monkeypatch.setattr(input_files, '_inflated_size', counting)
    return calls


def test_check_nifti_file_reads_a_whole_file_without_inflating_it(run_path, inflations):
    header = check_nifti_file(run_path)
    assert header.get_data_shape() == SHAPE
    assert inflations == []


def test_check_nifti_file_accepts_an_uncompressed_file(tmp_path, run_path):
    path = tmp_path / 'run.nii'
    nib.save(nib.load(run_path), path)
    assert check_nifti_file(path).get_data_shape() == SHAPE


@pytest.mark.parametrize('kept', [0.9, 0.5, 0.05])
def test_check_nifti_file_refuses_a_cut_gzip_file_naming_it(run_path, kept):
    data = run_path.read_bytes()
    run_path.write_bytes(data[: int(len(data) * kept)])
    with pytest.raises(InvalidParameterError) as caught:
        check_nifti_file(run_path)
    assert str(run_path) in str(caught.value)
    assert 'Write or copy the file again' in str(caught.value)


def test_check_nifti_file_says_truncated_when_the_stream_ends_early(run_path):
    data = run_path.read_bytes()
    run_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidParameterError, match=r"bold\.nii\.gz' is truncated: Compressed"):
        check_nifti_file(run_path)


def test_check_nifti_file_refuses_whole_gzip_data_shorter_than_the_header_says(run_path):
    raw = gzip.decompress(run_path.read_bytes())
    run_path.write_bytes(gzip.compress(raw[:-400]))  # a valid gzip stream, 400 bytes short
    expected = len(raw)
    with pytest.raises(
        InvalidParameterError, match=f'holds {expected - 400} bytes where its header announces'
    ):
        check_nifti_file(run_path)


def test_check_nifti_file_refuses_a_bad_trailer_as_damaged(run_path, inflations):
    data = bytearray(run_path.read_bytes())
    data[-8:] = bytes(8)  # CRC and size zeroed
    run_path.write_bytes(bytes(data))
    with pytest.raises(InvalidParameterError, match=r"bold\.nii\.gz' is damaged"):
        check_nifti_file(run_path)
    assert inflations == [run_path]


def test_check_nifti_file_accepts_a_multi_member_gzip_by_inflating_it(run_path, inflations):
    raw = gzip.decompress(run_path.read_bytes())
    half = len(raw) // 2
    run_path.write_bytes(
        gzip.compress(raw[:half]) + gzip.compress(raw[half:]) + gzip.compress(b'')
    )
    assert check_nifti_file(run_path).get_data_shape() == SHAPE
    assert inflations == [run_path]  # the last member's size (0) disagreed


def test_check_nifti_file_accepts_bytes_after_the_data(run_path):
    raw = gzip.decompress(run_path.read_bytes())
    run_path.write_bytes(gzip.compress(raw + b'extra'))
    assert check_nifti_file(run_path).get_data_shape() == SHAPE


def test_check_nifti_file_refuses_a_short_uncompressed_file(tmp_path, run_path):
    path = tmp_path / 'run.nii'
    nib.save(nib.load(run_path), path)
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(InvalidParameterError, match=f'holds {size - 4} bytes where'):
        check_nifti_file(path)


def test_check_nifti_file_refuses_an_empty_file(run_path):
    run_path.write_bytes(b'')
    with pytest.raises(InvalidParameterError, match=r"bold\.nii\.gz' is empty \(0 bytes\)"):
        check_nifti_file(run_path)


@pytest.mark.parametrize('kept', [10, 100, 340])
def test_check_nifti_file_refuses_a_cut_header(run_path, kept):
    raw = gzip.decompress(run_path.read_bytes())
    run_path.write_bytes(gzip.compress(raw[:kept]))
    with pytest.raises(InvalidParameterError, match=r"Cannot read the NIfTI header of '.*bold"):
        check_nifti_file(run_path)


def _confounds(tmp_path, columns):
    path = tmp_path / 'sub-01_task-x_desc-confounds_timeseries.tsv'
    pd.DataFrame(columns).to_csv(path, sep='\t', index=False, na_rep='n/a')
    return path


def test_check_confounds_file_names_the_file_column_row_and_value(tmp_path):
    values = ['0.1', '0.2', 'oops', '0.3', 'n/a']
    path = _confounds(tmp_path, {'trans_x': values, 'csf': [1.0] * 5, 'note': ['x'] * 5})
    check_confounds_file(path, ['csf'], 5)
    with pytest.raises(InvalidParameterError) as caught:
        check_confounds_file(path, ['csf', 'trans_x'], 5)
    assert str(caught.value).startswith(f"The confounds file '{path}': column 'trans_x' holds")
    assert "at rows [2] (index labels; for a file, 0-based data rows), such as 'oops'" in str(
        caught.value
    )


def test_check_confounds_file_leaves_missing_values_to_the_fit(tmp_path):
    path = _confounds(tmp_path, {'framewise_displacement': [np.nan, 0.1, 0.2]})
    check_confounds_file(path, ['framewise_displacement'], 3)


def test_check_confounds_file_wants_one_row_per_volume(tmp_path):
    path = _confounds(tmp_path, {'csf': [1.0, 2.0, 3.0]})
    with pytest.raises(ShapeMismatchError, match='has 3 rows but its run has 4 volumes'):
        check_confounds_file(path, ['csf'], 4)
