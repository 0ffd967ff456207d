"""End to end: BIDS Stats Models as others write them, run on small synthetic datasets.

Each test writes one model file in the style of a peer (a Session-level model, a
branching graph with edge filters, a cell-means group model, FitLins' ``Factor``
then ``Convolve``, bidspm's ``trial_type.<value>`` with ``Software``), runs the
command line on the fake dataset of ``_fake_bids.py`` and checks the saved files
and their numbers against a computation by hand.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm.cli import main
from bidsglm.design import make_first_level_design_matrix

from ._fake_bids import SPACE, make_fake_dataset

if TYPE_CHECKING:
    from types import ModuleType

    from ._fake_bids import FakeDataset

ENTITIES = f'task-stroop_space-{SPACE}'
RUN_NODE = {
    'Level': 'Run',
    'Name': 'run',
    'GroupBy': ['run', 'subject'],
    'Model': {'Type': 'glm', 'X': ['congruent', 'incongruent', 'trans_*', 1]},
    'Contrasts': [
        {
            'Name': 'incMinusCon',
            'ConditionList': ['incongruent', 'congruent'],
            'Weights': [1, -1],
            'Test': 't',
        }
    ],
    'DummyContrasts': {'Contrasts': ['congruent', 'incongruent'], 'Test': 't'},
}
SUBJECT_NODE = {
    'Level': 'Subject',
    'Name': 'subject',
    'GroupBy': ['subject', 'contrast'],
    'Model': {'Type': 'meta', 'X': [1]},
    'DummyContrasts': {'Test': 't'},
}


def _model(tmp_path: Path, nodes: list[dict], **extra: object) -> str:
    path = tmp_path / 'model-test_smdl.json'
    content = {'Name': 'test', 'BIDSModelVersion': '1.0.0', 'Input': {'task': ['stroop']}}
    path.write_text(json.dumps({**content, 'Nodes': nodes, **extra}), encoding='utf-8')
    return str(path)


def _run(ds: FakeDataset, out: Path, level: str, model: str, *extra: str) -> int:
    return main([str(ds.bids_dir), str(out), level, '--model', model, *extra])


def _data(path: Path) -> np.ndarray:
    return np.asanyarray(nib.load(path).dataobj).astype(float)


def _fixed_effects(effects: list[np.ndarray], variances: list[np.ndarray]) -> tuple:
    """bidsglm's (and nilearn's) fixed effects by hand: mean effect, variance sum / k**2."""
    k = len(effects)
    return sum(effects) / k, sum(variances) / k**2


def _validator() -> ModuleType:
    """tests/bids/_validator.py, loaded by path (tests/ is not a package)."""
    path = Path(__file__).parents[1] / 'bids' / '_validator.py'
    spec = importlib.util.spec_from_file_location('_bidsglm_test_validator', path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _tree(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob('*') if p.is_file()}


def test_a_session_level_model_combines_each_sessions_runs(tmp_path, rng):
    ds = make_fake_dataset(tmp_path, rng, n_subjects=1, sessions=('1', '2'))
    session = {
        'Level': 'Session',
        'Name': 'session',
        'GroupBy': ['subject', 'session', 'contrast'],
        'Model': {'Type': 'meta', 'X': [1]},
        'DummyContrasts': {'Test': 't'},
    }
    run_node = {**RUN_NODE, 'GroupBy': ['run', 'session', 'subject']}
    model = _model(tmp_path, [run_node, session, SUBJECT_NODE])
    out = tmp_path / 'out'
    assert _run(ds, out, 'participant', model) == 0
    assert sorted(p.name for p in out.iterdir()) == ['node-run', 'node-session', 'node-subject']
    runs = out / 'node-run' / 'sub-01'
    by_session = []
    for ses in ('1', '2'):
        stems = [
            runs / f'ses-{ses}' / 'func' / f'sub-01_ses-{ses}_task-stroop_run-{r}_space-{SPACE}'
            for r in (1, 2)
        ]
        contrast = '_contrast-incMinusCon_stat-{}_statmap.nii.gz'
        effects = [_data(f'{s}{contrast.format("effect")}') for s in stems]
        variances = [_data(f'{s}{contrast.format("variance")}') for s in stems]
        saved = (
            out
            / 'node-session'
            / 'sub-01'
            / f'ses-{ses}'
            / 'func'
            / f'sub-01_ses-{ses}_{ENTITIES}_contrast-incMinusCon_stat-effect_statmap.nii.gz'
        )
        inside = variances[0] > 0
        effect, variance = _fixed_effects(effects, variances)
        np.testing.assert_allclose(_data(saved)[inside], effect[inside], rtol=1e-6)
        np.testing.assert_allclose(
            _data(str(saved).replace('stat-effect', 'stat-variance'))[inside],
            variance[inside],
            rtol=1e-6,
        )
        by_session.append(effect)
    subject = (
        out
        / 'node-subject'
        / 'sub-01'
        / 'func'
        / f'sub-01_{ENTITIES}_contrast-incMinusCon_stat-effect_statmap.nii.gz'
    )
    expected = (by_session[0] + by_session[1]) / 2
    np.testing.assert_allclose(_data(subject)[inside], expected[inside], rtol=1e-6)


def test_a_branching_model_sends_each_branch_what_its_edge_filter_keeps(
    tmp_path, rng, tmp_path_factory
):
    ds = make_fake_dataset(tmp_path, rng, n_subjects=3)
    nodes = [
        RUN_NODE,
        SUBJECT_NODE,
        {
            'Level': 'Dataset',
            'Name': 'difference',
            'GroupBy': ['contrast'],
            'Model': {'Type': 'glm', 'X': [1]},
            'DummyContrasts': {'Test': 't'},
        },
        {
            'Level': 'Dataset',
            'Name': 'conditions',
            'GroupBy': ['contrast'],
            'Model': {'Type': 'glm', 'X': [1]},
            'DummyContrasts': {'Test': 't'},
        },
    ]
    edges = [
        {'Source': 'run', 'Destination': 'subject'},
        {
            'Source': 'subject',
            'Destination': 'difference',
            'Filter': {'contrast': ['incMinusCon']},
        },
        {
            'Source': 'subject',
            'Destination': 'conditions',
            'Filter': {'contrast': ['congruent', 'incongruent']},
        },
    ]
    model = _model(tmp_path, nodes, Edges=edges)
    out = tmp_path / 'out'
    assert _run(ds, out, 'participant', model) == 0
    assert _run(ds, out, 'group', model) == 0
    difference = {n for n in _tree(out / 'node-difference') if n.endswith('_statmap.nii.gz')}
    conditions = {n for n in _tree(out / 'node-conditions') if n.endswith('_statmap.nii.gz')}
    assert {n.split('_desc-')[1] for n in difference} == {'incMinusCon_statmap.nii.gz'}
    assert {n.split('_desc-')[1] for n in conditions} == {
        'congruent_statmap.nii.gz',
        'incongruent_statmap.nii.gz',
    }
    # the group mean of the subjects' effects, by hand
    subjects = sorted(
        (out / 'node-subject').glob('sub-*/func/*_contrast-incMinusCon_stat-effect_statmap.nii.gz')
    )
    mean = np.mean([_data(p) for p in subjects], axis=0)
    saved = _data(
        out
        / 'node-difference'
        / f'{ENTITIES}_contrast-incMinusCon_stat-effect_desc-incMinusCon_statmap.nii.gz'
    )
    inside = saved != 0
    assert inside.sum() > 100
    np.testing.assert_allclose(saved[inside], mean[inside], rtol=1e-6)
    # each node's folder is a derivative dataset of its own, and passes the validator
    validator = _validator()
    schema = validator.build_extended_schema(tmp_path_factory.mktemp('schema'))
    for node in ('run', 'subject', 'difference', 'conditions'):
        result = validator.run_validator(out / f'node-{node}', schema)
        assert result.errors == [], node


def test_a_cell_means_group_model_reads_participants_categories(tmp_path, rng):
    ds = make_fake_dataset(tmp_path, rng, n_subjects=4)
    dataset = {
        'Level': 'Dataset',
        'Name': 'groups',
        'GroupBy': ['contrast'],
        'Model': {'Type': 'glm', 'X': ['group.control', 'group.patient']},
        'Contrasts': [
            {
                'Name': 'patientMinusControl',
                'ConditionList': ['group.patient', 'group.control'],
                'Weights': [1, -1],
                'Test': 't',
            }
        ],
        'DummyContrasts': {'Contrasts': ['group.control'], 'Test': 't'},
    }
    edges = [
        {'Source': 'run', 'Destination': 'subject'},
        {'Source': 'subject', 'Destination': 'groups', 'Filter': {'contrast': ['incMinusCon']}},
    ]
    model = _model(tmp_path, [RUN_NODE, SUBJECT_NODE, dataset], Edges=edges)
    out = tmp_path / 'out'
    assert _run(ds, out, 'participant', model) == 0
    assert _run(ds, out, 'group', model) == 0
    effects = {
        s: _data(
            out
            / 'node-subject'
            / f'sub-{s}'
            / 'func'
            / f'sub-{s}_{ENTITIES}_contrast-incMinusCon_stat-effect_statmap.nii.gz'
        )
        for s in ds.subjects
    }
    control = (effects['01'] + effects['03']) / 2  # participants.tsv: control, patient in turn
    patient = (effects['02'] + effects['04']) / 2
    folder = out / 'node-groups'
    name = f'{ENTITIES}_contrast-{{}}_stat-effect_desc-incMinusCon_statmap.nii.gz'
    difference = _data(folder / name.format('patientMinusControl'))
    inside = difference != 0
    assert inside.sum() > 100
    np.testing.assert_allclose(difference[inside], (patient - control)[inside], rtol=1e-6)
    mean = _data(folder / name.format('groupControl'))
    np.testing.assert_allclose(mean[inside], control[inside], rtol=1e-6)


def _subject_effect(out: Path, node: str, contrast: str) -> np.ndarray:
    return _data(
        out
        / node
        / 'sub-01'
        / 'func'
        / f'sub-01_{ENTITIES}_contrast-{contrast}_stat-effect_statmap.nii.gz'
    )


def test_a_fitlins_model_factor_then_convolve_equals_the_options(tmp_path, rng):
    ds = make_fake_dataset(tmp_path, rng, n_subjects=1)
    conditions = ['trial_type.congruent', 'trial_type.incongruent']
    run_node = {
        'Level': 'Run',
        'Name': 'run',
        'GroupBy': ['run', 'subject'],
        'Transformations': {
            'Transformer': 'pybids-transforms-v1',
            'Instructions': [
                {'Name': 'Factor', 'Input': ['trial_type']},
                {'Name': 'Convolve', 'Input': conditions, 'Model': 'spm'},
            ],
        },
        'Model': {'Type': 'glm', 'X': [*conditions, 'trans_x', 'trans_y', 'trans_z', 1]},
        'Contrasts': [
            {
                'Name': 'incongruent_vs_congruent',
                'ConditionList': conditions[::-1],
                'Weights': [1, -1],
                'Test': 't',
            }
        ],
    }
    model = _model(tmp_path, [run_node, SUBJECT_NODE])
    out = tmp_path / 'out'
    assert _run(ds, out, 'participant', model) == 0
    design = pd.read_csv(
        out
        / 'node-run'
        / 'sub-01'
        / 'func'
        / f'sub-01_task-stroop_run-1_space-{SPACE}_design.tsv',
        sep='\t',
    )
    assert list(design.columns[:5]) == [*conditions, 'trans_x', 'trans_y', 'trans_z']
    options = tmp_path / 'options'
    flags = ['--hrf-model', 'spm', '--confounds', 'trans_x', 'trans_y', 'trans_z', '-q']
    contrast = ['--contrast', 'incongruentVsCongruent=incongruent - congruent']
    assert main([str(ds.bids_dir), str(options), 'participant', *flags, *contrast]) == 0
    by_model = _subject_effect(out, 'node-subject', 'incongruentVsCongruent')
    by_options = _subject_effect(tmp_path, 'options', 'incongruentVsCongruent')
    inside = by_options != 0
    assert inside.sum() > 100
    np.testing.assert_allclose(by_model[inside], by_options[inside], rtol=1e-6)


def test_a_bidspm_model_with_software_runs_and_says_what_it_ignores(tmp_path, rng, caplog):
    ds = make_fake_dataset(tmp_path, rng, n_subjects=1)
    caplog.set_level(logging.INFO, logger='bidsglm')
    conditions = ['trial_type.congruent', 'trial_type.incongruent']
    run_node = {
        'Level': 'Run',
        'Name': 'run_level',
        'GroupBy': ['run', 'subject'],
        'Model': {
            'Type': 'glm',
            'X': [*conditions, 'trans_?', 'rot_?'],
            'HRF': {'Variables': conditions, 'Model': 'spm'},
            'Options': {
                'HighPassFilterCutoffHz': 0.008,
                'Mask': {'desc': ['brain'], 'suffix': ['mask']},
            },
            'Software': {
                'SPM': {'SerialCorrelation': 'AR(1)', 'InclusiveMaskingThreshold': 0.8},
                'bidspm': {'Results': [{'name': ['incongruent_gt_congruent']}]},
            },
        },
        'Contrasts': [
            {
                'Name': 'incongruent_gt_congruent',
                'ConditionList': conditions[::-1],
                'Weights': [1, -1],
                'Test': 't',
            }
        ],
        'DummyContrasts': {'Test': 't', 'Contrasts': ['congruent', 'incongruent']},
    }
    subject = {**SUBJECT_NODE, 'Name': 'subject_level'}
    model = _model(tmp_path, [run_node, subject])
    out = tmp_path / 'out'
    assert _run(ds, out, 'participant', model) == 0
    saved = _tree(out / 'node-subjectLevel')
    stem = f'sub-01/func/sub-01_{ENTITIES}_contrast-'
    for label in ('incongruentGtCongruent', 'congruent', 'incongruent'):
        assert f'{stem}{label}_stat-t_statmap.nii.gz' in saved
    assert 'InclusiveMaskingThreshold' in caplog.text
    sidecar_path = out / 'node-subjectLevel' / f'{stem}incongruentGtCongruent_stat-t_statmap.json'
    sidecar = json.loads(sidecar_path.read_text())
    assert sidecar['Contrast']['Name'] == 'incongruent_gt_congruent'


@pytest.mark.parametrize('level', ['participant'])
def test_write_model_then_model_gives_the_same_maps(tmp_path, rng, level):
    ds = make_fake_dataset(tmp_path, rng, n_subjects=1)
    written = tmp_path / 'model-written_smdl.json'
    flags = ['--confounds', 'trans_*', '--contrast', 'incMinusCon=incongruent - congruent', '-q']
    args = [str(ds.bids_dir), str(tmp_path / 'unused'), level, *flags]
    assert main([*args, '--write-model', str(written)]) == 0
    assert not (tmp_path / 'unused').exists() or not any((tmp_path / 'unused').rglob('*.nii.gz'))
    content = json.loads(written.read_text())
    assert content['BIDSModelVersion'] == '1.0.0'
    assert [node['Level'] for node in content['Nodes']] == ['Run', 'Dataset']
    options, by_model = tmp_path / 'options', tmp_path / 'model'
    assert main([str(ds.bids_dir), str(options), level, *flags]) == 0
    assert _run(ds, by_model, level, str(written)) == 0
    assert content['Nodes'][0]['GroupBy'] == ['subject']  # one model of all the runs
    name = f'sub-01/func/sub-01_{ENTITIES}_contrast-incMinusCon_stat-effect_statmap.nii.gz'
    np.testing.assert_array_equal(_data(by_model / 'node-subject' / name), _data(options / name))


def test_dummy_contrasts_over_an_x_holding_1_leave_the_intercept_out(tmp_path, rng):
    ds = make_fake_dataset(tmp_path, rng, n_subjects=1)
    run_node = {
        'Level': 'Run',
        'Name': 'run',
        'GroupBy': ['run', 'subject'],
        'Model': {'Type': 'glm', 'X': ['congruent', 'incongruent', 1]},
        'DummyContrasts': {'Test': 't'},
    }
    out = tmp_path / 'out'
    assert _run(ds, out, 'participant', _model(tmp_path, [run_node]), '-q') == 0
    labels = {
        name.split('_contrast-')[1].split('_')[0]
        for name in _tree(out / 'node-run')
        if '_contrast-' in name and name.endswith('_statmap.nii.gz')
    }
    assert labels == {'congruent', 'incongruent'}


def test_a_model_is_checked_against_the_dataset_listing_every_problem_at_once(
    tmp_path, rng, capsys
):
    ds = make_fake_dataset(tmp_path, rng, n_subjects=3)
    for subject in ('02', '03'):  # two subjects miss a confound the model names
        for path in ds.func(subject).glob('*_desc-confounds_timeseries.tsv'):
            table = pd.read_csv(path, sep='\t')
            table.drop(columns='csf').to_csv(path, sep='\t', index=False, na_rep='n/a')
    events = ds.func('01', raw=True) / 'sub-01_task-stroop_run-2_events.tsv'
    table = pd.read_csv(events, sep='\t')
    table['onset'] = table['onset'].astype(object)
    table.loc[1, 'onset'] = 'soon'
    table.to_csv(events, sep='\t', index=False)
    run_node = {**RUN_NODE, 'Model': {'Type': 'glm', 'X': ['congruent', 'incongruent', 'csf', 1]}}
    out = tmp_path / 'out'
    assert _run(ds, out, 'participant', _model(tmp_path, [run_node, SUBJECT_NODE]), '-q') == 2
    err = capsys.readouterr().err
    assert 'The model does not fit the dataset: 2 problems.' in err
    assert '1. (sub-01) ' in err
    assert "The 'onset' column of the events holds text" in err
    assert "2. (sub-02, sub-03) Model.X names ['csf'], which no run of this subject has" in err
    assert not out.exists()


@pytest.mark.parametrize('level', ['participant', 'group'])
def test_a_contrast_name_that_cannot_be_a_label_exits_2_at_planning(tmp_path, rng, capsys, level):
    ds = make_fake_dataset(tmp_path, rng, n_subjects=3)
    bad = {'Name': 'café', 'ConditionList': ['incongruent'], 'Weights': [1], 'Test': 't'}
    dataset = {
        'Level': 'Dataset',
        'Name': 'dataset',
        'GroupBy': ['contrast'],
        'Model': {'Type': 'glm', 'X': [1, 'age']},
        'Contrasts': [{**bad, 'ConditionList': ['age']}] if level == 'group' else [],
        'DummyContrasts': {'Test': 't'},
    }
    run_node = {**RUN_NODE, 'Contrasts': [*RUN_NODE['Contrasts'], bad]}
    model = _model(tmp_path, [run_node if level == 'participant' else RUN_NODE, dataset])
    out = tmp_path / 'out'
    if level == 'group':
        assert _run(ds, out, 'participant', model, '-q') == 0
    before = _tree(out) if out.exists() else set()
    assert _run(ds, out, level, model, '-q') == 2
    assert "'café' cannot become a BIDS label" in capsys.readouterr().err
    assert (_tree(out) if out.exists() else set()) == before


def test_a_subject_node_over_sessions_gives_their_difference(tmp_path, rng):
    # bidspm's compare_sessions: X ["session", 1] and a contrast of two session labels
    ds = make_fake_dataset(tmp_path, rng, n_subjects=2, sessions=('retest', 'test'))
    session = {
        'Level': 'Session',
        'Name': 'session',
        'GroupBy': ['subject', 'session', 'contrast'],
        'Model': {'Type': 'meta', 'X': [1]},
        'DummyContrasts': {'Test': 't'},
    }
    compare = {
        'Level': 'Subject',
        'Name': 'compare_sessions',
        'GroupBy': ['subject', 'contrast'],
        'Model': {'Type': 'glm', 'X': ['session', 1]},
        'Contrasts': [
            {
                'Name': 'test_gt_retest',
                'ConditionList': ['test', 'retest'],
                'Weights': [1, -1],
                'Test': 't',
            }
        ],
    }
    edges = [
        {'Source': 'run', 'Destination': 'session', 'Filter': {'contrast': ['incMinusCon']}},
        {'Source': 'session', 'Destination': 'compare_sessions'},
    ]
    run_node = {**RUN_NODE, 'GroupBy': ['run', 'session', 'subject']}
    dataset = {
        'Level': 'Dataset',
        'Name': 'dataset',
        'GroupBy': ['contrast'],
        'Model': {'Type': 'glm', 'X': [1]},
        'DummyContrasts': {'Test': 't'},
    }
    edges.append({'Source': 'compare_sessions', 'Destination': 'dataset'})
    model = _model(tmp_path, [run_node, session, compare, dataset], Edges=edges)
    out = tmp_path / 'out'
    assert _run(ds, out, 'participant', model, '-q') == 0
    assert _run(ds, out, 'group', model, '-q') == 0
    group = f'{ENTITIES}_contrast-incMinusConTestGtRetest_stat-t_desc-incMinusConTestGtRetest'
    assert (out / 'node-dataset' / f'{group}_statmap.nii.gz').is_file()
    maps = {}
    for ses in ('retest', 'test'):
        stem = out / 'node-session' / 'sub-01' / f'ses-{ses}' / 'func' / f'sub-01_ses-{ses}'
        maps[ses] = {
            stat: _data(f'{stem}_{ENTITIES}_contrast-incMinusCon_stat-{stat}_statmap.nii.gz')
            for stat in ('effect', 'variance')
        }
    folder = out / 'node-compareSessions' / 'sub-01' / 'func'
    name = f'sub-01_{ENTITIES}_contrast-incMinusConTestGtRetest_stat-{{}}_statmap.nii.gz'
    effect = _data(folder / name.format('effect'))
    variance = _data(folder / name.format('variance'))
    inside = maps['test']['variance'] > 0
    assert inside.sum() > 100
    expected = maps['test']['effect'] - maps['retest']['effect']
    np.testing.assert_allclose(effect[inside], expected[inside], rtol=1e-6, atol=1e-9)
    expected = maps['test']['variance'] + maps['retest']['variance']
    np.testing.assert_allclose(variance[inside], expected[inside], rtol=1e-6)
    sidecar = json.loads((folder / name.format('t').replace('.nii.gz', '.json')).read_text())
    assert sidecar['DegreesOfFreedom'] == [4 * (30 - 7)]  # 4 runs of 30 volumes, 7 columns
    # each run's own weights: the retest runs -2, the test runs +2 (1/2 each, times 4 runs)
    weights = {
        design.split('/')[1]: weight_set['Weights'][0][:2]
        for weight_set in sidecar['ContrastWeights']
        for design in weight_set['Designs']
    }
    assert weights == {'ses-retest': [2.0, -2.0], 'ses-test': [-2.0, 2.0]}
    assert [len(weight_set['Designs']) for weight_set in sidecar['ContrastWeights']] == [2, 2]


def test_a_sessions_difference_is_not_combined_again_within_the_subject(tmp_path, rng, capsys):
    ds = make_fake_dataset(tmp_path, rng, n_subjects=1, sessions=('retest', 'test'))
    compare = {
        'Level': 'Session',
        'Name': 'compare',
        'GroupBy': ['subject', 'contrast'],
        'Model': {'Type': 'glm', 'X': ['session', 1]},
        'Contrasts': [
            {'Name': 'd', 'ConditionList': ['test', 'retest'], 'Weights': [1, -1], 'Test': 't'}
        ],
    }
    again = {**SUBJECT_NODE, 'Name': 'again'}
    run_node = {**RUN_NODE, 'GroupBy': ['run', 'session', 'subject']}
    model = _model(tmp_path, [run_node, compare, again])
    assert _run(ds, tmp_path / 'out', 'participant', model, '-q') == 2
    assert 'fixed effects over [1] do not combine again' in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


def test_bidspm_parametric_modulations_add_spm_regressors(tmp_path, rng, capsys):
    ds = make_fake_dataset(tmp_path, rng, n_subjects=1)
    lags = {}
    for run in (1, 2):
        path = ds.func('01', raw=True) / f'sub-01_task-stroop_run-{run}_events.tsv'
        events = pd.read_csv(path, sep='\t')
        events['lag'] = np.arange(len(events), dtype=float) ** 2 + run
        events.to_csv(path, sep='\t', index=False)
        lags[run] = events
    conditions = ['trial_type.congruent', 'trial_type.incongruent']
    modulation = {'Name': 'lag', 'Conditions': ['trial_type.incongruent'], 'Values': ['lag']}
    run_node = {
        'Level': 'Run',
        'Name': 'run',
        'GroupBy': ['run', 'subject'],
        'Model': {
            'Type': 'glm',
            'X': [*conditions, 1],
            'HRF': {'Variables': conditions, 'Model': 'spm'},
            'Software': {'SPM': {'ParametricModulations': [modulation]}},
        },
        'DummyContrasts': {'Test': 't'},
    }
    model = _model(tmp_path, [run_node])
    out = tmp_path / 'out'
    assert _run(ds, out, 'participant', model, '-q') == 0
    for run, events in lags.items():
        stem = out / 'node-run' / 'sub-01' / 'func' / f'sub-01_task-stroop_run-{run}_space-{SPACE}'
        design = pd.read_csv(f'{stem}_design.tsv', sep='\t')
        assert list(design.columns[:3]) == [*conditions, 'trial_type.incongruentxlag^1']
        incongruent = events[events.trial_type == 'incongruent']
        by_hand = pd.DataFrame(
            {
                'onset': incongruent.onset,
                'duration': incongruent.duration,
                'trial_type': 'pmod',
                'modulation': incongruent.lag - incongruent.lag.mean(),
            }
        )
        frame_times = (np.arange(30) + ds.start_time / ds.t_r) * ds.t_r
        expected = make_first_level_design_matrix(frame_times, by_hand, hrf_model='spm')
        assert np.abs(expected['pmod']).max() > 1.0
        np.testing.assert_allclose(
            design['trial_type.incongruentxlag^1'], expected['pmod'], atol=1e-10
        )
        saved = _tree(stem.parent)
        assert f'{stem.name}_contrast-trialTypeIncongruent_stat-t_statmap.nii.gz' in saved
    modulation['Values'] = ['lagg']
    assert _run(ds, tmp_path / 'bad', 'participant', _model(tmp_path, [run_node])) == 2
    assert "'lagg' is not an events column of this run" in capsys.readouterr().err
