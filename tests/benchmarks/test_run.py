"""Smoke run of the benchmark: a tiny workload through both tools, never timed."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).parents[2] / 'benchmarks' / 'run.py'
ROWS = (
    'fit',
    'contrasts (5, all maps)',
    'save (after fit)',
    'fit + save',
    'end to end (process)',
)


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    """Run ``run.py --quick`` on the tiny workload T; return its output and raw numbers."""
    cache = tmp_path_factory.mktemp('bench')
    command = [
        sys.executable,
        str(RUN),
        '--quick',
        '--workloads=T',
        '--dataset-subjects=1',
        f'--cache-dir={cache}',
        f'--json={cache / "raw.json"}',
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads((cache / 'raw.json').read_text()), cache


def table_row(output, label):
    """The cells of the table row that starts with ``label``."""
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if cells[0] == label:
            return cells
    msg = f'no row {label!r} in:\n{output}'
    raise AssertionError(msg)


@pytest.mark.slow
@pytest.mark.parametrize('label', ROWS)
def test_run_quick_table_has_both_tools_and_numeric_ratios(quick_run, label):
    output, _, _ = quick_run
    ours, theirs, speed_up, our_mb, their_mb, memory = table_row(output, label)[1:7]
    assert float(ours) >= 0
    assert float(theirs) > 0
    assert float(our_mb) > 0
    assert float(their_mb) > 0
    assert re.fullmatch(r'\d+\.\dx', speed_up)
    assert re.fullmatch(r'\d+\.\dx', memory)


@pytest.mark.slow
def test_run_quick_measures_the_floor_and_its_ratio(quick_run):
    output, raw, _ = quick_run
    floor = raw['T']['floor']
    assert floor['wall'] > 0
    assert floor['seconds']['read'] > 0
    assert floor['seconds']['write'] > 0
    assert re.fullmatch(r'\d+\.\dx', table_row(output, 'bidsglm end to end / floor')[1])


@pytest.mark.slow
def test_run_quick_runs_the_dataset_step(quick_run):
    output, raw, _ = quick_run
    cells = table_row(output, 'participant level, end to end')
    assert raw['dataset']['nilearn loop']['wall'] > 0
    assert float(cells[1]) > 0


@pytest.mark.slow
def test_run_quick_measures_the_dataset_floor_and_its_ratios(quick_run):
    output, raw, _ = quick_run
    floor = raw['dataset']['floor']
    assert floor['seconds']['read'] > 0
    assert floor['seconds']['write'] > 0
    assert 0 < floor['wall'] < raw['dataset']['cli']['wall']
    assert raw['dataset']['floor+deps']['seconds']['import'] > 0
    read, write = floor['seconds']['read'], floor['seconds']['write']  # one subject
    cells = table_row(output, f'I/O floor (2 processes; per subject read {read:.2f} s, '
                      f'write {write:.2f} s)')  # fmt: skip
    assert float(cells[1]) == pytest.approx(floor['wall'], abs=0.005)
    for label in ('bidsglm CLI / floor', 'bidsglm CLI / floor with dependencies'):
        assert re.fullmatch(r'\d+\.\dx', table_row(output, label)[1])


@pytest.mark.slow
def test_run_quick_breaks_the_cli_subject_down_into_stages(quick_run):
    """The one subject's stages, from the CLI's -v log: positive, within its total."""
    output, raw, _ = quick_run
    subject = raw['dataset']['cli']['subjects']['sub-01']
    stages = ('design', 'read', 'fit', 'contrasts', 'write', 'report')
    assert all(subject[name] > 0 for name in stages), subject
    assert sum(subject[name] for name in stages) <= subject['total'] + 0.03
    cells = table_row(output, 'bidsglm CLI')
    assert [float(value) for value in cells[1:]] == pytest.approx(
        [subject[name] for name in (*stages[:6], 'other', 'total')], abs=0.005
    )


@pytest.mark.slow
def test_run_quick_dataset_floor_writes_what_the_cli_wrote(quick_run):
    """Every file of the command line's output, with the same (inflated) bytes."""
    _, _, cache = quick_run
    cli, floor = cache / 'out' / 'cli', cache / 'out' / 'floor-dataset'
    written = sorted(p.relative_to(cli) for p in cli.rglob('*') if p.is_file())
    assert written == sorted(p.relative_to(floor) for p in floor.rglob('*') if p.is_file())
    assert any(path.name.endswith('_stat-errorts_statmap.nii.gz') for path in written)
    for relative in written:
        ours, theirs = (cli / relative).read_bytes(), (floor / relative).read_bytes()
        if relative.name.endswith('.gz'):
            ours, theirs = gzip.decompress(ours), gzip.decompress(theirs)
        assert ours == theirs, relative


@pytest.mark.slow
def test_run_measures_a_group_workload_against_nilearn_and_its_floor(tmp_path):
    """The tiny group GT: fit and save rows for both tools, the floor, no contrasts row."""
    command = [
        sys.executable,
        str(RUN),
        '--workloads=GT',
        '--repeats=1',
        '--no-dataset',
        f'--cache-dir={tmp_path}',
        f'--json={tmp_path / "raw.json"}',
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    raw = json.loads((tmp_path / 'raw.json').read_text())
    assert set(raw['GT']) == {
        'bidsglm/fit', 'bidsglm/save', 'nilearn/fit', 'nilearn/save', 'floor', 'floor+deps'
    }  # fmt: skip
    assert raw['GT']['floor']['seconds']['read'] > 0
    cells = table_row(done.stdout, 'fit + save')
    assert float(cells[1]) > 0
    assert float(cells[2]) > 0
    assert re.fullmatch(r'\d+\.\dx', cells[3])
    with pytest.raises(AssertionError, match='no row'):
        table_row(done.stdout, 'contrasts (5, all maps)')
