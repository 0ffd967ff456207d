"""A real Dask deployment: a scheduler and two worker processes, as on a cluster.

The scheduler writes its address into a scheduler file (as ``dask scheduler
--scheduler-file``, dask-jobqueue and dask-mpi share it on a cluster); the command
line is given that file, then the address itself. Participant and group levels must
write the files a run in one process writes, byte for byte.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from distributed import Client

from bidsglm.cli import main

from ._fake_bids import FakeDataset, make_fake_dataset

CONTRASTS = ('--contrast', 'incMinusCon=incongruent - congruent', '--contrast', 'con=congruent')
LOCAL = ('--host', '127.0.0.1', '--no-dashboard', '--dashboard-address', ':0')


def _start(module: str, *arguments: str) -> subprocess.Popen:
    command = [sys.executable, '-m', f'distributed.cli.{module}', *arguments, *LOCAL]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope='module')
def scheduler_file(tmp_path_factory):
    """A scheduler and two one-thread worker processes; yield the scheduler file."""
    path = tmp_path_factory.mktemp('dask') / 'scheduler.json'
    processes = [_start('dask_scheduler', '--scheduler-file', str(path), '--port', '0')]
    try:
        deadline = time.monotonic() + 60
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = ('--scheduler-file', str(path), '--nworkers', '1', '--nthreads', '1')
        processes += [_start('dask_worker', *worker) for _ in range(2)]
        with Client(scheduler_file=str(path), timeout='60s') as client:
            client.wait_for_workers(2, timeout=120)
        yield path
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


@pytest.fixture(scope='module')
def dataset(tmp_path_factory) -> FakeDataset:
    return make_fake_dataset(tmp_path_factory.mktemp('ds'), np.random.default_rng(7))


def _level(ds: FakeDataset, out: Path, level: str, *extra: str) -> int:
    argv = [str(ds.bids_dir), str(out), level, '--confounds', 'trans_*', *CONTRASTS]
    return main([*argv, '-q', *extra])


def test_participant_and_group_on_a_cluster_write_the_serial_files(
    dataset, scheduler_file, tmp_path, contents_of
):
    out = tmp_path / 'out'  # one folder for both: sidecars name the group's inputs by path
    for level in ('participant', 'group'):
        assert _level(dataset, out, level) == 0
    expected = contents_of(out)
    shutil.rmtree(out)
    for level in ('participant', 'group'):
        assert _level(dataset, out, level, '--dask-scheduler', str(scheduler_file)) == 0
    written = contents_of(out)
    assert sorted(written) == sorted(expected)
    group_z_maps = [n for n in expected if '/' not in n and '_stat-z_' in n and n.endswith('.gz')]
    assert len(group_z_maps) == 2  # one group model per contrast
    assert [n for n in expected if written[n] != expected[n]] == []


def test_the_scheduler_address_works_as_well_as_its_file(
    dataset, scheduler_file, tmp_path, contents_of
):
    address = json.loads(scheduler_file.read_text())['address']
    out = tmp_path / 'out'
    assert _level(dataset, out, 'participant', '--participant-label', '01') == 0
    expected = contents_of(out)
    shutil.rmtree(out)
    argv = ('--participant-label', '01', '--dask-scheduler', address)
    assert _level(dataset, out, 'participant', *argv) == 0
    assert contents_of(out) == expected
