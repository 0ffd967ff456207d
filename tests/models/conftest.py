"""Tiny synthetic runs with planted effects, for the estimators' tests."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

SHAPE = (7, 8, 9)
T_R = 2.0
N_SCANS = 48
AFFINE = np.diag([3.0, 3.0, 3.5, 1.0])


def make_events(seed_offset: float = 0.0) -> pd.DataFrame:
    """Three conditions in short blocks; onsets shift a little between runs."""
    onsets = np.arange(4.0, 84.0, 10.0) + seed_offset
    conditions = ['audio', 'visual', 'motor'] * 3
    return pd.DataFrame(
        {
            'onset': onsets,
            'duration': np.full(onsets.size, 4.0),
            'trial_type': conditions[: onsets.size],
        }
    )


def brain_mask() -> np.ndarray:
    """An ellipsoid that fills most of the volume."""
    grid = np.indices(SHAPE).astype(float)
    centre = (np.array(SHAPE) - 1) / 2
    radii = np.array(SHAPE) / 2.2
    distance = sum(((grid[i] - centre[i]) / radii[i]) ** 2 for i in range(3))
    return distance <= 1


def make_run(rng, events, dtype=np.float64, rho=0.3, effect=3.0):
    """A run whose 'audio' response is planted in the front half of the brain."""
    from bidsglm.design import make_first_level_design_matrix

    frame_times = np.arange(N_SCANS) * T_R
    design = make_first_level_design_matrix(frame_times, events, drift_model=None)
    inside = brain_mask()
    baseline = np.where(inside, 800.0, 20.0)
    amplitude = np.zeros(SHAPE)
    amplitude[:, :4][inside[:, :4]] = effect * 8.0  # 1 % of 800 per unit
    noise = np.empty((*SHAPE, N_SCANS))
    noise[..., 0] = rng.standard_normal(SHAPE)
    for t in range(1, N_SCANS):
        noise[..., t] = rho * noise[..., t - 1] + rng.standard_normal(SHAPE)
    data = baseline[..., None] + amplitude[..., None] * design['audio'].to_numpy() + 4 * noise
    return nib.Nifti1Image(data.astype(dtype), AFFINE)


@pytest.fixture
def two_runs(rng):
    events = [make_events(0.0), make_events(2.0)]
    return [make_run(rng, e) for e in events], events


@pytest.fixture
def one_run(rng):
    events = make_events(0.0)
    return make_run(rng, events), events
