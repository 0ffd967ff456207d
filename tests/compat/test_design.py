"""The design helpers return what nilearn's return, in the same shapes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import compute_regressor as nilearn_compute_regressor
from nilearn.glm.first_level import make_first_level_design_matrix as nilearn_design
from nilearn.glm.first_level.hemodynamic_models import orthogonalize as nilearn_orthogonalize

from bidsglm import make_first_level_design_matrix
from bidsglm.design.hrf import compute_regressor, orthogonalize

from .conftest import N_SCANS, T_R, make_events

pytestmark = pytest.mark.oracle

FRAME_TIMES = np.arange(N_SCANS) * T_R
CONDITION = (np.array([4.0, 30.0, 51.5]), np.array([3.0, 0.0, 10.0]), np.array([1.0, 2.0, -0.5]))


@pytest.mark.parametrize(
    ('hrf_model', 'fir_delays'),
    [
        ('glover', None),
        ('spm + derivative', None),
        ('glover + derivative + dispersion', None),
        ('fir', [0, 1, 3]),
        (None, None),
    ],
)
def test_compute_regressor_returns_nilearns_array_and_names(hrf_model, fir_delays):
    kwargs = {'con_id': 'task', 'fir_delays': fir_delays}
    values, names = compute_regressor(CONDITION, hrf_model, FRAME_TIMES, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        expected_values, expected_names = nilearn_compute_regressor(
            CONDITION, hrf_model, FRAME_TIMES, **kwargs
        )
    assert type(values) is type(expected_values) is np.ndarray
    assert type(names) is type(expected_names) is list
    assert names == expected_names
    assert values.shape == expected_values.shape
    np.testing.assert_allclose(values, expected_values, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('column', [np.array([3.0, -1.0, 2.5]), np.array([[3.0], [-1.0], [2.5]])])
def test_orthogonalize_returns_a_single_column_as_nilearn(column):
    ours = orthogonalize(column)
    theirs = nilearn_orthogonalize(column.copy())
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_orthogonalize_agrees_with_nilearn_on_several_columns(rng):
    columns = rng.standard_normal((12, 4))
    np.testing.assert_allclose(
        orthogonalize(columns), nilearn_orthogonalize(columns.copy()), rtol=1e-10, atol=1e-12
    )


def test_integer_confound_names_stay_integers_as_in_nilearn(rng):
    confounds = pd.DataFrame(rng.standard_normal((N_SCANS, 2)), columns=[0, 'csf'])
    ours = make_first_level_design_matrix(FRAME_TIMES, make_events(), add_regs=confounds)
    theirs = nilearn_design(FRAME_TIMES, make_events(), add_regs=confounds)
    assert list(ours.columns) == list(theirs.columns)
    assert [type(c) for c in ours.columns] == [type(c) for c in theirs.columns]
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-10, atol=1e-12)
    names = [5, 6]
    ours = make_first_level_design_matrix(
        FRAME_TIMES, add_regs=confounds.to_numpy(), add_reg_names=names
    )
    theirs = nilearn_design(FRAME_TIMES, add_regs=confounds.to_numpy(), add_reg_names=names)
    assert list(ours.columns) == list(theirs.columns)
