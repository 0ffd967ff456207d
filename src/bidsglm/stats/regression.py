"""Voxel-wise least squares with ordinary (OLS) or AR(1) prewhitened noise.

The recipe is nilearn 0.14.1's, so that the numbers agree:

1. ``beta = pinv(X) Y`` with scipy's pseudo-inverse; the error variance
   ``sigma2 = RSS / (n - p)`` with ``p`` the number of columns, while the degrees of
   freedom for tests are ``n - rank(X)``.
2. AR(1): the lag-one Yule-Walker coefficient of each voxel's OLS residuals (after
   removing the global mean of all residuals), truncated toward zero to a multiple of
   ``1 / bins``. Voxels that share a coefficient form a group; each group is refitted
   once by OLS on data and design whitened with ``w[0] = x[0]``,
   ``w[t] = x[t] - rho x[t-1]``.

Where we differ on purpose: the residuals we keep are the *whitened* residuals
``W Y - W X beta``. Their sum of squares is exactly ``sigma2 * (n - p)``, and they are
what the noise model says should be white. nilearn keeps ``Y - W X beta``, a mix of
raw data and whitened design (nilearn issue #2964); under OLS the two are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from bidsglm.errors import InvalidParameterError, ShapeMismatchError

__all__ = ['NOISE_MODELS', 'GLMFit', 'fit_glm', 'scale_signal', 'whiten_ar1', 'yule_walker_ar1']


@dataclass(frozen=True)
class GLMFit:
    """The voxel-wise fit of one design to one data matrix.

    Voxels are fitted in groups that share a noise model (one group for OLS, one
    per quantised AR coefficient for AR(1)).

    Parameters
    ----------
    beta : (p, n_voxels) ndarray
        The parameter estimates.
    dispersion : (n_voxels,) ndarray
        The error variance ``RSS / (n - p)`` (in whitened units for AR(1)).
    labels : (n_voxels,) ndarray of int
        The noise group of each voxel, an index into ``rho`` and ``cov``.
    rho : (n_groups,) ndarray
        The AR(1) coefficient of each group (0 for OLS).
    cov : (n_groups, p, p) ndarray
        The unscaled covariance ``pinv(WX) pinv(WX)'`` of each group.
    dof : float
        The error degrees of freedom ``n - rank(X)``.
    residuals : (n, n_voxels) ndarray
        The (whitened) residuals, float32.
    r_square : (n_voxels,) ndarray
        ``var(W X beta) / var(W Y)``.
    """

    beta: np.ndarray
    dispersion: np.ndarray
    labels: np.ndarray
    rho: np.ndarray
    cov: np.ndarray
    dof: float
    residuals: np.ndarray
    r_square: np.ndarray

    @property
    def n_scans(self) -> int:
        """The number of scans (rows of the design)."""
        return int(self.residuals.shape[0])


def design_rank(design: np.ndarray) -> int:
    """Return the rank of a design with nilearn's tolerance (``sum|X| * eps``).

    Examples
    --------
    >>> design_rank(np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]))
    1
    """
    tolerance = np.abs(design).sum() * np.finfo(np.float64).eps
    return int(np.linalg.matrix_rank(design, tolerance))


def whiten_ar1(values: np.ndarray, rho: float) -> np.ndarray:
    """Whiten along the first axis with an AR(1) filter, first row unchanged.

    Examples
    --------
    >>> whiten_ar1(np.array([1.0, 2.0, 4.0]), 0.5)
    array([1. , 1.5, 3. ])
    """
    values = np.asarray(values, dtype=np.float64)
    whitened = values.copy()
    whitened[1:] -= rho * values[:-1]
    return whitened


def yule_walker_ar1(residuals: np.ndarray) -> np.ndarray:
    """Return the lag-one Yule-Walker coefficient of each column.

    The global mean of the whole array is removed first (as nilearn does), then
    ``rho = (sum y[t] y[t+1] / (n - 1)) / (sum y[t]^2 / n)``.

    Parameters
    ----------
    residuals : (n, n_voxels) ndarray

    Returns
    -------
    rho : (n_voxels,) ndarray

    Examples
    --------
    >>> yule_walker_ar1(np.array([[1.0], [-1.0], [1.0], [-1.0]])).round(3)
    array([-1.])
    """
    centred = residuals - residuals.mean()
    n_scans = centred.shape[0]
    lag0 = np.einsum('tv,tv->v', centred, centred) / n_scans
    lag1 = np.einsum('tv,tv->v', centred[1:], centred[:-1]) / (n_scans - 1)
    return lag1 / lag0


def _quantize(rho: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Truncate coefficients toward zero to multiples of ``1/bins``; group them."""
    steps = np.trunc(rho * bins).astype(np.int64)
    unique_steps, labels = np.unique(steps, return_inverse=True)
    return unique_steps * 1.0 / bins, labels.ravel()


def _least_squares(
    data: np.ndarray, design: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit one design to many columns: beta, residuals, dispersion, covariance."""
    pseudo_inverse = linalg.pinv(design)
    beta = pseudo_inverse @ data
    residuals = data - design @ beta
    n_scans, n_columns = design.shape
    dispersion = np.einsum('tv,tv->v', residuals, residuals) / (n_scans - n_columns)
    return beta, residuals, dispersion, pseudo_inverse @ pseudo_inverse.T


def _r_square(fitted: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Return ``var(fitted) / var(data)`` per column (population variances)."""
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.var(fitted, axis=0) / np.var(data, axis=0)


def _fit_ols(data: np.ndarray, design: np.ndarray, bins: int) -> GLMFit:
    """Fit by ordinary least squares (``bins`` is unused)."""
    beta, residuals, dispersion, cov = _least_squares(data, design)
    return GLMFit(
        beta=beta,
        dispersion=dispersion,
        labels=np.zeros(data.shape[1], dtype=np.intp),
        rho=np.zeros(1),
        cov=cov[np.newaxis],
        dof=float(design.shape[0] - design_rank(design)),
        residuals=residuals.astype(np.float32),
        r_square=_r_square(data - residuals, data),
    )


def _fit_ar1(data: np.ndarray, design: np.ndarray, bins: int) -> GLMFit:
    """Fit OLS, estimate AR(1) per voxel, refit each coefficient group whitened."""
    _, ols_residuals, _, _ = _least_squares(data, design)
    rho, labels = _quantize(yule_walker_ar1(ols_residuals), bins)
    del ols_residuals
    n_voxels = data.shape[1]
    beta = np.empty((design.shape[1], n_voxels))
    dispersion = np.empty(n_voxels)
    residuals = np.empty(data.shape, dtype=np.float32)
    r_square = np.empty(n_voxels)
    covs = np.empty((rho.size, design.shape[1], design.shape[1]))
    for group, group_rho in enumerate(rho):
        voxels = np.flatnonzero(labels == group)
        white_data = whiten_ar1(data[:, voxels], group_rho)
        white_design = whiten_ar1(design, group_rho)
        group_beta, group_residuals, group_dispersion, covs[group] = _least_squares(
            white_data, white_design
        )
        beta[:, voxels] = group_beta
        dispersion[voxels] = group_dispersion
        residuals[:, voxels] = group_residuals
        r_square[voxels] = _r_square(white_data - group_residuals, white_data)
    return GLMFit(
        beta=beta,
        dispersion=dispersion,
        labels=labels,
        rho=rho,
        cov=covs,
        dof=float(design.shape[0] - design_rank(design)),
        residuals=residuals,
        r_square=r_square,
    )


#: The noise models, by the names ``FirstLevelModel(noise_model=...)`` accepts.
NOISE_MODELS: dict[str, Callable[[np.ndarray, np.ndarray, int], GLMFit]] = {
    'ols': _fit_ols,
    'ar1': _fit_ar1,
}


def fit_glm(
    data: np.ndarray, design: np.ndarray, noise_model: str = 'ar1', bins: int = 100
) -> GLMFit:
    """Fit a design to every column of a data matrix.

    Parameters
    ----------
    data : (n, n_voxels) ndarray
        The data, one column per voxel (float32 or float64).
    design : (n, p) ndarray
        The design matrix.
    noise_model : {'ar1', 'ols'}, default='ar1'
        The temporal noise model.
    bins : int, default=100
        AR(1) coefficients are truncated to multiples of ``1 / bins``.

    Returns
    -------
    GLMFit

    Raises
    ------
    InvalidParameterError
        For an unknown noise model.
    ShapeMismatchError
        If data and design have different numbers of rows.

    Examples
    --------
    >>> design = np.column_stack([np.arange(6.0), np.ones(6)])
    >>> data = 2.0 * design[:, :1] + 1.0
    >>> fit = fit_glm(data, design, noise_model='ols')
    >>> fit.beta.round(6).ravel().tolist(), fit.dof
    ([2.0, 1.0], 4.0)
    """
    if noise_model not in NOISE_MODELS:
        msg = (
            f"The 'noise_model' parameter must be one of {sorted(NOISE_MODELS)}. "
            f'Got {noise_model!r} instead.'
        )
        raise InvalidParameterError(msg)
    if data.shape[0] != design.shape[0]:
        msg = (
            f'The design has {design.shape[0]} rows but the data have '
            f'{data.shape[0]} scans; give one design row per scan.'
        )
        raise ShapeMismatchError(msg)
    return NOISE_MODELS[noise_model](data, np.asarray(design, dtype=np.float64), bins)


def scale_signal(data: np.ndarray, scaling: int | tuple[int, int] | bool) -> np.ndarray:
    """Scale data to percent signal change around zero, as nilearn does.

    Parameters
    ----------
    data : (n, n_voxels) ndarray
        The data; float32 stays float32.
    scaling : {0, 1, (0, 1), False}
        The axis whose mean is the baseline: 0 divides each voxel by its mean over
        time, 1 each scan by its mean over voxels, (0, 1) everything by the grand
        mean; ``False`` leaves the data as they are.

    Returns
    -------
    (n, n_voxels) ndarray
        ``100 * (data / mean - 1)``, the mean clipped below at 1.

    Examples
    --------
    >>> scale_signal(np.array([[1.0, 4.0], [3.0, 4.0]]), 0)
    array([[-50.,   0.],
           [ 50.,   0.]])
    """
    if scaling is False:
        return data
    axis = tuple(scaling) if isinstance(scaling, (tuple, list)) else int(scaling)
    mean = np.maximum(data.mean(axis=axis, keepdims=True), 1)
    return 100 * (data / mean - 1)
