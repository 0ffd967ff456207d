from __future__ import annotations

import os

import pytest

from bidsglm.bids import transaction as transaction_module
from bidsglm.bids.transaction import OutputTransaction, safe_relative_path
from bidsglm.errors import BidsNameError, InvalidParameterError

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
