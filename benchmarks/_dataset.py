"""A synthetic BIDS dataset for the command-line benchmark, and a plain nilearn loop.

The dataset is ``n`` subjects with two runs each of one workload (different seeds, so
different noise and event timings), laid out as a raw BIDS folder (events, TR) with
an fMRIPrep-style derivatives folder (preprocessed BOLD, brain mask, confounds).
The raw ``_bold.nii.gz`` files are symbolic links to the preprocessed ones, to spare
the disk.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path

import nibabel as nib
import numpy as np
from _workloads import CONFOUND_NAMES, WORKLOADS, brain_mask, is_complete, write_run, write_tables

HERE = Path(__file__).resolve().parent
TASK = 'bench'
SPACE = 'MNI152NLin2009cAsym'
N_RUNS = 2
#: The dataset's model, the same for the command line and the nilearn loop: four t
#: contrasts (the command line's flags take no F-test) and the six motion confounds.
CONTRASTS = {
    'audio': 'audio',
    'visual': 'visual',
    'motor': 'motor',
    'audioMinusVisual': 'audio - visual',
}


def cli_arguments() -> list[str]:
    """The model as ``bidsglm ... participant`` flags."""
    contrasts = [f'--contrast={name}={expression}' for name, expression in CONTRASTS.items()]
    return [*contrasts, '--confounds', *CONFOUND_NAMES, '--n-jobs', '2']


def _description(name: str, derivative: bool) -> dict[str, object]:
    content: dict[str, object] = {'Name': name, 'BIDSVersion': '1.10.0'}
    if derivative:
        content['DatasetType'] = 'derivative'
        content['GeneratedBy'] = [{'Name': 'fMRIPrep', 'Version': '24.1.1'}]
    return content


def _write_run(spec, raw_func: Path, prep_func: Path, stem: str) -> None:
    """Write one run: events (raw), preprocessed BOLD, its sidecar and confounds."""
    events, _ = write_tables(spec, prep_func)
    (prep_func / 'events.tsv').rename(raw_func / f'{stem}_events.tsv')
    (prep_func / 'confounds.tsv').rename(prep_func / f'{stem}_desc-confounds_timeseries.tsv')
    bold = prep_func / f'{stem}_space-{SPACE}_desc-preproc_bold.nii.gz'
    write_run(spec, bold, events)
    sidecar = {'RepetitionTime': spec.t_r, 'SkullStripped': False, 'TaskName': TASK}
    bold.with_name(bold.name.replace('.nii.gz', '.json')).write_text(json.dumps(sidecar))
    mask = nib.Nifti1Image(brain_mask(spec).astype(np.uint8), spec.affine)
    nib.save(mask, prep_func / f'{stem}_space-{SPACE}_desc-brain_mask.nii.gz')
    (raw_func / f'{stem}_bold.nii.gz').symlink_to(
        Path('../../derivatives/fmriprep') / bold.relative_to(bold.parents[2])
    )


def _build(bids: Path, n_subjects: int, run_name: str) -> None:
    base = WORKLOADS[run_name]
    prep = bids / 'derivatives' / 'fmriprep'
    prep.mkdir(parents=True)
    (bids / 'dataset_description.json').write_text(json.dumps(_description('bench', False)))
    (prep / 'dataset_description.json').write_text(json.dumps(_description('fMRIPrep', True)))
    (bids / f'task-{TASK}_bold.json').write_text(
        json.dumps({'RepetitionTime': base.t_r, 'TaskName': TASK})
    )
    labels = [f'{i + 1:02d}' for i in range(n_subjects)]
    (bids / 'participants.tsv').write_text(
        'participant_id\n' + ''.join(f'sub-{s}\n' for s in labels)
    )
    for index, label in enumerate(labels):
        raw_func = bids / f'sub-{label}' / 'func'
        prep_func = prep / f'sub-{label}' / 'func'
        raw_func.mkdir(parents=True)
        prep_func.mkdir(parents=True)
        for run in range(1, N_RUNS + 1):
            spec = replace(base, seed=10_000 + 100 * index + run)
            _write_run(spec, raw_func, prep_func, f'sub-{label}_task-{TASK}_run-{run}')


def ensure_dataset(cache_dir: Path, n_subjects: int, run_name: str) -> Path:
    """Return the raw BIDS folder of the dataset, generating it when missing."""
    root = cache_dir / f'dataset-{run_name}-{n_subjects}'
    stamp = {
        'subjects': n_subjects,
        'run': asdict(WORKLOADS[run_name]),
        'confounds': CONFOUND_NAMES,
    }
    if not is_complete(root, stamp):
        shutil.rmtree(root, ignore_errors=True)
        _build(root / 'bids', n_subjects, run_name)
        (root / 'complete.json').write_text(json.dumps(stamp))
    return root / 'bids'


def nilearn_loop_command(bids_dir: Path, out_dir: Path) -> list[str]:
    """The command that fits and saves every subject with nilearn, one after another."""
    return [sys.executable, str(HERE / '_nilearn_loop.py'), str(bids_dir), str(out_dir)]
