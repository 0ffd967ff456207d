"""Autoregressive noise of order p: Yule-Walker estimates, whitening and voxel groups.

nilearn 0.14.1's recipe for ``noise_model='ar<p>'`` (``run_glm``), which this module
follows so that the numbers agree:

1. The OLS residuals of every voxel, minus the mean of *all* of them (one number for
   the whole run, not one per voxel).
2. Per voxel, the autocovariances ``r[k] = sum_t y[t] y[t+k] / ((n - k) n)`` for
   ``k = 0..p``, and the coefficients ``rho`` that solve the Yule-Walker equations
   ``toeplitz(r[0..p-1]) rho = r[1..p]``.
3. AR(1): ``rho`` truncated toward 0 to a multiple of ``1 / bins`` (see
   :mod:`bidsglm.stats.regression`). AR(p > 1): the coefficient vectors are clustered
   by scikit-learn's k-means into ``min(bins, n_voxels)`` clusters with nilearn's
   arguments (:mod:`bidsglm.stats.clustering`), and each voxel takes its cluster's
   centre.
4. Each centre is labelled by its coefficients rounded to 2 decimals and joined by
   ``'_'`` (``'0.35_-0.12'``). Voxels whose labels are equal form one group, whitened
   with the centre of the group's first voxel (in mask order): two clusters whose
   centres round alike are one group, as in nilearn.
5. Whitening, of data and design alike: ``w[t] = x[t] - sum_k rho[k] x[t - k - 1]``,
   each lag where it is available (the first row is unchanged, the second loses only
   the first lag, ...), then one OLS fit per group.

For one seed the groups are nilearn's, and so are the numbers (to rounding). A voxel
whose residuals are all equal (zero autocovariance) gets coefficients 0, where
nilearn's solve fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bidsglm.errors import InvalidParameterError
from bidsglm.stats.clustering import kmeans

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from bidsglm.stats.clustering import RandomState

__all__ = [
    'ar_label',
    'ar_order',
    'group_ar_coefficients',
    'whiten_ar',
    'yule_walker',
]


def ar_order(noise_model: str) -> int:
    """Return the AR order of a noise model's name: 0 for ``'ols'``, p for ``'ar<p>'``.

    The order is read as nilearn reads it, ``int(noise_model[2:])``, and must be at
    least 1.

    Raises
    ------
    InvalidParameterError
        For any other name, naming the accepted ones.

    Examples
    --------
    >>> ar_order('ols'), ar_order('ar1'), ar_order('ar3')
    (0, 1, 3)
    """
    if noise_model == 'ols':
        return 0
    order = 0
    if isinstance(noise_model, str) and noise_model.startswith('ar'):
        try:
            order = int(noise_model[2:])
        except ValueError:
            order = 0
    if order < 1:
        msg = (
            "The 'noise_model' parameter must be 'ols' or 'ar<p>' with an order p >= 1 "
            f"('ar1', 'ar2', 'ar3', ...). Got {noise_model!r} instead."
        )
        raise InvalidParameterError(msg)
    return order


def _autocovariances(centred: np.ndarray, order: int) -> np.ndarray:
    """Return ``r[k] = sum_t y[t] y[t+k] / ((n - k) n)``, ``(order + 1, n_voxels)``."""
    n_scans = centred.shape[0]
    lags = np.empty((order + 1, centred.shape[1]))
    lags[0] = np.einsum('tv,tv->v', centred, centred)
    for lag in range(1, order + 1):
        lags[lag] = np.einsum('tv,tv->v', centred[lag:], centred[:-lag])
    lags /= ((n_scans - np.arange(order + 1)) * n_scans)[:, np.newaxis]
    return lags


def _solve_yule_walker(lags: np.ndarray) -> np.ndarray:
    """Solve ``toeplitz(r[0..p-1]) rho = r[1..p]`` per voxel; 0 where ``r[0]`` is 0."""
    order = lags.shape[0] - 1
    index = np.abs(np.subtract.outer(np.arange(order), np.arange(order)))
    usable = np.isfinite(lags).all(axis=0) & (lags[0] > 0)
    coefficients = np.zeros((lags.shape[1], order))
    if usable.any():
        systems = lags[:, usable].T[:, index]  # (voxels, order, order)
        targets = lags[1:, usable].T[..., np.newaxis]
        coefficients[usable] = np.linalg.solve(systems, targets)[..., 0]
    return coefficients


def yule_walker(residuals: np.ndarray, order: int, mean: float | None = None) -> np.ndarray:
    """Return the Yule-Walker AR(``order``) coefficients of each column.

    Parameters
    ----------
    residuals : (n, n_voxels) ndarray
        The OLS residuals.
    order : int
        The AR order p >= 1.
    mean : float, optional
        The value removed from every residual first; by default the mean of the whole
        array (nilearn's choice; pass the mean of all voxels when ``residuals`` is a
        block of them).

    Returns
    -------
    (n_voxels, order) ndarray

    Examples
    --------
    >>> t = np.arange(400)
    >>> series = np.cos(2 * np.pi * t / 8)[:, np.newaxis]  # x[t] = sqrt(2) x[t-1] - x[t-2]
    >>> yule_walker(series, 2).round(2)
    array([[ 1.41, -1.  ]])
    """
    centred = residuals - (residuals.mean() if mean is None else mean)
    return _solve_yule_walker(_autocovariances(centred, order))


def whiten_ar(values: ArrayLike, coefficients: ArrayLike) -> np.ndarray:
    """Whiten along the first axis: ``w[t] = x[t] - sum_k rho[k] x[t - k - 1]``.

    Each lag is subtracted where it is available: the first row is unchanged, the
    second loses only the first lag, and so on (nilearn's ``ARModel.whiten``).

    Parameters
    ----------
    values : (n, ...) array-like
        The series (data or design), along the first axis.
    coefficients : float or (p,) array-like
        The AR coefficients, lag 1 first.

    Returns
    -------
    (n, ...) ndarray
        float64.

    Examples
    --------
    >>> whiten_ar(np.array([1.0, 2.0, 4.0, 8.0]), [0.5, 0.25])
    array([1.  , 1.5 , 2.75, 5.5 ])
    """
    source = np.asarray(values, dtype=np.float64)
    white = source.copy()
    for lag, coefficient in enumerate(np.atleast_1d(coefficients), start=1):
        white[lag:] -= coefficient * source[:-lag]
    return white


def ar_label(coefficients: ArrayLike) -> str:
    """Return nilearn's label of AR(p > 1) coefficients: rounded to 2 decimals, '_'-joined.

    Examples
    --------
    >>> ar_label([0.349, -0.1216, 0.004]), ar_label([-0.001, 0.5])
    ('0.35_-0.12_0.0', '-0.0_0.5')
    """
    return '_'.join(str(value) for value in np.round(np.asarray(coefficients, np.float64), 2))


def group_ar_coefficients(
    coefficients: np.ndarray, bins: int, random_state: RandomState = None
) -> tuple[np.ndarray, np.ndarray]:
    """Group voxels by their AR(p > 1) coefficients, as nilearn does (steps 3 and 4).

    Parameters
    ----------
    coefficients : (n_voxels, p) ndarray
        The Yule-Walker coefficients of each voxel.
    bins : int
        The most clusters; with at most ``bins`` voxels each is its own cluster.
    random_state : int, numpy Generator or RandomState, or None
        The seed of the k-means starts (None: seed 0).

    Returns
    -------
    groups : (n_voxels,) ndarray of int
        The group of each voxel; groups are numbered in the sorted order of their
        labels (:func:`ar_label`).
    table : (n_groups, p) ndarray
        The coefficients each group is whitened with.

    Examples
    --------
    >>> coefficients = np.array([[0.301, 0.1], [0.5, -0.2], [0.298, 0.1]])
    >>> groups, table = group_ar_coefficients(coefficients, bins=100)
    >>> groups.tolist(), table.tolist()  # 0.301 and 0.298 both round to 0.3
    ([0, 1, 0], [[0.301, 0.1], [0.5, -0.2]])
    """
    n_clusters = min(bins, coefficients.shape[0])
    centres, members = kmeans(coefficients, n_clusters, random_state=random_state)
    cluster_labels = np.array([ar_label(centre) for centre in centres])
    _, first_voxel, groups = np.unique(
        cluster_labels[members], return_index=True, return_inverse=True
    )
    return groups.ravel(), centres[members[first_voxel]]
