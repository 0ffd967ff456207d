"""Inject a fault at one file operation of a save or a participant run, in forked children.

Run as a script by ``tests/test_data_safety.py``::

    python tests/_safety_driver.py SCENARIO WORKDIR MODE [--every N] [--points K ...]

SCENARIO is ``save`` (``save_glm_to_bids`` over an earlier save of the same model,
in a folder holding the user's own files), ``participant`` (``bidsglm ...
participant`` on two subjects, one saved already) or ``overwrite`` (the same with
``--overwrite`` and other contrasts). MODE is ``kill`` (SIGKILL before the
operation), ``interrupt`` (a real SIGINT, that is Ctrl-C, before it) or ``full``
(from that operation on, every write fails with ENOSPC, as on a full disk).

The driver builds the scenario once, counts the file operations of one clean run
(every ``os.replace``, ``rename``, ``unlink``, ``remove``, ``rmdir``, ``mkdir``,
``fsync`` and open for writing), then, for each chosen operation, copies the
"before" folder, forks a child that runs the scenario with the fault, and checks
in the parent, which never runs bidsglm's writers itself:

1. right after the fault: with ``interrupt`` and ``full`` the child cleaned up, so
   every unit (a subject's folder, a shared file) is exactly as before or as after;
   with ``kill``, any model whose manifest is in place is exactly its before or
   after version (never mixed), and the user's files are untouched;
2. after a forked child ran ``recover_stale_work``: every unit is exactly as before
   or as after, and ``.bidsglm/`` holds nothing but its lock file;
3. after a forked child ran the scenario again without fault: the folder is exactly
   as after a clean run.

It prints one JSON object: the number of operations and, per point, the outcome
and any broken check.
"""

from __future__ import annotations

import argparse
import builtins
import errno
import gzip
import io
import json
import os
import shutil
import signal
import sys
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np

sys.path.insert(0, str(Path(__file__).parent / 'cli'))
from _fake_bids import make_fake_dataset

from bidsglm import FirstLevelModel, save_glm_to_bids
from bidsglm.bids.transaction import recover_stale_work
from bidsglm.cli import main

HIDDEN = '.bidsglm'
USER_FILE = 'sub-01/func/sub-01_task-stroop_desc-myroi_mask.nii.gz'
USER_DESCRIPTION = {
    'Name': 'My analysis',
    'BIDSVersion': '1.10.0',
    'DatasetType': 'derivative',
    'Authors': ['A. Researcher'],
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


# ------------------------------------------------------------------ fault hooks
class Fault:
    """Counts file operations; at operation ``at`` injects ``mode``."""

    def __init__(self, at: int | None, mode: str) -> None:
        self.at, self.mode, self.count, self.full = at, mode, 0, False

    def before(self, writes: bool) -> None:
        self.count += 1
        if self.count == self.at:
            if self.mode == 'kill':
                os.kill(os.getpid(), signal.SIGKILL)
            elif self.mode == 'interrupt':
                signal.raise_signal(signal.SIGINT)
            else:
                self.full = True
        if self.full and writes:
            raise OSError(errno.ENOSPC, 'No space left on device (injected)')


def _wrap(function, fault: Fault, *, writes) -> object:
    def wrapper(*args, **kwargs):
        kind = writes(*args, **kwargs)
        if kind is not None:
            fault.before(kind)
        return function(*args, **kwargs)

    return wrapper


def _open_writes(file, mode='r', *args, **kwargs) -> bool | None:
    """True for an open that writes; None (not an operation) for a read."""
    return True if any(c in mode for c in 'wax+') else None


def _os_open_writes(path, flags, *args, **kwargs) -> bool | None:
    return True if flags & _WRITE_FLAGS else None


def install(fault: Fault) -> None:
    """Route the file operations of this process through ``fault``."""
    for name in ('replace', 'rename', 'unlink', 'remove', 'rmdir'):
        setattr(os, name, _wrap(getattr(os, name), fault, writes=lambda *a, **k: False))
    for name in ('mkdir', 'fsync'):
        setattr(os, name, _wrap(getattr(os, name), fault, writes=lambda *a, **k: True))
    os.open = _wrap(os.open, fault, writes=_os_open_writes)
    opened = _wrap(io.open, fault, writes=_open_writes)
    builtins.open = io.open = opened


# ------------------------------------------------------------------ scenarios
def _runs(rng: np.random.Generator) -> list[nib.Nifti1Image]:
    shape, n_scans = (5, 6, 7), 30
    wave = (np.arange(n_scans) % 8 < 4).astype(float)
    data = 100 + 3 * wave + rng.standard_normal((*shape, n_scans))
    return [nib.Nifti1Image(data.astype(np.float32), np.eye(4))]


def _events():
    import pandas as pd

    onsets = np.arange(2.0, 50.0, 8.0)
    kinds = ['audio', 'visual'] * 3
    return pd.DataFrame({'onset': onsets, 'duration': 4.0, 'trial_type': kinds})


class SaveScenario:
    """``save_glm_to_bids`` replacing an earlier save of the model, beside user files."""

    def __init__(self, workdir: Path) -> None:
        rng = np.random.default_rng(0)
        mask = nib.Nifti1Image(np.ones((5, 6, 7), np.uint8), np.eye(4))
        self.model = FirstLevelModel(t_r=2.0, mask_img=mask).fit(_runs(rng), events=_events())
        self.before = workdir / 'before'
        _succeed(lambda: self.save(self.before, ['audio', 'visual']))
        (self.before / 'dataset_description.json').write_text(json.dumps(USER_DESCRIPTION))
        (self.before / USER_FILE).parent.mkdir(parents=True, exist_ok=True)
        (self.before / USER_FILE).write_bytes(b'the user')

    def save(self, out: Path, contrasts: list[str]) -> None:
        save_glm_to_bids(self.model, contrasts, out_dir=out, prefix='sub-01_task-stroop')

    def run(self, out: Path) -> None:
        self.save(out, ['audio - visual', 'audio'])


class ParticipantScenario:
    """``bidsglm BIDS OUT participant`` on two subjects."""

    arguments = ('--contrast', 'incMinusCon=incongruent - congruent')
    first = ('--contrast', 'congruent=congruent')

    def __init__(self, workdir: Path, *, overwrite: bool) -> None:
        dataset = make_fake_dataset(
            workdir, np.random.default_rng(0), n_subjects=2, n_runs=1, shape=(4, 5, 6)
        )
        self.bids = str(dataset.bids_dir)
        self.before = workdir / 'before'
        self.overwrite = ('--overwrite',) if overwrite else ()
        if overwrite:  # both saved with another contrast: every file is replaced
            _succeed(lambda: self.cli(self.before, self.first))
        else:  # sub-01 saved already, with these contrasts: skipped
            only_01 = (*self.arguments, '--participant-label', '01')
            _succeed(lambda: self.cli(self.before, only_01))
        (self.before / 'dataset_description.json').write_text(json.dumps(USER_DESCRIPTION))
        (self.before / USER_FILE).write_bytes(b'the user')

    def cli(self, out: Path, extra: tuple[str, ...]) -> None:
        code = main([self.bids, str(out), 'participant', '-q', *extra])
        if code != 0:  # a failed subject: an error for the child's exit status
            msg = f'bidsglm participant exited with {code}'
            raise RuntimeError(msg)

    def run(self, out: Path) -> None:
        self.cli(out, (*self.arguments, *self.overwrite))


# ------------------------------------------------------------------ children
def _in_child(work, fault: Fault | None = None) -> dict:
    """Run ``work`` in a forked child; return how it ended and how many operations it did."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        code = 0
        # Ctrl-C raises KeyboardInterrupt even when this was started in the background
        # by a shell, which leaves SIGINT ignored (Python then installs no handler).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            if fault is not None:
                install(fault)
            work()
        except KeyboardInterrupt:
            code = 130
        except BaseException:  # any error: the checks are on the files
            code = 1
        os.write(write, json.dumps({'count': fault.count if fault else 0}).encode())
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        report = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return {'end': f'signal {os.WTERMSIG(status)}', 'count': None}
    end = {0: 'done', 1: 'error', 130: 'interrupted'}[os.WEXITSTATUS(status)]
    return {'end': end, **json.loads(report)}


def _succeed(work) -> dict:
    """Run ``work`` in a forked child (counting its operations); stop if it failed."""
    outcome = _in_child(work, Fault(None, 'kill'))
    if outcome['end'] != 'done':
        msg = f'Building the scenario failed: {outcome["end"]}.'
        raise SystemExit(msg)
    return outcome


# ------------------------------------------------------------------ checks
def _kept(name: str, path: Path) -> bool:
    """Leave out the lock file, and the empty claim of a process killed while making a
    stage (removed by a later run once a minute old: a claim that young may be alive)."""
    if name in (HIDDEN, f'{HIDDEN}/lock'):
        return False
    claim = name.startswith(f'{HIDDEN}/claim-') and path.stat().st_size == 0
    return not claim


def _content(path: Path) -> bytes | None:
    """A file's bytes (a map's inflated bytes: its gzip bytes may differ, its data not,
    as tests/conftest.py's ``folder_contents`` explains); None for a folder or link."""
    if not path.is_file() or path.is_symlink():
        return None
    data = path.read_bytes()
    if not path.name.endswith('.nii.gz'):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):  # a cut or damaged map: compared as it is
        return data


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Files and folders under ``folder``, with content; the lock file apart."""
    if not folder.exists():
        return {}
    found = {}
    for path in sorted(folder.rglob('*')):
        name = path.relative_to(folder).as_posix()
        if _kept(name, path):
            found[name] = _content(path)
    return found


def units(state: dict[str, bytes | None]) -> dict[str, dict[str, bytes | None]]:
    """Split a snapshot by top-level entry: each subject, each shared file."""
    split: dict[str, dict[str, bytes | None]] = {}
    for name, content in state.items():
        split.setdefault(name.split('/', 1)[0], {})[name] = content
    return split


def mixed_units(state, before, after) -> list[str]:
    """Units that are neither as before nor as after (hidden work counts as a unit)."""
    now, old, new = units(state), units(before), units(after)
    return [u for u in sorted(set(now) | set(old) | set(new))
            if now.get(u) not in (old.get(u), new.get(u))]  # fmt: skip


def manifests(state) -> list[str]:
    """The manifests in place (those in hidden staging folders are not)."""
    return [
        name
        for name in state
        if name.endswith('.manifest.json') and not name.startswith(f'{HIDDEN}/')
    ]


def mixed_models(state, before, after) -> list[str]:
    """Models whose manifest is in place but whose files match neither version."""
    broken = []
    for manifest in manifests(state):
        folder = manifest.rsplit('/', 1)[0] + '/' if '/' in manifest else ''
        listed = json.loads(state[manifest])['Files']
        files = {f'{folder}{name}' for name in listed} | {manifest}
        now = {f: state.get(f) for f in files}
        if now not in ({f: before.get(f) for f in files}, {f: after.get(f) for f in files}):
            broken.append(manifest)
    return broken


def check_point(scenario, at: int, mode: str, trial: Path, after, *, rerun: bool) -> dict:
    """Fault at operation ``at``; return the outcome and every broken check."""
    shutil.rmtree(trial, ignore_errors=True)
    shutil.copytree(scenario.before, trial, symlinks=True)
    before = snapshot(trial)
    outcome = _in_child(lambda: scenario.run(trial), Fault(at, mode))
    state = snapshot(trial)
    broken = []
    if state.get(USER_FILE) != b'the user':
        broken.append('the user file changed')
    if mode == 'kill':
        broken += [f'mixed model {m}' for m in mixed_models(state, before, after)]
    else:
        visible = {k: v for k, v in state.items() if not k.startswith(HIDDEN)}
        broken += [f'after the fault: {u}' for u in mixed_units(visible, before, after)]
    _in_child(lambda: recover_stale_work(trial))
    broken += [f'after recovery: {u}' for u in mixed_units(snapshot(trial), before, after)]
    description = json.loads((trial / 'dataset_description.json').read_text())
    if description.get('Authors') != USER_DESCRIPTION['Authors']:
        broken.append("the user's dataset_description fields were lost")
    if rerun:
        _in_child(lambda: scenario.run(trial))
        again = snapshot(trial)
        differing = sorted(n for n in {*again, *after} if again.get(n) != after.get(n))
        if differing:
            broken.append(f'after the rerun, these differ from a clean run: {differing}')
    return {'at': at, 'end': outcome['end'], 'broken': broken}


def check_points(scenario, points, mode: str, trial: Path, after, rerun_every: int) -> list:
    return [
        check_point(scenario, at, mode, trial, after, rerun=i % rerun_every == 0)
        for i, at in enumerate(points)
    ]


def in_parallel(work, jobs: int) -> list:
    """Run ``work(i)`` for i in range(jobs) in forked workers; concatenate their lists."""
    workers = []
    for index in range(jobs):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            with os.fdopen(write, 'w') as pipe:
                json.dump(work(index), pipe)
            os._exit(0)
        os.close(write)
        workers.append((pid, os.fdopen(read)))
    results = []
    for pid, pipe in workers:
        results += json.load(pipe)
        pipe.close()
        os.waitpid(pid, 0)
    return results


def main_(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('scenario', choices=['save', 'participant', 'overwrite'])
    parser.add_argument('workdir', type=Path)
    parser.add_argument('mode', choices=['kill', 'interrupt', 'full'])
    parser.add_argument('--every', type=int, default=1, help='fault every N operations')
    parser.add_argument('--rerun-every', type=int, default=1, help='rerun every N points')
    parser.add_argument('--jobs', type=int, default=1, help='worker processes')
    parser.add_argument('--points', type=int, nargs='*')
    args = parser.parse_args(argv)
    if args.scenario == 'save':
        scenario = SaveScenario(args.workdir)
    else:
        scenario = ParticipantScenario(args.workdir, overwrite=args.scenario == 'overwrite')
    reference = args.workdir / 'after'
    shutil.copytree(scenario.before, reference, symlinks=True)
    count = _succeed(lambda: scenario.run(reference))['count']
    after = snapshot(reference)
    points = args.points or list(range(1, count + 1, args.every))

    def work(index: int) -> list:
        mine = points[index :: args.jobs]
        trial = args.workdir / f'trial-{index}'
        return check_points(scenario, mine, args.mode, trial, after, args.rerun_every)

    results = sorted(in_parallel(work, args.jobs), key=lambda r: r['at'])
    sys.stdout.write(json.dumps({'operations': count, 'results': results}) + '\n')


if __name__ == '__main__':
    main_()
