"""``bidsglm demo [OUTPUT_DIR]``: both levels on real data shipped with bidsglm, offline.

1. First level, through the command line's own code path: the shipped copy of
   subject 1 of Haxby et al. (2001) (12 runs of object and face viewing reduced to
   6 x 10 x 10 voxels of 25 mm) is copied as a BIDS dataset to
   ``OUTPUT_DIR/data/haxby2001``, with its preprocessed runs, brain mask and motion
   estimates in ``derivatives/pymvpa`` (named as fMRIPrep names them), and
   ``bidsglm OUTPUT_DIR/data/haxby2001 OUTPUT_DIR/haxby2001 participant ...`` runs on
   it (:func:`participant_command`): a default model (AR(1), Glover HRF, cosine
   drifts, the six motion confounds) inside the dataset's brain mask (at 25 mm, a
   mask computed from the EPI would erode to nothing), three contrasts tested by
   fixed effects over the runs. The demo prints that command, so that it can be run
   again, changed, and then run on one's own dataset.
2. Second level: the 21 pain studies of NeuroVault collection 1425 (resampled to
   6 mm; published group maps, not a BIDS dataset, so they go through
   :func:`~bidsglm.save_glm_to_bids`), a one-sample test of pain > baseline, saved in
   ``OUTPUT_DIR/pain21``. The Haxby data have one subject: no group level there.

Every save writes its HTML report; ``OUTPUT_DIR/index.html``
(:func:`bidsglm.report.write_index`) links them. The demo prints where the results and
the report are, what it did with what the folder held already (a subject saved by
an earlier run is reused, as the command line does; the group model is replaced),
and the strongest z of every contrast (largest in magnitude, with its sign: a
negative peak is an effect in the reverse direction).
"""

from __future__ import annotations

import logging
import shlex
import shutil
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import cast

import nibabel as nib
import numpy as np
import pandas as pd

from bidsglm._save import save_glm_to_bids
from bidsglm.cli.parser import parse_args
from bidsglm.cli.run import run
from bidsglm.models import SecondLevelModel
from bidsglm.report import write_index

__all__ = [
    'CONTRASTS',
    'PAIN_PREFIX',
    'DemoSummary',
    'copy_haxby_dataset',
    'data_folder',
    'haxby_files',
    'participant_command',
    'run_both',
    'run_demo',
    'strongest',
]

logger = logging.getLogger('bidsglm')

#: The first-level contrasts of the demo.
CONTRASTS = {
    'faceMinusHouse': 'face - house',
    'objectsMinusScrambled': '(bottle + cat + chair + scissors + shoe) / 5 - scrambledpix',
    'allStimuli': 'bottle + cat + chair + face + house + scissors + shoe + scrambledpix',
}
#: The confound columns of the first level: the six motion estimates.
CONFOUNDS = ('trans_*', 'rot_*')
#: The names of the group model's files: the maps are on FSL's MNI152 grid (2 mm,
#: 91 x 109 x 91, before resampling), TemplateFlow's ``MNI152NLin6Asym``.
PAIN_PREFIX = 'task-pain_space-MNI152NLin6Asym'
#: The preprocessed data inside the Haxby dataset.
DERIVATIVES = 'derivatives/pymvpa'
_FUNC = 'sub-1/func/sub-1_task-objectviewing_acq-25mm_run-{run:02d}_{suffix}'
_HAXBY_STATMAP = 'sub-1/sub-1_task-objectviewing_acq-25mm_statmap.json'


def data_folder() -> Path:
    """Return the folder of the data shipped with bidsglm.

    Examples
    --------
    >>> sorted(p.name for p in data_folder().iterdir() if p.is_dir())
    ['haxby2001_sub1', 'mni152', 'pain21', 'schaefer2018']
    """
    return Path(str(resources.files('bidsglm') / 'data'))


def haxby_files() -> dict[str, list[Path]]:
    """Return the shipped Haxby runs, events, motion confounds and brain mask.

    Examples
    --------
    >>> files = haxby_files()
    >>> len(files['runs']), files['events'][0].name
    (12, 'sub-1_task-objectviewing_acq-25mm_run-01_events.tsv')
    """
    root = data_folder() / 'haxby2001_sub1' / 'bids'
    runs = range(1, 13)
    derivatives = root / DERIVATIVES
    return {
        'mask': [root.parent / 'sourcedata/haxby2001/sub001/masks/25mm/brain.nii.gz'],
        'runs': [root / _FUNC.format(run=r, suffix='bold.nii.gz') for r in runs],
        'events': [root / _FUNC.format(run=r, suffix='events.tsv') for r in runs],
        'confounds': [
            derivatives / _FUNC.format(run=r, suffix='desc-confounds_timeseries.tsv') for r in runs
        ],
    }


@dataclass(frozen=True)
class DemoSummary:
    """What the demo saved.

    Parameters
    ----------
    first_level, second_level : pathlib.Path
        The ``statmap.json`` of the two saved models.
    peak_z : dict of str to float
        The z of largest magnitude of each contrast, with its sign (first-level
        names, then ``'pain'``).
    command : list of str
        The ``bidsglm ... participant`` command the first level ran.
    done : dict of str to str
        What was done with each model: ``'fitted'``, ``'reused'`` (a subject the
        folder held already, as the command line skips it) or ``'replaced'``.
    """

    first_level: Path
    second_level: Path
    peak_z: dict[str, float]
    command: list[str]
    done: dict[str, str]


def strongest(values: np.ndarray) -> float:
    """Return the value of largest magnitude, with its sign (a t contrast reads both ways).

    Examples
    --------
    >>> strongest(np.array([2.8, -6.19, 0.5]))
    -6.19
    """
    flat = np.asarray(values, dtype=float).ravel()
    return float(flat[np.argmax(np.abs(flat))]) if flat.size else 0.0


def _saved_peak(statmap: Path, label: str) -> float:
    """Return the strongest z of a saved contrast, read from its z map."""
    stem = statmap.name.removesuffix('statmap.json')
    folder = statmap.parent / 'func' if (statmap.parent / 'func').is_dir() else statmap.parent
    image = cast(
        'nib.Nifti1Image', nib.load(folder / f'{stem}contrast-{label}_stat-z_statmap.nii.gz')
    )
    return strongest(np.asarray(image.dataobj))


def copy_haxby_dataset(target: Path) -> str:
    """Copy the shipped Haxby dataset (raw and preprocessed, 25 mm runs) to ``target``.

    The dataset's README (its provenance and CC-BY-SA licence) goes with it. A copy
    already there is kept.

    Parameters
    ----------
    target : pathlib.Path
        The folder of the copy (``OUTPUT_DIR/data/haxby2001``).

    Returns
    -------
    str
        ``'copied'``, or ``'reused'`` when ``target`` already holds a dataset.
    """
    if (target / 'dataset_description.json').is_file():
        return 'reused'
    source = data_folder() / 'haxby2001_sub1'
    ignore = shutil.ignore_patterns('*acq-1slice*')  # the other acquisition: not modelled
    shutil.copytree(source / 'bids', target, ignore=ignore, dirs_exist_ok=True)
    shutil.copyfile(source / 'README.md', target / 'README.md')
    return 'copied'


def participant_command(bids_dir: Path | str, output_dir: Path | str) -> list[str]:
    """Return the ``bidsglm ... participant`` command of the demo's first level.

    Parameters
    ----------
    bids_dir : path-like
        The copy of the Haxby dataset.
    output_dir : path-like
        Where the first level goes.

    Returns
    -------
    list of str
        The command's words, ``bidsglm`` first.

    Examples
    --------
    >>> print(shlex.join(participant_command('data/haxby2001', 'haxby2001')))
    bidsglm data/haxby2001 haxby2001 participant --derivatives data/haxby2001/derivatives/pymvpa
    --confounds 'trans_*' 'rot_*' --contrast 'faceMinusHouse=face - house' ...
    """
    derivatives = f'{Path(bids_dir).as_posix()}/{DERIVATIVES}'
    words = ['bidsglm', str(bids_dir), str(output_dir), 'participant']
    words += ['--derivatives', derivatives, '--confounds', *CONFOUNDS]
    for name, expression in CONTRASTS.items():
        words += ['--contrast', f'{name}={expression}']
    return words


def _first_level(out_dir: Path) -> tuple[Path, dict[str, float], list[str], str]:
    """Copy the Haxby dataset and run the command line's participant level on it."""
    data, results = out_dir / 'data' / 'haxby2001', out_dir / 'haxby2001'
    copied = copy_haxby_dataset(data)
    logger.info('Haxby et al. (2001), sub-1: %s the dataset to %s.', copied, data)
    statmap = results / _HAXBY_STATMAP
    done = 'reused' if statmap.is_file() else 'fitted'
    command = participant_command(data, results)
    code = run(parse_args(command[1:]), show_progress=False)
    if code != 0:
        msg = f'The first level of the demo failed (exit code {code}): {shlex.join(command)}'
        raise RuntimeError(msg)
    peaks = {name: _saved_peak(statmap, name) for name in CONTRASTS}
    return statmap, peaks, command, done


def _second_level(out_dir: Path) -> tuple[Path, dict[str, float], str]:
    folder = data_folder() / 'pain21'
    maps = sorted(str(path) for path in folder.glob('contrast_pain_*.nii.gz'))
    logger.info('21 pain studies (NeuroVault 1425): one-sample test over %d maps.', len(maps))
    # one row per published study: the index's name tells the report what a row is
    design = pd.DataFrame(
        {'intercept': np.ones(len(maps))}, index=pd.RangeIndex(1, len(maps) + 1, name='study')
    )
    model = SecondLevelModel(mask_img=str(folder / 'mask.nii.gz')).fit(maps, design_matrix=design)
    target = out_dir / 'pain21' / f'{PAIN_PREFIX}_statmap.json'
    done = 'replaced' if target.is_file() else 'fitted'
    saved = save_glm_to_bids(
        model, {'pain': 'intercept'}, out_dir=out_dir / 'pain21', prefix=PAIN_PREFIX
    )
    return saved.statmap, {'pain': _saved_peak(saved.statmap, 'pain')}, done


def run_both(out_dir: Path) -> DemoSummary:
    """Fit and save both levels in ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        Where ``data/haxby2001/``, ``haxby2001/`` and ``pain21/`` are written.

    Returns
    -------
    DemoSummary
        The saved models, the peak z of each contrast, the first level's command and
        what was done (``run_demo`` runs it; ``tests/cli/test_demo.py`` checks them).
    """
    first, first_peaks, command, first_done = _first_level(out_dir)
    second, second_peaks, second_done = _second_level(out_dir)
    return DemoSummary(
        first,
        second,
        {**first_peaks, **second_peaks},
        command,
        {'first level': first_done, 'second level': second_done},
    )


_DONE = {
    'fitted': 'fitted',
    'reused': 'reused: already saved in this folder (as the command line, it fits a saved '
    'subject again only with --overwrite)',
    'replaced': 'fitted again, replacing the one saved in this folder',
}


def run_demo(out_dir: Path, quiet: bool = False) -> int:
    """Run the demo and print where everything is; return the exit code.

    Parameters
    ----------
    out_dir : pathlib.Path
        Where the results go.
    quiet : bool, default=False
        Print only the folder of the results.

    Returns
    -------
    int
        0.

    Examples
    --------
    >>> import tempfile
    >>> run_demo(Path(tempfile.mkdtemp()) / 'demo', quiet=True)
    Results: .../demo
    Report:  .../demo/index.html
    0
    """
    summary = run_both(out_dir)
    index = write_index(out_dir)
    lines = [f'Results: {out_dir.resolve()}', f'Report:  {index.resolve()}']
    if not quiet:
        peaks = summary.peak_z
        lines += [
            f'  first level, Haxby et al. (2001) sub-1, 12 runs: {summary.first_level}',
            f'    {_DONE[summary.done["first level"]]}, by the command:',
            f'    {shlex.join(summary.command)}',
            *[f'    {name:<24} peak z = {peaks[name]:+6.2f}' for name in CONTRASTS],
            f'  second level, 21 pain studies: {summary.second_level}',
            f'    {_DONE[summary.done["second level"]]}',
            f'    {"pain":<24} peak z = {peaks["pain"]:+6.2f}',
        ]
    sys.stdout.write('\n'.join(lines) + '\n')
    return 0
