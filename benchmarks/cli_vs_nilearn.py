"""``bidsglm ... participant --n-jobs 2`` against a plain loop over nilearn models.

    python benchmarks/cli_vs_nilearn.py [--subjects 20] [--shape 64 64 36] [--scans 240]

One script run builds a synthetic raw + fMRIPrep-style dataset (the builder of the
CLI tests, ``tests/cli/_fake_bids.py``: two runs per subject, float32, a brain mask,
confounds, sidecars with ``StartTime``), then times, each in a fresh process:

1. ``bidsglm BIDS OUT participant --n-jobs N`` with the six motion confounds and
   four contrasts (two conditions, their difference, an F-test over both); every
   save also writes the subject's HTML report (cluster tables included);
2. a plain loop over subjects that does the same with nilearn 0.14.1: a
   ``FirstLevelModel`` per subject (same TR, slice-time reference, mask, events,
   confounds; ``minimize_memory=False`` so it can save) and ``save_glm_to_bids``
   with the same contrasts (it also computes cluster tables for its report).

Wall times include the imports and, for the CLI, the start of its worker processes.
The dataset is kept in ``--work`` and reused when its parameters are the same.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / 'tests' / 'cli'))

from _fake_bids import SPACE, make_fake_dataset  # noqa: E402

MOTION = ['trans_x', 'trans_y', 'trans_z', 'rot_x', 'rot_y', 'rot_z']
CONTRASTS = {
    'congruent': 'congruent',
    'incongruent': 'incongruent',
    'incMinusCon': 'incongruent - congruent',
    'both': 'incongruent, congruent',
}


def cli_participant(bids: Path, out: Path, n_jobs: int) -> list[str]:
    contrasts = [f'--contrast={name}={expression}' for name, expression in CONTRASTS.items()]
    return [
        sys.executable, '-m', 'bidsglm', str(bids), str(out), 'participant',
        '--n-jobs', str(n_jobs), '--confounds', 'trans_*', 'rot_*', *contrasts, '-q',
    ]  # fmt: skip


def nilearn_loop(bids: Path, out: Path) -> None:
    """What a lab without bidsglm writes: fit and save each subject in turn."""
    import pandas as pd  # noqa: PLC0415 - imported in the timed child process only
    from nilearn.glm import save_glm_to_bids  # noqa: PLC0415
    from nilearn.glm.first_level import FirstLevelModel  # noqa: PLC0415

    warnings.simplefilter('ignore')
    prep = bids / 'derivatives' / 'fmriprep'
    for subject in sorted(p.name for p in prep.glob('sub-*')):
        func = prep / subject / 'func'
        stems = sorted(p.name.split('_space-')[0] for p in func.glob('*_desc-preproc_bold.nii.gz'))
        sidecar = json.loads(
            (func / f'{stems[0]}_space-{SPACE}_desc-preproc_bold.json').read_text()
        )
        t_r = sidecar['RepetitionTime']
        model = FirstLevelModel(
            t_r=t_r,
            slice_time_ref=sidecar['StartTime'] / t_r,
            mask_img=str(func / f'{stems[0]}_space-{SPACE}_desc-brain_mask.nii.gz'),
            minimize_memory=False,
        )
        model.fit(
            [str(func / f'{s}_space-{SPACE}_desc-preproc_bold.nii.gz') for s in stems],
            events=[str(bids / subject / 'func' / f'{s}_events.tsv') for s in stems],
            confounds=[
                pd.read_csv(func / f'{s}_desc-confounds_timeseries.tsv', sep='\t')[MOTION]
                for s in stems
            ],
        )
        columns = list(model.design_matrices_[0].columns)
        weights = np.eye(len(columns))[[columns.index('incongruent'), columns.index('congruent')]]
        contrasts = {**{k: v for k, v in CONTRASTS.items() if k != 'both'}, 'both': weights}
        save_glm_to_bids(
            model,
            contrasts,
            contrast_types={'both': 'F'},
            out_dir=out,
            prefix=f'{subject}_task-stroop_space-{SPACE}',
        )


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--subjects', type=int, default=20)
    parser.add_argument('--shape', type=int, nargs=3, default=[64, 64, 36])
    parser.add_argument('--scans', type=int, default=240)
    parser.add_argument('--n-jobs', type=int, default=2)
    parser.add_argument('--work', type=Path, help='working folder (default: a temporary one)')
    parser.add_argument('--nilearn-loop', nargs=2, metavar=('BIDS', 'OUT'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.nilearn_loop:
        nilearn_loop(Path(args.nilearn_loop[0]), Path(args.nilearn_loop[1]))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix='bidsglm-cli-bench-'))
    start = time.perf_counter()
    dataset = _dataset(work, args)
    built = time.perf_counter() - start
    cli_out, loop_out = work / 'out-cli', work / 'out-nilearn'
    for folder in (cli_out, loop_out):
        shutil.rmtree(folder, ignore_errors=True)
    cli = timed(cli_participant(dataset, cli_out, args.n_jobs))
    loop = timed([sys.executable, __file__, '--nilearn-loop', str(dataset), str(loop_out)])
    size = 'x'.join(map(str, args.shape))
    print(f'dataset: {args.subjects} subjects x 2 runs of {size} x {args.scans} ({built:.0f} s)')
    print('| what | wall (s) | nilearn loop / this |')
    print('| --- | --- | --- |')
    print(f'| bidsglm participant --n-jobs {args.n_jobs} | {cli:.1f} | {loop / cli:.1f} |')
    print(f'| plain loop over nilearn models (fit + save_glm_to_bids) | {loop:.1f} | 1.0 |')


def _dataset(work: Path, args: argparse.Namespace) -> Path:
    """Build the dataset, or reuse the one built with the same parameters."""
    stamp = json.dumps({'subjects': args.subjects, 'shape': args.shape, 'scans': args.scans})
    marker = work / 'data' / 'complete.json'
    if marker.is_file() and marker.read_text() == stamp:
        return work / 'data' / 'bids'
    shutil.rmtree(work / 'data', ignore_errors=True)
    dataset = make_fake_dataset(
        work / 'data',
        np.random.default_rng(0),
        n_subjects=args.subjects,
        shape=tuple(args.shape),
        n_scans=args.scans,
    )
    marker.write_text(stamp)
    return dataset.bids_dir


if __name__ == '__main__':
    main()
