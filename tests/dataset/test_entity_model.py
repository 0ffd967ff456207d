"""Session and Subject nodes whose X holds entities: a contrast across a subject's inputs."""

from __future__ import annotations

import numpy as np
import pytest

from bidsglm.dataset.entity_model import entity_design, entity_outputs, input_weights
from bidsglm.dataset.outputs import Output
from bidsglm.dataset.stats_models import Contrast, Node, NodeModel, read_stats_model
from bidsglm.errors import ContrastError, InvalidParameterError

WEIGHTS = ((('a', 1.0), ('b', -1.0)),)
DIFFERENCE = Contrast('testGtRetest', ('test', 'retest'), ((1.0, -1.0),), 't')


def _input(session: str, runs: tuple[int, ...], name: str = 'aMinusB') -> Output:
    return Output('session', name, WEIGHTS, 't', runs, (('ses', session), ('sub', '01')))


def _entities(runs: tuple[int, ...]) -> tuple[tuple[str, str], ...]:
    return (('sub', '01'),)


def test_the_difference_of_sessions_weights_each_run_by_its_sessions_share():
    # 1 retest run and 3 test runs: each session is the mean of its runs
    node = Node('Subject', 'compare', ('sub', 'contrast'), NodeModel('glm', ('session', '1')))
    node = Node(node.level, node.name, node.group_by, node.model, contrasts=(DIFFERENCE,))
    group = [_input('retest', (0,)), _input('test', (1, 2, 3))]
    (output,) = entity_outputs(node, group, _entities)
    assert output.name == 'aMinusB_testGtRetest'
    assert output.runs == (0, 1, 2, 3)
    np.testing.assert_allclose(output.factors(), [-1.0, 1 / 3, 1 / 3, 1 / 3])
    # one expression per run: the factor times the 4 runs the fixed effects average
    assert output.definition()[0] == '-4*`a` + 4*`b`'
    assert output.definition()[1].startswith('1.3333333333333')


def test_each_incoming_contrast_is_compared_on_its_own():
    node = Node(
        'Subject',
        'compare',
        ('sub', 'contrast'),
        NodeModel('glm', ('session', '1')),
        contrasts=(DIFFERENCE,),
    )
    group = [_input(s, (i,), n) for n in ('x', 'y') for i, s in enumerate(('retest', 'test'))]
    assert [o.name for o in entity_outputs(node, group, _entities)] == [
        'x_testGtRetest',
        'y_testGtRetest',
    ]


def test_an_input_without_the_entity_is_refused():
    members = [_input('a', (0,)), Output('s', 'c', WEIGHTS, 't', (1,), ())]
    with pytest.raises(ContrastError, match='some inputs have no session'):
        entity_design(['session'], members)


def test_a_label_absent_from_the_inputs_lists_the_columns():
    columns = entity_design(['session', '1'], [_input('a', (0,)), _input('b', (1,))])
    contrast = Contrast('c', ('test', 'a'), ((1.0, -1.0),), 't')
    with pytest.raises(ContrastError, match=r"'test'.*\['session.a', 'session.b', '1'\]"):
        input_weights(contrast, columns)


def test_a_contrast_the_inputs_cannot_estimate_is_refused():
    columns = entity_design(['session', '1'], [_input('a', (0,)), _input('b', (1,))])
    with pytest.raises(ContrastError, match='cannot be estimated'):
        input_weights(Contrast('c', ('a',), ((1.0,),), 't'), columns)  # session.a alone


def _model(compare: dict) -> dict:
    run = {
        'Level': 'Run',
        'Name': 'run',
        'GroupBy': ['run', 'session', 'subject'],
        'Model': {'Type': 'glm', 'X': ['a', 'b', 1]},
        'DummyContrasts': {'Contrasts': ['a'], 'Test': 't'},
    }
    base = {
        'Level': 'Subject',
        'Name': 'compare',
        'GroupBy': ['subject', 'contrast'],
        'Model': {'Type': 'glm', 'X': ['session', 1]},
        'Contrasts': [
            {'Name': 'd', 'ConditionList': ['test', 'retest'], 'Weights': [1, -1], 'Test': 't'}
        ],
    }
    return {'Name': 'm', 'BIDSModelVersion': '1.0.0', 'Nodes': [run, {**base, **compare}]}


def test_a_node_over_sessions_is_read():
    model = read_stats_model(_model({}))
    assert model.node('compare').model.x == ('session', '1')


@pytest.mark.parametrize(
    ('change', 'message'),
    [
        ({'GroupBy': ['subject']}, 'needs "contrast" in GroupBy'),
        ({'DummyContrasts': {'Test': 't'}}, 'dummy contrasts over entities'),
        ({'Contrasts': []}, 'needs contrasts over them'),
        (
            {
                'Contrasts': [
                    {'Name': 'f', 'ConditionList': ['test'], 'Weights': [[1]], 'Test': 'F'}
                ]
            },
            't contrasts',
        ),
        ({'Model': {'Type': 'glm', 'X': ['runs1_2', 1]}}, r'X must be \[1\] or entities'),
    ],
)
def test_a_node_over_entities_is_refused_where_it_cannot_run(change, message):
    with pytest.raises(InvalidParameterError, match=message):
        read_stats_model(_model(change))
