"""End to end through main([...]): participant then group on a small fMRIPrep-style dataset."""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm.cli import main
from bidsglm.dataset.discovery import Query
from bidsglm.dataset.plan import find_saved as _find_saved
from bidsglm.errors import InvalidParameterError
from bidsglm.models import FirstLevelModel, SecondLevelModel

from ._fake_bids import CONDITIONS, SPACE, FakeDataset

CONTRAST = 'incMinusCon=incongruent - congruent'
MOTION = ['trans_x', 'trans_y', 'trans_z', 'rot_x', 'rot_y', 'rot_z']
ENTITIES = f'task-stroop_space-{SPACE}'
ROOT_FILES = {'dataset_description.json', '.bidsignore', '.bidsglm/lock'}


def _main(ds: FakeDataset, out: Path, level: str, *extra: str) -> int:
    return main([str(ds.bids_dir), str(out), level, *extra])


def _participant(ds: FakeDataset, out: Path, *extra: str) -> int:
    return _main(ds, out, 'participant', '--confounds', 'trans_*', 'rot_*', *extra)


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


def _subject_files(subject: str, contrasts: list[str]) -> set[str]:
    """The files of one subject's model of 2 runs (relative to OUTPUT_DIR)."""
    stem = f'sub-{subject}/func/sub-{subject}_{ENTITIES}'
    files = {
        f'sub-{subject}/sub-{subject}_{ENTITIES}_{kind}'
        for kind in ('statmap.json', 'report.html')
    }
    files.add(f'sub-{subject}/.sub-{subject}_{ENTITIES}_statmap.manifest.json')
    files |= {f'{stem}_mask.nii.gz', f'{stem}_mask.json'}
    files |= {f'{stem}_stat-mean_statmap.{e}' for e in ('nii.gz', 'json')}
    for run in (1, 2):
        run_stem = f'sub-{subject}/func/sub-{subject}_task-stroop_run-{run}_space-{SPACE}'
        files |= {f'{run_stem}_design.{ext}' for ext in ('tsv', 'json', 'svg')}
        files |= {
            f'{run_stem}_stat-{s}_statmap.{e}'
            for s in ('errorts', 'rSquare')
            for e in ('nii.gz', 'json')
        }
        files |= {f'{run_stem}_contrast-{c}_design.svg' for c in contrasts}
    for contrast in contrasts:
        for stat in ('effect', 'variance', 't', 'p', 'z'):
            files |= {
                f'{stem}_contrast-{contrast}_stat-{stat}_statmap.{e}' for e in ('nii.gz', 'json')
            }
    return files


def _tree(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob('*') if p.is_file()}


def _by_hand_first_level(
    ds: FakeDataset, subject: str, confounds: list[str] = MOTION, runs: tuple[int, ...] = (1, 2)
) -> FirstLevelModel:
    """Fit by hand, on the intersection of both runs' masks (what bidsglm uses)."""
    func = ds.fmriprep / f'sub-{subject}' / 'func'
    both = [f'sub-{subject}_task-stroop_run-{run}' for run in (1, 2)]
    masks = [nib.load(func / f'{s}_space-{SPACE}_desc-brain_mask.nii.gz') for s in both]
    inside = np.logical_and(*(np.asanyarray(m.dataobj) != 0 for m in masks))
    stems = [f'sub-{subject}_task-stroop_run-{run}' for run in runs]
    tables = [
        pd.read_csv(func / f'{s}_desc-confounds_timeseries.tsv', sep='\t')[confounds]
        for s in stems
    ]
    model = FirstLevelModel(
        t_r=2.0,
        slice_time_ref=0.25,
        mask_img=nib.Nifti1Image(inside.astype(np.uint8), masks[0].affine),
    )
    return model.fit(
        [str(func / f'{s}_space-{SPACE}_desc-preproc_bold.nii.gz') for s in stems],
        events=[str(ds.bids_dir / f'sub-{subject}' / 'func' / f'{s}_events.tsv') for s in stems],
        confounds=tables,
    )


def _data(path: Path) -> np.ndarray:
    return np.asanyarray(nib.load(path).dataobj)


def test_participant_then_group_writes_the_tree_and_the_numbers(fake_dataset, tmp_path, caplog):
    out = tmp_path / 'out'
    caplog.set_level(logging.INFO, logger='bidsglm')
    assert _participant(fake_dataset, out, '--contrast', CONTRAST) == 0
    subjects = {f for s in fake_dataset.subjects for f in _subject_files(s, ['incMinusCon'])}
    assert _tree(out) == subjects | ROOT_FILES
    assert 'slice_time_ref = 0.25' in caplog.text
    assert f'Confound columns: {MOTION}' in caplog.text
    by_hand = _by_hand_first_level(fake_dataset, '02')
    stem = out / 'sub-02' / 'func' / f'sub-02_{ENTITIES}_contrast-incMinusCon_stat-'
    for stat, output in (
        ('effect', 'effect_size'),
        ('variance', 'effect_variance'),
        ('z', 'z_score'),
    ):
        expected = by_hand.compute_contrast('incongruent - congruent', output_type=output)
        np.testing.assert_allclose(
            _data(Path(f'{stem}{stat}_statmap.nii.gz')), expected.get_fdata(), rtol=1e-12
        )

    assert _main(fake_dataset, out, 'group') == 0
    group = f'{ENTITIES}_contrast-incMinusCon_stat-t_desc-incMinusCon_statmap.nii.gz'
    assert group in _tree(out)
    effects = sorted(out.glob('sub-*/func/*_contrast-incMinusCon_stat-effect_statmap.nii.gz'))
    masks = [_data(p) != 0 for p in sorted(out.glob('sub-*/func/*_mask.nii.gz'))]
    mask = nib.Nifti1Image(
        np.logical_and.reduce(masks).astype(np.uint8), nib.load(effects[0]).affine
    )
    expected = SecondLevelModel(mask_img=mask).fit([str(p) for p in effects])
    np.testing.assert_allclose(
        _data(out / group), expected.compute_contrast(output_type='stat').get_fdata(), rtol=1e-12
    )
    t_map = _data(out / group)
    inside = _data(out / f'{ENTITIES}_desc-incMinusCon_mask.nii.gz') != 0
    # planted: incongruent = congruent for x < 3, incongruent = congruent - 2 % beyond
    assert abs(t_map[:3][inside[:3]].mean()) < 1
    assert t_map[3:][inside[3:]].mean() < -5


STAGE_LINE = re.compile(r'(sub-\w+) stages: (.*), other ([\d.]+) s; total ([\d.]+) s')


def test_verbose_log_breaks_each_subject_down_into_stages(fake_dataset, tmp_path, caplog):
    """One line per subject, from the worker processes: every stage, within the total.

    The line rounds to 0.01 s, and reading these tiny runs can take less than that.
    """
    caplog.set_level(logging.DEBUG, logger='bidsglm')
    assert _participant(fake_dataset, tmp_path / 'out', '--n-jobs', '2', '-v') == 0
    found = {match[1]: match for match in STAGE_LINE.finditer(caplog.text)}
    assert sorted(found) == [f'sub-{s}' for s in fake_dataset.subjects]
    for match in found.values():
        stages = dict(part.rsplit(' ', 2)[:2] for part in match[2].split(', '))
        seconds = {name: float(value) for name, value in stages.items()}
        assert list(seconds) == ['design', 'read', 'fit', 'write', 'contrasts', 'report']
        assert all(value >= 0 for value in seconds.values()), seconds
        assert seconds['fit'] + seconds['write'] > 0, seconds  # the work is timed
        other, total = float(match[3]), float(match[4])
        assert sum(seconds.values()) <= total + 0.03  # six values, each rounded to 0.01 s
        assert sum(seconds.values()) + other == pytest.approx(total, abs=0.04)


#: Run the command line in a fresh process; say whether a fork server runs while it plans.
WATCH_PLANNING = """
import os
import sys
from pathlib import Path
from bidsglm.cli import main
from bidsglm.runner import dataset_run as run

def fork_server_running():
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            parent = int(stat.read_text().rsplit(')', 1)[1].split()[1])
            command = (stat.parent / 'cmdline').read_bytes()
        except (OSError, IndexError):
            continue
        if parent == os.getpid() and b'forkserver' in command:
            return True
    return False

planned = run._plan
def plan(*arguments):
    print('fork server while planning:', fork_server_running())
    return planned(*arguments)

run._plan = plan
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not Path('/proc/self/stat').is_file(), reason='reads /proc (Linux)')
@pytest.mark.parametrize(('n_jobs', 'running'), [('2', True), ('1', False)])
def test_the_fork_server_imports_while_the_plan_is_made(fake_dataset, tmp_path, n_jobs, running):
    """With a pool, the workers' server starts (and imports) before planning, not after."""
    command = [sys.executable, '-c', WATCH_PLANNING, str(fake_dataset.bids_dir),
               str(tmp_path / 'out'), 'participant', '--n-jobs', n_jobs, '-q']  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f'fork server while planning: {running}' in done.stdout


def test_outputs_pass_the_bids_validator(fake_dataset, tmp_path, tmp_path_factory):
    out = tmp_path / 'out'
    both = 'both=incongruent, congruent'
    assert _participant(fake_dataset, out, '--contrast', CONTRAST, '--contrast', both) == 0
    assert (
        out / 'sub-01' / 'func' / f'sub-01_{ENTITIES}_contrast-both_stat-F_statmap.nii.gz'
    ).is_file()
    assert _main(fake_dataset, out, 'group') == 0
    validator = _validator()
    schema = validator.build_extended_schema(tmp_path_factory.mktemp('schema'))
    result = validator.run_validator(out, schema)
    assert result.errors == []
    assert result.exit_code == 0


def test_default_contrasts_are_one_per_trial_type(fake_dataset, tmp_path):
    out = tmp_path / 'out'
    assert _main(fake_dataset, out, 'participant', '--participant-label', '01', '02') == 0
    subjects = _subject_files('01', list(CONDITIONS)) | _subject_files('02', list(CONDITIONS))
    assert _tree(out) == subjects | ROOT_FILES
    assert _main(fake_dataset, out, 'group') == 0
    for condition in CONDITIONS:
        assert (
            out / f'{ENTITIES}_contrast-{condition}_stat-z_desc-{condition}_statmap.nii.gz'
        ).is_file()


def _drop_events(ds: FakeDataset) -> None:
    (ds.bids_dir / 'sub-02' / 'func' / 'sub-02_task-stroop_run-2_events.tsv').unlink()


def _change_tr(ds: FakeDataset) -> None:
    sidecar = (
        ds.fmriprep
        / 'sub-03'
        / 'func'
        / f'sub-03_task-stroop_run-2_space-{SPACE}_desc-preproc_bold.json'
    )
    sidecar.write_text(json.dumps({'RepetitionTime': 2.5, 'StartTime': 0.5}))


def _bad_model(text: str):
    def write(ds: FakeDataset) -> None:
        (ds.bids_dir.parent / 'model.json').write_text(text)

    return write


UNSUPPORTED = json.dumps(
    {
        'Name': 'x',
        'BIDSModelVersion': '1.0.0',
        'Nodes': [
            {
                'Level': 'Run',
                'Name': 'run',
                'GroupBy': ['run', 'subject'],
                'Model': {
                    'Type': 'glm',
                    'X': [1],
                    'Options': {'LowPassFilterCutoffHz': 0.1},
                },
            }
        ],
    }
)


CONVOLVED_CONFOUND = json.dumps(
    {
        'Name': 'x',
        'BIDSModelVersion': '1.0.0',
        'Nodes': [
            {
                'Level': 'Run',
                'Name': 'run',
                'GroupBy': ['run', 'subject'],
                'Model': {
                    'Type': 'glm',
                    'X': ['congruent', 'trans_x', 1],
                    'HRF': {'Variables': ['congruent', 'trans_x'], 'Model': 'spm'},
                },
                'DummyContrasts': {'Contrasts': ['congruent'], 'Test': 't'},
            }
        ],
    }
)


@pytest.mark.parametrize(
    ('change', 'extra', 'message'),
    [
        (None, ['--task', 'nback'], r"task 'nback'; the tasks that exist are ['stroop']"),
        (None, ['--space', 'T1w'], f"space 'T1w'; the spaces that exist are ['{SPACE}']"),
        (None, ['--participant-label', '09'], "are ['01', '02', '03']"),
        (_drop_events, [], 'No events file'),
        (_change_tr, [], 'repetition time differs between the runs of sub-03'),
        (None, ['--confounds', 'trans_X'], "did you mean 'trans_x'"),
        (None, ['--contrast', 'x=incongruent - neutral'], "'neutral'"),
        (_bad_model('{"Name": '), ['--model', 'MODEL'], 'is not valid JSON'),
        (_bad_model(UNSUPPORTED), ['--model', 'MODEL'], 'LowPassFilterCutoffHz'),
        (_bad_model(CONVOLVED_CONFOUND), ['--model', 'MODEL'], 'HRF.Variables'),
        (None, ['--derivatives', 'BIDS'], 'No preprocessed BOLD'),
    ],
)
def test_bad_input_exits_2_before_any_work(fake_dataset, tmp_path, capsys, change, extra, message):
    if change is not None:
        change(fake_dataset)
    replace = {
        'MODEL': str(fake_dataset.bids_dir.parent / 'model.json'),
        'BIDS': str(fake_dataset.bids_dir / 'sub-01'),
    }
    extra = [replace.get(e, e) for e in extra]
    out = tmp_path / 'out'
    assert _main(fake_dataset, out, 'participant', *extra) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_group_before_participant_says_what_to_do(fake_dataset, tmp_path, capsys):
    assert _main(fake_dataset, tmp_path / 'out', 'group') == 2
    assert 'Run the participant level first' in capsys.readouterr().err


def test_saved_subjects_are_skipped_unless_overwrite(fake_dataset, tmp_path, caplog):
    out = tmp_path / 'out'
    caplog.set_level(logging.INFO, logger='bidsglm')
    assert (
        _participant(fake_dataset, out, '--contrast', CONTRAST, '--participant-label', '01') == 0
    )
    statmap = out / 'sub-01' / f'sub-01_{ENTITIES}_statmap.json'
    first = statmap.stat().st_mtime_ns
    assert (
        _participant(fake_dataset, out, '--contrast', CONTRAST, '--participant-label', '01') == 0
    )
    assert 'sub-01 is already saved: skipped' in caplog.text
    assert statmap.stat().st_mtime_ns == first
    other = 'conMinusInc=congruent - incongruent'
    assert (
        _participant(
            fake_dataset, out, '--contrast', other, '--participant-label', '01', '--overwrite'
        )
        == 0
    )
    assert _tree(out) == _subject_files('01', ['conMinusInc']) | ROOT_FILES


def test_missing_confound_values_exit_2_before_any_fit(fake_dataset, tmp_path, capsys):
    confounds = (
        fake_dataset.fmriprep
        / 'sub-02'
        / 'func'
        / 'sub-02_task-stroop_run-1_desc-confounds_timeseries.tsv'
    )
    table = pd.read_csv(confounds, sep='\t')
    table.loc[5, 'trans_x'] = np.nan
    table.to_csv(confounds, sep='\t', index=False, na_rep='n/a')
    out = tmp_path / 'out'
    options = ('--contrast', CONTRAST, '--confounds', 'trans_x')
    assert _participant(fake_dataset, out, *options) == 2
    assert "The design columns ['trans_x'] have missing values" in capsys.readouterr().err
    assert not out.exists()


def test_a_failing_subject_does_not_stop_the_others(fake_dataset, tmp_path, caplog, monkeypatch):
    import bidsglm.runner._work as work

    load_design = work.load_design

    def failing(run, *args, **kwargs):
        if run.subject == '02':
            msg = "The confound columns ['trans_x'] are unreadable."
            raise ValueError(msg)
        return load_design(run, *args, **kwargs)

    monkeypatch.setattr(work, 'load_design', failing)
    out = tmp_path / 'out'
    assert _participant(fake_dataset, out, '--contrast', CONTRAST) == 1
    assert "sub-02 failed: ValueError: The confound columns ['trans_x']" in caplog.text
    assert sorted(p.name for p in out.glob('sub-*')) == ['sub-01', 'sub-03']
    assert not (out / '.bidsglm-work').exists()


MODEL = {
    'Name': 'stroop',
    'BIDSModelVersion': '1.0.0',
    'Input': {'task': ['stroop']},
    'Nodes': [
        {
            'Level': 'Run',
            'Name': 'run',
            'GroupBy': ['run', 'subject'],
            'Model': {
                'Type': 'glm',
                'X': ['congruent', 'incongruent', 'trans_*', 'rot_?', 1],
                'HRF': {'Variables': ['congruent', 'incongruent'], 'Model': 'glover'},
                'Options': {'HighPassFilterCutoffHz': 0.01},
            },
            'Contrasts': [
                {
                    'Name': 'incMinusCon',
                    'ConditionList': ['incongruent', 'congruent'],
                    'Weights': [1, -1],
                    'Test': 't',
                },
                {
                    'Name': 'both',
                    'ConditionList': ['incongruent', 'congruent'],
                    'Weights': [[1, 0], [0, 1]],
                    'Test': 'F',
                },
            ],
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
}


def test_a_stats_model_runs_both_levels(fake_dataset, tmp_path, caplog):
    model = tmp_path / 'model-stroop_smdl.json'
    model.write_text(json.dumps(MODEL))
    out = tmp_path / 'out'
    assert _main(fake_dataset, out, 'participant', '--model', str(model)) == 0
    assert sorted(p.name for p in out.iterdir()) == ['node-run', 'node-subject']
    subject = _tree(out / 'node-subject')
    assert _subject_files('01', ['incMinusCon']) <= subject
    assert not any('contrast-both' in name for name in subject)  # F contrasts are terminal
    runs = _tree(out / 'node-run')
    run_1 = f'sub-01/func/sub-01_task-stroop_run-1_space-{SPACE}'
    assert f'{run_1}_contrast-both_stat-F_statmap.nii.gz' in runs
    assert f'{run_1}_contrast-incMinusCon_stat-t_statmap.nii.gz' in runs
    assert f'sub-01/sub-01_task-stroop_run-2_space-{SPACE}_statmap.json' in runs
    design = pd.read_csv(out / 'node-run' / f'{run_1}_design.tsv', sep='\t')
    assert list(design.columns[:8]) == ['congruent', 'incongruent', *MOTION]

    assert _main(fake_dataset, out, 'group', '--model', str(model)) == 0
    assert 'contrast-incMinusCon: The second-level design is singular' in caplog.text
    group = _tree(out / 'node-dataset')
    assert f'{ENTITIES}_contrast-incMinusCon_stat-t_desc-incMinusCon_statmap.nii.gz' in group
    assert f'{ENTITIES}_contrast-older_stat-t_desc-incMinusCon_statmap.nii.gz' in group
    assert not any('desc-both' in name for name in group)  # F contrasts are terminal
    node = out / 'node-subject'
    effects = sorted(node.glob('sub-*/func/*_contrast-incMinusCon_stat-effect_statmap.nii.gz'))
    masks = [_data(p) != 0 for p in sorted(node.glob('sub-*/func/*_mask.nii.gz'))]
    mask = nib.Nifti1Image(
        np.logical_and.reduce(masks).astype(np.uint8), nib.load(effects[0]).affine
    )
    ages = pd.DataFrame({'subject_label': ['01', '02', '03'], 'age': [20.0, 23.0, 26.0]})
    inputs = pd.DataFrame(
        {
            'subject_label': ['01', '02', '03'],
            'map_name': 'x',
            'effects_map_path': [str(p) for p in effects],
        }
    )
    with pytest.warns(UserWarning, match='badly conditioned'):
        expected = SecondLevelModel(mask_img=mask).fit(inputs, confounds=ages)
    np.testing.assert_allclose(
        _data(
            out
            / 'node-dataset'
            / f'{ENTITIES}_contrast-older_stat-effect_desc-incMinusCon_statmap.nii.gz'
        ),
        expected.compute_contrast('age', output_type='effect_size').get_fdata(),
        rtol=1e-12,
    )


def test_the_subject_node_equals_the_first_level_fixed_effects(fake_dataset, tmp_path):
    model = tmp_path / 'model-stroop_smdl.json'
    model.write_text(json.dumps(MODEL))
    by_model, by_options = tmp_path / 'model', tmp_path / 'options'
    extra = ('--participant-label', '02')
    assert _main(fake_dataset, by_model, 'participant', '--model', str(model), *extra) == 0
    options = ('--contrast', CONTRAST, '--confounds', 'trans_*', 'rot_?', *extra)
    assert _main(fake_dataset, by_options, 'participant', *options) == 0
    node = by_model / 'node-subject'
    for stat in ('effect', 'variance', 't', 'z', 'p'):
        name = f'sub-02/func/sub-02_{ENTITIES}_contrast-incMinusCon_stat-{stat}_statmap.nii.gz'
        np.testing.assert_array_equal(_data(node / name), _data(by_options / name))
    # each run's own contrast, saved by the Run node: the run fitted alone
    fits = [_by_hand_first_level(fake_dataset, '02', runs=(run,)) for run in (1, 2)]
    for run, fit in zip((1, 2), fits, strict=True):
        name = (
            f'sub-02/func/sub-02_task-stroop_run-{run}_space-{SPACE}'
            '_contrast-incMinusCon_stat-effect_statmap.nii.gz'
        )
        expected = fit.compute_contrast('incongruent - congruent', output_type='effect_size')
        np.testing.assert_allclose(
            _data(by_model / 'node-run' / name), expected.get_fdata(), rtol=1e-10, atol=1e-12
        )


def test_report_command_writes_an_index(fake_dataset, tmp_path, capsys):
    out = tmp_path / 'out'
    assert _participant(fake_dataset, out, '--participant-label', '01', '-q') == 0
    assert main(['report', str(out)]) == 0
    assert capsys.readouterr().out == f'Report: {out.resolve() / "index.html"}\n'
    assert (out / 'sub-01' / f'sub-01_{ENTITIES}_report.html').is_file()
    assert 'sub-01_task-stroop' in (out / 'index.html').read_text()


def test_progress_bar_stays_off_when_stderr_is_not_a_terminal(fake_dataset, tmp_path, capsys):
    assert _participant(fake_dataset, tmp_path / 'out', '--participant-label', '01', '-q') == 0
    err = capsys.readouterr().err
    assert '[#' not in err
    assert 'INFO' not in err


def _saved_models(out: Path, names: list[str]) -> None:
    """Empty model-level statmap.json files, as participant runs leave them."""
    for name in names:
        subject = name.split('_')[0]
        (out / subject).mkdir(parents=True, exist_ok=True)
        (out / subject / f'{name}_statmap.json').write_text('{}')


@pytest.mark.parametrize(
    ('space', 'expected'),
    [
        ('MNI:res-2', ['sub-01_task-x_space-MNI_res-2', 'sub-02_task-x_space-MNI_res-2']),
        ('MNI:res-1', ['sub-01_task-x_space-MNI_res-1']),
    ],
)
def test_group_finds_the_saved_models_of_the_chosen_resolution(tmp_path, space, expected):
    names = ['sub-01_task-x_space-MNI_res-1', 'sub-01_task-x_space-MNI_res-2']
    _saved_models(tmp_path, [*names, 'sub-02_task-x_space-MNI_res-2'])
    found = _find_saved(tmp_path, Query(task='x', space=space))
    assert [statmap.name.removesuffix('_statmap.json') for _, statmap in found] == expected


def test_group_asks_to_choose_between_resolutions(tmp_path):
    _saved_models(tmp_path, ['sub-01_task-x_space-MNI_res-1', 'sub-01_task-x_space-MNI_res-2'])
    with pytest.raises(InvalidParameterError, match=r"'MNI:res-1'\), \('x', 'MNI:res-2'"):
        _find_saved(tmp_path, Query(task='x', space='MNI'))
