import numpy as np
import pytest
from scipy import stats as sps

from bidsglm.errors import ContrastError
from bidsglm.stats.contrasts import ContrastStats, compute_contrast_stats, fixed_effects
from bidsglm.stats.regression import fit_glm

from .conftest import make_planted_glm


def test_t_contrast_has_the_planted_sign_and_size(planted_glm):
    fit = fit_glm(planted_glm.data, planted_glm.design, noise_model='ols')
    stats = compute_contrast_stats(fit, np.array([1.0, 0.0, 0.0]))
    assert stats.stat_type == 't'
    np.testing.assert_allclose(stats.effect[0], planted_glm.beta[0], atol=0.5)
    # the largest planted beta is 3 with a standard error near 0.14
    assert stats.stat[-1] > 15
    assert abs(stats.stat[0]) < 4


def test_t_contrast_variance_is_c_cov_c_times_dispersion(planted_glm):
    fit = fit_glm(planted_glm.data, planted_glm.design, noise_model='ols')
    c = np.array([1.0, -1.0, 0.0])
    stats = compute_contrast_stats(fit, c)
    x_pinv = np.linalg.pinv(planted_glm.design)
    expected = c @ x_pinv @ x_pinv.T @ c * fit.dispersion
    np.testing.assert_allclose(stats.variance, expected, rtol=1e-10)


def test_f_of_one_row_is_t_squared(planted_glm):
    fit = fit_glm(planted_glm.data, planted_glm.design, noise_model='ar1')
    c = np.array([0.0, 1.0, 0.0])
    t = compute_contrast_stats(fit, c)
    f = compute_contrast_stats(fit, c, stat_type='F')
    np.testing.assert_allclose(f.stat, t.stat**2, rtol=1e-10)
    p_f, _ = f.p_and_z()
    two_sided = 2 * sps.t.sf(np.abs(t.stat), t.dof)
    np.testing.assert_allclose(p_f, two_sided, rtol=1e-6)


def test_f_contrast_equals_the_quadratic_form(planted_glm):
    fit = fit_glm(planted_glm.data, planted_glm.design, noise_model='ols')
    c = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    f = compute_contrast_stats(fit, c)
    assert f.stat_type == 'F'
    cb = c @ fit.beta
    middle = np.linalg.inv(c @ fit.cov[0] @ c.T)
    expected = np.einsum('iv,ij,jv->v', cb, middle, cb) / 2 / fit.dispersion
    np.testing.assert_allclose(f.stat, expected, rtol=1e-10)


def test_t_on_several_rows_is_an_error(planted_glm):
    fit = fit_glm(planted_glm.data, planted_glm.design, noise_model='ols')
    with pytest.raises(ContrastError, match='has 2 rows; ask for an F-test'):
        compute_contrast_stats(fit, np.eye(3)[:2], stat_type='t')


def test_contrast_of_the_wrong_width_is_an_error(planted_glm):
    fit = fit_glm(planted_glm.data, planted_glm.design, noise_model='ols')
    with pytest.raises(ContrastError, match='2 weights per row but the design has 3 columns'):
        compute_contrast_stats(fit, np.array([1.0, 0.0]))


def test_fixed_effects_of_two_runs_doubles_the_dof_and_halves_the_variance(rng):
    runs = [make_planted_glm(rng, n_scans=100, n_voxels=20) for _ in range(2)]
    fits = [fit_glm(run.data, run.design, noise_model='ols') for run in runs]
    per_run = [compute_contrast_stats(fit, np.array([1.0, 0.0, 0.0])) for fit in fits]
    combined = fixed_effects(per_run)
    assert combined.dof == 2 * 97
    np.testing.assert_allclose(combined.effect, (per_run[0].effect + per_run[1].effect) / 2)
    np.testing.assert_allclose(combined.variance, (per_run[0].variance + per_run[1].variance) / 4)


def test_contrast_stats_floor_the_variance():
    stats = ContrastStats(np.array([[1.0]]), np.array([0.0]), 10.0, 't')
    assert stats.stat[0] == pytest.approx(1e25)
