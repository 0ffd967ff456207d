from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import PurePosixPath

import pytest

from bidsglm.bids import transaction as transaction_module
from bidsglm.bids.manifest import complete_model_files, manifest_bytes
from bidsglm.bids.transaction import OutputTransaction, recover_stale_work, safe_relative_path
from bidsglm.errors import BidsNameError, InvalidParameterError, OutputFolderError

from .conftest import snapshot


def test_output_transaction_moves_every_file_into_place(tmp_path):
    root = tmp_path / 'a' / 'b'
    with OutputTransaction(root) as transaction:
        transaction.stage('x.txt').write_text('x')
        transaction.stage('sub-01/func/y.txt').write_text('y')
        assert not (root / 'x.txt').exists()
    assert snapshot(root) == {
        'sub-01': None,
        'sub-01/func': None,
        'sub-01/func/y.txt': b'y',
        'x.txt': b'x',
    }


def test_output_transaction_replaces_existing_files(tmp_path):
    (tmp_path / 'x.txt').write_text('old')
    with OutputTransaction(tmp_path) as transaction:
        transaction.stage('x.txt').write_text('new')
    assert snapshot(tmp_path) == {'x.txt': b'new'}


def write_all(root, names, error=None):
    """Stage one file per name inside a transaction, then raise ``error`` if given."""
    with OutputTransaction(root) as transaction:
        for name in names:
            transaction.stage(name).write_text('new')
        if error is not None:
            raise error


@pytest.mark.parametrize('error', [ValueError, KeyboardInterrupt])
def test_output_transaction_leaves_the_folder_as_it_was_on_any_error(tmp_path, error):
    (tmp_path / 'keep').mkdir()
    (tmp_path / 'keep' / 'x.txt').write_text('old')
    before = snapshot(tmp_path)
    with pytest.raises(error):
        write_all(tmp_path / 'keep', ['x.txt', 'new/y.txt'], error)
    assert snapshot(tmp_path) == before


def test_output_transaction_removes_the_folders_it_created_on_error(tmp_path):
    with pytest.raises(RuntimeError):
        write_all(tmp_path / 'a' / 'b', ['x.txt'], RuntimeError())
    assert snapshot(tmp_path) == {}


def test_output_transaction_restores_originals_when_a_move_fails(tmp_path, monkeypatch):
    for name in ('a.txt', 'b.txt', 'c.txt'):
        (tmp_path / name).write_text(f'old {name}')
    before = snapshot(tmp_path)
    real_replace = os.replace
    calls = []

    def flaky_replace(source, target):
        calls.append(target)
        if len(calls) == 4:  # a's backup, a, b's backup, then Ctrl-C
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(transaction_module.os, 'replace', flaky_replace)
    with pytest.raises(KeyboardInterrupt):
        write_all(tmp_path, ['a.txt', 'b.txt', 'c.txt', 'd.txt'])
    monkeypatch.undo()
    assert snapshot(tmp_path) == before


def test_output_transaction_refuses_to_replace_a_folder(tmp_path):
    (tmp_path / 'x.txt').mkdir()
    with pytest.raises(InvalidParameterError, match='a folder of that name'):
        write_all(tmp_path, ['x.txt'])
    assert snapshot(tmp_path) == {'x.txt': None}


def test_output_transaction_refuses_a_file_as_root_and_twice_the_same_name(tmp_path):
    (tmp_path / 'file').write_text('')
    with pytest.raises(InvalidParameterError, match='is a file'):
        write_all(tmp_path / 'file', [])
    with pytest.raises(BidsNameError, match='twice'):
        write_all(tmp_path / 'out', ['x.txt', 'x.txt'])
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('path', ['../x', 'a/../../x', '/etc/x', 'a\\b', 'C:x', '', './x'])
def test_safe_relative_path_refuses_paths_leaving_the_folder(path):
    with pytest.raises(BidsNameError):
        safe_relative_path(path)


# ------------------------------------------------------------------ models and manifests
MODEL = PurePosixPath('sub-01/sub-01_statmap.json')


def save_model(root, names, content='new', **kwargs):
    """Stage the model's statmap.json and one file per name, then commit."""
    with OutputTransaction(root, model=MODEL, **kwargs) as transaction:
        for name in [str(MODEL), *names]:
            transaction.stage(name).write_text(content)


def test_saving_a_model_again_removes_only_the_files_of_its_previous_save(tmp_path):
    save_model(tmp_path, ['sub-01/func/a.txt', 'sub-01/func/b.txt'], 'old')
    (tmp_path / 'sub-01/func/sub-01_desc-myroi_mask.nii.gz').write_text('user')
    save_model(tmp_path, ['sub-01/func/a.txt'])
    assert snapshot(tmp_path) == {
        'sub-01': None,
        'sub-01/.sub-01_statmap.manifest.json': manifest_bytes(
            MODEL, [MODEL, PurePosixPath('sub-01/func/a.txt')]
        ),
        'sub-01/func': None,
        'sub-01/func/a.txt': b'new',
        'sub-01/func/sub-01_desc-myroi_mask.nii.gz': b'user',
        'sub-01/sub-01_statmap.json': b'new',
    }


def test_shared_files_are_merged_at_commit_and_kept_when_unchanged(tmp_path):
    seen = []

    def add_line(current):
        seen.append(current)
        lines = (current or b'').splitlines()
        return b'\n'.join(dict.fromkeys([*lines, b'x'])) + b'\n'

    shared = {PurePosixPath('.bidsignore'): add_line}
    (tmp_path / '.bidsignore').write_bytes(b'mine\n')
    save_model(tmp_path, [], shared=shared)
    assert (tmp_path / '.bidsignore').read_bytes() == b'mine\nx\n'
    before = (tmp_path / '.bidsignore').stat()
    save_model(tmp_path, [], shared=shared)
    after = (tmp_path / '.bidsignore').stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert seen == [b'mine\n', b'mine\nx\n']


def test_a_model_being_committed_reads_as_incomplete_until_its_manifest_is_in(
    tmp_path, monkeypatch
):
    save_model(tmp_path, ['sub-01/func/a.txt'], 'old')
    checked = []
    real = transaction_module._put_in_place

    def checking(root, stage, relative):
        checked.append(complete_model_files(root, MODEL))
        real(root, stage, relative)

    monkeypatch.setattr(transaction_module, '_put_in_place', checking)
    save_model(tmp_path, ['sub-01/func/a.txt'])
    assert checked == [None, None, None]  # statmap, a, then the manifest
    assert complete_model_files(tmp_path, MODEL) is not None


# ------------------------------------------------------------------ killed commits
class Killed(BaseException):
    """Stands for SIGKILL: nothing of the process runs after it."""


def kill_during(monkeypatch, function, at):
    """Make ``function`` of the transaction die at its ``at``-th call, leaving all as is."""
    real = getattr(transaction_module, function)
    calls = []

    def dying(*args):
        calls.append(args)
        if len(calls) == at:
            raise Killed
        real(*args)

    monkeypatch.setattr(transaction_module, function, dying)
    # A dead process cleans nothing; only its locks go with it.
    monkeypatch.setattr(OutputTransaction, '_discard', lambda self: self._stage.owner.release())


@pytest.mark.parametrize('at', [1, 2, 3])
def test_a_commit_killed_midway_is_finished_by_the_next_transaction(tmp_path, monkeypatch, at):
    root, reference = tmp_path / 'out', tmp_path / 'reference'
    for folder in (root, reference):
        save_model(folder, ['sub-01/func/a.txt', 'sub-01/func/b.txt'], 'old')
    save_model(reference, ['sub-01/func/a.txt', 'sub-01/func/c.txt'])
    kill_during(monkeypatch, '_put_in_place', at)
    monkeypatch.setattr(OutputTransaction, '_undo', lambda self, journal: None)
    with pytest.raises(Killed):
        save_model(root, ['sub-01/func/a.txt', 'sub-01/func/c.txt'])
    monkeypatch.undo()
    assert complete_model_files(root, MODEL) is None
    with OutputTransaction(root):  # any later transaction in the folder finishes it
        pass
    assert snapshot(root) == snapshot(reference)
    assert sorted(p.name for p in (root / '.bidsglm').iterdir()) == ['lock']


@pytest.mark.parametrize('previous', [True, False])
def test_a_save_killed_after_its_moves_stays_complete(tmp_path, monkeypatch, previous):
    root, reference = tmp_path / 'out', tmp_path / 'reference'
    if previous:
        for folder in (root, reference):
            save_model(folder, ['sub-01/func/a.txt', 'sub-01/func/b.txt'], 'old')
    save_model(reference, ['sub-01/func/a.txt'])
    # Killed once every file is moved, before the staging folder is removed.
    monkeypatch.setattr(transaction_module._Stage, 'remove', lambda self: self.owner.release())
    save_model(root, ['sub-01/func/a.txt'])
    monkeypatch.undo()
    assert complete_model_files(root, MODEL) is not None
    assert recover_stale_work(root) == 1
    assert snapshot(root) == snapshot(reference)


def test_a_rollback_killed_midway_is_finished_by_the_next_transaction(tmp_path, monkeypatch):
    save_model(tmp_path, ['sub-01/func/a.txt', 'sub-01/func/b.txt'], 'old')
    expected = snapshot(tmp_path)
    kill_during(monkeypatch, '_put_in_place', 3)  # a failure during the moves: undo...
    real_take_back = transaction_module._take_back

    def dying_take_back(root, stage, relative):  # ...killed while undoing
        if relative.endswith('a.txt'):
            raise Killed
        real_take_back(root, stage, relative)

    monkeypatch.setattr(transaction_module, '_take_back', dying_take_back)
    with pytest.raises(Killed):
        save_model(tmp_path, ['sub-01/func/a.txt', 'sub-01/func/c.txt'])
    monkeypatch.undo()
    assert snapshot(tmp_path) != expected
    assert recover_stale_work(tmp_path) == 1
    assert snapshot(tmp_path) == expected


def test_staging_killed_before_the_journal_is_simply_removed(tmp_path, monkeypatch):
    save_model(tmp_path, ['sub-01/func/a.txt'], 'old')
    expected = snapshot(tmp_path)
    kill_during(monkeypatch, '_forwards', 1)
    monkeypatch.setattr(transaction_module._Journal, 'write', lambda self, stage: None)
    with pytest.raises(Killed):
        save_model(tmp_path, ['sub-01/func/a.txt'])
    monkeypatch.undo()
    assert snapshot(tmp_path) != expected  # a stage is left...
    assert recover_stale_work(tmp_path) == 1  # ...until the next transaction in the folder
    assert snapshot(tmp_path) == expected


OWNER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from bidsglm.bids.transaction import _Stage
    stage = _Stage.create(Path(sys.argv[1]))
    (stage.new / 'x').parent.mkdir()
    (stage.new / 'x').write_text('being staged')
    print(stage.folder.name, flush=True)
    time.sleep(60)
    """
)


def test_work_of_a_live_process_is_left_alone_until_it_dies(tmp_path):
    process = subprocess.Popen(
        [sys.executable, '-c', OWNER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        name = process.stdout.readline().strip()
        assert recover_stale_work(tmp_path) == 0
        save_model(tmp_path, ['sub-01/func/a.txt'])  # a save beside it is not disturbed
        assert (tmp_path / '.bidsglm' / name / 'new' / 'x').read_text() == 'being staged'
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
    assert recover_stale_work(tmp_path) == 1
    assert sorted(p.name for p in (tmp_path / '.bidsglm').iterdir()) == ['lock']


# ------------------------------------------------------------------ symbolic links
@pytest.mark.parametrize(
    ('link', 'to_folder'),
    [('sub-01', True), ('sub-01/func', True), ('sub-01/func/a.txt', False), ('.bidsglm', True)],
)
def test_links_leading_out_of_the_folder_are_refused(tmp_path, link, to_folder):
    root, outside = tmp_path / 'out', tmp_path / 'outside'
    outside.mkdir()
    (outside / 'a.txt').write_text('victim')
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    (root / link).symlink_to(outside if to_folder else outside / 'a.txt')
    before = snapshot(root), snapshot(outside)
    with pytest.raises(OutputFolderError, match=r'symbolic link to .*outside'):
        save_model(root, ['sub-01/func/a.txt'])
    assert (snapshot(root), snapshot(outside)) == before


def test_a_shared_file_linked_out_of_the_folder_is_refused(tmp_path):
    root, outside = tmp_path / 'out', tmp_path / 'outside'
    root.mkdir()
    outside.mkdir()
    (outside / 'dataset_description.json').write_text('{"Name": "victim"}')
    (root / 'dataset_description.json').symlink_to(outside / 'dataset_description.json')
    shared = {PurePosixPath('dataset_description.json'): lambda current: b'{}'}
    with pytest.raises(OutputFolderError, match=r"'dataset_description\.json' is a symbolic"):
        save_model(root, [], shared=shared)
    assert (outside / 'dataset_description.json').read_text() == '{"Name": "victim"}'


def test_links_that_stay_inside_the_folder_are_followed(tmp_path):
    (tmp_path / 'real').mkdir()
    (tmp_path / 'sub-01').symlink_to(tmp_path / 'real')
    save_model(tmp_path, ['sub-01/func/a.txt'])
    assert (tmp_path / 'real' / 'func' / 'a.txt').read_text() == 'new'


RECOVER = (
    'import sys; from bidsglm.bids.transaction import recover_stale_work; '
    'print(recover_stale_work(sys.argv[1]))'
)


def test_a_stage_being_created_is_never_taken_for_dead(tmp_path, monkeypatch):
    real_rename = transaction_module.Ownership.rename
    recovered = []

    def rename_after_a_recovery_elsewhere(self, path):
        other = subprocess.run(
            [sys.executable, '-c', RECOVER, str(tmp_path)],
            check=True,
            capture_output=True,
            text=True,
        )
        recovered.append(other.stdout.strip())
        real_rename(self, path)

    monkeypatch.setattr(transaction_module.Ownership, 'rename', rename_after_a_recovery_elsewhere)
    with OutputTransaction(tmp_path) as transaction:
        transaction.stage('a.txt').write_text('x')
    assert recovered == ['0']
    assert (tmp_path / 'a.txt').read_text() == 'x'


def test_claims_of_killed_processes_are_removed_once_old(tmp_path):
    hidden = tmp_path / '.bidsglm'
    hidden.mkdir()
    for name in ('claim-stage-old', 'claim-stage-new'):
        (hidden / name).write_text('')
    os.utime(hidden / 'claim-stage-old', (0, 0))
    assert recover_stale_work(tmp_path) == 0
    assert sorted(p.name for p in hidden.iterdir()) == ['claim-stage-new']


def test_a_journal_leading_outside_the_folder_is_never_applied(tmp_path):
    root, outside = tmp_path / 'out', tmp_path / 'outside'
    outside.mkdir()
    (outside / 'victim.txt').write_text('victim')
    stage = root / '.bidsglm' / 'stage-0123456789abcdef'
    (stage / 'old').mkdir(parents=True)
    journal = {'State': 'commit', 'Model': None, 'Moves': [], 'Folders': []}
    journal['Removals'] = ['../outside/victim.txt']
    (stage / 'journal.json').write_text(json.dumps(journal))
    assert recover_stale_work(root) == 1
    assert (outside / 'victim.txt').read_text() == 'victim'
    assert sorted(p.name for p in (root / '.bidsglm').iterdir()) == []
