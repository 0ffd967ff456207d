"""A run's design from its events, confounds and a node: names, transformations, HRF, drifts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bidsglm.dataset.design import DesignSpec, read_bids_tsv, run_design
from bidsglm.dataset.stats_models import read_stats_model
from bidsglm.dataset.transformations import RunTiming, read_transformations
from bidsglm.design import make_first_level_design_matrix
from bidsglm.errors import InvalidParameterError, TransformationError

TIMING = RunTiming(n_volumes=60, repetition_time=2.0, start_time=0.5)
FRAMES = (np.arange(60) + 0.25) * 2.0
EVENTS = pd.DataFrame(
    {
        'onset': [4.0, 20.0, 36.0, 52.0, 68.0, 84.0],
        'duration': [4.0] * 6,
        'trial_type': ['face', 'house', 'face', 'house', 'face', 'NULL'],
        'rt': [0.5, 0.7, 0.6, np.nan, 0.4, 0.9],
    }
)
CONFOUNDS = pd.DataFrame(
    {
        'trans_x': np.linspace(0.0, 1.0, 60),
        'framewise_displacement': [np.nan, *np.linspace(0.1, 0.2, 59)],
        'a_comp_cor_00': np.cos(np.arange(60) / 5),
        'a_comp_cor_01': np.sin(np.arange(60) / 5),
    }
)


def _by_hand(events: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    return make_first_level_design_matrix(FRAMES, events=events, **kwargs)


def _events(*conditions: str) -> pd.DataFrame:
    rows = EVENTS[EVENTS['trial_type'].isin(conditions)]
    return rows[['onset', 'duration', 'trial_type']].reset_index(drop=True)


def test_trial_type_values_name_the_indicators_of_their_events():
    spec = DesignSpec(x=('trial_type.face', 'trial_type.house', '1'), hrf_model='spm')
    made = run_design(EVENTS, None, TIMING, spec)
    expected = _by_hand(
        _events('face', 'house').assign(trial_type=lambda t: 'trial_type.' + t['trial_type']),
        hrf_model='spm',
    )
    pd.testing.assert_frame_equal(made.design, expected)
    assert made.variables == ('trial_type.face', 'trial_type.house')
    assert made.columns['1'] == 'constant'


def test_a_condition_named_null_is_a_condition():
    # pandas reads NULL, NA, nan as missing by default: BIDS reads only n/a
    made = run_design(EVENTS, None, TIMING, DesignSpec(x=('trial_type.NULL', 'face')))
    assert {'trial_type.NULL', 'face'} <= set(made.design.columns)
    assert run_design(EVENTS, None, TIMING, DesignSpec(x=('NULL',))).variables == ('NULL',)


def test_read_bids_tsv_keeps_na_and_null_as_text(tmp_path):
    path = tmp_path / 'events.tsv'
    path.write_text('onset\tduration\ttrial_type\tx\n0\t1\tNA\t1\n2\t1\tNULL\tn/a\n4\t1\tn/a\t\n')
    table = read_bids_tsv(path)
    assert table['trial_type'].tolist()[:2] == ['NA', 'NULL']
    assert table['trial_type'].isna().tolist() == [False, False, True]
    assert table['x'].isna().tolist() == [False, True, True]


def test_plain_trial_types_keep_the_modulation_as_nilearn_does():
    events = _events('face', 'house').assign(modulation=[1.0, 2.0, 0.5, 1.5, 3.0])
    made = run_design(events, None, TIMING, DesignSpec(x=('face', 'house')))
    pd.testing.assert_frame_equal(made.design, _by_hand(events))


def test_bidspm_short_names_and_globs_find_their_variables():
    spec = DesignSpec(x=('trial_type.*', 'a_comp_cor_0?', '*outlier*'), convolved=('face',))
    with pytest.raises(InvalidParameterError, match=r"\['trial_type.NULL', 'trial_type.house'\]"):
        run_design(EVENTS, CONFOUNDS, TIMING, spec)
    spec = DesignSpec(x=('trial_type.face', 'a_comp_cor_0?', '*outlier*'), convolved=('face',))
    made = run_design(EVENTS, CONFOUNDS, TIMING, spec)
    assert made.variables == ('trial_type.face', 'a_comp_cor_00', 'a_comp_cor_01')
    assert made.events == ('trial_type.face',)


def test_confounds_are_used_as_they_are_their_first_missing_row_as_zero():
    spec = DesignSpec(x=('trial_type.face', 'framewise_displacement', 'trans_x'))
    made = run_design(EVENTS, CONFOUNDS, TIMING, spec)
    expected = _by_hand(
        _events('face').assign(trial_type='trial_type.face'),
        add_regs=CONFOUNDS[['framewise_displacement', 'trans_x']].fillna(0.0).to_numpy(),
        add_reg_names=['framewise_displacement', 'trans_x'],
    )
    pd.testing.assert_frame_equal(made.design, expected)


def test_missing_confound_values_after_the_first_row_are_refused():
    confounds = CONFOUNDS.assign(trans_x=lambda t: t['trans_x'].where(t.index != 7))
    with pytest.raises(InvalidParameterError, match=r"\['trans_x'\] have missing values"):
        run_design(EVENTS, confounds, TIMING, DesignSpec(x=('trans_x',)))


def test_factor_then_convolve_gives_the_design_columns_of_the_hrf():
    # FitLins' way: Factor, then Convolve, the outputs used as they are
    node = read_stats_model(
        {
            'Name': 'x',
            'BIDSModelVersion': '1.0.0',
            'Nodes': [
                {
                    'Level': 'Run',
                    'Name': 'run',
                    'GroupBy': ['run', 'subject'],
                    'Transformations': {
                        'Transformer': 'pybids-transforms-v1',
                        'Instructions': [
                            {'Name': 'Factor', 'Input': ['trial_type']},
                            {
                                'Name': 'Convolve',
                                'Input': ['trial_type.face', 'trial_type.house'],
                                'Model': 'spm',
                            },
                        ],
                    },
                    'Model': {'Type': 'glm', 'X': ['trial_type.face', 'trial_type.house', 1]},
                }
            ],
        }
    ).run
    spec = DesignSpec(x=node.model.x, transformations=node.transformations)
    made = run_design(EVENTS, None, TIMING, spec)
    expected = _by_hand(
        _events('face', 'house').assign(trial_type=lambda t: 'trial_type.' + t['trial_type']),
        hrf_model='spm',
    )
    np.testing.assert_allclose(
        made.design[['trial_type.face', 'trial_type.house']],
        expected[['trial_type.face', 'trial_type.house']],
        atol=1e-10,
    )
    assert made.events == ()  # already convolved: dense variables


def test_transformations_run_before_the_names_are_found():
    transformations = read_transformations(
        {
            'Transformer': 'pybids-transforms-v1',
            'Instructions': [
                {'Name': 'Replace', 'Input': ['trial_type'], 'Replace': {'house': 'place'}},
                {'Name': 'Scale', 'Input': ['rt'], 'ReplaceNa': 'before'},
            ],
        }
    )
    spec = DesignSpec(x=('trial_type.place', 'rt'), transformations=transformations)
    made = run_design(EVENTS, None, TIMING, spec)
    assert made.variables == ('trial_type.place', 'rt')
    assert made.design['rt'].abs().sum() > 0


def test_events_with_missing_values_count_as_zero_as_pybids_fills_them():
    made = run_design(EVENTS, None, TIMING, DesignSpec(x=('rt',)))
    events = EVENTS.assign(trial_type='rt', modulation=EVENTS['rt'].fillna(0.0))
    events = events[events['modulation'] != 0][['onset', 'duration', 'trial_type', 'modulation']]
    pd.testing.assert_frame_equal(made.design, _by_hand(events))


def test_an_events_variable_missing_from_hrf_variables_is_refused():
    spec = DesignSpec(x=('trial_type.face', 'rt'), convolved=('trial_type.face',))
    with pytest.raises(InvalidParameterError, match=r"events variables \['rt'\].*HRF.Variables"):
        run_design(EVENTS, None, TIMING, spec)


def test_a_dense_variable_in_hrf_variables_is_refused():
    spec = DesignSpec(x=('trial_type.face', 'trans_x'), convolved=('trial_type.face', 'trans_x'))
    with pytest.raises(InvalidParameterError, match=r"HRF.Variables lists \['trans_x'\]"):
        run_design(EVENTS, CONFOUNDS, TIMING, spec)


def test_a_name_that_is_no_variable_is_refused_listing_the_variables():
    with pytest.raises(InvalidParameterError, match=r"names 'tras.x', which is not a variable"):
        run_design(EVENTS, CONFOUNDS, TIMING, DesignSpec(x=('trial_type.face', 'tras.x')))
    # a plain name may be a condition of another run: the planner decides, per subject
    made = run_design(EVENTS, CONFOUNDS, TIMING, DesignSpec(x=('trial_type.face', 'tras_x')))
    assert made.absent == ('tras_x',)


def test_a_condition_without_events_here_is_left_out_and_said():
    made = run_design(
        EVENTS, None, TIMING, DesignSpec(x=('trial_type.face', 'trial_type.scrambled'))
    )
    assert made.absent == ('trial_type.scrambled',)
    assert 'trial_type.scrambled' not in made.design.columns


def test_text_in_x_is_refused_with_the_way_out():
    with pytest.raises(
        TransformationError, match=r'name their values instead \(trial_type.<value>\)'
    ):
        run_design(EVENTS, None, TIMING, DesignSpec(x=('trial_type',)))


def test_fir_and_derivatives_name_their_columns():
    spec = DesignSpec(x=('trial_type.face',), hrf_model='fir', fir_delays=(0, 1, 2))
    made = run_design(EVENTS, None, TIMING, spec)
    assert [c for c in made.design.columns if 'delay' in c] == [
        f'trial_type.face_delay_{d}' for d in (0, 1, 2)
    ]
    assert made.variables == ('trial_type.face',)
    spec = DesignSpec(x=('trial_type.face',), hrf_model='spm + derivative')
    assert 'trial_type.face_derivative' in run_design(EVENTS, None, TIMING, spec).design.columns


def test_a_run_formula_acts_on_the_design_columns_of_x():
    plain = run_design(EVENTS, CONFOUNDS, TIMING, DesignSpec(x=('face', 'trans_*', '1')))
    spec = DesignSpec(x=('face', 'trans_*', '1'), formula='face * trans_x')
    made = run_design(EVENTS, CONFOUNDS, TIMING, spec)
    assert made.variables == ('face', 'trans_x', 'face:trans_x')
    assert list(made.design.columns) == [
        'face',
        'trans_x',
        'face:trans_x',
        *[c for c in plain.design.columns if c not in ('face', 'trans_x')],
    ]  # formulaic's Intercept left out: the design keeps its constant
    np.testing.assert_allclose(
        made.design['face:trans_x'], plain.design['face'] * plain.design['trans_x']
    )
    np.testing.assert_allclose(made.design['constant'], 1.0)
    assert made.columns['face:trans_x'] == 'face:trans_x'


def test_a_run_formula_names_bidspm_short_names_as_x_writes_them():
    factor = read_transformations(
        {
            'Transformer': 'pybids-transforms-v1',
            'Instructions': [{'Name': 'Factor', 'Input': ['trial_type']}],
        }
    )
    spec = DesignSpec(x=('face', 'house'), formula='0 + face:house', transformations=factor)
    plain = run_design(
        EVENTS, None, TIMING, DesignSpec(x=('face', 'house'), transformations=factor)
    )
    assert plain.columns['face'] == 'trial_type.face'
    made = run_design(EVENTS, None, TIMING, spec)
    assert made.variables == ('face:house',)
    np.testing.assert_allclose(
        made.design['face:house'],
        plain.design['trial_type.face'] * plain.design['trial_type.house'],
    )
    with pytest.raises(InvalidParameterError, match="The Formula '0 \\+ car' cannot be built"):
        run_design(EVENTS, None, TIMING, DesignSpec(x=('house',), formula='0 + car'))
