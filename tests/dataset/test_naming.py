"""Each node's folder, and contrast names checked before anything is fitted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bidsglm.bids.layout import plan_layout
from bidsglm.dataset.naming import check_contrast_names, node_folders, node_label
from bidsglm.dataset.stats_models import read_stats_model
from bidsglm.errors import BidsNameError

RUN = {
    'Level': 'Run',
    'Name': 'run_level',
    'GroupBy': ['run', 'subject'],
    'Model': {'Type': 'glm', 'X': ['a', 1]},
    'DummyContrasts': {'Test': 't'},
}


def _model(*names: str):
    nodes = [RUN] + [
        {
            'Level': 'Dataset',
            'Name': name,
            'GroupBy': ['contrast'],
            'Model': {'Type': 'glm', 'X': [1]},
            'DummyContrasts': {'Test': 't'},
        }
        for name in names
    ]
    edges = [{'Source': 'run_level', 'Destination': name} for name in names]
    return read_stats_model(
        {'Name': 'm', 'BIDSModelVersion': '1.0.0', 'Nodes': nodes, 'Edges': edges}
    )


def test_each_node_has_its_own_folder():
    folders = node_folders(_model('group one', 'F-test'), Path('out'))
    assert folders == {
        'run_level': Path('out/node-runLevel'),
        'group one': Path('out/node-groupOne'),
        'F-test': Path('out/node-FTest'),
    }


def test_two_nodes_giving_one_folder_are_refused():
    with pytest.raises(BidsNameError, match="'group one' and 'group_one' give the same folder"):
        node_folders(_model('group one', 'group_one'), Path('out'))


def test_a_node_name_that_cannot_be_a_label_says_node():
    with pytest.raises(BidsNameError, match='The node name'):
        node_label('café')


LAYOUT = plan_layout('first', ['sub-01_task-x_run-1_bold.nii.gz'], None, subject_label='01')


@pytest.mark.parametrize(
    ('names', 'message'),
    [
        (['a', 'a'], "'a' is given twice"),
        (['AvsB', 'avsb'], 'collide'),
        (['café'], 'cannot become a BIDS label'),
        (['x' * 300], 'too long'),
    ],
)
def test_contrast_names_the_writer_would_refuse_are_refused_first(names, message):
    with pytest.raises(BidsNameError, match=message) as info:
        check_contrast_names(names, LAYOUT, 1, 'Rename it in the model.')
    assert str(info.value).endswith('Rename it in the model.')
