"""First-level contrasts over several runs: reuse, per-run lists, runs left out."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel

from bidsglm import FirstLevelModel
from bidsglm.errors import ContrastError

from .conftest import T_R, assert_maps_equal, make_events, make_run, quietly, recording, warned

pytestmark = pytest.mark.oracle

REUSED = 'The same contrast will be used for all'


@pytest.fixture
def fitted(rng, mask_img):
    """bidsglm's and nilearn's models of the same three runs."""
    runs = [make_run(rng) for _ in range(3)]
    events = [make_events(2.0 * i) for i in range(3)]
    ours = FirstLevelModel(t_r=T_R, mask_img=mask_img, noise_model='ols').fit(runs, events)
    theirs = quietly(
        NilearnFirstLevel(t_r=T_R, mask_img=mask_img, noise_model='ols').fit, runs, events
    )
    return ours, theirs


def _width(model) -> int:
    return model.design_matrices_[0].shape[1]


def _ours_quiet(model, contrast, **kwargs):
    """Our maps, failing on any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        return model.compute_contrast(contrast, output_type='all', **kwargs)


# ------------------------------------------------------------------- reused weights
@pytest.mark.parametrize('as_list', [False, True], ids=['alone', 'list of one'])
def test_reused_weights_warn_with_nilearns_category(fitted, as_list):
    ours, theirs = fitted
    weights = np.eye(_width(ours))[0] - np.eye(_width(ours))[1]  # audio - visual
    contrast = [weights] if as_list else weights
    reference, caught = recording(theirs.compute_contrast, contrast, output_type='all')
    assert warned(caught, RuntimeWarning, REUSED)
    with pytest.warns(RuntimeWarning, match='same contrast weights are used for all 3 runs'):
        maps = ours.compute_contrast(contrast, output_type='all')
    assert_maps_equal(maps, reference)


def test_a_reused_f_contrast_warns_and_agrees(fitted):
    ours, theirs = fitted
    f_test = np.eye(_width(ours))[:2]
    reference, caught = recording(theirs.compute_contrast, f_test, output_type='all')
    assert warned(caught, RuntimeWarning, REUSED)
    with pytest.warns(RuntimeWarning, match='same contrast weights'):
        maps = ours.compute_contrast(f_test, output_type='all')
    assert_maps_equal(maps, reference)


def test_a_reused_expression_agrees_without_the_warning_nilearn_gives(fitted):
    ours, theirs = fitted
    reference, caught = recording(theirs.compute_contrast, 'audio - visual', output_type='all')
    assert warned(caught, RuntimeWarning, REUSED)  # nilearn warns even for an expression
    assert_maps_equal(_ours_quiet(ours, 'audio - visual'), reference)


def test_one_definition_per_run_warns_in_neither(fitted):
    ours, theirs = fitted
    per_run = ['audio', 'audio - visual', 'visual']
    reference, caught = recording(theirs.compute_contrast, per_run, output_type='all')
    assert not warned(caught, RuntimeWarning, REUSED)
    assert_maps_equal(_ours_quiet(ours, per_run), reference)


# -------------------------------------------------------------- runs left out
@pytest.mark.parametrize('null_runs', [[1], [0, 2]], ids=['run 2', 'runs 1 and 3'])
def test_a_zero_contrast_leaves_runs_out_of_the_fixed_effects_as_nilearn(fitted, null_runs):
    ours, theirs = fitted
    audio = np.eye(_width(ours))[0]
    per_run = [np.zeros_like(audio) if i in null_runs else audio for i in range(3)]
    reference, caught = recording(theirs.compute_contrast, per_run, output_type='all')
    for index in null_runs:  # nilearn counts runs from 0
        assert warned(caught, UserWarning, f'Contrast for run {index} is null')
    left_out = [index + 1 for index in null_runs]
    with pytest.warns(UserWarning, match=rf'all zeros for run\(s\) {re.escape(str(left_out))}'):
        maps = ours.compute_contrast(per_run, output_type='all')
    assert_maps_equal(maps, reference)


def test_a_zero_contrast_changes_the_result(fitted):
    """The run left out matters: the maps differ from those of all three runs."""
    ours, _ = fitted
    audio = np.eye(_width(ours))[0]
    with pytest.warns(UserWarning, match='left out'):
        two = ours.compute_contrast([audio, audio, np.zeros_like(audio)], output_type='stat')
    three = _ours_quiet(ours, [audio] * 3)['stat']
    assert np.abs(two.get_fdata() - three.get_fdata()).max() > 0.1


def test_a_zero_expression_for_one_run_is_left_out_as_nilearn(fitted):
    ours, theirs = fitted
    per_run = ['audio', '0 * audio', 'audio']
    reference, caught = recording(theirs.compute_contrast, per_run, output_type='all')
    assert warned(caught, UserWarning, 'Contrast for run 1 is null')
    with pytest.warns(UserWarning, match=r'run\(s\) \[2\] of 3'):
        maps = ours.compute_contrast(per_run, output_type='all')
    assert_maps_equal(maps, reference)


def test_a_zero_f_contrast_for_one_run_is_left_out_as_nilearn(fitted):
    ours, theirs = fitted
    f_test = np.eye(_width(ours))[:2]
    per_run = [f_test, np.zeros_like(f_test), f_test]
    reference, caught = recording(theirs.compute_contrast, per_run, output_type='all')
    assert warned(caught, UserWarning, 'Contrast for run 1 is null')
    with pytest.warns(UserWarning, match='left out of the fixed effects'):
        maps = ours.compute_contrast(per_run, output_type='all')
    assert_maps_equal(maps, reference)


@pytest.mark.parametrize(
    'make',
    [
        pytest.param(np.zeros, id='zeros reused'),
        pytest.param(lambda width: [np.zeros(width)] * 3, id='zeros per run'),
        pytest.param(lambda width: ['0 * audio'] * 3, id='zero expressions'),
    ],
)
def test_a_contrast_of_zeros_in_every_run_stays_an_error_in_both(fitted, make):
    ours, theirs = fitted
    contrast = make(_width(ours))
    with pytest.raises(ValueError, match='All contrasts provided were null'):
        quietly(theirs.compute_contrast, contrast)
    with pytest.raises(ContrastError, match='all zeros in each of the 3 runs'):
        quietly(ours.compute_contrast, contrast)
