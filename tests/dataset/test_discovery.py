"""Input discovery: the walker, BIDS inheritance, and what discover_runs finds or refuses."""

from __future__ import annotations

import json
import time
from pathlib import Path, PurePosixPath

import nibabel as nib
import numpy as np
import pytest

from bidsglm.dataset.discovery import (
    Query,
    close_matches,
    discover_runs,
    find_fmriprep,
    index_dataset,
)
from bidsglm.errors import InputNotFoundError, InvalidParameterError

SPACE = 'MNI152NLin2009cAsym'


def _touch(path: Path, text: str = '') -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _json(path: Path, content: dict) -> Path:
    return _touch(path, json.dumps(content))


def _dataset(
    root: Path,
    subjects: tuple[str, ...] = ('01', '02'),
    runs: tuple[str, ...] = ('1', '2'),
    sessions: tuple[str | None, ...] = (None,),
    task: str = 'nback',
    spaces: tuple[str, ...] = (SPACE,),
    sidecar: dict | None = None,
) -> tuple[Path, Path]:
    """Raw + fMRIPrep names with empty images (discovery reads no image data)."""
    bids = root / 'bids'
    deriv = bids / 'derivatives' / 'fmriprep'
    _json(bids / 'dataset_description.json', {'Name': 'x', 'BIDSVersion': '1.10.0'})
    _json(bids / f'task-{task}_bold.json', {'RepetitionTime': 2.0})
    for sub in subjects:
        for ses in sessions:
            folder = f'sub-{sub}' + (f'/ses-{ses}' if ses else '') + '/func'
            for run in runs:
                stem = f'sub-{sub}' + (f'_ses-{ses}' if ses else '') + f'_task-{task}_run-{run}'
                _touch(bids / folder / f'{stem}_events.tsv', 'onset\tduration\n')
                _touch(deriv / folder / f'{stem}_desc-confounds_timeseries.tsv', 'trans_x\n')
                for space in spaces:
                    base = f'{stem}_space-{space}'
                    _touch(deriv / folder / f'{base}_desc-preproc_bold.nii.gz')
                    _touch(deriv / folder / f'{base}_desc-brain_mask.nii.gz')
                    _json(
                        deriv / folder / f'{base}_desc-preproc_bold.json',
                        {'RepetitionTime': 2.0, 'StartTime': 0.5} if sidecar is None else sidecar,
                    )
    return bids, deriv


def test_index_dataset_skips_derivatives_sourcedata_and_hidden_folders(tmp_path):
    bids, _ = _dataset(tmp_path, subjects=('01',), runs=('1',))
    _touch(bids / 'sourcedata' / 'sub-01_task-nback_bold.nii.gz')
    _touch(bids / '.git' / 'sub-01_task-nback_bold.json')
    files = index_dataset(bids).files
    assert sorted(f.path.relative_to(bids).as_posix() for f in files) == [
        'dataset_description.json',
        'sub-01/func/sub-01_task-nback_run-1_events.tsv',
        'task-nback_bold.json',
    ]
    events = next(f for f in files if f.suffix == 'events')
    assert events.entities == {'sub': '01', 'task': 'nback', 'run': '1'}
    assert events.folder == PurePosixPath('sub-01/func')


def test_metadata_inherits_from_the_root_and_the_deepest_wins(tmp_path):
    root = tmp_path / 'ds'
    _json(root / 'task-x_bold.json', {'RepetitionTime': 2.0, 'TaskName': 'x'})
    _json(root / 'sub-01' / 'sub-01_task-x_bold.json', {'RepetitionTime': 1.5})
    _json(root / 'sub-01' / 'func' / 'sub-01_task-x_run-01_bold.json', {'StartTime': 0.7})
    _json(root / 'sub-01' / 'func' / 'sub-01_task-y_bold.json', {'TaskName': 'y'})
    _touch(root / 'sub-01' / 'func' / 'sub-01_task-x_run-1_bold.nii.gz')
    index = index_dataset(root)
    bold = index.select(suffix='bold', extension='.nii.gz')[0]
    assert index.metadata(bold) == {'RepetitionTime': 1.5, 'TaskName': 'x', 'StartTime': 0.7}
    found = index.applicable(bold.entities, bold.folder, 'bold', '.json')
    assert [f.path.name for f in found] == [
        'task-x_bold.json',
        'sub-01_task-x_bold.json',
        'sub-01_task-x_run-01_bold.json',
    ]


def test_discover_runs_finds_files_and_timing(tmp_path):
    bids, deriv = _dataset(tmp_path)
    runs = discover_runs(bids, deriv)
    assert [(r.subject, r.entities['run']) for r in runs] == [
        ('01', '1'),
        ('01', '2'),
        ('02', '1'),
        ('02', '2'),
    ]
    run = runs[0]
    assert run.bold.name == f'sub-01_task-nback_run-1_space-{SPACE}_desc-preproc_bold.nii.gz'
    assert run.mask is not None
    assert run.mask.name == f'sub-01_task-nback_run-1_space-{SPACE}_desc-brain_mask.nii.gz'
    assert run.confounds is not None
    assert run.confounds.name == 'sub-01_task-nback_run-1_desc-confounds_timeseries.tsv'
    assert run.events == bids / 'sub-01' / 'func' / 'sub-01_task-nback_run-1_events.tsv'
    assert (run.repetition_time, run.start_time, run.slice_time_ref) == (2.0, 0.5, 0.25)
    assert run.timing_source == 'derivative sidecar'


def test_discover_runs_with_sessions_and_inherited_events(tmp_path):
    bids, deriv = _dataset(tmp_path, subjects=('01',), runs=('1',), sessions=('a', 'b'))
    for path in bids.rglob('*_events.tsv'):
        path.unlink()
    _touch(bids / 'task-nback_events.tsv', 'onset\tduration\n')
    runs = discover_runs(bids, deriv, Query(filters={'ses': ('b',)}))
    assert [r.entities['ses'] for r in runs] == ['b']
    assert runs[0].events == bids / 'task-nback_events.tsv'


def test_discover_runs_reads_the_tr_from_raw_sidecars_then_the_header(tmp_path):
    bids, deriv = _dataset(tmp_path, subjects=('01',), runs=('1',), sidecar={})
    run = discover_runs(bids, deriv)[0]
    assert (run.repetition_time, run.timing_source, run.start_time) == (2.0, 'raw sidecar', 0.0)
    (bids / 'task-nback_bold.json').unlink()
    header = nib.Nifti1Header()
    header.set_xyzt_units('mm', 'msec')
    header['pixdim'][4] = 2500.0
    nib.save(nib.Nifti1Image(np.zeros((2, 2, 2, 3), np.float32), np.eye(4), header), run.bold)
    run = discover_runs(bids, deriv)[0]
    assert (run.repetition_time, run.timing_source) == (2.5, 'NIfTI header')


def test_discover_runs_lists_tasks_when_it_cannot_choose(tmp_path):
    bids, deriv = _dataset(tmp_path, subjects=('01',), runs=('1',))
    _dataset(tmp_path, subjects=('01',), runs=('1',), task='stroop')
    with pytest.raises(InvalidParameterError, match=r"several tasks: \['nback', 'stroop'\]"):
        discover_runs(bids, deriv)
    with pytest.raises(InvalidParameterError, match=r"task 'nbak'.*did you mean 'nback'"):
        discover_runs(bids, deriv, Query(task='nbak'))
    assert len(discover_runs(bids, deriv, Query(task='stroop'))) == 1


def test_discover_runs_chooses_spaces_and_resolutions(tmp_path):
    spaces = (SPACE, 'MNI152NLin6Asym_res-2', 'MNI152NLin6Asym_res-1')
    bids, deriv = _dataset(tmp_path, subjects=('01',), runs=('1',), spaces=spaces)
    with pytest.raises(InvalidParameterError, match='several spaces') as info:
        discover_runs(bids, deriv)
    assert 'MNI152NLin6Asym:res-2' in str(info.value)
    assert discover_runs(bids, deriv, Query(space=SPACE))[0].entities['space'] == SPACE
    run = discover_runs(bids, deriv, Query(space='MNI152NLin6Asym:res-2'))[0]
    assert (run.entities['space'], run.entities['res']) == ('MNI152NLin6Asym', '2')
    with pytest.raises(InvalidParameterError, match=r'several resolutions.*res-1'):
        discover_runs(bids, deriv, Query(space='MNI152NLin6Asym'))


def test_discover_runs_lists_the_participants_that_exist(tmp_path):
    bids, deriv = _dataset(tmp_path)
    with pytest.raises(InvalidParameterError, match=r"\['03'\].*are \['01', '02'\]"):
        discover_runs(bids, deriv, Query(subjects=('01', '03')))
    assert {r.subject for r in discover_runs(bids, deriv, Query(subjects=('02',)))} == {'02'}


def test_discover_runs_refuses_runs_without_events(tmp_path):
    bids, deriv = _dataset(tmp_path)
    (bids / 'sub-02' / 'func' / 'sub-02_task-nback_run-2_events.tsv').unlink()
    with pytest.raises(InputNotFoundError, match=r'No events file .* 1 run\(s\).*sub-02'):
        discover_runs(bids, deriv)


@pytest.mark.parametrize(
    ('second', 'message'),
    [
        ({'RepetitionTime': 2.5, 'StartTime': 0.5}, r'repetition time differs .* sub-01'),
        ({'RepetitionTime': 2.0, 'StartTime': 1.0}, r'StartTime differs .* sub-01'),
        ({'RepetitionTime': 2.0, 'StartTime': 3.0}, r'StartTime 3.0 s is outside'),
    ],
)
def test_discover_runs_refuses_timings_that_one_model_cannot_take(tmp_path, second, message):
    bids, deriv = _dataset(tmp_path, subjects=('01',))
    sidecar = (
        deriv / 'sub-01' / 'func' / f'sub-01_task-nback_run-2_space-{SPACE}_desc-preproc_bold.json'
    )
    _json(sidecar, second)
    with pytest.raises(InvalidParameterError, match=message):
        discover_runs(bids, deriv)


def test_discover_runs_without_preprocessed_bold(tmp_path):
    bids, _ = _dataset(tmp_path)
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(InputNotFoundError, match='No preprocessed BOLD'):
        discover_runs(bids, empty)
    with pytest.raises(InputNotFoundError, match='does not exist'):
        discover_runs(tmp_path / 'missing', empty)


def test_find_fmriprep_finds_one_folder_or_explains(tmp_path):
    with pytest.raises(InputNotFoundError, match='--derivatives PATH'):
        find_fmriprep(tmp_path)
    (tmp_path / 'derivatives' / 'fmriprep-23').mkdir(parents=True)
    assert find_fmriprep(tmp_path).name == 'fmriprep-23'
    (tmp_path / 'derivatives' / 'fmriprep-24').mkdir()
    with pytest.raises(InputNotFoundError, match=r"\['fmriprep-23', 'fmriprep-24'\]"):
        find_fmriprep(tmp_path)
    (tmp_path / 'derivatives' / 'fmriprep').mkdir()
    assert find_fmriprep(tmp_path).name == 'fmriprep'


def test_close_matches_says_nothing_when_nothing_is_close():
    assert close_matches('zzz', ['trans_x']) == ''


def _big_dataset(root: Path) -> tuple[Path, Path]:
    """100 subjects x 2 sessions x 3 runs, raw and derivatives: about 6,000 files."""
    bids, deriv = root / 'bids', root / 'bids' / 'derivatives' / 'fmriprep'
    _json(bids / 'task-nback_bold.json', {'RepetitionTime': 2.0})
    sidecar = json.dumps({'RepetitionTime': 2.0, 'StartTime': 0.5})
    for sub in range(1, 101):
        for ses in ('1', '2'):
            raw = bids / f'sub-{sub:03d}' / f'ses-{ses}' / 'func'
            out = deriv / f'sub-{sub:03d}' / f'ses-{ses}' / 'func'
            raw.mkdir(parents=True)
            out.mkdir(parents=True)
            for run in ('1', '2', '3'):
                stem = f'sub-{sub:03d}_ses-{ses}_task-nback_run-{run}'
                for name in ('bold.nii.gz', 'bold.json', 'events.tsv'):
                    (raw / f'{stem}_{name}').write_text('')
                base = f'{stem}_space-{SPACE}'
                for name in (
                    'desc-preproc_bold.nii.gz',
                    'desc-brain_mask.nii.gz',
                    'boldref.nii.gz',
                ):
                    (out / f'{base}_{name}').write_text('')
                (out / f'{base}_desc-preproc_bold.json').write_text(sidecar)
                (out / f'{stem}_desc-confounds_timeseries.tsv').write_text('')
                (out / f'{stem}_desc-confounds_timeseries.json').write_text('{}')
    return bids, deriv


def test_discover_runs_indexes_100_subjects_quickly(tmp_path, record_property):
    bids, deriv = _big_dataset(tmp_path)
    start = time.perf_counter()
    runs = discover_runs(bids, deriv)
    seconds = time.perf_counter() - start
    record_property('discover_runs_100_subjects_seconds', round(seconds, 3))
    assert len(runs) == 600
    assert len({r.subject for r in runs}) == 100
    assert all(r.mask is not None and r.confounds is not None for r in runs)


# ------------------------------------------------------------------ surface runs
def _surface_runs(deriv: Path, stem: str = 'sub-01/func/sub-01_task-nback_run-1') -> None:
    """fMRIPrep's surface names beside a volume run: a GIFTI pair and a CIFTI-2 series."""
    for hemi in ('L', 'R'):
        _touch(deriv / f'{stem}_hemi-{hemi}_space-fsaverage_den-10k_bold.func.gii')
    _touch(deriv / f'{stem}_space-fsLR_den-91k_bold.dtseries.nii')


def test_discover_runs_joins_the_hemispheres_of_a_gifti_run(tmp_path):
    bids, deriv = _dataset(tmp_path, subjects=('01',), runs=('1',))
    _surface_runs(deriv)
    (run,) = discover_runs(bids, deriv, Query(space='fsaverage'))
    func = deriv / 'sub-01' / 'func'
    assert run.kind == 'GIFTI'
    assert run.hemispheres == {
        'left': func / 'sub-01_task-nback_run-1_hemi-L_space-fsaverage_den-10k_bold.func.gii',
        'right': func / 'sub-01_task-nback_run-1_hemi-R_space-fsaverage_den-10k_bold.func.gii',
    }
    assert run.entities == {
        'sub': '01',
        'task': 'nback',
        'run': '1',
        'space': 'fsaverage',
        'den': '10k',
    }
    assert (run.mask, run.confounds.name, run.events.name) == (
        None,
        'sub-01_task-nback_run-1_desc-confounds_timeseries.tsv',
        'sub-01_task-nback_run-1_events.tsv',
    )
    assert (run.repetition_time, run.timing_source) == (2.0, 'raw sidecar')


def test_discover_runs_finds_a_cifti_series_by_space_and_density(tmp_path):
    bids, deriv = _dataset(tmp_path, subjects=('01',), runs=('1',))
    _surface_runs(deriv)
    for space in ('fsLR', 'fsLR:den-91k'):
        (run,) = discover_runs(bids, deriv, Query(space=space))
        assert (run.kind, run.bold.name, run.hemispheres, run.mask) == (
            'CIFTI-2',
            'sub-01_task-nback_run-1_space-fsLR_den-91k_bold.dtseries.nii',
            None,
            None,
        )
    with pytest.raises(InvalidParameterError, match=r"'fsLR:den-91k'.*'fsaverage:den-10k'"):
        discover_runs(bids, deriv, Query(space='fsLR:den-32k'))


def test_discover_runs_reads_the_tr_of_a_surface_run_from_its_file(tmp_path):
    bids, deriv = _dataset(tmp_path, subjects=('01',), runs=('1',))
    (bids / 'task-nback_bold.json').unlink()
    stem = deriv / 'sub-01' / 'func' / 'sub-01_task-nback_run-1'
    series = nib.cifti2.SeriesAxis(0.0, 1.5, 3)
    models = nib.cifti2.BrainModelAxis.from_mask(np.ones(4, bool), 'CortexLeft')
    cifti = nib.Cifti2Image(np.zeros((3, 4), np.float32), header=(series, models))
    nib.save(cifti, f'{stem}_space-fsLR_den-91k_bold.dtseries.nii')
    for hemi in ('L', 'R'):
        array = nib.gifti.GiftiDataArray(np.zeros(4, np.float32), meta={'TimeStep': '800'})
        nib.save(
            nib.gifti.GiftiImage(darrays=[array]),
            f'{stem}_hemi-{hemi}_space-fsaverage5_bold.func.gii',
        )
    (cifti_run,) = discover_runs(bids, deriv, Query(space='fsLR'))
    (gifti_run,) = discover_runs(bids, deriv, Query(space='fsaverage5'))
    assert (cifti_run.repetition_time, cifti_run.timing_source) == (1.5, 'CIFTI-2 file')
    assert (gifti_run.repetition_time, gifti_run.timing_source) == (0.8, 'GIFTI file')


def test_discover_runs_refuses_a_model_mask_for_surface_runs(tmp_path):
    bids, deriv = _dataset(tmp_path, subjects=('01',), runs=('1',))
    _surface_runs(deriv)
    query = Query(space='fsLR', mask={'desc': ('brain',)})
    with pytest.raises(InvalidParameterError, match=r'surface runs .* do not take'):
        discover_runs(bids, deriv, query)
