"""Records that the estimators hand out: frozen, arrays inside, images on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bidsglm.models._images import unmask
from bidsglm.models.surface import SurfaceMask

if TYPE_CHECKING:
    from collections.abc import Sequence

    import nibabel as nib

    from bidsglm.stats import ContrastStats

__all__ = ['OUTPUT_TYPES', 'ContrastResult', 'MapName', 'StatType']

StatType = Literal['t', 'F']
MapName = Literal['z_score', 'stat', 'p_value', 'effect_size', 'effect_variance']

#: The maps of a contrast, by the names ``compute_contrast(output_type=...)`` uses.
OUTPUT_TYPES = ('z_score', 'stat', 'p_value', 'effect_size', 'effect_variance')


@dataclass(frozen=True)
class ContrastResult:
    """One tested contrast: its weights, its test and its maps over the mask.

    Parameters
    ----------
    stat_type : {'t', 'F'}
        The test that was computed.
    weights : tuple of (q, p) ndarray
        The weights over the design columns, one matrix per run (one in all for a
        second-level model). ``q`` is 1 for a t-test.
    columns : tuple of tuple of str
        The design columns the weights refer to, one tuple per run.
    effect : (q, n_voxels) ndarray
        The contrast estimate. For an F-test with ``q >= 2`` rows, the whitened
        effect ``(C Cov C')^(-1/2) C beta``, as nilearn writes it.
    variance : (n_voxels,) ndarray
        The variance of the estimate (t), or the residual variance (F).
    stat, p_value, z_score : (n_voxels,) ndarray
        The t or F statistic, its one-sided upper-tail p-value and the z-score of
        that p-value.
    dof : float
        The error degrees of freedom (summed over runs under fixed effects).
    mask_img : nibabel.Nifti1Image or bidsglm.models.surface.SurfaceMask
        The mask the voxel (or vertex) axis refers to.

    Examples
    --------
    >>> import nibabel as nib
    >>> mask = nib.Nifti1Image(np.ones((1, 1, 2), dtype=np.uint8), np.eye(4))
    >>> result = ContrastResult(
    ...     stat_type='t', weights=(np.array([[1.0, 0.0]]),), columns=(('a', 'b'),),
    ...     effect=np.array([[2.0, 4.0]]), variance=np.array([1.0, 4.0]),
    ...     stat=np.array([2.0, 2.0]), p_value=np.array([0.03, 0.03]),
    ...     z_score=np.array([1.9, 1.9]), dof=10.0, mask_img=mask)
    >>> result.effect_dof
    1
    >>> result.to_images()['effect_size'].shape
    (1, 1, 2)
    """

    stat_type: StatType
    weights: tuple[np.ndarray, ...]
    columns: tuple[tuple[str, ...], ...]
    effect: np.ndarray
    variance: np.ndarray
    stat: np.ndarray
    p_value: np.ndarray
    z_score: np.ndarray
    dof: float
    mask_img: nib.Nifti1Image | SurfaceMask = field(repr=False)

    @classmethod
    def from_stats(
        cls,
        stats: ContrastStats,
        weights: Sequence[np.ndarray],
        columns: Sequence[Sequence[object]],
        mask_img: nib.Nifti1Image | SurfaceMask,
    ) -> ContrastResult:
        """Build the record of a contrast from its statistics and its weights."""
        p_value, z_score = stats.p_and_z()
        return cls(
            stat_type=stats.stat_type,
            weights=tuple(np.atleast_2d(w) for w in weights),
            columns=tuple(tuple(str(c) for c in run_columns) for run_columns in columns),
            effect=stats.effect,
            variance=stats.variance,
            stat=stats.stat,
            p_value=p_value,
            z_score=z_score,
            dof=stats.dof,
            mask_img=mask_img,
        )

    @property
    def effect_dof(self) -> int:
        """The number of rows of the contrast (1 for a t-test)."""
        return int(self.weights[0].shape[0])

    def to_images(self) -> dict[str, Any]:
        """Return the five maps as images, keyed as in ``OUTPUT_TYPES``.

        The effect map is 3D for a t-test and 4D, one volume per row, for an
        F-test of several rows; every other map is 3D. Values outside the mask are 0.
        """
        effect = self.effect[0] if self.effect.shape[0] == 1 else self.effect
        arrays = {
            'z_score': self.z_score,
            'stat': self.stat,
            'p_value': self.p_value,
            'effect_size': effect,
            'effect_variance': self.variance,
        }
        if isinstance(self.mask_img, SurfaceMask):
            return self._surface_images(arrays)
        return {name: unmask(values, self.mask_img) for name, values in arrays.items()}

    def _surface_images(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """Return the maps on the surface, in the data's own form (see :mod:`.surface`)."""
        assert isinstance(self.mask_img, SurfaceMask)
        images = {}
        for name, values in arrays.items():
            rows = None if values.ndim == 1 else [f'row {i + 1}' for i in range(len(values))]
            images[name] = self.mask_img.unmask(values, names=rows)
        return images
