"""Transformations: each instruction on tiny hand-computed inputs, refusals, pybids oracle."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bidsglm.dataset.transformations import (
    REFUSED,
    TRANSFORMERS,
    DenseVariable,
    RunTiming,
    SimpleVariable,
    SparseVariable,
    VariableCollection,
    apply_transformations,
    collection_from_run,
    collection_from_table,
    read_transformations,
    to_events,
    to_table,
    to_volumes,
)
from bidsglm.design import make_first_level_design_matrix
from bidsglm.errors import EventsError, ShapeMismatchError, TransformationError

TR = 2.0
N_VOLUMES = 10


def events_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            'onset': [0.0, 4.0, 8.0, 12.0],
            'duration': [2.0, 2.0, 0.0, 2.0],
            'trial_type': ['face', 'house', 'face', np.nan],
            'rt': [0.5, 1.0, np.nan, 1.5],
            'respnum': [1, 2, 1, 3],
        }
    )


def confounds_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            'trans_x': np.arange(N_VOLUMES, dtype=float),
            'fd': [np.nan, 0.2, 0.6, 0.1, 0.9, 0.2, 0.3, 0.5, 0.0, 0.4],
        }
    )


@pytest.fixture
def run() -> VariableCollection:
    return collection_from_run(RunTiming(N_VOLUMES, TR), events_table(), confounds_table())


def apply(collection: VariableCollection, *instructions: dict, transformer='pybids-transforms-v1'):
    return apply_transformations(
        collection, {'Transformer': transformer, 'Instructions': list(instructions)}
    )


def values(collection: VariableCollection, name: str) -> list:
    return collection[name].values.tolist()


def nan_list(array) -> list:
    return [
        None if isinstance(v, float) and np.isnan(v) else v for v in np.asarray(array).tolist()
    ]


# --- the data model ---------------------------------------------------------------------


def test_collection_from_run_keeps_every_event_row_and_samples_confounds_per_volume(run):
    assert run.names == ('trial_type', 'rt', 'respnum', 'trans_x', 'fd')
    assert isinstance(run['rt'], SparseVariable)
    assert nan_list(run['rt'].values) == [0.5, 1.0, None, 1.5]
    assert run['trial_type'].values.dtype == object
    assert run['respnum'].values.tolist() == [1, 2, 1, 3]
    assert isinstance(run['fd'], DenseVariable)
    assert run['fd'].sampling_rate == 0.5


def test_collection_from_run_refuses_confounds_of_another_length():
    with pytest.raises(ShapeMismatchError, match='3 rows but the run has 10 volumes'):
        collection_from_run(RunTiming(N_VOLUMES, TR), confounds=pd.DataFrame({'a': [1, 2, 3]}))


def test_collection_from_run_refuses_events_without_onsets():
    with pytest.raises(EventsError, match="no \\['onset'\\] column"):
        collection_from_run(RunTiming(N_VOLUMES, TR), pd.DataFrame({'duration': [1.0]}))


def test_variables_are_read_only(run):
    with pytest.raises(ValueError, match='read-only'):
        run['rt'].values[0] = 3.0


def test_run_timing_frame_times_and_refusals():
    assert RunTiming(3, 2.0, start_time=0.5).frame_times.tolist() == [0.5, 2.5, 4.5]
    with pytest.raises(ValueError, match='n_volumes'):
        RunTiming(1, 2.0)
    with pytest.raises(ValueError, match='repetition_time'):
        RunTiming(5, 0.0)


def test_an_unknown_variable_is_named_with_close_matches(run):
    with pytest.raises(
        TransformationError, match=r"Instruction 1 \(Scale\): Input names 'RT'.*'rt'"
    ):
        apply(run, {'Name': 'Scale', 'Input': ['RT']})


# --- reading: refusals before any data -------------------------------------------------------


def test_an_unknown_transformer_is_refused_with_the_known_ones():
    with pytest.raises(
        TransformationError, match=r"'fsl-transforms'.*'pybids-transforms-v1', 'bidspm'"
    ):
        read_transformations({'Transformer': 'fsl-transforms', 'Instructions': []})


def test_an_unknown_instruction_is_refused_by_name_with_the_list():
    with pytest.raises(TransformationError) as info:
        read_transformations([{'Name': 'Factorize', 'Input': 'trial_type'}])
    message = str(info.value)
    assert "Instruction 1: unknown instruction 'Factorize' (did you mean 'Factor'?)" in message
    assert all(name in message for name in TRANSFORMERS['pybids-transforms-v1'])


def test_an_unknown_argument_is_refused_with_the_accepted_ones():
    with pytest.raises(TransformationError, match="'Treshold' \\(did you mean 'Threshold'\\?\\)"):
        read_transformations([{'Name': 'Threshold', 'Input': 'rt', 'Treshold': 1}])


def test_a_wrong_value_is_refused_with_what_is_expected():
    with pytest.raises(TransformationError, match="Constraint must be \\['none', 'drop_one'"):
        read_transformations([{'Name': 'Factor', 'Input': 'x', 'Constraint': 'sum_to_zero'}])


def test_output_is_required_where_pybids_requires_it():
    with pytest.raises(TransformationError, match='Instruction 2 \\(Sum\\): "Output" is required'):
        read_transformations(
            [{'Name': 'Copy', 'Input': 'a', 'Output': 'b'}, {'Name': 'Sum', 'Input': ['a', 'b']}]
        )


def test_one_output_for_several_inputs_is_refused():
    with pytest.raises(TransformationError, match='1 Output names for 2 inputs'):
        read_transformations([{'Name': 'Scale', 'Input': ['a', 'b'], 'Output': 'z'}])


def test_snake_case_keys_and_a_bare_list_are_read_as_pybids_does():
    parsed = read_transformations([{'name': 'Scale', 'input': 'rt', 'replace_na': 'after'}])
    assert parsed.transformer == 'pybids-transforms-v1'
    assert dict(parsed.instructions[0].options) == {
        'demean': True,
        'rescale': True,
        'replace_na': 'after',
    }


def test_bidspm_refuses_its_instructions_that_differ_with_the_reason():
    with pytest.raises(TransformationError, match="bidspm's Split differs from pybids'"):
        read_transformations(
            {'Transformer': 'bidspm', 'Instructions': [{'Name': 'Split', 'Input': 'x'}]}
        )
    with pytest.raises(TransformationError, match='Mean is a bidspm extension'):
        read_transformations(
            {'Transformer': 'bidspm', 'Instructions': [{'Name': 'Mean', 'Input': 'x'}]}
        )
    assert set(REFUSED['bidspm']).isdisjoint(TRANSFORMERS['bidspm'])


def test_description_keys_are_ignored():
    parsed = read_transformations(
        [{'Name': 'Copy', 'Input': 'a', 'Output': 'b', 'Description': 'why'}]
    )
    assert parsed.instructions[0].outputs == ('b',)


# --- Factor ---------------------------------------------------------------------------------


def test_factor_makes_one_indicator_per_value_over_every_event(run):
    out = apply(run, {'Name': 'Factor', 'Input': ['trial_type']})
    assert 'trial_type' not in out
    assert values(out, 'trial_type.face') == [1.0, 0.0, 1.0, 0.0]
    assert values(out, 'trial_type.house') == [0.0, 1.0, 0.0, 0.0]
    assert out['trial_type.face'].onset.tolist() == [0.0, 4.0, 8.0, 12.0]


def test_factor_of_numbers_names_whole_values_without_a_decimal(run):
    out = apply(run, {'Name': 'Factor', 'Input': 'respnum', 'Sep': '_'})
    assert [n for n in out.names if n.startswith('respnum')] == [
        'respnum_1',
        'respnum_2',
        'respnum_3',
    ]


def test_factor_drop_one_and_mean_zero(run):
    dropped = apply(run, {'Name': 'Factor', 'Input': 'respnum', 'Constraint': 'drop_one'})
    assert 'respnum.1' not in dropped
    assert values(dropped, 'respnum.3') == [0.0, 0.0, 0.0, 1.0]
    effect = apply(
        run, {'Name': 'Factor', 'Input': 'respnum', 'Constraint': 'mean_zero', 'RefLevel': 2}
    )
    assert values(effect, 'respnum.1') == [1.0, -0.5, 1.0, 0.0]
    assert values(effect, 'respnum.3') == [0.0, -0.5, 0.0, 1.0]


def test_factor_refuses_a_reference_level_that_is_not_a_value(run):
    with pytest.raises(TransformationError, match="RefLevel 'cat' is not a value of 'trial_type'"):
        apply(run, {'Name': 'Factor', 'Input': 'trial_type', 'RefLevel': 'cat'})


# --- Convolve ---------------------------------------------------------------------------


def test_convolve_gives_bidsglm_design_columns_at_the_volumes(run):
    timing = RunTiming(N_VOLUMES, TR, start_time=1.0)
    collection = collection_from_run(timing, events_table())
    out = apply(
        collection,
        {'Name': 'Factor', 'Input': 'trial_type'},
        {'Name': 'Convolve', 'Input': ['trial_type.*'], 'Model': 'spm', 'Derivative': True},
    )
    events = pd.DataFrame({'onset': [0.0, 8.0], 'duration': [2.0, 0.0], 'trial_type': 'face'})
    with pytest.warns(UserWarning, match='duration 0'):
        design = make_first_level_design_matrix(
            timing.frame_times, events, hrf_model='spm + derivative', drift_model=None
        )
    assert isinstance(out['trial_type.face'], DenseVariable)
    np.testing.assert_allclose(out['trial_type.face'].values, design['face'], rtol=1e-12)
    np.testing.assert_allclose(
        out['trial_type.face_derivative'].values, design['face_derivative'], atol=1e-12
    )


def test_convolve_of_a_zero_duration_event_is_an_impulse_response():
    collection = collection_from_run(
        RunTiming(20, 1.0),
        pd.DataFrame({'onset': [0.0], 'duration': [0.0], 'x': [1.0]}),
    )
    out = apply(collection, {'Name': 'Convolve', 'Input': 'x', 'Model': 'glover'})
    assert out['x'].values.argmax() == 5  # Glover peaks about 5 s after the onset
    assert out['x'].values[0] == 0.0
    assert out['x'].values.max() > 0


def test_convolve_fir_names_regressors_by_delay_as_pybids(run):
    out = apply(run, {'Name': 'Convolve', 'Input': 'respnum', 'Model': 'fir', 'FirDelays': [0, 2]})
    assert {'respnum', 'respnum_0', 'respnum_2'} <= set(out.names)  # the events stay
    # one box per volume: the events at 0, 4 and 12 s (values 1, 2, 3), delayed 0 and 2 volumes
    assert out['respnum_0'].values[[0, 2, 6]].tolist() == pytest.approx([1.0, 2.0, 3.0])
    assert out['respnum_2'].values[[2, 4, 8]].tolist() == pytest.approx([1.0, 2.0, 3.0])
    assert out['respnum_0'].values[[1, 3, 5]].tolist() == [0.0, 0.0, 0.0]


def test_convolve_refuses_missing_values_and_unknown_models(run):
    with pytest.raises(TransformationError, match="'rt': 1 of its 4 values are missing"):
        apply(run, {'Name': 'Convolve', 'Input': 'rt'})
    with pytest.raises(TransformationError, match="unknown Model 'boynton'"):
        apply(run, {'Name': 'Convolve', 'Input': 'respnum', 'Model': 'boynton'})
    with pytest.raises(TransformationError, match='only together with the time derivative'):
        apply(run, {'Name': 'Convolve', 'Input': 'respnum', 'Dispersion': True})


def test_convolve_refuses_text(run):
    with pytest.raises(TransformationError, match=r"'trial_type' holds text.*Factor"):
        apply(run, {'Name': 'Convolve', 'Input': 'trial_type'})


# --- Scale, Demean, Threshold ----------------------------------------------------------------


def test_scale_uses_present_values_and_the_sample_deviation(run):
    out = apply(run, {'Name': 'Scale', 'Input': 'rt', 'Output': 'rt_z'})
    assert nan_list(out['rt_z'].values) == [-1.0, 0.0, None, 1.0]
    assert nan_list(out['rt'].values) == [0.5, 1.0, None, 1.5]


def test_scale_replace_na_before_and_after(run):
    after = apply(run, {'Name': 'Scale', 'Input': 'rt', 'ReplaceNa': 'after', 'Rescale': False})
    assert values(after, 'rt') == [-0.5, 0.0, 0.0, 0.5]
    before = apply(run, {'Name': 'Scale', 'Input': 'rt', 'ReplaceNa': 'before', 'Rescale': False})
    assert values(before, 'rt') == [-0.25, 0.25, -0.75, 0.75]


def test_scale_refuses_a_constant_unless_replaced_after():
    rows = collection_from_table(pd.DataFrame({'c': [2.0, 2.0, np.nan]}))
    with pytest.raises(TransformationError, match=r'all its values are 2.*"ReplaceNa": "after"'):
        apply(rows, {'Name': 'Scale', 'Input': 'c'})
    assert (
        values(apply(rows, {'Name': 'Scale', 'Input': 'c', 'ReplaceNa': 'after'}), 'c')
        == [0.0] * 3
    )


def test_scale_works_on_dense_confounds(run):
    out = apply(run, {'Name': 'Scale', 'Input': 'trans_x', 'Rescale': False})
    assert values(out, 'trans_x') == [-4.5, -3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5]


def test_demean(run):
    assert nan_list(apply(run, {'Name': 'Demean', 'Input': 'rt'})['rt'].values) == [
        -0.5,
        0.0,
        None,
        0.5,
    ]


def test_threshold_keeps_values_at_or_above_and_zeroes_missing(run):
    out = apply(run, {'Name': 'Threshold', 'Input': 'fd', 'Threshold': 0.5})
    assert values(out, 'fd') == [0.0, 0.0, 0.6, 0.0, 0.9, 0.0, 0.0, 0.5, 0.0, 0.0]


def test_threshold_below_unsigned_binarized():
    rows = collection_from_table(pd.DataFrame({'x': [-3.0, -1.0, 0.5, 2.0, 4.0]}))
    out = apply(
        rows,
        {
            'Name': 'Threshold',
            'Input': 'x',
            'Threshold': -2,
            'Signed': False,
            'Above': False,
            'Binarize': True,
        },
    )
    assert values(out, 'x') == [0.0, 1.0, 1.0, 1.0, 0.0]
    kept = apply(rows, {'Name': 'Threshold', 'Input': 'x', 'Threshold': 2, 'Signed': False})
    assert values(kept, 'x') == [-3.0, 0.0, 0.0, 2.0, 4.0]  # the sign is kept


def test_threshold_takes_one_value_per_input():
    rows = collection_from_table(pd.DataFrame({'a': [1.0, 2.0], 'b': [1.0, 2.0]}))
    out = apply(rows, {'Name': 'Threshold', 'Input': ['a', 'b'], 'Threshold': [2, 1]})
    assert values(out, 'a') == [0.0, 2.0]
    assert values(out, 'b') == [1.0, 2.0]
    with pytest.raises(TransformationError, match='Threshold has 3 values for 2 inputs'):
        apply(rows, {'Name': 'Threshold', 'Input': ['a', 'b'], 'Threshold': [2, 1, 0]})


# --- Replace, Rename, Copy, Select, Delete ------------------------------------------------------


def test_replace_text_numbers_missing_and_onsets(run):
    out = apply(
        run,
        {'Name': 'Replace', 'Input': 'trial_type', 'Replace': {'face': 1, 'house': 0, 'n/a': -1}},
    )
    assert values(out, 'trial_type') == [1.0, 0.0, 1.0, -1.0]
    assert out['trial_type'].values.dtype == np.float64
    numbers = apply(run, {'Name': 'Replace', 'Input': 'respnum', 'Replace': {'1': 10}})
    assert values(numbers, 'respnum') == [10.0, 2.0, 10.0, 3.0]
    onsets = apply(
        run, {'Name': 'Replace', 'Input': 'rt', 'Replace': {'4': 5.5}, 'Attribute': 'onset'}
    )
    assert onsets['rt'].onset.tolist() == [0.0, 5.5, 8.0, 12.0]


def test_replace_swaps_values_at_once():
    rows = collection_from_table(pd.DataFrame({'x': ['a', 'b']}))
    assert values(
        apply(rows, {'Name': 'Replace', 'Input': 'x', 'Replace': {'a': 'b', 'b': 'a'}}), 'x'
    ) == ['b', 'a']


def test_rename_and_copy(run):
    renamed = apply(run, {'Name': 'Rename', 'Input': ['rt', 'respnum'], 'Output': ['RT', 'resp']})
    assert 'rt' not in renamed
    assert nan_list(renamed['RT'].values) == [0.5, 1.0, None, 1.5]
    copied = apply(run, {'Name': 'Copy', 'Input': 'rt', 'OutputSuffix': '_copy'})
    assert {'rt', 'rt_copy'} <= set(copied.names)


def test_select_and_delete_take_globs(run):
    assert apply(run, {'Name': 'Select', 'Input': ['t*', 'rt']}).names == (
        'trial_type',
        'trans_x',
        'rt',
    )
    assert apply(run, {'Name': 'Delete', 'Input': ['t*']}).names == ('rt', 'respnum', 'fd')
    assert apply(run, {'Name': 'Delete', 'Input': ['nothing_*']}).names == run.names


# --- Split, Filter, DropNA, Assign ----------------------------------------------------------


def test_split_by_a_text_variable_keeps_the_events_of_each_value(run):
    out = apply(run, {'Name': 'Split', 'Input': 'respnum', 'By': 'trial_type'})
    assert values(out, 'respnum.trial_type[face]') == [1, 1]
    assert out['respnum.trial_type[face]'].onset.tolist() == [0.0, 8.0]
    assert values(out, 'respnum.trial_type[nan]') == [3]
    assert 'respnum' in out


def test_split_by_two_variables_names_each_combination(run):
    out = apply(run, {'Name': 'Split', 'Input': 'rt', 'By': ['trial_type', 'respnum']})
    made = sorted(n for n in out.names if n.startswith('rt.'))
    assert made == [
        'rt.trial_type[face].respnum[1]',
        'rt.trial_type[house].respnum[2]',
        'rt.trial_type[nan].respnum[3]',
    ]


def test_split_of_a_dense_variable_zeroes_other_samples():
    collection = collection_from_run(
        RunTiming(4, 1.0),
        pd.DataFrame({'onset': [0.0, 2.0], 'duration': [2.0, 2.0], 'cond': [1.0, 2.0]}),
        pd.DataFrame({'x': [1.0, 2.0, 3.0, 4.0]}),
    )
    out = apply(collection, {'Name': 'Split', 'Input': 'x', 'By': 'cond'})
    # cond is made dense at x's rate (1 Hz): 1, 1, 2, 2
    assert values(out, 'x.cond[1]') == [1.0, 2.0, 0.0, 0.0]
    assert values(out, 'x.cond[2]') == [0.0, 0.0, 3.0, 4.0]


def test_filter_keeps_the_events_where_the_query_holds(run):
    out = apply(run, {'Name': 'Filter', 'Input': 'rt', 'Query': 'rt > 0.7'})
    assert values(out, 'rt') == [1.0, 1.5]
    assert out['rt'].onset.tolist() == [4.0, 12.0]
    with pytest.raises(TransformationError, match="names 'rt'"):
        apply(run, {'Name': 'Filter', 'Input': 'respnum', 'Query': 'rt > 1', 'By': 'trial_type'})
    by = apply(
        run,
        {
            'Name': 'Filter',
            'Input': 'respnum',
            'Query': "(trial_type in ['face']) | (rt >= 1.5)",
            'By': ['trial_type', 'rt'],
        },
    )
    assert values(by, 'respnum') == [1, 1, 3]


def test_filter_names_with_dots_and_spaces_as_pybids_rewrites_them():
    rows = collection_from_table(
        pd.DataFrame({'trial_type.face': [1.0, 0.0], 'parametric gain': [0.2, 0.9]})
    )
    out = apply(
        rows,
        {
            'Name': 'Filter',
            'Input': 'trial_type.face',
            'Query': 'parametric gain > 0.5',
            'By': 'parametric gain',
        },
    )
    assert values(out, 'trial_type.face') == [0.0]


def test_filter_never_evaluates_code(run):
    with pytest.raises(TransformationError, match='uses "__import__\\(\'os\'\\)"'):
        apply(run, {'Name': 'Filter', 'Input': 'rt', 'Query': "__import__('os')"})
    with pytest.raises(TransformationError, match='compares text with numbers'):
        apply(run, {'Name': 'Filter', 'Input': 'trial_type', 'Query': 'trial_type > 1'})


def test_filter_and_dropna_refuse_dense_variables(run):
    with pytest.raises(TransformationError, match=r"'fd' is dense.*Threshold"):
        apply(run, {'Name': 'Filter', 'Input': 'fd', 'Query': 'fd > 0'})
    with pytest.raises(TransformationError, match='Replace \\{"n/a": 0\\}'):
        apply(run, {'Name': 'DropNA', 'Input': 'fd'})


def test_dropna_removes_events_with_missing_values(run):
    out = apply(run, {'Name': 'DropNA', 'Input': ['rt', 'trial_type']})
    assert values(out, 'rt') == [0.5, 1.0, 1.5]
    assert out['rt'].onset.tolist() == [0.0, 4.0, 12.0]
    assert values(out, 'trial_type') == ['face', 'house', 'face']


def test_assign_moves_values_onto_durations(run):
    out = apply(
        run,
        {
            'Name': 'Assign',
            'Input': 'respnum',
            'Target': 'trial_type',
            'TargetAttr': 'duration',
            'Output': 'tt_by_resp',
        },
    )
    assert out['tt_by_resp'].duration.tolist() == [1.0, 2.0, 1.0, 3.0]
    assert out['trial_type'].duration.tolist() == [2.0, 2.0, 0.0, 2.0]
    onsets = apply(
        run, {'Name': 'Assign', 'Input': 'respnum', 'Target': 'rt', 'InputAttr': 'onset'}
    )
    assert values(onsets, 'rt') == [0.0, 4.0, 8.0, 12.0]


# --- Sum, Product, And, Or, Not, Concatenate ---------------------------------------------------


def test_sum_with_weights_skips_missing_values(run):
    out = apply(
        run, {'Name': 'Sum', 'Input': ['rt', 'respnum'], 'Weights': [2, -1], 'Output': 's'}
    )
    assert values(out, 's') == [0.0, 0.0, -1.0, 0.0]
    with pytest.raises(TransformationError, match='3 weights for 2 inputs'):
        apply(
            run, {'Name': 'Sum', 'Input': ['rt', 'respnum'], 'Weights': [1, 1, 1], 'Output': 's'}
        )


def test_product_and_logic(run):
    assert values(
        apply(run, {'Name': 'Product', 'Input': ['rt', 'respnum'], 'Output': 'p'}), 'p'
    ) == [0.5, 2.0, 1.0, 4.5]
    rows = collection_from_table(
        pd.DataFrame({'a': [1.0, 0.0, np.nan, 2.0], 'b': [1.0, 1.0, 1.0, 0.0]})
    )
    assert values(apply(rows, {'Name': 'And', 'Input': ['a', 'b'], 'Output': 'x'}), 'x') == [
        1.0,
        0.0,
        1.0,
        0.0,
    ]
    assert values(apply(rows, {'Name': 'Or', 'Input': ['a', 'b'], 'Output': 'x'}), 'x') == [
        1.0,
        1.0,
        1.0,
        1.0,
    ]
    assert values(apply(rows, {'Name': 'Not', 'Input': 'a'}), 'a') == [0.0, 1.0, 0.0, 0.0]


def test_joint_instructions_refuse_misaligned_events_unless_dense(run):
    shifted = run.with_variables(
        {
            **run.variables,
            'late': SparseVariable('late', [1.0], [2.0], [1.0]),
        }
    )
    with pytest.raises(TransformationError, match=r'do not line up.*"Dense": true'):
        apply(shifted, {'Name': 'Sum', 'Input': ['late', 'respnum'], 'Output': 's'})
    dense = apply(
        shifted, {'Name': 'Sum', 'Input': ['late', 'respnum'], 'Output': 's', 'Dense': True}
    )
    assert isinstance(dense['s'], DenseVariable)
    assert dense['s'].sampling_rate == 10.0
    assert dense['s'].values[[0, 10, 25, 45, 85, 125]].tolist() == [1.0, 2.0, 1.0, 2.0, 0.0, 3.0]


def test_concatenate_joins_values_as_text(run):
    out = apply(run, {'Name': 'Concatenate', 'Input': ['trial_type', 'respnum'], 'Output': 'cond'})
    assert nan_list(out['cond'].values) == ['face_1', 'house_2', 'face_1', None]
    factored = apply(out, {'Name': 'Factor', 'Input': 'cond'})
    assert values(factored, 'cond.face_1') == [1.0, 0.0, 1.0, 0.0]


# --- Orthogonalize, Lag, ToDense, Resample, Group -----------------------------------------------


def test_orthogonalize_removes_the_fit_and_keeps_the_mean():
    rows = collection_from_table(
        pd.DataFrame({'y': [1.0, 2.0, 4.0, 5.0], 'x': [0.0, 1.0, 0.0, 1.0]})
    )
    out = apply(rows, {'Name': 'Orthogonalize', 'Input': 'y', 'Other': 'x'})
    assert values(out, 'y') == pytest.approx([1.0, 1.0, 4.0, 4.0])
    assert np.corrcoef(out['y'].values, rows['x'].values)[0, 1] == pytest.approx(0.0, abs=1e-12)


def test_orthogonalize_makes_events_dense_against_a_confound(run):
    out = apply(run, {'Name': 'Orthogonalize', 'Input': 'trans_x', 'Other': 'respnum'})
    assert isinstance(out['trans_x'], DenseVariable)
    assert len(out['trans_x']) == N_VOLUMES


def test_lag_shifts_by_samples_and_differences():
    collection = collection_from_run(
        RunTiming(5, 1.0), confounds=pd.DataFrame({'x': [1.0, 2.0, 4.0, 7.0, 11.0]})
    )
    assert values(apply(collection, {'Name': 'Lag', 'Input': 'x'}), 'x') == pytest.approx(
        [1.0, 1.0, 2.0, 4.0, 7.0]
    )
    diff = apply(collection, {'Name': 'Lag', 'Input': 'x', 'Difference': True, 'Order': 1})
    assert values(diff, 'x') == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])
    back = apply(
        collection, {'Name': 'Lag', 'Input': 'x', 'Shift': -1, 'Mode': 'constant', 'Order': 0}
    )
    assert values(back, 'x') == [2.0, 4.0, 7.0, 11.0, 0.0]


def test_lag_refuses_missing_values(run):
    with pytest.raises(TransformationError, match="Lag cannot use 'fd': 1 of its 10 values"):
        apply(run, {'Name': 'Lag', 'Input': 'fd'})


def test_todense_samples_the_boxcar_and_zero_duration_events_vanish(run):
    out = apply(run, {'Name': 'ToDense', 'Input': 'respnum', 'SamplingRate': 1, 'Output': 'dense'})
    expected = [1, 1, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 3, 3] + [0] * 6
    assert values(out, 'dense') == expected  # the 0 s event at 8 s covers no sample


def test_resample_interpolates_in_time(run):
    out = apply(run, {'Name': 'Resample', 'Input': 'trans_x', 'SamplingRate': 1})
    assert values(out, 'trans_x')[:5] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert len(out['trans_x']) == 20


def test_group_names_a_list_for_later_inputs(run):
    out = apply(
        run,
        {'Name': 'Group', 'Input': ['rt', 'respnum'], 'Output': 'behaviour'},
        {'Name': 'Scale', 'Input': 'behaviour', 'OutputPrefix': 'z_'},
    )
    assert {'z_rt', 'z_respnum'} <= set(out.names)
    with pytest.raises(TransformationError, match="Group cannot be named 'rt'"):
        apply(run, {'Name': 'Group', 'Input': ['respnum'], 'Output': 'rt'})


# --- chains and exports -----------------------------------------------------------------------


def test_a_fitlins_style_chain_runs_end_to_end(run):
    out = apply(
        run,
        {'Name': 'Factor', 'Input': ['trial_type']},
        {
            'Name': 'Scale',
            'Input': ['rt'],
            'Rescale': False,
            'ReplaceNa': 'after',
            'Output': ['rt_c'],
        },
        {
            'Name': 'Rename',
            'Input': ['trial_type.face', 'trial_type.house'],
            'Output': ['face', 'house'],
        },
        {'Name': 'Convolve', 'Model': 'spm', 'Input': ['face', 'house', 'rt_c']},
        {'Name': 'Select', 'Input': ['face', 'house', 'rt_c', 'trans_x']},
    )
    assert out.names == ('face', 'house', 'rt_c', 'trans_x')
    frame = to_volumes(out)
    assert frame.shape == (N_VOLUMES, 4)
    assert frame['house'].iloc[:2].tolist() == [0.0, 0.0]
    assert frame['house'].iloc[4] > 0


def test_instructions_never_change_the_input_collection(run):
    before = values(run, 'respnum')
    apply(run, {'Name': 'Replace', 'Input': 'respnum', 'Replace': {'1': 5}})
    assert values(run, 'respnum') == before


def test_to_events_feeds_the_design_builder(run):
    out = apply(run, {'Name': 'Factor', 'Input': 'trial_type'})
    events = to_events(out, ['trial_type.face'])
    assert events.to_dict('list') == {
        'onset': [0.0, 4.0, 8.0, 12.0],
        'duration': [2.0, 2.0, 0.0, 2.0],
        'trial_type': ['trial_type.face'] * 4,
        'modulation': [1.0, 0.0, 1.0, 0.0],
    }
    with pytest.raises(TransformationError, match="'rt': 1 of its 4 values are missing"):
        to_events(out, ['rt'])


def test_to_volumes_makes_events_a_boxcar_per_volume(run):
    frame = to_volumes(run, ['respnum'])
    # the 0 s event at 8 s covers no volume
    assert frame['respnum'].tolist() == [1.0, 0.0, 2.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0]


def test_a_dataset_level_product_and_factor():
    participants = pd.DataFrame(
        {'age': [20.0, 30.0, 40.0], 'group': ['patient', 'control', 'patient']}
    )
    out = apply(
        collection_from_table(participants),
        {'Name': 'Product', 'Input': ['age', 'age'], 'Output': 'age_squared'},
        {'Name': 'Factor', 'Input': 'group'},
    )
    table = to_table(out)
    assert table['age_squared'].tolist() == [400.0, 900.0, 1600.0]
    assert table['group.patient'].tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(TransformationError, match='works on the variables of a run'):
        apply(collection_from_table(participants), {'Name': 'ToDense', 'Input': 'age'})


# --- bidspm -----------------------------------------------------------------------------------


def test_bidspm_threshold_is_strict_and_replace_keys_are_regular_expressions():
    rows = collection_from_table(
        pd.DataFrame({'x': [1.0, 2.0, -1.0], 't': ['Famous face', 'Unfamiliar face', 'car']})
    )
    out = apply(
        rows,
        {'Name': 'Threshold', 'Input': 'x', 'Threshold': 1, 'Binarize': True},
        transformer='bidspm',
    )
    assert values(out, 'x') == [0.0, 1.0, 0.0]
    out = apply(
        rows,
        {'Name': 'Replace', 'Input': 't', 'Replace': {'key': '.*face', 'value': 'foo'}},
        transformer='bidspm',
    )
    assert values(out, 't') == ['foo', 'foo', 'car']


def test_bidspm_sum_keeps_missing_rows_missing_unless_omitted():
    rows = collection_from_table(pd.DataFrame({'a': [1.0, np.nan], 'b': [2.0, 3.0]}))
    out = apply(rows, {'Name': 'Sum', 'Input': ['a', 'b'], 'Output': 's'}, transformer='bidspm')
    assert nan_list(out['s'].values) == [3.0, None]
    out = apply(
        rows,
        {'Name': 'Sum', 'Input': ['a', 'b'], 'Output': 's', 'OmitNan': True},
        transformer='bidspm',
    )
    assert values(out, 's') == [3.0, 3.0]


def test_bidspm_concatenate_then_pybids_names(run):
    out = apply(
        run,
        {'Name': 'Concatenate', 'Input': ['trial_type', 'respnum'], 'Output': 'trial_type'},
        transformer='bidspm',
    )
    assert nan_list(out['trial_type'].values) == ['face_1', 'house_2', 'face_1', None]


def _bidspm(collection: VariableCollection, *instructions: dict) -> VariableCollection:
    return apply(collection, *instructions, transformer='bidspm')


def test_bidspm_filter_keeps_every_event_and_sets_the_others_missing(run):
    out = _bidspm(
        run,
        {'Name': 'Filter', 'Input': 'trial_type', 'Query': 'trial_type==fa.*', 'Output': 'tmp'},
        {'Name': 'Filter', 'Input': 'rt', 'Query': 'rt > 0.7'},
        {'Name': 'Filter', 'Input': 'respnum', 'Query': 'trial_type~=face', 'Output': 'other'},
    )
    assert nan_list(out['tmp'].values) == ['face', None, 'face', None]
    assert out['tmp'].onset.tolist() == [0.0, 4.0, 8.0, 12.0]
    assert nan_list(out['rt'].values) == [None, 1.0, None, 1.5]
    assert nan_list(out['other'].values) == [None, 2.0, None, None]  # a missing type is no match
    assert nan_list(out['trial_type'].values) == ['face', 'house', 'face', None]


def test_bidspm_add_moves_the_onsets_of_the_rows_a_query_selects(run):
    out = _bidspm(
        run, {'Name': 'Add', 'Input': ['onset'], 'Query': 'trial_type==face', 'Value': 0.25}
    )
    for name in ('trial_type', 'rt', 'respnum'):
        assert out[name].onset.tolist() == [0.25, 4.0, 8.25, 12.0]
    assert out['trans_x'] is run['trans_x']
    lengthened = _bidspm(run, {'Name': 'Multiply', 'Input': 'duration', 'Value': '1.5'})
    assert lengthened['rt'].duration.tolist() == [3.0, 3.0, 0.0, 3.0]


def test_bidspm_arithmetic_in_place_keeps_other_rows_and_a_new_output_has_zeros(run):
    multiply = {'Name': 'Multiply', 'Input': 'rt', 'Value': 2, 'Query': 'respnum > 1'}
    assert nan_list(_bidspm(run, multiply)['rt'].values) == [0.5, 2.0, None, 3.0]
    out = _bidspm(run, {**multiply, 'Output': 'double'})
    assert nan_list(out['double'].values) == [0.0, 2.0, 0.0, 3.0]
    power = _bidspm(run, {'Name': 'Power', 'Input': 'respnum', 'Value': 2, 'Output': 'sq'})
    assert values(power, 'sq') == [1.0, 4.0, 1.0, 9.0]


def test_bidspm_constant_is_a_new_events_column(run):
    out = _bidspm(run, {'Name': 'Constant', 'Value': 3, 'Output': 'amp'})
    assert values(out, 'amp') == [3, 3, 3, 3]
    assert out['amp'].onset.tolist() == [0.0, 4.0, 8.0, 12.0]
    assert values(_bidspm(run, {'Name': 'Constant', 'Output': 'one'}), 'one') == [1, 1, 1, 1]


def test_bidspm_label_identical_rows_counts_runs_or_all_occurrences(run):
    out = _bidspm(
        run,
        {'Name': 'LabelIdenticalRows', 'Input': 'trial_type'},
        {'Name': 'LabelIdenticalRows', 'Input': 'trial_type', 'Output': 'n', 'Cumulative': True},
    )
    assert values(out, 'trial_type_label') == [1.0, 1.0, 1.0, 1.0]
    assert values(out, 'n') == [1.0, 1.0, 2.0, 1.0]
    same = collection_from_table(pd.DataFrame({'k': ['a', 'a', 'b', 'a', 'a']}))
    assert values(_bidspm(same, {'Name': 'LabelIdenticalRows', 'Input': 'k'}), 'k_label') == [
        1.0,
        2.0,
        1.0,
        1.0,
        2.0,
    ]


def test_bidspm_factor_numbers_text_levels_and_names_numbers_by_value(run):
    out = _bidspm(run, {'Name': 'Factor', 'Input': ['trial_type', 'respnum']})
    assert values(out, 'trial_type_1') == [1.0, 0.0, 1.0, 0.0]  # face
    assert values(out, 'trial_type_2') == [0.0, 1.0, 0.0, 0.0]  # house
    assert [values(out, f'respnum_{k}') for k in (1, 2, 3)] == [
        [1.0, 0.0, 1.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
    assert 'trial_type' in out.names


@pytest.mark.parametrize(
    ('instruction', 'message'),
    [
        ({'Name': 'Filter', 'Input': 'rt', 'Query': 'rt = 1'}, 'holds none of the comparisons'),
        ({'Name': 'Filter', 'Input': 'rt', 'Query': 'target < 1'}, "'target', which is not a"),
        ({'Name': 'Filter', 'Input': 'trans_x', 'Query': 'rt < 1'}, 'not an events column'),
        ({'Name': 'Filter', 'Input': 'rt', 'Query': 'trial_type > a'}, 'with == or ~= only'),
        ({'Name': 'Add', 'Input': 'rt', 'Value': 'a lot'}, 'Value must be a number'),
        ({'Name': 'Add', 'Input': 'onset', 'Value': 1, 'Output': 'x'}, 'leave Output out'),
        ({'Name': 'LabelIdenticalRows', 'Input': 'rt', 'Output': 'rt_label'}, 'already'),
    ],
)
def test_bidspm_instructions_refuse_what_they_cannot_do(run, instruction, message):
    if instruction['Name'] == 'LabelIdenticalRows':
        run = _bidspm(run, {'Name': 'Copy', 'Input': 'rt', 'Output': 'rt_label'})
    with pytest.raises(TransformationError, match=message):
        _bidspm(run, instruction)


def test_simple_variables_have_no_timing():
    assert not hasattr(SimpleVariable('a', [1]), 'onset')


# --- pybids oracle -----------------------------------------------------------------------------
# pybids runs in a subprocess: inside the test session the package name ``bids`` is this
# test folder's (pytest's importlib mode), which hides pybids.

_PYBIDS_SCRIPT = """
import json, sys, warnings
import numpy as np, pandas as pd
from bids.modeling.transformations import TransformerManager
from bids.variables import DenseRunVariable, SparseRunVariable
from bids.variables.collections import BIDSRunVariableCollection
from bids.variables.entities import RunInfo

def listed(array):
    return [None if isinstance(v, float) and v != v else v for v in np.ravel(array).tolist()]

def run(case):
    events, confounds = pd.DataFrame(case['events']), pd.DataFrame(case['confounds'])
    n, tr = case['n_volumes'], case['tr']
    info = RunInfo({'subject': '01'}, n * tr, tr, 'bold.nii.gz', n)
    variables = []
    for column in events.columns.drop(['onset', 'duration']):
        data = events[['onset', 'duration']].assign(amplitude=events[column], subject='01')
        variables.append(
            SparseRunVariable(name=column, data=data, run_info=[info], source='events'))
    for column in confounds.columns:
        variables.append(DenseRunVariable(name=column, values=confounds[[column]].to_numpy(),
                         run_info=[info], source='regressors', sampling_rate=1 / tr))
    collection = BIDSRunVariableCollection(variables, sampling_rate=case['rate'])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out = TransformerManager(keep_history=False).transform(collection, case['instructions'])
    return {name: {'values': listed(v.values), 'onset': listed(getattr(v, 'onset', [])),
                   'duration': listed(getattr(v, 'duration', []))}
            for name, v in out.variables.items()}

cases = json.load(sys.stdin)
json.dump({key: run(case) for key, case in cases.items()}, sys.stdout)
"""

ORACLE_EVENTS = pd.DataFrame(
    {
        'onset': [2.0, 10.0, 18.0, 26.0, 30.0],
        'duration': [4.0, 4.0, 4.0, 0.0, 2.0],
        'trial_type': ['face', 'house', 'face', 'house', 'face'],
        'rt': [0.5, 1.2, 0.7, 0.9, 0.4],
        'respnum': [1, 2, 1, 3, 2],
    }
)
ORACLE_CONFOUNDS = pd.DataFrame(
    {
        'trans_x': np.sin(np.arange(N_VOLUMES)),
        'fd': np.cos(np.arange(N_VOLUMES)),
    }
)
#: Events on a 0.5 s grid: at rate 1/TR pybids' fine grid has ceil(2 / 0.5 * TR) = 8 steps
#: per volume, from 0 s; its samples are then the volumes.
CONVOLVE_EVENTS = pd.DataFrame(
    {
        'onset': [2.0, 10.0, 18.0, 26.0, 31.5],
        'duration': [4.0, 4.0, 0.0, 3.0, 1.5],
        'amp': [1.0, 2.0, 1.0, -1.0, 0.5],
    }
)
CONVOLVE_VOLUMES = 30

ORACLE_CASES = {
    'factor': [{'Name': 'Factor', 'Input': ['trial_type']}],
    'factor_mean_zero': [{'Name': 'Factor', 'Input': ['respnum'], 'Constraint': 'mean_zero'}],
    'factor_ref_level': [{'Name': 'Factor', 'Input': ['trial_type'], 'RefLevel': 'house'}],
    'scale': [{'Name': 'Scale', 'Input': ['rt'], 'Output': ['z']}],
    'demean': [{'Name': 'Demean', 'Input': ['rt']}],
    'threshold': [{'Name': 'Threshold', 'Input': ['rt'], 'Threshold': 0.7}],
    'threshold_dense': [
        {
            'Name': 'Threshold',
            'Input': ['trans_x'],
            'Threshold': -0.5,
            'Above': False,
            'Binarize': True,
        }
    ],
    'sum': [{'Name': 'Sum', 'Input': ['rt', 'respnum'], 'Output': 's', 'Weights': [2, -1]}],
    'product': [{'Name': 'Product', 'Input': ['rt', 'respnum'], 'Output': 'p'}],
    'and': [{'Name': 'And', 'Input': ['rt', 'respnum'], 'Output': 'a'}],
    'or': [{'Name': 'Or', 'Input': ['rt', 'respnum'], 'Output': 'o'}],
    'not': [{'Name': 'Not', 'Input': ['respnum']}],
    'orthogonalize': [{'Name': 'Orthogonalize', 'Input': ['rt'], 'Other': ['respnum']}],
    'orthogonalize_dense': [{'Name': 'Orthogonalize', 'Input': ['trans_x'], 'Other': ['fd']}],
    'lag': [{'Name': 'Lag', 'Input': ['trans_x'], 'Output': 'lagged'}],
    'lag_difference': [
        {'Name': 'Lag', 'Input': ['trans_x'], 'Shift': -1, 'Difference': True, 'Mode': 'constant'}
    ],
    'split': [{'Name': 'Split', 'Input': ['rt'], 'By': ['trial_type']}],
    'filter': [{'Name': 'Filter', 'Input': ['rt'], 'Query': 'rt > 0.6'}],
    'filter_by': [
        {'Name': 'Filter', 'Input': ['rt'], 'Query': "trial_type == 'face'", 'By': 'trial_type'}
    ],
    'replace': [{'Name': 'Replace', 'Input': ['trial_type'], 'Replace': {'face': 'F'}}],
    'assign': [
        {
            'Name': 'Assign',
            'Input': ['rt'],
            'Target': 'respnum',
            'TargetAttr': 'duration',
            'Output': 'x',
        }
    ],
    'rename': [{'Name': 'Rename', 'Input': ['rt'], 'Output': ['RT']}],
    'copy': [{'Name': 'Copy', 'Input': ['rt', 'respnum'], 'OutputSuffix': '_copy'}],
    'select': [{'Name': 'Select', 'Input': ['rt', 'fd']}],
    'delete': [{'Name': 'Delete', 'Input': ['rt', 'fd']}],
    'dropna': [{'Name': 'DropNA', 'Input': ['rt']}],
    'todense': [{'Name': 'ToDense', 'Input': ['rt'], 'Output': 'rt_dense'}],
    'todense_tr': [
        {'Name': 'ToDense', 'Input': ['rt'], 'Output': 'rt_dense', 'SamplingRate': 0.5}
    ],
    'chain': [
        {'Name': 'Factor', 'Input': ['trial_type']},
        {'Name': 'Rename', 'Input': ['trial_type.face'], 'Output': ['face']},
        {'Name': 'Product', 'Input': ['face', 'rt'], 'Output': 'face_rt'},
        {'Name': 'Scale', 'Input': ['face_rt'], 'Rescale': False},
    ],
}
CONVOLVE_CASES = {
    'convolve_spm': [{'Name': 'Convolve', 'Input': ['amp'], 'Model': 'spm'}],
    'convolve_derivative': [
        {'Name': 'Convolve', 'Input': ['amp'], 'Model': 'spm', 'Derivative': True}
    ],
    'convolve_output': [{'Name': 'Convolve', 'Input': ['amp'], 'Model': 'SPM', 'Output': 'c'}],
}
SPLIT_BY_TWO = [{'Name': 'Split', 'Input': ['rt'], 'By': ['trial_type', 'respnum']}]
UNSIGNED = [{'Name': 'Threshold', 'Input': ['trans_x'], 'Threshold': 0.5, 'Signed': False}]


def _case(instructions, events, confounds, n_volumes, rate):
    return {
        'instructions': instructions,
        'events': events.to_dict('list'),
        'confounds': confounds.to_dict('list'),
        'n_volumes': n_volumes,
        'tr': TR,
        'rate': rate,
    }


@pytest.fixture(scope='module')
def pybids_results(tmp_path_factory):
    """What pybids makes of every oracle case, computed in one subprocess."""
    cases = {
        name: _case(instructions, ORACLE_EVENTS, ORACLE_CONFOUNDS, N_VOLUMES, 10)
        for name, instructions in {
            **ORACLE_CASES,
            'split_two': SPLIT_BY_TWO,
            'unsigned': UNSIGNED,
        }.items()
    }
    cases.update(
        {
            name: _case(instructions, CONVOLVE_EVENTS, pd.DataFrame(), CONVOLVE_VOLUMES, 1 / TR)
            for name, instructions in CONVOLVE_CASES.items()
        }
    )
    completed = subprocess.run(
        [sys.executable, '-c', _PYBIDS_SCRIPT],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=tmp_path_factory.mktemp('pybids'),
        check=False,
    )
    if "No module named 'bids'" in completed.stderr:
        pytest.skip('pybids is not installed (the test extra installs it)')
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def _as_floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _assert_same(ours: VariableCollection, theirs: dict, atol: float = 1e-12) -> None:
    assert set(ours.names) == set(theirs)
    for name in ours.names:
        mine, other = ours[name], theirs[name]
        if mine.values.dtype.kind in 'biuf':
            np.testing.assert_allclose(
                mine.values.astype(float), _as_floats(other['values']), atol=atol, err_msg=name
            )
        else:
            assert nan_list(mine.values) == other['values'], name
        if isinstance(mine, SparseVariable):
            assert mine.onset.tolist() == other['onset'], name
            assert mine.duration.tolist() == other['duration'], name


@pytest.mark.oracle
@pytest.mark.parametrize('case', ORACLE_CASES, ids=str)
def test_instructions_match_pybids(case, pybids_results):
    run = collection_from_run(RunTiming(N_VOLUMES, TR), ORACLE_EVENTS, ORACLE_CONFOUNDS)
    _assert_same(apply(run, *ORACLE_CASES[case]), pybids_results[case])


@pytest.mark.oracle
@pytest.mark.parametrize('case', CONVOLVE_CASES, ids=str)
def test_convolve_matches_pybids_on_its_grid(case, pybids_results):
    timing = RunTiming(CONVOLVE_VOLUMES, TR, oversampling=8, min_onset=0.0)
    out = apply(collection_from_run(timing, CONVOLVE_EVENTS), *CONVOLVE_CASES[case])
    _assert_same(out, pybids_results[case])


@pytest.mark.oracle
def test_split_leaves_out_the_combinations_pybids_makes_empty(pybids_results):
    theirs = pybids_results['split_two']
    out = apply(
        collection_from_run(RunTiming(N_VOLUMES, TR), ORACLE_EVENTS, ORACLE_CONFOUNDS),
        *SPLIT_BY_TWO,
    )
    empty = {name for name, variable in theirs.items() if not variable['values']}
    assert empty == {'rt.trial_type[face].respnum[3]', 'rt.trial_type[house].respnum[1]'}
    _assert_same(out, {k: v for k, v in theirs.items() if k not in empty})


@pytest.mark.oracle
def test_threshold_unsigned_keeps_the_sign_where_pybids_returns_absolute_values(pybids_results):
    out = apply(
        collection_from_run(RunTiming(N_VOLUMES, TR), ORACLE_EVENTS, ORACLE_CONFOUNDS), *UNSIGNED
    )
    theirs = _as_floats(pybids_results['unsigned']['trans_x']['values'])
    np.testing.assert_allclose(np.abs(out['trans_x'].values), theirs)
    assert (out['trans_x'].values < 0).sum() == 2
