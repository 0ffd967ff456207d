"""Tests of bidsglm.design.drift: cosine, polynomial and constant-only drifts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from nilearn.glm.first_level import make_first_level_design_matrix as nilearn_design

from bidsglm.design import DRIFT_MODELS
from bidsglm.design.drift import make_drift
from bidsglm.errors import InvalidParameterError


def test_drift_models_registry_has_the_nilearn_names() -> None:
    assert set(DRIFT_MODELS) == {'cosine', 'polynomial', None}


@pytest.mark.parametrize(('n_scans', 'n_cosines'), [(60, 2), (200, 8)])
def test_cosine_drift_count_follows_high_pass(n_scans, n_cosines) -> None:
    # K = floor(2 n high_pass dt): 2 * 60 * 0.01 * 2 = 2.4 and 2 * 200 * 0.01 * 2 = 8
    drifts = make_drift(np.arange(n_scans) * 2.0, 'cosine', high_pass=0.01)
    assert list(drifts.columns) == [f'drift_{k}' for k in range(1, n_cosines + 1)] + ['constant']


def test_cosine_drift_columns_are_orthonormal_and_end_with_ones() -> None:
    drifts = make_drift(np.arange(100) * 1.5, 'cosine', high_pass=0.02).to_numpy()
    cosines = drifts[:, :-1]
    np.testing.assert_allclose(cosines.T @ cosines, np.eye(cosines.shape[1]), atol=1e-12)
    np.testing.assert_allclose(cosines.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_array_equal(drifts[:, -1], 1.0)


def test_cosine_drift_first_column_is_the_dct_ii_basis() -> None:
    times = np.arange(50) * 2.0
    drifts = make_drift(times, 'cosine', high_pass=0.01)
    t = np.arange(50)
    np.testing.assert_allclose(
        drifts['drift_1'], np.sqrt(2 / 50) * np.cos(np.pi / 50 * (t + 0.5)), rtol=1e-13
    )


def test_cosine_drift_warns_at_the_nyquist_frequency() -> None:
    with pytest.warns(UserWarning, match='Nyquist'):
        drifts = make_drift(np.arange(10) * 2.0, 'cosine', high_pass=0.3)
    assert drifts.shape == (10, 10)  # n - 1 cosines and the constant


def test_polynomial_drift_is_orthogonal_powers_then_constant() -> None:
    times = np.arange(40) * 2.5
    drifts = make_drift(times, 'polynomial', drift_order=3)
    assert list(drifts.columns) == ['drift_1', 'drift_2', 'drift_3', 'constant']
    values = drifts.to_numpy()
    gram = values.T @ values
    np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0.0, atol=1e-10)
    scaled = times / times.max()
    np.testing.assert_allclose(drifts['drift_1'], scaled - scaled.mean(), atol=1e-13)
    np.testing.assert_array_equal(drifts['constant'], 1.0)


def test_polynomial_drift_of_order_zero_is_the_constant() -> None:
    drifts = make_drift(np.arange(5.0), 'polynomial', drift_order=0)
    assert list(drifts.columns) == ['constant']


def test_no_drift_is_the_constant_alone() -> None:
    drifts = make_drift(np.arange(5) * 2.0, None)
    assert list(drifts.columns) == ['constant']
    assert drifts.index.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_drift_model_is_case_insensitive() -> None:
    assert make_drift(np.arange(30.0), 'Cosine').shape == make_drift(np.arange(30.0)).shape


def test_unknown_drift_model_lists_the_names() -> None:
    with pytest.raises(
        InvalidParameterError,
        match=r"'drift_model' parameter of make_drift must be one of "
        r"\['cosine', 'polynomial', None\]",
    ):
        make_drift(np.arange(10.0), 'spline')


@pytest.mark.parametrize('high_pass', [0, -1, np.nan, None])
def test_non_positive_high_pass_is_refused(high_pass) -> None:
    with pytest.raises(InvalidParameterError, match=r"'high_pass'.*\(0, inf\)\. Got"):
        make_drift(np.arange(10.0), 'cosine', high_pass=high_pass)


@pytest.mark.parametrize('drift_order', [-1, 1.5, True])
def test_bad_drift_order_is_refused(drift_order) -> None:
    with pytest.raises(InvalidParameterError, match=r"'drift_order'.*\[0, inf\)"):
        make_drift(np.arange(10.0), 'polynomial', drift_order=drift_order)


def test_polynomial_drift_refuses_frame_times_ending_at_zero() -> None:
    with pytest.raises(InvalidParameterError, match='last one, which is 0 s'):
        make_drift(np.array([-2.0, -1.0, 0.0]), 'polynomial')


@pytest.mark.oracle
@pytest.mark.parametrize(
    ('drift_model', 'kwargs'),
    [
        ('cosine', {'high_pass': 0.01}),
        ('cosine', {'high_pass': 0.033}),
        ('polynomial', {'drift_order': 3}),
        ('polynomial', {'drift_order': 5}),
        (None, {}),
    ],
)
@pytest.mark.parametrize('frame_times', [np.arange(60) * 2.0, (np.arange(121) + 0.5) * 2.5])
def test_make_drift_matches_nilearn(drift_model, kwargs, frame_times) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        expected = nilearn_design(frame_times, drift_model=drift_model, **kwargs)
    ours = make_drift(frame_times, drift_model, **kwargs)
    assert list(ours.columns) == list(expected.columns)
    np.testing.assert_allclose(ours.to_numpy(), expected.to_numpy(), rtol=1e-10, atol=1e-12)
