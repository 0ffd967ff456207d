"""run_dataset: the command line's run from Python, the same files, and where they went."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bidsglm.runner._work as work
from bidsglm import first_level_from_bids, load_glm_from_bids, run_dataset, save_glm_to_bids
from bidsglm.cli import main
from bidsglm.errors import InvalidParameterError

CONTRAST = 'incongruent - congruent'


@pytest.fixture
def dataset(tmp_path: Path, rng: np.random.Generator) -> Any:
    """The command-line tests' dataset: 2 subjects, 2 runs, TR 2 s, StartTime 0.5 s."""
    sys.path.insert(0, str(Path(__file__).parents[1] / 'cli'))
    from _fake_bids import make_fake_dataset

    return make_fake_dataset(tmp_path, rng, n_subjects=2, n_runs=2)


def _contents(out: Path) -> dict[str, bytes]:
    files = sorted(p for p in out.rglob('*') if p.is_file() and '.bidsglm' not in p.parts)
    return {path.relative_to(out).as_posix(): path.read_bytes() for path in files}


def _participant(dataset: Any, out: Path, **options: Any) -> Any:
    return run_dataset(
        dataset.bids_dir,
        out,
        confounds=['trans_*'],
        contrasts={'incMinusCon': CONTRAST},
        **options,
    )


def test_writes_the_same_files_as_the_command_line(dataset, tmp_path):
    by_hand = tmp_path / 'cli'
    argv = [str(dataset.bids_dir), str(by_hand), 'participant', '-q']
    assert main([*argv, '--confounds', 'trans_*', '--contrast', f'incMinusCon={CONTRAST}']) == 0
    done = _participant(dataset, tmp_path / 'python')
    ours, reference = _contents(tmp_path / 'python'), _contents(by_hand)
    assert sorted(ours) == sorted(reference)
    assert len([name for name in ours if name.endswith('_statmap.nii.gz')]) == 2 * (2 * 2 + 5 + 1)
    assert ours == reference
    assert done.ok


def test_says_where_each_subjects_model_went(dataset, tmp_path):
    out = tmp_path / 'out'
    done = _participant(dataset, out)
    assert (done.analysis_level, done.output_dir, done.failed) == ('participant', out, [])
    assert [job.name for job in done.jobs] == ['sub-01', 'sub-02']
    statmap = done.statmaps['sub-02'][0]
    assert statmap == out / 'sub-02' / 'sub-02_task-stroop_space-MNI152NLin2009cAsym_statmap.json'
    assert statmap.is_file()
    assert [c.name for c in load_glm_from_bids(statmap).contrasts] == ['incMinusCon']
    assert _participant(dataset, out).jobs == ()  # saved already: nothing to do


def test_the_group_level_says_where_its_model_went(dataset, tmp_path):
    out = tmp_path / 'out'
    assert _participant(dataset, out).ok
    done = run_dataset(dataset.bids_dir, out, 'group')
    assert [job.name for job in done.jobs] == ['dataset: contrast-incMinusCon']
    (statmap,) = done.statmaps['dataset: contrast-incMinusCon']
    assert statmap.is_file()
    assert statmap.parent == out


def test_models_fitted_and_saved_from_python_feed_the_group_level(dataset, tmp_path):
    out = tmp_path / 'out'
    models, imgs, events, confounds = first_level_from_bids(dataset.bids_dir, 'stroop')
    for model, runs, tables, motion in zip(models, imgs, events, confounds, strict=True):
        model.fit(runs, events=tables, confounds=[c[['trans_x', 'trans_y']] for c in motion])
        save_glm_to_bids(model, {'incMinusCon': CONTRAST}, out_dir=out)
    done = run_dataset(dataset.bids_dir, out, 'group')
    (statmap,) = done.statmaps['dataset: contrast-incMinusCon']
    group = load_glm_from_bids(statmap)
    assert [c.name for c in group.contrasts] == ['incMinusCon']
    assert done.jobs[0].message.startswith('2 maps')


def test_a_failing_subject_is_reported_and_the_others_saved(dataset, tmp_path, monkeypatch):
    load_design = work.load_design

    def failing(run: Any, *args: Any, **kwargs: Any) -> Any:
        if run.subject == '02':
            msg = 'unreadable'
            raise ValueError(msg)
        return load_design(run, *args, **kwargs)

    monkeypatch.setattr(work, 'load_design', failing)
    done = _participant(dataset, tmp_path / 'out')
    assert (done.ok, done.failed) == (False, ['sub-02'])
    assert list(done.statmaps) == ['sub-01']
    assert 'ValueError: unreadable' in done.jobs[1].message


@pytest.mark.parametrize(
    ('options', 'match'),
    [
        ({'analysis_level': 'subject'}, "analysis_level must be 'participant' or 'group'"),
        ({'n_jobs': 0}, r"'n_jobs' parameter must be an int >= 1, or -1"),
        ({'n_jobs': 2, 'dask_scheduler': 'tcp://127.0.0.1:9'}, 'not both'),
        ({'model': 'model.json', 'hrf_model': 'spm'}, r"remove \['hrf_model'\]"),
        ({'task': 'nback'}, r"task 'nback'.*\['stroop'\]. Choose one with --task"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(dataset, tmp_path, options, match):
    out = tmp_path / 'out'
    with pytest.raises(InvalidParameterError, match=match):
        run_dataset(dataset.bids_dir, out, **options)
    assert not out.exists()


def test_the_raw_dataset_is_never_an_output(dataset):
    with pytest.raises(InvalidParameterError, match=r"derivatives/bidsglm'? instead"):
        run_dataset(dataset.bids_dir, dataset.bids_dir / 'results')
    with pytest.raises(InvalidParameterError, match='would write into the raw dataset'):
        run_dataset(dataset.bids_dir, dataset.bids_dir / 'derivatives')
