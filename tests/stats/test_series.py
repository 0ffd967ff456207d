"""Tests of bidsglm.stats.series: the SD over time, the same however the volumes come."""

from __future__ import annotations

import numpy as np

from bidsglm.stats.series import SeriesSd


def test_series_sd_is_numpys_std_over_time(rng):
    data = (rng.standard_normal((30, 7)) * np.arange(1.0, 8.0) + 50).astype(np.float32)
    sums = SeriesSd(7)
    for volume in data:
        sums.add(volume)
    np.testing.assert_allclose(sums.sd(), data.astype(np.float64).std(axis=0), rtol=1e-9)


def test_series_sd_is_the_same_bit_for_bit_by_volume_block_or_voxel_order(rng):
    data = (rng.standard_normal((25, 300)) * 3 + 7).astype(np.float32)  # volumes x voxels
    by_volume = SeriesSd(300)
    for volume in data:
        by_volume.add(volume)
    in_blocks = SeriesSd(300)
    for start in range(0, 25, 4):  # (voxels, volumes) blocks, as a file is read
        in_blocks.add_block(np.asfortranarray(data[start : start + 4].T))
    order = rng.permutation(300)
    shuffled = SeriesSd(300)
    for volume in data:
        shuffled.add(volume[order])
    np.testing.assert_array_equal(in_blocks.sd(), by_volume.sd())
    np.testing.assert_array_equal(shuffled.sd(), by_volume.sd()[order])


def test_series_sd_of_no_volume_is_zero():
    assert SeriesSd(3).sd().tolist() == [0.0, 0.0, 0.0]
