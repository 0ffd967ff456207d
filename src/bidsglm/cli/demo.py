"""``bidsglm demo [OUTPUT_DIR]``: both levels on real data shipped with bidsglm, offline.

1. First level: subject 1 of Haxby et al. (2001), 12 runs of object and face viewing
   reduced to 6 x 10 x 10 voxels of 25 mm, fitted with a default
   :class:`~bidsglm.FirstLevelModel` (AR(1), Glover HRF, cosine drifts, the motion
   confounds) inside the dataset's own brain mask (at 25 mm, a mask computed from
   the EPI would erode to nothing), three contrasts tested by fixed effects over the
   runs, saved with :func:`~bidsglm.save_glm_to_bids` in
   ``OUTPUT_DIR/haxby2001``.
2. Second level: the 21 pain studies of NeuroVault collection 1425 (resampled to
   6 mm), a one-sample test of pain > baseline, saved in ``OUTPUT_DIR/pain21``.

Every save writes its HTML report; ``OUTPUT_DIR/index.html``
(:func:`bidsglm.report.write_index`) links them. The demo prints where the results and
the report are, with the strongest z of every contrast (largest in magnitude, with its
sign: a negative peak is an effect in the reverse direction).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from bidsglm._save import save_glm_to_bids
from bidsglm.bids import SavedGlm
from bidsglm.bids.discovery import index_dataset
from bidsglm.models import FirstLevelModel, SecondLevelModel
from bidsglm.report import write_index

__all__ = [
    'CONTRASTS',
    'PAIN_PREFIX',
    'DemoSummary',
    'data_folder',
    'haxby_files',
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

#: The names of the group model's files: the maps are on FSL's MNI152 grid (2 mm,
#: 91 x 109 x 91, before resampling), TemplateFlow's ``MNI152NLin6Asym``.
PAIN_PREFIX = 'task-pain_space-MNI152NLin6Asym'
_FUNC = 'sub-1/func/sub-1_task-objectviewing_acq-25mm_run-{run:02d}_{suffix}'
_CONFOUNDS = 'derivatives/pymvpa-motion/' + _FUNC


def data_folder() -> Path:
    """Return the folder of the data shipped with bidsglm.

    Examples
    --------
    >>> sorted(p.name for p in data_folder().iterdir() if p.is_dir())
    ['haxby2001_sub1', 'pain21']
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
    return {
        'mask': [root.parent / 'sourcedata/haxby2001/sub001/masks/25mm/brain.nii.gz'],
        'runs': [root / _FUNC.format(run=r, suffix='bold.nii.gz') for r in runs],
        'events': [root / _FUNC.format(run=r, suffix='events.tsv') for r in runs],
        'confounds': [
            root / _CONFOUNDS.format(run=r, suffix='desc-confounds_timeseries.tsv') for r in runs
        ],
    }


@dataclass(frozen=True)
class DemoSummary:
    """What the demo saved.

    Parameters
    ----------
    first_level, second_level : SavedGlm
        The two saved models.
    peak_z : dict of str to float
        The z of largest magnitude of each contrast, with its sign (first-level
        names, then ``'pain'``).
    """

    first_level: SavedGlm
    second_level: SavedGlm
    peak_z: dict[str, float]


def strongest(values: np.ndarray) -> float:
    """Return the value of largest magnitude, with its sign (a t contrast reads both ways).

    Examples
    --------
    >>> strongest(np.array([2.8, -6.19, 0.5]))
    -6.19
    """
    flat = np.asarray(values, dtype=float).ravel()
    return float(flat[np.argmax(np.abs(flat))]) if flat.size else 0.0


def _peak(model: FirstLevelModel | SecondLevelModel, contrast: str) -> float:
    return strongest(model.compute_contrast(contrast).get_fdata())


def _first_level(out_dir: Path) -> tuple[SavedGlm, dict[str, float]]:
    files = haxby_files()
    index = index_dataset(files['runs'][0].parents[2])
    bold = next(f for f in index.files if f.path == files['runs'][0])
    t_r = float(index.metadata(bold)['RepetitionTime'])
    logger.info('Haxby et al. (2001), sub-1: 12 runs, TR %g s (from the sidecar).', t_r)
    model = FirstLevelModel(t_r=t_r, mask_img=str(files['mask'][0]), subject_label='1').fit(
        [str(path) for path in files['runs']],
        events=[str(path) for path in files['events']],
        confounds=[str(path) for path in files['confounds']],
    )
    saved = save_glm_to_bids(model, CONTRASTS, out_dir=out_dir / 'haxby2001')
    return saved, {name: _peak(model, expression) for name, expression in CONTRASTS.items()}


def _second_level(out_dir: Path) -> tuple[SavedGlm, dict[str, float]]:
    folder = data_folder() / 'pain21'
    maps = sorted(str(path) for path in folder.glob('contrast_pain_*.nii.gz'))
    logger.info('21 pain studies (NeuroVault 1425): one-sample test over %d maps.', len(maps))
    # one row per published study: the index's name tells the report what a row is
    design = pd.DataFrame(
        {'intercept': np.ones(len(maps))}, index=pd.RangeIndex(1, len(maps) + 1, name='study')
    )
    model = SecondLevelModel(mask_img=str(folder / 'mask.nii.gz')).fit(maps, design_matrix=design)
    saved = save_glm_to_bids(
        model, {'pain': 'intercept'}, out_dir=out_dir / 'pain21', prefix=PAIN_PREFIX
    )
    return saved, {'pain': _peak(model, 'intercept')}


def run_both(out_dir: Path) -> DemoSummary:
    """Fit and save both levels in ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        Where ``haxby2001/`` and ``pain21/`` are written.

    Returns
    -------
    DemoSummary
        The saved models and the peak z of each contrast (``run_demo`` runs it;
        ``tests/cli/test_demo.py`` checks the numbers).
    """
    first, first_peaks = _first_level(out_dir)
    second, second_peaks = _second_level(out_dir)
    return DemoSummary(first, second, {**first_peaks, **second_peaks})


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
        lines += [
            f'  first level, Haxby et al. (2001) sub-1, 12 runs: {summary.first_level.statmap}',
            *[f'    {name:<24} peak z = {summary.peak_z[name]:+6.2f}' for name in CONTRASTS],
            f'  second level, 21 pain studies: {summary.second_level.statmap}',
            f'    {"pain":<24} peak z = {summary.peak_z["pain"]:+6.2f}',
        ]
    sys.stdout.write('\n'.join(lines) + '\n')
    return 0
