"""Workers stop when the main process is gone: the lifeline alone, then the command line.

The first tests run a stand-in worker (a Python process that holds the lifeline and
runs one guarded job) and end the lifeline as the death of the main process would.
The last one kills the main process of ``bidsglm ... --n-jobs 2`` with SIGKILL and
checks that its fork server and workers are gone within seconds, that its output
pipes reach their end, and that no subject was left partly written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bidsglm.cli import main
from bidsglm.runner._lifeline import GRACE_SECONDS
from bidsglm.runner._progress import Progress

from ._fake_bids import make_fake_dataset

#: A stand-in worker: holds the lifeline given as a file descriptor, says it is
#: ready, then runs a guarded job (argv[2] == 'job') or waits for work on stdin.
WORKER = """
import sys, time
from multiprocessing.connection import Connection
from bidsglm.runner._lifeline import Guarded, hold

hold(Connection(int(sys.argv[1]), writable=False))

def job(seconds):
    try:
        print('started', flush=True)
        time.sleep(seconds)
    finally:
        print('cleaned up', flush=True)

if sys.argv[2] == 'job':
    try:
        Guarded(job)(60)
    except KeyboardInterrupt:
        print('interrupted', flush=True)
else:
    print('started', flush=True)
    sys.stdin.read()
print('went on', flush=True)
"""
#: The exit status of a worker stopped by its lifeline (as for Ctrl-C in a shell).
STOPPED = 128 + signal.SIGINT


def _start_worker(mode: str) -> tuple[subprocess.Popen[str], int]:
    """Start a stand-in worker; return it and the write end of its lifeline."""
    reader, writer = os.pipe()
    worker = subprocess.Popen(
        [sys.executable, '-c', WORKER, str(reader), mode],
        pass_fds=(reader,),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    os.close(reader)
    assert worker.stdout is not None
    assert worker.stdout.readline() == 'started\n'
    return worker, writer


def _finish(worker: subprocess.Popen[str]) -> tuple[str, int, float]:
    """Wait for a worker; return what it printed after 'started', its status, the time.

    Its stdin stays open meanwhile: an idle stand-in would take its end for work.
    """
    start = time.monotonic()
    try:
        status = worker.wait(timeout=GRACE_SECONDS + 10)
    finally:
        worker.kill()  # if it still runs, the test fails; leave nothing behind
    seconds = time.monotonic() - start
    assert worker.stdin is not None
    assert worker.stdout is not None
    output = worker.stdout.read()
    worker.stdin.close()
    worker.stdout.close()
    return output, status, seconds


def test_worker_in_a_job_cleans_up_and_exits_when_the_lifeline_ends():
    worker, writer = _start_worker('job')
    os.close(writer)  # what the system does when the main process dies
    output, status, seconds = _finish(worker)
    assert output == 'cleaned up\n'  # the job was unwound, and nothing ran after it
    assert status == STOPPED
    assert seconds < 2


def test_idle_worker_exits_when_the_lifeline_ends():
    worker, writer = _start_worker('idle')
    os.close(writer)
    output, status, seconds = _finish(worker)
    assert output == ''
    assert status == STOPPED
    assert seconds < 2


def test_ctrl_c_is_unchanged_while_the_main_process_lives():
    worker, writer = _start_worker('job')
    worker.send_signal(signal.SIGINT)
    output, status, _ = _finish(worker)
    os.close(writer)
    assert output == 'cleaned up\ninterrupted\nwent on\n'
    assert status == 0


# ------------------------------------------------------------- the process pool
ROOT_FILES = {'dataset_description.json', '.bidsignore', '.bidsglm/lock'}


def _files_outside_subjects(out: Path) -> list[str]:
    """Files of the output folder that are neither shared nor in a subject's folder."""
    relative = [p.relative_to(out) for p in out.rglob('*') if p.is_file()]
    return [
        str(p) for p in relative if str(p) not in ROOT_FILES and not p.parts[0].startswith('sub-')
    ]


def _subject_sizes(out: Path) -> dict[str, int]:
    """How many files each subject's folder holds."""
    return {
        folder.name: sum(p.is_file() for p in folder.rglob('*'))
        for folder in sorted(out.glob('sub-*'))
    }


def _linked_dataset(root: Path, rng: np.random.Generator, runs: dict[str, int]) -> Path:
    """A dataset of these subjects and numbers of runs, every run a hard link to one.

    Linking is quick, and a subject of several long runs takes seconds to fit.
    """
    dataset = make_fake_dataset(root, rng, n_subjects=1, n_runs=1, shape=(24, 24, 24), n_scans=300)
    for folder in (dataset.bids_dir, dataset.fmriprep):
        files = [p for p in (folder / 'sub-01').rglob('*') if p.is_file()]
        for subject, count in runs.items():
            for run in range(1, count + 1):
                for source in files:
                    name = str(source.relative_to(folder)).replace('sub-01', f'sub-{subject}')
                    target = folder / name.replace('run-1', f'run-{run}')
                    if target != source:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        os.link(source, target)
    return dataset.bids_dir


def test_ctrl_c_in_the_main_process_stops_the_pool(tmp_path, rng, monkeypatch):
    # sub-01 is quick to fit; while the others are fitted, Ctrl-C as sub-01 is saved
    bids_dir = _linked_dataset(tmp_path, rng, {'01': 1, '02': 4, '03': 4, '04': 4})
    out = tmp_path / 'out'

    def interrupt(progress: Progress, count: int = 1) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Progress, 'advance', interrupt)
    with pytest.raises(KeyboardInterrupt):
        main([str(bids_dir), str(out), 'participant', '--n-jobs', '2', '-q'])
    assert list(_subject_sizes(out)) == ['sub-01']  # the others stopped or never began
    assert not _files_outside_subjects(out)


# ------------------------------------------------------------- a killed main process
def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None if it is gone."""
    try:
        text = Path(f'/proc/{pid}/stat').read_text()
    except OSError:
        return None
    return text.rsplit(')', 1)[1].split()


def _alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (an ended process not yet reaped)."""
    fields = _proc_stat(pid)
    return fields is not None and fields[0] != 'Z'


def _children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    pids = [int(p.name) for p in Path('/proc').iterdir() if p.name.isdigit()]
    return [
        c for c in pids if (fields := _proc_stat(c)) and fields[0] != 'Z' and int(fields[1]) == pid
    ]


def _wait_for_workers(main_pid: int, count: int) -> tuple[list[int], list[int]]:
    """Wait until the main process has ``count`` workers; return its helpers and workers.

    The helpers are the main process's children (the fork server, the resource
    tracker); the workers are the fork server's children.
    """
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        helpers = _children(main_pid)
        workers = [w for helper in helpers for w in _children(helper)]
        if len(workers) >= count:
            return helpers, workers
        time.sleep(0.02)
    pytest.fail(f'the command line started no {count} workers in 60 s')


def _end(pids: list[int]) -> None:
    """SIGKILL those of these processes (all started by the test) that are still alive."""
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(sys.platform != 'linux', reason='reads the process tree from /proc')
def test_killed_main_process_leaves_no_worker_and_no_partial_subject(tmp_path, rng):
    # 4 subjects of 4 long runs: still being fitted when the main process dies
    bids_dir = _linked_dataset(tmp_path, rng, dict.fromkeys(['01', '02', '03', '04'], 4))
    out = tmp_path / 'out'
    command = [sys.executable, '-m', 'bidsglm', str(bids_dir), str(out), 'participant']
    main_process = subprocess.Popen(
        [*command, '--n-jobs', '2', '-q'], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    helpers: list[int] = []
    workers: list[int] = []
    try:
        helpers, workers = _wait_for_workers(main_process.pid, 2)
        main_process.kill()  # SIGKILL: nothing of the main process runs any more
        killed = time.monotonic()
        main_process.communicate(timeout=5)  # both pipes end: no process holds them
        while any(map(_alive, helpers + workers)) and time.monotonic() < killed + 5:
            time.sleep(0.05)
        seconds = time.monotonic() - killed
        left = [pid for pid in helpers + workers if _alive(pid)]
    finally:
        _end([main_process.pid, *helpers, *workers])  # nothing stays behind, even on failure
    assert not left  # the fork server, the resource tracker and both workers are gone
    assert seconds < 5
    assert not _subject_sizes(out)  # every job was interrupted, none was taken after
    assert not _files_outside_subjects(out)  # and each one cleaned up after itself
