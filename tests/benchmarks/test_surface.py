"""The surface workloads' helpers: the floor's reading and the count of values written."""

from __future__ import annotations

import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / 'benchmarks'))

import _surface  # the benchmarks folder is not a package: on the path above


@pytest.fixture
def gifti_run(tmp_path):
    """A tiny GIFTI run in a surface workload's folder: 3 scans of 4 and 5 vertices."""
    (tmp_path / 'spec.json').write_text('{"t_r": 2.0, "surface": "gifti"}')
    for count, name in zip((4, 5), _surface.HEMISPHERE_FILES.values(), strict=True):
        rows = np.arange(3 * count, dtype=np.float32).reshape(3, count)
        arrays = [nib.gifti.GiftiDataArray(row, datatype='NIFTI_TYPE_FLOAT32') for row in rows]
        arrays[1].encoding = nib.gifti.util.gifti_encoding_codes['B64BIN']  # not deflated
        nib.save(nib.gifti.GiftiImage(darrays=arrays), tmp_path / name)
    return tmp_path


def test_the_floor_decodes_every_gifti_array(gifti_run):
    assert _surface.read_floor(gifti_run) == 3 * (4 + 5) * 4  # float32 values


def test_the_floor_reads_a_cifti_file_whole(tmp_path):
    (tmp_path / 'spec.json').write_text('{"t_r": 2.0, "surface": "cifti"}')
    (tmp_path / _surface.CIFTI_FILE).write_bytes(b'x' * 1000)
    assert _surface.read_floor(tmp_path) == 1000


def test_values_written_count_every_image_file(gifti_run, tmp_path):
    volume = nib.Nifti1Image(np.zeros((2, 3, 4), np.float32), np.eye(4))
    nib.save(volume, gifti_run / 'map.nii.gz')
    (gifti_run / 'table.tsv').write_text('a\n1\n')
    assert _surface.data_points(gifti_run) == 3 * (4 + 5) + 2 * 3 * 4


def test_the_workloads_are_fslr_sized():
    assert _surface.SURFACES['SG'].n_points == 2 * 32492
    assert _surface.SURFACES['SC'].n_points == 91282
