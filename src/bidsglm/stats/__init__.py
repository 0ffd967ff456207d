"""The maths of the GLM: arrays in, arrays out (numpy and scipy only).

- :mod:`~bidsglm.stats.regression`: ordinary least squares and AR(1) prewhitening,
  fitted voxel-wise and grouped by quantised AR coefficient as nilearn does.
- :mod:`~bidsglm.stats.contrasts`: t and F contrasts, and fixed effects over runs.
- :mod:`~bidsglm.stats.pvalues`: one-sided p-values and their z-scores.
"""

from bidsglm.stats.contrasts import ContrastStats, compute_contrast_stats, fixed_effects
from bidsglm.stats.pvalues import p_and_z
from bidsglm.stats.regression import NOISE_MODELS, GLMFit, fit_glm, fit_ols, scale_signal

__all__ = [
    'NOISE_MODELS',
    'ContrastStats',
    'GLMFit',
    'compute_contrast_stats',
    'fit_glm',
    'fit_ols',
    'fixed_effects',
    'p_and_z',
    'scale_signal',
]
