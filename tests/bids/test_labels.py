from __future__ import annotations

import re

import numpy as np
import pytest

from bidsglm.bids.labels import contrast_label, label_contrasts, name_from_weights
from bidsglm.errors import BidsNameError, ContrastError

# The table of the module docstring, row by row.
LABELS = [
    ('audio', 'audio'),
    ('AudioLeft', 'AudioLeft'),
    ('audio - visual', 'audioMinusVisual'),
    ('audio-visual', 'audioMinusVisual'),
    ('audio_left', 'audioLeft'),
    ('audio left', 'audioLeft'),
    ('audio_left - audio_right', 'audioLeftMinusAudioRight'),
    ('effects of interest', 'effectsOfInterest'),
    ('audio + visual', 'audioPlusVisual'),
    ('audio > visual', 'audioGtVisual'),
    ('audio < visual', 'audioLtVisual'),
    ('2*audio - visual', '2TimesAudioMinusVisual'),
    ('(audio + visual) / 2', 'audioPlusVisualOver2'),
    ('0.5*audio + 0.5*visual', '0p5TimesAudioPlus0p5TimesVisual'),
    ('-audio', 'MinusAudio'),
    ('x1 - x2', 'x1MinusX2'),
    ('a, b', 'aAndB'),
    ('a = b', 'aEqB'),
    ('F', 'F'),
    ('sub-01', 'subMinus01'),
    ('feedbackWin > feedbackNeutral', 'feedbackWinGtFeedbackNeutral'),
    # names of BIDS Stats Models: '.', ':', brackets separate words, '&' is And
    ('trial_type.face', 'trialTypeFace'),
    ('trial_type.VisMot', 'trialTypeVisMot'),
    ('VisMot_&_VisStat', 'VisMotAndVisStat'),
    ('group.A:age', 'groupAAge'),
    ('C(group)[T.patient]', 'CGroupTPatient'),
    ('a.b', 'aB'),
    ('respnum.1', 'respnum1'),
]


@pytest.mark.parametrize(('name', 'label'), LABELS)
def test_contrast_label_follows_the_documented_table(name, label):
    assert contrast_label(name) == label


@pytest.mark.parametrize(
    ('name', 'culprits'),
    [
        ('café', "'é'"),
        ('a!b?', "'!', '?'"),
        ('{1 0 0}', "'{', '}'"),
        ('x#1', "'#'"),
        ('../x', "'.'"),
        ('a..b', "'.'"),
    ],
)
def test_contrast_label_names_every_character_it_cannot_use(name, culprits):
    with pytest.raises(BidsNameError, match=re.escape(f'it holds {culprits}.')):
        contrast_label(name)


@pytest.mark.parametrize('name', ['', '___', '( )', ' '])
def test_contrast_label_refuses_an_empty_label(name):
    with pytest.raises(BidsNameError, match='empty BIDS label'):
        contrast_label(name)


def test_label_contrasts_reports_every_collision_and_every_bad_name_at_once():
    names = ['a - b', 'a-b', 'Audio', 'audio', 'ok', 'café']
    with pytest.raises(BidsNameError) as caught:
        label_contrasts(names)
    message = str(caught.value)
    assert "'a - b' and 'a-b' give 'aMinusB'" in message
    assert "'Audio' and 'audio' give 'Audio', 'audio'" in message
    assert "'café'" in message
    assert "'ok'" not in message


def test_label_contrasts_keeps_the_order_of_the_names():
    assert list(label_contrasts(['z', 'a', 'm'])) == ['z', 'a', 'm']


@pytest.mark.parametrize(
    ('weights', 'name'),
    [
        ([1, -1, 0], 'a - b'),
        (np.array([0.5, 0.5, 0.0]), '0.5*a + 0.5*b'),
        ([-1, 0, 0], '-a'),
        ([0, 2, -3], '2*b - 3*c'),
        ([1 / 3, 1 / 3, 1 / 3], '0.333333*a + 0.333333*b + 0.333333*c'),
        (np.eye(3)[:2], 'a, b'),
        ([[1, 0, 0], [0, 0, 0]], 'a, 0'),
    ],
)
def test_name_from_weights_writes_the_weights_as_an_expression(weights, name):
    assert name_from_weights(weights, ['a', 'b', 'c']) == name


def test_name_from_weights_gives_the_label_of_the_issue():
    assert contrast_label(name_from_weights([1, -1, 0], ['a', 'b', 'c'])) == 'aMinusB'


@pytest.mark.parametrize(('weights', 'match'), [([1, 0], '2 weights'), ([0, 0, 0], 'null')])
def test_name_from_weights_refuses_bad_weights(weights, match):
    with pytest.raises(ContrastError, match=match):
        name_from_weights(weights, ['a', 'b', 'c'])
