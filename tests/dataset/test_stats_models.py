"""Reading BIDS Stats Models: the supported chain, and an error for everything else."""

from __future__ import annotations

import copy
import json

import pytest

from bidsglm.dataset.stats_models import (
    Contrast,
    DummyContrasts,
    expand_variables,
    read_stats_model,
)
from bidsglm.design import HRF_MODELS
from bidsglm.design.contrasts import parse_contrast_expression
from bidsglm.errors import InputNotFoundError, InvalidParameterError

MODEL = {
    'Name': 'stroop',
    'BIDSModelVersion': '1.0.0',
    'Description': 'incongruent against congruent',
    'Input': {'task': ['stroop'], 'subject': ['sub-01', '02']},
    'Nodes': [
        {
            'Level': 'Run',
            'Name': 'run',
            'GroupBy': ['run', 'subject'],
            'Model': {
                'Type': 'glm',
                'X': ['congruent', 'incongruent', 'trans_*', 1],
                'HRF': {'Variables': ['congruent', 'incongruent'], 'Model': 'spm'},
                'Options': {'HighPassFilterCutoffHz': 0.008},
            },
            'Contrasts': [
                {
                    'Name': 'incongruentMinusCongruent',
                    'ConditionList': ['incongruent', 'congruent'],
                    'Weights': [1, -1],
                    'Test': 't',
                },
                {
                    'Name': 'thirds',
                    'ConditionList': ['incongruent', 'congruent', 1],
                    'Weights': ['1/3', '2/3', 0],
                    'Test': 't',
                },
                {
                    'Name': 'effectsOfInterest',
                    'ConditionList': ['incongruent', 'congruent'],
                    'Weights': [[1, 0], [0, 1]],
                    'Test': 'F',
                },
            ],
            'DummyContrasts': {'Contrasts': ['congruent'], 'Test': 't'},
        },
        {
            'Level': 'Subject',
            'Name': 'subject',
            'GroupBy': ['subject', 'contrast'],
            'Model': {'Type': 'meta', 'X': [1]},
            'DummyContrasts': {'Test': 't'},
        },
        {
            'Level': 'Dataset',
            'Name': 'dataset',
            'GroupBy': ['contrast'],
            'Model': {'Type': 'glm', 'X': [1, 'age']},
            'DummyContrasts': {'Contrasts': [1], 'Test': 't'},
            'Contrasts': [
                {'Name': 'older', 'ConditionList': ['age'], 'Weights': [1], 'Test': 't'}
            ],
        },
    ],
    'Edges': [
        {'Source': 'run', 'Destination': 'subject'},
        {'Source': 'subject', 'Destination': 'dataset'},
    ],
}


def _changed(path: tuple[object, ...], value: object) -> dict:
    """Return a copy of MODEL with the item at ``path`` set (or removed for ...)."""
    model = copy.deepcopy(MODEL)
    target = model
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return model


def test_read_stats_model_reads_the_three_nodes():
    model = read_stats_model(MODEL)
    assert model.name == 'stroop'
    assert model.input == {'task': ('stroop',), 'subject': ('01', '02')}
    assert model.run.x == ('congruent', 'incongruent', 'trans_*', '1')
    assert model.run.hrf_model == 'spm'
    assert model.run.hrf_variables == ('congruent', 'incongruent')
    assert model.run.high_pass == 0.008
    assert model.subject is not None
    assert model.subject.model_type == 'meta'
    assert model.dataset is not None
    assert model.dataset.x == ('1', 'age')


def test_read_stats_model_reads_weights_and_tests():
    contrasts = read_stats_model(MODEL).run.contrasts
    assert contrasts[0] == Contrast(
        'incongruentMinusCongruent', ('incongruent', 'congruent'), ((1.0, -1.0),), 't'
    )
    assert contrasts[1].weights == ((1 / 3, 2 / 3, 0.0),)
    assert contrasts[2].weights == ((1.0, 0.0), (0.0, 1.0))
    assert [c.stat_type for c in contrasts] == ['t', 't', 'F']


def test_read_stats_model_reads_a_file(tmp_path):
    path = tmp_path / 'model-stroop_smdl.json'
    path.write_text(json.dumps(MODEL))
    assert read_stats_model(path).run.name == 'run'


def test_contrast_expression_parses_to_the_weights():
    columns = ['congruent', 'incongruent', 'trans_x', 'constant']
    contrasts = read_stats_model(MODEL).run.contrasts
    thirds = parse_contrast_expression(contrasts[1].expression(), columns)
    assert thirds.tolist() == [2 / 3, 1 / 3, 0.0, 0.0]
    f_rows = parse_contrast_expression(contrasts[2].expression(), columns)
    assert f_rows.tolist() == [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]


def test_contrast_expression_maps_the_intercept():
    contrast = Contrast('c', ('1', 'a b'), ((-0.5, 2.0),), 't')
    assert contrast.expression('intercept') == '-0.5*`intercept` + 2*`a b`'
    weights = parse_contrast_expression(contrast.expression('intercept'), ['a b', 'intercept'])
    assert weights.tolist() == [2.0, -0.5]


def test_dummy_contrasts_expand_over_resolved_variables():
    model = read_stats_model(MODEL)
    names = [c.name for c in model.first_level_contrasts(['congruent', 'incongruent', '1'])]
    assert names == ['congruent', 'incongruentMinusCongruent', 'thirds', 'effectsOfInterest']
    assert DummyContrasts(None, 't').expand(['a', '1'])[1] == Contrast('1', ('1',), ((1.0,),), 't')


def test_subject_dummy_contrasts_keep_only_the_listed_run_contrasts():
    model = read_stats_model(_changed(('Nodes', 1, 'DummyContrasts'), {'Contrasts': ['thirds']}))
    names = [c.name for c in model.first_level_contrasts(['congruent', 'incongruent', '1'])]
    assert names == ['thirds']


def test_expand_variables_resolves_globs_in_order():
    available = ['congruent', 'incongruent', 'trans_x', 'trans_y', 'rot_x']
    resolved = expand_variables(['trans_*', 'congruent', '1', 'trans_x'], available)
    assert resolved == ['trans_x', 'trans_y', 'congruent', '1']


def test_expand_variables_names_close_matches():
    with pytest.raises(InvalidParameterError, match=r"'trans_X'.*did you mean 'trans_x'"):
        expand_variables(['trans_X'], ['trans_x', 'rot_x'])


def test_hrf_names_are_the_design_registry():
    model = _changed(('Nodes', 0, 'Model', 'HRF', 'Model'), 'afni')
    with pytest.raises(InvalidParameterError, match=r"HRF model 'afni' is not available") as info:
        read_stats_model(model)
    for name in HRF_MODELS:
        if name is not None:
            assert repr(name) in str(info.value)


def test_fir_needs_its_delays():
    model = _changed(('Nodes', 0, 'Model', 'HRF', 'Model'), 'fir')
    with pytest.raises(InvalidParameterError, match='needs "fir_delays"'):
        read_stats_model(model)
    model['Nodes'][0]['Model']['HRF']['Parameters'] = {'fir_delays': [0, 1, 2]}
    assert read_stats_model(model).run.fir_delays == (0, 1, 2)


@pytest.mark.parametrize(
    ('path', 'value', 'named'),
    [
        (
            ('Nodes', 0, 'Transformations'),
            {'Transformer': 'pybids-transforms-v1'},
            'Transformations',
        ),
        (('Nodes', 0, 'Model', 'Formula'), 'y ~ 1', 'Formula'),
        (('Nodes', 0, 'Model', 'Software'), {'FSL': {}}, 'Software'),
        (('Nodes', 0, 'Model', 'Options', 'LowPassFilterCutoffHz'), 0.1, 'LowPassFilterCutoffHz'),
        (('Nodes', 0, 'Model', 'Options', 'Mask'), {'desc': ['brain']}, 'Mask'),
        (('Edges', 0, 'Filter'), {'contrast': ['a']}, 'Filter'),
        (('Steps',), [], 'Steps'),
        (('Nodes', 0, 'Contrasts', 0, 'Type'), 't', 'Type'),
        (('Nodes', 0, 'Level'), 'Session', 'Session'),
        (('Nodes', 0, 'GroupBy'), ['run', 'subject', 'acquisition'], 'acquisition'),
        (('Nodes', 2, 'GroupBy'), [], 'Dataset'),
        (('Nodes', 1, 'Model', 'X'), [1, 'age'], 'X must be [1]'),
        (('Nodes', 1, 'DummyContrasts'), ..., 'DummyContrasts'),
        (('Nodes', 2, 'Model', 'X'), ['age'], 'intercept'),
        (('Input', 'acquisition'), 'x', 'acquisition'),
        (('Nodes', 0, 'Contrasts', 0, 'Weights'), [1, -1, 0], '3 weights for 2 conditions'),
        (('Nodes', 0, 'Contrasts', 0, 'Weights'), [[1, 0], [0, 1]], '2D weights need'),
        (('Nodes', 0, 'Contrasts', 0, 'Weights'), [0, 0], 'all zeros'),
        (('Nodes', 0, 'Contrasts', 0, 'Weights'), ['1/0', 1], "'1/0'"),
        (('Nodes', 0, 'Contrasts', 0, 'Test'), 'z', 'Test must be one of'),
        (('Nodes', 0, 'Contrasts', 0, 'ConditionList'), ['neutral', 'congruent'], "'neutral'"),
        (('Nodes', 0, 'Model', 'Type'), 'meta', 'Run level fits a "glm"'),
        (('BIDSModelVersion',), ..., 'BIDSModelVersion'),
        (('Edges', 0, 'Destination'), 'dataset', 'do not chain'),
    ],
)
def test_read_stats_model_names_what_is_not_supported(path, value, named):
    with pytest.raises(InvalidParameterError, match='BIDS Stats Model') as info:
        read_stats_model(_changed(path, value))
    assert named in str(info.value)


def test_read_stats_model_refuses_levels_out_of_order():
    model = copy.deepcopy(MODEL)
    model['Nodes'] = [model['Nodes'][2], model['Nodes'][0]]
    del model['Edges']
    with pytest.raises(InvalidParameterError, match=r"levels \['Dataset', 'Run'\]"):
        read_stats_model(model)


def test_read_stats_model_explains_bad_json(tmp_path):
    path = tmp_path / 'model.json'
    path.write_text('{"Name": "x",')
    with pytest.raises(InvalidParameterError, match='is not valid JSON'):
        read_stats_model(path)
    with pytest.raises(InputNotFoundError, match='does not exist'):
        read_stats_model(tmp_path / 'missing.json')


def test_read_stats_model_accepts_boolean_dummy_contrasts():
    model = read_stats_model(_changed(('Nodes', 0, 'DummyContrasts'), True))
    assert model.run.dummy == DummyContrasts(None, 't')
    assert read_stats_model(_changed(('Nodes', 0, 'DummyContrasts'), False)).run.dummy is None
