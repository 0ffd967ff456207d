"""Voxel-wise least squares with ordinary (OLS) or AR(p) prewhitened noise.

The recipe is nilearn 0.14.1's, so that the numbers agree:

1. ``beta = pinv(X) Y`` with scipy's pseudo-inverse; the error variance
   ``sigma2 = RSS / (n - p)`` with ``p`` the number of columns, while the degrees of
   freedom for tests are ``n - rank(X)``.
2. AR(1): the lag-one Yule-Walker coefficient of each voxel's OLS residuals (after
   removing the global mean of all residuals), truncated toward zero to a multiple of
   ``1 / bins``. Voxels that share a coefficient form a group; each group is refitted
   once by OLS on data and design whitened with ``w[0] = x[0]``,
   ``w[t] = x[t] - rho x[t-1]``.
3. AR(p > 1): the Yule-Walker coefficients of order p, grouped by k-means as
   :mod:`bidsglm.stats.autoregression` describes, then the same whitened refit per
   group (lags subtracted where available). This takes two passes over the data
   (the groups need every voxel's coefficients); OLS and AR(1) take one.

The fit runs a block of about 500 voxels at a time, in float64 whatever the data's
type: each block's OLS residuals, AR coefficients and whitened refit are computed
while the block is in the processor's cache, and no copy of the whole data is made.
OLS and AR(1) refit the OLS residuals rather than whitened data, so that a block is
never sorted and each coefficient group costs one ``p x p`` product (see
:func:`_refit_residuals`). AR(p > 1) sorts a block's voxels by group and fits each
group with two products that also give the means ``r_square`` needs (see
:func:`_fit_sorted`). Products are cut into column slices that OpenBLAS runs on one
thread (:data:`SINGLE_THREAD_PRODUCT`).

Where we differ on purpose: the residuals we keep are the *whitened* residuals
``W Y - W X beta``. Their sum of squares is exactly ``sigma2 * (n - p)``, and they are
what the noise model says should be white. nilearn keeps ``Y - W X beta``, a mix of
raw data and whitened design (nilearn issue #2964); under OLS the two are the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from bidsglm.errors import InvalidParameterError, ShapeMismatchError
from bidsglm.stats.autoregression import (
    ar_order,
    group_ar_coefficients,
    whiten_ar,
    yule_walker,
)
from bidsglm.stats.clustering import RandomState

__all__ = [
    'NOISE_MODELS',
    'GLMFit',
    'check_noise_model',
    'fit_glm',
    'fit_ols',
    'scale_signal',
    'whiten_ar1',
    'yule_walker_ar1',
]


@dataclass(frozen=True)
class GLMFit:
    """The voxel-wise fit of one design to one data matrix.

    Voxels are fitted in groups that share a noise model (one group for OLS, one
    per quantised AR coefficient for AR(1), one per k-means label for AR(p > 1)).

    Parameters
    ----------
    beta : (p, n_voxels) ndarray
        The parameter estimates.
    dispersion : (n_voxels,) ndarray
        The error variance ``RSS / (n - p)`` (in whitened units for AR(1)).
    labels : (n_voxels,) ndarray of int
        The noise group of each voxel, an index into ``rho`` and ``cov``.
    rho : (n_groups,) or (n_groups, p) ndarray
        The AR coefficients each group is whitened with: one per group for OLS (0)
        and AR(1), ``p`` per group (lag 1 first) for AR(p > 1).
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
    return _lag_one_ratio(residuals - residuals.mean())


def _lag_one_ratio(centred: np.ndarray) -> np.ndarray:
    """Return ``(sum y[t] y[t+1] / (n - 1)) / (sum y[t]^2 / n)`` per column."""
    n_scans = centred.shape[0]
    lag0 = np.einsum('tv,tv->v', centred, centred) / n_scans
    lag1 = np.einsum('tv,tv->v', centred[1:], centred[:-1]) / (n_scans - 1)
    return lag1 / lag0


#: Bytes of float64 data fitted together (about 500 voxels): a block stays in the
#: processor's cache, so each value is read from memory once, whatever the noise
#: model. An AR(1) fit of a 97x115x97x300 run (230k voxels) took 1.0 s with 1 MiB
#: blocks, 1.45 s with 2 MiB and 1.5 s with 8 MiB.
BLOCK_BYTES = 2**20


@dataclass(frozen=True)
class _WhitenedDesign:
    """The design whitened with one group's AR coefficients, and its pseudo-inverse.

    Two stacked forms serve the block fit, each in one product per group:
    ``solver`` is the pseudo-inverse with a last row of ``1 / n`` (the betas and the
    mean of the whitened data) and ``centred`` the design less its column means with
    those means as a last row (the centred fitted values and the mean fitted value).
    """

    design: np.ndarray
    pseudo_inverse: np.ndarray
    solver: np.ndarray
    centred: np.ndarray

    @classmethod
    def of(cls, design: np.ndarray, rho: float | np.ndarray) -> _WhitenedDesign:
        white = whiten_ar(design, rho)
        pseudo_inverse = linalg.pinv(white)
        means = white.mean(axis=0)
        return cls(
            design=white,
            pseudo_inverse=pseudo_inverse,
            solver=np.vstack([pseudo_inverse, np.full(white.shape[0], 1 / white.shape[0])]),
            centred=np.vstack([white - means, means]),
        )

    @property
    def cov(self) -> np.ndarray:
        """The unscaled covariance ``pinv(WX) pinv(WX)'``."""
        return self.pseudo_inverse @ self.pseudo_inverse.T


@dataclass(frozen=True)
class _Outputs:
    """The voxel-wise results, filled block by block."""

    beta: np.ndarray
    dispersion: np.ndarray
    residuals: np.ndarray
    r_square: np.ndarray
    steps: np.ndarray

    @classmethod
    def empty(cls, n_scans: int, n_columns: int, n_voxels: int) -> _Outputs:
        return cls(
            beta=np.empty((n_columns, n_voxels)),
            dispersion=np.empty(n_voxels),
            residuals=np.empty((n_scans, n_voxels), dtype=np.float32),
            r_square=np.empty(n_voxels),
            steps=np.empty(n_voxels, dtype=np.int64),
        )


#: OpenBLAS computes a product on one thread below m * n * k = 4 * 65536. Above, its
#: threads spin while they wait, and when the cores are busy (several subjects fitted
#: at once, or anything else running) a 64x64x36x240 AR(1) fit took 0.45 to 0.9 s
#: instead of 0.17 s, and two subjects fitted side by side 6 s instead of 2 s. Each
#: product is therefore computed in column slices below that size. Limiting OpenBLAS
#: to one thread around the fit (threadpoolctl, 0.2 ms) instead saved the slicing, but
#: with OpenBLAS 0.3.31 a limit set on one thread did not hold for another: two runs
#: fitted side by side on threads then spun (1.3 s of CPU for 0.7 s of fitting).
SINGLE_THREAD_PRODUCT = 4 * 65536


def _product(left: np.ndarray, right: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Return ``left @ right`` (written to ``out`` if given), in one-thread column slices.

    Examples
    --------
    >>> out = np.empty((1, 3))
    >>> _product(np.array([[2.0]]), np.array([[1.0, 2.0, 3.0]]), out=out).tolist()
    [[2.0, 4.0, 6.0]]
    """
    width = max(1, SINGLE_THREAD_PRODUCT // (left.shape[0] * left.shape[1]))
    if right.shape[1] <= width:  # most groups of a block: one call
        return np.matmul(left, right, out=out)
    if out is None:
        out = np.empty((left.shape[0], right.shape[1]), dtype=np.result_type(left, right))
    for start in range(0, right.shape[1], width):
        columns = slice(start, start + width)
        np.matmul(left, right[:, columns], out=out[:, columns])
    return out


#: Gives each voxel of a block (n, b) its noise group, an int: for AR(1) its
#: coefficient in steps of ``1 / bins``. Called with the block and its columns.
GroupEstimator = Callable[[np.ndarray, slice], np.ndarray]
#: Gives the AR coefficients of groups: (k,) for OLS and AR(1), (k, p) for AR(p).
Coefficients = Callable[[np.ndarray], np.ndarray]


def _fit_blocks(
    data: np.ndarray,
    design: np.ndarray,
    estimate_groups: GroupEstimator,
    coefficients: Coefficients,
) -> GLMFit:
    """Fit every voxel, a block at a time: find its noise group, whiten, refit.

    Each block is copied once to float64; voxels of one group share one whitened
    design (computed once for the whole run).
    """
    n_scans, n_voxels = data.shape
    outputs = _Outputs.empty(n_scans, design.shape[1], n_voxels)
    designs: dict[int, _WhitenedDesign] = {}
    block_size = max(64, BLOCK_BYTES // (8 * n_scans))
    for start in range(0, n_voxels, block_size):
        columns = slice(start, min(start + block_size, n_voxels))
        values = np.array(data[:, columns], dtype=np.float64)
        steps = estimate_groups(values, columns)
        _fit_block(values, steps, columns, design, coefficients, designs, outputs)
    unique_steps, labels = np.unique(outputs.steps, return_inverse=True)
    return GLMFit(
        beta=outputs.beta,
        dispersion=outputs.dispersion,
        labels=labels.ravel(),
        rho=coefficients(unique_steps),
        cov=np.stack([designs[int(step)].cov for step in unique_steps]),
        dof=float(n_scans - design_rank(design)),
        residuals=outputs.residuals,
        r_square=outputs.r_square,
    )


def _fit_block(
    values: np.ndarray,
    steps: np.ndarray,
    columns: slice,
    design: np.ndarray,
    coefficients: Coefficients,
    designs: dict[int, _WhitenedDesign],
    outputs: _Outputs,
) -> None:
    """Whiten one block, fit each run of voxels sharing a group, store the results.

    The block's voxels are sorted by group so that each group is a contiguous slice,
    fitted with two products (:func:`_fit_sorted`), and put back in order.
    """
    order = np.argsort(steps, kind='stable')
    sorted_steps = steps[order]
    white = _whiten_columns(values.take(order, axis=1), coefficients(sorted_steps))
    models = []
    for step in np.unique(sorted_steps):
        if int(step) not in designs:
            designs[int(step)] = _WhitenedDesign.of(design, coefficients(step))
        models.append(designs[int(step)])
    fit = _fit_sorted(white, sorted_steps, models)
    unsort = np.empty_like(order)  # back to the block's order: contiguous stores
    unsort[order] = np.arange(order.size)
    outputs.beta[:, columns] = fit.beta.take(unsort, axis=1)
    outputs.residuals[:, columns] = fit.residuals.take(unsort, axis=1)
    outputs.dispersion[columns] = fit.dispersion[unsort]
    outputs.r_square[columns] = fit.r_square[unsort]
    outputs.steps[columns] = steps


def _fit_sorted(white: np.ndarray, steps: np.ndarray, models: list[_WhitenedDesign]) -> _Outputs:
    """Fit whitened voxels sorted by step, one model per distinct step in order.

    Each group takes two products: ``solver @ white`` gives its betas and the mean of
    its whitened data, ``centred @ beta`` its centred fitted values and their mean.
    So ``var(fitted)`` needs no centring pass, and the residuals are
    ``white - centred fit - fitted mean`` (float64, in ``residuals``).
    """
    n_scans, n_voxels = white.shape
    n_columns = models[0].design.shape[1]
    solved = np.empty((n_columns + 1, n_voxels))
    fitted = np.empty((n_scans + 1, n_voxels))
    bounds = [0, *(np.flatnonzero(np.diff(steps)) + 1), n_voxels]
    for model, (start, stop) in zip(models, itertools.pairwise(bounds), strict=True):
        _product(model.solver, white[:, start:stop], out=solved[:, start:stop])
        _product(model.centred, solved[:-1, start:stop], out=fitted[:, start:stop])
    centred_fit, fitted_mean = fitted[:-1], fitted[-1]
    fitted_variance = np.einsum('tv,tv->v', centred_fit, centred_fit) / n_scans
    residuals = np.subtract(white, centred_fit, out=centred_fit)
    residuals -= fitted_mean
    white -= solved[-1]  # centred in place: the data are no longer needed
    with np.errstate(divide='ignore', invalid='ignore'):
        r_square = fitted_variance / (np.einsum('tv,tv->v', white, white) / n_scans)
    dispersion = np.einsum('tv,tv->v', residuals, residuals) / (n_scans - n_columns)
    return _Outputs(solved[:-1], dispersion, residuals, r_square, steps)


def _whiten_columns(values: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Whiten each column with its own AR coefficients, first row unchanged.

    ``rho`` is (b,) for AR(1) (one coefficient per column) or (b, p) for AR(p).
    """
    if rho.ndim == 2:
        white = values.copy()
        for lag in range(1, rho.shape[1] + 1):
            white[lag:] -= rho[:, lag - 1] * values[:-lag]
        return white
    white = np.empty_like(values)
    white[0] = values[0]
    np.multiply(values[:-1], rho, out=white[1:])
    np.subtract(values[1:], white[1:], out=white[1:])
    return white


def _fit_ols(data: np.ndarray, design: np.ndarray, bins: int) -> GLMFit:
    """Fit by ordinary least squares: every voxel in the group of coefficient 0."""
    return _refit_residuals(data, design, bins, autoregressive=False)


def _residual_mean(data: np.ndarray, design: np.ndarray, pseudo_inverse: np.ndarray) -> float:
    """Return the mean of all OLS residuals without computing them.

    The residuals are ``(I - H) Y`` with ``H = X pinv(X)``, so their sum is
    ``((I - H)' 1) . (Y 1)``: one pass over the data for its row sums.
    """
    ones = np.ones(design.shape[0])
    weights = ones - pseudo_inverse.T @ (design.T @ ones)
    return float(weights @ data.sum(axis=1, dtype=np.float64)) / data.size


def _ols_residuals(
    values: np.ndarray, design: np.ndarray, pseudo_inverse: np.ndarray
) -> np.ndarray:
    """Return ``values - design @ (pseudo_inverse @ values)``, in one new array.

    Examples
    --------
    >>> design = np.ones((3, 1))
    >>> _ols_residuals(np.array([[1.0], [2.0], [6.0]]), design, np.linalg.pinv(design)).ravel()
    array([-2., -1.,  3.])
    """
    fitted = _product(design, _product(pseudo_inverse, values))
    return np.subtract(values, fitted, out=fitted)


def _fit_ar1(data: np.ndarray, design: np.ndarray, bins: int) -> GLMFit:
    """Fit OLS, estimate AR(1) per voxel, refit each coefficient group whitened.

    All of it happens block by block: the OLS residuals of a block give its
    Yule-Walker coefficients (after removing the mean of *all* residuals, as
    nilearn does), which are truncated to steps of ``1 / bins`` before the refit.
    The refit starts from the OLS fit (see :func:`_refit_residuals`).
    """
    return _refit_residuals(data, design, bins, autoregressive=True)


@dataclass(frozen=True)
class _Ar1Design:
    """The design whitened with one AR(1) coefficient: what a refit of its voxels needs.

    ``cov`` is ``pinv(WX) pinv(WX)'``, which is also ``pinv(X'W'WX)``, so it turns
    ``X'W'W r`` into the refit's change of the betas. ``spread`` stacks the Gram
    matrix of the centred whitened design on its column means: with the betas, the
    variance and the mean of the whitened fitted values.
    """

    cov: np.ndarray
    spread: np.ndarray

    @classmethod
    def of(cls, design: np.ndarray, rho: float) -> _Ar1Design:
        white = whiten_ar1(design, rho)
        pseudo_inverse = linalg.pinv(white)
        means = white.mean(axis=0)
        centred = white - means
        return cls(pseudo_inverse @ pseudo_inverse.T, np.vstack([centred.T @ centred, means]))


@dataclass(frozen=True)
class _RunModel:
    """What every block of one run shares: the OLS solution, and the sums a refit takes.

    ``sum_rows`` stacks ``X'``, ``Z'``, where ``Z[t] = X[t - 1] + X[t + 1]`` (rows beyond
    the ends count as 0), and a row of ones: one product gives ``X' r``, ``Z' r`` and
    ``1' r`` of the OLS residuals ``r``. ``with_ones`` is the design with a column of
    ones.
    """

    design: np.ndarray
    pseudo_inverse: np.ndarray
    sum_rows: np.ndarray
    with_ones: np.ndarray
    residual_mean: float
    bins: int
    autoregressive: bool
    models: dict[int, _Ar1Design]

    @classmethod
    def of(
        cls, data: np.ndarray, design: np.ndarray, bins: int, *, autoregressive: bool
    ) -> _RunModel:
        pseudo_inverse = linalg.pinv(design)
        neighbours = np.zeros_like(design)
        neighbours[1:] += design[:-1]
        neighbours[:-1] += design[1:]
        ones = np.ones((design.shape[0], 1))
        return cls(
            design=design,
            pseudo_inverse=pseudo_inverse,
            sum_rows=np.vstack([design.T, neighbours.T, ones.T]),
            with_ones=np.hstack([design, ones]),
            residual_mean=_residual_mean(data, design, pseudo_inverse) if autoregressive else 0.0,
            bins=bins,
            autoregressive=autoregressive,
            models={},
        )

    def model(self, step: int) -> _Ar1Design:
        """Return the whitened design of coefficient ``step / bins``, made once."""
        if step not in self.models:
            self.models[step] = _Ar1Design.of(self.design, step * 1.0 / self.bins)
        return self.models[step]


@dataclass(frozen=True)
class _RefitOutputs:
    """The voxel-wise results of a refit, filled block by block.

    ``squares`` and ``sums`` are the sum of squares and the sum over time of each
    voxel's whitened residuals, from which the dispersion and ``r_square`` follow.
    """

    beta: np.ndarray
    squares: np.ndarray
    sums: np.ndarray
    residuals: np.ndarray
    steps: np.ndarray

    @classmethod
    def empty(cls, n_scans: int, n_columns: int, n_voxels: int) -> _RefitOutputs:
        return cls(
            beta=np.empty((n_columns, n_voxels)),
            squares=np.empty(n_voxels),
            sums=np.empty(n_voxels),
            residuals=np.empty((n_scans, n_voxels), dtype=np.float32),
            steps=np.zeros(n_voxels, dtype=np.int64),
        )


def _refit_residuals(
    data: np.ndarray, design: np.ndarray, bins: int, *, autoregressive: bool
) -> GLMFit:
    """Fit OLS and, for AR(1), refit each voxel whitened, a block at a time.

    The whitened refit need not whiten the data: with ``Y = X b + r`` (the OLS fit),
    ``pinv(WX) W Y = b + pinv(X'W'WX) X'W'W r``, and
    ``X'W'W r = (1 + rho^2) X' r - rho Z' r - rho^2 X[-1] r[-1]``. So a block takes
    one product for the sums on the right and, per coefficient group, a small
    ``p x p`` one for the change of its betas; the whitened residuals are
    ``W (r - X change)``, stored as they come, without sorting the block.

    ``X' r`` would be 0 in exact arithmetic. Computed, it carries the rounding of ``b``
    (large on data in scanner units, where ``b`` is about 1e4 and ``r`` about 1), and
    keeping it makes the change undo that rounding: one step of iterative refinement,
    which is all that OLS (``rho = 0``) takes. Without it, the residuals' sum, and
    with it ``r_square``, would be off by 1e-7.
    """
    n_scans, n_voxels = data.shape
    run = _RunModel.of(data, design, bins, autoregressive=autoregressive)
    outputs = _RefitOutputs.empty(n_scans, design.shape[1], n_voxels)
    block_size = max(64, BLOCK_BYTES // (8 * n_scans))
    for start in range(0, n_voxels, block_size):
        columns = slice(start, min(start + block_size, n_voxels))
        _refit_block(np.array(data[:, columns], dtype=np.float64), columns, run, outputs)
    unique_steps, labels = np.unique(outputs.steps, return_inverse=True)
    models = [run.model(int(step)) for step in unique_steps]
    return GLMFit(
        beta=outputs.beta,
        dispersion=outputs.squares / (n_scans - design.shape[1]),
        labels=labels.ravel(),
        rho=unique_steps * 1.0 / bins,
        cov=np.stack([model.cov for model in models]),
        dof=float(n_scans - design_rank(design)),
        residuals=outputs.residuals,
        r_square=_r_square(outputs, labels.ravel(), models, n_scans),
    )


def _refit_block(
    values: np.ndarray, columns: slice, run: _RunModel, outputs: _RefitOutputs
) -> None:
    """Fit one block by OLS, refit it whitened (a refinement for OLS), store the results."""
    ols_beta = _product(run.pseudo_inverse, values)
    residuals = np.subtract(values, _product(run.design, ols_beta), out=values)
    sums = _product(run.sum_rows, residuals)  # X' r, Z' r and 1' r, before centring
    last = residuals[-1].copy()
    steps = np.zeros(residuals.shape[1], dtype=np.int64)
    if run.autoregressive:
        residuals -= run.residual_mean
        steps = np.trunc(_lag_one_ratio(residuals) * run.bins).astype(np.int64)
    rho = steps * 1.0 / run.bins
    n_columns = run.design.shape[1]
    moments = (1 + rho * rho) * sums[:n_columns] - rho * sums[n_columns:-1]
    moments -= (rho * rho * last) * run.design[-1][:, np.newaxis]
    change = _by_group(moments, steps, lambda step: run.model(step).cov, n_columns)
    shift = np.vstack([change, np.full((1, change.shape[1]), -run.residual_mean)])
    unwhitened = np.subtract(residuals, _product(run.with_ones, shift), out=residuals)
    # the sum over time of W u, from the sum and the last value of u = r - X change
    total = sums[-1] - run.design.sum(axis=0) @ change
    outputs.sums[columns] = (1 - rho) * total + rho * (last - run.design[-1] @ change)
    outputs.beta[:, columns] = ols_beta + change
    outputs.steps[columns] = steps
    _store_residuals(_whiten_columns(unwhitened, rho), columns, outputs)


def _store_residuals(white: np.ndarray, columns: slice, outputs: _RefitOutputs) -> None:
    """Store a block's whitened residuals (float32) and their sum of squares."""
    outputs.squares[columns] = np.einsum('tv,tv->v', white, white)
    outputs.residuals[:, columns] = white


def _by_group(
    values: np.ndarray, steps: np.ndarray, matrix: Callable[[int], np.ndarray], rows: int
) -> np.ndarray:
    """Return ``matrix(step) @ values[:, j]`` for every column j of group ``steps[j]``.

    ``rows`` is the number of rows of every ``matrix(step)``. The columns are sorted
    by group, so that each group takes one product, and put back in order.

    Examples
    --------
    >>> scaled = _by_group(np.ones((1, 3)), np.array([2, 1, 2]), lambda s: np.eye(1) * s, 1)
    >>> scaled.tolist()
    [[2.0, 1.0, 2.0]]
    """
    order = np.argsort(steps, kind='stable')
    sorted_steps = steps[order]
    ordered = values.take(order, axis=1)
    products = np.empty((rows, values.shape[1]))
    bounds = [0, *(np.flatnonzero(np.diff(sorted_steps)) + 1), sorted_steps.size]
    for start, stop in itertools.pairwise(bounds):
        left = matrix(int(sorted_steps[start]))
        _product(left, ordered[:, start:stop], out=products[:, start:stop])
    result = np.empty_like(products)
    result[:, order] = products
    return result


def _r_square(
    outputs: _RefitOutputs, labels: np.ndarray, models: list[_Ar1Design], n_scans: int
) -> np.ndarray:
    """Return ``var(WX beta) / var(W Y)`` of every voxel, without its fitted values.

    With ``S`` the Gram matrix of the centred whitened design, ``var(WX beta)`` is
    ``beta' S beta / n``. ``W Y`` is the fitted values plus the residuals ``e``, which
    are orthogonal to them, so ``var(W Y) = var(WX beta) + var(e) - 2 mean(WX beta)
    mean(e)``.
    """
    spread = _by_group(
        outputs.beta, labels, lambda label: models[label].spread, len(outputs.beta) + 1
    )
    fitted_variance = np.einsum('pv,pv->v', spread[:-1], outputs.beta) / n_scans
    residual_mean = outputs.sums / n_scans
    residual_variance = outputs.squares / n_scans - residual_mean**2
    total = fitted_variance + residual_variance - 2 * spread[-1] * residual_mean
    with np.errstate(divide='ignore', invalid='ignore'):
        return fitted_variance / total


def _ar_coefficients(data: np.ndarray, design: np.ndarray, order: int) -> np.ndarray:
    """Return the Yule-Walker AR(``order``) coefficients of every voxel's OLS residuals.

    Block by block, after removing the mean of *all* residuals (as nilearn does).
    """
    pseudo_inverse = linalg.pinv(design)
    mean = _residual_mean(data, design, pseudo_inverse)
    n_scans, n_voxels = data.shape
    coefficients = np.empty((n_voxels, order))
    block_size = max(64, BLOCK_BYTES // (8 * n_scans))
    for start in range(0, n_voxels, block_size):
        columns = slice(start, min(start + block_size, n_voxels))
        values = np.array(data[:, columns], dtype=np.float64)
        residuals = _ols_residuals(values, design, pseudo_inverse)
        coefficients[columns] = yule_walker(residuals, order, mean=mean)
    return coefficients


def _fit_ar(
    data: np.ndarray, design: np.ndarray, order: int, bins: int, random_state: RandomState
) -> GLMFit:
    """Fit AR(p > 1): coefficients of every voxel, k-means groups, whitened refits."""
    if order >= data.shape[0]:
        msg = (
            f'An AR({order}) model needs more scans than its order; the data have '
            f'{data.shape[0]}. Choose a lower order, e.g. noise_model="ar1".'
        )
        raise InvalidParameterError(msg)
    coefficients = _ar_coefficients(data, design, order)
    groups, table = group_ar_coefficients(coefficients, bins, random_state)
    return _fit_blocks(data, design, lambda _values, columns: groups[columns], table.__getitem__)


#: The noise models fitted in one pass, by name; ``'ar<p>'`` with p > 1 takes two
#: (see :func:`check_noise_model`).
NOISE_MODELS: dict[str, Callable[[np.ndarray, np.ndarray, int], GLMFit]] = {
    'ols': _fit_ols,
    'ar1': _fit_ar1,
}


def check_noise_model(noise_model: str) -> int:
    """Return the AR order of a noise model (0 for ``'ols'``), or raise.

    ``'ols'``, ``'ar1'``, ``'ar2'``, ... are accepted (the order is read as nilearn
    reads it: ``int(noise_model[2:])``, at least 1).

    Raises
    ------
    InvalidParameterError
        For any other name, listing the accepted ones.

    Examples
    --------
    >>> check_noise_model('ar2')
    2
    """
    return ar_order(noise_model)


def fit_glm(
    data: np.ndarray,
    design: np.ndarray,
    noise_model: str = 'ar1',
    bins: int = 100,
    random_state: RandomState = None,
) -> GLMFit:
    """Fit a design to every column of a data matrix.

    Parameters
    ----------
    data : (n, n_voxels) ndarray
        The data, one column per voxel (float32 or float64).
    design : (n, p) ndarray
        The design matrix.
    noise_model : str, default='ar1'
        The temporal noise model: ``'ols'``, or ``'ar<p>'`` for AR(p) prewhitening
        (``'ar1'``, ``'ar2'``, ...).
    bins : int, default=100
        AR(1) coefficients are truncated to multiples of ``1 / bins``; AR(p > 1)
        coefficients are clustered into at most ``bins`` groups.
    random_state : int, numpy Generator or RandomState, or None
        The seed of the k-means clustering of AR(p > 1) coefficients (None: seed 0).

    Returns
    -------
    GLMFit

    Raises
    ------
    InvalidParameterError
        For an unknown noise model, or an AR order not below the number of scans.
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
    order = check_noise_model(noise_model)
    if data.shape[0] != design.shape[0]:
        msg = (
            f'The design has {design.shape[0]} rows but the data have '
            f'{data.shape[0]} scans; give one design row per scan.'
        )
        raise ShapeMismatchError(msg)
    design = np.asarray(design, dtype=np.float64)
    if order > 1:
        return _fit_ar(data, design, order, bins, random_state)
    return NOISE_MODELS['ols' if order == 0 else 'ar1'](data, design, bins)


def fit_ols(data: np.ndarray, design: np.ndarray, *, keep_residuals: bool = True) -> GLMFit:
    """Fit a design to every column by ordinary least squares, all columns at once.

    The numbers of ``fit_glm(data, design, 'ols')`` (to rounding), in a few whole
    passes over the data instead of blocks of a few hundred voxels: the way for a
    matrix of few rows and many columns, such as a group's maps, which its caller
    cuts into blocks of the size it can hold.

    Parameters
    ----------
    data : (n, n_voxels) ndarray
        The data, one column per voxel (float32 or float64).
    design : (n, p) ndarray
        The design matrix.
    keep_residuals : bool, default=True
        False returns no residuals (an ``(n, 0)`` array), for a caller that
        computes them later from the data it keeps: it saves their copy in float32.

    Returns
    -------
    GLMFit
        One noise group (coefficient 0); the residuals in float32.

    Raises
    ------
    ShapeMismatchError
        If data and design have different numbers of rows.

    Examples
    --------
    >>> design = np.column_stack([np.arange(6.0), np.ones(6)])
    >>> data = np.column_stack([2.0 * design[:, 0] + 1.0, design[:, 0] ** 2])
    >>> ours, theirs = fit_ols(data, design), fit_glm(data, design, noise_model='ols')
    >>> bool(np.allclose(ours.beta, theirs.beta) and np.allclose(ours.r_square, theirs.r_square))
    True
    """
    if data.shape[0] != design.shape[0]:
        msg = (
            f'The design has {design.shape[0]} rows but the data have '
            f'{data.shape[0]} scans; give one design row per scan.'
        )
        raise ShapeMismatchError(msg)
    design = np.asarray(design, dtype=np.float64)
    model = _WhitenedDesign.of(design, 0.0)
    values = np.array(data, dtype=np.float64)
    outputs = _fit_sorted(values, np.zeros(values.shape[1], dtype=np.int64), [model])
    kept = outputs.residuals if keep_residuals else outputs.residuals[:, :0]
    return GLMFit(
        beta=outputs.beta,
        dispersion=outputs.dispersion,
        labels=np.zeros(values.shape[1], dtype=np.intp),
        rho=np.zeros(1),
        cov=model.cov[np.newaxis],
        dof=float(design.shape[0] - design_rank(design)),
        residuals=kept.astype(np.float32),
        r_square=outputs.r_square,
    )


def scale_signal(
    data: np.ndarray, scaling: int | tuple[int, int] | bool, *, copy: bool = True
) -> np.ndarray:
    """Scale data to percent signal change around zero, as nilearn does.

    Parameters
    ----------
    data : (n, n_voxels) ndarray
        The data; float32 stays float32.
    scaling : {0, 1, (0, 1), False}
        The axis whose mean is the baseline: 0 divides each voxel by its mean over
        time, 1 each scan by its mean over voxels, (0, 1) everything by the grand
        mean; ``False`` leaves the data as they are.
    copy : bool, default=True
        False scales floating data in place (no second array of the data's size).

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
    in_place = not copy and data.dtype.kind == 'f'
    scaled = np.divide(data, mean, out=data if in_place else None)
    scaled -= 1
    scaled *= 100
    return scaled
