"""The data-safety contract, end to end: faults at every file operation, concurrent runs,
a real full disk.

A save (``save_glm_to_bids``) and a participant run (``bidsglm ... participant``) are
killed (SIGKILL), interrupted (SIGINT) or starved of disk space at their file
operations, by ``tests/_safety_driver.py`` in forked children; every subject and shared
file must then be as before or as after, and stay so through recovery and a rerun.
CI kills and interrupts a save and a participant run at every operation, and takes a
stride of the rest (``STRIDES``); set ``BIDSGLM_FAULTS=all`` to fault every operation
of every scenario in every mode, with a rerun after each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bidsglm.bids.manifest import complete_model_files
from bidsglm.runner._work import is_saved

HERE = Path(__file__).parent
DRIVER = HERE / '_safety_driver.py'
EVERYTHING = os.environ.get('BIDSGLM_FAULTS') == 'all'

#: (scenario, mode) -> fault every N operations in CI (1 with BIDSGLM_FAULTS=all).
STRIDES = {
    ('save', 'kill'): 1,
    ('save', 'interrupt'): 1,
    ('save', 'full'): 3,
    ('participant', 'kill'): 1,
    ('participant', 'interrupt'): 1,
    ('participant', 'full'): 3,
    ('overwrite', 'kill'): 4,
    ('overwrite', 'interrupt'): 6,
    ('overwrite', 'full'): 8,
}
#: How the faulted child ends, by mode (a fault past the last operation: done).
ENDS = {'kill': {'signal 9'}, 'interrupt': {'interrupted'}, 'full': {'error', 'done'}}


@pytest.mark.parametrize(('scenario', 'mode'), list(STRIDES), ids=[f'{s}-{m}' for s, m in STRIDES])
def test_a_fault_at_any_file_operation_loses_and_mixes_nothing(tmp_path, scenario, mode):
    every = 1 if EVERYTHING else STRIDES[scenario, mode]
    rerun_every = 1 if EVERYTHING else 10
    command = [sys.executable, str(DRIVER), scenario, str(tmp_path), mode, '--jobs', '2']
    command += ['--every', str(every), '--rerun-every', str(rerun_every)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    results = report['results']
    assert report['operations'] > 100  # the hooks saw the save's work
    assert len(results) == len(range(1, report['operations'] + 1, every))
    assert [r for r in results if r['broken']] == []
    ends = {r['end'] for r in results}
    assert ends <= ENDS[mode] | {'done'}
    assert ends & ENDS[mode]  # the faults did happen


# ------------------------------------------------------------------ concurrent runs
@pytest.fixture
def fake_dataset(tmp_path):
    """The command-line tests' dataset: 3 subjects, 2 runs (tests/cli/_fake_bids.py)."""
    sys.path.insert(0, str(HERE / 'cli'))
    from _fake_bids import make_fake_dataset

    return make_fake_dataset(tmp_path, np.random.default_rng(0))


def _start(*argv: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, '-m', 'bidsglm', *argv, '-q'],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(processes: list[subprocess.Popen]) -> list[tuple[int, str]]:
    ended = [(p.wait(timeout=300), p.communicate()[1]) for p in processes]
    return ended


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob('*'))
        if p.is_file() and p.relative_to(folder).as_posix() != '.bidsglm/lock'
    }


CONTRAST = ('--contrast', 'incMinusCon=incongruent - congruent')


def test_one_job_per_participant_into_one_folder_round_after_round(fake_dataset, tmp_path):
    bids, out, serial = str(fake_dataset.bids_dir), tmp_path / 'out', tmp_path / 'serial'
    assert _finish([_start(bids, str(serial), 'participant', *CONTRAST)]) == [(0, '')]
    for overwrite in ((), ('--overwrite',), ('--overwrite',)):
        jobs = [
            _start(bids, str(out), 'participant', *CONTRAST, '--participant-label', s, *overwrite)
            for s in fake_dataset.subjects
        ]
        assert _finish(jobs) == [(0, '')] * len(jobs)
        assert _files(out) == _files(serial)


def test_two_runs_of_one_subject_at_once_take_turns(fake_dataset, tmp_path):
    bids, out, serial = str(fake_dataset.bids_dir), tmp_path / 'out', tmp_path / 'serial'
    one = ('--participant-label', '01')
    assert _finish([_start(bids, str(serial), 'participant', *CONTRAST, *one)]) == [(0, '')]
    for overwrite in ((), ('--overwrite',)):
        jobs = [_start(bids, str(out), 'participant', *CONTRAST, *one, *overwrite) for _ in 'ab']
        assert _finish(jobs) == [(0, ''), (0, '')]
        assert _files(out) == _files(serial)


SAVER = textwrap.dedent(
    """
    import sys
    import nibabel as nib, numpy as np, pandas as pd
    from bidsglm import FirstLevelModel, save_glm_to_bids
    rng = np.random.default_rng(0)
    data = 100 + rng.standard_normal((4, 5, 6, 30)).astype(np.float32)
    events = pd.DataFrame({'onset': [2., 10., 18., 26., 34., 42.], 'duration': 4.,
                           'trial_type': ['a', 'b'] * 3})
    mask = nib.Nifti1Image(np.ones((4, 5, 6), np.uint8), np.eye(4))
    model = FirstLevelModel(t_r=2.0, mask_img=mask).fit(
        nib.Nifti1Image(data, np.eye(4)), events=events)
    for _ in range(int(sys.argv[3])):
        save_glm_to_bids(model, sys.argv[2].split(','), out_dir=sys.argv[1],
                         prefix='sub-01_task-x')
    """
)
CONTRAST_SETS = ('a', 'b', 'a - b,a')


def _describe_differences(names, saved, references):
    """Say, for each file, whether the folder has it and which references hold it so."""
    lines = []
    for name in names:
        ours = 'absent' if name not in saved else 'present'
        alike = [
            c
            for c, files in references.items()
            if name in saved and files.get(name) == saved[name]
        ]
        holders = [c for c, files in references.items() if name in files]
        lines.append(f'{name}: {ours}; in references {holders}; identical in {alike}')
    return '\n'.join(lines)


def test_saves_of_one_model_at_once_never_mix(tmp_path):
    out = tmp_path / 'out'
    references = {}
    for contrasts in CONTRAST_SETS:
        reference = tmp_path / f'reference-{len(references)}'
        subprocess.run([sys.executable, '-c', SAVER, reference, contrasts, '1'], check=True)
        references[contrasts] = _files(reference)
    rounds = 4
    savers = [
        subprocess.Popen([sys.executable, '-c', SAVER, str(out), contrasts, str(rounds)])
        for contrasts in CONTRAST_SETS
    ]
    assert [saver.wait(timeout=300) for saver in savers] == [0, 0, 0]
    saved = _files(out)
    differences = [
        sorted(name for name in {*saved, *files} if saved.get(name) != files.get(name))
        for files in references.values()
    ]
    closest = min(differences, key=len)
    assert closest == [], _describe_differences(closest, saved, references)
    statmap = Path('sub-01/sub-01_task-x_statmap.json')
    assert complete_model_files(out, statmap) is not None


# ------------------------------------------------------------------ a real full disk
@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs, where the machine lets us mount one (root, in CI)."""
    mount = tmp_path / 'disk'
    mount.mkdir()
    result = subprocess.run(
        ['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', str(mount)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f'cannot mount a small tmpfs here: {result.stderr.decode().strip()}')
    yield mount
    subprocess.run(['umount', str(mount)], check=True)


def _fill(folder: Path, leave: int) -> Path:
    """Fill the disk holding ``folder`` until ``leave`` bytes are free."""
    filler = folder / 'filler'
    free = shutil.disk_usage(folder).free - leave
    with filler.open('wb') as stream:
        stream.write(b'\0' * max(free, 0))
    return filler


def test_a_full_disk_leaves_the_output_folder_as_it_was(fake_dataset, small_disk):
    bids, out = str(fake_dataset.bids_dir), small_disk / 'out'
    first = ('--participant-label', '01', *CONTRAST)
    assert _finish([_start(bids, str(out), 'participant', *first)]) == [(0, '')]
    description = out / 'dataset_description.json'
    description.write_text(json.dumps({**json.loads(description.read_text()), 'Authors': ['A']}))
    before = _files(out)
    filler = _fill(small_disk, leave=64 * 1024)
    ((code, log),) = _finish([_start(bids, str(out), 'participant', *CONTRAST, '--overwrite')])
    assert code == 1
    assert 'No space left on device' in log
    assert _files(out) == before
    assert not [p for p in (out / '.bidsglm').iterdir() if p.name != 'lock']
    filler.unlink()
    assert _finish([_start(bids, str(out), 'participant', *CONTRAST)]) == [(0, '')]
    assert json.loads(description.read_text())['Authors'] == ['A']
    statmap = Path('sub-02/sub-02_task-stroop_space-MNI152NLin2009cAsym_statmap.json')
    assert is_saved(out, statmap, ['incMinusCon'])


@pytest.fixture
def read_only(tmp_path):
    """Make a folder read-only: a read-only bind mount as root, else its permissions."""
    changed = []

    def make(folder: Path) -> Path:
        view = tmp_path / 'read-only'
        view.mkdir()
        mounted = subprocess.run(['mount', '--bind', str(folder), str(view)], check=False)
        if mounted.returncode == 0:
            changed.append(view)
            subprocess.run(['mount', '-o', 'remount,ro,bind', str(view)], check=True)
            return view
        view.rmdir()
        for path in [folder, *folder.rglob('*')]:
            changed.append((path, path.stat().st_mode))
            path.chmod(path.stat().st_mode & ~0o222)
        return folder

    yield make
    for item in reversed(changed):
        if isinstance(item, Path):
            subprocess.run(['umount', str(item)], check=True)
        else:
            item[0].chmod(item[1])


def test_a_rerun_with_nothing_to_do_writes_nothing(fake_dataset, tmp_path, read_only):
    bids, out = str(fake_dataset.bids_dir), tmp_path / 'out'
    one = ('--participant-label', '01', *CONTRAST)
    assert _finish([_start(bids, str(out), 'participant', *one)]) == [(0, '')]
    view = read_only(out)
    with pytest.raises(OSError, match=r'Read-only|Permission'):
        (view / 'probe').write_text('x')
    assert _finish([_start(bids, str(view), 'participant', *one)]) == [(0, '')]
