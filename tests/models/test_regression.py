"""RegressionResults, run_labels and run_results: nilearn's view of a fit, planted truths."""

from __future__ import annotations

import numpy as np
import pytest

from bidsglm import FirstLevelModel, SecondLevelModel
from bidsglm.errors import ContrastError, NotFittedError
from bidsglm.models.regression import (
    RegressionResults,
    _ar_filter,
    _ar_unfilter,
    run_labels,
    run_results,
)
from bidsglm.stats import GLMFit, fit_glm

from .conftest import T_R

N = 40


def design_of(rng):
    return np.column_stack([rng.standard_normal(N), np.linspace(-1, 1, N), np.ones(N)])


def ar1_noise(rng, rho, n_voxels):
    noise = np.empty((N, n_voxels))
    noise[0] = rng.standard_normal(n_voxels)
    for t in range(1, N):
        noise[t] = rho * noise[t - 1] + rng.standard_normal(n_voxels)
    return noise


def test_ols_results_are_the_least_squares_fit(rng):
    design = design_of(rng)
    beta = np.array([[2.0, -1.0], [0.5, 0.0], [10.0, 3.0]])
    data = design @ beta + rng.standard_normal((N, 2))
    result = run_results(fit_glm(data, design, 'ols'), design, 'ols')[0.0]
    expected, *_ = np.linalg.lstsq(design, data, rcond=None)
    np.testing.assert_allclose(result.theta, expected, rtol=1e-10)
    residuals = data - design @ expected
    np.testing.assert_allclose(result.predicted, design @ expected, rtol=1e-10)
    np.testing.assert_allclose(result.residuals, residuals, atol=1e-6)
    np.testing.assert_allclose(result.Y, data, rtol=1e-6)
    np.testing.assert_allclose(result.SSE, (residuals**2).sum(0), rtol=1e-10)
    assert (result.df_total, result.df_model, result.df_residuals) == (N, 3, N - 3)
    np.testing.assert_allclose(result.MSE, result.SSE / (N - 3), rtol=1e-12)
    np.testing.assert_allclose(result.dispersion, result.MSE, rtol=1e-12)
    np.testing.assert_allclose(
        result.normalized_residuals, residuals / np.sqrt(result.MSE), atol=1e-6
    )
    np.testing.assert_allclose(result.cov, np.linalg.inv(design.T @ design), rtol=1e-10)
    r_square = np.var(design @ expected, axis=0) / np.var(data, axis=0)
    np.testing.assert_allclose(result.r_square, r_square, rtol=1e-10)
    assert result.nuisance is None


def test_ar1_results_rebuild_the_data_from_whitened_residuals(rng):
    design = design_of(rng)
    data = design @ np.array([[1.0], [2.0], [50.0]]) + ar1_noise(rng, 0.5, 300)
    fit = fit_glm(data, design, 'ar1')
    results = run_results(fit, design, 'ar1')
    labels = run_labels(fit, 'ar1')
    assert len(results) > 1
    for label, result in results.items():
        voxels = labels == label
        rho = float(label)
        white = design.copy()
        white[1:] -= rho * design[:-1]
        np.testing.assert_allclose(result.whitened_design, white, rtol=1e-14)
        np.testing.assert_allclose(result.predicted, white @ result.theta, rtol=1e-12)
        np.testing.assert_allclose(result.Y, data[:, voxels], rtol=1e-5, atol=1e-5)
        whitened_data = data[:, voxels].copy()
        whitened_data[1:] -= rho * data[:-1, voxels]
        np.testing.assert_allclose(result.whitened_Y, whitened_data, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(
            result.residuals, data[:, voxels] - result.predicted, rtol=1e-5, atol=1e-5
        )
        np.testing.assert_allclose(result.SSE, (result.whitened_residuals**2).sum(0), rtol=1e-6)


def planted_fit(rho, labels):
    """A fit of one column whose groups have the given AR coefficients."""
    n_voxels = len(labels)
    return GLMFit(
        beta=np.arange(float(n_voxels))[None],
        dispersion=np.ones(n_voxels),
        labels=np.asarray(labels),
        rho=np.asarray(rho, dtype=np.float64),
        cov=np.ones((len(rho), 1, 1)),
        dof=9.0,
        residuals=np.zeros((10, n_voxels), np.float32),
        r_square=np.zeros(n_voxels),
    )


def test_labels_are_nilearn_texts_sorted_as_text():
    fit = planted_fit(np.array([-10, -2, 0, 10, 25]) / 100, [4, 0, 1, 2, 3, 1])
    labels = run_labels(fit, 'ar1')
    assert labels.tolist() == ['0.25', '-0.1', '-0.02', '0.0', '0.1', '-0.02']
    results = run_results(fit, np.ones((10, 1)), 'ar1')
    assert list(results) == ['-0.02', '-0.1', '0.0', '0.1', '0.25']  # text order, as np.unique
    assert results['-0.02'].theta.tolist() == [[2.0, 5.0]]
    assert run_labels(fit, 'ols').tolist() == [0.0] * 6


def test_a_real_ar1_fit_labels_each_voxel_with_its_coefficient(rng):
    design = design_of(rng)
    data = np.concatenate([ar1_noise(rng, rho, 40) for rho in (-0.3, 0.05, 0.6)], axis=1)
    fit = fit_glm(data, design, 'ar1')
    labels = run_labels(fit, 'ar1')
    assert labels.dtype.kind == 'U'
    np.testing.assert_array_equal(labels.astype(float), fit.rho[fit.labels])
    assert labels[:40].astype(float).mean() < 0 < labels[80:].astype(float).mean() - 0.3


def test_labels_of_higher_order_groups_join_rounded_coefficients():
    fit = planted_fit([[0.123, -0.456], [0.5, 0.25]], [1, 0, 1])
    assert run_labels(fit, 'ar2').tolist() == ['0.5_0.25', '0.12_-0.46', '0.5_0.25']
    results = run_results(fit, np.ones((10, 1)), 'ar2')
    assert list(results) == ['0.12_-0.46', '0.5_0.25']
    assert results['0.5_0.25'].dispersion.tolist() == [1.0, 1.0]


def test_ar_filter_is_undone_by_the_unfilter(rng):
    values = rng.standard_normal((30, 4))
    rho = np.array([0.4, -0.2, 0.1])
    white = _ar_filter(values, rho)
    expected = values.copy()
    for lag, coefficient in enumerate(rho, start=1):
        expected[lag:] -= coefficient * values[:-lag]
    np.testing.assert_allclose(white, expected, rtol=1e-14)
    np.testing.assert_allclose(_ar_unfilter(white, rho), values, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(_ar_filter(values, 0.0), values)


def test_vcov_t_and_f_contrasts(rng):
    design = design_of(rng)
    data = design @ np.array([[1.0, 0.0], [2.0, 0.5], [5.0, 5.0]]) + rng.standard_normal((N, 2))
    result = run_results(fit_glm(data, design, 'ols'), design, 'ols')[0.0]
    weights = np.array([1.0, -1.0, 0.0])
    effect = weights @ result.theta
    variance = weights @ result.cov @ weights * result.dispersion
    t_test = result.Tcontrast(weights)
    np.testing.assert_allclose(t_test.effect, effect, rtol=1e-12)
    np.testing.assert_allclose(t_test.sd, np.sqrt(variance), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(t_test), effect / np.sqrt(variance), rtol=1e-12)
    assert t_test.df_den == N - 3
    f_test = result.Fcontrast(weights)
    np.testing.assert_allclose(np.asarray(f_test), np.asarray(t_test) ** 2, rtol=1e-10)
    assert (f_test.df_num, f_test.df_den, f_test.covariance.shape) == (1, N - 3, (1, 1, 2))
    two = result.Fcontrast(np.eye(3)[:2])
    assert two.effect.shape == (2, 2)
    np.testing.assert_allclose(result.vcov(column=1), result.cov[1, 1] * result.dispersion)
    two_columns = result.vcov(column=[0, 2], dispersion=2.0)
    np.testing.assert_allclose(two_columns, 2 * result.cov[::2, ::2])
    assert result.vcov().shape == (3, 3, 2)
    np.testing.assert_allclose(
        result.vcov(matrix=weights[None], dispersion=1.0),
        [[weights @ result.cov @ weights]],
        rtol=1e-12,
    )


def test_contrasts_of_the_wrong_shape_are_refused(rng):
    design = design_of(rng)
    result = run_results(fit_glm(rng.standard_normal((N, 2)), design, 'ols'), design, 'ols')[0.0]
    with pytest.raises(ContrastError, match=r'must have 3 columns.*got shape \(2,\)'):
        result.Tcontrast([1.0, 0.0])
    with pytest.raises(ContrastError, match='one row; got 2'):
        result.Tcontrast(np.eye(3)[:2])
    with pytest.raises(ContrastError, match='must have 3 columns'):
        result.Fcontrast(np.eye(4))


def test_results_compute_their_arrays_once_and_keep_only_those_read(rng):
    design = design_of(rng)
    result = RegressionResults(fit_glm(rng.standard_normal((N, 3)), design, 'ar1'), design, 0)
    assert result.residuals is result.residuals
    kept = {'residuals', 'Y', 'whitened_Y', 'whitened_residuals', 'predicted'} & set(vars(result))
    assert kept == {'residuals'}
    np.testing.assert_allclose(
        result.normalized_residuals * np.sqrt(result.dispersion), result.residuals, rtol=1e-12
    )


# ---------------------------------------------------------------- in the models
def test_first_level_labels_and_results_follow_its_fits(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R).fit([run, run], [events, events])
    assert len(model.labels_) == len(model.results_) == 2
    fit = model.fits_[0]
    assert model.labels_[0].tolist() == [str(fit.rho[g]) for g in fit.labels]
    theta = np.empty_like(fit.beta)
    for label, result in model.results_[0].items():
        theta[:, model.labels_[0] == label] = result.theta
    np.testing.assert_array_equal(theta, fit.beta)
    ols = FirstLevelModel(t_r=T_R, noise_model='ols').fit(run, events)
    assert list(ols.results_[0]) == [0.0]
    np.testing.assert_array_equal(ols.results_[0][0.0].theta, ols.fits_[0].beta)


def test_labels_and_results_need_a_fitted_model(rng):
    model = FirstLevelModel()
    for name in ('labels_', 'results_', 'masker_'):
        assert not hasattr(model, name)
    with pytest.raises(NotFittedError, match='not fitted yet'):
        _ = model.results_
    group = SecondLevelModel()
    with pytest.raises(NotFittedError):
        _ = group.labels_
