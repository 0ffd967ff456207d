"""Tests of bidsglm.design.contrasts: expressions, weight arrays and estimability."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nilearn.glm.contrasts import expression_to_contrast_vector

from bidsglm.design.contrasts import (
    check_estimable,
    contrast_to_matrix,
    is_estimable,
    parse_contrast_expression,
)
from bidsglm.errors import BidsGlmError, ContrastError, ContrastTypeError

COLUMNS = ['audio', 'visual', 'motor', 'drift_1', 'x1', 'x2', 'trial type', 'constant']


def one_hot(*pairs: tuple[str, float]) -> np.ndarray:
    """Weights over COLUMNS with the given (name, weight) pairs."""
    weights = np.zeros(len(COLUMNS))
    for name, weight in pairs:
        weights[COLUMNS.index(name)] = weight
    return weights


# --- parse_contrast_expression: valid expressions ---------------------------------


@pytest.mark.parametrize(
    ('expression', 'pairs'),
    [
        ('audio', [('audio', 1.0)]),
        ('2*audio - visual', [('audio', 2.0), ('visual', -1.0)]),
        ('audio/2 - (visual + motor)/2', [('audio', 0.5), ('visual', -0.5), ('motor', -0.5)]),
        ('-audio', [('audio', -1.0)]),
        ('+audio - -visual', [('audio', 1.0), ('visual', 1.0)]),
        ('0.5*audio + .5*visual', [('audio', 0.5), ('visual', 0.5)]),
        ('1e-1*audio', [('audio', 0.1)]),
        ('2.5E+1*audio', [('audio', 25.0)]),
        ('audio*3/4', [('audio', 0.75)]),
        ('2*(audio - 3*(visual - motor))', [('audio', 2.0), ('visual', -6.0), ('motor', 6.0)]),
        ('drift_1', [('drift_1', 1.0)]),
        ('x1 - x2', [('x1', 1.0), ('x2', -1.0)]),
        ('  audio\t-  visual ', [('audio', 1.0), ('visual', -1.0)]),
        ('audio - audio + visual', [('visual', 1.0)]),
        ('trial type', [('trial type', 1.0)]),
        ('`trial type` - audio', [('trial type', 1.0), ('audio', -1.0)]),
        ('audio + 1 - 1', [('audio', 1.0)]),
    ],
)
def test_parse_contrast_expression_gives_exact_vector(expression, pairs):
    weights = parse_contrast_expression(expression, COLUMNS)
    assert weights.dtype == np.float64
    assert weights.shape == (8,)
    np.testing.assert_array_equal(weights, one_hot(*pairs))


def test_parse_contrast_expression_commas_give_rows():
    weights = parse_contrast_expression('audio - visual, motor', COLUMNS)
    expected = np.vstack([one_hot(('audio', 1), ('visual', -1)), one_hot(('motor', 1))])
    np.testing.assert_array_equal(weights, expected)


def test_parse_contrast_expression_exact_name_with_odd_characters_first():
    columns = ['a-b', 'a', 'b']
    np.testing.assert_array_equal(parse_contrast_expression('a-b', columns), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(parse_contrast_expression('a - b', columns), [0.0, 1.0, -1.0])
    np.testing.assert_array_equal(
        parse_contrast_expression('`a-b` - a', columns), [1.0, -1.0, 0.0]
    )


def test_parse_contrast_expression_dotted_and_unicode_names():
    columns = ['cond.a', 'cond.b', 'réponse']
    np.testing.assert_array_equal(
        parse_contrast_expression('cond.a - cond.b + 2*réponse', columns), [1.0, -1.0, 2.0]
    )


def test_parse_contrast_expression_accepts_non_string_column_labels():
    np.testing.assert_array_equal(parse_contrast_expression('`0` - `1`', [0, 1]), [1.0, -1.0])


@st.composite
def _named_weights(draw):
    names = draw(
        st.lists(
            st.from_regex(r'[A-Za-z_][A-Za-z0-9_]{0,8}', fullmatch=True),
            min_size=1,
            max_size=6,
            unique=True,
        )
    )
    finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    weights = draw(
        st.lists(finite | st.integers(-50, 50), min_size=len(names), max_size=len(names))
    )
    count = draw(st.integers(1, len(names)))
    used = draw(st.permutations(range(len(names))))[:count]
    styles = draw(
        st.lists(st.sampled_from(['w*n', 'n*w', 'signed']), min_size=count, max_size=count)
    )
    return names, weights, used, styles


def _render(names, weights, used, styles):
    terms = []
    for index, style in zip(used, styles, strict=True):
        weight, name = weights[index], names[index]
        if style == 'w*n':
            terms.append(f'+ {weight!r}*{name}')
        elif style == 'n*w':
            terms.append(f'+ {name}*({weight!r})')
        else:
            sign = '-' if weight < 0 else '+'
            terms.append(f'{sign} {abs(weight)!r} * {name}')
    return ' '.join(terms)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(_named_weights())
def test_parse_contrast_expression_round_trips_rendered_combinations(case):
    names, weights, used, styles = case
    expected = np.zeros(len(names))
    for index in used:
        expected[index] = weights[index]
    parsed = parse_contrast_expression(_render(names, weights, used, styles), names)
    np.testing.assert_array_equal(parsed, expected)


# --- parse_contrast_expression: oracle ------------------------------------------

ORACLE_EXPRESSIONS = [
    'audio',
    'trial type',
    '2*audio - visual',
    'audio/2 - (visual + motor)/2',
    '-audio',
    '0.5*audio + .5*visual',
    '1e-1*audio',
    'audio/3 - visual/7',
    'audio*2/3',
    '(audio - visual)*0.25 + drift_1/9',
    'x1 - x2',
    '`trial type` - audio',
    '+audio - -visual',
]


@pytest.mark.oracle
@pytest.mark.parametrize('expression', ORACLE_EXPRESSIONS)
def test_parse_contrast_expression_matches_nilearn(expression):
    ours = parse_contrast_expression(expression, COLUMNS)
    theirs = expression_to_contrast_vector(expression, COLUMNS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0)


# --- parse_contrast_expression: errors -------------------------------------------


@pytest.mark.parametrize(
    ('expression', 'fragments'),
    [
        ('audio -', ['not valid', "expected a number, a column name or '('", 'position 7']),
        ('(audio', ["expected ')'", 'position 6']),
        ('audio)', ["found ')'", 'position 5']),
        ('2audio', ["found 'audio'", 'position 1']),
        ('audio**2', ["found '*'", 'position 6']),
        ('audio,', ['end of the expression']),
        ('audio ^ 2', ["unexpected character '^'", 'position 6']),
        ('a`b', ['backquoted column name is not closed']),
        ('audio*visual', ['multiplies columns', 'not linear']),
        ('(audio + 1)*(visual - 1)', ['not linear']),
        ('audio/visual', ['divides by a column', 'not linear']),
        ('2/audio', ['divides by a column']),
        ('audio/0', ['division by zero']),
        ('audio/(2 - 2)', ['division by zero']),
        ('audio + 1', ['constant 1', 'remove the constant']),
        ('3', ['does not refer to any design column']),
        ('1e400*audio', ['too large']),
        ('1e300*1e300*audio', ['overflows']),
    ],
)
def test_parse_contrast_expression_rejects_bad_syntax(expression, fragments):
    with pytest.raises(ContrastError) as info:
        parse_contrast_expression(expression, COLUMNS)
    message = str(info.value)
    assert repr(expression) in message
    for fragment in fragments:
        assert fragment in message


def test_parse_contrast_expression_caret_points_at_problem():
    with pytest.raises(ContrastError) as info:
        parse_contrast_expression('audio - visual/0', COLUMNS)
    lines = str(info.value).splitlines()
    assert lines[-2] == '    audio - visual/0'
    assert lines[-1] == '    ' + ' ' * 14 + '^'


def test_parse_contrast_expression_unknown_name_suggests_close_match():
    with pytest.raises(ContrastError) as info:
        parse_contrast_expression('audoi - visual', COLUMNS)
    message = str(info.value)
    assert "refers to 'audoi'" in message
    assert "Did you mean 'audio'?" in message
    assert str(COLUMNS) in message
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, BidsGlmError)


def test_parse_contrast_expression_unknown_name_without_close_match():
    with pytest.raises(ContrastError, match="refers to 'zzz'") as info:
        parse_contrast_expression('audio - zzz', COLUMNS)
    assert 'Did you mean' not in str(info.value)


def test_parse_contrast_expression_unknown_backquoted_name():
    with pytest.raises(ContrastError, match=r"refers to 'trial kind'.*Did you mean 'trial type'"):
        parse_contrast_expression('`trial kind`', COLUMNS)


@pytest.mark.parametrize(
    'expression',
    [
        "__import__('os')",
        '__import__("os").system("true")',
        'audio.__class__',
        'audio.__class__.__mro__',
        'exec',
        'open(audio)',
        'lambda: audio',
        '[audio]',
        'audio if visual else motor',
        'audio; visual',
        'audio @ visual',
    ],
)
def test_parse_contrast_expression_never_evaluates_code(expression, monkeypatch):
    def forbidden(*args, **kwargs):
        msg = 'contrast expressions must never reach eval, exec or compile'
        raise AssertionError(msg)

    monkeypatch.setattr('builtins.eval', forbidden)
    monkeypatch.setattr('builtins.exec', forbidden)
    monkeypatch.setattr('builtins.compile', forbidden)
    with pytest.raises(ContrastError):
        parse_contrast_expression(expression, COLUMNS)


def test_parse_contrast_expression_rejects_empty():
    with pytest.raises(ContrastError, match='is empty'):
        parse_contrast_expression('   ', COLUMNS)


def test_parse_contrast_expression_rejects_duplicate_columns():
    with pytest.raises(ContrastError, match=r"unique names.*\['a'\]"):
        parse_contrast_expression('a', ['a', 'b', 'a'])


# --- contrast_to_matrix ------------------------------------------------------------

SIX = ['audio', 'visual', 'motor', 'drift_1', 'drift_2', 'constant']


@pytest.mark.parametrize(
    ('definition', 'expected'),
    [
        ('audio - visual', [1.0, -1.0, 0.0, 0.0, 0.0, 0.0]),
        ([1, 0, 0, 0, 0, 0], [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
        ((0.5, 0.5, 0, 0, 0, 0), [0.5, 0.5, 0.0, 0.0, 0.0, 0.0]),
        (np.array([0, 0, 2, 0, 0, 0], dtype=np.int64), [0.0, 0.0, 2.0, 0.0, 0.0, 0.0]),
        (np.array([0, 0, 0, 0, 0, 1.5], dtype=np.float32), [0.0, 0.0, 0.0, 0.0, 0.0, 1.5]),
    ],
)
def test_contrast_to_matrix_vectors_stay_1d(definition, expected):
    weights = contrast_to_matrix(definition, SIX)
    assert weights.dtype == np.float64
    assert weights.ndim == 1
    np.testing.assert_array_equal(weights, expected)


@pytest.mark.parametrize(
    'definition',
    [
        'audio - visual, motor',
        [[1, -1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0]],
        np.array([[1, -1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0]], dtype=np.float64),
    ],
)
def test_contrast_to_matrix_rows_stay_2d(definition):
    weights = contrast_to_matrix(definition, SIX)
    np.testing.assert_array_equal(weights, [[1, -1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0]])


def test_contrast_to_matrix_single_row_matrix_stays_2d():
    weights = contrast_to_matrix(np.eye(6)[:1], SIX)
    assert weights.shape == (1, 6)


def test_contrast_to_matrix_returns_a_copy():
    definition = np.array([1.0, 0, 0, 0, 0, 0])
    weights = contrast_to_matrix(definition, SIX)
    weights[0] = 7.0
    assert definition[0] == 1.0


@pytest.mark.parametrize(
    ('definition', 'fragments'),
    [
        (
            [1, 0, 0, 0],
            [
                "contrast 'x' has 4 weights but the design has 6 columns",
                str(SIX),
                'one weight per design column',
                'not padded',
            ],
        ),
        ([1] * 8, ['has 8 weights but the design has 6 columns']),
        ([[1, 0], [0, 1]], ['has 2 weights per row but the design has 6 columns']),
        ([], ['has 0 weights']),
        (np.zeros((0, 6)), ['has no rows']),
        ([0] * 6, ['all zeros']),
        ([[1, 0, 0, 0, 0, 0], [0] * 6], ['all-zero rows [2]']),
        ([1, np.nan, 0, 0, 0, 0], ["non-finite weight (nan) on column 'visual'"]),
        ([1, 0, 0, 0, 0, np.inf], ["non-finite weight (inf) on column 'constant'"]),
        ('audio - audio', ['all zeros']),
    ],
)
def test_contrast_to_matrix_rejects_bad_weights(definition, fragments):
    with pytest.raises(ContrastError) as info:
        contrast_to_matrix(definition, SIX, name='x')
    assert not isinstance(info.value, TypeError)  # the form is right, the values not
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    ('definition', 'fragment'),
    [
        (None, 'Got NoneType instead'),
        ({'audio': 1}, 'Got dict instead'),
        (5, 'Got int instead'),
        (2.5, 'Got float instead'),
        (b'audio', 'Got bytes instead'),
        ({1, 2}, 'Got set instead'),
        ([True, False, False, False, False, False], 'booleans'),
        (np.ones(6, dtype=bool), 'booleans'),
        (['audio', 'visual'], 'strings (join expressions with commas'),
        (np.ones(6, dtype=complex), 'complex numbers'),
        ([[1, 0, 0, 0, 0, 0], [1, 0]], 'different lengths'),
        ([1, None, 0, 0, 0, 0], 'objects that are not numbers'),
        (np.zeros((1, 2, 6)), 'Got a 3D array'),
    ],
)
def test_contrast_to_matrix_rejects_unaccepted_forms(definition, fragment):
    with pytest.raises(ContrastTypeError) as info:  # also a TypeError, as in nilearn
        contrast_to_matrix(definition, SIX, name='x')
    message = str(info.value)
    assert message.startswith("The contrast 'x' must be a string expression")
    assert '2D array of numbers' in message
    assert fragment in message


@pytest.mark.parametrize('definition', [[0] * 6, '0 * audio', np.zeros((2, 6))])
def test_contrast_to_matrix_returns_zeros_when_allowed(definition):
    weights = contrast_to_matrix(definition, SIX, allow_null=True)
    assert weights.shape[-1] == 6
    assert not weights.any()


def test_contrast_to_matrix_allowing_zeros_still_refuses_a_zero_f_row():
    with pytest.raises(ContrastError, match=r'all-zero rows \[2\]'):
        contrast_to_matrix([[1, 0, 0, 0, 0, 0], [0] * 6], SIX, allow_null=True)


def test_contrast_to_matrix_names_the_contrast_in_parse_errors():
    with pytest.raises(ContrastError, match=r"^In contrast 'effect': .*refers to 'audoi'"):
        contrast_to_matrix('audoi', SIX, name='effect')


def test_contrast_to_matrix_without_name():
    with pytest.raises(ContrastError, match=r'^The contrast has 2 weights'):
        contrast_to_matrix([1, 2], SIX)


# --- is_estimable / check_estimable -------------------------------------------------


@pytest.fixture
def twin_design(rng):
    """Columns a and b identical, then c and a constant: rank 3 of 4 columns."""
    a = rng.normal(size=30)
    c = rng.normal(size=30)
    return np.column_stack([a, a, c, np.ones(30)])


@pytest.mark.parametrize(
    ('contrast', 'estimable'),
    [
        ([1, 1, 0, 0], True),
        ([0.5, 0.5, -1, 0], True),
        ([0, 0, 1, 0], True),
        ([0, 0, 0, 1], True),
        ([1, -1, 0, 0], False),
        ([1, 0, 0, 0], False),
        ([0, 1, 0, 0], False),
        ([[1, 1, 0, 0], [0, 0, 1, 0]], True),
        ([[1, 1, 0, 0], [1, -1, 0, 0]], False),
    ],
)
def test_is_estimable_with_identical_columns(twin_design, contrast, estimable):
    assert is_estimable(contrast, twin_design) is estimable
    stacked = np.vstack([twin_design, np.atleast_2d(contrast)])
    same_rank = np.linalg.matrix_rank(stacked) == np.linalg.matrix_rank(twin_design)
    assert same_rank == estimable


def test_is_estimable_full_rank_design_accepts_everything(rng):
    design = rng.normal(size=(20, 5))
    assert is_estimable(rng.normal(size=(3, 5)), design)


def test_is_estimable_nearly_collinear_but_full_rank(rng):
    a = rng.normal(size=30)
    design = np.column_stack([a, a + 1e-3 * rng.normal(size=30), np.ones(30)])
    assert is_estimable([1, -1, 0], design)


def test_is_estimable_rejects_width_mismatch(twin_design):
    with pytest.raises(ContrastError, match='3 weights per row but the design has 4 columns'):
        is_estimable([1, 0, 0], twin_design)


def test_is_estimable_rejects_non_2d_design():
    with pytest.raises(ContrastError, match=r'2D array.*\(5,\)'):
        is_estimable([1], np.ones(5))


def test_check_estimable_passes_estimable_contrast(twin_design):
    assert check_estimable([1, 1, 0, 0], twin_design, ['a', 'b', 'c', 'constant'], 'sum') is None


def test_check_estimable_names_contrast_and_collinear_columns(twin_design):
    with pytest.raises(ContrastError) as info:
        check_estimable([1, -1, 0, 0], twin_design, ['a', 'b', 'c', 'constant'], 'a_vs_b')
    message = str(info.value)
    assert message.startswith("The contrast 'a_vs_b' is not estimable on this design:")
    assert "['a', 'b']" in message
    assert 'collinear' in message
    assert "'a + b'" in message


def test_check_estimable_names_the_row_of_an_f_contrast(twin_design):
    with pytest.raises(ContrastError, match=r"'f' is not estimable on this design \(row 2\)"):
        check_estimable(
            [[0, 0, 1, 0], [1, 0, 0, 0]], twin_design, ['a', 'b', 'c', 'constant'], 'f'
        )


def test_check_estimable_says_a_column_is_zero_rather_than_collinear(rng):
    design = np.column_stack([rng.normal(size=30), np.zeros(30), np.ones(30)])
    design[:, 1] = 1e-15  # what the regularisation of a singular design leaves of it
    with pytest.raises(ContrastError) as info:
        check_estimable([1, -1, 0], design, ['a', 'b', 'constant'], 'a - b')
    message = str(info.value)
    assert "weights the columns ['b'], which are zero in every row" in message
    assert 'collinear' not in message


def test_check_estimable_says_the_design_has_fewer_rows_than_columns(rng):
    design = rng.normal(size=(3, 5))
    with pytest.raises(ContrastError) as info:
        check_estimable([1, -1, 0, 0, 0], design, ['a', 'b', 'c', 'd', 'e'], 'a - b')
    message = str(info.value)
    assert 'the design has 3 rows (scans or maps) but 5 columns' in message
    assert 'collinear' not in message


def test_check_estimable_rejects_wrong_number_of_names(twin_design):
    with pytest.raises(ContrastError, match='4 columns but 3 column names'):
        check_estimable([1, 1, 0, 0], twin_design, ['a', 'b', 'c'])
