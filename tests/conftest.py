"""Shared fixtures: the seeded random generator and tiny synthetic data."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """The only source of randomness in the tests: seeded, so runs repeat."""
    return np.random.default_rng(20011126)
