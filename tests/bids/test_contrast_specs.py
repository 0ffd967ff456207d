from __future__ import annotations

import numpy as np
import pytest

from bidsglm.bids.contrast_specs import ContrastSpec, contrast_weights, normalize_contrasts
from bidsglm.errors import BidsNameError, ContrastError, ContrastTypeError

COLUMNS = ['audio', 'visual', 'constant']
DESIGNS = [COLUMNS, COLUMNS]


def summary(specs: tuple[ContrastSpec, ...]) -> list[tuple[str, str, str]]:
    return [(spec.name, spec.label, spec.stat_type) for spec in specs]


def test_normalize_contrasts_reads_a_string():
    specs = normalize_contrasts('audio - visual', DESIGNS)
    assert summary(specs) == [('audio - visual', 'audioMinusVisual', 't')]
    assert specs[0].definition == 'audio - visual'


def test_normalize_contrasts_reads_a_list_of_strings():
    specs = normalize_contrasts(['audio', 'visual - audio'], DESIGNS)
    assert [spec.label for spec in specs] == ['audio', 'visualMinusAudio']


def test_normalize_contrasts_reads_a_dict_of_every_value_form():
    contrasts = {
        'expression': 'audio - visual',
        'as list': [1, -1, 0],
        'rows': [[1, 0, 0], [0, 1, 0]],
        'vector': np.array([0, 1, 0]),
        'matrix': np.eye(3)[:2],
        'one row': np.array([[1.0, -1.0, 0.0]]),
    }
    specs = normalize_contrasts(contrasts, DESIGNS)
    assert summary(specs) == [
        ('expression', 'expression', 't'),
        ('as list', 'asList', 't'),
        ('rows', 'rows', 'F'),
        ('vector', 'vector', 't'),
        ('matrix', 'matrix', 'F'),
        ('one row', 'oneRow', 'F'),
    ]
    np.testing.assert_array_equal(specs[1].definition, [1.0, -1.0, 0.0])
    assert specs[2].definition.shape == (2, 3)


def test_normalize_contrasts_names_bare_arrays_from_their_weights():
    specs = normalize_contrasts([np.array([1, -1, 0]), [0.5, 0.5, 0], 'constant'], DESIGNS)
    assert summary(specs) == [
        ('audio - visual', 'audioMinusVisual', 't'),
        ('0.5*audio + 0.5*visual', '0p5TimesAudioPlus0p5TimesVisual', 't'),
        ('constant', 'constant', 't'),
    ]


def test_normalize_contrasts_reads_a_bare_vector_and_a_bare_matrix():
    assert summary(normalize_contrasts([1, 0, 0], DESIGNS)) == [('audio', 'audio', 't')]
    assert summary(normalize_contrasts(np.eye(3)[:2], DESIGNS)) == [
        ('audio, visual', 'audioAndVisual', 'F')
    ]


def test_normalize_contrasts_reads_a_string_with_commas_as_an_f_test():
    specs = normalize_contrasts({'both': 'audio, visual'}, DESIGNS)
    assert specs[0].stat_type == 'F'
    np.testing.assert_array_equal(contrast_weights('audio, visual', COLUMNS), np.eye(3)[:2])


def test_normalize_contrasts_lets_contrast_types_choose_the_test_by_name_or_label():
    specs = normalize_contrasts(
        {'a - v': 'audio - visual', 'v': 'visual'}, DESIGNS, {'a - v': 'F', 'v': 'F'}
    )
    assert [spec.stat_type for spec in specs] == ['F', 'F']
    specs = normalize_contrasts([[1, -1, 0]], DESIGNS, {'audioMinusVisual': 'F'})
    assert specs[0].stat_type == 'F'


def test_normalize_contrasts_accepts_no_contrast():
    assert normalize_contrasts({}, DESIGNS) == ()


@pytest.mark.parametrize(
    ('contrasts', 'contrast_types', 'match'),
    [
        ('audio - nothing', None, 'nothing'),
        ({'short': [1, 0]}, None, '2 weights but the design has 3 columns'),
        ({'long': [1, 0, 0, 0]}, None, '4 weights'),
        ({'null': [0, 0, 0]}, None, 'all zeros'),
        ({'x': 'audio'}, {'y': 't'}, "key 'y' names no contrast"),
        ({'x': 'audio'}, {'x': 'z'}, "must be one of \\['t', 'F'\\]"),
        ({'x': 'audio'}, 'F', "'contrast_types' parameter"),
        ({'x': np.eye(3)[:2]}, {'x': 't'}, "'t' test needs one row"),
        ({1: 'audio'}, None, 'names must be strings'),
        ({'x': 5}, None, 'must be a string'),
        ({'x': None}, None, 'must be a string'),
        ({'x': ['audio', 'visual', 'audio']}, None, '3 expressions for 2 designs'),
        (5, None, "'contrasts' parameter"),
        (None, None, "'contrasts' parameter"),
        (['audio', 'audio'], None, 'given twice'),
        ([[1, 0, 0], np.array([1, 0, 0])], None, 'given twice'),
    ],
)
def test_normalize_contrasts_refuses_bad_input(contrasts, contrast_types, match):
    with pytest.raises(ContrastError, match=match):
        normalize_contrasts(contrasts, DESIGNS, contrast_types)


@pytest.mark.parametrize('contrasts', [{1: 'audio'}, {'x': 5}, {'x': None}, 5, None, [None]])
def test_normalize_contrasts_forms_not_accepted_are_type_errors_as_nileans(contrasts):
    with pytest.raises(TypeError) as info:
        normalize_contrasts(contrasts, DESIGNS)
    assert isinstance(info.value, ContrastTypeError)


def test_normalize_contrasts_checks_every_design():
    designs = [COLUMNS, ['audio', 'motor', 'constant']]
    with pytest.raises(ContrastError, match="'visual'"):
        normalize_contrasts('visual', designs)
    with pytest.raises(ContrastError, match='4 columns'):
        normalize_contrasts([1, 0, 0], [COLUMNS, [*COLUMNS, 'drift_1']])


@pytest.mark.parametrize(
    ('contrasts', 'match'),
    [
        ({'a - b': 'audio', 'a-b': 'visual'}, 'collide'),
        ({'': 'audio'}, 'empty'),
        ({'é': 'audio'}, "'é'"),
    ],
)
def test_normalize_contrasts_refuses_names_that_make_no_label(contrasts, match):
    with pytest.raises(BidsNameError, match=match):
        normalize_contrasts(contrasts, DESIGNS)


def test_a_dict_value_may_give_one_expression_per_run():
    specs = normalize_contrasts({'diff': ['-a', 'a'], 'one': ['a']}, [['a', 'b'], ['a', 'b']])
    assert specs[0].definition == ('-a', 'a')
    assert specs[0].stat_type == 't'
    assert specs[1].definition == 'a'


@pytest.mark.parametrize(
    ('value', 'message'),
    [
        (['a', 'a', 'a'], 'gives 3 expressions for 2 designs'),
        (['0*a', '0*b'], 'zero weights in every run'),
        (['a', 'a, b'], 'different numbers of rows'),
        (['a', 'c'], "'c'"),
    ],
)
def test_one_expression_per_run_is_checked_on_each_run(value, message):
    with pytest.raises(ContrastError, match=message):
        normalize_contrasts({'x': value}, [['a', 'b'], ['a', 'b']])
