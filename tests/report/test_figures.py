import base64

import numpy as np
import pandas as pd
import pytest

from bidsglm.report.figures import (
    _oriented,
    _slice,
    background_volume,
    correlation_figure,
    figure_data_uri,
    stat_map_figure,
    svg_data_uri,
    volume_figure,
)

SHAPE = (7, 8, 9)
LAS = np.array([[-3.0, 0, 0, 9.0], [0, 3.0, 0, -12.0], [0, 0, 3.5, -14.0], [0, 0, 0, 1.0]])


def pixels(figure):
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3] / 255.0


def hot(rgb):
    """Pixels painted by the positive ramp (red to yellow: much more red than blue)."""
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
    painted = stat_map_figure(z, LAS, threshold=3.0, cut=(6.0, 0.0, 0.0))
    rgb = pixels(painted)
    width = rgb.shape[1] - 70  # the colour bar is on the right
    assert hot(rgb[:, :width]).sum() > 100
    blank = pixels(stat_map_figure(np.zeros(SHAPE), LAS, threshold=3.0))
    assert hot(blank[:, :width]).sum() == 0
    assert hot(blank[:, width:]).sum() > 0  # the colour bar still shows the scale


def test_stat_map_figure_two_sided_paints_negative_values_blue():
    z = np.zeros(SHAPE)
    z[1:3, 2:5, 3:6] = -6.0
    rgb = pixels(stat_map_figure(z, LAS, threshold=3.0, two_sided=True))[:, :-70]
    blue = (rgb[..., 2] > 0.5) & (rgb[..., 2] - rgb[..., 0] > 0.4)
    assert blue.sum() > 100
    assert hot(rgb).sum() == 0


def test_volume_figure_colour_bar_spans_the_given_range():
    figure = volume_figure(np.full(SHAPE, 0.5), LAS, vmin=0.0, vmax=1.0, label='r²')
    bar = figure.axes[1]
    assert [t.get_text() for t in bar.get_yticklabels()] == ['0', '0.5', '1']
    assert bar.get_title() == 'r²'


def test_correlation_figure_shows_column_correlations_and_blanks_constants(rng):
    design = pd.DataFrame(rng.standard_normal((30, 3)), columns=['a', 'b', 'c'])
    design['constant'] = 1.0
    shown = correlation_figure(design).axes[0].images[0].get_array()
    np.testing.assert_allclose(shown[:3, :3], np.corrcoef(design.to_numpy()[:, :3].T))
    assert np.isnan(np.ma.filled(shown, np.nan)[3]).all()


def test_figure_data_uri_encodes_png_and_svg():
    figure = volume_figure(np.ones(SHAPE), LAS)
    png = figure_data_uri(figure)
    assert base64.b64decode(png.removeprefix('data:image/png;base64,'))[:8] == b'\x89PNG\r\n\x1a\n'
    svg = figure_data_uri(figure, 'svg', tight=True)
    assert b'<svg' in base64.b64decode(svg.removeprefix('data:image/svg+xml;base64,'))
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


@pytest.mark.parametrize('count', [1, 6])
def test_stat_map_figure_has_one_image_and_a_colour_bar(count):
    figure = stat_map_figure(np.zeros(SHAPE), LAS, threshold=3.0, n_slices=count)
    assert len(figure.axes) == 2
    assert len(figure.axes[0].images) == 1
