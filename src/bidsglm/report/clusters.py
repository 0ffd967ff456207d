"""Thresholds, clusters and peaks of a z map, in time that does not grow per cluster.

A height threshold is chosen by a rule (:data:`HEIGHT_CONTROLS`: uncorrected p,
Benjamini-Hochberg FDR, Bonferroni, or a z value given as is); a voxel survives when
its z reaches the threshold (``z >= threshold``, so p <= alpha). Suprathreshold
voxels are grouped in clusters of face-connected voxels (6-connectivity), and
clusters smaller than the cluster extent are dropped.

The table of clusters and peaks is computed with a fixed number of passes over the
suprathreshold voxels, whatever the number of clusters: one ``ndimage.label``, one
``np.bincount`` of sizes, one sort of the voxels by (cluster, value) for the peaks,
and 26 shifted comparisons that find every local maximum of every cluster at once.
Subpeaks (local maxima at least ``min_distance`` mm from every stronger peak kept
in their cluster) are chosen greedily, strongest first, by a loop over the rank of
a candidate in its cluster that handles all clusters in each step.
"""

from __future__ import annotations

import dataclasses
import itertools
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from nibabel.affines import apply_affine
from scipy import ndimage
from scipy.special import ndtr, ndtri

from bidsglm.errors import InvalidParameterError, ShapeMismatchError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    'HEIGHT_CONTROLS',
    'TABLE_COLUMNS',
    'Clusters',
    'Thresholding',
    'fdr_threshold',
    'find_clusters',
]

#: The columns of the table of clusters and peaks.
TABLE_COLUMNS = ('Cluster', 'X (mm)', 'Y (mm)', 'Z (mm)', 'Peak z', 'Voxels', 'Volume (mm3)')

_FACES = ndimage.generate_binary_structure(3, 1)
_NEIGHBOURS = [offset for offset in itertools.product((-1, 0, 1), repeat=3) if offset != (0, 0, 0)]


def _p_values(z_values: np.ndarray, two_sided: bool) -> np.ndarray:
    """Return the p-value of each z: upper tail, or both tails."""
    if two_sided:
        return 2.0 * ndtr(-np.abs(z_values))
    return ndtr(-z_values)


def _z_of_p(p_value: float, two_sided: bool) -> float:
    """Return the z whose p-value (one- or two-sided) is ``p_value``."""
    tail = p_value / 2.0 if two_sided else p_value
    return float(-ndtri(tail))


def fdr_threshold(z_values: np.ndarray, alpha: float, two_sided: bool = False) -> float:
    """Return the Benjamini-Hochberg threshold on z that controls the FDR at ``alpha``.

    The p-values are sorted, ``p_(1) <= ... <= p_(m)``; ``k`` is the largest rank with
    ``p_(k) <= k * alpha / m``, and the threshold is the z of that voxel, so the
    ``k`` voxels of smallest p survive ``z >= threshold``.

    Parameters
    ----------
    z_values : (n_voxels,) ndarray
        The z-scores of the voxels tested (the voxels of the mask).
    alpha : float
        The false discovery rate, in (0, 1).
    two_sided : bool, default=False
        Use two-sided p-values; the threshold then applies to ``|z|``.

    Returns
    -------
    float
        The threshold, or ``inf`` when no voxel survives.

    Examples
    --------
    >>> round(fdr_threshold(np.array([4.0, 3.5, 2.8, 2.5, 1.9, 1.2]), 0.05), 2)
    1.9
    """
    values = np.asarray(z_values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    magnitude = np.abs(values) if two_sided else values
    ordered = np.sort(magnitude)[::-1]
    p_sorted = _p_values(ordered, two_sided)
    ranks = np.arange(1, ordered.size + 1)
    passing = np.flatnonzero(p_sorted <= alpha * ranks / max(ordered.size, 1))
    return float(ordered[passing[-1]]) if passing.size else float('inf')


def _uncorrected(z_values: np.ndarray, alpha: float, two_sided: bool) -> float:
    return _z_of_p(alpha, two_sided)


def _bonferroni(z_values: np.ndarray, alpha: float, two_sided: bool) -> float:
    return _z_of_p(alpha / max(np.isfinite(z_values).sum(), 1), two_sided)


#: Height-threshold rules: name -> (z values, alpha, two_sided) -> z threshold.
HEIGHT_CONTROLS: dict[str, Callable[[np.ndarray, float, bool], float]] = {
    'fpr': _uncorrected,
    'fdr': fdr_threshold,
    'bonferroni': _bonferroni,
}
_DESCRIPTIONS = {
    'fpr': 'uncorrected p < {alpha:g}',
    'fdr': 'FDR (Benjamini-Hochberg) q < {alpha:g}',
    'bonferroni': 'Bonferroni-corrected p < {alpha:g}',
}


@dataclass(frozen=True)
class Thresholding:
    """How a z map is thresholded.

    Parameters
    ----------
    height_control : {'fpr', 'fdr', 'bonferroni'} or None, default='fpr'
        The rule for the height threshold: uncorrected p (false positive rate),
        Benjamini-Hochberg false discovery rate, Bonferroni; ``None`` uses ``z``.
    alpha : float, default=0.001
        The p-value, q-value or family-wise error rate, in (0, 1).
    z : float, default=3.0
        The z threshold used when ``height_control`` is None.
    cluster_extent : int, default=0
        Clusters of fewer voxels are dropped.
    two_sided : bool, default=True
        Keep clusters of negative z too, and use two-sided p-values: a t contrast
        is read in both directions. False keeps positive z only (nilearn's
        default); an F test is always one-sided (see :meth:`one_sided`).

    Examples
    --------
    >>> rule = Thresholding('fpr', alpha=0.001, cluster_extent=10)
    >>> round(rule.z_threshold(np.zeros(5)), 3)
    3.291
    >>> rule.describe(3.291)
    'uncorrected p < 0.001, two-sided (|z| ≥ 3.29), clusters of at least 10 voxels'
    >>> rule.one_sided().describe(3.09)
    'uncorrected p < 0.001, one-sided (z ≥ 3.09), clusters of at least 10 voxels'
    """

    height_control: str | None = 'fpr'
    alpha: float = 0.001
    z: float = 3.0
    cluster_extent: int = 0
    two_sided: bool = True

    def __post_init__(self) -> None:
        if self.height_control is not None and self.height_control not in HEIGHT_CONTROLS:
            msg = (
                "The 'height_control' parameter of Thresholding must be one of "
                f'{sorted(HEIGHT_CONTROLS)} or None. Got {self.height_control!r} instead.'
            )
            raise InvalidParameterError(msg)
        if not 0.0 < self.alpha < 1.0:
            msg = f"The 'alpha' parameter of Thresholding must be in (0, 1). Got {self.alpha}."
            raise InvalidParameterError(msg)
        if self.cluster_extent < 0:
            msg = (
                "The 'cluster_extent' parameter of Thresholding must be an integer >= 0. "
                f'Got {self.cluster_extent} instead.'
            )
            raise InvalidParameterError(msg)

    def z_threshold(self, z_values: np.ndarray) -> float:
        """Return the height threshold for these z values (the voxels of the mask)."""
        if self.height_control is None:
            return float(self.z)
        return HEIGHT_CONTROLS[self.height_control](z_values, self.alpha, self.two_sided)

    def one_sided(self) -> Thresholding:
        """Return this rule for positive z only (an F test, or ``two_sided=False``)."""
        return dataclasses.replace(self, two_sided=False)

    def describe(self, z_threshold: float) -> str:
        """Say in words what survives, with the computed z threshold."""
        sign = '|z|' if self.two_sided else 'z'
        height = f'{sign} ≥ {z_threshold:.3g}'
        if self.height_control is not None:
            rule = _DESCRIPTIONS[self.height_control].format(alpha=self.alpha)
            sides = 'two-sided' if self.two_sided else 'one-sided'
            height = f'{rule}, {sides} ({height})'
        if self.cluster_extent:
            height += f', clusters of at least {self.cluster_extent} voxels'
        return height


@dataclass(frozen=True)
class Clusters:
    """The clusters of a thresholded map and their table.

    Parameters
    ----------
    labels : (nx, ny, nz) ndarray of int32
        0 outside clusters; clusters numbered from 1 in table order: positive
        clusters by decreasing peak z, then negative ones by increasing peak z.
    table : pandas.DataFrame
        One row per peak, with the :data:`TABLE_COLUMNS`. A cluster's main peak is
        labelled ``'1'``, ``'2'``...; its subpeaks ``'1a'``, ``'1b'``..., with no size.
    threshold : float
        The z threshold applied.
    """

    labels: np.ndarray
    table: pd.DataFrame
    threshold: float

    @property
    def n_clusters(self) -> int:
        """The number of clusters."""
        return int(self.labels.max(initial=0))


def _label(z: np.ndarray, threshold: float, two_sided: bool) -> tuple[np.ndarray, np.ndarray]:
    """Label suprathreshold clusters; return the labels and the sign of each label."""
    finite = np.isfinite(z)
    labels, n_positive = ndimage.label(finite & (z >= threshold), _FACES)
    signs = np.ones(n_positive + 1)
    if two_sided:
        negative, n_negative = ndimage.label(finite & (z <= -threshold), _FACES)
        labels[negative > 0] = negative[negative > 0] + n_positive
        signs = np.concatenate([signs, -np.ones(n_negative)])
    return labels.astype(np.int32, copy=False), signs


def _relabel(
    labels: np.ndarray, z: np.ndarray, signs: np.ndarray, cluster_extent: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop small clusters and number the others by decreasing peak strength.

    Positive clusters come first, then negative ones, each by decreasing peak.
    Returns the new labels, the strength (``z`` times the cluster's sign) of every
    voxel in a cluster (0 elsewhere) and the size of each new cluster.
    """
    sizes = np.bincount(labels.ravel(), minlength=signs.size)
    sizes[0] = 0
    voxels = np.flatnonzero((sizes >= max(cluster_extent, 1))[labels])
    old = labels.flat[voxels]
    values = z.flat[voxels] * signs[old]
    peak = np.full(signs.size, -np.inf)
    np.maximum.at(peak, old, values)
    kept = np.flatnonzero(np.isfinite(peak))
    new_of_old = np.zeros(signs.size, dtype=np.int32)
    order = np.lexsort((kept, -peak[kept], -signs[kept]))  # positive clusters first
    new_of_old[kept[order]] = np.arange(1, kept.size + 1)
    strength = np.zeros(z.shape)
    strength.flat[voxels] = values
    new_sizes = np.zeros(kept.size, dtype=np.int64)
    new_sizes[new_of_old[kept] - 1] = sizes[kept]
    return new_of_old[labels], strength, new_sizes


def _local_maxima(
    labels: np.ndarray, magnitude: np.ndarray, voxels: np.ndarray, voxel_labels: np.ndarray
) -> np.ndarray:
    """Tell which voxels have no stronger 26-neighbour in their own cluster."""
    padded_labels = np.pad(labels, 1)
    padded_values = np.pad(magnitude, 1)
    strides = np.array([padded_labels.shape[1] * padded_labels.shape[2], labels.shape[2] + 2, 1])
    ijk = np.stack(np.unravel_index(voxels, labels.shape), axis=1)
    flat = (ijk + 1) @ strides
    values = padded_values.flat[flat]
    is_max = np.ones(voxels.size, dtype=bool)
    for offset in _NEIGHBOURS:
        neighbour = flat + int(np.dot(offset, strides))
        same = padded_labels.flat[neighbour] == voxel_labels
        is_max &= ~(same & (padded_values.flat[neighbour] > values))
    return is_max


def _pare_peaks(
    cluster: np.ndarray, xyz: np.ndarray, n_clusters: int, n_peaks: int, min_distance: float
) -> np.ndarray:
    """Keep, per cluster, up to ``n_peaks`` candidates far enough from stronger kept ones.

    ``cluster`` (0-based) and ``xyz`` are sorted by cluster, strongest first.
    """
    starts = np.searchsorted(cluster, np.arange(n_clusters))
    rank = np.arange(cluster.size) - starts[cluster]
    by_rank = np.argsort(rank, kind='stable')
    bounds = np.searchsorted(rank[by_rank], np.arange(rank.max(initial=-1) + 2))
    kept_xyz = np.full((n_clusters, n_peaks, 3), np.nan)
    count = np.zeros(n_clusters, dtype=int)
    kept = np.zeros(cluster.size, dtype=bool)
    for step in range(bounds.size - 1):
        candidates = by_rank[bounds[step] : bounds[step + 1]]
        candidates = candidates[count[cluster[candidates]] < n_peaks]
        if not candidates.size:
            if (count >= n_peaks).all():
                break
            continue
        owner = cluster[candidates]
        distance = np.linalg.norm(kept_xyz[owner] - xyz[candidates, None, :], axis=2)
        candidates = candidates[~(distance <= min_distance).any(axis=1)]
        owner = cluster[candidates]
        kept_xyz[owner, count[owner]] = xyz[candidates]
        count[owner] += 1
        kept[candidates] = True
    return np.flatnonzero(kept)


def _peak_names(cluster: np.ndarray) -> list[str]:
    """Name peaks '1', '1a', '1b', '2'... from their (sorted) cluster index."""
    first = np.r_[True, cluster[1:] != cluster[:-1]]
    starts = np.maximum.accumulate(np.where(first, np.arange(cluster.size), 0))
    rank = np.arange(cluster.size) - starts
    letters = ['', *string.ascii_lowercase]
    return [f'{c + 1}{letters[r]}' for c, r in zip(cluster.tolist(), rank.tolist(), strict=True)]


def _check_inputs(z: np.ndarray, affine: np.ndarray, n_subpeaks: int) -> None:
    if z.ndim != 3 or np.shape(affine) != (4, 4):
        msg = (
            f'find_clusters needs a 3D z map and a 4x4 affine; got a map of shape {z.shape} '
            f'and an affine of shape {np.shape(affine)}.'
        )
        raise ShapeMismatchError(msg)
    if not 0 <= n_subpeaks <= 26:
        msg = f"The 'n_subpeaks' parameter of find_clusters must be in [0, 26]. Got {n_subpeaks}."
        raise InvalidParameterError(msg)


def _peaks(
    labels: np.ndarray, strength: np.ndarray, affine: np.ndarray, n_peaks: int, distance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the cluster (0-based), voxel index and mm position of every kept peak."""
    voxels = np.flatnonzero(labels)
    voxel_labels = labels.flat[voxels]
    is_max = _local_maxima(labels, strength, voxels, voxel_labels)
    candidates, owner = voxels[is_max], voxel_labels[is_max] - 1
    order = np.lexsort((candidates, -strength.flat[candidates], owner))
    candidates, owner = candidates[order], owner[order]
    ijk = np.stack(np.unravel_index(candidates, labels.shape), axis=1)
    xyz = apply_affine(affine, ijk).reshape(-1, 3)
    kept = _pare_peaks(owner, xyz, int(labels.max(initial=0)), n_peaks, distance)
    return owner[kept], candidates[kept], xyz[kept]


def find_clusters(
    z: np.ndarray,
    affine: np.ndarray,
    threshold: float,
    *,
    cluster_extent: int = 0,
    two_sided: bool = False,
    min_distance: float = 8.0,
    n_subpeaks: int = 3,
) -> Clusters:
    """Find the clusters of a z map above a threshold, and their peaks.

    Parameters
    ----------
    z : (nx, ny, nz) ndarray
        The z map (NaN counts as below threshold).
    affine : (4, 4) ndarray
        Voxel indices to millimetres.
    threshold : float
        Voxels with ``z >= threshold`` (and, if ``two_sided``, ``z <= -threshold``)
        form clusters.
    cluster_extent : int, default=0
        Clusters of fewer voxels are dropped.
    two_sided : bool, default=False
        Also find clusters of negative z; their peak is their most negative z.
    min_distance : float, default=8.0
        Subpeaks are more than this far (mm) from every stronger peak of their cluster.
    n_subpeaks : int, default=3
        The largest number of subpeaks listed per cluster.

    Returns
    -------
    Clusters
        The cluster labels and the table of clusters and peaks.

    Raises
    ------
    ShapeMismatchError
        If ``z`` is not 3D or ``affine`` not 4x4.

    Examples
    --------
    >>> z = np.zeros((6, 5, 5)); z[1:3, 1:3, 1:3] = 4.0; z[1, 1, 1] = 5.0; z[4, 2, 2] = 3.5
    >>> found = find_clusters(z, np.diag([2.0, 2.0, 2.0, 1.0]), 3.0)
    >>> found.table[['Cluster', 'X (mm)', 'Peak z', 'Voxels', 'Volume (mm3)']]
      Cluster  X (mm)  Peak z  Voxels  Volume (mm3)
    0       1     2.0     5.0       8          64.0
    1       2     8.0     3.5       1           8.0
    """
    z = np.asarray(z, dtype=float)
    affine = np.asarray(affine, dtype=float)
    _check_inputs(z, affine, n_subpeaks)
    labels, signs = _label(z, threshold, two_sided)
    labels, strength, sizes = _relabel(labels, z, signs, cluster_extent)
    owner, voxels, xyz = _peaks(labels, strength, affine, n_subpeaks + 1, min_distance)
    main = np.r_[True, owner[1:] != owner[:-1]] if owner.size else owner > 0
    n_voxels = np.where(main, sizes[owner], 0)
    voxel_volume = float(abs(np.linalg.det(affine[:3, :3])))
    table = pd.DataFrame(
        {
            'Cluster': _peak_names(owner),
            'X (mm)': xyz[:, 0],
            'Y (mm)': xyz[:, 1],
            'Z (mm)': xyz[:, 2],
            'Peak z': z.flat[voxels],
            'Voxels': pd.array(np.where(main, n_voxels, 0), dtype='Int64'),
            'Volume (mm3)': np.where(main, n_voxels * voxel_volume, np.nan),
        }
    )
    table.loc[~main, 'Voxels'] = pd.NA
    return Clusters(labels, table, float(threshold))
