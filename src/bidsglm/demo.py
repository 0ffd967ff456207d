"""Fit the real Haxby (2001) data shipped with bidsglm: ``python -m bidsglm.demo [OUT]``.

Subject 1 of Haxby et al. (2001), 12 runs of object and face viewing reduced to
6 x 10 x 10 voxels of 25 mm (``acq-25mm``), is fitted with a default
:class:`~bidsglm.FirstLevelModel` over all runs (AR(1) noise, Glover HRF, cosine
drifts, motion confounds) inside the dataset's own brain mask (at 25 mm, a mask
computed from the EPI would erode away), and three contrasts are tested by fixed
effects. The
summary printed is the peak z of each contrast.

Examples
--------
>>> summary = run_demo()
>>> summary['n_runs'], summary['design_columns'][:3]
(12, ['bottle', 'cat', 'chair'])
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bidsglm.models import FirstLevelModel

__all__ = ['CONTRASTS', 'haxby_files', 'run_demo']

#: The contrasts the demo tests.
CONTRASTS = {
    'faceMinusHouse': 'face - house',
    'objectsMinusScrambled': '(bottle + cat + chair + scissors + shoe) / 5 - scrambledpix',
    'allStimuli': 'bottle + cat + chair + face + house + scissors + shoe + scrambledpix',
}

_FUNC = 'sub-1/func/sub-1_task-objectviewing_acq-25mm_run-{run:02d}_{suffix}'
_CONFOUNDS = 'derivatives/pymvpa-motion/' + _FUNC


def haxby_files() -> dict[str, list[Path]]:
    """Return the paths of the shipped Haxby runs, events and motion confounds.

    Examples
    --------
    >>> files = haxby_files()
    >>> len(files['runs']), files['events'][0].name
    (12, 'sub-1_task-objectviewing_acq-25mm_run-01_events.tsv')
    """
    root = Path(str(resources.files('bidsglm') / 'data' / 'haxby2001_sub1' / 'bids'))
    runs = range(1, 13)
    return {
        'mask': [root.parent / 'sourcedata/haxby2001/sub001/masks/25mm/brain.nii.gz'],
        'runs': [root / _FUNC.format(run=r, suffix='bold.nii.gz') for r in runs],
        'events': [root / _FUNC.format(run=r, suffix='events.tsv') for r in runs],
        'confounds': [
            root / _CONFOUNDS.format(run=r, suffix='desc-confounds_timeseries.tsv') for r in runs
        ],
    }


def run_demo() -> dict[str, Any]:
    """Fit the 12 runs and test the demo contrasts; return a summary.

    Returns
    -------
    dict
        ``model`` (the fitted model), ``n_runs``, ``design_columns`` and
        ``peak_z`` (contrast label to the largest z-score in the mask).
    """
    files = haxby_files()
    model = FirstLevelModel(t_r=2.5, mask_img=str(files['mask'][0]), subject_label='1').fit(
        [str(path) for path in files['runs']],
        events=[str(path) for path in files['events']],
        confounds=[str(path) for path in files['confounds']],
    )
    peak_z = {
        label: float(np.max(model.compute_contrast(expression).get_fdata()))
        for label, expression in CONTRASTS.items()
    }
    return {
        'model': model,
        'n_runs': len(model.design_matrices_),
        'design_columns': list(model.design_matrices_[0].columns),
        'peak_z': peak_z,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the demo and print its summary; returns the exit code."""
    parser = argparse.ArgumentParser(prog='python -m bidsglm.demo', description=__doc__)
    parser.parse_args(argv)
    summary = run_demo()
    lines = [f'Fitted {summary["n_runs"]} runs of Haxby et al. (2001), subject 1 (25 mm).']
    lines += [f'  {label:<24} peak z = {z:6.2f}' for label, z in summary['peak_z'].items()]
    sys.stdout.write('\n'.join(lines) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
