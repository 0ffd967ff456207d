"""k-means: the quantiser nilearn uses for the coefficients of AR(p > 1) noise models.

nilearn 0.14.1 groups the voxels of an AR(p) fit with scikit-learn's ``KMeans``
(``bins`` clusters, ``n_init=10``, k-means++ starts, Lloyd iterations, the
``random_state`` given to the model). This is the same algorithm, written with numpy:

1. Starts by greedy k-means++: the first centre is a random point; each next one is
   the best of ``2 + int(log(k))`` candidates drawn with probability proportional to
   the squared distance to the nearest centre so far (the one that leaves the
   smallest total squared distance).
2. Lloyd iterations (assign every point to its nearest centre, move each centre to
   the mean of its points) until no point changes centre, or the centres move by a
   total squared distance of at most ``tol`` times the mean variance of the points,
   or ``max_iter`` iterations. Distances are bounded as in Hamerly's algorithm, so a
   point is measured against every centre only when its nearest centre may have
   changed: the result is Lloyd's, at a fraction of the cost.
3. Of ``n_init`` starts, the clustering of the smallest total squared distance
   (inertia) is kept.

The random numbers are numpy's, not scikit-learn's, so the clusters are not
scikit-learn's for the same ``random_state``; with ``random_state=None`` they are
the same at every call (seed 0), where scikit-learn draws new ones. A centre that
loses all its points stays where it is (scikit-learn moves it to a far point).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bidsglm.errors import InvalidParameterError

__all__ = ['KMeansResult', 'kmeans', 'random_generator', 'spread_random_state']

#: What ``random_state`` may be: a seed, numpy's old or new generator, or None.
RandomState = int | np.integer | np.random.Generator | np.random.RandomState | None


def random_generator(random_state: object) -> np.random.Generator:
    """Return a numpy ``Generator`` for a ``random_state`` as scikit-learn takes it.

    None gives a generator seeded with 0, so that results repeat; a
    ``RandomState`` gives a generator seeded from it (drawing one number from it).

    Examples
    --------
    >>> int(random_generator(3).integers(100)) == int(random_generator(3).integers(100))
    True
    """
    if random_state is None:
        return np.random.default_rng(0)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(2**31 - 1)))
    if isinstance(random_state, (np.random.Generator, int, np.integer)):
        return np.random.default_rng(random_state)
    msg = (
        "The 'random_state' must be an int, a numpy Generator or RandomState, or None. "
        f'Got {random_state!r} instead.'
    )
    raise InvalidParameterError(msg)


def spread_random_state(random_state: RandomState, count: int) -> list[RandomState]:
    """Give each of ``count`` fits its own ``random_state``, in order, reproducibly.

    A seed or None is given to every fit (as nilearn gives the model's
    ``random_state`` to each run's clustering); a generator gives each fit a seed
    drawn from it, one after the other, so that fits run in parallel get the seeds
    they would get one by one.

    Examples
    --------
    >>> spread_random_state(7, 2)
    [7, 7]
    >>> first, second = spread_random_state(np.random.default_rng(0), 2)
    >>> first != second
    True
    """
    if isinstance(random_state, np.random.Generator):
        return [int(random_state.integers(2**31 - 1)) for _ in range(count)]
    if isinstance(random_state, np.random.RandomState):
        return [int(random_state.randint(2**31 - 1)) for _ in range(count)]
    return [random_state] * count


@dataclass(frozen=True)
class KMeansResult:
    """A clustering of points.

    Parameters
    ----------
    centres : (k, p) ndarray
        The centre of each cluster (the mean of its points, up to the last move).
    members : (n,) ndarray of int
        The cluster of each point, an index into ``centres``.
    inertia : float
        The sum of squared distances of the points to their centres.
    """

    centres: np.ndarray
    members: np.ndarray
    inertia: float


def _squared_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Return the (n, k) squared Euclidean distances, never negative."""
    distances = points @ (-2.0 * centres.T)
    distances += np.einsum('np,np->n', points, points)[:, np.newaxis]
    distances += np.einsum('kp,kp->k', centres, centres)
    return np.maximum(distances, 0.0, out=distances)


def _plus_plus(points: np.ndarray, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """Choose starting centres by greedy k-means++ (see the module docstring)."""
    n_points = points.shape[0]
    trials = 2 + int(np.log(n_clusters))
    centres = np.empty((n_clusters, points.shape[1]))
    centres[0] = points[rng.integers(n_points)]
    closest = _squared_distances(points, centres[:1])[:, 0]
    for index in range(1, n_clusters):
        draws = rng.uniform(size=trials) * closest.sum()
        candidates = np.minimum(np.searchsorted(np.cumsum(closest), draws), n_points - 1)
        distances = _squared_distances(points, points[candidates])
        np.minimum(distances, closest[:, np.newaxis], out=distances)
        best = int(distances.sum(axis=0).argmin())
        closest = distances[:, best]
        centres[index] = points[candidates[best]]
    return centres


def _two_nearest(points: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return each point's nearest centre, its distance and the second-nearest distance."""
    distances = _squared_distances(points, centres)
    nearest = distances.argmin(axis=1)
    rows = np.arange(points.shape[0])
    first = distances[rows, nearest]
    distances[rows, nearest] = np.inf
    second = distances.min(axis=1) if centres.shape[0] > 1 else np.full(rows.size, np.inf)
    return nearest, np.sqrt(first), np.sqrt(second)


def _means(points: np.ndarray, members: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Return the mean of each cluster's points; an empty cluster keeps its centre."""
    counts = np.bincount(members, minlength=centres.shape[0])
    sums = np.stack(
        [np.bincount(members, column, minlength=centres.shape[0]) for column in points.T],
        axis=1,
    )
    filled = counts > 0
    moved = centres.copy()
    moved[filled] = sums[filled] / counts[filled, np.newaxis]
    return moved


def _half_gaps(centres: np.ndarray) -> np.ndarray:
    """Half the distance from each centre to its nearest other centre."""
    distances = _squared_distances(centres, centres)
    np.fill_diagonal(distances, np.inf)
    return 0.5 * np.sqrt(distances.min(axis=1))


@dataclass
class _Bounds:
    """Hamerly's bounds: nearest centre, distance to it (upper), to the next (lower)."""

    members: np.ndarray
    upper: np.ndarray
    lower: np.ndarray

    def shift(self, moves: np.ndarray) -> None:
        """Loosen the bounds after the centres moved by ``moves``."""
        self.upper += moves[self.members]
        self.lower -= moves.max()

    def reassign(self, points: np.ndarray, centres: np.ndarray) -> int:
        """Give each point its nearest centre, measuring only where it may have changed.

        Returns the number of points that changed centre.
        """
        bound = np.maximum(_half_gaps(centres)[self.members], self.lower)
        unsure = np.flatnonzero(self.upper > bound)
        offsets = points[unsure] - centres[self.members[unsure]]
        self.upper[unsure] = np.sqrt(np.einsum('np,np->n', offsets, offsets))
        unsure = unsure[self.upper[unsure] > bound[unsure]]
        if unsure.size == 0:
            return 0
        nearest, upper, lower = _two_nearest(points[unsure], centres)
        changed = int(np.count_nonzero(nearest != self.members[unsure]))
        self.members[unsure], self.upper[unsure], self.lower[unsure] = nearest, upper, lower
        return changed


def _lloyd(
    points: np.ndarray, centres: np.ndarray, tolerance: float, max_iter: int
) -> KMeansResult:
    """Run Lloyd's iterations from ``centres`` (see the module docstring)."""
    bounds = _Bounds(*_two_nearest(points, centres))
    for _ in range(max_iter):
        moved = _means(points, bounds.members, centres)
        moves = np.sqrt(np.einsum('kp,kp->k', moved - centres, moved - centres))
        centres = moved
        bounds.shift(moves)
        changed = bounds.reassign(points, centres)
        if changed == 0 or np.sum(moves**2) <= tolerance:
            break
    offsets = points - centres[bounds.members]
    inertia = float(np.einsum('np,np->', offsets, offsets))
    return KMeansResult(centres, bounds.members, inertia)


def kmeans(
    points: np.ndarray,
    n_clusters: int,
    *,
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
    random_state: RandomState = None,
) -> KMeansResult:
    """Cluster points by k-means (k-means++ starts, Lloyd iterations), best of ``n_init``.

    Parameters
    ----------
    points : (n, p) ndarray
        The points, one per row.
    n_clusters : int
        The number of clusters, at most ``n``.
    n_init : int, default=10
        How many starts; the clustering of the smallest inertia is kept.
    max_iter : int, default=300
        The most Lloyd iterations per start.
    tol : float, default=1e-4
        Iterations stop when the centres move by a total squared distance of at
        most ``tol`` times the mean variance of the points' coordinates.
    random_state : int, numpy Generator or RandomState, or None
        The seed of the starts; None is seed 0.

    Returns
    -------
    KMeansResult

    Raises
    ------
    InvalidParameterError
        If ``n_clusters`` is not between 1 and the number of points.

    Examples
    --------
    >>> points = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.0, 5.2]])
    >>> result = kmeans(points, 2)
    >>> sorted(result.centres.round(2).tolist())
    [[0.05, 0.0], [5.0, 5.1]]
    >>> bool(result.members[0] == result.members[1] != result.members[2])
    True
    """
    points = np.asarray(points, dtype=np.float64)
    if not 1 <= n_clusters <= points.shape[0]:
        msg = (
            f'k-means needs between 1 and {points.shape[0]} clusters (one per point at '
            f'most); {n_clusters} were asked.'
        )
        raise InvalidParameterError(msg)
    rng = random_generator(random_state)
    tolerance = tol * float(np.mean(np.var(points, axis=0)))
    best: KMeansResult | None = None
    for _ in range(n_init):
        result = _lloyd(points, _plus_plus(points, n_clusters, rng), tolerance, max_iter)
        if best is None or result.inertia < best.inertia:
            best = result
    assert best is not None
    return best
