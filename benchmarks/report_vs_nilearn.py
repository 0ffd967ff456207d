"""Time bidsglm's HTML report against nilearn's ``generate_report``, on one model.

One 64x64x36x240 float32 run (3 mm voxels, TR 2 s) with AR(1) noise and strong,
spatially fragmented task effects (about half of the brain has z > 3.29 for
``audio``, in many clusters: the case where nilearn's cluster table is slow), three
contrasts. Both libraries fit the same uncompressed ``.nii`` file; then

- bidsglm: ``save_glm_to_bids`` then ``write_report`` (the report is built from the
  saved folder alone: it reads the maps, thresholds at p < 0.001 uncorrected,
  finds clusters and peaks, draws the figures and writes one HTML file); then
  ``model.generate_report`` with the same contrasts and threshold, then
  ``save_as_html`` (the same page, drawn from the fitted model in memory: the
  contrasts are computed, nothing but the page is written);
- nilearn 0.14.1: ``FirstLevelModel(minimize_memory=False).generate_report`` with
  the same contrasts and threshold, then ``save_as_html``.

Run: ``PYTHONPATH=src python benchmarks/report_vs_nilearn.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevelModel

from bidsglm import save_glm_to_bids
from bidsglm.design import make_first_level_design_matrix
from bidsglm.models import FirstLevelModel
from bidsglm.report import write_report

SHAPE = (64, 64, 36)
N_SCANS = 240
T_R = 2.0
AFFINE = np.array([[3.0, 0, 0, -96.0], [0, 3.0, 0, -96.0], [0, 0, 3.5, -63.0], [0, 0, 0, 1.0]])
CONTRASTS = {'audio': 'audio', 'audio_minus_visual': 'audio - visual', 'motor': 'motor'}


def make_events(rng: np.random.Generator) -> pd.DataFrame:
    onsets = np.arange(8.0, N_SCANS * T_R - 20.0, 14.5)
    kinds = np.resize(['audio', 'visual', 'motor'], onsets.size)
    rng.shuffle(kinds)
    return pd.DataFrame({'onset': onsets, 'duration': 3.0, 'trial_type': kinds})


def make_run(path: Path, events: pd.DataFrame, rng: np.random.Generator) -> None:
    """Write the run: ellipsoid brain, AR(1) noise, fragmented strong effects."""
    grid = np.indices(SHAPE).astype(float)
    centre = (np.array(SHAPE) - 1) / 2
    inside = sum(((grid[i] - centre[i]) / (0.43 * SHAPE[i])) ** 2 for i in range(3)) <= 1
    design = make_first_level_design_matrix(np.arange(N_SCANS) * T_R, events, drift_model=None)
    amplitudes = {}
    halves = {
        'audio': grid[1] > centre[1],
        'visual': grid[1] <= centre[1],
        'motor': grid[0] > centre[0],
    }
    for condition, region in halves.items():
        amplitudes[condition] = np.where(
            inside & region, 6.0 * np.abs(rng.standard_normal(SHAPE)), 0.0
        )
    baseline = np.where(inside, 800.0, 30.0)
    rho, sd = 0.3, 8.0
    noise = rng.standard_normal(SHAPE)
    data = np.empty((*SHAPE, N_SCANS), dtype=np.float32)
    for scan in range(N_SCANS):
        if scan:
            noise = rho * noise + np.sqrt(1 - rho**2) * rng.standard_normal(SHAPE)
        signal = sum(amplitudes[c] * design[c].iloc[scan] for c in amplitudes)
        data[..., scan] = baseline + signal + sd * noise
    image = nib.Nifti1Image(data, AFFINE)
    image.header.set_xyzt_units('mm', 'sec')
    image.header.set_zooms((3.0, 3.0, 3.5, T_R))
    nib.save(image, path)


def time_ours(run: Path, events: pd.DataFrame, out: Path, repeat: int) -> dict[str, float]:
    start = time.perf_counter()
    model = FirstLevelModel(t_r=T_R, noise_model='ar1').fit(str(run), events=events)
    fitted = time.perf_counter()
    saved = save_glm_to_bids(model, CONTRASTS, out_dir=out, prefix='sub-01_task-bench')
    written = time.perf_counter()
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        report = write_report(saved.statmap)
        times.append(time.perf_counter() - begin)
    generated = []
    for _ in range(repeat):
        begin = time.perf_counter()
        page = model.generate_report(CONTRASTS, height_control='fpr', alpha=0.001)
        page.save_as_html(out / 'generated_report.html')
        generated.append(time.perf_counter() - begin)
    return {
        'fit': fitted - start,
        'save': written - fitted,
        'report_first': times[0],
        'report_best': min(times),
        'report_size_mb': report.stat().st_size / 1e6,
        'generate_first': generated[0],
        'generate_best': min(generated),
    }


def time_nilearn(run: Path, events: pd.DataFrame, out: Path) -> dict[str, float]:
    start = time.perf_counter()
    model = NilearnFirstLevelModel(t_r=T_R, noise_model='ar1', minimize_memory=False)
    model.fit(str(run), events=events)
    fitted = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        report = model.generate_report(CONTRASTS, height_control='fpr', alpha=0.001)
        generated = time.perf_counter()
        report.save_as_html(out / 'nilearn_report.html')
    saved = time.perf_counter()
    return {
        'fit': fitted - start,
        'generate_report': generated - fitted,
        'report': saved - fitted,
        'report_size_mb': (out / 'nilearn_report.html').stat().st_size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=3, help='bidsglm report repetitions')
    parser.add_argument('--keep', type=Path, help='write the outputs here instead of a temp dir')
    args = parser.parse_args()
    rng = np.random.default_rng(2024)
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        run = work / 'bold.nii'
        events = make_events(rng)
        make_run(run, events, rng)
        ours = time_ours(run, events, work / 'bidsglm', args.repeat)
        theirs = time_nilearn(run, events, work)
    n = len(CONTRASTS)
    print(f'64x64x36x{N_SCANS} run, {n} contrasts, threshold p < 0.001 uncorrected')
    print(f'bidsglm fit {ours["fit"]:.2f} s, save {ours["save"]:.2f} s')
    print(
        f'bidsglm report: {ours["report_first"]:.2f} s first call (imports included), '
        f'{ours["report_best"]:.2f} s best of {args.repeat}; '
        f'{ours["report_first"] / n:.2f} / {ours["report_best"] / n:.2f} s per contrast; '
        f'{ours["report_size_mb"]:.2f} MB'
    )
    print(
        f'bidsglm generate_report + save_as_html: {ours["generate_first"]:.2f} s first call, '
        f'{ours["generate_best"]:.2f} s best of {args.repeat}; '
        f'{ours["generate_best"] / n:.2f} s per contrast'
    )
    print(f'nilearn fit {theirs["fit"]:.2f} s')
    print(
        f'nilearn generate_report {theirs["generate_report"]:.2f} s, with save_as_html '
        f'{theirs["report"]:.2f} s; {theirs["report"] / n:.2f} s per contrast; '
        f'{theirs["report_size_mb"]:.2f} MB'
    )
    print(f'ratio (nilearn / bidsglm first call): {theirs["report"] / ours["report_first"]:.0f}x')
    print(
        'ratio (nilearn / bidsglm, generate_report with save_as_html, best): '
        f'{theirs["report"] / ours["generate_best"]:.0f}x'
    )


if __name__ == '__main__':
    main()
