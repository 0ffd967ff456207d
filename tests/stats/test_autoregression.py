import numpy as np
import pytest
from scipy.linalg import toeplitz

from bidsglm.errors import InvalidParameterError
from bidsglm.stats.autoregression import (
    ar_label,
    ar_order,
    group_ar_coefficients,
    whiten_ar,
    yule_walker,
)
from bidsglm.stats.regression import whiten_ar1, yule_walker_ar1


@pytest.mark.parametrize(('name', 'order'), [('ols', 0), ('ar1', 1), ('ar2', 2), ('ar12', 12)])
def test_ar_order_reads_the_name(name, order):
    assert ar_order(name) == order


@pytest.mark.parametrize('name', ['ar0', 'ar-1', 'ar', 'arx', 'AR1', 'ols2', 3])
def test_ar_order_refuses_other_names(name):
    with pytest.raises(InvalidParameterError, match=r"'ols' or 'ar<p>'"):
        ar_order(name)


def simulate_ar(rng, rho, n_scans, n_voxels):
    innovations = rng.standard_normal((n_scans + 200, n_voxels))
    series = np.zeros_like(innovations)
    for t in range(len(rho), n_scans + 200):
        series[t] = innovations[t] + sum(
            coefficient * series[t - lag] for lag, coefficient in enumerate(rho, start=1)
        )
    return series[200:]


@pytest.mark.parametrize('rho', [(0.6, -0.3), (0.2, 0.1, 0.3)])
def test_yule_walker_recovers_planted_coefficients(rng, rho):
    series = simulate_ar(rng, rho, 4000, 20)
    estimate = yule_walker(series, len(rho))
    assert estimate.shape == (20, len(rho))
    np.testing.assert_allclose(estimate.mean(axis=0), rho, atol=0.02)


def test_yule_walker_solves_nilearns_equations(rng):
    residuals = rng.standard_normal((50, 4))
    centred = residuals - residuals.mean()
    n = 50
    for voxel, estimate in enumerate(yule_walker(residuals, 3)):
        lags = [
            np.sum(centred[: n - k, voxel] * centred[k:, voxel]) / ((n - k) * n) for k in range(4)
        ]
        expected = np.linalg.solve(toeplitz(lags[:3]), lags[1:])
        np.testing.assert_allclose(estimate, expected, rtol=1e-12)


def test_yule_walker_of_order_one_is_the_ar1_estimate(rng):
    residuals = rng.standard_normal((40, 6))
    np.testing.assert_allclose(yule_walker(residuals, 1)[:, 0], yule_walker_ar1(residuals))


def test_yule_walker_removes_the_given_mean_not_each_columns(rng):
    residuals = rng.standard_normal((30, 3)) + 5.0
    np.testing.assert_allclose(
        yule_walker(residuals, 2, mean=5.0), yule_walker(residuals - 5.0, 2, mean=0.0)
    )


def test_yule_walker_gives_zero_for_a_flat_column():
    residuals = np.zeros((10, 2))
    residuals[:, 1] = np.arange(10.0) - 4.5
    estimate = yule_walker(residuals, 2, mean=0.0)
    np.testing.assert_array_equal(estimate[0], [0.0, 0.0])
    assert np.all(np.isfinite(estimate[1]))


def test_whiten_ar_subtracts_each_lag_where_available():
    values = np.array([[1.0], [2.0], [4.0], [8.0]])
    white = whiten_ar(values, [0.5, 0.25])
    np.testing.assert_allclose(white[:, 0], [1.0, 2.0 - 0.5, 4.0 - 1.0 - 0.25, 8.0 - 2.0 - 0.5])


def test_whiten_ar_with_one_coefficient_is_whiten_ar1(rng):
    values = rng.standard_normal((12, 3))
    np.testing.assert_array_equal(whiten_ar(values, 0.3), whiten_ar1(values, 0.3))


def test_whiten_ar_undoes_the_ar_filter(rng):
    rho = (0.4, -0.2, 0.1)
    innovations = rng.standard_normal((30, 2))
    series = np.zeros_like(innovations)
    for t in range(30):
        series[t] = innovations[t] + sum(
            c * series[t - lag] for lag, c in enumerate(rho, start=1) if t >= lag
        )
    np.testing.assert_allclose(whiten_ar(series, rho), innovations, atol=1e-12)


def test_ar_label_rounds_to_two_decimals_and_keeps_the_sign_of_zero():
    assert ar_label([0.123, -0.456]) == '0.12_-0.46'
    assert ar_label(np.array([-0.001, 0.0])) == '-0.0_0.0'


def test_group_ar_coefficients_keeps_each_voxel_when_bins_allow():
    coefficients = np.array([[0.5, 0.1], [0.2, 0.2], [0.5, 0.1001], [0.31, -0.2]])
    groups, table = group_ar_coefficients(coefficients, bins=4)
    # voxels 0 and 2 share the label '0.5_0.1': one group, whitened by voxel 0's values
    assert groups.tolist() == [2, 0, 2, 1]
    np.testing.assert_array_equal(table, [[0.2, 0.2], [0.31, -0.2], [0.5, 0.1]])


def test_group_ar_coefficients_clusters_into_at_most_bins_groups(rng):
    centres = np.array([[0.5, -0.2], [0.1, 0.1], [-0.3, 0.25]])
    coefficients = np.repeat(centres, 50, axis=0) + 0.01 * rng.standard_normal((150, 2))
    groups, table = group_ar_coefficients(coefficients, bins=3)
    assert table.shape == (3, 2)
    for index, centre in enumerate(centres):
        members = groups[index * 50 : (index + 1) * 50]
        assert np.unique(members).size == 1
        np.testing.assert_allclose(table[members[0]], centre, atol=0.005)
