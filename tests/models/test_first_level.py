import warnings

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm import FirstLevelModel
from bidsglm.errors import (
    ContrastError,
    EventsError,
    ImageDimensionError,
    InvalidParameterError,
    NotFittedError,
    ParameterTypeError,
    ShapeMismatchError,
)
from bidsglm.models import select_runs

from .conftest import AFFINE, N_SCANS, SHAPE, T_R, brain_mask, make_events, make_run

OUTPUTS = ('z_score', 'stat', 'p_value', 'effect_size', 'effect_variance')


# ----------------------------------------------------------------- planted truth
def test_fit_recovers_the_planted_effect(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R, mask_img=False, noise_model='ols').fit(run, events)
    z = model.compute_contrast('audio').get_fdata()
    effect = model.compute_contrast('audio', output_type='effect_size').get_fdata()
    inside = brain_mask()
    planted = inside.copy()
    planted[:, 4:] = False
    # 3 % signal change planted; the design's 'audio' column peaks near 1
    assert np.median(effect[planted]) == pytest.approx(3.0, abs=0.6)
    assert np.median(z[planted]) > 3
    assert abs(np.median(z[inside & ~planted])) < 1


def test_fit_returns_self_and_sets_fitted_attributes(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R)
    assert model.fit(run, events) is model
    assert [list(d.columns)[:3] for d in model.design_matrices_] == [['audio', 'motor', 'visual']]
    assert model.mask_img_.get_fdata().sum() > 0
    assert model.residuals_[0].shape == (*SHAPE, N_SCANS)
    assert model.r_square_[0].shape == SHAPE
    assert model.run_sources_ == [None]


def test_fit_twice_gives_the_same_maps(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R).fit(run, events)
    first = model.compute_contrast('audio - visual').get_fdata()
    second = model.fit(run, events).compute_contrast('audio - visual').get_fdata()
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize('n_jobs', [2, -1])
def test_fit_runs_on_threads_gives_the_same_fit(two_runs, n_jobs):
    runs, events = two_runs
    serial = FirstLevelModel(t_r=T_R).fit(runs, events)
    threaded = FirstLevelModel(t_r=T_R, n_jobs=n_jobs).fit(runs, events)
    for ours, theirs in zip(threaded.fits_, serial.fits_, strict=True):
        np.testing.assert_array_equal(ours.beta, theirs.beta)
        np.testing.assert_array_equal(ours.residuals, theirs.residuals)
    np.testing.assert_array_equal(threaded.mean_img_.get_fdata(), serial.mean_img_.get_fdata())
    np.testing.assert_array_equal(
        threaded.compute_contrast('audio').get_fdata(),
        serial.compute_contrast('audio').get_fdata(),
    )


def test_mean_img_is_the_mean_over_time_inside_the_mask_averaged_over_runs(two_runs):
    runs, events = two_runs
    model = FirstLevelModel(
        t_r=T_R, mask_img=nib.Nifti1Image(brain_mask().astype(np.uint8), AFFINE)
    )
    mean = model.fit(runs, events).mean_img_.get_fdata()
    expected = np.mean([run.get_fdata().mean(axis=3) for run in runs], axis=0)
    np.testing.assert_allclose(mean[brain_mask()], expected[brain_mask()], rtol=1e-6)
    assert not mean[~brain_mask()].any()
    assert model.mean_img_.get_data_dtype() == np.float32


def test_select_runs_is_the_model_of_those_runs_without_fitting_again(two_runs):
    runs, events = two_runs
    both = FirstLevelModel(t_r=T_R, mask_img=brain_mask_image()).fit(runs, events)
    second = select_runs(both, [1])
    alone = FirstLevelModel(t_r=T_R, mask_img=brain_mask_image()).fit(runs[1], events[1])
    for output in OUTPUTS:
        np.testing.assert_array_equal(
            second.compute_contrast('audio - visual', output_type=output).get_fdata(),
            alone.compute_contrast('audio - visual', output_type=output).get_fdata(),
        )
    np.testing.assert_array_equal(second.mean_img_.get_fdata(), alone.mean_img_.get_fdata())
    assert second.design_matrices_[0] is both.design_matrices_[1]
    assert second.get_params() == both.get_params()
    fitted = ('fir_delays_', 'standardize_', 'memory_', 'masker_', 'mask_img_', 'n_elements_')
    assert all(getattr(second, name) is getattr(both, name) for name in fitted)
    # the fixed effects of the views are the model's
    np.testing.assert_array_equal(
        select_runs(both, [0, 1]).compute_contrast('audio').get_fdata(),
        both.compute_contrast('audio').get_fdata(),
    )


def test_select_runs_refuses_runs_the_model_does_not_have(two_runs):
    runs, events = two_runs
    model = FirstLevelModel(t_r=T_R, mask_img=False).fit(runs, events)
    with pytest.raises(InvalidParameterError, match=r'runs among 0..1 of the model; got \[2\]'):
        select_runs(model, [2])
    with pytest.raises(NotFittedError):
        select_runs(FirstLevelModel(), [0])


def brain_mask_image() -> nib.Nifti1Image:
    return nib.Nifti1Image(brain_mask().astype(np.uint8), AFFINE)


def test_fit_leaves_parameters_unchanged(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R, fir_delays=[0, 1])
    before = model.get_params()
    model.fit(run, events)
    assert model.get_params() == before


def test_repr_shows_changed_parameters_sorted_by_name():
    assert repr(FirstLevelModel(t_r=2.0, noise_model='ols')) == (
        "FirstLevelModel(noise_model='ols', t_r=2.0)"
    )


def test_compute_contrast_f_of_one_row_is_t_squared(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R).fit(run, events)
    t = model.compute_contrast('audio', output_type='stat').get_fdata()
    f = model.compute_contrast('audio', stat_type='F', output_type='stat').get_fdata()
    np.testing.assert_allclose(f, t**2, rtol=1e-10, atol=1e-12)


def test_compute_contrast_all_gives_five_maps_and_4d_effect_for_f(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R).fit(run, events)
    maps = model.compute_contrast('audio, visual', output_type='all')
    assert sorted(maps) == sorted(OUTPUTS)
    assert maps['effect_size'].shape == (*SHAPE, 2)
    assert maps['stat'].shape == SHAPE


def test_compute_contrast_result_keeps_weights_and_dof(two_runs):
    runs, events = two_runs
    model = FirstLevelModel(t_r=T_R).fit(runs, events)
    result = model.compute_contrast_result('2*audio - visual')
    n_columns = model.design_matrices_[0].shape[1]
    assert result.stat_type == 't'
    assert result.dof == 2 * (N_SCANS - n_columns)
    np.testing.assert_array_equal(result.weights[0][0, :3], [2.0, 0.0, -1.0])


def test_residuals_are_whitened_and_give_the_error_variance(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R).fit(run, events)
    fit = model.fits_[0]
    rss = np.sum(fit.residuals.astype(np.float64) ** 2, axis=0)
    n_columns = model.design_matrices_[0].shape[1]
    np.testing.assert_allclose(fit.dispersion, rss / (N_SCANS - n_columns), rtol=1e-5)


# ------------------------------------------------------------------- bad input
def test_fit_rejects_a_3d_run(one_run):
    run, events = one_run
    volume = nib.Nifti1Image(run.get_fdata()[..., 0], AFFINE)
    with pytest.raises(ImageDimensionError, match='4D'):
        FirstLevelModel(t_r=T_R).fit(volume, events)


def test_fit_rejects_runs_on_different_grids(rng):
    events = make_events()
    run = make_run(rng, events)
    shifted = nib.Nifti1Image(run.get_fdata(), AFFINE @ np.diag([2.0, 1, 1, 1]))
    with pytest.raises(ShapeMismatchError, match='run 2'):
        FirstLevelModel(t_r=T_R).fit([run, shifted], [events, events])


def test_fit_rejects_events_without_onset(one_run):
    run, events = one_run
    with pytest.raises(EventsError, match='onset'):
        FirstLevelModel(t_r=T_R).fit(run, events.drop(columns='onset'))


def test_fit_rejects_negative_durations(one_run):
    run, events = one_run
    events = events.assign(duration=-1.0)
    with pytest.raises(EventsError, match='duration'):
        FirstLevelModel(t_r=T_R).fit(run, events)


def test_fit_rejects_a_different_number_of_runs_and_events(two_runs):
    runs, events = two_runs
    with pytest.raises(ShapeMismatchError, match='1 events were given for 2 runs'):
        FirstLevelModel(t_r=T_R).fit(runs, events[:1])


def test_fit_rejects_confounds_of_another_length(one_run):
    run, events = one_run
    confounds = pd.DataFrame({'motion': np.zeros(N_SCANS - 2)})
    with pytest.raises(ShapeMismatchError, match=f'{N_SCANS - 2} rows but the run has {N_SCANS}'):
        FirstLevelModel(t_r=T_R).fit(run, events, confounds=confounds)


def test_fit_names_the_confounds_column_that_holds_text(one_run):
    run, events = one_run
    confounds = pd.DataFrame({'motion': np.zeros(N_SCANS), 'note': ['moved'] * N_SCANS})
    expected = (
        r"^The confounds of run 1: column 'note' holds text that is not a number at rows \[0, 1,"
    )
    with pytest.raises(InvalidParameterError, match=expected):
        FirstLevelModel(t_r=T_R).fit(run, events, confounds=confounds)


def test_fit_names_the_confounds_file_that_holds_text(one_run, tmp_path):
    run, events = one_run
    path = tmp_path / 'confounds.tsv'
    motion = np.zeros(N_SCANS).astype(str).astype(object)
    motion[7] = 'oops'
    pd.DataFrame({'motion': motion}).to_csv(path, sep='\t', index=False)
    with pytest.raises(InvalidParameterError) as caught:
        FirstLevelModel(t_r=T_R).fit([run, run], [events, events], confounds=[path, path])
    assert str(caught.value).startswith(f"The confounds of run 1 ('{path}'): column 'motion'")
    assert "at rows [7] (index labels; for a file, 0-based data rows), such as 'oops'" in str(
        caught.value
    )


def test_fit_names_a_damaged_run_file(one_run, tmp_path):
    run, events = one_run
    path = tmp_path / 'sub-01_task-x_bold.nii.gz'
    run.to_filename(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for mask_img in (None, nib.Nifti1Image(brain_mask().astype(np.uint8), AFFINE)):
        with pytest.raises(InvalidParameterError, match=f"Cannot read the data of '{path}'"):
            FirstLevelModel(t_r=T_R, mask_img=mask_img).fit(str(path), events)


def test_fit_names_the_design_file_and_columns_with_missing_values(one_run, tmp_path):
    run, events = one_run
    design = FirstLevelModel(t_r=T_R).fit(run, events).design_matrices_[0]
    design.loc[design.index[3], 'visual'] = np.nan
    path = tmp_path / 'design.tsv'
    design.to_csv(path, sep='\t', index=False, na_rep='n/a')
    expected = rf"^The design matrix of run 1 \('{path}'\) holds missing values .*\['visual'\]"
    with pytest.raises(InvalidParameterError, match=expected):
        FirstLevelModel(mask_img=False).fit(run, design_matrices=path)


def test_fit_names_the_design_column_that_holds_text(one_run):
    run, _ = one_run
    design = pd.DataFrame({'task': ['0.5'] * (N_SCANS - 1) + ['on'], 'constant': 1.0})
    expected = r"^The design matrix of run 1: column 'task' holds text .* \[47\].*'on'; design"
    with pytest.raises(ParameterTypeError, match=expected):
        FirstLevelModel(mask_img=False).fit(run, design_matrices=design)


def test_fit_keeps_a_ready_made_design_as_given(one_run):
    run, _ = one_run
    design = pd.DataFrame({'task': np.arange(N_SCANS) % 2, 'constant': 1})  # integers
    model = FirstLevelModel(mask_img=False).fit(run, design_matrices=[design])
    assert model.design_matrices_[0] is design


def test_fit_takes_a_1d_confounds_array_as_one_column(one_run):
    run, events = one_run
    drift = np.linspace(-1.0, 1.0, N_SCANS) ** 3
    model = FirstLevelModel(t_r=T_R).fit(run, events, confounds=drift)
    design = model.design_matrices_[0]
    assert list(design.columns)[3:5] == ['confound_0', 'drift_1']
    np.testing.assert_array_equal(design['confound_0'], drift)


def test_fit_refuses_a_3d_confounds_array(one_run):
    run, events = one_run
    with pytest.raises(ParameterTypeError, match='got 3 dimensions'):
        FirstLevelModel(t_r=T_R).fit(run, events, confounds=np.ones((N_SCANS, 2, 2)))


def test_fit_rejects_a_design_of_another_length(one_run):
    run, _ = one_run
    design = pd.DataFrame({'constant': np.ones(N_SCANS + 1)})
    with pytest.raises(ShapeMismatchError, match=f'{N_SCANS + 1} rows'):
        FirstLevelModel().fit(run, design_matrices=design)


@pytest.mark.parametrize('t_r', [0.0, -2.0])
def test_fit_rejects_a_non_positive_t_r(one_run, t_r):
    run, events = one_run
    with pytest.raises(
        InvalidParameterError, match=r"'t_r' parameter of FirstLevelModel .*\(0, inf\)"
    ):
        FirstLevelModel(t_r=t_r).fit(run, events)


@pytest.mark.parametrize('n_jobs', [0, 1.5, True, '2'])
def test_fit_rejects_an_n_jobs_that_is_not_a_non_zero_int(one_run, n_jobs):
    run, events = one_run
    with pytest.raises(InvalidParameterError, match=r"'n_jobs' parameter .* non-zero int"):
        FirstLevelModel(t_r=T_R, n_jobs=n_jobs).fit(run, events)


def test_fit_needs_events_or_designs(one_run):
    run, _ = one_run
    with pytest.raises(InvalidParameterError, match='needs events or design_matrices'):
        FirstLevelModel(t_r=T_R).fit(run, confounds=np.ones((N_SCANS, 1)))


@pytest.mark.parametrize(
    ('bins', 'error'), [('10', ParameterTypeError), (0, InvalidParameterError)]
)
def test_fit_refuses_bins_that_are_not_a_positive_int(one_run, bins, error):
    run, events = one_run
    with pytest.raises(error, match=r"'bins' parameter of FirstLevelModel\.fit must be an int"):
        FirstLevelModel(t_r=T_R).fit(run, events, bins=bins)


def test_fit_takes_slice_time_ref_none_only_with_ready_made_designs(one_run):
    run, events = one_run
    design = FirstLevelModel(t_r=T_R).fit(run, events).design_matrices_[0]
    model = FirstLevelModel(slice_time_ref=None, mask_img=False).fit(run, design_matrices=design)
    assert model.design_matrices_[0] is design
    with pytest.raises(InvalidParameterError, match=r"'slice_time_ref' .* to build designs"):
        FirstLevelModel(t_r=T_R, slice_time_ref=None).fit(run, events)


def test_fit_needs_t_r_for_events(one_run):
    run, events = one_run
    with pytest.raises(InvalidParameterError, match=r't_r=2\.0'):
        FirstLevelModel().fit(run, events)


def test_fit_rejects_an_unknown_hrf_model(one_run):
    run, events = one_run
    with pytest.raises(InvalidParameterError, match='glover'):
        FirstLevelModel(t_r=T_R, hrf_model='canonical').fit(run, events)


def test_fit_rejects_an_unknown_drift_model(one_run):
    run, events = one_run
    with pytest.raises(InvalidParameterError, match='cosine'):
        FirstLevelModel(t_r=T_R, drift_model='spline').fit(run, events)


@pytest.mark.parametrize('noise_model', ['ar0', 'arma', 'wls'])
def test_fit_rejects_an_unknown_noise_model(one_run, noise_model):
    run, events = one_run
    with pytest.raises(InvalidParameterError, match=rf"'noise_model'.*'ar<p>'.*'{noise_model}'"):
        FirstLevelModel(t_r=T_R, noise_model=noise_model).fit(run, events)


def test_fit_ar2_labels_and_predictions_use_each_groups_coefficients(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R, noise_model='ar2', mask_img=False).fit(run, events)
    fit = model.fits_[0]
    assert fit.rho.shape[1] == 2
    labels = model.labels_[0]
    assert all(label.count('_') == 1 for label in labels)
    design = model.design_matrices_[0].to_numpy()
    predicted = model.predicted_[0].get_fdata()[model.mask_img_.get_fdata() > 0].T
    for group, rho in enumerate(fit.rho):
        white = design.copy()
        white[1:] -= rho[0] * design[:-1]
        white[2:] -= rho[1] * design[:-2]
        voxels = fit.labels == group
        np.testing.assert_allclose(predicted[:, voxels], white @ fit.beta[:, voxels], atol=1e-10)
        result = model.results_[0][labels[np.flatnonzero(voxels)[0]]]
        np.testing.assert_allclose(result.whitened_design, white, rtol=1e-14)


def test_fit_ar2_does_not_depend_on_n_jobs_with_a_generator(one_run):
    run, events = one_run
    fits = [
        FirstLevelModel(
            t_r=T_R, noise_model='ar2', n_jobs=n_jobs, random_state=np.random.default_rng(1)
        ).fit([run, run], [events, events], bins=5)
        for n_jobs in (1, 2)
    ]
    for one, two in zip(fits[0].fits_, fits[1].fits_, strict=True):
        np.testing.assert_array_equal(one.rho, two.rho)
        np.testing.assert_array_equal(one.beta, two.beta)


def test_compute_contrast_before_fit_is_an_error():
    with pytest.raises(NotFittedError, match='not fitted yet'):
        FirstLevelModel(t_r=T_R).compute_contrast('audio')


def test_compute_contrast_rejects_unknown_columns(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R).fit(run, events)
    with pytest.raises(ContrastError, match=r"'audoi'.*audio"):
        model.compute_contrast('audoi - visual')


def test_compute_contrast_rejects_a_vector_of_the_wrong_length(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R).fit(run, events)
    with pytest.raises(ContrastError, match='3 weights'):
        model.compute_contrast(np.array([1.0, 0.0, 0.0]))


def test_compute_contrast_rejects_an_all_zero_contrast(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R).fit(run, events)
    n_columns = model.design_matrices_[0].shape[1]
    with pytest.raises(ContrastError, match='zero'):
        model.compute_contrast(np.zeros(n_columns))


def test_a_run_of_zeros_is_left_out_and_its_weights_are_kept(two_runs):
    runs, events = two_runs
    model = FirstLevelModel(t_r=T_R).fit(runs, events)
    alone = FirstLevelModel(t_r=T_R, mask_img=model.mask_img_).fit(runs[0], events[0])
    width = model.design_matrices_[0].shape[1]
    with pytest.warns(UserWarning, match=r'^The contrast is all zeros for run\(s\) \[2\] of 2'):
        result = model.compute_contrast_result(['audio', np.zeros(width)])
    expected = alone.compute_contrast_result('audio')
    assert result.dof == expected.dof
    np.testing.assert_allclose(result.stat, expected.stat, rtol=1e-10)
    np.testing.assert_array_equal(result.weights[1], np.zeros((1, width)))
    assert result.weights[0][0, list(model.design_matrices_[0].columns).index('audio')] == 1.0


def test_compute_contrast_result_does_not_warn_about_a_reused_contrast(two_runs):
    runs, events = two_runs
    model = FirstLevelModel(t_r=T_R).fit(runs, events)
    width = model.design_matrices_[0].shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        model.compute_contrast_result(np.eye(width)[0])
        model.compute_contrast(['audio - visual'])  # an expression: read per run
    with pytest.warns(RuntimeWarning, match='same contrast weights are used for all 2 runs'):
        model.compute_contrast(np.eye(width)[0])


def test_compute_contrast_definitions_not_one_per_run_are_refused(two_runs):
    runs, events = two_runs
    model = FirstLevelModel(t_r=T_R).fit(runs, events)
    with pytest.raises(ShapeMismatchError, match='3 contrast definitions were given for 2 runs'):
        model.compute_contrast(['audio', 'visual', 'audio'])


def test_compute_contrast_rejects_a_non_estimable_contrast(one_run):
    run, events = one_run
    base = FirstLevelModel(t_r=T_R).fit(run, events).design_matrices_[0]
    design = base.assign(audio_copy=base['audio'])
    model = FirstLevelModel(mask_img=False).fit(run, design_matrices=design)
    with pytest.raises(ContrastError, match='estimable'):
        model.compute_contrast('audio - audio_copy')


def test_compute_contrast_names_the_run_where_a_condition_has_no_event(two_runs):
    runs, events = two_runs
    late = events[1].copy()
    late.loc[late['trial_type'] == 'motor', 'onset'] += N_SCANS * T_R  # after run 2 ends
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the design of run 2 is singular
        model = FirstLevelModel(t_r=T_R).fit(runs, [events[0], late])
    model.compute_contrast('audio - visual')  # what run 2 can estimate still works
    with pytest.raises(ContrastError) as caught:
        model.compute_contrast('motor - audio')
    message = str(caught.value)
    assert message.startswith("In run 2 of 2: The contrast 'motor - audio' is not estimable")
    assert "the columns ['motor'], which are zero in every row" in message


def test_compute_contrast_rejects_an_unknown_output_type(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R).fit(run, events)
    with pytest.raises(InvalidParameterError, match=r"'output_type'.*'beta'"):
        model.compute_contrast('audio', output_type='beta')


def test_compute_contrast_rejects_t_on_several_rows(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R).fit(run, events)
    with pytest.raises(ContrastError, match='2 rows'):
        model.compute_contrast('audio, visual', stat_type='t')


def test_fit_prints_nothing(one_run, capsys):
    run, events = one_run
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        FirstLevelModel(t_r=T_R).fit(run, events).compute_contrast('audio')
    assert capsys.readouterr() == ('', '')
