import numpy as np
import pytest

from bidsglm.errors import InvalidParameterError, ShapeMismatchError
from bidsglm.stats import regression
from bidsglm.stats.regression import (
    design_rank,
    fit_glm,
    scale_signal,
    whiten_ar1,
    yule_walker_ar1,
)

from .conftest import make_planted_glm


def test_fit_glm_ols_recovers_planted_betas(planted_glm):
    fit = fit_glm(planted_glm.data, planted_glm.design, noise_model='ols')
    # standard error of a block beta with 200 scans and unit noise is about 0.14
    np.testing.assert_allclose(fit.beta, planted_glm.beta, atol=0.5)
    assert fit.dof == 197.0
    assert np.mean(fit.dispersion) == pytest.approx(1.0, abs=0.1)


def test_fit_glm_ols_residuals_are_orthogonal_to_the_design(planted_glm):
    fit = fit_glm(planted_glm.data, planted_glm.design, noise_model='ols')
    np.testing.assert_allclose(planted_glm.design.T @ fit.residuals, 0, atol=1e-2)
    rss = np.sum(fit.residuals.astype(np.float64) ** 2, axis=0)
    np.testing.assert_allclose(fit.dispersion, rss / (200 - 3), rtol=1e-5)


def test_fit_glm_ar1_estimates_the_planted_autocorrelation(rng):
    planted = make_planted_glm(rng, n_scans=400, n_voxels=200, rho=0.4)
    fit = fit_glm(planted.data, planted.design, noise_model='ar1')
    voxel_rho = fit.rho[fit.labels]
    assert np.mean(voxel_rho) == pytest.approx(0.4, abs=0.05)
    np.testing.assert_allclose(fit.beta, planted.beta, atol=0.6)
    # whitened residuals are close to the planted unit-variance innovations
    assert np.mean(fit.dispersion) == pytest.approx(1.0, abs=0.1)


def test_fit_glm_ar1_whitened_residuals_give_the_dispersion(rng):
    planted = make_planted_glm(rng, n_scans=120, n_voxels=30, rho=0.3)
    fit = fit_glm(planted.data, planted.design, noise_model='ar1')
    rss = np.sum(fit.residuals.astype(np.float64) ** 2, axis=0)
    np.testing.assert_allclose(fit.dispersion, rss / (120 - 3), rtol=1e-5)


def test_fit_glm_ar1_groups_share_one_truncated_coefficient(rng):
    planted = make_planted_glm(rng, n_scans=100, n_voxels=80, rho=0.2)
    fit = fit_glm(planted.data, planted.design, noise_model='ar1', bins=10)
    np.testing.assert_allclose(fit.rho * 10, np.round(fit.rho * 10), atol=1e-12)
    assert fit.cov.shape == (fit.rho.size, 3, 3)
    assert set(np.unique(fit.labels)) == set(range(fit.rho.size))


def assert_same_fit(ours, reference):
    """The same groups and coefficients, and every array equal to rounding (1e-12)."""
    np.testing.assert_array_equal(ours.labels, reference.labels)
    np.testing.assert_array_equal(ours.rho, reference.rho)
    for name in ('beta', 'dispersion', 'cov', 'r_square', 'residuals'):
        np.testing.assert_allclose(getattr(ours, name), getattr(reference, name), rtol=1e-12)


@pytest.mark.parametrize('noise_model', ['ols', 'ar1'])
def test_fit_glm_does_not_depend_on_the_blocks(rng, monkeypatch, noise_model):
    planted = make_planted_glm(rng, n_scans=60, n_voxels=150, rho=0.3)
    whole = fit_glm(planted.data, planted.design, noise_model=noise_model)
    monkeypatch.setattr(regression, 'BLOCK_BYTES', 64 * 8 * 60)  # blocks of 64 voxels
    blocks = fit_glm(planted.data, planted.design, noise_model=noise_model)
    assert_same_fit(blocks, whole)


@pytest.mark.parametrize('noise_model', ['ols', 'ar1', 'ar2'])
def test_fit_glm_sliced_products_give_the_same_fit(rng, monkeypatch, noise_model):
    planted = make_planted_glm(rng, n_scans=60, n_voxels=150, rho=0.3)
    whole = fit_glm(planted.data, planted.design, noise_model=noise_model, bins=10)
    monkeypatch.setattr(regression, 'SINGLE_THREAD_PRODUCT', 3 * 60 * 10)  # 10 columns
    sliced = fit_glm(planted.data, planted.design, noise_model=noise_model, bins=10)
    assert_same_fit(sliced, whole)


@pytest.mark.parametrize('noise_model', ['ols', 'ar1', 'ar2'])
def test_fit_glm_keeps_every_product_below_openblas_threading(rng, monkeypatch, noise_model):
    planted = make_planted_glm(rng, n_scans=60, n_voxels=300, rho=0.3)
    sizes = []
    matmul = np.matmul

    def noting_sizes(left, right, *args, **kwargs):
        sizes.append(left.shape[0] * left.shape[1] * right.shape[-1])
        return matmul(left, right, *args, **kwargs)

    monkeypatch.setattr(regression, 'SINGLE_THREAD_PRODUCT', 4 * 60 * 20)  # 20 columns
    monkeypatch.setattr(np, 'matmul', noting_sizes)
    fit_glm(planted.data, planted.design, noise_model=noise_model)
    assert len(sizes) >= 300 // 20  # the refit's products at least, sliced
    assert max(sizes) <= 4 * 60 * 20


def test_product_writes_its_slices_into_out():
    left = np.arange(6.0).reshape(2, 3)
    right = np.arange(12.0).reshape(3, 4)
    out = np.full((3, 4), np.nan)[:2]  # a view, as a block's columns are
    assert regression._product(left, right, out=out) is out
    np.testing.assert_array_equal(out, left @ right)


def _per_voxel_ar1_fit(values, design, rho):
    """The refit of one voxel, written out: whiten, least squares, variances."""
    white_design, white = whiten_ar1(design, rho), whiten_ar1(values, rho)
    beta = np.linalg.pinv(white_design) @ white
    fitted = white_design @ beta
    residuals = white - fitted
    dispersion = residuals @ residuals / (design.shape[0] - design.shape[1])
    return beta, residuals, dispersion, np.var(fitted) / np.var(white)


@pytest.mark.parametrize('rho', [0.3, 0.9, -0.5])
@pytest.mark.parametrize('offset', [0.0, 1e4])  # percent signal change, raw scanner units
def test_fit_glm_ar1_equals_a_per_voxel_refit_with_several_groups(rng, monkeypatch, offset, rho):
    planted = make_planted_glm(rng, n_scans=40, n_voxels=90, rho=rho)
    data = planted.data + offset
    monkeypatch.setattr(regression, 'BLOCK_BYTES', 64 * 8 * 40)  # two blocks
    fit = fit_glm(data, planted.design, noise_model='ar1', bins=10)
    assert fit.rho.size >= 3  # groups of several coefficients, interleaved in the blocks
    for voxel in range(data.shape[1]):
        beta, residuals, dispersion, r_square = _per_voxel_ar1_fit(
            data[:, voxel], planted.design, fit.rho[fit.labels[voxel]]
        )
        np.testing.assert_allclose(fit.beta[:, voxel], beta, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(fit.dispersion[voxel], dispersion, rtol=1e-10)
        np.testing.assert_allclose(fit.r_square[voxel], r_square, rtol=1e-10)
        np.testing.assert_allclose(fit.residuals[:, voxel], residuals, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('offset', [0.0, 1e4])
def test_fit_glm_ols_equals_a_per_voxel_least_squares_fit(rng, offset):
    planted = make_planted_glm(rng, n_scans=40, n_voxels=60)
    data = planted.data + offset
    fit = fit_glm(data, planted.design, noise_model='ols')
    for voxel in range(data.shape[1]):
        beta, residuals, dispersion, r_square = _per_voxel_ar1_fit(
            data[:, voxel], planted.design, 0.0
        )
        np.testing.assert_allclose(fit.beta[:, voxel], beta, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(fit.dispersion[voxel], dispersion, rtol=1e-10)
        np.testing.assert_allclose(fit.r_square[voxel], r_square, rtol=1e-10)
        np.testing.assert_allclose(fit.residuals[:, voxel], residuals, rtol=1e-6, atol=1e-6)


def test_fit_glm_ar1_refit_of_a_rank_deficient_design_is_the_minimum_norm_one(rng):
    planted = make_planted_glm(rng, n_scans=50, n_voxels=40, rho=0.3)
    design = np.column_stack([planted.design, planted.design[:, 0]])  # a column twice
    fit = fit_glm(planted.data, design, noise_model='ar1', bins=10)
    assert fit.dof == 47.0
    for voxel in range(0, 40, 7):
        rho = fit.rho[fit.labels[voxel]]
        white = whiten_ar1(planted.data[:, voxel], rho)
        beta = np.linalg.pinv(whiten_ar1(design, rho)) @ white
        np.testing.assert_allclose(fit.beta[:, voxel], beta, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fit.beta[0], fit.beta[-1], rtol=1e-9)  # split evenly


def test_fit_sorted_gives_each_group_its_model_and_the_centred_variances(rng):
    n_scans = 30
    design = np.column_stack([np.sin(np.arange(n_scans) / 3), np.ones(n_scans)])
    white = rng.standard_normal((n_scans, 7)) + 50.0
    steps = np.array([1, 1, 3, 3, 3, 5, 5])  # sorted: three groups of 2, 3 and 2 voxels
    models = [regression._WhitenedDesign.of(design, step / 10) for step in (1, 3, 5)]
    fit = regression._fit_sorted(white.copy(), steps, models)
    for voxel, model in enumerate([models[0]] * 2 + [models[1]] * 3 + [models[2]] * 2):
        beta = model.pseudo_inverse @ white[:, voxel]
        fitted = model.design @ beta
        np.testing.assert_allclose(fit.beta[:, voxel], beta, rtol=1e-12)
        np.testing.assert_allclose(fit.residuals[:, voxel], white[:, voxel] - fitted, atol=1e-11)
        np.testing.assert_allclose(
            fit.r_square[voxel], np.var(fitted) / np.var(white[:, voxel]), rtol=1e-10
        )


def test_fit_glm_ar1_removes_the_mean_of_all_residuals_as_nilearn(rng):
    planted = make_planted_glm(rng, n_scans=80, n_voxels=40, rho=0.5)
    design = planted.design[:, :2]  # no intercept: the residuals' global mean matters
    fit = fit_glm(planted.data, design, noise_model='ar1')
    residuals = planted.data - design @ (np.linalg.pinv(design) @ planted.data)
    expected = np.trunc(yule_walker_ar1(residuals) * 100) / 100
    np.testing.assert_array_equal(fit.rho[fit.labels], expected)


@pytest.mark.parametrize('name', ['ar0', 'ar', 'arma', 'AR2', 'ar1.5', 'wls'])
def test_fit_glm_rejects_an_unknown_noise_model(planted_glm, name):
    with pytest.raises(InvalidParameterError, match=rf"'noise_model'.*'ols' or 'ar<p>'.*'{name}'"):
        fit_glm(planted_glm.data, planted_glm.design, noise_model=name)


def test_fit_glm_rejects_an_ar_order_not_below_the_scans(planted_glm):
    with pytest.raises(InvalidParameterError, match=r'AR\(200\) model needs more scans'):
        fit_glm(planted_glm.data, planted_glm.design, noise_model='ar200')


def make_ar2_noise(rng, n_scans, n_voxels, rho):
    """AR(2) noise of coefficients ``rho`` (lag 1 first), with a burn-in."""
    innovations = rng.standard_normal((n_scans + 100, n_voxels))
    noise = np.zeros_like(innovations)
    for t in range(2, n_scans + 100):
        noise[t] = rho[0] * noise[t - 1] + rho[1] * noise[t - 2] + innovations[t]
    return noise[100:]


def test_fit_glm_ar2_recovers_the_planted_coefficients_and_betas(rng):
    planted = make_planted_glm(rng, n_scans=400, n_voxels=300)
    noise = make_ar2_noise(rng, 400, 300, (0.5, -0.3))
    data = planted.design @ planted.beta + noise
    fit = fit_glm(data, planted.design, noise_model='ar2', bins=20)
    assert fit.rho.shape == (fit.cov.shape[0], 2)
    assert fit.rho.shape[0] <= 20
    np.testing.assert_allclose(fit.rho[fit.labels].mean(axis=0), [0.5, -0.3], atol=0.03)
    np.testing.assert_allclose(fit.beta, planted.beta, atol=0.5)
    # the whitened residuals are the unit-variance innovations
    assert np.mean(fit.dispersion) == pytest.approx(1.0, abs=0.1)
    rss = np.sum(fit.residuals.astype(np.float64) ** 2, axis=0)
    np.testing.assert_allclose(fit.dispersion, rss / (400 - 3), rtol=1e-5)


def test_fit_glm_ar2_whitens_each_group_with_its_coefficients(rng):
    planted = make_planted_glm(rng, n_scans=60, n_voxels=30)
    data = planted.data + make_ar2_noise(rng, 60, 30, (0.3, 0.2))
    fit = fit_glm(data, planted.design, noise_model='ar2')  # 30 voxels <= 100 bins
    for group, rho in enumerate(fit.rho):
        voxels = fit.labels == group
        white_design = planted.design.copy()
        white_design[1:] -= rho[0] * planted.design[:-1]
        white_design[2:] -= rho[1] * planted.design[:-2]
        white_data = data[:, voxels].copy()
        white_data[1:] -= rho[0] * data[:-1, voxels]
        white_data[2:] -= rho[1] * data[:-2, voxels]
        beta, *_ = np.linalg.lstsq(white_design, white_data, rcond=None)
        np.testing.assert_allclose(fit.beta[:, voxels], beta, rtol=1e-8)
        np.testing.assert_allclose(
            fit.cov[group], np.linalg.inv(white_design.T @ white_design), rtol=1e-8
        )


@pytest.mark.parametrize('noise_model', ['ar2', 'ar3'])
def test_fit_glm_ar_p_does_not_depend_on_the_blocks(rng, monkeypatch, noise_model):
    planted = make_planted_glm(rng, n_scans=60, n_voxels=150, rho=0.3)
    whole = fit_glm(planted.data, planted.design, noise_model=noise_model, bins=10)
    monkeypatch.setattr(regression, 'BLOCK_BYTES', 64 * 8 * 60)
    blocks = fit_glm(planted.data, planted.design, noise_model=noise_model, bins=10)
    np.testing.assert_array_equal(blocks.labels, whole.labels)
    np.testing.assert_array_equal(blocks.rho, whole.rho)
    np.testing.assert_allclose(blocks.beta, whole.beta, rtol=1e-12)


def test_fit_glm_ar2_with_a_seed_repeats_and_other_seeds_may_differ(rng):
    planted = make_planted_glm(rng, n_scans=80, n_voxels=400, rho=0.3)
    first = fit_glm(planted.data, planted.design, 'ar2', bins=8, random_state=3)
    again = fit_glm(planted.data, planted.design, 'ar2', bins=8, random_state=3)
    default = fit_glm(planted.data, planted.design, 'ar2', bins=8)
    np.testing.assert_array_equal(first.rho, again.rho)
    np.testing.assert_array_equal(first.labels, again.labels)
    np.testing.assert_array_equal(
        default.rho, fit_glm(planted.data, planted.design, 'ar2', bins=8).rho
    )


def test_fit_glm_rejects_a_design_of_another_length(planted_glm):
    with pytest.raises(ShapeMismatchError, match='199 rows but the data have 200 scans'):
        fit_glm(planted_glm.data, planted_glm.design[:-1], noise_model='ols')


def test_design_rank_counts_collinear_columns_once():
    design = np.column_stack([np.arange(10.0), 2 * np.arange(10.0), np.ones(10)])
    assert design_rank(design) == 2


def test_whiten_ar1_keeps_the_first_row():
    values = np.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(whiten_ar1(values, 0.5), [[1.0, 2.0], [2.5, 4.0]])


def test_yule_walker_ar1_of_white_noise_is_near_zero(rng):
    rho = yule_walker_ar1(rng.standard_normal((2000, 5)))
    np.testing.assert_allclose(rho, 0, atol=0.08)


def test_scale_signal_gives_percent_change_around_zero():
    data = np.array([[90.0, 0.2], [110.0, 0.6]], dtype=np.float32)
    scaled = scale_signal(data, 0)
    assert scaled.dtype == np.float32
    # the second voxel's mean 0.4 is clipped to 1
    np.testing.assert_allclose(scaled, [[-10.0, -80.0], [10.0, -40.0]], rtol=1e-6)


def test_scale_signal_in_place_gives_the_same_numbers(rng):
    data = (100 + rng.standard_normal((30, 7))).astype(np.float32)
    expected = scale_signal(data, 0)
    scaled = scale_signal(data, 0, copy=False)
    assert scaled is data
    np.testing.assert_array_equal(scaled, expected)


def test_scale_signal_in_place_leaves_integers_alone():
    data = np.array([[90, 2], [110, 6]])
    scaled = scale_signal(data, 0, copy=False)
    assert scaled.dtype == np.float64
    assert data[0, 0] == 90


def test_scale_signal_false_leaves_data_alone():
    data = np.ones((3, 2))
    assert scale_signal(data, False) is data


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize(('n_scans', 'n_columns'), [(2, 1), (17, 3), (200, 2)])
def test_fit_ols_equals_the_blockwise_ols_fit(dtype, n_scans, n_columns):
    from bidsglm.stats import fit_ols

    rng = np.random.default_rng(n_scans)
    design = np.column_stack([np.ones(n_scans), rng.standard_normal((n_scans, n_columns - 1))])
    data = (3.0 + rng.standard_normal((n_scans, 2500))).astype(dtype)
    ours, reference = fit_ols(data, design), fit_glm(data, design, noise_model='ols')
    for name in ('beta', 'dispersion', 'r_square', 'cov', 'rho', 'labels'):  # betas near 0
        np.testing.assert_allclose(
            getattr(ours, name), getattr(reference, name), rtol=1e-10, atol=1e-14
        )
    np.testing.assert_allclose(ours.residuals, reference.residuals, rtol=1e-6, atol=1e-6)
    assert ours.dof == reference.dof
    assert ours.residuals.dtype == np.float32


@pytest.mark.parametrize('n_columns', [1, 3])
def test_fit_ols_equals_least_squares_written_out(n_columns):
    from bidsglm.stats import fit_ols

    rng = np.random.default_rng(n_columns)
    design = np.column_stack([np.ones(40), rng.normal(50, 10, (40, n_columns - 1))])
    data = (2.0 + rng.standard_normal((40, 300))).astype(np.float32)
    values = data.astype(np.float64)
    beta = np.linalg.lstsq(design, values, rcond=None)[0]
    fitted = design @ beta
    residuals = values - fitted
    fit = fit_ols(data, design)
    np.testing.assert_allclose(fit.beta, beta, rtol=1e-10, atol=1e-12)
    dispersion = (residuals**2).sum(axis=0) / (40 - n_columns)
    np.testing.assert_allclose(fit.dispersion, dispersion, rtol=1e-10)
    expected_r2 = np.var(fitted, axis=0) / np.var(values, axis=0)
    np.testing.assert_allclose(fit.r_square, expected_r2, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(fit.residuals, residuals, rtol=1e-6, atol=1e-6)


def test_fit_ols_without_residuals_gives_the_same_fit_and_none_of_them():
    from bidsglm.stats import fit_ols

    rng = np.random.default_rng(4)
    design = np.column_stack([np.ones(30), rng.standard_normal(30)])
    data = (1.0 + rng.standard_normal((30, 400))).astype(np.float32)
    whole, bare = fit_ols(data, design), fit_ols(data, design, keep_residuals=False)
    for name in ('beta', 'dispersion', 'r_square', 'cov'):
        np.testing.assert_array_equal(getattr(bare, name), getattr(whole, name))
    assert bare.residuals.shape == (30, 0)
    assert bare.residuals.dtype == np.float32
