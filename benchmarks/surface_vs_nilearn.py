"""Surface runs against the volume run, per data point, and bidsglm against nilearn.

    PYTHONPATH=src python benchmarks/surface_vs_nilearn.py [--repeats 3] [--json s.json]

One run measures three workloads (``_surface.py``, ``_workloads.py``):

- ``W``: the volume run, 64x64x36x240 ``.nii.gz`` (bidsglm only);
- ``SG``: fsLR 32k GIFTI hemispheres, 300 time points: bidsglm, and nilearn 0.14.1
  fitting the ``SurfaceImage`` it makes from the same files (its mesh: the
  workload's sphere, which bidsglm's report is given too) and saving it with its own
  ``save_glm_to_bids``;
- ``SC``: an fsLR 91k CIFTI-2 dense series, 300 time points (bidsglm only: nilearn
  reads no CIFTI).

Each is fitted with AR(1), the six confounds, and saved with the five contrasts of
``run.py`` (three conditions, a difference, an F-test), every measurement a separate
process (``_measure.py``) as in ``run.py``: fit, contrasts, save (median of
``--repeats``; nilearn ``--nilearn-repeats`` times), then the two I/O floors (read
the input as fast as python-isal allows, write the very files bidsglm wrote). The
per-data-point table gives, for each workload, the seconds per million values
read (the input's) and written (the values of every image file bidsglm wrote),
bidsglm's (its ``read`` stage; its save less its ``contrasts`` and ``report``
stages) beside the floor's, and each end to end over its floor, in wall and in CPU
seconds: the surface path is as fast as the volume path per data point when its
ratios are the volume run's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _surface import SURFACES, data_points, ensure_surface  # noqa: E402
from _workloads import WORKLOADS, ensure_run  # noqa: E402
from run import (  # noqa: E402
    MODES,
    ROWS,
    SOURCE,
    Measurement,
    bench_floors,
    cell,
    machine,
    measure,
    median_of,
    ratio,
    row_value,
)

#: The workloads, and the tools run on each.
BENCH = {'W': ('bidsglm',), 'SG': ('bidsglm', 'nilearn'), 'SC': ('bidsglm',)}


def workload_dir(name: str, cache_dir: Path) -> Path:
    """Generate (once) and return the folder of a workload."""
    return ensure_surface(name, cache_dir) if name in SURFACES else ensure_run(name, cache_dir)


def read_points(name: str) -> int:
    """The values of a workload's input: time points times voxels (the whole grid) or vertices."""
    if name in SURFACES:
        return SURFACES[name].n_points * SURFACES[name].n_scans
    spec = WORKLOADS[name]
    return spec.shape[0] * spec.shape[1] * spec.shape[2] * spec.n_scans


def title(name: str) -> str:
    if name in SURFACES:
        return f'{name}: {SURFACES[name].title}'
    spec = WORKLOADS[name]
    return f'{name}: {"x".join(map(str, (*spec.shape, spec.n_scans)))} .nii.gz'


def bench(name: str, args: argparse.Namespace) -> dict[str, Measurement]:
    """Measure every tool and mode on one workload, then its floors; return medians."""
    run_dir = workload_dir(name, args.cache_dir)
    work = args.cache_dir / 'out-surface'
    results = {}
    for tool in BENCH[name]:
        repeats = args.nilearn_repeats if tool == 'nilearn' else args.repeats
        for mode in MODES:
            out = work / f'{name}-{tool}-{mode}'
            items = [measure(tool, mode, run_dir, out, []) for _ in range(repeats)]
            results[f'{tool}/{mode}'] = median_of(items)
            print(f'  {name} {tool} {mode}: {results[f"{tool}/{mode}"].wall:.2f} s', flush=True)
    reference = work / f'{name}-bidsglm-save'
    results.update(bench_floors(run_dir, work / f'{name}-floor', reference, args.repeats))
    results['points'] = Measurement(
        0.0, 0.0, {'read': read_points(name), 'write': data_points(reference)}
    )
    return results


def per_point(seconds: float | None, points: float) -> str:
    return cell(None if seconds is None else seconds / (points / 1e6), 4)


def bidsglm_write(save: Measurement) -> float:
    """The save less what is not writing: its contrasts and its report."""
    stages = save.seconds
    return stages['save'] - stages.get('stage contrasts', 0.0) - stages.get('stage report', 0.0)


def point_table(all_results: dict[str, dict[str, Measurement]]) -> list[str]:
    """Markdown lines: per workload, seconds per million values read and written."""
    lines = [
        '| workload | values read (M) | bidsglm read s/M | floor read s/M | values written '
        '(M) | bidsglm write s/M | floor write s/M | bidsglm report s | end to end s | '
        'floor s | end to end / floor | CPU s, bidsglm / floor | CPU ratio |',
        '|---|' + '---|' * 12,
    ]
    for name, results in all_results.items():
        save, floor, points = results['bidsglm/save'], results['floor'], results['points']
        read_m, write_m = points.seconds['read'], points.seconds['write']
        lines.append(
            f'| {title(name)} | {cell(read_m / 1e6, 1)} | '
            f'{per_point(save.seconds.get("stage read"), read_m)} | '
            f'{per_point(floor.seconds.get("read"), read_m)} | {cell(write_m / 1e6, 1)} | '
            f'{per_point(bidsglm_write(save), write_m)} | '
            f'{per_point(floor.seconds.get("write"), write_m)} | '
            f'{cell(save.seconds.get("stage report"))} | {cell(save.wall)} | '
            f'{cell(floor.wall)} | {ratio(save.wall, floor.wall)} | '
            f'{cell(save.cpu)} / {cell(floor.cpu)} | {ratio(save.cpu, floor.cpu)} |'
        )
    return lines


def tools_table(name: str, results: dict[str, Measurement]) -> list[str]:
    """Markdown lines: bidsglm against nilearn, step by step, as ``run.py`` prints them."""
    lines = [
        f'| {title(name)}, AR(1) | bidsglm s | nilearn s | speed-up | bidsglm MB | '
        'nilearn MB | CPU s bidsglm / nilearn |',
        '|---|---|---|---|---|---|---|',
    ]
    for label, mode, stages in ROWS:
        ours, our_mb = row_value(results, 'bidsglm', mode, stages)
        theirs, their_mb = row_value(results, 'nilearn', mode, stages)
        cpu = [results.get(f'{tool}/{mode}') for tool in ('bidsglm', 'nilearn')]
        cpu_cell = ' / '.join(cell(item.cpu if item else None) for item in cpu)
        lines.append(
            f'| {label} | {cell(ours)} | {cell(theirs)} | {ratio(theirs, ours)} | '
            f'{cell(our_mb, 0)} | {cell(their_mb, 0)} | {cpu_cell if stages is None else ""} |'
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=3, help='bidsglm and floors (median)')
    parser.add_argument('--nilearn-repeats', type=int, default=1)
    parser.add_argument('--workloads', default=','.join(BENCH), help='among W, SG, SC')
    parser.add_argument('--cache-dir', type=Path, default=Path('/tmp/bidsglm-bench'))
    parser.add_argument('--src', type=Path, help='import bidsglm from this source tree')
    parser.add_argument('--json', type=Path, help='also write the raw numbers here')
    args = parser.parse_args()
    if args.src:
        SOURCE[0] = args.src.resolve()
    all_results = {name: bench(name, args) for name in args.workloads.split(',')}
    print(f'\nMachine: {machine()}\n')
    print('\n'.join(point_table(all_results)) + '\n')
    for name, results in all_results.items():
        if 'nilearn/save' in results:
            print('\n'.join(tools_table(name, results)) + '\n')
    if args.json:
        raw = {name: {k: vars(v) for k, v in res.items()} for name, res in all_results.items()}
        args.json.write_text(json.dumps(raw, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
