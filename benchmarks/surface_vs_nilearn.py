"""Time first-level fits on surface data: bidsglm against nilearn's ``SurfaceImage`` GLM.

Two synthetic runs of 300 time points (TR 2 s, three conditions in blocks, AR(1)
noise), written once into a cache folder:

- GIFTI: fsLR 32k hemispheres (``hemi-L``/``hemi-R`` ``.func.gii``, 32,492 vertices
  each, a data array per time point), fitted by both libraries. nilearn reads the
  files into a ``SurfaceImage`` on a synthetic mesh (its GLM needs a mesh; the
  numbers do not depend on it);
- CIFTI-2: an fsLR 91k dense series (``.dtseries.nii``, 91,282 grayordinates:
  both cortices and 20 subcortical structures), fitted by bidsglm only (nilearn reads
  no CIFTI).

Each measurement is a fresh process (``--repeats`` times, the median kept) that
reads the files, fits, and computes five contrasts with every map, the time
reported with the process's peak memory. An I/O floor process reads the same files
(nibabel) and does nothing else.

Run: ``PYTHONPATH=src python benchmarks/surface_vs_nilearn.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

N_SCANS = 300
T_R = 2.0
N_HEMISPHERE = 32492
CONTRASTS = ['audio', 'visual', 'motor', 'audio - visual', 'audio + visual - 2 * motor']


def make_events() -> pd.DataFrame:
    onsets = np.arange(10.0, N_SCANS * T_R - 30.0, 25.0)
    kinds = np.resize(['audio', 'visual', 'motor'], onsets.size)
    return pd.DataFrame({'onset': onsets, 'duration': 10.0, 'trial_type': kinds})


def make_series(n_points: int, rng: np.random.Generator) -> np.ndarray:
    """(time, points) float32: a baseline, AR(1) noise and block responses."""
    noise = np.empty((N_SCANS, n_points), dtype=np.float32)
    noise[0] = rng.standard_normal(n_points)
    for t in range(1, N_SCANS):
        noise[t] = 0.3 * noise[t - 1] + rng.standard_normal(n_points)
    blocks = np.zeros(N_SCANS, dtype=np.float32)
    for onset in make_events()['onset']:
        start = int(onset / T_R)
        blocks[start : start + 5] = 1.0
    amplitude = np.zeros(n_points, dtype=np.float32)
    amplitude[: n_points // 4] = 8.0
    baseline = rng.uniform(400.0, 900.0, n_points).astype(np.float32)
    return baseline + 4 * noise + blocks[:, None] * amplitude


def cifti_brain_models() -> nib.cifti2.BrainModelAxis:
    """fsLR 91k: 29,696 + 29,716 cortical vertices and 31,870 subcortical voxels."""
    cortex = {'CortexLeft': 29696, 'CortexRight': 29716}
    axis = None
    for structure, count in cortex.items():
        inside = np.zeros(N_HEMISPHERE, dtype=bool)
        inside[:count] = True
        part = nib.cifti2.BrainModelAxis.from_mask(inside, structure)
        axis = part if axis is None else axis + part
    volume = np.zeros((91, 109, 91), dtype=bool)
    volume.ravel()[:31870] = True
    subcortex = nib.cifti2.BrainModelAxis.from_mask(
        volume.astype(int), affine=np.diag([2.0, 2.0, 2.0, 1.0]), name='thalamus_left'
    )
    return axis + subcortex


def ensure_data(cache: Path) -> dict[str, Path]:
    """Write the two runs and the events into ``cache`` unless they are there."""
    cache.mkdir(parents=True, exist_ok=True)
    paths = {
        'left': cache / 'sub-01_task-x_hemi-L_space-fsLR_den-32k_bold.func.gii',
        'right': cache / 'sub-01_task-x_hemi-R_space-fsLR_den-32k_bold.func.gii',
        'cifti': cache / 'sub-01_task-x_space-fsLR_den-91k_bold.dtseries.nii',
        'events': cache / 'events.tsv',
    }
    if all(path.exists() for path in paths.values()):
        return paths
    rng = np.random.default_rng(0)
    make_events().to_csv(paths['events'], sep='\t', index=False)
    for part in ('left', 'right'):
        series = make_series(N_HEMISPHERE, rng)
        arrays = [nib.gifti.GiftiDataArray(row) for row in series]
        nib.save(nib.gifti.GiftiImage(darrays=arrays), paths[part])
    models = cifti_brain_models()
    series_axis = nib.cifti2.SeriesAxis(0.0, T_R, N_SCANS)
    data = make_series(len(models), rng)
    nib.save(nib.Cifti2Image(data, header=(series_axis, models)), paths['cifti'])
    return paths


def run_bidsglm(paths: dict[str, Path], kind: str) -> None:
    from bidsglm import FirstLevelModel  # noqa: PLC0415 - each process imports its tool

    run = str(paths['cifti']) if kind == 'cifti' else {p: str(paths[p]) for p in ('left', 'right')}
    model = FirstLevelModel(t_r=T_R).fit(run, pd.read_csv(paths['events'], sep='\t'))
    for contrast in CONTRASTS:
        model.compute_contrast(contrast, output_type='all')


def run_nilearn(paths: dict[str, Path]) -> None:
    import warnings  # noqa: PLC0415

    from nilearn.glm.first_level import FirstLevelModel  # noqa: PLC0415
    from nilearn.surface import InMemoryMesh, PolyMesh, SurfaceImage  # noqa: PLC0415

    warnings.simplefilter('ignore')
    coordinates = np.random.default_rng(0).standard_normal((N_HEMISPHERE, 3))
    faces = np.array([[i, i + 1, i + 2] for i in range(N_HEMISPHERE - 2)])
    mesh = PolyMesh(left=InMemoryMesh(coordinates, faces), right=InMemoryMesh(coordinates, faces))
    data = {
        part: np.stack([a.data for a in nib.load(paths[part]).darrays], axis=1)
        for part in ('left', 'right')
    }
    model = FirstLevelModel(t_r=T_R, minimize_memory=False)
    model.fit(SurfaceImage(mesh=mesh, data=data), pd.read_csv(paths['events'], sep='\t'))
    for contrast in CONTRASTS:
        model.compute_contrast(contrast, output_type='all')


def run_floor(paths: dict[str, Path], kind: str) -> None:
    if kind == 'cifti':
        np.asarray(nib.load(paths['cifti']).dataobj)
    else:
        for part in ('left', 'right'):
            np.stack([a.data for a in nib.load(paths[part]).darrays])


def child(task: str, cache: Path) -> None:
    """One measured process: do ``task``, print seconds and peak memory as JSON."""
    paths = ensure_data(cache)
    start = time.perf_counter()
    tool, kind = task.split(':')
    if tool == 'bidsglm':
        run_bidsglm(paths, kind)
    elif tool == 'nilearn':
        run_nilearn(paths)
    else:
        run_floor(paths, kind)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'seconds': seconds, 'peak_mb': peak_mb}))


def measure(task: str, cache: Path, repeats: int) -> tuple[float, float]:
    results = []
    for _ in range(repeats):
        command = [sys.executable, __file__, '--child', task, '--cache', str(cache)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    return (
        statistics.median(r['seconds'] for r in results),
        max(r['peak_mb'] for r in results),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--cache', type=Path, default=Path('/tmp/bidsglm-bench/surface'))
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.cache)
        return
    ensure_data(args.cache)
    rows = {
        task: measure(task, args.cache, args.repeats)
        for task in (
            'floor:gifti',
            'bidsglm:gifti',
            'nilearn:gifti',
            'floor:cifti',
            'bidsglm:cifti',
        )
    }
    print('| 300 time points, fit + 5 contrasts (all maps) | seconds | peak MB |')
    print('|---|---|---|')
    for task, (seconds, peak) in rows.items():
        print(f'| {task} | {seconds:.2f} | {peak:.0f} |')
    ratio = rows['nilearn:gifti'][0] / rows['bidsglm:gifti'][0]
    print(f'\nGIFTI fsLR 32k x 2: bidsglm {ratio:.1f}x faster than nilearn;', end=' ')
    print(
        f'bidsglm / read floor: {rows["bidsglm:gifti"][0] / rows["floor:gifti"][0]:.1f}x (GIFTI),',
        end=' ',
    )
    print(f'{rows["bidsglm:cifti"][0] / rows["floor:cifti"][0]:.1f}x (CIFTI 91k)')


if __name__ == '__main__':
    main()
