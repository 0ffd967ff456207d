"""Smoke run of the benchmark: a tiny workload through both tools, never timed."""

from __future__ import annotations

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
    return done.stdout, json.loads((cache / 'raw.json').read_text())


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
    output, _ = quick_run
    ours, theirs, speed_up, our_mb, their_mb, memory = table_row(output, label)[1:7]
    assert float(ours) >= 0
    assert float(theirs) > 0
    assert float(our_mb) > 0
    assert float(their_mb) > 0
    assert re.fullmatch(r'\d+\.\dx', speed_up)
    assert re.fullmatch(r'\d+\.\dx', memory)


@pytest.mark.slow
def test_run_quick_measures_the_floor_and_its_ratio(quick_run):
    output, raw = quick_run
    floor = raw['T']['floor']
    assert floor['wall'] > 0
    assert floor['seconds']['read'] > 0
    assert floor['seconds']['write'] > 0
    assert re.fullmatch(r'\d+\.\dx', table_row(output, 'bidsglm end to end / floor')[1])


@pytest.mark.slow
def test_run_quick_runs_the_dataset_step(quick_run):
    output, raw = quick_run
    cells = table_row(output, 'participant level, end to end')
    assert raw['dataset']['nilearn loop']['wall'] > 0
    assert cells[1] == 'skipped: no CLI yet' or float(cells[1]) > 0


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
