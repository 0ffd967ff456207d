"""A planted GLM: a known design, known betas, known noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest


@dataclass(frozen=True)
class PlantedGLM:
    design: np.ndarray
    beta: np.ndarray
    data: np.ndarray
    noise_sd: float


def make_planted_glm(rng, n_scans=200, n_voxels=50, rho=0.0, noise_sd=1.0):
    """Two block regressors and an intercept; AR(1) noise of coefficient ``rho``."""
    time = np.arange(n_scans)
    design = np.column_stack([(time // 10) % 2, (time // 15) % 2, np.ones(n_scans)]).astype(
        np.float64
    )
    beta = np.vstack(
        [np.linspace(0, 3, n_voxels), np.linspace(-2, 2, n_voxels), np.full(n_voxels, 100.0)]
    )
    innovations = rng.standard_normal((n_scans, n_voxels)) * noise_sd
    noise = np.empty_like(innovations)
    noise[0] = innovations[0] / np.sqrt(1 - rho**2)
    for t in range(1, n_scans):
        noise[t] = rho * noise[t - 1] + innovations[t]
    return PlantedGLM(design, beta, design @ beta + noise, noise_sd)


@pytest.fixture
def planted_glm(rng):
    return make_planted_glm(rng)
