"""A node's outputs: weights over design columns, the runs they combine, their factors."""

from __future__ import annotations

from bidsglm.dataset.outputs import Output, combine, weights_of
from bidsglm.dataset.stats_models import Contrast

WEIGHTS = ((('trial_type.face', 1.0), ('constant', -0.5)),)


def test_weights_of_a_contrast_name_design_columns_and_the_constant():
    contrast = Contrast('c', ('face', '1'), ((1.0, -0.5),), 't')
    assert weights_of(contrast, {'face': 'trial_type.face'}) == WEIGHTS


def test_combine_adds_weighted_weights_and_drops_zeros():
    a = ((('x', 1.0), ('y', 2.0)),)
    b = ((('y', 1.0),),)
    assert combine([(a, 1.0), (b, -2.0)]) == ((('x', 1.0),),)


def test_an_output_is_the_fixed_effects_of_its_runs_unless_it_has_factors():
    plain = Output('n', 'c', WEIGHTS, 't', (0, 1, 2), (('sub', '01'),))
    assert plain.factors() == (1 / 3, 1 / 3, 1 / 3)
    assert plain.definition() == '1*`trial_type.face` - 0.5*`constant`'
    assert plain.entity('sub') == '01'
    assert plain.entity('contrast') == 'c'
    assert plain.columns == {'trial_type.face', 'constant'}


def test_factors_become_one_expression_per_run_scaled_for_the_runs_averaged():
    # the second run left out (factor 0): the fixed effects average 2 runs
    output = Output('n', 'c', WEIGHTS, 't', (0, 1, 2), (), (0.5, 0.0, -0.5))
    assert output.definition() == (
        '1*`trial_type.face` - 0.5*`constant`',
        '0*`trial_type.face` + 0*`constant`',
        '-1*`trial_type.face` + 0.5*`constant`',
    )


def test_f_outputs_are_terminal():
    assert not Output('n', 'c', WEIGHTS + WEIGHTS, 'F', (0,), ()).passes_on
    assert Output('n', 'c', WEIGHTS, 'pass', (0,), ()).stat_type == 't'
