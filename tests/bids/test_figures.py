import subprocess
import sys
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest

from bidsglm._drawing import svg
from bidsglm._drawing.colours import ramp_table
from bidsglm._drawing.png import read_png
from bidsglm.bids.figures import contrast_svg, design_svg

SVG = '{http://www.w3.org/2000/svg}'


def texts(document):
    return [t.text for t in ElementTree.fromstring(document).iter(f'{SVG}text')]


def pictures(document):
    return [read_png(png) for png in svg.embedded_pngs(document)]


def test_design_svg_is_deterministic_svg_naming_every_column():
    design = pd.DataFrame({'audio': [0.0, 1.0, 0.5], 'drift_1': [0.1, 0.0, -0.1], 'constant': 1.0})
    document = design_svg(design, 'run 1')
    assert ElementTree.fromstring(document).tag == f'{SVG}svg'
    assert {'audio', 'drift_1', 'constant', 'run 1', 'scan number'} <= set(texts(document))
    assert design_svg(design, 'run 1') == document


def test_design_svg_picture_is_the_matrix_scaled_per_column(rng):
    values = rng.standard_normal((25, 4)) * [1.0, 10.0, 0.01, 3.0]
    values[:, 3] = 2.0  # a constant column
    design = pd.DataFrame(values, columns=list('abcd'))
    (picture,) = pictures(design_svg(design))
    assert picture.shape == (25, 4)  # one pixel per cell: gray
    scaled = values / np.abs(values).max(axis=0)
    fraction = (scaled - scaled.min()) / (scaled.max() - scaled.min())
    assert np.abs(picture - 255 * fraction).max() <= 1.0
    assert picture.min() == 0
    assert (picture[:, 3] == 255).all()


def test_design_svg_scales_the_picture_up_with_sharp_pixels():
    design = pd.DataFrame({'a': np.arange(20.0), 'constant': 1.0})
    root = ElementTree.fromstring(design_svg(design))
    (image,) = root.iter(f'{SVG}image')
    assert 'pixelated' in image.get('style')
    assert float(image.get('width')) == 2 * 36  # two columns, 36 pixels each
    assert float(image.get('height')) == 240


def test_design_svg_ticks_round_scan_numbers():
    design = pd.DataFrame({'a': np.arange(240.0), 'b': np.arange(240.0) % 7})
    shown = texts(design_svg(design))
    assert [t for t in shown if t.isdigit()] == ['0', '50', '100', '150', '200']
    assert 'scan number' in shown


def test_group_design_numbers_its_rows_in_whole_numbers_from_one():
    design = pd.DataFrame({'intercept': np.ones(3), 'age': [20.0, 30.0, 40.0]})
    shown = texts(design_svg(design, 'group design', rows='input map'))
    assert 'input map number' in shown
    assert 'scan number' not in shown
    ticks = [t for t in shown if t.isdigit()]
    assert ticks == ['1', '1', '2', '3']  # the intercept's value, then rows 1 to 3


def test_intercept_only_design_is_not_an_empty_box():
    document = design_svg(pd.DataFrame({'intercept': np.ones(21)}), rows='study')
    root = ElementTree.fromstring(document)
    (image,) = root.iter(f'{SVG}image')
    top, height = float(image.get('y')), float(image.get('height'))
    values = [
        t for t in root.iter(f'{SVG}text') if t.text == '1' and t.get('text-anchor') == 'middle'
    ]
    assert len(values) == 1  # the intercept's value, written inside its column
    assert top < float(values[0].get('y')) < top + height
    assert [t for t in texts(document) if t.isdigit()] == ['1', '1', '5', '10', '15', '20']
    assert 'study number' in texts(document)


def test_design_svg_averages_rows_of_a_long_run():
    design = pd.DataFrame({'a': np.tile([0.0, 1.0], 1000), 'constant': 1.0})
    (picture,) = pictures(design_svg(design))
    assert picture.shape == (400, 2)  # bins of 5 rows: [0 1 0 1 0] and [1 0 1 0 1]
    np.testing.assert_array_equal(np.unique(picture[:, 0]), [102, 153])


def wide_design(n_columns=60, n_rows=2000):
    names = [f'{i:02d}_regressor_with_a_long_name'[:30] for i in range(n_columns)]
    return pd.DataFrame(np.ones((n_rows, n_columns)), columns=names)


def inside_the_page(document):
    """No text leaves the page: rotated names checked with their estimated extents."""
    root = ElementTree.fromstring(document)
    width, height = float(root.get('width')), float(root.get('height'))
    for element in root.iter(f'{SVG}text'):
        x, y, size = (float(element.get(k)) for k in ('x', 'y', 'font-size'))
        length = svg.text_width(element.text, size)
        if element.get('transform', '').startswith('rotate(-60'):
            ends = [(x, y), (x + length / 2, y - length * np.sqrt(3) / 2)]
        elif element.get('transform', '').startswith('rotate(-90'):
            ends = [(x - size, y - length / 2), (x, y + length / 2)]
        else:
            shift = {'start': 0.0, 'middle': length / 2, 'end': length}
            left = x - shift[element.get('text-anchor', 'start')]
            ends = [(left, y - size), (left + length, y)]
        for end_x, end_y in ends:
            assert 0 <= end_x <= width, element.text
            assert 0 <= end_y <= height, element.text


@pytest.mark.parametrize('n_columns', [3, 15, 60])
def test_design_svg_writes_every_long_name_inside_the_page(n_columns):
    design = wide_design(n_columns, 300)
    document = design_svg(design, 'a title')
    assert set(design.columns) <= set(texts(document))
    inside_the_page(document)


def test_contrast_svg_writes_every_long_name_inside_the_page():
    design = wide_design(60)
    weights = np.eye(60)[:3]
    document = contrast_svg(weights, list(design.columns), 'a rather long contrast title')
    assert set(design.columns) <= set(texts(document))
    inside_the_page(document)


def test_figures_print_names_as_they_are_never_as_math():
    names = ['price$', 'cost_$x$', 'a<b', 'x & "y"', 'r²']
    document = contrast_svg([[1.0, -1.0, 0.0, 0.0, 0.0]], names, 'a $b$ <&>')
    assert set(names) | {'a $b$ <&>'} <= set(texts(document))
    design = pd.DataFrame(np.eye(5), columns=names)
    assert set(names) <= set(texts(design_svg(design, 'r² < 1')))


def test_design_svg_copes_with_an_all_zero_column():
    design = pd.DataFrame({'a': [0.0, 0.0], 'constant': [1.0, 1.0]})
    (picture,) = pictures(design_svg(design))
    assert picture.tolist() == [[0, 255], [0, 255]]


def test_contrast_svg_colours_cells_on_the_diverging_ramp():
    document = contrast_svg([[2.0, 0.0, -2.0, 1.0]], ['a', 'b', 'c', 'd'])
    (cells, legend) = pictures(document)
    table = ramp_table('diverging')
    assert cells.shape == (1, 4, 3)
    assert cells[0, 0].tolist() == table[255].tolist() == [165, 20, 35]  # +bound: red end
    assert cells[0, 1].tolist() == table[128].tolist() == [250, 250, 250]  # 0: middle
    assert cells[0, 2].tolist() == table[0].tolist()  # -bound: blue end
    assert cells[0, 3].tolist() == table[191].tolist()  # half way up
    np.testing.assert_array_equal(legend[0], table)
    assert {'-2', '0', '2', 'weight'} <= set(texts(document))


def test_contrast_svg_draws_every_row_and_writes_the_weights():
    weights = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.5]])
    document = contrast_svg(weights, ['a', 'b', 'c'], 'F test')
    (cells, _) = pictures(document)
    assert cells.shape == (2, 3, 3)
    shown = texts(document)
    assert 'F test' in shown
    # the six weights in the cells, then the legend's -1, 0, 1
    numbers = [t for t in shown if t not in {'a', 'b', 'c', 'F test', 'weight'}]
    assert ' '.join(numbers) == '1 -1 0 0 0 0.5 -1 0 1'
    assert contrast_svg([[0.0, 0.0, 0.0]], ['a', 'b', 'c']) != document


def test_contrast_svg_leaves_the_weights_out_past_30_columns():
    names = [f'c{i}' for i in range(31)]
    shown = texts(contrast_svg(np.ones((1, 31)), names))
    assert shown.count('1') == 1  # the legend's end only
    assert texts(contrast_svg(np.ones((1, 30)), names[:30])).count('1') == 31


def test_contrast_svg_is_deterministic():
    weights = np.array([[1 / 3, -1 / 3, 0.0]])
    names = ['a', 'b', 'c']
    assert contrast_svg(weights, names, 't') == contrast_svg(weights, names, 't')


def test_figures_never_load_matplotlib():
    code = (
        'import sys, pandas as pd\n'
        'from bidsglm.bids.figures import contrast_svg, design_svg\n'
        "design_svg(pd.DataFrame({'a': [1.0, 2.0]}))\n"
        "contrast_svg([[1.0]], ['a'])\n"
        "print('matplotlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == 'False'
