"""Tests of bidsglm.design.first_level: the design matrix of one run."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import make_first_level_design_matrix as nilearn_design

from bidsglm.design import HRF_MODELS, make_first_level_design_matrix
from bidsglm.errors import (
    EventsError,
    InvalidParameterError,
    ParameterTypeError,
    ShapeMismatchError,
)

HAXBY = Path(__file__).parents[1] / 'data' / 'haxby'
HAXBY_EVENTS = HAXBY / 'sub-1_task-objectviewing_acq-25mm_run-01_events.tsv'
HAXBY_MOTION = HAXBY / 'sub-1_task-objectviewing_acq-25mm_run-01_desc-confounds_timeseries.tsv'

FRAME_TIMES = np.arange(60) * 2.0
#: Blocks of two conditions listed out of order, with modulation and a repeat.
EVENTS = pd.DataFrame(
    {
        'onset': [30.0, 4.0, 60.0, 82.5, 100.0],
        'duration': [10.0, 6.0, 2.0, 15.0, 0.5],
        'trial_type': ['visual', 'audio', 'visual', 'audio', 'visual'],
        'modulation': [1.0, 2.0, -0.5, 1.0, 3.0],
    }
)


def _nilearn(*args: object, **kwargs: object) -> pd.DataFrame:
    """Run nilearn's builder, silencing its own warnings (ours are tested apart)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return nilearn_design(*args, **kwargs)


def _assert_same_design(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(ours.columns) == list(theirs.columns)
    np.testing.assert_array_equal(ours.index.to_numpy(), theirs.index.to_numpy())
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-10, atol=1e-12)


def test_design_columns_are_conditions_confounds_drifts_constant(rng) -> None:
    design = make_first_level_design_matrix(
        FRAME_TIMES, EVENTS, add_regs=rng.normal(size=(60, 2)), add_reg_names=['tx', 'ty']
    )
    assert list(design.columns) == [
        'audio',
        'visual',
        'tx',
        'ty',
        'drift_1',
        'drift_2',
        'constant',
    ]
    np.testing.assert_array_equal(design.index, FRAME_TIMES)
    np.testing.assert_array_equal(design['constant'], 1.0)


def test_design_block_regressor_rises_after_onset() -> None:
    events = pd.DataFrame({'onset': [40.0], 'duration': [20.0], 'trial_type': ['task']})
    design = make_first_level_design_matrix(FRAME_TIMES, events, drift_model=None)
    task = design['task']
    assert (task[:40.0] == 0.0).all()
    assert 0 < task[42.0] < task[46.0] < task[50.0]
    assert task.idxmax() == 50.0  # once the HRF's positive lobe lies inside the block
    assert task[50.0] > 1.0  # the 0.48 undershoot makes the block response overshoot 1
    assert task[70.0] < -0.4  # the undershoot after the block
    assert abs(task[118.0]) < 0.01


def test_design_confounds_are_copied_as_given(rng) -> None:
    confounds = rng.normal(size=(60, 3))
    design = make_first_level_design_matrix(FRAME_TIMES, add_regs=confounds)
    assert list(design.columns)[:3] == ['reg0', 'reg1', 'reg2']
    np.testing.assert_array_equal(design[['reg0', 'reg1', 'reg2']].to_numpy(), confounds)


def test_design_confounds_dataframe_gives_the_names(rng) -> None:
    table = pd.DataFrame(rng.normal(size=(60, 2)), columns=['rot_x', 'trans_x'])
    design = make_first_level_design_matrix(FRAME_TIMES, add_regs=table, add_reg_names=['a'])
    assert list(design.columns)[:2] == ['rot_x', 'trans_x']


def test_design_confound_names_are_kept_as_given(rng) -> None:
    table = pd.DataFrame(rng.normal(size=(60, 2)), columns=[0, 'csf'])
    design = make_first_level_design_matrix(FRAME_TIMES, add_regs=table)
    assert list(design.columns)[:2] == [0, 'csf']
    named = make_first_level_design_matrix(
        FRAME_TIMES, add_regs=table.to_numpy(), add_reg_names=[7, 'csf']
    )
    assert list(named.columns)[:2] == [7, 'csf']
    np.testing.assert_array_equal(named[7], table[0])


def test_design_names_that_read_the_same_are_refused(rng) -> None:
    table = pd.DataFrame(rng.normal(size=(60, 2)), columns=[1, '1'])
    with pytest.raises(InvalidParameterError, match=r"several columns named \['1'\]"):
        make_first_level_design_matrix(FRAME_TIMES, add_regs=table)


@pytest.mark.parametrize('add_regs', ['motion.tsv', 3.0, np.ones((60, 2, 2))])
def test_design_confounds_that_are_not_a_table_are_a_type_error(add_regs) -> None:
    with pytest.raises(ParameterTypeError, match=r"'add_regs' parameter .* must be a 2D array"):
        make_first_level_design_matrix(FRAME_TIMES, add_regs=add_regs)


def test_design_confounds_holding_text_are_a_type_error() -> None:
    confounds = np.array([['0.5']] * 59 + [['high']])
    with pytest.raises(TypeError, match=r"'add_regs' .* numbers only, not text"):
        make_first_level_design_matrix(FRAME_TIMES, add_regs=confounds)


def test_design_one_dimensional_confound_is_one_column(rng) -> None:
    confound = rng.normal(size=60)
    design = make_first_level_design_matrix(FRAME_TIMES, add_regs=confound)
    np.testing.assert_array_equal(design['reg0'], confound)


def test_design_without_events_is_drifts_only() -> None:
    design = make_first_level_design_matrix(FRAME_TIMES, drift_model='polynomial', drift_order=2)
    assert list(design.columns) == ['drift_1', 'drift_2', 'constant']


def test_design_reads_events_from_a_tsv() -> None:
    design = make_first_level_design_matrix(np.arange(121) * 2.5, HAXBY_EVENTS)
    conditions = ['bottle', 'cat', 'chair', 'face', 'house', 'scissors', 'scrambledpix', 'shoe']
    assert list(design.columns)[:8] == conditions


def test_design_numeric_trial_types_become_text_in_numeric_order() -> None:
    events = pd.DataFrame({'onset': [0.0, 20.0, 40.0], 'duration': 5.0, 'trial_type': [10, 2, 1]})
    design = make_first_level_design_matrix(FRAME_TIMES, events, drift_model=None)
    assert list(design.columns) == ['1', '2', '10', 'constant']


def test_design_fir_names_each_delay() -> None:
    design = make_first_level_design_matrix(
        FRAME_TIMES, EVENTS, hrf_model='fir', fir_delays=[0, 1, 2], drift_model=None
    )
    names = [f'{c}_delay_{d}' for c in ('audio', 'visual') for d in (0, 1, 2)]
    assert list(design.columns) == [*names, 'constant']


def test_design_derivative_columns_follow_their_condition() -> None:
    design = make_first_level_design_matrix(
        FRAME_TIMES, EVENTS, hrf_model='spm + derivative + dispersion', drift_model=None
    )
    assert list(design.columns)[:4] == [
        'audio',
        'audio_derivative',
        'audio_dispersion',
        'visual',
    ]


def test_design_identical_conditions_are_regularised_with_a_warning() -> None:
    events = pd.DataFrame({'onset': [10.0, 10.0], 'duration': 5.0, 'trial_type': ['a', 'b']})
    with pytest.warns(UserWarning, match='singular at working precision'):
        design = make_first_level_design_matrix(FRAME_TIMES, events)
    # the singular values are raised until the condition number is 1e15 (up to the
    # rounding of rebuilding the matrix), instead of infinite
    assert np.linalg.cond(design.to_numpy()) == pytest.approx(1e15, rel=0.25)


def test_design_propagates_events_errors() -> None:
    with pytest.raises(EventsError, match="no 'onset' column"):
        make_first_level_design_matrix(FRAME_TIMES, EVENTS.drop(columns='onset'))


def test_design_confounds_of_the_wrong_length_name_both_numbers(rng) -> None:
    with pytest.raises(ShapeMismatchError, match='has 59 rows but there are 60 frame times'):
        make_first_level_design_matrix(FRAME_TIMES, add_regs=rng.normal(size=(59, 2)))


def test_design_confound_names_must_match_the_columns(rng) -> None:
    with pytest.raises(ShapeMismatchError, match="gives 1 names but 'add_regs' has 2 columns"):
        make_first_level_design_matrix(
            FRAME_TIMES, add_regs=rng.normal(size=(60, 2)), add_reg_names=['x']
        )


def test_design_confounds_with_nan_name_the_rows(rng) -> None:
    confounds = rng.normal(size=(60, 2))
    confounds[0, 1] = np.nan
    with pytest.raises(InvalidParameterError, match=r'NaN or infinite values in rows \[0\]'):
        make_first_level_design_matrix(FRAME_TIMES, add_regs=confounds)


def test_design_confound_names_without_confounds_are_refused() -> None:
    with pytest.raises(InvalidParameterError, match="'add_regs' is None"):
        make_first_level_design_matrix(FRAME_TIMES, add_reg_names=['x'])


def test_design_fir_delays_none_means_delay_0() -> None:
    design = make_first_level_design_matrix(
        FRAME_TIMES, EVENTS, hrf_model='fir', fir_delays=None, drift_model=None
    )
    assert list(design.columns) == ['audio_delay_0', 'visual_delay_0', 'constant']


def test_design_repeated_column_names_are_refused(rng) -> None:
    with pytest.raises(InvalidParameterError, match=r"several columns named \['constant'\]"):
        make_first_level_design_matrix(
            FRAME_TIMES, add_regs=rng.normal(size=(60, 1)), add_reg_names=['constant']
        )


@pytest.mark.parametrize(
    ('kwargs', 'pattern'),
    [
        (
            {'high_pass': 0},
            r"'high_pass' parameter of make_first_level_design_matrix must be a float "
            r'in \(0, inf\)\. Got 0',
        ),
        ({'high_pass': -1}, r"'high_pass'.*Got -1 instead"),
        ({'oversampling': 0}, r"'oversampling'.*\[1, inf\)"),
        ({'fir_delays': [-1, 0]}, "'fir_delays'.*non-negative ints"),
        ({'min_onset': 3}, r"'min_onset'.*\(-inf, 0\]"),
        ({'drift_order': -1}, r"'drift_order'.*\[0, inf\)"),
        ({'hrf_model': 'gloverr'}, r"'hrf_model'.*\['glover', 'spm', .*'fir', None\]"),
        ({'drift_model': 'linear'}, r"'drift_model'.*\['cosine', 'polynomial', None\]"),
    ],
)
def test_design_refuses_bad_parameters(kwargs, pattern) -> None:
    with pytest.raises(InvalidParameterError, match=pattern):
        make_first_level_design_matrix(FRAME_TIMES, EVENTS, **kwargs)


@pytest.mark.parametrize(
    'kwargs',
    [
        {'high_pass': '0.01'},
        {'hrf_model': 3},
        {'drift_model': 1},
        {'drift_order': 1.0},
        {'oversampling': 2.5},
        {'fir_delays': 2.5j},
        {'min_onset': '-24'},
    ],
    ids=lambda kwargs: next(iter(kwargs)),
)
def test_design_refuses_parameters_of_a_wrong_type_as_type_errors(kwargs) -> None:
    (name,) = kwargs
    with pytest.raises(ParameterTypeError, match=f"^The '{name}' parameter of make_first"):
        make_first_level_design_matrix(FRAME_TIMES, EVENTS, **kwargs)


@pytest.mark.parametrize('kwargs', [{'high_pass': -1}, {'oversampling': 0}, {'drift_order': -1}])
def test_design_values_out_of_range_are_not_type_errors(kwargs) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        make_first_level_design_matrix(FRAME_TIMES, EVENTS, **kwargs)
    assert not isinstance(caught.value, TypeError)


@pytest.mark.parametrize(
    ('frame_times', 'pattern'),
    [
        (np.zeros(10), 'frames 0 and 1 are 0 s apart'),
        (np.arange(10.0)[::-1], 'strictly increasing'),
        (np.array([5.0]), 'at least 2'),
    ],
)
def test_design_refuses_frame_times_without_positive_t_r(frame_times, pattern) -> None:
    with pytest.raises(InvalidParameterError, match=pattern):
        make_first_level_design_matrix(frame_times, EVENTS)


@pytest.mark.oracle
@pytest.mark.parametrize('hrf_model', list(HRF_MODELS))
@pytest.mark.parametrize(
    ('drift_model', 'drift_kwargs'),
    [('cosine', {'high_pass': 0.01}), ('polynomial', {'drift_order': 3}), (None, {})],
)
def test_design_matches_nilearn_for_every_model(hrf_model, drift_model, drift_kwargs) -> None:
    kwargs = {'hrf_model': hrf_model, 'drift_model': drift_model, **drift_kwargs}
    kwargs['fir_delays'] = [0, 1, 2]
    ours = make_first_level_design_matrix(FRAME_TIMES, EVENTS, **kwargs)
    _assert_same_design(ours, _nilearn(FRAME_TIMES, EVENTS, **kwargs))


@pytest.mark.oracle
@pytest.mark.parametrize('hrf_model', ['glover', 'spm + derivative', 'fir'])
def test_design_matches_nilearn_with_confounds(hrf_model, rng) -> None:
    confounds = pd.DataFrame(rng.normal(size=(60, 3)), columns=['csf', 'rot_x', 'fd'])
    kwargs = {'hrf_model': hrf_model, 'add_regs': confounds, 'fir_delays': [0, 1, 2]}
    ours = make_first_level_design_matrix(FRAME_TIMES, EVENTS, **kwargs)
    _assert_same_design(ours, _nilearn(FRAME_TIMES, EVENTS, **kwargs))
    array_kwargs = {**kwargs, 'add_regs': confounds.to_numpy()}
    ours = make_first_level_design_matrix(FRAME_TIMES, EVENTS, **array_kwargs)
    _assert_same_design(ours, _nilearn(FRAME_TIMES, EVENTS, **array_kwargs))


@pytest.mark.oracle
@pytest.mark.parametrize('hrf_model', ['glover', 'glover + derivative + dispersion', 'fir'])
@pytest.mark.parametrize('slice_time_ref', [0.5, 1.0])
def test_design_matches_nilearn_with_shifted_frame_times(hrf_model, slice_time_ref) -> None:
    frame_times = (np.arange(60) + slice_time_ref) * 2.0
    kwargs = {'hrf_model': hrf_model, 'fir_delays': [0, 1, 2]}
    ours = make_first_level_design_matrix(frame_times, EVENTS, **kwargs)
    _assert_same_design(ours, _nilearn(frame_times, EVENTS, **kwargs))


@pytest.mark.oracle
@pytest.mark.parametrize('hrf_model', list(HRF_MODELS))
def test_design_matches_nilearn_with_oversampling_16(hrf_model) -> None:
    kwargs = {'hrf_model': hrf_model, 'oversampling': 16, 'fir_delays': [0, 1, 2]}
    ours = make_first_level_design_matrix(FRAME_TIMES, EVENTS, **kwargs)
    _assert_same_design(ours, _nilearn(FRAME_TIMES, EVENTS, **kwargs))


@pytest.mark.oracle
@pytest.mark.parametrize('min_onset', [-24, -5.5, 0])
def test_design_matches_nilearn_with_min_onset(min_onset) -> None:
    events = pd.DataFrame(
        {'onset': [-20.0, -3.0, 12.0], 'duration': [30.0, 8.0, 4.0], 'trial_type': 'x'}
    )
    if min_onset > -20:
        with pytest.warns(UserWarning, match="'x' has events starting before"):
            ours = make_first_level_design_matrix(FRAME_TIMES, events, min_onset=min_onset)
    else:
        ours = make_first_level_design_matrix(FRAME_TIMES, events, min_onset=min_onset)
    _assert_same_design(ours, _nilearn(FRAME_TIMES, events, min_onset=min_onset))


@pytest.mark.oracle
@pytest.mark.parametrize('hrf_model', ['glover', 'spm + derivative', 'fir', None])
def test_design_matches_nilearn_with_zero_durations(hrf_model) -> None:
    events = pd.DataFrame(
        {'onset': [3.0, 17.3, 50.0, 90.0], 'duration': [0.0, 0.0, 2.0, 0.0], 'trial_type': 'go'}
    )
    kwargs = {'hrf_model': hrf_model, 'fir_delays': [0, 1, 2]}
    with pytest.warns(UserWarning, match=r"duration 0.*\['go'\]"):
        ours = make_first_level_design_matrix(FRAME_TIMES, events, **kwargs)
    _assert_same_design(ours, _nilearn(FRAME_TIMES, events, **kwargs))


@pytest.mark.oracle
def test_design_matches_nilearn_with_duplicated_events_and_no_trial_type() -> None:
    events = pd.DataFrame({'onset': [10.0, 10.0, 40.0], 'duration': [5.0, 5.0, 5.0]})
    with pytest.warns(UserWarning, match='trial_type') as caught:
        ours = make_first_level_design_matrix(FRAME_TIMES, events)
    messages = [str(record.message) for record in caught]
    assert len(messages) == 2  # no trial_type; one duplicated event
    assert '1 events repeat' in messages[1]
    _assert_same_design(ours, _nilearn(FRAME_TIMES, events))
    assert ours['dummy'].max() > 1.5  # the duplicate doubled the first event


@pytest.mark.oracle
def test_design_matches_nilearn_when_regularising() -> None:
    events = pd.DataFrame({'onset': [10.0, 10.0], 'duration': 5.0, 'trial_type': ['a', 'b']})
    with pytest.warns(UserWarning, match='singular'):
        ours = make_first_level_design_matrix(FRAME_TIMES, events)
    _assert_same_design(ours, _nilearn(FRAME_TIMES, events))


@pytest.mark.oracle
def test_design_matches_nilearn_on_haxby_run_1() -> None:
    frame_times = np.arange(121) * 2.5
    motion = pd.read_csv(HAXBY_MOTION, sep='\t')
    ours = make_first_level_design_matrix(frame_times, HAXBY_EVENTS, add_regs=motion)
    theirs = _nilearn(frame_times, HAXBY_EVENTS, add_regs=motion)
    _assert_same_design(ours, theirs)
    assert ours.shape == (121, 8 + 6 + 6 + 1)  # 8 conditions, 6 motion, 6 cosines, constant
    assert list(ours.columns)[8:14] == ['rot_x', 'rot_y', 'rot_z', 'trans_x', 'trans_y', 'trans_z']
