"""Fit and save every subject of the benchmark dataset with nilearn, one by one.

    python benchmarks/_nilearn_loop.py BIDS_DIR OUT_DIR

What a lab without bidsglm would write: for each subject, a FirstLevelModel on its
two preprocessed runs with the fMRIPrep mask, the events and the six motion
confounds, then ``save_glm_to_bids`` with the dataset's four contrasts.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd
from _dataset import CONFOUND_NAMES, CONTRASTS, SPACE, TASK
from nilearn.glm import save_glm_to_bids
from nilearn.glm.first_level import FirstLevelModel


def fit_and_save(bids: Path, label: str, out_dir: Path) -> None:
    prep = bids / 'derivatives' / 'fmriprep' / f'sub-{label}' / 'func'
    stems = sorted(p.name.split('_space-')[0] for p in prep.glob('*_desc-preproc_bold.nii.gz'))
    runs = [str(prep / f'{stem}_space-{SPACE}_desc-preproc_bold.nii.gz') for stem in stems]
    events = [
        pd.read_csv(bids / f'sub-{label}' / 'func' / f'{s}_events.tsv', sep='\t') for s in stems
    ]
    confounds = [
        pd.read_csv(prep / f'{s}_desc-confounds_timeseries.tsv', sep='\t')[list(CONFOUND_NAMES)]
        for s in stems
    ]
    mask = prep / f'{stems[0]}_space-{SPACE}_desc-brain_mask.nii.gz'
    model = FirstLevelModel(t_r=2.0, mask_img=str(mask), minimize_memory=False)
    model.fit(runs, events=events, confounds=confounds)
    save_glm_to_bids(
        model,
        CONTRASTS,
        out_dir=out_dir,
        prefix=f'sub-{label}_task-{TASK}',
    )


def main(bids_dir: str, out_dir: str) -> None:
    warnings.simplefilter('ignore')
    bids = Path(bids_dir)
    for subject in sorted(bids.glob('sub-*')):
        fit_and_save(bids, subject.name.removeprefix('sub-'), Path(out_dir))


if __name__ == '__main__':
    main(*sys.argv[1:3])
