"""Reading BIDS Stats Models: every node, edge and grouping form, earlier spellings, refusals."""

from __future__ import annotations

import copy
import json
import re
import warnings

import pytest

from bidsglm.dataset.stats_models import (
    Contrast,
    DummyContrasts,
    Edge,
    Hrf,
    MaskSpec,
    ParametricModulation,
    contrast_matches,
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


def _changed(path: tuple[object, ...], value: object, model: dict | None = None) -> dict:
    """Return a copy of MODEL with the item at ``path`` set (or removed for ...)."""
    model = copy.deepcopy(MODEL if model is None else model)
    target = model
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return model


def _quietly(content: object):
    """Read a model, returning it and the earlier-spelling warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        model = read_stats_model(content)
    return model, [str(w.message) for w in caught]


# ---------------------------------------------------------------- the model
def test_read_stats_model_reads_the_three_nodes():
    model = read_stats_model(MODEL)
    assert model.name == 'stroop'
    assert model.input == {'task': ('stroop',), 'sub': ('01', '02')}
    run = model.run
    assert run.model.x == ('congruent', 'incongruent', 'trans_*', '1')
    assert run.model.hrf == Hrf('spm', ('congruent', 'incongruent'), None, 'spm')
    assert run.model.high_pass == 0.008
    assert [node.kind for node in model.nodes] == ['run', 'fixed', 'group']
    assert model.node('subject').model.type == 'meta'
    assert model.node('dataset').model.x == ('1', 'age')
    assert model.sources('dataset') == [Edge('subject', 'dataset')]


def test_read_stats_model_reads_weights_and_tests():
    contrasts = read_stats_model(MODEL).run.contrasts
    assert contrasts[0] == Contrast(
        'incongruentMinusCongruent', ('incongruent', 'congruent'), ((1.0, -1.0),), 't'
    )
    assert contrasts[1].weights == ((1 / 3, 2 / 3, 0.0),)
    assert contrasts[2].weights == ((1.0, 0.0), (0.0, 1.0))
    assert [c.stat_type for c in contrasts] == ['t', 't', 'F']
    assert [c.passes_on for c in contrasts] == [True, True, False]


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


def test_contrast_expression_maps_the_intercept_and_names():
    contrast = Contrast('c', ('1', 'a b'), ((-0.5, 2.0),), 't')
    assert contrast.expression('intercept') == '-0.5*`intercept` + 2*`a b`'
    mapped = contrast.expression('constant', {'a b': 'trial_type.a b'})
    assert mapped == '-0.5*`constant` + 2*`trial_type.a b`'
    weights = parse_contrast_expression(contrast.expression('intercept'), ['a b', 'intercept'])
    assert weights.tolist() == [2.0, -0.5]


def test_expand_variables_resolves_globs_in_order():
    available = ['congruent', 'incongruent', 'trans_x', 'trans_y', 'rot_x']
    resolved = expand_variables(['trans_*', 'congruent', '1', 'trans_x'], available)
    assert resolved == ['trans_x', 'trans_y', 'congruent', '1']


def test_expand_variables_names_close_matches():
    with pytest.raises(InvalidParameterError, match=r"'trans_X'.*did you mean 'trans_x'"):
        expand_variables(['trans_X'], ['trans_x', 'rot_x'])


# ------------------------------------------------------------- node forms
SESSION_MODEL = {
    'Name': 'sessions',
    'BIDSModelVersion': '1.0.0',
    'Nodes': [
        {
            'Level': 'Run',
            'Name': 'run',
            'GroupBy': ['run', 'session', 'subject'],
            'Model': {'Type': 'glm', 'X': ['trial_type.a', 'trial_type.b', 1]},
            'DummyContrasts': {'Test': 't'},
        },
        {
            'Level': 'Session',
            'Name': 'session',
            'GroupBy': ['session', 'subject', 'contrast'],
            'Model': {'Type': 'meta', 'X': [1]},
            'DummyContrasts': {'Test': 't'},
        },
        {
            'Level': 'Subject',
            'Name': 'subject',
            'GroupBy': ['subject', 'contrast'],
            'Model': {'Type': 'glm', 'X': [1]},
            'DummyContrasts': {'Test': 't'},
            'Contrasts': [{'Name': 'neg', 'ConditionList': [1], 'Weights': [-1], 'Test': 'FEMA'}],
        },
        {
            'Level': 'Dataset',
            'Name': 'by group',
            'GroupBy': ['contrast', 'group'],
            'Model': {'Type': 'glm', 'X': [1]},
            'DummyContrasts': {'Test': 't'},
        },
        {
            'Level': 'Dataset',
            'Name': 'cell means',
            'GroupBy': ['contrast'],
            'Model': {'Type': 'glm', 'X': ['group']},
            'Contrasts': [
                {
                    'Name': 'patientsMinusControls',
                    'ConditionList': ['group.patient', 'group.control'],
                    'Weights': [1, -1],
                    'Test': 't',
                }
            ],
        },
    ],
    'Edges': [
        {'Source': 'run', 'Destination': 'session'},
        {'Source': 'session', 'Destination': 'subject'},
        {'Source': 'subject', 'Destination': 'by group', 'Filter': {'contrast': ['trial_type.a']}},
        {'Source': 'subject', 'Destination': 'cell means', 'Filter': {'contrast': ['b']}},
    ],
}


def test_session_nodes_branches_and_edge_filters_are_read():
    model = read_stats_model(SESSION_MODEL)
    assert [(n.level, n.kind) for n in model.nodes] == [
        ('Run', 'run'),
        ('Session', 'fixed'),
        ('Subject', 'fixed'),
        ('Dataset', 'group'),
        ('Dataset', 'group'),
    ]
    assert model.node('session').group_by == ('ses', 'sub', 'contrast')
    assert [e.destination for e in model.children('subject')] == ['by group', 'cell means']
    assert model.sources('by group')[0].filter == {'contrast': ('trial_type.a',)}
    # bidspm's short name of a contrast: 'b' is 'trial_type.b'
    assert model.sources('cell means')[0].filter == {'contrast': ('b',)}
    assert model.node('subject').contrasts[0].test == 'FEMA'
    assert model.node('subject').contrasts[0].stat_type == 't'


@pytest.mark.parametrize(
    'group_by',
    [[], ['contrast'], ['contrast', 'group'], ['contrast', 'session'], ['group', 'sex']],
)
def test_every_dataset_grouping_is_read(group_by):
    model = _changed(('Nodes', 2, 'GroupBy'), group_by)
    if 'contrast' not in group_by:  # one contrast only reaches the node
        model['Edges'][1]['Filter'] = {'contrast': ['incongruentMinusCongruent']}
    assert read_stats_model(model).node('dataset').group_by == tuple(
        {'session': 'ses'}.get(k, k) for k in group_by
    )


@pytest.mark.parametrize(
    'group_by', [['run', 'subject'], ['subject'], [], ['session', 'subject'], ['run']]
)
def test_every_run_grouping_is_read(group_by):
    assert read_stats_model(_changed(('Nodes', 0, 'GroupBy'), group_by)).run.group_by == tuple(
        {'subject': 'sub', 'session': 'ses'}.get(k, k) for k in group_by
    )


def test_edges_default_to_the_order_of_the_nodes():
    model = read_stats_model(_changed(('Edges',), ...))
    assert [(e.source, e.destination) for e in model.edges] == [
        ('run', 'subject'),
        ('subject', 'dataset'),
    ]


def test_contrast_matches_reads_bidspm_short_names():
    assert contrast_matches('VisMot', 'trial_type.VisMot')
    assert contrast_matches('trial_type.VisMot', 'trial_type.VisMot')
    assert not contrast_matches('Vis', 'trial_type.VisMot')


def test_a_fixed_node_may_combine_incoming_contrasts():
    model = _changed(
        ('Nodes', 1, 'Contrasts'),
        [
            {
                'Name': 'thirdsMinusCongruent',
                'ConditionList': ['thirds', 'congruent'],
                'Weights': [1, -1],
                'Test': 't',
            }
        ],
    )
    assert read_stats_model(model).node('subject').contrasts[0].conditions == (
        'thirds',
        'congruent',
    )
    wrong = _changed(('Nodes', 1, 'Contrasts', 0, 'ConditionList'), ['thirds', 'missing'], model)
    with pytest.raises(InvalidParameterError, match="'missing' is neither 1 nor a contrast"):
        read_stats_model(wrong)


# --------------------------------------------------------------- HRF names
@pytest.mark.parametrize(
    ('written', 'kernel'),
    [
        ('spm', 'spm'),
        ('SPM', 'spm'),
        ('glover', 'glover'),
        ('spm + derivative', 'spm + derivative'),
        ('spm+derivative', 'spm + derivative'),
        ('Glover + Derivative + Dispersion', 'glover + derivative + dispersion'),
        ('DoubleGamma', 'spm'),
    ],
)
def test_hrf_names_used_in_the_wild_map_onto_kernels(written, kernel):
    model = _changed(('Nodes', 0, 'Model', 'HRF', 'Model'), written)
    assert read_stats_model(model).run.model.hrf.model == kernel


def test_unknown_hrf_names_list_the_known_ones():
    model = _changed(('Nodes', 0, 'Model', 'HRF', 'Model'), 'afni')
    with pytest.raises(InvalidParameterError, match=r"HRF model 'afni' is not available") as info:
        read_stats_model(model)
    for name in HRF_MODELS:
        if name is not None:
            assert repr(name) in str(info.value)
    assert 'DoubleGamma' in str(info.value)


def test_fir_needs_its_delays():
    model = _changed(('Nodes', 0, 'Model', 'HRF', 'Model'), 'fir')
    with pytest.raises(InvalidParameterError, match='needs "fir_delays"'):
        read_stats_model(model)
    model['Nodes'][0]['Model']['HRF']['Parameters'] = {'fir_delays': [0, 1, 2]}
    assert read_stats_model(model).run.model.hrf.fir_delays == (0, 1, 2)


def test_gamma_parameters_cannot_be_honoured():
    model = _changed(('Nodes', 0, 'Model', 'HRF', 'Parameters'), {'PeakDelay': 3})
    with pytest.raises(InvalidParameterError, match=r"\['PeakDelay'\] of the 'spm' HRF"):
        read_stats_model(model)


# ------------------------------------------------------ Software, Options
def test_software_options_with_a_meaning_are_read_the_others_noted():
    software = {
        'SPM': {
            'SerialCorrelation': 'AR(1)',
            'HRFderivatives': 'Temporal',
            'InclusiveMaskingThreshold': 0.8,
        },
        'bidspm': {'Results': [{'name': ['x']}]},
        'FSL': {'Anything': 1},
    }
    model = read_stats_model(_changed(('Nodes', 0, 'Model', 'Software'), software))
    assert model.run.model.noise_model == 'ar1'
    assert model.run.model.hrf.model == 'spm + derivative'
    assert model.notes == (
        'Nodes[0].Model.Software.SPM.InclusiveMaskingThreshold, '
        'Nodes[0].Model.Software.bidspm.Results, Nodes[0].Model.Software.FSL.Anything: '
        'not read by bidsglm',
    )


@pytest.mark.parametrize(
    ('software', 'noise', 'note'),
    [
        ({'SPM': {'SerialCorrelation': 'FAST'}}, None, "'FAST' is not available"),
        ({'SPM': {'SerialCorrelation': 'none'}}, 'ols', None),
        ({'SPM': {'whitening': 'AR(1)'}}, 'ar1', None),
        ({'bidsglm': {'NoiseModel': 'ols', 'SmoothingFWHM': 6}}, 'ols', None),
    ],
)
def test_serial_correlation_spellings(software, noise, note):
    model = read_stats_model(_changed(('Nodes', 0, 'Model', 'Software'), software))
    assert model.run.model.noise_model == noise
    assert (note is None) == (not model.notes)
    if note:
        assert note in model.notes[0]


def test_parametric_modulations_are_read():
    software = {
        'SPM': {
            'ParametricModulations': [
                {'Name': 'rt', 'Conditions': ['congruent'], 'Values': ['response_time']},
                {
                    'Name': 'lag mod',
                    'Conditions': ['congruent', 'incongruent'],
                    'Values': ['lag'],
                    'PolynomialExpansion': 2,
                },
            ]
        }
    }
    model = read_stats_model(_changed(('Nodes', 0, 'Model', 'Software'), software))
    assert model.run.model.modulations == (
        ParametricModulation('rt', ('congruent',), 'response_time', 1),
        ParametricModulation('lag mod', ('congruent', 'incongruent'), 'lag', 2),
    )


@pytest.mark.parametrize(
    ('modulation', 'message'),
    [
        (
            {'Name': 'a', 'Conditions': ['neutral'], 'Values': ['rt']},
            "ParametricModulations[0].Conditions: 'neutral' is not a convolved variable",
        ),
        (
            {'Name': 'a', 'Conditions': ['trans_x'], 'Values': ['rt']},
            "'trans_x' is not a convolved variable of Model.X",
        ),
        (
            {'Name': 'a', 'Conditions': ['congruent'], 'Values': ['rt', 'lag']},
            'expected one column of amplitudes',
        ),
        (
            {'Name': 'a', 'Conditions': ['congruent'], 'Values': ['rt'], 'PolynomialExpansion': 0},
            'expected a whole number >= 1',
        ),
        ({'Conditions': ['congruent'], 'Values': ['rt']}, "expected the modulator's name"),
        ({'Name': 'a', 'Values': ['rt']}, 'Conditions: expected a list of names'),
    ],
)
def test_parametric_modulations_are_checked_when_read(modulation, message):
    software = {'SPM': {'ParametricModulations': [modulation]}}
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        read_stats_model(_changed(('Nodes', 0, 'Model', 'Software'), software))


def test_options_at_other_levels_are_noted_not_refused():
    model = _changed(('Nodes', 1, 'Model', 'Options'), {'HighPassFilterCutoffHz': 0.008})
    model['Nodes'][2]['Model']['HRF'] = {'Variables': ['x'], 'Model': 'spm'}
    notes = read_stats_model(model).notes
    assert 'Nodes[1].Model.Options.HighPassFilterCutoffHz has no meaning' in notes[0]
    assert 'Nodes[2].Model.HRF has no meaning at the Dataset level' in notes[1]


@pytest.mark.parametrize(
    ('mask', 'read'),
    [
        (
            {'desc': ['brain'], 'suffix': ['mask']},
            MaskSpec({'desc': ('brain',), 'suffix': ('mask',)}),
        ),
        ({'desc': 'brain'}, MaskSpec({'desc': ('brain',), 'suffix': ('mask',)})),
        (
            {'space': ['MNI'], 'label': ['GM'], 'suffix': ['mask']},
            MaskSpec({'space': ('MNI',), 'label': ('GM',), 'suffix': ('mask',)}),
        ),
        ('derivatives/roi_mask.nii.gz', MaskSpec(path='derivatives/roi_mask.nii.gz')),
    ],
)
def test_mask_option_is_read(mask, read):
    model = read_stats_model(_changed(('Nodes', 0, 'Model', 'Options', 'Mask'), mask))
    assert model.run.model.mask == read
    assert model.run.model.mask.is_default == (
        mask in ({'desc': ['brain'], 'suffix': ['mask']}, {'desc': 'brain'})
    )


def test_low_pass_is_refused_with_the_reason():
    model = _changed(('Nodes', 0, 'Model', 'Options', 'LowPassFilterCutoffHz'), 0.15)
    with pytest.raises(InvalidParameterError, match='does not low-pass filter') as info:
        read_stats_model(model)
    assert 'LowPassFilterCutoffHz' in str(info.value)


# ------------------------------------------------------- earlier spellings
@pytest.mark.parametrize(
    ('path', 'value', 'check', 'note'),
    [
        (('BIDSModelVersion',), ..., lambda m: m.name == 'stroop', 'no BIDSModelVersion'),
        (('Nodes', 0, 'Level'), 'run', lambda m: m.run.level == 'Run', "Level 'run'"),
        (
            ('Nodes', 0, 'Contrasts', 0),
            {'Name': 'c', 'ConditionList': ['congruent'], 'Weights': [1], 'Type': 't'},
            lambda m: m.run.contrasts[0].test == 't',
            'Type: read as Test',
        ),
        (
            ('Nodes', 0, 'DummyContrasts'),
            {'Conditions': ['congruent'], 'Type': 't'},
            lambda m: m.run.dummy == DummyContrasts(('congruent',), 't'),
            'Conditions: read as Contrasts',
        ),
        (
            ('Nodes', 0, 'DummyContrasts'),
            True,
            lambda m: m.run.dummy == DummyContrasts(None, 't'),
            'DummyContrasts True',
        ),
        (('Nodes', 1, 'Model', 'Type'), ..., lambda m: m.nodes[1].model.type == 'glm', 'no Type'),
        (
            ('Nodes', 1, 'GroupBy'),
            ...,
            lambda m: m.nodes[1].group_by == ('sub', 'contrast'),
            'no GroupBy',
        ),
        (
            ('Nodes', 0, 'Transformations'),
            [{'Name': 'Factor', 'Input': ['trial_type']}],
            lambda m: m.run.transformations.transformer == 'pybids-transforms-v1',
            'Transformations as a list',
        ),
        (
            ('Nodes', 0, 'Transformations'),
            {'Transformer': 'cpp_spm', 'Instructions': [{'Name': 'Delete', 'Input': ['x']}]},
            lambda m: m.run.transformations.transformer == 'bidspm',
            "Transformer 'cpp_spm'",
        ),
        (
            ('Nodes', 0, 'Transformations'),
            {'Transformer': '', 'Instructions': [{'Name': '', 'Inputs': ['']}]},
            lambda m: m.run.transformations is None,
            'the empty template',
        ),
        (
            ('Nodes', 0, 'Model', 'Options', 'Mask'),
            '',
            lambda m: m.run.model.mask is None,
            'Mask is ""',
        ),
        (
            ('Nodes', 0, 'DummyContrasts'),
            {'Contrasts': ['congruent'], 'type': 't'},
            lambda m: m.run.dummy == DummyContrasts(('congruent',), 't'),
            'DummyContrasts.type: read as Test',
        ),
        # bidspm's templates: blank placeholders that were never filled in
        (
            ('Nodes', 0, 'Model', 'X'),
            ['congruent', '', 'incongruent', ' ', 1],
            lambda m: m.run.model.x == ('congruent', 'incongruent', '1'),
            'X holds blank placeholders: dropped',
        ),
        (
            ('Nodes', 0, 'Model', 'HRF', 'Variables'),
            [''],
            lambda m: m.run.model.hrf.variables is None,
            'Variables holds blank placeholders only: read as absent',
        ),
        (
            ('Nodes', 0, 'DummyContrasts', 'Contrasts'),
            [' '],
            lambda m: m.run.dummy == DummyContrasts(None, 't'),
            'Contrasts holds blank placeholders only',
        ),
        (
            ('Input', 'task'),
            [''],
            lambda m: 'task' not in m.input and m.input['sub'] == ('01', '02'),
            'Input.task holds blank placeholders only: read as absent',
        ),
        (
            ('Nodes', 0, 'Contrasts', 1),
            {'Name': '', 'ConditionList': [''], 'Weights': [''], 'Test': 't'},
            lambda m: (
                [c.name for c in m.run.contrasts]
                == ['incongruentMinusCongruent', 'effectsOfInterest']
            ),
            'a contrast never filled in (blank conditions) left out',
        ),
    ],
)
def test_earlier_spellings_are_read_with_one_warning(path, value, check, note):
    model, caught = _quietly(_changed(path, value))
    assert check(model)
    assert len(caught) == 1
    assert note in caught[0]
    assert 'earlier spellings' in caught[0]


DRAFT = {
    'Name': 'draft',
    'Input': {'task': 'stroop'},
    'Steps': [
        {
            'Level': 'run',
            'Transformations': [
                {'Name': 'Factor', 'Input': ['trial_type']},
                {'Name': 'Or', 'Input': ['trial_type.a', 'trial_type.b'], 'output': ['ab']},
            ],
            'Model': {'X': ['ab', 'trial_type.c']},
            'Contrasts': [
                {
                    'Name': 'abMinusC',
                    'ConditionList': ['ab', 'trial_type.c'],
                    'weights': [1, -1],
                    'type': 'T',
                }
            ],
        },
        {'Level': 'dataset', 'DummyContrasts': {'Conditions': ['abMinusC'], 'Type': 't'}},
    ],
}


def test_steps_are_read_as_nodes_chained_in_order_with_one_warning():
    model, caught = _quietly(DRAFT)
    assert [(node.level, node.name) for node in model.nodes] == [
        ('Run', 'run'),
        ('Dataset', 'dataset'),
    ]
    assert model.edges == (Edge('run', 'dataset'),)
    contrast = model.run.contrasts[0]
    assert (contrast.weights, contrast.test) == (((1.0, -1.0),), 't')
    assert model.run.transformations.instructions[1].outputs == ('ab',)
    assert model.node('dataset').model.x == ('1',)
    assert model.node('dataset').dummy == DummyContrasts(('abMinusC',), 't')
    assert len(caught) == 1
    for note in (
        'Steps (the pre-1.0 name of Nodes): read as Nodes',
        'Nodes[0].Contrasts[0].weights: read as Weights',
        'Nodes[0].Contrasts[0].Test "T": read as "t"',
        "Nodes[1] has no Model: read as X [1] (the draft's implicit intercept)",
    ):
        assert note in caught[0]


def test_steps_beside_nodes_are_refused():
    content = {**DRAFT, 'Nodes': MODEL['Nodes']}
    with pytest.raises(InvalidParameterError, match='gives both "Steps" and "Nodes"'):
        read_stats_model(content)


def test_a_run_step_without_model_is_refused():
    content = copy.deepcopy(DRAFT)
    del content['Steps'][0]['Model']
    with pytest.raises(InvalidParameterError, match=r'Nodes\[0\]: the node lacks "Model"'):
        _quietly(content)


def test_a_run_formula_is_read_and_its_contrasts_kept():
    model = _changed(('Nodes', 0, 'Model', 'Formula'), '0 + congruent * incongruent')
    model['Nodes'][0]['Contrasts'][0]['ConditionList'] = ['congruent:incongruent', 'congruent']
    read, caught = _quietly(model)
    assert read.run.model.formula == '0 + congruent * incongruent'
    assert read.run.contrasts[0].conditions == ('congruent:incongruent', 'congruent')
    assert caught == []


# ------------------------------------------- names the Run node's X lacks
def test_names_outside_x_are_left_out_with_one_warning_as_pybids_does():
    model = _changed(('Nodes', 0, 'Contrasts', 0, 'ConditionList'), ['neutral', 'congruent'])
    model['Nodes'][0]['Model']['HRF']['Variables'] = ['congruent', 'incongruent', 'neutral']
    model['Nodes'][0]['DummyContrasts']['Contrasts'] = ['congruent', 'neutrl']
    read, caught = _quietly(model)
    assert read.run.model.hrf.variables == ('congruent', 'incongruent')
    assert [c.name for c in read.run.contrasts] == ['thirds', 'effectsOfInterest']
    assert read.run.dummy == DummyContrasts(('congruent',), 't')
    assert caught == [
        "BIDS Stats Model, Nodes[0] (run): Model.X ['congruent', 'incongruent', 'trans_*', "
        "'1'] does not hold what these name, so they are left out, as pybids and bidspm do: "
        "HRF.Variables ['neutral'] (not convolved); the contrasts ['incongruentMinusCongruent'] "
        "(they name ['neutral']); the dummy contrasts ['neutrl']. Add the variables to X to "
        'keep them.'
    ]


def test_dummy_contrasts_all_outside_x_leave_none():
    model = _changed(('Nodes', 0, 'DummyContrasts', 'Contrasts'), ['neutral'])
    read, caught = _quietly(model)
    assert read.run.dummy is None
    assert "the dummy contrasts ['neutral'] (none left)" in caught[0]


def test_names_covered_by_globs_and_short_names_are_kept():
    model = _changed(
        ('Nodes', 0, 'Model', 'X'),
        ['trial_type.congruent', 'trial_type.incongruent', 'trans_*', 1],
    )
    model['Nodes'][0]['Model']['HRF']['Variables'] = [
        'trial_type.congruent',
        'trial_type.incongruent',
    ]
    model['Nodes'][0]['DummyContrasts']['Contrasts'] = ['trans_x']
    read, caught = _quietly(model)
    assert [c.name for c in read.run.contrasts] == [
        'incongruentMinusCongruent',
        'thirds',
        'effectsOfInterest',
    ]
    assert read.run.dummy.conditions == ('trans_x',)
    assert caught == []


# ------------------------------------------------------------------- bugs
def test_x_as_a_string_is_refused():
    model = _changed(('Nodes', 0, 'Model', 'X'), 'congruent')
    with pytest.raises(
        InvalidParameterError,
        match=re.escape("X: expected a list of names or 1, got 'congruent'. Write ['congruent']"),
    ):
        read_stats_model(model)


def test_a_deeply_nested_file_is_refused_cleanly(tmp_path):
    path = tmp_path / 'model.json'
    path.write_text('{"Name": ' + '[' * 100_000 + ']' * 100_000 + '}')
    with pytest.raises(InvalidParameterError, match='nests lists or objects too deeply'):
        read_stats_model(path)
    nested: dict = {'Name': 'x'}
    for _ in range(200):
        nested = {'Nodes': nested}
    with pytest.raises(InvalidParameterError, match='more than 64 levels deep'):
        read_stats_model(nested)


def test_a_lower_case_run_level_is_read_as_run():
    model, caught = _quietly(_changed(('Nodes', 0, 'Level'), 'run'))
    assert model.run.level == 'Run'
    assert 'Session' not in caught[0]


def test_dataset_dummy_contrasts_naming_unknown_contrasts_are_refused_when_read():
    model = _changed(('Nodes', 2, 'Model', 'X'), [1])
    model['Nodes'][2]['DummyContrasts'] = {'Contrasts': ['incongruentMinusCongruen'], 'Test': 't'}
    del model['Nodes'][2]['Contrasts']
    with pytest.raises(
        InvalidParameterError,
        match="'incongruentMinusCongruen' is not a contrast this node receives",
    ):
        read_stats_model(model)
    model['Nodes'][2]['DummyContrasts']['Contrasts'] = ['incongruentMinusCongruent']
    assert read_stats_model(model).node('dataset').dummy.conditions == (
        'incongruentMinusCongruent',
    )


def test_dataset_dummy_contrasts_over_x_are_checked_against_x():
    model = _changed(('Nodes', 2, 'DummyContrasts'), {'Contrasts': ['height'], 'Test': 't'})
    with pytest.raises(InvalidParameterError, match=r"'height' is not in Model.X \['1', 'age'\]"):
        read_stats_model(model)


def test_an_empty_contrast_name_is_refused():
    model = _changed(('Nodes', 0, 'Contrasts', 0, 'Name'), '')
    with pytest.raises(InvalidParameterError, match='expected a non-empty name'):
        read_stats_model(model)


def test_an_x_of_blank_placeholders_only_is_refused_with_one_warning():
    model = _changed(('Nodes', 0, 'Model', 'X'), [''])
    with (
        pytest.warns(UserWarning, match='X holds blank placeholders'),
        pytest.raises(InvalidParameterError, match='X: expected a list of names or 1, got an em'),
    ):
        read_stats_model(model)


BLANK_NODE = {
    'Level': 'Dataset',
    'Name': 'dataset',
    'GroupBy': [''],
    'Model': {'X': [''], 'Type': 'glm'},
    'Contrasts': [{'Name': '', 'ConditionList': [''], 'Weights': [''], 'Test': 't'}],
    'DummyContrasts': {'Test': 't', 'Contrasts': ['']},
}


def test_a_node_never_filled_in_is_left_out_with_its_edges():
    model = _changed(('Nodes', 2), BLANK_NODE)
    read, caught = _quietly(model)
    assert [node.name for node in read.nodes] == ['run', 'subject']
    assert read.edges == (Edge('run', 'subject'),)
    assert 'Nodes[2] is a template never filled in (blank X and contrasts): left out' in caught[0]


def test_a_run_node_never_filled_in_is_refused():
    model = {**MODEL, 'Nodes': [{**BLANK_NODE, 'Level': 'Run', 'Name': 'run'}]}
    del model['Edges']
    with pytest.raises(InvalidParameterError, match='the Run node is a template never filled in'):
        read_stats_model(model)


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ('path', 'value', 'named'),
    [
        (('Nodes', 0, 'Transformations'), {'Transformer': 'pybids-transforms-v1'}, 'Instructions'),
        (
            ('Nodes', 0, 'Transformations'),
            {
                'Transformer': 'pybids-transforms-v1',
                'Instructions': [{'Name': 'Dummify', 'Input': ['x']}],
            },
            "unknown instruction 'Dummify'",
        ),
        (('Nodes', 1, 'Model', 'Formula'), '1', 'a Formula at the Subject level'),
        (('Nodes', 0, 'Model', 'VarianceComponents'), [], 'Mixed models'),
        (('Nodes', 0, 'Model', 'Options', 'ReplaceVariables'), {}, 'voxel-wise regressors'),
        (('Nodes', 0, 'Model', 'Options', 'Mask'), {'suffix': ['probseg']}, 'binary mask'),
        (
            ('Edges', 0, 'Filter'),
            {'contrast': ['a']},
            "'a' is not a contrast that 'run' passes on",
        ),
        (('Nodes', 0, 'GroupBy'), ['run', 'subject', 'contrast'], 'groups runs by entities'),
        (('Nodes', 1, 'GroupBy'), ['contrast'], 'add "subject"'),
        (('Nodes', 1, 'GroupBy'), ['subject'], 'would mix the contrasts'),
        (('Nodes', 1, 'Model', 'X'), [1, 'age'], 'X must be [1]'),
        (
            ('Nodes', 1, 'Transformations'),
            {'Transformer': 'pybids-transforms-v1', 'Instructions': []},
            'no variables to transform',
        ),
        (('Nodes', 2, 'Model', 'Type'), 'meta', 'fixed effects across subjects are not available'),
        (('Nodes', 2, 'Contrasts', 0, 'Test'), 'FEMA', 'Test "FEMA"'),
        (
            ('Nodes', 2, 'Contrasts', 0, 'ConditionList'),
            ['height'],
            "'height' is used but is not in Model.X",
        ),
        (('Input', 'acquisition'), ['a', ['b']], 'expected text or numbers'),
        (('Nodes', 0, 'Contrasts', 0, 'Weights'), [1, -1, 0], '3 weights for 2 conditions'),
        (('Nodes', 0, 'Contrasts', 0, 'Weights'), [[1, 0], [0, 1]], '2D weights need'),
        (('Nodes', 0, 'Contrasts', 0, 'Weights'), [0, 0], 'all zeros'),
        (('Nodes', 0, 'Contrasts', 0, 'Weights'), ['1/0', 1], "'1/0'"),
        (('Nodes', 0, 'Contrasts', 0, 'Test'), 'z', 'Test must be one of'),
        (('Nodes', 0, 'Model', 'Type'), 'meta', 'the Run node fits a time-series "glm"'),
        (
            ('Nodes', 0, 'Level'),
            'Group',
            "expected one of ['Run', 'Session', 'Subject', 'Dataset']",
        ),
        (('Edges', 0, 'Destination'), 'nowhere', "'nowhere' is not the Name of a node"),
        (
            ('Edges',),
            [{'Source': 'run', 'Destination': 'subject'}] * 2,
            'expected one edge into the node, got 2',
        ),
        (('Edges', 1, 'Destination'), 'run', 'does not go up the levels'),
        (('Nodes', 1, 'Name'), 'run', "the node name 'run' is given twice"),
    ],
)
def test_read_stats_model_names_what_is_not_supported(path, value, named):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(InvalidParameterError, match='BIDS Stats Model') as info:
            read_stats_model(_changed(path, value))
    assert named in str(info.value)


def test_read_stats_model_refuses_a_graph_without_run_node():
    model = copy.deepcopy(MODEL)
    model['Nodes'] = [model['Nodes'][2]]
    del model['Edges']
    with pytest.raises(InvalidParameterError, match='expected one Run node, got 0'):
        read_stats_model(model)


def test_read_stats_model_explains_bad_json(tmp_path):
    path = tmp_path / 'model.json'
    path.write_text('{"Name": "x",')
    with pytest.raises(InvalidParameterError, match='is not valid JSON'):
        read_stats_model(path)
    with pytest.raises(InputNotFoundError, match='does not exist'):
        read_stats_model(tmp_path / 'missing.json')
