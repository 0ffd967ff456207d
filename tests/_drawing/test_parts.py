import math
from xml.etree import ElementTree

import numpy as np
import pytest

from bidsglm._drawing import svg
from bidsglm._drawing.colours import ramp_table
from bidsglm._drawing.parts import ColourBar, ColumnNames, nice_ticks, tick_label
from bidsglm._drawing.png import read_png

SVG = '{http://www.w3.org/2000/svg}'


def parse(elements, width=400, height=400):
    return ElementTree.fromstring(svg.document(width, height, elements))


@pytest.mark.parametrize(
    ('low', 'high', 'expected'),
    [
        (0, 19, [0, 5, 10, 15]),
        (0, 239, [0, 50, 100, 150, 200]),
        (0, 1999, [0, 500, 1000, 1500]),
        (0, 4, [0, 1, 2, 3, 4]),
        (-1, 1, [-1, -0.5, 0, 0.5, 1]),
        (3, 3, [3]),
    ],
)
def test_nice_ticks_are_round_and_inside(low, high, expected):
    assert nice_ticks(low, high) == expected


def test_tick_label_keeps_three_digits():
    assert [tick_label(v) for v in (7.2061, -3.1, 1234.0, 0.000123, -0.0)] == [
        '7.21',
        '-3.1',
        '1.23e+03',
        '0.000123',
        '0',
    ]


def test_column_names_are_rotated_text_over_each_column():
    names = ColumnNames(('short', 'a much longer column name'), 10.0)
    root = parse(names.elements([20.0, 40.0], bottom=200.0))
    texts = list(root.iter(f'{SVG}text'))
    assert [t.text for t in texts] == ['short', 'a much longer column name']
    assert all(t.get('transform').startswith('rotate(-60 ') for t in texts)
    # the longest name sets the room needed above, and the reach to the right
    longest = svg.text_width('a much longer column name', 10.0)
    assert names.height() == pytest.approx(longest * math.sin(math.radians(60)) + 7.5)
    assert names.reach([20.0, 40.0]) == pytest.approx(40.0 + longest / 2 + 10.0)


def test_vertical_colour_bar_puts_the_high_end_at_the_top():
    bar = ColourBar(ramp_table('heat'), 0.0, 10.0, (0.0, 5.0, 10.0), 'SD')
    root = parse(bar.vertical(10, 20, 14, 100, '#fff'))
    (strip,) = [read_png(p) for p in svg.embedded_pngs(ElementTree.tostring(root))]
    np.testing.assert_array_equal(strip[:, 0], ramp_table('heat')[::-1])
    texts = {t.text: float(t.get('y')) for t in root.iter(f'{SVG}text')}
    assert texts['10'] < texts['5'] < texts['0']  # high values at the top
    assert texts['5'] == pytest.approx(20 + 50 + 3.5)
    assert texts['SD'] < 20  # the title above the bar


def test_vertical_colour_bar_can_write_its_title_on_the_side():
    bar = ColourBar(ramp_table('diverging'), -1.0, 1.0, (-1.0, 0.0, 1.0), 'correlation')
    root = parse(bar.vertical(0, 0, 10, 100, title_above=False))
    title = next(t for t in root.iter(f'{SVG}text') if t.text == 'correlation')
    assert title.get('transform').startswith('rotate(-90')
    labels_end = max(
        float(t.get('x')) + svg.text_width(t.text, 10)
        for t in root.iter(f'{SVG}text')
        if t is not title
    )
    assert labels_end < float(title.get('x')) <= bar.width(10, title_above=False)
    assert float(title.get('y')) == 50.0  # centred along the bar


def test_horizontal_colour_bar_runs_low_to_high_left_to_right():
    bar = ColourBar(ramp_table('diverging'), -2.0, 2.0, (-2.0, 0.0, 2.0))
    root = parse(bar.horizontal(50, 10, 120, 8))
    (strip,) = [read_png(p) for p in svg.embedded_pngs(ElementTree.tostring(root))]
    np.testing.assert_array_equal(strip[0], ramp_table('diverging'))
    xs = {t.text: float(t.get('x')) for t in root.iter(f'{SVG}text')}
    assert xs == {'-2': 50.0, '0': 110.0, '2': 170.0}
