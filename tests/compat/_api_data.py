"""Tiny synthetic runs and maps for the estimator-API and fitted-attribute tests."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pandas as pd

SHAPE = (7, 8, 9)
AFFINE = np.diag([3.0, 3.0, 3.5, 1.0])
T_R = 2.0
N_SCANS = 40


def brain() -> np.ndarray:
    """An ellipsoid filling most of the volume."""
    grid = np.indices(SHAPE).astype(float)
    centre = (np.array(SHAPE) - 1) / 2
    radii = np.array(SHAPE) / 2.2
    return sum(((grid[i] - centre[i]) / radii[i]) ** 2 for i in range(3)) <= 1


def mask_img() -> nib.Nifti1Image:
    return nib.Nifti1Image(brain().astype(np.uint8), AFFINE)


def events(shift: float = 0.0) -> pd.DataFrame:
    """Two conditions in short blocks."""
    onsets = np.arange(4.0, 70.0, 9.0) + shift
    return pd.DataFrame(
        {
            'onset': onsets,
            'duration': np.full(onsets.size, 4.0),
            'trial_type': (['audio', 'visual'] * 4)[: onsets.size],
        }
    )


def run(rng, dtype=np.float64, rho=0.4) -> nib.Nifti1Image:
    """A run with AR(1) noise and a response in the front of the brain."""
    noise = np.empty((*SHAPE, N_SCANS))
    noise[..., 0] = rng.standard_normal(SHAPE)
    for t in range(1, N_SCANS):
        noise[..., t] = rho * noise[..., t - 1] + rng.standard_normal(SHAPE)
    block = np.zeros(N_SCANS)
    block[3:6] = block[21:24] = 1.0
    signal = np.zeros(SHAPE)
    signal[:, :4][brain()[:, :4]] = 10.0
    baseline = np.where(brain(), 700.0, 15.0)
    data = baseline[..., None] + signal[..., None] * block + 5 * noise
    return nib.Nifti1Image(data.astype(dtype), AFFINE)


def group_maps(rng, n_maps=6) -> list[nib.Nifti1Image]:
    """Effect maps: brain-shaped (0 outside), noisy, with a positive mean effect."""
    return [
        nib.Nifti1Image(np.where(brain(), 1.0 + rng.standard_normal(SHAPE), 0.0), AFFINE)
        for _ in range(n_maps)
    ]


def group_design(n_maps=6) -> pd.DataFrame:
    return pd.DataFrame({'intercept': np.ones(n_maps), 'age': np.linspace(20.0, 60.0, n_maps)})


def quietly(function, *args, **kwargs):
    """Call nilearn without its own warnings (defaults, deprecations, overrides)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return function(*args, **kwargs)


def assert_close(ours, theirs, rtol, what=''):
    """Equal within ``rtol`` relative, with a floor of ``rtol`` times the largest value."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, what
    scale = float(np.abs(theirs).max()) if theirs.size else 0.0
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, err_msg=what)
