"""Plan each model file of the test corpus on a tiny dataset made from its own names.

Usage: ``python tools/stats_models_plan_corpus.py [--failed]``. For every file that
bidsglm reads, a dataset of one subject and two runs (two sessions when the model
has a Session node) is written in a temporary folder, with the names the Run node
uses: ``trial_type.<value>`` and plain names become ``trial_type`` values, the inputs
of transformations become events columns, globs and usual confound names become
confounds columns. Then the participant level is planned (every check of a run,
nothing fitted). A failure is either bidsglm's or this guess's: the message says.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd

from bidsglm.dataset.plan import Request, plan_participant
from bidsglm.dataset.stats_models import read_stats_model
from bidsglm.errors import BidsGlmError

CORPUS = Path(__file__).parents[1] / 'tests' / 'data' / 'stats_models'
N_SCANS, T_R, SHAPE = 40, 2.0, (4, 4, 4)
#: Confounds columns fMRIPrep writes, by name or prefix.
CONFOUND = re.compile(
    r'^(trans|rot)_[xyz]|csf|white_matter|global_signal|framewise_displacement|std_dvars'
    r'|dvars|rmsd|(a|t|c|w)_comp_cor|cosine|non_steady_state|motion_outlier|aroma'
)


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _run_node(content: dict[str, Any]) -> dict[str, Any]:
    return next(n for n in content['Nodes'] if str(n.get('Level', '')).lower() == 'run')


def _transformation_names(node: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Return the inputs a node's transformations read and the names they make."""
    spec = node.get('Transformations') or {}
    instructions = spec.get('Instructions', []) if isinstance(spec, dict) else spec
    inputs: set[str] = set()
    made: set[str] = set()
    for item in instructions:
        if not isinstance(item, dict):
            continue
        for name in _names(item.get('Input', item.get('Inputs'))):
            if name not in made:
                inputs.add(name)
        made |= set(_names(item.get('Output')))
    return inputs, made


def _used_names(node: dict[str, Any]) -> set[str]:
    model = node.get('Model', {})
    names = set(_names(model.get('X'))) | set(_names((model.get('HRF') or {}).get('Variables')))
    for contrast in node.get('Contrasts') or []:
        names |= set(_names(contrast.get('ConditionList')))
    return names


def _concrete(name: str) -> str:
    """Return a name that a glob matches (``trans_?`` -> ``trans_x``, ``face*`` -> ``face1``)."""
    return name.replace('?', 'x').replace('*', '1').replace('[', '').replace(']', '')


def _kinds(content: dict[str, Any]) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Return the events columns to write (text with their values, numbers), the confounds."""
    node = _run_node(content)
    inputs, made = _transformation_names(node)
    hrf = (node.get('Model', {}).get('HRF') or {}).get('Variables')
    convolved = set(_names(hrf)) if hrf else None
    text: dict[str, set[str]] = {'trial_type': set()}
    columns: set[str] = set()
    confounds: set[str] = set()
    software = node.get('Model', {}).get('Software') or {}
    modulations = (software.get('SPM') or {}).get('ParametricModulations') or []
    inputs |= {v for m in modulations for v in _names(m.get('Values'))} - made
    for name in inputs - {'trial_type'}:
        (confounds if CONFOUND.match(name) else columns).add(_concrete(name))
    for name in _used_names(node) - made - inputs - {'1'}:
        column, dot, value = name.partition('.')
        if CONFOUND.match(name) or (not dot and any(c in name for c in '*?[')):
            confounds.add(_concrete(name))
        elif convolved is not None and name not in convolved:
            continue  # named in X only: a condition without events here (bidspm's tests)
        elif dot:
            text.setdefault(column, set()).add(_concrete(value))
        else:
            text['trial_type'].add(name)
    text['trial_type'] |= {n.partition('.')[2] for n in made if n.startswith('trial_type.')}
    text['trial_type'] = text['trial_type'] or {'task'}
    confounds |= {f'{kind}_{axis}' for kind in ('trans', 'rot') for axis in 'xyz'}
    values = {column: sorted(v) for column, v in text.items()}
    return values, sorted(columns), sorted(confounds)


def _events(
    text: dict[str, list[str]], columns: list[str], rng: np.random.Generator
) -> pd.DataFrame:
    onsets = np.arange(2.0, N_SCANS * T_R - 10.0, 6.0)
    table = pd.DataFrame({'onset': onsets, 'duration': 2.0})
    for column, values in text.items():
        table[column] = [values[i % len(values)] for i in range(onsets.size)]
    for column in columns:
        table[column] = rng.standard_normal(onsets.size).round(3)
    return table


def _write(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content), encoding='utf-8')


def _write_run(root: Path, stem: str, folder: str, inputs: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    text, columns, confounds = inputs['kinds']
    raw = root / folder / 'func'
    raw.mkdir(parents=True, exist_ok=True)
    _events(text, columns, rng).to_csv(raw / f'{stem}_events.tsv', sep='\t', index=False)
    deriv = root / 'derivatives' / 'fmriprep' / folder / 'func'
    deriv.mkdir(parents=True, exist_ok=True)
    bold = f'{stem}_space-{inputs["space"]}_desc-{inputs["desc"]}_bold'
    data = 100.0 + rng.standard_normal((*SHAPE, N_SCANS))
    nib.save(nib.Nifti1Image(data.astype(np.float32), np.eye(4)), deriv / f'{bold}.nii.gz')
    nib.save(
        nib.Nifti1Image(np.ones(SHAPE, np.uint8), np.eye(4)),
        deriv / f'{stem}_space-{inputs["space"]}_desc-brain_mask.nii.gz',
    )
    _write(deriv / f'{bold}.json', {'RepetitionTime': T_R})
    table = pd.DataFrame(rng.standard_normal((N_SCANS, len(confounds))), columns=confounds)
    table.to_csv(deriv / f'{stem}_desc-confounds_timeseries.tsv', sep='\t', index=False)


def _session_labels(content: dict[str, Any]) -> list[str]:
    """Return the session labels the contrasts of a node over ``session`` name."""
    labels: list[str] = []
    for node in content['Nodes']:
        if 'session' in _names(node.get('Model', {}).get('X')):
            for contrast in node.get('Contrasts') or []:
                names = _names(contrast.get('ConditionList'))
                labels += [n.removeprefix('session.') for n in names if n not in labels]
    return labels


def _inputs(content: dict[str, Any]) -> dict[str, Any]:
    """Read what the dataset must hold from the model's ``Input`` and nodes."""
    given = content.get('Input') or {}
    mask = (_run_node(content).get('Model', {}).get('Options') or {}).get('Mask') or {}
    levels = {str(n.get('Level', '')).lower() for n in content['Nodes']}
    sessions = (
        _names(given.get('session'))
        or _names(mask.get('ses') if mask else None)
        or _session_labels(content)
    )
    return {
        'tasks': [t for t in _names(given.get('task')) if t] or ['task'],
        'space': ([*_names(given.get('space')), 'MNI152NLin2009cAsym'])[0],
        'desc': ([*_names(given.get('desc', given.get('description'))), 'preproc'])[0],
        'acq': ([*_names(given.get('acq', given.get('acquisition'))), ''])[0],
        'subjects': [s.removeprefix('sub-') for s in _names(given.get('subject'))] or ['01'],
        'sessions': sessions or (['1', '2'] if 'session' in levels else [None]),
        'kinds': _kinds(content),
    }


def make_dataset(root: Path, content: dict[str, Any]) -> None:
    """Write the dataset a model file's names ask for."""
    inputs = _inputs(content)
    _write(root / 'dataset_description.json', {'Name': 'x', 'BIDSVersion': '1.10.0'})
    subjects = inputs['subjects']
    pd.DataFrame({'participant_id': [f'sub-{s}' for s in subjects], 'age': 30}).to_csv(
        root / 'participants.tsv', sep='\t', index=False
    )
    _write(
        root / 'derivatives' / 'fmriprep' / 'dataset_description.json',
        {'Name': 'fMRIPrep', 'BIDSVersion': '1.10.0', 'DatasetType': 'derivative'},
    )
    for task in inputs['tasks']:
        _write(root / f'task-{task}_bold.json', {'RepetitionTime': T_R, 'TaskName': task})
    for subject, session, task, run in itertools.product(
        subjects, inputs['sessions'], inputs['tasks'], (1, 2)
    ):
        ses = f'_ses-{session}' if session else ''
        folder = f'sub-{subject}/ses-{session}' if session else f'sub-{subject}'
        acq = f'_acq-{inputs["acq"]}' if inputs['acq'] else ''
        _write_run(root, f'sub-{subject}{ses}_task-{task}{acq}_run-{run}', folder, inputs)


def reads(path: Path) -> bool:
    """Tell whether bidsglm reads a model file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            read_stats_model(path)
    except BidsGlmError:
        return False
    return True


def plan(path: Path) -> str | None:
    """Plan a model file on its own dataset; return None, or why it failed."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / 'bids'
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            content = dict(read_stats_model(path).source)  # earlier spellings rewritten
        try:
            make_dataset(root, content)
        except (KeyError, StopIteration, TypeError) as error:
            return f'no dataset made from its names ({error!r})'
        request = Request(root, Path(folder) / 'out', model=path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                plan_participant(request, lambda *_: False)
        except BidsGlmError as error:
            return str(error)
    return None


def main(argv: list[str]) -> int:
    """Plan every file bidsglm reads and print the outcome; return 0."""
    only_failed = '--failed' in argv
    files = [p for p in sorted(CORPUS.rglob('*.json')) if reads(p)]
    planned = 0
    for path in files:
        problem = plan(path)
        name = path.relative_to(CORPUS)
        if problem is None:
            planned += 1
            if not only_failed:
                print(f'planned   {name}')  # noqa: T201
        else:
            print(f'failed    {name}: {problem}')  # noqa: T201
    print(f'{planned} of {len(files)} read files planned')  # noqa: T201
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
