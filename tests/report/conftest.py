"""Models to build reports from: tiny runs with planted effects, fitted, and saved for real."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm import save_glm_to_bids
from bidsglm.design import make_first_level_design_matrix
from bidsglm.models import FirstLevelModel, SecondLevelModel

SHAPE = (7, 8, 9)
AFFINE = np.array(
    [[-3.0, 0, 0, 9.0], [0, 3.0, 0, -12.0], [0, 0, 3.5, -14.0], [0, 0, 0, 1.0]]
)  # LAS: x grows to the left of the array
N_SCANS = 40
T_R = 2.0
CONTRASTS = {'audio': 'audio', 'audio - visual': 'audio - visual', 'effects': np.eye(4)[:2]}


def events(shift: float) -> pd.DataFrame:
    onsets = np.arange(4.0, 70.0, 8.0) + shift
    kinds = np.resize(['audio', 'visual', 'motor'], onsets.size)
    return pd.DataFrame({'onset': onsets, 'duration': 3.0, 'trial_type': kinds})


def planted_run(rng: np.random.Generator, table: pd.DataFrame) -> nib.Nifti1Image:
    """A run whose 'audio' response (4 % of 500) fills a 3x3x3 block; AR(1) noise."""
    design = make_first_level_design_matrix(np.arange(N_SCANS) * T_R, table, drift_model=None)
    amplitude = np.zeros(SHAPE)
    amplitude[1:4, 2:5, 3:6] = 20.0
    noise = rng.standard_normal((*SHAPE, N_SCANS))
    for t in range(1, N_SCANS):
        noise[..., t] += 0.3 * noise[..., t - 1]
    data = 500.0 + amplitude[..., None] * design['audio'].to_numpy() + 2.0 * noise
    return nib.Nifti1Image(data, AFFINE)


@pytest.fixture
def first_level_model(rng):
    """A fitted first-level model of two runs, an 'audio' effect planted in one block."""
    tables = [events(0.0), events(2.0)]
    runs = [planted_run(rng, table) for table in tables]
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE)
    return FirstLevelModel(t_r=T_R, mask_img=mask, drift_model=None).fit(runs, events=tables)


@pytest.fixture
def first_level_dir(tmp_path, first_level_model):
    """That model, saved with three contrasts (t, t, F)."""
    out = tmp_path / 'first'
    save_glm_to_bids(first_level_model, CONTRASTS, out_dir=out, prefix='sub-01_task-x')
    return out


@pytest.fixture
def second_level_model(rng):
    """A fitted group model of 12 maps with a positive effect in one block."""
    effect = np.zeros(SHAPE)
    effect[4:6, 4:7, 2:5] = 3.0
    maps = [nib.Nifti1Image(effect + rng.standard_normal(SHAPE), AFFINE) for _ in range(12)]
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE)
    return SecondLevelModel(mask_img=mask).fit(maps)


@pytest.fixture
def second_level_dir(tmp_path, second_level_model):
    """That model, saved with its intercept."""
    out = tmp_path / 'group'
    save_glm_to_bids(second_level_model, 'intercept', out_dir=out, prefix='task-x')
    return out
