"""bidspm's parametric modulations: SPM's regressors, checked by hand on three or four events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bidsglm.dataset.design import DesignSpec, run_design
from bidsglm.dataset.modulations import add_modulations
from bidsglm.dataset.stats_models import ParametricModulation
from bidsglm.dataset.transformations import RunTiming, SparseVariable, VariableCollection
from bidsglm.design import make_first_level_design_matrix
from bidsglm.errors import InvalidParameterError

ONSETS = [0.0, 10.0, 20.0, 30.0]
FACE = 'trial_type.face'


def _collection(condition: list[float], **columns: list[object]) -> VariableCollection:
    variables = {FACE: SparseVariable(FACE, ONSETS, [1.0] * 4, condition)}
    for name, values in columns.items():
        variables[name] = SparseVariable(name, ONSETS, [1.0] * 4, values)
    return VariableCollection(variables, RunTiming(30, 2.0))


def _modulated(collection: VariableCollection, *modulations: ParametricModulation) -> dict:
    made, names = add_modulations(collection, [FACE], modulations)
    return {name: made[name].values.tolist() for name in names}


def test_a_first_order_modulation_is_the_amplitudes_minus_their_mean_over_the_condition():
    collection = _collection([1, 0, 1, 1], lag=[2.0, 100.0, 4.0, 9.0])
    made = _modulated(collection, ParametricModulation('lag', (FACE,), 'lag'))
    assert made == {'trial_type.facexlag^1': pytest.approx([-3.0, -1.0, 4.0])}


def test_a_second_order_modulation_is_orthogonal_to_the_first():
    # a = 1, 2, 3: a - mean = -1, 0, 1; a**2 = 1, 4, 9 minus its mean 14/3 and minus
    # 4 * (a - mean) (its projection) = 1/3, -2/3, 1/3.
    collection = _collection([1, 1, 1, 0], lag=[1.0, 2.0, 3.0, 7.0])
    made = _modulated(collection, ParametricModulation('lag', (FACE,), 'lag', 2))
    assert made == {
        'trial_type.facexlag^1': pytest.approx([-1.0, 0.0, 1.0]),
        'trial_type.facexlag^2': pytest.approx([1 / 3, -2 / 3, 1 / 3]),
    }


def test_a_later_modulation_is_orthogonalised_to_the_earlier_ones():
    # b = 1, 2, 4 minus its mean 7/3, minus 3/2 * (-1, 0, 1) = 1/6, -1/3, 1/6.
    collection = _collection([1, 1, 1, 0], a=[1.0, 2.0, 3.0, 0.0], b=[1.0, 2.0, 4.0, 0.0])
    made = _modulated(
        collection,
        ParametricModulation('a', (FACE,), 'a'),
        ParametricModulation('b', ('face',), 'b'),  # bidspm's short name
    )
    assert made == {
        'trial_type.facexa^1': pytest.approx([-1.0, 0.0, 1.0]),
        'trial_type.facexb^1': pytest.approx([1 / 6, -1 / 3, 1 / 6]),
    }


def test_a_missing_amplitude_counts_as_1_and_amplitudes_all_1_add_nothing():
    collection = _collection([1, 1, 0, 0], lag=[np.nan, 3.0, 5.0, 5.0], one=[1.0, np.nan, 2, 2])
    made = _modulated(
        collection,
        ParametricModulation('lag', (FACE,), 'lag'),
        ParametricModulation('one', (FACE,), 'one'),
    )
    assert made == {'trial_type.facexlag^1': pytest.approx([-1.0, 1.0])}


def test_a_condition_not_listed_is_not_modulated():
    collection = _collection([1, 1, 0, 0], lag=[1.0, 3.0, 5.0, 5.0])
    made, names = add_modulations(
        collection, [FACE], [ParametricModulation('lag', ('trial_type.house',), 'lag')]
    )
    assert names == []
    assert made.names == collection.names


@pytest.mark.parametrize(
    ('columns', 'message'),
    [
        ({}, "'lag' is not an events column of this run"),
        ({'lag': ['a', 'b', 'c', 'd']}, "'lag' holds text, not numbers"),
    ],
)
def test_a_bad_values_column_is_refused(columns, message):
    collection = _collection([1, 1, 0, 0], **columns)
    with pytest.raises(InvalidParameterError, match=message):
        add_modulations(collection, [FACE], [ParametricModulation('lag', (FACE,), 'lag')])


def test_values_of_other_events_are_matched_by_onset_and_duration():
    collection = _collection([1, 0, 1, 0])
    shifted = SparseVariable('lag', [20.0, 0.0], [1.0, 1.0], [5.0, 1.0])
    collection = collection.with_variables({**collection.variables, 'lag': shifted})
    made = _modulated(collection, ParametricModulation('lag', (FACE,), 'lag'))
    assert made == {'trial_type.facexlag^1': pytest.approx([-2.0, 2.0])}
    missing = SparseVariable('lag', [0.0], [1.0], [5.0])
    collection = collection.with_variables({**collection.variables, 'lag': missing})
    with pytest.raises(InvalidParameterError, match='no single value for the event'):
        _modulated(collection, ParametricModulation('lag', (FACE,), 'lag'))


def test_the_run_design_convolves_the_modulated_events_beside_the_conditions():
    events = pd.DataFrame(
        {
            'onset': [4.0, 20.0, 36.0, 50.0],
            'duration': 2.0,
            'trial_type': ['face', 'house', 'face', 'face'],
            'lag': [1.0, 8.0, 2.0, 6.0],
        }
    )
    spec = DesignSpec(
        x=('trial_type.face', 'trial_type.house', '1'),
        hrf_model='spm',
        modulations=(ParametricModulation('lag', ('trial_type.face',), 'lag'),),
    )
    made = run_design(events, None, RunTiming(40, 2.0), spec)
    columns = ['trial_type.face', 'trial_type.facexlag^1', 'trial_type.house']  # by name
    assert list(made.design.columns[:3]) == columns
    assert made.variables == ('trial_type.face', 'trial_type.house')
    by_hand = pd.DataFrame(
        {
            'onset': [4.0, 20.0, 36.0, 50.0, 4.0, 36.0, 50.0],
            'duration': 2.0,
            'trial_type': ['face', 'house', 'face', 'face', *['facexlag'] * 3],
            'modulation': [1.0, 1.0, 1.0, 1.0, -2.0, -1.0, 3.0],  # lag minus 3 over faces
        }
    )
    expected = make_first_level_design_matrix(
        np.arange(40) * 2.0, events=by_hand, hrf_model='spm', high_pass=0.01
    )
    np.testing.assert_allclose(made.design['trial_type.facexlag^1'], expected['facexlag'])
    np.testing.assert_allclose(made.design['trial_type.face'], expected['face'])
