"""nilearn's ``labels_`` and ``results_``, read from a fit: voxel groups and their results.

nilearn fits the voxels of a run in groups that share a noise model (one group for
OLS, one per quantised AR coefficient), and keeps, per run, ``labels_`` (the group of
each voxel) and ``results_`` (a dict from group label to a ``RegressionResults``).
bidsglm's fit (:class:`bidsglm.stats.GLMFit`) holds the same groups; this module
presents them with nilearn's labels and attribute names, computed on demand, so that
fitting costs nothing more.

Labels are nilearn's: under OLS, ``0.0`` (a float) for every voxel; under AR(1), the
text of the coefficient, e.g. ``'0.07'``; under AR(p), the coefficients rounded to 2
decimals joined by ``'_'``. Groups are listed in the sorted order of their labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from bidsglm.errors import ContrastError
from bidsglm.stats.autoregression import ar_label

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike, DTypeLike

    from bidsglm.stats import GLMFit

__all__ = [
    'FContrastResults',
    'RegressionResults',
    'TContrastResults',
    'run_labels',
    'run_results',
]

Label = str | float


@dataclass(frozen=True)
class TContrastResults:
    """A t contrast of one group's parameters (nilearn's ``Tcontrast`` result)."""

    effect: ArrayLike
    sd: ArrayLike
    t: ArrayLike
    df_den: float

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self.t, dtype=dtype)


@dataclass(frozen=True)
class FContrastResults:
    """An F contrast of one group's parameters (nilearn's ``Fcontrast`` result)."""

    effect: np.ndarray
    covariance: np.ndarray
    F: ArrayLike
    df_num: int
    df_den: float

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self.F, dtype=dtype)


def _positive_reciprocal(values: ArrayLike) -> np.ndarray:
    """``1 / values`` where positive, 0 elsewhere."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide='ignore'):
        return np.where(values <= 0, 0.0, 1.0 / values)


def _ar_filter(values: np.ndarray, rho: ArrayLike) -> np.ndarray:
    """Whiten along the first axis: ``w[t] = x[t] - sum_k rho[k] x[t - k - 1]``.

    Rows before a lag is available keep what they have (the first row is unchanged).
    """
    source = np.asarray(values, dtype=np.float64)
    white = source.copy()
    for lag, coefficient in enumerate(np.atleast_1d(rho), start=1):
        white[lag:] -= coefficient * source[:-lag]
    return white


def _ar_unfilter(white: np.ndarray, rho: ArrayLike) -> np.ndarray:
    """Undo :func:`_ar_filter`: ``x[t] = w[t] + sum_k rho[k] x[t - k - 1]``, row by row.

    (scipy.signal.lfilter would do it, but importing scipy.signal costs about a second
    and 40 MB, for every process that imports bidsglm.)
    """
    coefficients = np.atleast_1d(np.asarray(rho, dtype=np.float64))
    values = np.array(white, dtype=np.float64)
    for row in range(1, values.shape[0]):
        for lag, coefficient in enumerate(coefficients[:row], start=1):
            values[row] += coefficient * values[row - lag]
    return values


class RegressionResults:
    """The fit of one group of voxels of one run, with nilearn's attribute names.

    Built by :func:`run_results`; every array is computed when first read, from the
    model's fit, and kept. Columns are the group's voxels, in mask order.

    Parameters
    ----------
    fit : bidsglm.stats.GLMFit
        The fit of the run.
    design : (n, p) ndarray
        The run's design matrix.
    group : int
        The group: an index into ``fit.rho`` and ``fit.cov``.

    Attributes
    ----------
    theta : (p, k) ndarray
        The parameter estimates.
    cov : (p, p) ndarray
        The unscaled covariance of ``theta`` (``pinv(WX) pinv(WX)'``).
    dispersion : (k,) ndarray
        The error variance ``SSE / (n - p)``.
    df_total, df_model, df_residuals : int or float
        ``n``, the rank of the design, and ``n`` minus that rank.
    nuisance : None
        As in nilearn (no nuisance parameter).
    whitened_design : (n, p) ndarray
        The design whitened with the group's AR coefficients (unchanged under OLS).
    predicted : (n, k) ndarray
        ``whitened_design @ theta``.
    r_square : (k,) ndarray
        ``var(predicted) / var(whitened_Y)``.
    SSE, MSE : (k,) ndarray
        The (whitened) error sum of squares, and ``SSE / df_residuals``.
    whitened_residuals, whitened_Y, Y : (n, k) ndarray
        The whitened residuals, ``whitened_residuals + predicted``, and the data (in
        percent signal change) from which the latter was whitened.
    residuals, normalized_residuals : (n, k) ndarray
        nilearn's residuals ``Y - predicted`` (raw data minus whitened prediction,
        so not white under AR(1)), and the same divided by ``sqrt(dispersion)``.

    Notes
    -----
    bidsglm keeps the whitened residuals in float32 and not the data, so
    ``whitened_residuals``, ``whitened_Y``, ``Y``, ``residuals`` and
    ``normalized_residuals`` are rebuilt from them: they agree with nilearn's to
    float32 precision (about 1e-7 of the residuals' size, up to ``1 / (1 - rho)``
    times that under AR(1)). Each costs a float64 ``(n, k)`` array, kept once read:
    reading ``residuals`` for every group of a 64x64x36x240 run takes about 1 s and
    100 MB (the results of ``model.results_`` are built anew at each access, so
    dropping them frees it). The other attributes are float64 and nilearn's to
    rounding. nilearn's ``model``, ``logL``, ``conf_int`` and ``t`` are not provided.

    Examples
    --------
    >>> from bidsglm.stats import fit_glm
    >>> design = np.column_stack([np.arange(6.0), np.ones(6)])
    >>> data = 2.0 * design[:, :1] + 1.0 + np.array([[0.1], [-0.1], [0.0], [0.1], [-0.1], [0.0]])
    >>> results = run_results(fit_glm(data, design, 'ols'), design, 'ols')
    >>> list(results)
    [0.0]
    >>> result = results[0.0]
    >>> result.theta.round(4).ravel().tolist(), result.df_residuals
    ([1.9886, 1.0286], 4)
    >>> result.SSE.round(4).tolist(), result.residuals.shape
    ([0.0377], (6, 1))
    """

    nuisance = None

    def __init__(self, fit: GLMFit, design: np.ndarray, group: int) -> None:
        self._fit = fit
        self._design = np.asarray(design, dtype=np.float64)
        self._group = group

    @cached_property
    def _voxels(self) -> np.ndarray:
        return np.flatnonzero(self._fit.labels == self._group)

    @property
    def _rho(self) -> np.ndarray:
        return self._fit.rho[self._group]

    # ------------------------------------------------------------ fitted values
    @cached_property
    def theta(self) -> np.ndarray:
        """The parameter estimates, ``(p, k)``."""
        return self._fit.beta[:, self._voxels]

    @property
    def cov(self) -> np.ndarray:
        """The unscaled covariance of the estimates, ``(p, p)``."""
        return np.asarray(self._fit.cov[self._group])

    @cached_property
    def dispersion(self) -> np.ndarray:
        """The error variance of each voxel, ``SSE / (n - p)``."""
        return self._fit.dispersion[self._voxels]

    @property
    def df_total(self) -> int:
        """The number of scans."""
        return int(self._design.shape[0])

    @property
    def df_residuals(self) -> float:
        """The error degrees of freedom, ``n - rank(design)``."""
        dof = self._fit.dof
        return int(dof) if float(dof).is_integer() else dof

    @property
    def df_model(self) -> float:
        """The rank of the design."""
        return self.df_total - self.df_residuals

    @cached_property
    def whitened_design(self) -> np.ndarray:
        """The design whitened with the group's AR coefficients, ``(n, p)``."""
        return _ar_filter(self._design, self._rho)

    @cached_property
    def predicted(self) -> np.ndarray:
        """``whitened_design @ theta``, ``(n, k)``."""
        return self._prediction()

    def _prediction(self) -> np.ndarray:
        return self.whitened_design @ self.theta

    @cached_property
    def r_square(self) -> np.ndarray:
        """``var(predicted) / var(whitened_Y)`` of each voxel."""
        return self._fit.r_square[self._voxels]

    @cached_property
    def SSE(self) -> np.ndarray:
        """The (whitened) error sum of squares of each voxel."""
        return self.dispersion * (self.df_total - self._design.shape[1])

    @cached_property
    def MSE(self) -> np.ndarray:
        """``SSE / df_residuals``."""
        return self.SSE / self.df_residuals

    # ------------------------------------------------------- rebuilt from float32
    # Each of these keeps only its own array: what it is built from is not kept.
    @cached_property
    def whitened_residuals(self) -> np.ndarray:
        """The whitened residuals, ``(n, k)`` (kept in float32 by the fit)."""
        return self._fit.residuals[:, self._voxels].astype(np.float64)

    def _whitened_data(self) -> np.ndarray:
        whitened = self._fit.residuals[:, self._voxels].astype(np.float64)
        whitened += self._prediction()
        return whitened

    def _residuals(self) -> np.ndarray:
        data = _ar_unfilter(self._whitened_data(), self._rho)
        data -= self._prediction()
        return data

    @cached_property
    def whitened_Y(self) -> np.ndarray:
        """The whitened data, ``whitened_residuals + predicted``."""
        return self._whitened_data()

    @cached_property
    def Y(self) -> np.ndarray:
        """The data, in percent signal change, un-whitened from ``whitened_Y``."""
        return _ar_unfilter(self._whitened_data(), self._rho)

    @cached_property
    def residuals(self) -> np.ndarray:
        """The residuals as nilearn defines them: ``Y - predicted``."""
        return self._residuals()

    @cached_property
    def normalized_residuals(self) -> np.ndarray:
        """``residuals / sqrt(dispersion)`` (0 where the dispersion is 0)."""
        normalized = self._residuals()
        normalized *= _positive_reciprocal(np.sqrt(self.dispersion))
        return normalized

    # ---------------------------------------------------------------- contrasts
    def vcov(
        self,
        matrix: ArrayLike | None = None,
        column: ArrayLike | None = None,
        dispersion: ArrayLike | None = None,
        other: ArrayLike | None = None,
    ) -> np.ndarray:
        """Return the covariance of a contrast (or of columns) of the estimates.

        As nilearn's: ``matrix @ cov @ other.T`` (``other`` defaults to ``matrix``)
        times ``dispersion`` (default: the group's), on a new last axis when the
        dispersion is an array; or the ``column`` entries of ``cov``; or all of it.
        """
        dispersion = self.dispersion if dispersion is None else dispersion
        scalar = np.isscalar(dispersion)
        if matrix is None:
            index = np.arange(self.cov.shape[0]) if column is None else np.asarray(column)
            unscaled = self.cov[np.ix_(*[np.atleast_1d(index)] * 2)]
            unscaled = unscaled[0, 0] if index.ndim == 0 else unscaled
        else:
            right = matrix if other is None else other
            unscaled = np.asarray(matrix) @ self.cov @ np.asarray(right).T
        return unscaled * dispersion if scalar else unscaled[..., np.newaxis] * dispersion

    def _check_contrast(self, matrix: ArrayLike, kind: str) -> np.ndarray:
        weights = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
        n_columns = self._design.shape[1]
        if weights.size == 0 or weights.shape[1] != n_columns:
            msg = (
                f'{kind} contrasts must have {n_columns} columns, one per design column; '
                f'got shape {np.shape(matrix)}. Pad the weights with zeros yourself.'
            )
            raise ContrastError(msg)
        return weights

    def Tcontrast(
        self,
        matrix: ArrayLike,
        store: Sequence[str] = ('t', 'effect', 'sd'),
        dispersion: ArrayLike | None = None,
    ) -> TContrastResults:
        """Test a one-row contrast: effect, standard deviation and t of each voxel.

        ``store`` is accepted for nilearn's signature; everything is computed.
        """
        del store
        weights = self._check_contrast(matrix, 't')
        if weights.shape[0] != 1:
            msg = f't contrasts have one row; got {weights.shape[0]}. Use Fcontrast.'
            raise ContrastError(msg)
        effect = weights @ self.theta
        sd = np.sqrt(self.vcov(matrix=weights, dispersion=dispersion))
        t = np.squeeze(effect * _positive_reciprocal(sd))
        return TContrastResults(np.squeeze(effect), np.squeeze(sd), t, self.df_residuals)

    def Fcontrast(
        self,
        matrix: ArrayLike,
        dispersion: ArrayLike | None = None,
        invcov: ArrayLike | None = None,
    ) -> FContrastResults:
        """Test a contrast of one or more rows: F of each voxel."""
        weights = self._check_contrast(matrix, 'F')
        dispersion = self.dispersion if dispersion is None else np.asarray(dispersion)
        effect = weights @ self.theta
        if invcov is None:
            invcov = np.linalg.inv(self.vcov(matrix=weights, dispersion=1.0))
        n_rows = weights.shape[0]
        quadratic = np.sum((invcov @ effect) * effect, axis=0)
        f_value = np.squeeze(quadratic * _positive_reciprocal(n_rows * dispersion))
        covariance = self.vcov(matrix=weights, dispersion=np.atleast_1d(dispersion)[np.newaxis])
        return FContrastResults(effect, covariance, f_value, n_rows, self.df_residuals)


# --------------------------------------------------------------------------- labels
def _group_labels(fit: GLMFit, noise_model: str) -> list[Label]:
    """Return the label of each group of a fit, as nilearn names it."""
    if noise_model == 'ols':
        return [0.0] * len(fit.rho)
    labels: list[Label] = []
    for rho in fit.rho:
        coefficients = np.atleast_1d(rho)
        if coefficients.size == 1:
            labels.append(str(np.float64(coefficients[0])))
        else:
            labels.append(ar_label(coefficients))
    return labels


def run_labels(fit: GLMFit, noise_model: str) -> np.ndarray:
    """Return the label of each voxel of a run, as nilearn's ``labels_[run]``.

    Parameters
    ----------
    fit : bidsglm.stats.GLMFit
        The run's fit.
    noise_model : str
        ``'ols'`` gives float zeros; an AR model gives text labels.

    Returns
    -------
    (n_voxels,) ndarray
        Floats under OLS, strings under AR.

    Examples
    --------
    >>> from bidsglm.stats import fit_glm
    >>> design = np.ones((5, 1))
    >>> data = np.arange(10.0).reshape(5, 2) ** 2
    >>> run_labels(fit_glm(data, design, 'ols'), 'ols')
    array([0., 0.])
    >>> run_labels(fit_glm(data, design, 'ar1'), 'ar1')
    array(['0.45', '0.47'], dtype='<U4')
    """
    if noise_model == 'ols':
        return np.zeros(fit.labels.size)
    return np.array(_group_labels(fit, noise_model))[fit.labels]


def run_results(
    fit: GLMFit, design: np.ndarray, noise_model: str
) -> dict[Label, RegressionResults]:
    """Return the results of each voxel group of a run, as nilearn's ``results_[run]``.

    Parameters
    ----------
    fit : bidsglm.stats.GLMFit
        The run's fit.
    design : (n, p) array-like
        The run's design matrix.
    noise_model : str
        As for :func:`run_labels`.

    Returns
    -------
    dict
        Label to :class:`RegressionResults`, in the sorted order of the labels. Under
        OLS, a single group ``0.0``.
    """
    labels = _group_labels(fit, noise_model)
    if noise_model == 'ols':
        return {0.0: RegressionResults(fit, np.asarray(design), 0)}
    order = sorted(range(len(labels)), key=lambda group: str(labels[group]))
    return {labels[group]: RegressionResults(fit, np.asarray(design), group) for group in order}
