"""The same files whichever way subjects run: in this process, a process pool, or Dask
(maps compared by their data: see ``folder_contents`` in tests/conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from distributed import LocalCluster

from bidsglm.cli import main, run
from bidsglm.cli.parser import parse_args
from bidsglm.runner import execution

from ._fake_bids import FakeDataset

CONTRASTS = ('--contrast', 'incMinusCon=incongruent - congruent', '--contrast', 'con=congruent')


#: Two one-thread workers in this process, no dashboard. The scheduler's HTTP server
#: (which it starts even without a dashboard) takes a free port: on its default, 8787,
#: another cluster on the machine made it warn, and warnings fail the tests.
IN_PROCESS = {
    'n_workers': 2,
    'threads_per_worker': 1,
    'processes': False,
    'dashboard_address': None,
    'scheduler_kwargs': {'dashboard_address': ':0'},
}


def _participant(ds: FakeDataset, out: Path, *extra: str) -> int:
    argv = [str(ds.bids_dir), str(out), 'participant', '--confounds', 'trans_*', *CONTRASTS]
    return main([*argv, '-q', *extra])


@pytest.fixture
def serial(fake_dataset: FakeDataset, tmp_path: Path, contents_of) -> dict[str, bytes]:
    out = tmp_path / 'serial'
    assert _participant(fake_dataset, out) == 0
    return contents_of(out)


def test_dask_cluster_gives_the_same_files(fake_dataset, tmp_path, serial, contents_of):
    out = tmp_path / 'dask'
    with LocalCluster(**IN_PROCESS) as cluster:
        assert _participant(fake_dataset, out, '--dask-scheduler', cluster.scheduler_address) == 0
    contents = contents_of(out)
    assert sorted(contents) == sorted(serial)
    maps = [name for name in serial if name.endswith('_statmap.nii.gz')]
    assert len(maps) == 3 * (2 * 2 + 2 * 5 + 1)  # 2 runs x 2, 2 contrasts x 5, the mean
    assert all(contents[name] == serial[name] for name in serial)


def test_process_pool_gives_the_same_files(fake_dataset, tmp_path, serial, contents_of):
    out = tmp_path / 'pool'
    assert _participant(fake_dataset, out, '--n-jobs', '2') == 0
    assert contents_of(out) == serial


def test_unreachable_scheduler_exits_2_before_any_work(
    fake_dataset, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(execution, 'DASK_TIMEOUT', '1s')
    out = tmp_path / 'out'
    argv = [str(fake_dataset.bids_dir), str(out), 'participant']
    assert main([*argv, '--dask-scheduler', 'tcp://127.0.0.1:9']) == 2
    assert 'Cannot reach the Dask scheduler' in capsys.readouterr().err
    assert not out.exists()


def test_dask_workers_send_their_runs_to_the_progress_line(fake_dataset, tmp_path, capsys):
    argv = [str(fake_dataset.bids_dir), str(tmp_path / 'out'), 'participant', *CONTRASTS]
    with LocalCluster(**IN_PROCESS) as cluster:
        args = parse_args([*argv, '--dask-scheduler', cluster.scheduler_address])
        assert run.run(args, show_progress=True) == 0
    err = capsys.readouterr().err
    assert 'subjects [########################] 3/3' in err
    # Dask events travel on their own: the last ones may come after the line's end.
    assert re.search(r' · runs [1-6]/6 ', err)
