"""The command-line options as a model: what a run does, and what --write-model writes."""

from __future__ import annotations

import json

import pytest

from bidsglm.dataset.design import DesignSpec
from bidsglm.dataset.options import model_file, options_first_level
from bidsglm.dataset.stats_models import read_stats_model
from bidsglm.errors import InvalidParameterError

SPEC = DesignSpec(x=(), hrf_model='spm', high_pass=0.01)


def _written(tmp_path, contrasts, **changes):
    path = tmp_path / 'model-x_smdl.json'
    arguments = {
        'trial_types': ['congruent', 'incongruent'],
        'confounds': ['trans_*'],
        'contrasts': contrasts,
        'spec': SPEC,
        'software': {'NoiseModel': 'ols'},
        'selection': {'task': ['stroop'], 'subject': []},
        **changes,
    }
    content = model_file(path, **arguments)
    assert json.loads(path.read_text()) == content
    return content


def test_the_written_model_holds_the_options_and_reads_back(tmp_path):
    content = _written(tmp_path, [('incMinusCon', 'incongruent - congruent')])
    run = content['Nodes'][0]
    assert content['Input'] == {'task': ['stroop']}  # an empty selection is left out
    assert run['Model']['X'] == ['congruent', 'incongruent', 'trans_*', 1]
    assert run['Model']['HRF'] == {'Variables': ['congruent', 'incongruent'], 'Model': 'spm'}
    assert run['Model']['Options'] == {'HighPassFilterCutoffHz': 0.01}
    assert run['Model']['Software'] == {'bidsglm': {'NoiseModel': 'ols'}}
    assert run['Contrasts'] == [
        {
            'Name': 'incMinusCon',
            'ConditionList': ['congruent', 'incongruent'],
            'Weights': [-1.0, 1.0],
            'Test': 't',
        }
    ]
    model = read_stats_model(tmp_path / 'model-x_smdl.json')
    assert model.run.model.noise_model == 'ols'


def test_an_f_contrast_and_the_intercept_are_written(tmp_path):
    content = _written(tmp_path, [('both', 'congruent, incongruent - constant')])
    assert content['Nodes'][0]['Contrasts'][0] == {
        'Name': 'both',
        'ConditionList': ['congruent', 'incongruent', 1],
        'Weights': [[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]],
        'Test': 'F',
    }


def test_without_contrasts_one_dummy_contrast_per_condition(tmp_path):
    content = _written(tmp_path, [])
    assert content['Nodes'][0]['DummyContrasts'] == {
        'Contrasts': ['congruent', 'incongruent'],
        'Test': 't',
    }


def test_a_contrast_of_a_drift_cannot_be_written(tmp_path):
    with pytest.raises(InvalidParameterError, match="--write-model: the contrast 'd'"):
        _written(tmp_path, [('d', 'drift_1')])


def test_the_options_run_node_uses_the_given_contrasts_or_one_per_condition():
    given = options_first_level(['a'], [], [('x', 'a')], SPEC)
    assert given.expressions == (('x', 'a'),)
    assert given.dummy is None
    assert given.spec.hrf_model == 'spm'
