"""Our first- and second-level maps equal nilearn 0.14.1's on the same data."""

from __future__ import annotations

import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.glm.second_level import SecondLevelModel as NilearnSecondLevel

from bidsglm import FirstLevelModel, SecondLevelModel
from bidsglm.errors import ContrastError

from .conftest import T_R, make_events, make_run

pytestmark = pytest.mark.oracle

HAXBY = Path(__file__).parents[1] / 'data' / 'haxby'
OUTPUTS = ('effect_size', 'effect_variance', 'stat', 'p_value', 'z_score')


def assert_maps_equal(ours, theirs, rtol):
    """Every map of ``output_type='all'`` agrees, with a floor for values near 0."""
    for name in OUTPUTS:
        mine = ours[name].get_fdata()
        reference = np.asarray(theirs[name].get_fdata())
        assert mine.shape == reference.shape, name
        scale = np.abs(reference).max()
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=rtol * scale, err_msg=name)


def quietly(function, *args, **kwargs):
    """Call nilearn without its warnings (it warns on reusing a contrast over runs)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return function(*args, **kwargs)


def both_first_level(runs, events, **params):
    ours = FirstLevelModel(t_r=T_R, **params).fit(runs, events)
    theirs = NilearnFirstLevel(t_r=T_R, minimize_memory=False, **params).fit(runs, events)
    return ours, theirs


@pytest.mark.parametrize('noise_model', ['ols', 'ar1'])
@pytest.mark.parametrize('n_runs', [1, 2])
def test_first_level_maps_equal_nilearn(rng, noise_model, n_runs):
    events = [make_events(2.0 * i) for i in range(n_runs)]
    runs = [make_run(rng, e) for e in events]
    ours, theirs = both_first_level(runs, events, noise_model=noise_model)
    np.testing.assert_array_equal(ours.mask_img_.get_fdata(), theirs.masker_.mask_img_.get_fdata())
    for mine, reference in zip(ours.design_matrices_, theirs.design_matrices_, strict=True):
        pd.testing.assert_frame_equal(mine, reference, check_exact=False, rtol=1e-10)
    f_test = np.eye(ours.design_matrices_[0].shape[1])[:3]
    for contrast in ('audio - visual', [f_test] * n_runs):
        assert_maps_equal(
            ours.compute_contrast(contrast, output_type='all'),
            quietly(theirs.compute_contrast, contrast, output_type='all'),
            rtol=1e-6,
        )


def test_a_condition_absent_from_one_run_agrees_with_nilearn_where_both_fit(rng):
    events = [make_events(0.0), make_events(2.0)]
    events[1] = events[1][events[1]['trial_type'] != 'motor']  # no motor event in run 2
    runs = [make_run(rng, e) for e in events]
    ours, theirs = both_first_level(runs, events)
    assert 'motor' not in ours.design_matrices_[1]
    assert_maps_equal(
        ours.compute_contrast('audio - visual', output_type='all'),
        quietly(theirs.compute_contrast, 'audio - visual', output_type='all'),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match='motor'):  # both refuse what run 2 lacks
        quietly(theirs.compute_contrast, 'motor - audio')
    with pytest.raises(ContrastError, match=r"^In run 2 of 2: .*'motor', which is not a design"):
        ours.compute_contrast('motor - audio')


def test_first_level_float32_input_agrees_within_1e4(rng):
    events = make_events()
    run = make_run(rng, events, dtype=np.float32)
    ours, theirs = both_first_level(run, events)
    assert_maps_equal(
        ours.compute_contrast('audio', output_type='all'),
        theirs.compute_contrast('audio', output_type='all'),
        rtol=1e-4,
    )


def test_first_level_ols_residuals_and_r_square_equal_nilearn(rng):
    events = make_events()
    run = make_run(rng, events)
    ours, theirs = both_first_level(run, events, noise_model='ols')
    residuals = theirs.residuals_[0].get_fdata()
    np.testing.assert_allclose(
        ours.residuals_[0].get_fdata(), residuals, rtol=1e-5, atol=1e-6 * np.abs(residuals).max()
    )
    np.testing.assert_allclose(
        ours.r_square_[0].get_fdata(),
        theirs.r_square_[0].get_fdata()[..., 0],
        rtol=1e-8,
        atol=1e-12,
    )


def test_first_level_ar1_r_square_equals_nilearn(rng):
    events = make_events()
    run = make_run(rng, events)
    ours, theirs = both_first_level(run, events)
    np.testing.assert_allclose(
        ours.r_square_[0].get_fdata(),
        theirs.r_square_[0].get_fdata()[..., 0],
        rtol=1e-8,
        atol=1e-12,
    )


def test_first_level_smoothing_and_confounds_equal_nilearn(rng):
    events = make_events()
    run = make_run(rng, events)
    confounds = pd.DataFrame(rng.standard_normal((run.shape[3], 2)), columns=['tx', 'ty'])
    ours = FirstLevelModel(t_r=T_R, smoothing_fwhm=5.0).fit(run, events, confounds=confounds)
    theirs = NilearnFirstLevel(t_r=T_R, smoothing_fwhm=5.0, minimize_memory=False).fit(
        run, events, confounds=confounds
    )
    assert list(ours.design_matrices_[0].columns) == list(theirs.design_matrices_[0].columns)
    assert_maps_equal(
        ours.compute_contrast('audio - tx', output_type='all'),
        theirs.compute_contrast('audio - tx', output_type='all'),
        rtol=1e-6,
    )


@pytest.mark.slow
def test_first_level_equals_nilearn_on_real_haxby_runs():
    runs = sorted(HAXBY.glob('*acq-25mm_run-0[12]_bold.nii.gz'))
    events = [str(run).replace('_bold.nii.gz', '_events.tsv') for run in runs]
    assert len(runs) == 2
    ours = FirstLevelModel(t_r=2.5).fit([str(r) for r in runs], events)
    theirs = NilearnFirstLevel(t_r=2.5, minimize_memory=False).fit([str(r) for r in runs], events)
    np.testing.assert_array_equal(ours.mask_img_.get_fdata(), theirs.masker_.mask_img_.get_fdata())
    assert_maps_equal(
        ours.compute_contrast('face - house', output_type='all'),
        quietly(theirs.compute_contrast, 'face - house', output_type='all'),
        rtol=1e-4,
    )
    z = ours.compute_contrast(
        'face + house + cat + bottle + scissors + shoe + chair + scrambledpix'
    )
    assert z.get_fdata().max() > 3  # all stimuli > rest, 2 runs of an 18-voxel mask


def second_level_maps(rng, n_maps=12):
    shape = (6, 7, 5)
    base = rng.standard_normal((n_maps, *shape)) + 0.8
    base[:, :2] = 0.0  # a background border, as a masked first-level map has
    return [nib.Nifti1Image(volume, np.diag([2.0, 2.0, 2.0, 1.0])) for volume in base]


def test_second_level_one_sample_equals_nilearn(rng):
    maps = second_level_maps(rng)
    ours = SecondLevelModel().fit(maps)
    one_sample = pd.DataFrame({'intercept': np.ones(len(maps))})
    theirs = NilearnSecondLevel(minimize_memory=False).fit(maps, design_matrix=one_sample)
    np.testing.assert_array_equal(ours.mask_img_.get_fdata(), theirs.masker_.mask_img_.get_fdata())
    assert_maps_equal(
        ours.compute_contrast(output_type='all'),
        theirs.compute_contrast(output_type='all'),
        rtol=1e-6,
    )


def test_second_level_with_a_covariate_equals_nilearn(rng):
    maps = second_level_maps(rng)
    age = rng.uniform(20, 60, len(maps))
    design = pd.DataFrame({'intercept': np.ones(len(maps)), 'age': age})
    ours = SecondLevelModel().fit(maps, design_matrix=design)
    theirs = NilearnSecondLevel(minimize_memory=False).fit(maps, design_matrix=design)
    for contrast in ('age', 'intercept - 0.5*age'):
        assert_maps_equal(
            ours.compute_contrast(contrast, output_type='all'),
            theirs.compute_contrast(contrast, output_type='all'),
            rtol=1e-6,
        )
    assert_maps_equal(
        ours.compute_contrast(np.eye(2), output_type='all'),
        theirs.compute_contrast(np.eye(2), output_type='all'),
        rtol=1e-6,
    )


def test_second_level_on_first_level_models_equals_nilearn(rng):
    runs = [make_run(rng, make_events()) for _ in range(4)]
    ours_first = [
        FirstLevelModel(t_r=T_R, subject_label=f'{i:02d}').fit(run, make_events())
        for i, run in enumerate(runs)
    ]
    theirs_first = [
        NilearnFirstLevel(t_r=T_R, subject_label=f'{i:02d}').fit(run, make_events())
        for i, run in enumerate(runs)
    ]
    ours = SecondLevelModel().fit(ours_first)
    theirs = NilearnSecondLevel().fit(theirs_first)
    np.testing.assert_array_equal(ours.mask_img_.get_fdata(), theirs.masker_.mask_img_.get_fdata())
    assert_maps_equal(
        ours.compute_contrast(first_level_contrast='audio - visual', output_type='all'),
        theirs.compute_contrast(first_level_contrast='audio - visual', output_type='all'),
        rtol=1e-6,
    )


def test_ar1_residuals_differ_from_nilearn_only_by_its_unwhitened_data_term(rng):
    """nilearn keeps Y - WX beta; we keep WY - WX beta. The gap is Y - WY = rho Y[t-1]."""
    from bidsglm.models._images import apply_mask
    from bidsglm.stats import scale_signal

    events = make_events()
    run = make_run(rng, events)
    ours, theirs = both_first_level(run, events)
    fit = ours.fits_[0]
    signal = scale_signal(apply_mask(run, ours.mask_img_), 0)
    mask = ours.mask_img_.get_fdata().astype(bool)
    their_residuals = theirs.residuals_[0].get_fdata()[mask].T
    our_residuals = fit.residuals.astype(np.float64)
    expected_gap = np.zeros_like(signal)
    expected_gap[1:] = fit.rho[fit.labels] * signal[:-1]
    scale = np.abs(their_residuals).max()
    np.testing.assert_allclose(their_residuals - our_residuals, expected_gap, atol=1e-5 * scale)
    assert np.abs(expected_gap).max() > 0.1 * scale  # the difference is real, not rounding
