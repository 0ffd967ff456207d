"""Triangles painted into a picture, far ones first (the painter's algorithm).

:func:`paint_triangles` fills each triangle of a projected mesh by sampling it on a
lattice of barycentric points no farther than half a pixel apart, so that every
pixel it covers gets a sample, and lets the nearest triangle win each pixel:
triangles are ranked from far to near, and a pixel keeps the colour of the last
triangle painted on it (the highest rank among its samples). Everything is done
on whole arrays, a group of triangles of one lattice size at a time.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ['colour_pixels', 'paint_triangles', 'visible_triangles']

#: The finest lattice used for one triangle (points per edge); larger triangles are
#: sampled more sparsely (a triangle this large is not expected in a figure).
_MOST_STEPS = 256


@cache
def _lattice(steps: int) -> np.ndarray:
    """Return the barycentric weights of a triangle's lattice of ``steps`` per edge."""
    weights = [
        (i / steps, j / steps, (steps - i - j) / steps)
        for i in range(steps + 1)
        for j in range(steps + 1 - i)
    ]
    return np.asarray(weights)


def _steps_of(corners: np.ndarray) -> np.ndarray:
    """Return each triangle's lattice steps: its longest edge in half-pixels, plus one."""
    edges = corners - np.roll(corners, 1, axis=1)
    longest = np.sqrt((edges**2).sum(axis=2)).max(axis=1)
    return np.minimum(np.ceil(2.0 * longest).astype(int) + 1, _MOST_STEPS)


def paint_triangles(
    points: np.ndarray,
    depth: np.ndarray,
    faces: np.ndarray,
    colours: np.ndarray,
    shape: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Paint triangles, far ones first, into a picture.

    Parameters
    ----------
    points : (n, 2) ndarray
        The projected vertices, in pixels: column (x) then row (y), from the top left.
    depth : (n,) ndarray
        Each vertex's distance from the viewer (larger is farther); a triangle's depth
        is the mean of its corners'.
    faces : (m, 3) ndarray of int
        The triangles, as vertex indices.
    colours : (m, 3) ndarray
        The colour of each triangle.
    shape : (int, int)
        The picture's height and width (pixels).

    Returns
    -------
    picture : (height, width, 3) ndarray
        The colours, 0 where no triangle is.
    painted : (height, width) ndarray of int
        The triangle seen at each pixel, -1 where none is.

    Examples
    --------
    Two triangles sharing the diagonal of a 4 x 4 picture: the nearer one (1)
    keeps the pixels of the diagonal.

    >>> points = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0], [4.0, 4.0]])
    >>> depth = np.array([1.0, 0.5, 0.5, 0.0])
    >>> faces = np.array([[0, 1, 2], [1, 2, 3]])
    >>> _, painted = paint_triangles(points, depth, faces, np.eye(3)[:2], (4, 4))
    >>> painted.tolist()
    [[0, 0, 0, 1], [0, 0, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1]]
    """
    painted = visible_triangles(points, depth, faces, shape)
    return colour_pixels(painted, colours), painted


def visible_triangles(
    points: np.ndarray, depth: np.ndarray, faces: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """Return the triangle seen at each pixel (-1 where none is), as :func:`paint_triangles`.

    It depends on the geometry alone: maps drawn on one view of one mesh share it.

    Examples
    --------
    >>> points = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    >>> visible_triangles(points, np.zeros(3), np.array([[0, 1, 2]]), (2, 2)).tolist()
    [[0, 0], [0, -1]]
    """
    height, width = shape
    corners = np.asarray(points, dtype=float)[faces]
    far_first = np.argsort(-np.asarray(depth, dtype=float)[faces].mean(axis=1), kind='stable')
    rank = np.empty(len(faces), dtype=np.int64)
    rank[far_first] = np.arange(len(faces))
    steps = _steps_of(corners)
    # The painting rank of the last triangle painted on each pixel: the largest rank
    # of the samples that fall on it (an unbuffered maximum, not a sort of them all).
    last = np.full(height * width, -1, dtype=np.int64)
    for step in np.unique(steps):
        group = np.flatnonzero(steps == step)
        weights = _lattice(int(step)).T
        column = np.floor(corners[group, :, 0] @ weights).astype(np.int64)
        row = np.floor(corners[group, :, 1] @ weights).astype(np.int64)
        inside = (column >= 0) & (column < width) & (row >= 0) & (row < height)
        ranks = np.broadcast_to(rank[group][:, None], inside.shape)
        np.maximum.at(last, (row * width + column)[inside], ranks[inside])
    painted = np.where(last >= 0, far_first[np.maximum(last, 0)], -1)
    return painted.reshape(height, width)


def colour_pixels(painted: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Colour each pixel as its triangle (``painted``, -1 for none: black).

    Examples
    --------
    >>> colour_pixels(np.array([[0, -1]]), np.array([[1.0, 0.5, 0.0]])).tolist()
    [[[1.0, 0.5, 0.0], [0.0, 0.0, 0.0]]]
    """
    height, width = painted.shape
    painted = painted.ravel()
    picture = np.zeros((height * width, 3), dtype=np.asarray(colours).dtype)
    seen = painted >= 0
    picture[seen] = np.asarray(colours)[painted[seen]]
    return picture.reshape(height, width, 3)
