"""Dataset nodes: the group design from ``X``, participants.tsv columns and ``Formula``."""

from __future__ import annotations

import pandas as pd
import pytest

from bidsglm import FirstLevelModel, load_glm_from_bids, save_glm_to_bids
from bidsglm.dataset.group import group_design, saved_inputs
from bidsglm.dataset.stats_models import Node, NodeModel, read_stats_model
from bidsglm.errors import InvalidParameterError

ROWS = pd.DataFrame(
    {
        'subject': ['01', '02', '03', '04'],
        'contrast': 'face',
        'group': ['control', 'patient', 'control', 'patient'],
        'age': [20.0, 23.0, 26.0, 29.0],
    }
)


def _node(x: tuple[str, ...], formula: str | None = None) -> Node:
    return Node('Dataset', 'group', ('contrast',), NodeModel('glm', x, formula=formula))


def test_a_cell_means_design_has_one_indicator_per_level_and_no_intercept():
    design = group_design(_node(('group.control', 'group.patient')), ROWS)
    assert design.to_dict('list') == {
        'group.control': [1.0, 0.0, 1.0, 0.0],
        'group.patient': [0.0, 1.0, 0.0, 1.0],
    }


def test_a_categorical_column_named_alone_becomes_its_levels():
    design = group_design(_node(('group', 'age', '1')), ROWS)
    assert list(design.columns) == ['group.control', 'group.patient', 'age', 'intercept']
    assert design['age'].tolist() == [20.0, 23.0, 26.0, 29.0]


def test_a_formula_is_materialised_by_formulaic():
    pytest.importorskip('formulaic')
    design = group_design(_node(('group', 'age'), formula='1 + C(group) + age'), ROWS)
    assert list(design.columns) == ['Intercept', 'C(group)[T.patient]', 'age']
    assert design['C(group)[T.patient]'].tolist() == [0.0, 1.0, 0.0, 1.0]


def test_a_name_that_is_no_column_lists_the_columns():
    with pytest.raises(InvalidParameterError, match=r"'sex'.*\['group', 'age'\].*\['face'\]"):
        group_design(_node(('sex',)), ROWS)


def test_a_formula_model_file_is_read_and_its_dummy_contrasts_checked():
    pytest.importorskip('formulaic')
    model = read_stats_model(
        {
            'Name': 'f',
            'BIDSModelVersion': '1.0.0',
            'Nodes': [
                {
                    'Level': 'Run',
                    'Name': 'run',
                    'GroupBy': ['run', 'subject'],
                    'Model': {'Type': 'glm', 'X': ['face', 1]},
                    'DummyContrasts': {'Test': 't'},
                },
                {
                    'Level': 'Dataset',
                    'Name': 'group',
                    'GroupBy': ['contrast'],
                    'Model': {'Type': 'glm', 'X': ['group'], 'Formula': '0 + C(group)'},
                    'Contrasts': [
                        {
                            'Name': 'patientMinusControl',
                            'ConditionList': ['C(group)[patient]', 'C(group)[control]'],
                            'Weights': [1, -1],
                            'Test': 't',
                        }
                    ],
                },
            ],
        }
    )
    assert model.node('group').model.formula == '0 + C(group)'


def test_saved_surface_first_levels_become_group_inputs_by_hemisphere(rng, surfaces, tmp_path):
    model = FirstLevelModel(t_r=surfaces.t_r).fit(surfaces.gifti_run(rng), surfaces.events())
    save_glm_to_bids(model, 'task', out_dir=tmp_path, prefix='sub-01_task-x')
    (row,) = saved_inputs([load_glm_from_bids(tmp_path / 'sub-01')])
    assert (row.subject, row.name, dict(row.entities)) == (
        '01',
        'task',
        {'sub': '01', 'task': 'x'},
    )
    func = tmp_path / 'sub-01' / 'func'
    assert row.effect == {
        part: func / f'sub-01_task-x_hemi-{h}_contrast-task_stat-effect_statmap.func.gii'
        for part, h in (('left', 'L'), ('right', 'R'))
    }
    assert row.mask == {
        part: func / f'sub-01_task-x_hemi-{h}_mask.func.gii'
        for part, h in (('left', 'L'), ('right', 'R'))
    }
