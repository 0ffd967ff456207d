from __future__ import annotations

import json
from pathlib import PurePosixPath

import pytest

from bidsglm.bids.manifest import (
    complete_model_files,
    manifest_bytes,
    manifest_path,
    read_manifest,
)
from bidsglm.errors import BidsNameError

STATMAP = PurePosixPath('sub-01/sub-01_task-x_statmap.json')
FILES = [STATMAP, PurePosixPath('sub-01/func/sub-01_task-x_contrast-a_stat-z_statmap.nii.gz')]


def write(root, statmap=STATMAP, files=FILES):
    path = root / manifest_path(statmap)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(manifest_bytes(statmap, files))
    for file in files:
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_text('x')


def test_manifest_is_a_hidden_file_beside_the_statmap():
    assert manifest_path(STATMAP) == PurePosixPath('sub-01/.sub-01_task-x_statmap.manifest.json')
    assert manifest_path(PurePosixPath('statmap.json')) == PurePosixPath('.statmap.manifest.json')


def test_manifest_lists_files_relative_to_its_folder_and_reads_back(tmp_path):
    write(tmp_path)
    content = json.loads((tmp_path / manifest_path(STATMAP)).read_text())
    assert content['Model'] == 'sub-01_task-x_statmap.json'
    assert content['Files'] == [
        'func/sub-01_task-x_contrast-a_stat-z_statmap.nii.gz',
        'sub-01_task-x_statmap.json',
    ]
    assert set(read_manifest(tmp_path, STATMAP)) == set(FILES)
    assert set(complete_model_files(tmp_path, STATMAP)) == {tmp_path / f for f in FILES}


def test_a_model_missing_a_file_or_its_manifest_is_not_complete(tmp_path):
    assert complete_model_files(tmp_path, STATMAP) is None
    write(tmp_path)
    (tmp_path / FILES[1]).unlink()
    assert complete_model_files(tmp_path, STATMAP) is None


@pytest.mark.parametrize('content', ['', '{', '[]', '{"Files": "x"}'])
def test_an_unreadable_manifest_reads_as_none(tmp_path, content):
    path = tmp_path / manifest_path(STATMAP)
    path.parent.mkdir()
    path.write_text(content)
    assert read_manifest(tmp_path, STATMAP) is None


def test_entries_leaving_the_folder_are_dropped(tmp_path):
    path = tmp_path / manifest_path(STATMAP)
    path.parent.mkdir()
    entries = ['../../victim.txt', '/etc/passwd', 'func/ok.nii.gz', 'a\\b', 3]
    path.write_text(json.dumps({'Files': entries}))
    assert read_manifest(tmp_path, STATMAP) == (PurePosixPath('sub-01/func/ok.nii.gz'),)


def test_complete_model_files_refuses_a_statmap_outside(tmp_path):
    with pytest.raises(BidsNameError, match='inside the output folder'):
        complete_model_files(tmp_path, PurePosixPath('../statmap.json'))
