from __future__ import annotations

import json

import pytest

from bidsglm._version import __version__
from bidsglm.bids.description import (
    BIDS_VERSION,
    merge_dataset_description,
    read_dataset_description,
)
from bidsglm.errors import InvalidParameterError


def test_merge_dataset_description_creates_a_derivative_description():
    content = merge_dataset_description(None)
    assert content['BIDSVersion'] == BIDS_VERSION
    assert content['DatasetType'] == 'derivative'
    assert content['GeneratedBy'] == [
        {
            'Name': 'bidsglm',
            'Version': __version__,
            'Description': (
                'General linear models of task fMRI saved as BIDS statistical derivatives.'
            ),
        }
    ]
    assert list(content)[:3] == ['Name', 'BIDSVersion', 'DatasetType']


def test_merge_dataset_description_keeps_what_exists_and_never_duplicates():
    existing = {
        'Name': 'my study',
        'BIDSVersion': '1.6.0',
        'PipelineDescription': {'Name': 'fitlins'},
        'GeneratedBy': [{'Name': 'fmriprep'}, {'Name': 'bidsglm', 'Version': '0.0.1'}],
    }
    once = merge_dataset_description(existing)
    twice = merge_dataset_description(once)
    assert once == twice
    assert [entry['Name'] for entry in once['GeneratedBy']] == ['fmriprep', 'bidsglm']
    assert once['GeneratedBy'][1]['Version'] == __version__
    assert (once['Name'], once['BIDSVersion']) == ('my study', '1.6.0')
    assert once['PipelineDescription'] == {'Name': 'fitlins'}


def test_merge_dataset_description_reads_nilearn_0_9_dict_generated_by():
    content = merge_dataset_description({'GeneratedBy': {'Name': 'nilearn', 'Version': '0.9.2'}})
    assert [entry['Name'] for entry in content['GeneratedBy']] == ['nilearn', 'bidsglm']


def test_merge_dataset_description_refuses_a_raw_dataset():
    with pytest.raises(InvalidParameterError, match='derivatives/bidsglm'):
        merge_dataset_description({'DatasetType': 'raw'})


def test_read_dataset_description_reads_a_file_and_refuses_bad_json(tmp_path):
    path = tmp_path / 'dataset_description.json'
    assert read_dataset_description(path) is None
    path.write_text(json.dumps({'Name': 'x'}))
    assert read_dataset_description(path) == {'Name': 'x'}
    path.write_text('{not json')
    with pytest.raises(InvalidParameterError, match='not valid JSON'):
        read_dataset_description(path)
    path.write_text('[1, 2]')
    with pytest.raises(InvalidParameterError, match='JSON object'):
        read_dataset_description(path)
