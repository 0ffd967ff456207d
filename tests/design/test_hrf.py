"""Tests of bidsglm.design.hrf: HRF kernels, the registry and one condition's regressors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from nilearn.glm.first_level import compute_regressor as nilearn_compute_regressor
from nilearn.glm.first_level import hemodynamic_models as nilearn_hrf
from scipy import stats

from bidsglm.design import HRF_MODELS
from bidsglm.design.hrf import (
    compute_regressor,
    glover_dispersion_derivative,
    glover_hrf,
    glover_time_derivative,
    orthogonalize,
    spm_dispersion_derivative,
    spm_hrf,
    spm_time_derivative,
)
from bidsglm.errors import InvalidParameterError, ShapeMismatchError

KERNELS = {
    'glover_hrf': glover_hrf,
    'spm_hrf': spm_hrf,
    'glover_time_derivative': glover_time_derivative,
    'spm_time_derivative': spm_time_derivative,
    'glover_dispersion_derivative': glover_dispersion_derivative,
    'spm_dispersion_derivative': spm_dispersion_derivative,
}
FRAME_TIMES = np.arange(40) * 2.0
BLOCK = ([20.0], [10.0], [1.0])


def test_hrf_models_registry_has_the_nilearn_names() -> None:
    assert set(HRF_MODELS) == {
        'glover',
        'spm',
        'glover + derivative',
        'spm + derivative',
        'glover + derivative + dispersion',
        'spm + derivative + dispersion',
        'fir',
        None,
    }


@pytest.mark.parametrize('kernel', [glover_hrf, spm_hrf])
def test_canonical_hrf_sums_to_one_and_peaks_near_5_s(kernel) -> None:
    values = kernel(t_r=2.0, oversampling=50)
    step = 2.0 / 50
    assert values.size == 800  # 32 s / 0.04 s
    assert values.sum() == pytest.approx(1.0, abs=1e-12)
    assert 4.5 < values.argmax() * step < 5.5
    assert values[0] == 0.0


def test_glover_hrf_follows_the_gamma_difference_recipe() -> None:
    # REFERENCE-nilearn 10.1: gamma(6/0.9, scale 0.9) - 0.48 gamma(12/0.9, scale 0.9),
    # both shifted by one step, on round(32/dt) points over [0, 32] s, summing to 1.
    step = 2.5 / 50
    times = np.linspace(0, 32, round(32 / step))
    peak = stats.gamma.pdf(times, 6 / 0.9, loc=step, scale=0.9)
    undershoot = stats.gamma.pdf(times, 12 / 0.9, loc=step, scale=0.9)
    expected = (peak - 0.48 * undershoot) / (peak - 0.48 * undershoot).sum()
    np.testing.assert_allclose(glover_hrf(2.5), expected, rtol=1e-12, atol=1e-15)
    assert glover_hrf(2.5).min() < 0  # the undershoot


def test_hrf_onset_delays_the_kernel() -> None:
    plain, late = glover_hrf(2.0, 50), glover_hrf(2.0, 50, onset=2.0)
    shift = late.argmax() - plain.argmax()
    assert shift == 50  # 2 s at 0.04 s per sample


@pytest.mark.parametrize(
    ('derivative', 'canonical'),
    [(glover_time_derivative, glover_hrf), (spm_time_derivative, spm_hrf)],
)
def test_time_derivative_is_a_finite_difference(derivative, canonical) -> None:
    expected = (canonical(2.0, 16) - canonical(2.0, 16, onset=0.1)) / 0.1
    np.testing.assert_allclose(derivative(2.0, 16), expected, rtol=1e-12, atol=1e-15)
    assert derivative(2.0, 16).sum() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize('name', sorted(KERNELS))
def test_kernel_refuses_non_positive_t_r(name) -> None:
    with pytest.raises(InvalidParameterError, match=r"'t_r' parameter.*\(0, inf\)\. Got 0"):
        KERNELS[name](0)


@pytest.mark.oracle
@pytest.mark.parametrize('name', sorted(KERNELS))
@pytest.mark.parametrize(('t_r', 'oversampling', 'onset'), [(2.0, 50, 0.0), (0.72, 16, 0.5)])
def test_kernel_matches_nilearn(name, t_r, oversampling, onset) -> None:
    ours = KERNELS[name](t_r, oversampling, 32.0, onset)
    theirs = getattr(nilearn_hrf, name)(t_r, oversampling, 32.0, onset)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_orthogonalize_removes_projections_on_earlier_columns(rng) -> None:
    columns = rng.normal(size=(30, 3))
    result = orthogonalize(columns)
    np.testing.assert_array_equal(result[:, 0], columns[:, 0])
    gram = result.T @ result
    np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0.0, atol=1e-12)
    # the span of the first two columns is kept
    _, residual, *_ = np.linalg.lstsq(columns[:, :2], result[:, 1], rcond=None)
    assert residual[0] == pytest.approx(0.0, abs=1e-20)


def test_orthogonalize_returns_a_1d_array_unchanged_as_a_copy() -> None:
    column = np.array([1, 2, 4])
    result = orthogonalize(column)
    np.testing.assert_array_equal(result, [1.0, 2.0, 4.0])
    assert result.dtype == np.float64
    assert result is not column


def test_orthogonalize_refuses_3d_input() -> None:
    with pytest.raises(ShapeMismatchError, match=r'2D array .* got 3 dimension'):
        orthogonalize(np.ones((4, 2, 2)))


def test_orthogonalize_leaves_its_input_unchanged(rng) -> None:
    columns = rng.normal(size=(10, 3))
    before = columns.copy()
    orthogonalize(columns)
    np.testing.assert_array_equal(columns, before)


def _column(regressors: tuple[np.ndarray, list[str]], name: str) -> np.ndarray:
    values, names = regressors
    return values[:, names.index(name)]


def test_compute_regressor_returns_an_array_and_the_names() -> None:
    values, names = compute_regressor(BLOCK, 'glover + derivative', FRAME_TIMES, con_id='t')
    assert isinstance(values, np.ndarray)
    assert values.shape == (FRAME_TIMES.size, 2)
    assert names == ['t', 't_derivative']


def test_compute_regressor_block_rises_after_onset() -> None:
    values = _column(compute_regressor(BLOCK, 'glover', FRAME_TIMES, con_id='task'), 'task')
    assert (values[FRAME_TIMES <= 21.0] == 0.0).all()  # nothing before the onset (20 s)
    assert values[FRAME_TIMES == 24.0] > 0.1
    assert FRAME_TIMES[values.argmax()] == 30.0  # the response lags the block by about 5 s
    assert values[FRAME_TIMES == 38.0] < values[FRAME_TIMES == 28.0]


def test_compute_regressor_without_hrf_samples_the_boxcar() -> None:
    values = _column(compute_regressor(BLOCK, None, FRAME_TIMES, con_id='raw'), 'raw')
    on = (FRAME_TIMES >= 20.0) & (FRAME_TIMES < 30.0)
    np.testing.assert_allclose(values[on], 1.0)
    np.testing.assert_allclose(values[~on], 0.0)


def test_compute_regressor_modulation_scales_the_regressor() -> None:
    unit = _column(compute_regressor(BLOCK, 'spm', FRAME_TIMES), 'cond')
    doubled = _column(compute_regressor(([20.0], [10.0], [-2.0]), 'spm', FRAME_TIMES), 'cond')
    np.testing.assert_allclose(doubled, -2.0 * unit)


@pytest.mark.parametrize(
    ('model', 'names'),
    [
        ('glover', ['c']),
        ('spm + derivative', ['c', 'c_derivative']),
        ('glover + derivative + dispersion', ['c', 'c_derivative', 'c_dispersion']),
        ('fir', ['c_delay_0', 'c_delay_2']),
        (None, ['c']),
    ],
)
def test_compute_regressor_names_each_regressor(model, names) -> None:
    _, given = compute_regressor(BLOCK, model, FRAME_TIMES, con_id='c', fir_delays=[0, 2])
    assert given == names


def test_compute_regressor_derivatives_are_orthogonal_to_the_response() -> None:
    values, _ = compute_regressor(BLOCK, 'spm + derivative + dispersion', FRAME_TIMES)
    assert abs(values[:, 0] @ values[:, 1]) < 1e-12
    assert abs(values[:, 0] @ values[:, 2]) < 1e-12
    assert abs(values[:, 1] @ values[:, 2]) < 1e-12


def test_compute_regressor_fir_delay_shifts_by_whole_scans() -> None:
    regressors = compute_regressor(BLOCK, 'fir', FRAME_TIMES, fir_delays=[0, 1, 3])
    first = _column(regressors, 'cond_delay_0')
    np.testing.assert_allclose(_column(regressors, 'cond_delay_1')[1:], first[:-1])
    np.testing.assert_allclose(_column(regressors, 'cond_delay_3')[3:], first[:-3])
    assert first.max() == pytest.approx(1.0)


def test_compute_regressor_is_case_insensitive() -> None:
    upper, _ = compute_regressor(BLOCK, 'Glover', FRAME_TIMES)
    lower, _ = compute_regressor(BLOCK, 'glover', FRAME_TIMES)
    np.testing.assert_array_equal(upper, lower)


def test_compute_regressor_accepts_a_callable_hrf() -> None:
    custom, custom_names = compute_regressor(BLOCK, glover_hrf, FRAME_TIMES, con_id='c')
    named, _ = compute_regressor(BLOCK, 'glover', FRAME_TIMES, con_id='c')
    assert custom_names == ['c_glover_hrf']
    np.testing.assert_allclose(custom, named, rtol=1e-12)
    _, pair = compute_regressor(BLOCK, [spm_hrf, spm_time_derivative], FRAME_TIMES, con_id='c')
    assert pair == ['c_spm_hrf', 'c_spm_time_derivative']


def test_compute_regressor_callable_with_wrong_signature_is_refused() -> None:
    def one_argument(t_r: float) -> np.ndarray:
        return np.ones(3)

    with pytest.raises(InvalidParameterError, match=r"'one_argument'.*hrf\(t_r="):
        compute_regressor(BLOCK, one_argument, FRAME_TIMES)


def test_compute_regressor_unknown_model_lists_the_registry() -> None:
    with pytest.raises(
        InvalidParameterError, match=r"'hrf_model'.*'glover'.*'fir', None"
    ) as caught:
        compute_regressor(BLOCK, 'canonical', FRAME_TIMES)
    assert "Got 'canonical' instead" in str(caught.value)


@pytest.mark.parametrize(
    ('kwargs', 'pattern'),
    [
        ({'oversampling': 0}, r"'oversampling'.*\[1, inf\)\. Got 0"),
        ({'oversampling': 2.5}, "'oversampling'.*Got 2.5"),
        ({'fir_delays': [-1]}, "'fir_delays'.*non-negative"),
        ({'fir_delays': [1.5]}, "'fir_delays'"),
        ({'fir_delays': [0, 0]}, "'fir_delays'.*distinct"),
        ({'fir_delays': []}, "'fir_delays'.*non-empty"),
        ({'min_onset': 5.0}, r"'min_onset'.*\(-inf, 0\]"),
    ],
)
def test_compute_regressor_refuses_bad_parameters(kwargs, pattern) -> None:
    with pytest.raises(InvalidParameterError, match=pattern):
        compute_regressor(BLOCK, 'fir', FRAME_TIMES, **kwargs)


@pytest.mark.parametrize(
    ('frame_times', 'pattern'),
    [
        ([0.0, 2.0, 2.0, 4.0], r'strictly increasing.*frames 1 and 2 are 0 s apart'),
        ([4.0, 2.0, 0.0], r'frames 0 and 1 are -2 s apart'),
        ([0.0], 'at least 2'),
        ([0.0, np.nan, 4.0], 'finite'),
    ],
)
def test_compute_regressor_refuses_bad_frame_times(frame_times, pattern) -> None:
    with pytest.raises(InvalidParameterError, match=pattern):
        compute_regressor(BLOCK, 'glover', frame_times)


def test_compute_regressor_refuses_uneven_event_rows() -> None:
    with pytest.raises(ShapeMismatchError, match='three rows'):
        compute_regressor(([0.0, 1.0], [1.0], [1.0]), 'glover', FRAME_TIMES)


def test_compute_regressor_warns_about_events_before_the_model() -> None:
    with pytest.warns(UserWarning, match="'early'.*before -24 s"):
        compute_regressor(([-30.0], [10.0], [1.0]), 'glover', FRAME_TIMES, con_id='early')


@pytest.mark.oracle
@pytest.mark.parametrize('model', [name for name in HRF_MODELS])
@pytest.mark.parametrize('oversampling', [50, 16, 1])
def test_compute_regressor_matches_nilearn(model, oversampling, rng) -> None:
    frame_times = (np.arange(50) + 0.5) * 1.5
    onsets = np.sort(rng.uniform(-5, 70, 9)).round(1)
    durations = rng.choice([0.0, 0.5, 3.0, 12.0], 9)
    amplitudes = rng.normal(size=9)
    condition = (onsets, durations, amplitudes)
    kwargs = {'fir_delays': [0, 1, 2], 'oversampling': oversampling, 'min_onset': -10}
    ours, our_names = compute_regressor(condition, model, frame_times, con_id='x', **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        values, names = nilearn_compute_regressor(
            condition, model, frame_times, con_id='x', **kwargs
        )
    assert our_names == names
    np.testing.assert_allclose(ours, values, rtol=1e-10, atol=1e-12)
