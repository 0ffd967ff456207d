"""A small raw + fMRIPrep-style dataset for the command-line tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ._fake_bids import FakeDataset, make_fake_dataset

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np


@pytest.fixture
def fake_dataset(tmp_path: Path, rng: np.random.Generator) -> FakeDataset:
    """3 subjects, 2 runs each, 6 x 7 x 8 voxels, 30 volumes, TR 2 s, StartTime 0.5 s."""
    return make_fake_dataset(tmp_path, rng)
