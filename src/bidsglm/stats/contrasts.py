"""t and F contrasts of a :class:`~bidsglm.stats.regression.GLMFit`, and fixed effects.

Formulas (nilearn 0.14.1's, so the maps agree), for a fit with parameters ``beta``,
unscaled covariance ``Cov`` and error variance ``sigma2``:

- t, one row ``c``: ``effect = c beta``, ``variance = c Cov c' sigma2``,
  ``t = effect / sqrt(max(variance, 1e-50))``.
- F, ``q`` rows ``C``: ``effect = (C Cov C')^(-1/2) C beta`` (the whitened effect,
  one row per contrast row), ``variance = sigma2``,
  ``F = sum(effect^2) / q / max(sigma2, 1e-50)``. With one row, ``F = t^2``.
- Fixed effects over ``k`` runs: ``effect = mean(effect_r)``,
  ``variance = sum(variance_r) / k^2``, ``dof = sum(dof_r)``; the statistic is then
  recomputed from these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from bidsglm.errors import ContrastError
from bidsglm.stats.pvalues import p_and_z

if TYPE_CHECKING:
    from bidsglm.stats.regression import GLMFit

__all__ = ['ContrastStats', 'compute_contrast_stats', 'fixed_effects']

_TINY = 1e-50


@dataclass(frozen=True)
class ContrastStats:
    """The estimate of one contrast and its test, voxel-wise.

    Parameters
    ----------
    effect : (q, n_voxels) ndarray
        The estimate (whitened for an F-test).
    variance : (n_voxels,) ndarray
        Its variance (t) or the error variance (F).
    dof : float
        The error degrees of freedom.
    stat_type : {'t', 'F'}
        The test.

    Examples
    --------
    >>> stats = ContrastStats(np.array([[2.0]]), np.array([1.0]), 30.0, 't')
    >>> stats.stat, stats.effect_dof
    (array([2.]), 1)
    """

    effect: np.ndarray
    variance: np.ndarray
    dof: float
    stat_type: Literal['t', 'F']

    @property
    def effect_dof(self) -> int:
        """The number of rows of the contrast."""
        return int(self.effect.shape[0])

    @property
    def stat(self) -> np.ndarray:
        """The t or F statistic."""
        variance = np.maximum(self.variance, _TINY)
        if self.stat_type == 't':
            return self.effect[0] / np.sqrt(variance)
        return np.sum(self.effect**2, axis=0) / self.effect_dof / variance

    def p_and_z(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the one-sided p-values and the z-scores of the statistic."""
        return p_and_z(self.stat, self.stat_type, self.dof, self.effect_dof)


def _inverse_square_root(matrix: np.ndarray) -> np.ndarray:
    """Return ``matrix^(-1/2)`` of a symmetric positive definite matrix."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors / np.sqrt(eigenvalues)) @ eigenvectors.T


def _t_contrast(fit: GLMFit, weights: np.ndarray) -> ContrastStats:
    """Return the t contrast of one row of weights."""
    row = weights[0]
    effect = row @ fit.beta
    unscaled = np.einsum('p,gpq,q->g', row, fit.cov, row)
    variance = unscaled[fit.labels] * fit.dispersion
    return ContrastStats(effect[np.newaxis], variance, fit.dof, 't')


def _f_contrast(fit: GLMFit, weights: np.ndarray) -> ContrastStats:
    """Return the F contrast of a (q, p) weight matrix."""
    raw_effect = weights @ fit.beta
    effect = np.empty_like(raw_effect)
    for group in range(fit.cov.shape[0]):
        voxels = fit.labels == group
        if not voxels.any():
            continue
        whitener = _inverse_square_root(weights @ fit.cov[group] @ weights.T)
        effect[:, voxels] = whitener @ raw_effect[:, voxels]
    return ContrastStats(effect, fit.dispersion, fit.dof, 'F')


def compute_contrast_stats(
    fit: GLMFit, weights: np.ndarray, stat_type: Literal['t', 'F'] | None = None
) -> ContrastStats:
    """Estimate and test a contrast of a fitted GLM.

    Parameters
    ----------
    fit : GLMFit
        The fitted model.
    weights : (p,) or (q, p) ndarray
        The contrast weights over the design columns.
    stat_type : {'t', 'F'}, optional
        The test. By default t for a vector and F for a matrix. 'F' on one row gives
        ``F = t^2``; 't' on several rows is an error.

    Returns
    -------
    ContrastStats

    Raises
    ------
    ContrastError
        If the weights do not match the design or 't' is asked of several rows.

    Examples
    --------
    >>> from bidsglm.stats.regression import fit_glm
    >>> design = np.column_stack([[0, 1, 0, 1, 0, 1.0], np.ones(6)])
    >>> data = design @ np.array([[2.0], [1.0]]) + [[0.1], [-0.1], [0], [0], [-0.1], [0.1]]
    >>> fit = fit_glm(data, design, noise_model='ols')
    >>> t = compute_contrast_stats(fit, np.array([1.0, 0.0]))
    >>> f = compute_contrast_stats(fit, np.array([1.0, 0.0]), stat_type='F')
    >>> bool(np.allclose(f.stat, t.stat**2))
    True
    """
    weights = np.asarray(weights, dtype=np.float64)
    if stat_type is None:
        stat_type = 't' if weights.ndim == 1 else 'F'
    weights = np.atleast_2d(weights)
    if weights.shape[1] != fit.beta.shape[0]:
        msg = (
            f'The contrast has {weights.shape[1]} weights per row but the design has '
            f'{fit.beta.shape[0]} columns; give one weight per column.'
        )
        raise ContrastError(msg)
    if stat_type == 't' and weights.shape[0] > 1:
        msg = (
            f'A t-test takes one row of weights, but this contrast has '
            f'{weights.shape[0]} rows; ask for an F-test instead.'
        )
        raise ContrastError(msg)
    if stat_type == 't':
        return _t_contrast(fit, weights)
    return _f_contrast(fit, weights)


def fixed_effects(per_run: list[ContrastStats]) -> ContrastStats:
    """Combine the same contrast estimated on several runs by fixed effects.

    Parameters
    ----------
    per_run : list of ContrastStats
        One estimate per run, all of the same test and number of rows.

    Returns
    -------
    ContrastStats
        Mean effect, summed variance over ``k^2``, summed degrees of freedom.

    Examples
    --------
    >>> runs = [ContrastStats(np.array([[1.0]]), np.array([1.0]), 10.0, 't'),
    ...         ContrastStats(np.array([[3.0]]), np.array([1.0]), 12.0, 't')]
    >>> combined = fixed_effects(runs)
    >>> combined.effect, combined.variance, combined.dof
    (array([[2.]]), array([0.5]), 22.0)
    """
    n_runs = len(per_run)
    if n_runs == 1:
        return per_run[0]
    effect = np.sum([run.effect for run in per_run], axis=0) / n_runs
    variance = np.sum([run.variance for run in per_run], axis=0) / n_runs**2
    dof = float(sum(run.dof for run in per_run))
    return ContrastStats(effect, variance, dof, per_run[0].stat_type)
