from __future__ import annotations

import dataclasses

import pytest

from bidsglm.bids.contrast_specs import normalize_contrasts
from bidsglm.bids.model_view import view_model
from bidsglm.bids.sidecars import (
    contrast_sidecar,
    design_sidecar,
    mask_sidecar,
    stat_label,
    statmap_sidecar,
)

from .conftest import N_SCANS, N_SUBJECTS


def test_statmap_sidecar_describes_a_first_level_model(first_level, run_files):
    content = statmap_sidecar(view_model(first_level))
    assert content['SkullStripped'] is False
    assert content['Level'] == 'first'
    assert content['NoiseModel'] == 'ar1'
    assert content['HRF'] == {'Model': 'glover'}
    assert content['DriftModel'] == {'Type': 'cosine', 'HighPassFilterCutoffHz': 0.01}
    assert (content['SignalScaling'], content['Units']) == (0, 'percent signal change')
    assert (content['RepetitionTime'], content['SliceTimeRef']) == (2.0, 0.0)
    assert (content['NumberOfRuns'], content['NumberOfVolumes']) == (2, [N_SCANS, N_SCANS])
    assert content['InputFiles'] == [str(p) for p in run_files]
    assert content['ModelParameters']['fir_delays'] is None  # nilearn's default, as given


def test_statmap_sidecar_describes_a_second_level_model(second_level):
    content = statmap_sidecar(view_model(second_level))
    assert content['Level'] == 'second'
    assert (content['NoiseModel'], content['NumberOfSubjects']) == ('ols', N_SUBJECTS)
    assert 'RepetitionTime' not in content


@pytest.mark.parametrize(
    ('stat', 'has_tail'),
    [('effect', False), ('variance', False), ('F', False), ('p', True), ('z', True)],
)
def test_contrast_sidecar_records_weights_dof_and_tail(first_level, stat, has_tail):
    view = view_model(first_level)
    spec = normalize_contrasts({'a or v': 'audio, visual'}, view.columns)[0]
    content = contrast_sidecar(spec, view.compute(spec), stat, ['bids::x.tsv'])
    assert content['StatisticType'] == stat
    assert content['SkullStripped'] is False
    assert content['Sources'] == ['bids::x.tsv']
    assert content['Contrast']['Test'] == 'F'
    assert content['Contrast']['Weights'][1][:3] == [0.0, 0.0, 1.0]
    # the two runs share their columns and weights: written once, for both designs
    (weights,) = content['ContrastWeights']
    assert weights['Designs'] == [1, 2]
    assert weights['Columns'] == list(view.columns[0])
    assert weights['Weights'][1][:3] == [0.0, 0.0, 1.0]
    rank_dof = 2 * (N_SCANS - len(view.columns[0]))
    assert content['DegreesOfFreedom'] == [2, rank_dof]
    assert ('Tail' in content) is has_tail
    assert "'a or v'" in content['Description']


def test_contrast_sidecar_writes_t_weights_as_one_row(second_level):
    view = view_model(second_level)
    spec = normalize_contrasts('intercept', view.columns)[0]
    content = contrast_sidecar(spec, view.compute(spec), 't', [])
    assert content['Contrast'] == {
        'Name': 'intercept',
        'ConditionList': ['intercept'],
        'Weights': [1.0],
        'Test': 't',
    }
    assert content['DegreesOfFreedom'] == [N_SUBJECTS - 1.0]


def test_design_sidecar_gives_timing_at_the_first_level_only(first_level, second_level):
    first_level.set_params(slice_time_ref=0.5)
    assert design_sidecar(view_model(first_level), 1) == {
        'Description': 'Design matrix of run 2: one row per scan, one column per regressor.',
        'RepetitionTime': 2.0,
        'StartTime': 1.0,
    }
    assert list(design_sidecar(view_model(second_level), 0)) == ['Description']


def test_stat_label_and_mask_sidecar():
    assert [
        stat_label(o, 't')
        for o in ('effect_size', 'effect_variance', 'stat', 'p_value', 'z_score')
    ] == ['effect', 'variance', 't', 'p', 'z']
    assert mask_sidecar()['Type'] == 'Brain'


def test_contrast_sidecar_refers_to_the_designs_that_share_weights(first_level):
    view = view_model(first_level)
    spec = normalize_contrasts('audio', view.columns)[0]
    maps = view.compute(spec)
    designs = ['bids::run-1_design.tsv', 'bids::run-2_design.tsv']
    content = contrast_sidecar(spec, maps, 't', designs, designs=designs)
    assert content['ContrastWeights'] == [
        {
            'Columns': list(view.columns[0]),
            'Weights': [[1.0, 0.0, 0.0, 0.0, 0.0]],
            'Designs': designs,
        }
    ]
    other = dataclasses.replace(maps, weights=(maps.weights[0], 2 * maps.weights[1]))
    split = contrast_sidecar(spec, other, 't', designs, designs=designs)['ContrastWeights']
    assert [entry['Designs'] for entry in split] == [designs[:1], designs[1:]]
    assert split[1]['Weights'] == [[2.0, 0.0, 0.0, 0.0, 0.0]]
