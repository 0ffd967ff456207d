"""k-means grouping of AR(p > 1) coefficients, with scikit-learn's ``KMeans``.

nilearn 0.14.1 quantises the AR(p) coefficients of its voxels with scikit-learn's
``KMeans(n_clusters=min(bins, n_voxels), n_init=10, random_state=random_state)``.
bidsglm calls the same estimator with the same arguments, so that for a given seed
the groups, and so the maps, are nilearn's. scikit-learn is imported only when an
AR(p > 1) model is fitted.

Two choices differ from nilearn, on purpose:

- ``random_state=None`` is seed 0, so that a refit gives the same numbers (nilearn,
  through scikit-learn, draws new clusters at every fit);
- a numpy ``Generator`` or ``RandomState`` gives each run a seed drawn from it, in run
  order (:func:`spread_random_state`), so that runs fitted in parallel get the seeds
  they would get one by one.
"""

from __future__ import annotations

import numpy as np

from bidsglm.errors import InvalidParameterError

__all__ = ['KMEANS_STARTS', 'RandomState', 'kmeans', 'spread_random_state']

#: What ``random_state`` may be: a seed, numpy's old or new generator, or None.
RandomState = int | np.integer | np.random.Generator | np.random.RandomState | None

#: k-means starts per fit, as nilearn asks scikit-learn for.
KMEANS_STARTS = 10


def spread_random_state(random_state: RandomState, count: int) -> list[int]:
    """Give each of ``count`` fits its own integer seed, in order, reproducibly.

    A seed is given to every fit (as nilearn gives the model's ``random_state`` to
    each run's clustering), None is seed 0, and a generator gives each fit a seed
    drawn from it, one after the other.

    Raises
    ------
    InvalidParameterError
        For anything else, naming the accepted forms.

    Examples
    --------
    >>> spread_random_state(7, 2)
    [7, 7]
    >>> spread_random_state(None, 1)
    [0]
    >>> first, second = spread_random_state(np.random.default_rng(0), 2)
    >>> first != second
    True
    """
    if isinstance(random_state, np.random.Generator):
        return [int(random_state.integers(2**31 - 1)) for _ in range(count)]
    if isinstance(random_state, np.random.RandomState):
        return [int(random_state.randint(2**31 - 1)) for _ in range(count)]
    if random_state is None:
        return [0] * count
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return [int(random_state)] * count
    msg = (
        "The 'random_state' must be an int, a numpy Generator or RandomState, or None. "
        f'Got {random_state!r} instead.'
    )
    raise InvalidParameterError(msg)


def kmeans(
    points: np.ndarray, n_clusters: int, random_state: RandomState = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster points as nilearn clusters AR coefficients: scikit-learn's ``KMeans``.

    Parameters
    ----------
    points : (n_points, p) ndarray
        The points, one per row.
    n_clusters : int
        How many clusters, between 1 and ``n_points``.
    random_state : int, numpy Generator or RandomState, or None
        The seed of the k-means++ starts (None: seed 0).

    Returns
    -------
    centres : (n_clusters, p) ndarray
        The centre of each cluster.
    members : (n_points,) ndarray of int
        The cluster of each point.

    Raises
    ------
    InvalidParameterError
        For a number of clusters outside 1 to ``n_points``.

    Examples
    --------
    >>> points = np.array([[0.0], [0.1], [5.0], [5.2]])
    >>> centres, members = kmeans(points, 2, random_state=0)
    >>> sorted(np.round(centres.ravel(), 2).tolist()), bool(members[0] == members[1])
    ([0.05, 5.1], True)
    """
    if not 1 <= n_clusters <= len(points):
        msg = (
            f'k-means needs between 1 and {len(points)} clusters for {len(points)} '
            f'points; got {n_clusters}.'
        )
        raise InvalidParameterError(msg)
    from sklearn.cluster import KMeans  # noqa: PLC0415 - heavy: only for AR(p > 1)

    (seed,) = spread_random_state(random_state, 1)
    fitted = KMeans(n_clusters=n_clusters, n_init=KMEANS_STARTS, random_state=seed).fit(points)
    return fitted.cluster_centers_, fitted.labels_
