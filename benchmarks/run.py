"""Benchmark bidsglm against nilearn 0.14.1: wall time and peak memory, and the I/O floor.

    python benchmarks/run.py            # W, L, G200, G1000, the dataset (3 repeats of W, G200)
    python benchmarks/run.py --quick    # small workloads, about a minute
    python benchmarks/run.py --workloads G200,G1000 --no-dataset   # the group level

Every number comes from a separate process (``_measure.py``), so imports and memory
of one measurement never leak into another; peak memory is that process's maximum
resident set size (``os.wait4``). See ``benchmarks/README.md`` for what each row
means.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _dataset import cli_arguments, ensure_dataset, nilearn_loop_command  # noqa: E402
from _group import GROUPS, ensure_group  # noqa: E402
from _workloads import WORKLOADS, ensure_run  # noqa: E402

TOOLS = ('bidsglm', 'nilearn')
MODES = ('fit', 'contrasts', 'save')
#: A group workload's one contrast costs nothing next to its fit: not measured apart.
GROUP_MODES = ('fit', 'save')


@dataclass
class Measurement:
    """One child process: its wall time, peak memory and in-process stage times.

    For the command line over the dataset, ``seconds`` holds each stage's mean over
    the subjects and ``subjects`` each subject's stages (from its ``-v`` log).
    """

    wall: float
    peak_mb: float
    seconds: dict[str, float] = field(default_factory=dict)
    subjects: dict[str, dict[str, float]] = field(default_factory=dict)
    cpu: float | None = None


#: The source tree the children import bidsglm from (``--src``; default this checkout's).
SOURCE = [HERE.parent / 'src']


def child_env() -> dict[str, str]:
    """The environment of a child: the chosen ``src`` first on the path."""
    env = dict(os.environ)
    source = SOURCE[0]
    if source.is_dir():
        env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(source), env.get('PYTHONPATH')]))
    return env


@dataclass
class TreeUsage:
    """What sampling a process tree saw: its largest memory, each process's CPU seconds."""

    peak_mb: float = 0.0
    cpu: dict[int, float] = field(default_factory=dict)


def tree_usage(root: int) -> tuple[float, dict[int, float]]:
    """Resident memory of a process and its descendants, summed, and each one's CPU seconds.

    Read from /proc; CPU is user plus system time, the process's own (all threads).
    """
    parents, rss, cpu = {}, {}, {}
    ticks = os.sysconf('SC_CLK_TCK')
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * os.sysconf('SC_PAGE_SIZE')
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
    tree, grown = {root}, True
    while grown:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grown = bool(children)
    memory = sum(rss.get(pid, 0) for pid in tree) / 2**20
    return memory, {pid: seconds for pid, seconds in cpu.items() if pid in tree}


def sample_tree(pid: int, usage: TreeUsage, done: threading.Event) -> None:
    """Keep in ``usage`` the largest memory of the tree of ``pid`` and its CPU, every 0.2 s."""
    while True:
        memory, cpu = tree_usage(pid)
        usage.peak_mb = max(usage.peak_mb, memory)
        usage.cpu.update(cpu)
        if done.wait(0.2):
            return


def run_child(
    command: list[str], *, whole_tree: bool = False, log: Path | None = None
) -> Measurement:
    """Run ``command``, wait for it with ``os.wait4``; parse its JSON line if any.

    Peak memory is the process's own maximum resident set size and ``cpu`` its user
    plus system seconds, or with ``whole_tree`` the largest sum over the process and
    its workers, sampled, and the CPU seconds of them all, as last sampled (so short
    of what each spent in its last 0.2 s). With ``log``, the command's stderr goes to that file.
    """
    start = time.perf_counter()
    with log.open('w') if log else contextlib.nullcontext() as stderr:  # the child has a copy
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, env=child_env(), text=True
        )
    usage, done = TreeUsage(), threading.Event()
    sampler = threading.Thread(target=sample_tree, args=(process.pid, usage, done))
    if whole_tree:
        sampler.start()
    output = process.stdout.read() if process.stdout else ''
    _, status, resources = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    if whole_tree:
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        msg = f'{" ".join(command)} failed with exit code {process.returncode}'
        raise RuntimeError(msg)
    lines = [line for line in output.splitlines() if line.startswith('{')]
    seconds = json.loads(lines[-1])['seconds'] if lines else {}
    if not whole_tree:  # the process's own CPU seconds, all its threads, exactly
        cpu = resources.ru_utime + resources.ru_stime
        return Measurement(wall, resources.ru_maxrss / 1024, seconds, cpu=cpu)
    return Measurement(wall, usage.peak_mb, seconds, cpu=sum(usage.cpu.values()))


def measure(
    tool: str, mode: str, run_dir: Path, out_dir: Path, extra: list[str], *, whole_tree=False
) -> Measurement:
    shutil.rmtree(out_dir, ignore_errors=True)
    command = [sys.executable, str(HERE / '_measure.py'), tool, mode, str(run_dir), str(out_dir)]
    return run_child(command + extra, whole_tree=whole_tree)


def median_of(items: list[Measurement]) -> Measurement:
    """The median wall time, peak memory and stage times over repeats.

    ``subjects`` are those of the repeat of median wall time (the lower of two).
    """
    stages = {key for item in items for key in item.seconds}
    middle = sorted(items, key=lambda item: item.wall)[(len(items) - 1) // 2]
    cpu = [item.cpu for item in items if item.cpu is not None]
    return Measurement(
        wall=statistics.median(item.wall for item in items),
        peak_mb=statistics.median(item.peak_mb for item in items),
        seconds={k: statistics.median(item.seconds.get(k, 0.0) for item in items) for k in stages},
        subjects=middle.subjects,
        cpu=statistics.median(cpu) if cpu else None,
    )


#: The floors: plain I/O, and the same after importing bidsglm's dependencies.
FLOORS = {'floor': 'io', 'floor+deps': 'io+deps'}


def workload_tools(name: str, args: argparse.Namespace) -> list[str]:
    """The tools run on a workload: nilearn on groups of at most ``--nilearn-max-maps``."""
    group = GROUPS.get(name)
    if group is None or group.n_maps <= args.nilearn_max_maps:
        return list(args.tools)
    return [tool for tool in args.tools if tool != 'nilearn']


def bench_workload(name: str, args: argparse.Namespace) -> dict[str, Measurement]:
    """Measure every tool and mode on one workload, and the floors; return medians.

    The repeats are interleaved: each measures the tools, then the floors against
    the first tool's output, so that a machine slowing down or speeding up during
    the run weighs on a tool and its floor alike. nilearn runs in the first repeat
    only when the workload is in ``--nilearn-once``.
    """
    group = name in GROUPS
    run_dir = ensure_group(name, args.cache_dir) if group else ensure_run(name, args.cache_dir)
    work = args.cache_dir / 'out'
    repeats = 1 if name in args.once else args.repeats
    tools = workload_tools(name, args)
    items: dict[str, list[Measurement]] = {}
    for repeat in range(repeats):
        for tool in tools:
            if tool == 'nilearn' and name in args.nilearn_once and repeat > 0:
                continue
            for mode in GROUP_MODES if group else MODES:
                item = measure(tool, mode, run_dir, work / f'{tool}-{mode}', [])
                items.setdefault(f'{tool}/{mode}', []).append(item)
                print(f'  {name} {tool} {mode}: {item.wall:.2f} s', flush=True)
        reference = work / f'{tools[0]}-save'
        for key, item in measure_floors(run_dir, work / 'floor', reference).items():
            items.setdefault(key, []).append(item)
    return {key: median_of(measured) for key, measured in items.items()}


def measure_floors(
    run_dir: Path, out_dir: Path, reference: Path, *, whole_tree: bool = False
) -> dict[str, Measurement]:
    """Measure both floors of an input against a tool's output, once each.

    Loading the reference files is set-up, not the floor's work: its seconds
    (``prepare``) are taken off the wall time, and its CPU seconds (``prepare
    cpu``, the dataset floor's) off the CPU time sampled with ``whole_tree``.
    """
    results = {}
    for key, mode in FLOORS.items():
        floor = measure('floor', mode, run_dir, out_dir, [str(reference)], whole_tree=whole_tree)
        floor.wall -= floor.seconds.pop('prepare', 0.0)
        prepare_cpu = floor.seconds.pop('prepare cpu', 0.0)
        if floor.cpu is not None:
            floor.cpu -= prepare_cpu
        results[key] = floor
        print(f'    {key}: {floor.wall:.2f} s', flush=True)
    return results


def bench_floors(
    run_dir: Path, out_dir: Path, reference: Path, repeats: int
) -> dict[str, Measurement]:
    """Measure both floors ``repeats`` times (:func:`measure_floors`); return their medians."""
    runs = [measure_floors(run_dir, out_dir, reference) for _ in range(repeats)]
    return {key: median_of([run[key] for run in runs]) for key in FLOORS}


#: The ``-v`` line of the command line that gives a subject's time by stage.
STAGE_LINE = re.compile(r'(sub-\S+) stages: (.*); total ([\d.]+) s$', re.MULTILINE)


def subject_stages(log: str) -> dict[str, dict[str, float]]:
    """Each subject's seconds by stage (``other`` and ``total`` too), from a ``-v`` log."""
    subjects = {}
    for name, parts, total in STAGE_LINE.findall(log):
        stages = (part.rsplit(' ', 2)[:2] for part in parts.split(', '))
        subjects[name] = {stage: float(value) for stage, value in stages} | {'total': float(total)}
    return subjects


def mean_stages(subjects: dict[str, dict[str, float]]) -> dict[str, float]:
    """Each stage's mean over the subjects (0 for a subject without it)."""
    names = dict.fromkeys(name for stages in subjects.values() for name in stages)
    count = max(len(subjects), 1)
    return {name: sum(s.get(name, 0.0) for s in subjects.values()) / count for name in names}


def measure_cli(command: list[str], out_dir: Path) -> Measurement:
    """Run the command line over the dataset with ``-v``; keep each subject's stages."""
    shutil.rmtree(out_dir, ignore_errors=True)
    log = out_dir.with_name(f'{out_dir.name}.log')
    result = run_child([*command, '-v'], whole_tree=True, log=log)
    result.subjects = subject_stages(log.read_text())
    result.seconds = mean_stages(result.subjects)
    return result


def bench_dataset(args: argparse.Namespace) -> dict[str, Measurement | None]:
    """Run the dataset through the command line, its I/O floors and a plain nilearn loop.

    The command line and its floors are measured ``--repeats`` times (once if
    ``dataset`` is in ``--once``), each repeat the command line then its floors;
    the nilearn loop once.
    """
    bids_dir = ensure_dataset(args.cache_dir, args.dataset_subjects, args.dataset_run)
    out = args.cache_dir / 'out'
    results: dict[str, Measurement | None] = {'cli': None, 'nilearn loop': None}
    repeats = 1 if 'dataset' in args.once else args.repeats
    cli = cli_command()
    if cli is None:
        print('  dataset bidsglm CLI: skipped: no CLI yet', flush=True)
    else:
        command = [*cli, str(bids_dir), str(out / 'cli'), 'participant', *cli_arguments()]
        items: dict[str, list[Measurement]] = {}
        for _ in range(repeats):  # interleaved, as bench_workload's
            item = measure_cli(command, out / 'cli')
            print(f'  dataset bidsglm CLI: {item.wall:.2f} s', flush=True)
            items.setdefault('cli', []).append(item)
            floors = measure_floors(bids_dir, out / 'floor-dataset', out / 'cli', whole_tree=True)
            for key, floor in floors.items():
                items.setdefault(key, []).append(floor)
        results.update({key: median_of(measured) for key, measured in items.items()})
    if 'nilearn' in args.tools:
        shutil.rmtree(out / 'nilearn-loop', ignore_errors=True)
        loop = nilearn_loop_command(bids_dir, out / 'nilearn-loop')
        results['nilearn loop'] = run_child(loop, whole_tree=True)
    return results


def cli_command() -> list[str] | None:
    """The ``bidsglm`` command: the installed script, else the module; None if absent."""
    script = shutil.which('bidsglm')
    if script:
        return [script]
    probe = [sys.executable, '-c', 'import bidsglm.cli']
    found = subprocess.run(probe, env=child_env(), capture_output=True, check=False)
    return [sys.executable, '-m', 'bidsglm'] if found.returncode == 0 else None


# ----------------------------------------------------------------------------- table
#: The rows of a workload's table: (label, mode of the process, stages summed; None
#: for the whole process's wall time).
ROWS = (
    ('fit', 'fit', ('fit',)),
    ('contrasts (5, all maps)', 'contrasts', ('contrasts',)),
    ('save (after fit)', 'save', ('save',)),
    ('fit + save', 'save', ('fit', 'save')),
    ('end to end (process)', 'save', None),
)


def ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return 'n/a'
    return f'{numerator / denominator:.1f}x'


def cell(value: float | None, digits: int = 2) -> str:
    return 'n/a' if value is None else f'{value:.{digits}f}'


def row_value(
    results: dict[str, Measurement], tool: str, mode: str, stages: tuple[str, ...] | None
) -> tuple[float | None, float | None]:
    """Seconds and peak MB of one row for one tool (None when not measured)."""
    item = results.get(f'{tool}/{mode}')
    if item is None:
        return None, None
    seconds = item.wall if stages is None else sum(item.seconds.get(s, 0.0) for s in stages)
    return seconds, item.peak_mb


def workload_title(name: str) -> str:
    """The first cell of a workload's table: what was fitted."""
    if name in GROUPS:
        group = GROUPS[name]
        grid = 'x'.join(map(str, group.shape))
        return f'{name}: {group.n_maps} maps {grid} float32 .nii.gz, one-sample OLS'
    spec = WORKLOADS[name]
    return f'{name}: {"x".join(map(str, (*spec.shape, spec.n_scans)))} float32 .nii.gz, AR(1)'


def workload_table(name: str, results: dict[str, Measurement]) -> list[str]:
    """Markdown lines: one row per step, both tools, time and memory ratios, the floor."""
    title = workload_title(name)
    lines = [
        f'| {title} | bidsglm s | nilearn s | speed-up | bidsglm MB | nilearn MB | memory |',
        '|---|---|---|---|---|---|---|',
    ]
    for label, mode, stages in ROWS:
        if name in GROUPS and mode not in GROUP_MODES:
            continue
        ours, our_mb = row_value(results, 'bidsglm', mode, stages)
        theirs, their_mb = row_value(results, 'nilearn', mode, stages)
        lines.append(
            f'| {label} | {cell(ours)} | {cell(theirs)} | {ratio(theirs, ours)} | '
            f'{cell(our_mb, 0)} | {cell(their_mb, 0)} | {ratio(our_mb, their_mb)} |'
        )
    floor, with_deps = results['floor'], results['floor+deps']
    ours, _ = row_value(results, 'bidsglm', 'save', None)
    lines.append(
        f'| I/O floor (process; read {cell(floor.seconds.get("read"))} s, write '
        f'{cell(floor.seconds.get("write"))} s) | {cell(floor.wall)} | | | | | |'
    )
    lines.append(
        f'| I/O floor after importing the dependencies (import '
        f'{cell(with_deps.seconds.get("import"))} s) | {cell(with_deps.wall)} | | | | | |'
    )
    lines.append(f'| bidsglm end to end / floor | {ratio(ours, floor.wall)} | | | | | |')
    lines.append(
        f'| bidsglm end to end / floor with dependencies | {ratio(ours, with_deps.wall)} '
        '| | | | | |'
    )
    return lines


def dataset_table(results: dict[str, Measurement | None], args: argparse.Namespace) -> list[str]:
    """Markdown lines for the dataset: the command line, a nilearn loop, the floors."""
    cli, loop = results['cli'], results['nilearn loop']
    title = f'dataset: {args.dataset_subjects} subjects x 2 runs of {args.dataset_run}'
    cli_cell = 'skipped: no CLI yet' if cli is None else cell(cli.wall)
    lines = [
        f'| {title} | bidsglm CLI --n-jobs 2, s | nilearn loop, s | speed-up | '
        'bidsglm MB | nilearn MB |',
        '|---|---|---|---|---|---|',
        f'| participant level, end to end | {cli_cell} | '
        f'{cell(loop.wall if loop else None)} | '
        f'{ratio(loop.wall if loop else None, cli.wall if cli else None)} | '
        f'{cell(cli.peak_mb if cli else None, 0)} | {cell(loop.peak_mb if loop else None, 0)} |',
    ]
    floor, with_deps = results.get('floor'), results.get('floor+deps')
    if cli is None or floor is None or with_deps is None:
        return lines
    count = max(len(cli.subjects), 1)
    outside = cli.wall - cli.seconds.get('total', 0.0) * count / N_CLI_WORKERS
    per_subject = f'per subject read {cell(floor.seconds["read"] / count)} s, write ' + cell(
        floor.seconds['write'] / count
    )
    return [
        *lines,
        f'| CLI outside the subjects (start, planning, uneven end, exit) | {cell(outside)} '
        '| | | | |',
        f'| I/O floor (2 processes; {per_subject} s) | {cell(floor.wall)} | | | | |',
        f'| I/O floor after importing the dependencies (import '
        f'{cell(with_deps.seconds.get("import"))} s) | {cell(with_deps.wall)} | | | | |',
        f'| bidsglm CLI / floor | {ratio(cli.wall, floor.wall)} | | | | |',
        f'| bidsglm CLI / floor with dependencies | {ratio(cli.wall, with_deps.wall)} | | | | |',
        f'| bidsglm CLI / floor, CPU seconds of all processes ({cell(cli.cpu, 1)} s / '
        f'{cell(floor.cpu, 1)} s, sampled) | {ratio(cli.cpu, floor.cpu)} | | | | |',
    ]


#: The command line's workers on the dataset (``--n-jobs 2``), as the floor's.
N_CLI_WORKERS = 2
#: The stages of a subject's job, in the table's order (``-v`` log of the command line).
STAGES = ('design', 'read', 'fit', 'contrasts', 'write', 'report', 'other', 'total')


def stages_table(results: dict[str, Measurement | None]) -> list[str]:
    """Markdown lines: a subject's mean seconds by stage, the command line's and the floor's."""
    cli, floor = results['cli'], results.get('floor')
    if cli is None or not cli.subjects or floor is None:
        return []
    count = len(cli.subjects)
    names = [*STAGES, *(name for name in cli.seconds if name not in STAGES)]
    floor_stages = {name: floor.seconds[name] / count for name in ('read', 'write')}
    floor_stages['total'] = sum(floor_stages.values())
    return [
        f'| one subject (one worker), mean of {count}, s | {" | ".join(names)} |',
        '|---|' + '---|' * len(names),
        '| bidsglm CLI | ' + ' | '.join(cell(cli.seconds.get(n)) for n in names) + ' |',
        '| I/O floor | '
        + ' | '.join(cell(floor_stages[n]) if n in floor_stages else '' for n in names)
        + ' |',
    ]


# ----------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='small workloads (about a minute)')
    names = [*WORKLOADS, *GROUPS]
    parser.add_argument('--workloads', help='comma-separated names among ' + ', '.join(names))
    parser.add_argument('--repeats', type=int, help='repeats per measurement (median kept)')
    parser.add_argument(
        '--once',
        default='L,G1000',
        help='workloads measured once, floors too (default: L,G1000)',
    )
    parser.add_argument(
        '--nilearn-once',
        default='L,G200,G1000',
        help='workloads nilearn is measured once on (default: L,G200,G1000)',
    )
    parser.add_argument(
        '--nilearn-max-maps',
        type=int,
        default=200,
        help='run nilearn on group workloads of at most this many maps (default: 200)',
    )
    parser.add_argument('--tools', default=','.join(TOOLS), help='bidsglm,nilearn')
    parser.add_argument('--dataset-subjects', type=int, help='subjects in the CLI dataset')
    parser.add_argument('--dataset-run', help='workload of each run of the dataset')
    parser.add_argument('--no-dataset', action='store_true', help='skip the CLI dataset')
    parser.add_argument(
        '--cache-dir',
        type=Path,
        default=Path(
            os.environ.get('BIDSGLM_BENCH_CACHE', Path(tempfile.gettempdir()) / 'bidsglm-bench')
        ),
        help='where workloads and outputs go (never the repository)',
    )
    parser.add_argument('--src', type=Path, help='import bidsglm from this source tree')
    parser.add_argument('--json', type=Path, help='also write the raw numbers here')
    args = parser.parse_args(argv)
    quick = args.quick
    args.workloads = (args.workloads or ('Q' if quick else 'W,L,G200,G1000')).split(',')
    args.repeats = args.repeats or (1 if quick else 3)
    args.dataset_subjects = args.dataset_subjects or (2 if quick else 20)
    args.dataset_run = args.dataset_run or ('T' if quick else 'W')
    args.tools = args.tools.split(',')
    args.once = args.once.split(',')
    args.nilearn_once = args.nilearn_once.split(',')
    return args


def machine() -> str:
    """One line: CPU, cores, memory, Python and the BLAS core type setting."""
    cpu = 'unknown CPU'
    cpuinfo = Path('/proc/cpuinfo')
    if cpuinfo.is_file():
        names = [
            line.split(':', 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith('model name')
        ]
        cpu = names[0] if names else cpu
    memory = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30
    blas = os.environ.get('OPENBLAS_CORETYPE', 'unset')
    return (
        f'{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python '
        f'{sys.version.split()[0]}, OPENBLAS_CORETYPE={blas}'
    )


def compile_sources() -> None:
    """Write the bytecode of the source tree the children import, as ``pip install`` does.

    Otherwise, in a shell that sets ``PYTHONDONTWRITEBYTECODE``, every process of
    every run compiles bidsglm again (0.2 s of CPU each), which no installed copy does.
    """
    if SOURCE[0].is_dir():
        compileall.compile_dir(SOURCE[0], quiet=1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    if args.src:
        SOURCE[0] = args.src.resolve()
    compile_sources()
    tables, raw = [], {}
    for name in args.workloads:
        results = bench_workload(name, args)
        raw[name] = {key: vars(value) for key, value in results.items()}
        tables.append(workload_table(name, results))
    if not args.no_dataset:
        results_d = bench_dataset(args)
        raw['dataset'] = {k: (vars(v) if v else None) for k, v in results_d.items()}
        tables.append(dataset_table(results_d, args))
        tables.append(stages_table(results_d))
    print(f'\nMachine: {machine()}\n')
    for table in filter(None, tables):
        print('\n'.join(table) + '\n')
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
