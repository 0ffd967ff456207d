"""Time AR(p) first-level fits of bidsglm against nilearn's, and compare their maps.

The benchmark's W run (64x64x36x240 float32, AR(1) noise, generated into the cache
folder of ``benchmarks/run.py`` when missing) is fitted by both libraries with the
same ``noise_model`` and ``random_state`` (``minimize_memory=False`` for nilearn), and
the t map of ``audio - visual`` is compared. Each fit runs ``--repeats`` times in
this process, alternating the libraries; the median is kept.

Run: ``PYTHONPATH=src python benchmarks/ar_vs_nilearn.py [--noise-models ar1,ar2,ar3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevelModel

sys.path.insert(0, str(Path(__file__).parent))
from _workloads import ensure_run

from bidsglm import FirstLevelModel

CONTRAST = 'audio - visual'


def fit_and_t_map(model_class: type, run: nib.Nifti1Image, events: pd.DataFrame, **params):
    """Fit one model; return the seconds the fit took and the t map of ``CONTRAST``."""
    model = model_class(t_r=2.0, minimize_memory=False, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        start = time.perf_counter()
        model.fit(run, events)
        seconds = time.perf_counter() - start
        t_map = model.compute_contrast(CONTRAST, output_type='stat').get_fdata()
    return seconds, t_map


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--noise-models', default='ar1,ar2,ar3')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--cache', type=Path, default=Path('/tmp/bidsglm-bench'))
    args = parser.parse_args()
    folder = ensure_run('W', args.cache)
    run = nib.load(folder / 'bold.nii.gz')
    run = nib.Nifti1Image(np.asarray(run.dataobj), run.affine, run.header)
    events = pd.read_csv(folder / 'events.tsv', sep='\t')
    print('| noise model | bidsglm fit s | nilearn fit s | speed-up | max abs t diff |')
    print('|---|---|---|---|---|')
    for noise_model in args.noise_models.split(','):
        ours, theirs = [], []
        for _ in range(args.repeats):
            seconds, our_map = fit_and_t_map(FirstLevelModel, run, events, noise_model=noise_model)
            ours.append(seconds)
            seconds, their_map = fit_and_t_map(
                NilearnFirstLevelModel, run, events, noise_model=noise_model
            )
            theirs.append(seconds)
        gap = np.nanmax(np.abs(our_map - their_map))
        mine, reference = statistics.median(ours), statistics.median(theirs)
        speed_up = reference / mine
        print(f'| {noise_model} | {mine:.2f} | {reference:.2f} | {speed_up:.1f}x | {gap:.2e} |')


if __name__ == '__main__':
    main()
