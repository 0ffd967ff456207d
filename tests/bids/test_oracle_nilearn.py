"""save_glm_to_bids on nilearn 0.14.1 models (fitted with minimize_memory=False)."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.glm.second_level import SecondLevelModel as NilearnSecondLevel

from bidsglm import save_glm_to_bids
from bidsglm.errors import InvalidParameterError, NotFittedError

from ._validator import run_validator
from .conftest import N_SCANS, N_SUBJECTS, T_R

pytestmark = pytest.mark.oracle

CONTRASTS = {'audio - visual': 'audio - visual', 'effects of interest': np.eye(3, 5)}
OUTPUTS = {'effect_size': 'effect', 'effect_variance': 'variance', 'p_value': 'p', 'z_score': 'z'}


@pytest.fixture
def nilearn_first_level(run_files, events_pair):
    model = NilearnFirstLevel(t_r=T_R, minimize_memory=False)
    return model.fit([str(p) for p in run_files], events=events_pair)


@pytest.fixture
def nilearn_second_level(effect_files):
    design = pd.DataFrame({'intercept': np.ones(N_SUBJECTS)})
    model = NilearnSecondLevel(minimize_memory=False)
    return model.fit([str(p) for p in effect_files], design_matrix=design)


@pytest.mark.filterwarnings('ignore:Running approximate fixed effects on F statistics:UserWarning')
def test_save_glm_to_bids_writes_a_nilearn_first_level(
    nilearn_first_level, out_dir, extended_schema
):
    saved = save_glm_to_bids(nilearn_first_level, CONTRASTS, out_dir=out_dir)
    names = {str(p.relative_to(out_dir)) for p in saved.files}
    assert 'statmap.json' in names
    assert 'run-2_stat-errorts_statmap.nii.gz' in names
    assert 'contrast-effectsOfInterest_stat-F_statmap.nii.gz' in names
    assert len(names) == 1 + 1 + 2 + 2 * (3 + 2 + 2) + 2 * 5 * 2 + 2  # + report, .bidsignore
    for name, stat_type in (('audio - visual', 't'), ('effects of interest', 'F')):
        label = 'audioMinusVisual' if stat_type == 't' else 'effectsOfInterest'
        per_run = [CONTRASTS[name]] * 2
        maps = nilearn_first_level.compute_contrast(
            per_run, stat_type=stat_type, output_type='all'
        )
        for output, stat in {**OUTPUTS, 'stat': stat_type}.items():
            path = out_dir / f'contrast-{label}_stat-{stat}_statmap.nii.gz'
            np.testing.assert_array_equal(nib.load(path).get_fdata(), maps[output].get_fdata())
    for index, residuals in enumerate(nilearn_first_level.residuals_):
        errorts = nib.load(out_dir / f'run-{index + 1}_stat-errorts_statmap.nii.gz')
        assert errorts.shape == (7, 8, 9, N_SCANS)
        np.testing.assert_allclose(
            errorts.get_fdata(), residuals.get_fdata(), rtol=1e-6, atol=1e-12
        )
    sidecar = json.loads((out_dir / 'contrast-audioMinusVisual_stat-t_statmap.json').read_text())
    assert sidecar['DegreesOfFreedom'] == [2.0 * (N_SCANS - 5)]
    assert sidecar['Contrast']['Weights'] == [1.0, 0.0, -1.0, 0.0, 0.0]
    model = json.loads((out_dir / 'statmap.json').read_text())
    assert model['Estimator'] == 'nilearn.glm.first_level.first_level.FirstLevelModel'
    validation = run_validator(out_dir, extended_schema)
    assert (validation.exit_code, validation.errors) == (0, [])


def test_save_glm_to_bids_writes_a_nilearn_second_level(
    nilearn_second_level, out_dir, extended_schema
):
    saved = save_glm_to_bids(nilearn_second_level, ['intercept'], out_dir=out_dir)
    names = {str(p.relative_to(out_dir)) for p in saved.files}
    assert {'statmap.json', 'design.tsv', 'stat-errorts_statmap.nii.gz', 'mask.nii.gz'} <= names
    maps = nilearn_second_level.compute_contrast('intercept', output_type='all')
    for output, stat in {**OUTPUTS, 'stat': 't'}.items():
        path = out_dir / f'contrast-intercept_stat-{stat}_statmap.nii.gz'
        np.testing.assert_array_equal(nib.load(path).get_fdata(), maps[output].get_fdata())
    assert nib.load(out_dir / 'stat-errorts_statmap.nii.gz').shape == (7, 8, 9, N_SUBJECTS)
    sidecar = json.loads((out_dir / 'contrast-intercept_stat-z_statmap.json').read_text())
    assert sidecar['DegreesOfFreedom'] == [N_SUBJECTS - 1.0]
    validation = run_validator(out_dir, extended_schema)
    assert (validation.exit_code, validation.errors) == (0, [])


def test_save_glm_to_bids_explains_nilearn_default_minimize_memory(
    run_files, events_pair, out_dir
):
    model = NilearnFirstLevel(t_r=T_R).fit([str(p) for p in run_files], events=events_pair)
    with pytest.raises(InvalidParameterError, match='minimize_memory=False'):
        save_glm_to_bids(model, 'audio', out_dir=out_dir)
    assert not out_dir.exists()


def test_save_glm_to_bids_refuses_an_unfitted_nilearn_model(out_dir):
    with pytest.raises(NotFittedError):
        save_glm_to_bids(NilearnFirstLevel(t_r=T_R), 'audio', out_dir=out_dir)
