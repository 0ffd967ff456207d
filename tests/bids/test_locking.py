from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from bidsglm.bids import _locking
from bidsglm.bids._locking import LOCK_FILE, Ownership, adopt, hold, try_hold

MODEL = 'sub-01/sub-01_task-x_statmap.json'

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from bidsglm.bids._locking import Ownership, hold
    root, key = sys.argv[1], sys.argv[2]
    owner = Ownership(Path(root) / 'owner')
    with hold(root, key):
        print('held', flush=True)
        time.sleep(60)
    """
)


@pytest.fixture
def holder(tmp_path):
    """Another process holding MODEL's lock and owning ``owner``, until killed."""
    process = subprocess.Popen(
        [sys.executable, '-c', HOLDER, str(tmp_path), MODEL], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline() == 'held\n'
    yield process
    process.kill()
    process.wait()
    process.stdout.close()


def test_hold_is_reentrant_and_creates_the_lock_file(tmp_path):
    with hold(tmp_path, MODEL), hold(tmp_path, MODEL), try_hold(tmp_path, MODEL) as held:
        assert held
    assert (tmp_path / LOCK_FILE).is_file()
    assert not _locking._files[tmp_path / LOCK_FILE].held  # the descriptor is closed


def test_another_process_holding_the_lock_keeps_us_out(tmp_path, holder):
    with try_hold(tmp_path, MODEL) as held:
        assert not held
    with try_hold(tmp_path, 'sub-02/sub-02_task-x_statmap.json') as other:
        assert other  # another model's lock is free


def test_a_killed_holder_releases_its_lock_and_its_work(tmp_path, holder):
    assert adopt(tmp_path / 'owner') is None
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with try_hold(tmp_path, MODEL) as held:
        assert held
    owner = adopt(tmp_path / 'owner')
    assert owner is not None
    assert adopt(tmp_path / 'owner') is None  # ours now: never adopted twice
    owner.release()


def test_hold_waits_for_a_holder_and_says_so(tmp_path, holder, caplog, monkeypatch):
    monkeypatch.setattr(_locking, '_PATIENCE', 0.1)
    caplog.set_level('INFO', logger='bidsglm')
    threading.Timer(0.5, holder.kill).start()
    start = time.monotonic()
    with hold(tmp_path, MODEL, what='sub-01'):
        waited = time.monotonic() - start
    assert waited >= 0.4
    assert 'Waiting for another bidsglm process that is writing sub-01.' in caplog.text


def test_threads_take_turns(tmp_path):
    inside = []
    overlaps = []

    def work():
        for _ in range(20):
            with hold(tmp_path, MODEL):
                inside.append(1)
                overlaps.append(len(inside))
                time.sleep(0.001)
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(overlaps) == 60
    assert max(overlaps) == 1


def test_own_work_is_never_adopted(tmp_path):
    owner = Ownership(tmp_path / 'owner', exclusive=True)
    assert owner.taken
    assert adopt(tmp_path / 'owner') is None
    with pytest.raises(FileExistsError):
        Ownership(tmp_path / 'owner', exclusive=True)
    owner.release()
    assert os.path.exists(tmp_path / 'owner')


def test_keys_differ_by_model_not_by_case():
    assert _locking._byte_of('') == 0
    assert _locking._byte_of(MODEL) == _locking._byte_of(MODEL.upper())
    assert _locking._byte_of(MODEL) != _locking._byte_of(MODEL.replace('01', '02'))
    assert _locking._byte_of(MODEL) > 0
