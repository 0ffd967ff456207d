from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest

from bidsglm._drawing import svg
from bidsglm._drawing.colours import colourise, ramp_table
from bidsglm._drawing.png import read_png
from bidsglm.errors import InvalidParameterError
from bidsglm.report.figures import (
    _oriented,
    _slice,
    background_volume,
    correlation_figure,
    stat_map_figure,
    svg_data_uri,
    volume_figure,
)

SHAPE = (7, 8, 9)
LAS = np.array([[-3.0, 0, 0, 9.0], [0, 3.0, 0, -12.0], [0, 0, 3.5, -14.0], [0, 0, 0, 1.0]])
SVG = '{http://www.w3.org/2000/svg}'
TOP_OF_POSITIVE_RAMP = [255, 242, 76]  # _POSITIVE[-1] = (1.0, 0.95, 0.3)


def pictures(document):
    """The slice picture and the colour bar's strip, as 0-255 RGB arrays."""
    return [read_png(png) for png in svg.embedded_pngs(document)]


def texts(document):
    return [t.text for t in ElementTree.fromstring(document).iter(f'{SVG}text')]


def hot(rgb):
    """Pixels painted by the positive ramp (red to yellow: much more red than blue)."""
    rgb = rgb / 255.0
    return (rgb[..., 0] > 0.5) & (rgb[..., 0] - rgb[..., 2] > 0.4)


def test_slice_shows_left_on_the_left_and_anterior_up():
    x_mm = np.broadcast_to(9.0 - 3.0 * np.arange(7.0)[:, None, None], SHAPE)  # LAS: x = 9 - 3i
    y_mm = np.broadcast_to(3.0 * np.arange(8.0)[None, :, None] - 12.0, SHAPE)
    (x_ras, y_ras), grid = _oriented([x_mm, y_mm], LAS)
    x_slice = _slice(x_ras, grid, 'z', 4, 3.0)
    y_slice = _slice(y_ras, grid, 'z', 4, 3.0)
    assert x_slice.shape == (8, 7)
    assert (np.diff(x_slice, axis=1) > 0).all()  # x (mm) grows to the right
    assert (np.diff(y_slice, axis=0) < 0).all()  # y (mm) shrinks downwards
    assert np.diag(grid.affine)[:3].tolist() == [3.0, 3.0, 3.5]


def test_slice_resamples_to_square_pixels():
    volume = np.arange(2 * 3 * 4.0).reshape(2, 3, 4)
    (ras,), grid = _oriented([volume], np.diag([1.0, 2.0, 4.0, 1.0]))
    sagittal = _slice(ras, grid, 'x', 0, 1.0)
    assert sagittal.shape == (16, 6)  # z: 4 voxels of 4 mm, y: 3 voxels of 2 mm
    np.testing.assert_array_equal(sagittal[:4, 0], volume[0, 0, 3])


def test_stat_map_figure_paints_only_suprathreshold_voxels():
    z = np.zeros(SHAPE)
    z[1:3, 2:5, 3:6] = 6.0
    z[5, 6, 7] = 2.9  # below the threshold: never painted
    slices, bar = pictures(stat_map_figure(z, LAS, threshold=3.0, cut=(6.0, 0.0, 0.0)))
    assert hot(slices).sum() > 100
    colours = slices.reshape(-1, 3)
    # the blob is the peak: painted in the top colour of the positive ramp
    painted = colours[hot(colours)]
    assert (painted == TOP_OF_POSITIVE_RAMP).all(axis=1).all()
    # only the blob: a map holding nothing above the threshold paints nothing
    below = np.where(z > 3.0, 0.0, z)
    slices, bar = pictures(stat_map_figure(below, LAS, threshold=3.0))
    assert hot(slices).sum() == 0
    assert (slices == [76, 76, 76]).all(axis=-1).sum() > 100  # the mask in gray (0.3 x 255)
    assert hot(bar).sum() > 0  # the colour bar still shows the scale
    assert bar[0, 0].tolist() == TOP_OF_POSITIVE_RAMP  # the top of the bar: the peak colour


def test_stat_map_figure_two_sided_paints_negative_values_blue():
    z = np.zeros(SHAPE)
    z[1:3, 2:5, 3:6] = -6.0
    slices, _ = pictures(stat_map_figure(z, LAS, threshold=3.0, two_sided=True))
    blue = (slices[..., 2] > 128) & (slices[..., 2].astype(int) - slices[..., 0] > 100)
    assert blue.sum() > 100
    assert hot(slices).sum() == 0


def test_stat_map_figure_shows_the_picture_at_one_pixel_per_screen_pixel():
    document = stat_map_figure(np.zeros(SHAPE), LAS, threshold=3.0)
    root = ElementTree.fromstring(document)
    slices_image = next(root.iter(f'{SVG}image'))
    slices, _ = pictures(document)
    assert float(slices_image.get('width')) == slices.shape[1]
    assert float(slices_image.get('height')) == slices.shape[0]
    assert float(root.get('width')) > slices.shape[1]  # room for the colour bar
    assert texts(document)[:9] == ['x = 0', 'P', 'A', 'y = 0', 'L', 'R', 'z = 0', 'L', 'R']
    assert stat_map_figure(np.zeros(SHAPE), LAS, threshold=3.0) == document


@pytest.mark.parametrize('count', [1, 6])
def test_stat_map_figure_has_one_picture_and_a_colour_bar(count):
    document = stat_map_figure(np.zeros(SHAPE), LAS, threshold=3.0, axial=count)
    assert len(svg.embedded_pngs(document)) == 2
    assert sum(t.startswith('z = ') for t in texts(document)) == 1 + count


def test_volume_figure_colour_bar_spans_the_given_range():
    document = volume_figure(np.full(SHAPE, 0.5), LAS, vmin=0.0, vmax=1.0, label='r²')
    _, bar = pictures(document)
    np.testing.assert_array_equal(bar[:, 0], ramp_table('sequential')[::-1])
    assert texts(document)[-4:] == ['0', '0.5', '1', 'r²']


@pytest.mark.parametrize('cmap', ['heat', 'sequential', 'gray'])
def test_volume_figure_colours_voxels_on_the_named_ramp(cmap):
    values = np.full(SHAPE, 0.5)
    mask = np.zeros(SHAPE, bool)
    mask[1:6, 1:7, 1:8] = True
    slices, _ = pictures(volume_figure(values, LAS, mask=mask, cmap=cmap, vmin=0.0, vmax=1.0))
    colours = {tuple(c) for c in slices.reshape(-1, 3).tolist()}
    assert colours == {(0, 0, 0), tuple(ramp_table(cmap)[128].tolist())}  # outside: black


def test_volume_figure_refuses_an_unknown_ramp():
    with pytest.raises(
        InvalidParameterError,
        match=r"'cmap' parameter of volume_figure must be one of 'diverging', 'gray', "
        r"'heat', 'sequential'\. Got 'viridis' instead\.",
    ):
        volume_figure(np.ones(SHAPE), LAS, cmap='viridis')


def test_correlation_figure_shows_column_correlations_and_blanks_constants(rng):
    design = pd.DataFrame(rng.standard_normal((30, 3)), columns=['a', 'b', 'c<&"'])
    design['constant'] = 1.0
    document = correlation_figure(design)
    square, bar = pictures(document)
    assert square.shape == (4, 4, 3)
    expected = colourise(np.corrcoef(design.to_numpy()[:, :3].T), 'diverging', -1.0, 1.0)
    np.testing.assert_array_equal(square[:3, :3], expected)
    assert (square[np.arange(3), np.arange(3)] == ramp_table('diverging')[255]).all()
    assert (square[3] == [200, 200, 200]).all()  # constant: blank, in neutral gray
    assert (square[:, 3] == [200, 200, 200]).all()
    np.testing.assert_array_equal(bar[:, 0], ramp_table('diverging')[::-1])
    shown = texts(document)
    assert all(shown.count(name) == 2 for name in design.columns)  # above and on the left
    assert {'-1', '0', '1', 'correlation'} <= set(shown)


def test_svg_data_uri_wraps_a_figure():
    assert svg_data_uri(b'<svg/>') == 'data:image/svg+xml;base64,PHN2Zy8+'


def test_background_volume_resamples_onto_the_map_grid():
    image = np.arange(4 * 4 * 4.0).reshape(4, 4, 4)
    same = background_volume(image, np.eye(4), np.eye(4), (4, 4, 4))
    assert same is not None
    np.testing.assert_array_equal(same, image)
    coarse = np.diag([2.0, 2.0, 2.0, 1.0])  # every other voxel of the image
    np.testing.assert_allclose(
        background_volume(image, np.eye(4), coarse, (2, 2, 2)), image[::2, ::2, ::2]
    )


def test_stat_map_figure_axial_slices_at_given_z():
    document = stat_map_figure(np.zeros(SHAPE), LAS, threshold=3.0, axial=[0.0, 7.1, -100.0])
    # nearest slices (3.5 mm apart, from z = -14), the last one clipped to the volume
    axial = [text for text in texts(document) if text.startswith('z = ')][1:]
    assert axial == ['z = -14', 'z = 0', 'z = 7']


def label_positions(document):
    """Each text of a figure with its x, y and anchor."""
    return [
        (t.text, float(t.get('x')), float(t.get('y')), t.get('text-anchor', 'start'))
        for t in ElementTree.fromstring(document).iter(f'{SVG}text')
    ]


@pytest.mark.parametrize(
    'figure',
    [
        lambda: stat_map_figure(np.zeros(SHAPE), LAS, threshold=3.0, axial=3),
        lambda: volume_figure(np.ones(SHAPE), LAS, n_slices=3),
    ],
)
def test_every_slice_names_the_directions_at_its_edges(figure):
    document = figure()
    labels = label_positions(document)
    slices, _ = pictures(document)
    width = slices.shape[1]
    lefts = [label for label in labels if label[0] in {'L', 'P'}]
    rights = [label for label in labels if label[0] in {'R', 'A'}]
    n_slices = sum(text.startswith(('x =', 'y =', 'z =')) for text, *_ in labels)
    assert len(lefts) == len(rights) == n_slices >= 3
    for (left, x_left, y_left, _), (right, x_right, y_right, anchor) in zip(
        lefts, rights, strict=True
    ):
        assert (left, right) in {('L', 'R'), ('P', 'A')}
        assert x_left < x_right <= width  # each pair on one slice, right one anchored at its end
        assert y_left == y_right
        assert anchor == 'end'
