"""``FirstLevelModel.fit(sample_masks=...)``: the volumes of each run that are kept.

nilearn 0.14.1's scrubbing: per run, the indices (or a boolean mask) of the volumes
kept; the run's design is built from all its volumes, then both the design and the
data keep those rows only, in the order given (so the fit sees the kept volumes as
one series). The mask is computed from all the volumes.

The forms nilearn takes: a list (or tuple) with one mask per run, or a single array
for a single run; a mask of booleans (``True`` kept) or of non-negative integers.
Beyond nilearn, a run's mask may be None (every volume kept). Stricter than nilearn,
a boolean mask must have one value per volume (nilearn takes a shorter one as the
first volumes' mask), an index must name a volume of the run (nilearn's
``IndexError`` comes later, from pandas), fractional indices are refused (nilearn
truncates them) and a run must keep at least one volume.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bidsglm.errors import InvalidParameterError, ParameterTypeError, ShapeMismatchError

__all__ = ['read_sample_masks']

_PARAMETER = "The 'sample_masks' parameter of FirstLevelModel.fit"


def _per_run(sample_masks: object, n_runs: int) -> list[object]:
    """Spread the masks over the runs: a list or tuple per run, an array for one run."""
    if isinstance(sample_masks, np.ndarray):
        items: list[object] = [sample_masks]
    elif isinstance(sample_masks, (list, tuple)):
        items = list(sample_masks)
    else:
        msg = (
            f'{_PARAMETER} must be a list with one mask per run (an array of the '
            'indices of the volumes kept, or of booleans), or an array for a single '
            f'run. Got {type(sample_masks).__name__} instead.'
        )
        raise ParameterTypeError(msg)
    if items and all(np.isscalar(item) for item in items):
        msg = (
            f'{_PARAMETER} holds numbers where it needs one mask per run. For a single '
            'run, pass an array (np.array([...])) or a list holding one list.'
        )
        raise ParameterTypeError(msg)
    if len(items) != n_runs:
        msg = (
            f'{_PARAMETER} holds {len(items)} masks for {n_runs} runs; give one mask '
            'per run (None keeps every volume of a run).'
        )
        raise ShapeMismatchError(msg)
    return items


def _boolean_volumes(values: np.ndarray, n_scans: int, run: int) -> np.ndarray:
    if values.size != n_scans:
        msg = (
            f'The boolean sample mask of run {run} has {values.size} values but the run '
            f'has {n_scans} volumes; give one value per volume (True for those kept), '
            'or the indices of the volumes kept.'
        )
        raise ShapeMismatchError(msg)
    return np.flatnonzero(values)


def _indexed_volumes(values: np.ndarray, n_scans: int, run: int) -> np.ndarray:
    if values.dtype.kind not in 'iuf' or np.any(values != np.round(values)):
        msg = (
            f'The sample mask of run {run} must hold booleans or the integer indices of '
            f'the volumes kept. Got {values[:5].tolist()!r} instead.'
        )
        raise ParameterTypeError(msg)
    indices = values.astype(np.int64)
    if np.any(indices < 0):
        msg = (
            f'The sample mask of run {run} holds negative indices {indices[indices < 0]}; '
            'indices count volumes from 0 (nilearn refuses them too).'
        )
        raise InvalidParameterError(msg)
    if np.any(indices >= n_scans):
        msg = (
            f'The sample mask of run {run} holds indices {indices[indices >= n_scans]} '
            f'but the run has {n_scans} volumes (0 to {n_scans - 1}).'
        )
        raise ShapeMismatchError(msg)
    return indices


def _volumes(mask: object, n_scans: int, run: int) -> np.ndarray | None:
    """Return the indices of a run's kept volumes, or None to keep them all."""
    if mask is None:
        return None
    values = np.ravel(np.asarray(mask))
    if values.dtype == bool:
        volumes = _boolean_volumes(values, n_scans, run)
    else:
        volumes = _indexed_volumes(values, n_scans, run)
    if volumes.size == 0:
        msg = f'The sample mask of run {run} keeps no volume; keep at least one.'
        raise InvalidParameterError(msg)
    return volumes


def read_sample_masks(sample_masks: object, n_scans: Sequence[int]) -> list[np.ndarray | None]:
    """Return, per run, the indices of the volumes kept (None: all of them).

    Parameters
    ----------
    sample_masks : list, tuple, array or None
        One mask per run (indices or booleans, or None), or one array for one run.
    n_scans : sequence of int
        The number of volumes of each run.

    Returns
    -------
    list of (n_kept,) int64 ndarray or None

    Raises
    ------
    ParameterTypeError
        If the masks are not a list, tuple or array, or a mask holds neither
        booleans nor integers (also a ``TypeError``, as nilearn raises).
    ShapeMismatchError
        If there is not one mask per run, a boolean mask has not one value per
        volume, or an index is past the run's last volume.
    InvalidParameterError
        For a negative index, or a mask that keeps no volume.

    Examples
    --------
    >>> read_sample_masks([np.array([0, 2, 3]), None], [4, 3])
    [array([0, 2, 3]), None]
    >>> read_sample_masks(np.array([True, False, True]), [3])
    [array([0, 2])]
    """
    if sample_masks is None:
        return [None] * len(n_scans)
    items = _per_run(sample_masks, len(n_scans))
    return [
        _volumes(mask, count, run)
        for run, (mask, count) in enumerate(zip(items, n_scans, strict=True), start=1)
    ]
