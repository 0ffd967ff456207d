from xml.etree import ElementTree

import numpy as np
import pytest

from bidsglm._drawing.png import read_png
from bidsglm._drawing.svg import embedded_pngs
from bidsglm.report.mesh import read_mesh
from bidsglm.report.surface_figure import VIEWS, face_values, render_view, surface_figure

from .conftest import icosphere


@pytest.fixture
def sphere():
    return read_mesh(icosphere(2))


def patch_z(mesh, side=-1.0, value=5.0):
    """z of 5 (or ``value``) on the cap of the sphere beyond x = 30 mm on ``side``, 0 elsewhere."""
    cap = side * mesh.coordinates[:, 0] > 30
    return np.where(cap, value, 0.0), cap


def test_the_coloured_faces_are_those_of_the_patch(sphere):
    z, cap = patch_z(sphere)
    faces = face_values(sphere, z, 3.0, two_sided=True)
    assert (faces != 0).tolist() == cap[sphere.faces].all(axis=1).tolist()
    assert (faces[faces != 0] == 5.0).all()
    negative = face_values(sphere, -z, 3.0, two_sided=True)
    assert (negative[negative != 0] == -5.0).all()
    assert not face_values(sphere, -z, 3.0, two_sided=False).any()


def test_a_face_with_one_vertex_below_the_threshold_is_gray(sphere):
    z, cap = patch_z(sphere)
    edge_face = np.flatnonzero(cap[sphere.faces].all(axis=1))[0]
    z[sphere.faces[edge_face, 0]] = 2.0
    assert face_values(sphere, z, 3.0, two_sided=True)[edge_face] == 0.0


@pytest.mark.parametrize(('view', 'seen'), [('lateral', True), ('medial', False)])
def test_a_lateral_patch_of_the_left_hemisphere_is_seen_in_its_lateral_view_only(
    sphere, view, seen
):
    z, _cap = patch_z(sphere, side=-1.0)  # the left hemisphere's lateral side is -x
    patch_faces = face_values(sphere, z, 3.0, two_sided=True) != 0
    forward = dict(VIEWS['left'])[view]
    _, painted = render_view(sphere, np.ones((len(sphere.faces), 3)), forward, 2.0, (220, 220))
    shown = np.unique(painted[painted >= 0])
    assert patch_faces[shown].any() is np.bool_(seen)
    assert 0.6 < (painted >= 0).mean() < 0.7  # a disc of radius 100 px in 220 x 220: 0.65


def test_the_figure_has_the_lateral_and_medial_views_of_each_hemisphere(sphere):
    z, _cap = patch_z(sphere)
    figure = surface_figure([('left', sphere, z), ('right', sphere, -z)], 3.0, True)
    root = ElementTree.fromstring(figure)
    captions = [t.text for t in root.findall('{*}text')][:4]
    assert captions == [
        'left hemisphere, lateral',
        'left hemisphere, medial',
        'right hemisphere, lateral',
        'right hemisphere, medial',
    ]
    pixels = read_png(embedded_pngs(figure)[0])[..., :3].astype(int)
    height, width = pixels.shape[:2]
    red = pixels[..., 0] > pixels[..., 2] + 60  # red to yellow
    blue = pixels[..., 2] > pixels[..., 0] + 60  # blue to cyan
    top, bottom = slice(0, height // 2), slice(height // 2, height)
    left, right = slice(0, width // 2), slice(width // 2, width)
    # positive on the left hemisphere's lateral side, seen in its lateral view only
    assert red[top, left].sum() > 500
    assert red[top, right].sum() == 0
    # negative on the right hemisphere's medial side (-x), seen in its medial view only
    assert blue[bottom, right].sum() > 500
    assert blue[bottom, left].sum() == 0
    assert len(figure) < 150_000  # the picture has a fixed size: about 120 kB for 10k vertices
