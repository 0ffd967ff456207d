"""Tests of bidsglm.stats.series: the SD over time, the same however the volumes come."""

from __future__ import annotations

import numpy as np
import pytest

from bidsglm.stats import series
from bidsglm.stats.series import BlockedSd, VolumeRows, volumes_per_block


def test_volumes_per_block_follows_the_chunk_size(monkeypatch):
    assert volumes_per_block(64 * 64 * 36, 4) == 16 * 2**20 // (64 * 64 * 36 * 4)
    assert volumes_per_block(10**9, 4) == 1  # a volume larger than a chunk: one at a time
    monkeypatch.setattr(series, 'CHUNK_BYTES', 40)
    assert volumes_per_block(5, 4) == 2


def test_blocked_sd_is_numpys_std_over_time(rng):
    data = (rng.standard_normal((30, 7)) * np.arange(1.0, 8.0) + 50).astype(np.float32)
    sums = BlockedSd(7)
    for start in range(0, 30, 4):
        sums.add_block(data[start : start + 4].T)
    np.testing.assert_allclose(sums.sd(), data.astype(np.float64).std(axis=0), rtol=1e-9)


@pytest.mark.parametrize('chunk_bytes', [8 * 4, 8 * 4 * 3, 8 * 4 * 100])
def test_volume_rows_give_the_sd_of_blocks_read_from_a_file_bit_for_bit(
    rng, monkeypatch, chunk_bytes
):
    monkeypatch.setattr(series, 'CHUNK_BYTES', chunk_bytes)
    grid = (rng.standard_normal((25, 8)) * 3 + 7).astype(np.float32)  # volumes x voxels
    inside = np.array([1, 2, 5, 6])
    per_block = volumes_per_block(grid.shape[1], 4)
    from_file = BlockedSd(inside.size)
    for start in range(0, len(grid), per_block):  # as the report reads a file
        block = grid[start : start + per_block].T
        rows = np.empty((block.shape[1], inside.size), np.float32)
        np.take(block.T, inside, axis=1, out=rows)
        from_file.add_block(rows.T)
    streamed = VolumeRows(inside.size, grid_voxels=grid.shape[1], dtype=np.float32)
    for volume in grid:
        streamed.add(volume[inside])
    np.testing.assert_array_equal(streamed.sd(), from_file.sd())
