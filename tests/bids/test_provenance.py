"""Input files recorded relative to their dataset, or their package, with versions."""

from __future__ import annotations

import json

from bidsglm._version import __version__
from bidsglm.bids.provenance import describe_inputs, find_dataset_root
from bidsglm.cli.demo import data_folder, haxby_files


def test_inputs_in_a_dataset_are_relative_to_it(tmp_path):
    root = tmp_path / 'study'
    (root / 'derivatives' / 'fmriprep').mkdir(parents=True)
    (root / 'dataset_description.json').write_text(json.dumps({'Name': 'Raw'}))
    prep = root / 'derivatives' / 'fmriprep'
    (prep / 'dataset_description.json').write_text(
        json.dumps({'Name': 'fMRIPrep outputs', 'DatasetType': 'derivative'})
    )
    runs = [prep / 'sub-01' / 'func' / f'sub-01_run-{i}_desc-preproc_bold.nii.gz' for i in (1, 2)]
    record = describe_inputs([str(run) for run in runs])
    assert record['InputFiles'] == [
        'sub-01/func/sub-01_run-1_desc-preproc_bold.nii.gz',
        'sub-01/func/sub-01_run-2_desc-preproc_bold.nii.gz',
    ]
    assert record['InputDatasets'] == [
        {'Name': 'fMRIPrep outputs', 'DatasetType': 'derivative', 'Files': 2}
    ]
    assert record['Software'] == [{'Name': 'bidsglm', 'Version': __version__}]
    assert find_dataset_root(runs[0]) == prep


def test_shipped_data_is_named_from_its_dataset_or_package_not_the_environment():
    haxby = describe_inputs([str(haxby_files()['runs'][0])])
    assert haxby['InputFiles'] == [
        'sub-1/func/sub-1_task-objectviewing_acq-25mm_run-01_bold.nii.gz'
    ]
    assert haxby['InputDatasets'][0]['Files'] == 1
    pain = describe_inputs([str(data_folder() / 'pain21' / 'contrast_pain_01.nii.gz')])
    assert pain['InputFiles'] == ['bidsglm/data/pain21/contrast_pain_01.nii.gz']
    assert 'InputDatasets' not in pain
    assert pain['Software'] == [{'Name': 'bidsglm', 'Version': __version__}]


def test_inputs_outside_any_dataset_or_package_are_kept_as_given(tmp_path):
    given = str(tmp_path / 'maps' / 'a.nii.gz')
    assert describe_inputs([given, None])['InputFiles'] == [given, None]
