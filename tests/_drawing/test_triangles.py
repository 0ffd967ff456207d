import numpy as np

from bidsglm._drawing.triangles import paint_triangles

SQUARE = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0], [8.0, 8.0]])
TWO_HALVES = np.array([[0, 1, 2], [1, 2, 3]])


def test_a_triangle_fills_the_pixels_it_covers_and_no_others():
    points = np.array([[1.0, 1.0], [7.0, 1.0], [1.0, 7.0]])  # x + y <= 8, x >= 1, y >= 1
    picture, painted = paint_triangles(
        points, np.zeros(3), np.array([[0, 1, 2]]), np.array([[1.0, 0.5, 0.0]]), (8, 8)
    )
    rows, columns = np.indices((8, 8))
    centre_inside = (rows >= 1) & (columns >= 1) & (rows + columns <= 7)
    touching = (rows >= 1) & (columns >= 1) & (rows + columns <= 8)
    assert (painted[centre_inside] == 0).all()  # no hole
    assert (painted[~touching] == -1).all()  # no pixel away from the triangle
    assert picture[painted == 0].tolist() == [[1.0, 0.5, 0.0]] * int((painted == 0).sum())
    assert (picture[painted < 0] == 0).all()


def test_the_nearer_of_two_overlapping_triangles_is_seen_whatever_their_order():
    points = np.vstack([SQUARE[:3], SQUARE[:3]])  # one triangle twice...
    depth = np.array([0.0, 0.0, 0.0, 5.0, 5.0, 5.0])  # ...the second copy farther
    for faces, nearer in (([[0, 1, 2], [3, 4, 5]], 0), ([[3, 4, 5], [0, 1, 2]], 1)):
        _, painted = paint_triangles(points, depth, np.array(faces), np.eye(3)[:2], (8, 8))
        assert set(painted[painted >= 0].tolist()) == {nearer}


def test_triangles_outside_the_picture_are_clipped():
    points = SQUARE * 2 - 4  # from -4 to 12 in an 8 x 8 picture
    _, painted = paint_triangles(points, np.zeros(4), TWO_HALVES, np.eye(3)[:2], (8, 8))
    assert (painted >= 0).all()
