import numpy as np
import pytest

from bidsglm._drawing.colours import RAMPS, colourise, hex_colour, ramp_table


def luminance(table):
    return table.astype(float) @ np.array([0.2126, 0.7152, 0.0722])


@pytest.mark.parametrize('name', sorted(RAMPS))
def test_ramp_table_runs_from_the_first_anchor_to_the_last(name):
    table = ramp_table(name)
    assert table.shape == (256, 3)
    assert table.dtype == np.uint8
    assert table[0].tolist() == list(RAMPS[name][0])
    assert table[255].tolist() == list(RAMPS[name][-1])
    assert not table.flags.writeable


def test_diverging_ramp_is_white_in_the_middle_blue_below_red_above():
    table = ramp_table('diverging')
    assert table[127].tolist() == table[128].tolist() == [250, 250, 250]
    assert (table[:127, 2] > table[:127, 0]).all()  # blue half
    assert (table[129:, 0] > table[129:, 2]).all()  # red half


@pytest.mark.parametrize('name', ['gray', 'sequential', 'heat'])
def test_sequential_ramps_grow_brighter_all_the_way(name):
    assert (np.diff(luminance(ramp_table(name))) >= 0).all()
    assert luminance(ramp_table(name))[-1] - luminance(ramp_table(name))[0] > 200


def test_colourise_maps_the_range_onto_the_table_and_clips_outside():
    values = np.array([[-5.0, -2.0, 0.0], [2.0, 9.0, np.nan]])
    colours = colourise(values, 'diverging', -2.0, 2.0)
    table = ramp_table('diverging')
    assert colours.shape == (2, 3, 3)
    expected = table[[[0, 0, 128], [255, 255, 0]]]
    np.testing.assert_array_equal(colours, expected)


def test_colourise_is_linear_in_between():
    values = np.linspace(0.0, 1.0, 256)
    np.testing.assert_array_equal(colourise(values, 'heat', 0.0, 1.0), ramp_table('heat'))


def test_hex_colour():
    assert hex_colour(np.array([0, 15, 255], np.uint8)) == '#000fff'
