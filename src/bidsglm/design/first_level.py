"""The design matrix of one run: events, confounds, drifts and the constant.

:func:`make_first_level_design_matrix` takes nilearn's parameters, with the same
meaning, and returns nilearn 0.14.1's numbers and column names, in this order:

1. the regressors of each condition, conditions sorted (``audio``,
   ``audio_derivative``, ``audio_dispersion``; FIR: ``audio_delay_0``, ...);
2. the confounds (``add_regs``), named by ``add_reg_names``, by the DataFrame's
   columns, or ``reg0, reg1, ...``;
3. the drifts ``drift_1 ... drift_K``, then ``constant``.

Confounds keep the names they are given, as in nilearn: a DataFrame column ``0``
stays the integer ``0``. Deliberate differences from nilearn: condition names are
always strings (a numeric ``trial_type`` 3 gives the column ``'3'``, still in
numeric order), two columns whose names read the same (``0`` and ``'0'``) are
refused as duplicates, a 1D ``add_regs`` is one confound column, and invalid inputs
raise our errors with the offending values named instead of failing later or
silently.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bidsglm.design.drift import _drift_frame
from bidsglm.design.events import check_events
from bidsglm.design.hrf import (
    HrfBasis,
    KernelFunction,
    _check_fir_delays,
    _check_frame_times,
    _check_min_onset,
    _check_oversampling,
    _condition_regressors,
    _regressor_names,
    _repetition_time,
    _resolve_hrf_model,
)
from bidsglm.errors import InvalidParameterError, ParameterTypeError, ShapeMismatchError

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable, Sequence

__all__ = ['make_first_level_design_matrix']

_OWNER = 'make_first_level_design_matrix'

#: Designs whose condition number reaches this are regularised (as nilearn does).
MAX_CONDITION_NUMBER = 1e15


# nilearn's signature, kept so that switching is a change of import.
def make_first_level_design_matrix(  # noqa: PLR0913, PLR0917
    frame_times: Iterable[float],
    events: pd.DataFrame | str | os.PathLike[str] | None = None,
    hrf_model: str | KernelFunction | list[KernelFunction] | None = 'glover',
    drift_model: str | None = 'cosine',
    high_pass: float = 0.01,
    drift_order: int = 1,
    fir_delays: Iterable[int] | None = None,
    add_regs: np.ndarray | pd.DataFrame | None = None,
    add_reg_names: Sequence[Hashable] | None = None,
    min_onset: float = -24,
    oversampling: int = 50,
) -> pd.DataFrame:
    """Build the design matrix of one run from its frame times, events and confounds.

    Parameters
    ----------
    frame_times : (n_scans,) array-like
        Acquisition time of each scan in seconds, strictly increasing; usually
        ``(np.arange(n_scans) + slice_time_ref) * t_r``. The HRF kernels use the
        smallest step between them as the repetition time.
    events : pandas.DataFrame or str or os.PathLike or None, default=None
        The events (see :func:`~bidsglm.design.check_events`), or the path of a
        ``.tsv``/``.csv`` file holding them. None gives a design without
        conditions.
    hrf_model : str or callable or list of callable or None, default='glover'
        A key of :data:`~bidsglm.design.HRF_MODELS` (case-insensitive), a
        function ``hrf(t_r, oversampling) -> kernel`` or a list of them. None
        samples the boxcars without convolution.
    drift_model : {'cosine', 'polynomial', None}, default='cosine'
        A key of :data:`~bidsglm.design.DRIFT_MODELS` (case-insensitive).
    high_pass : float, default=0.01
        Cut-off frequency in Hz of the cosine drifts (> 0).
    drift_order : int, default=1
        Highest power of the polynomial drifts (>= 0).
    fir_delays : iterable of int or None, default=None
        Delays in scans of the FIR regressors (distinct, >= 0; None means
        ``(0,)``); FIR only.
    add_regs : (n_scans, n_confounds) array-like or pandas.DataFrame or None
        Confounds (motion, physiology, ...), one row per scan, without NaN. A
        DataFrame's column names become the regressor names, as they are.
    add_reg_names : sequence of str or None, default=None
        Names of the columns of an array ``add_regs``, kept as they are;
        ``reg0, reg1, ...`` when None. Ignored when ``add_regs`` is a DataFrame.
    min_onset : float, default=-24
        Start of the modelled time in seconds relative to the first frame
        (<= 0); earlier events are cut at that time.
    oversampling : int, default=50
        Number of fine-grid samples per repetition time in the convolution.

    Returns
    -------
    design_matrix : pandas.DataFrame
        One row per scan (indexed by ``frame_times``) and one float column per
        regressor: conditions (sorted), confounds, drifts, ``constant``.

    Raises
    ------
    InvalidParameterError
        If a parameter is out of range, the HRF or drift model is unknown,
        confounds hold NaN, or two columns get the same name (or names that read
        the same, as ``0`` and ``'0'``).
    ParameterTypeError
        If a parameter is of a type that is not accepted (a string for
        ``high_pass``, a number for ``hrf_model``, ...), if ``add_regs`` is not a
        1D or 2D array or a DataFrame, or holds text (also a ``TypeError``, as
        nilearn raises).
    ShapeMismatchError
        If ``add_regs`` has not one row per scan, or ``add_reg_names`` has not
        one name per confound.
    EventsError
        If the events are invalid (see :func:`~bidsglm.design.check_events`).

    Warns
    -----
    UserWarning
        For the events situations listed in :func:`~bidsglm.design.check_events`,
        for events before the modelled time, for a ``high_pass`` at the Nyquist
        frequency, and when the design is singular at working precision
        (condition number >= 1e15) and is regularised by raising its singular
        values.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> events = pd.DataFrame({'onset': [10.0, 50.0], 'duration': [20.0, 20.0],
    ...                        'trial_type': ['listen', 'rest']})
    >>> design = make_first_level_design_matrix(np.arange(60) * 2.0, events)
    >>> print(list(design.columns))
    ['listen', 'rest', 'drift_1', 'drift_2', 'constant']
    >>> print(design['listen'].round(3).tolist()[5:12])
    [0.0, 0.022, 0.377, 1.043, 1.481, 1.543, 1.398]
    """
    times = _check_frame_times(frame_times, _OWNER)
    index = np.asarray(frame_times)
    builder = _resolve_hrf_model(hrf_model, _OWNER)
    delays = _check_fir_delays((0,) if fir_delays is None else fir_delays, _OWNER)
    start = _check_min_onset(min_onset, _OWNER)
    oversampling = _check_oversampling(oversampling, _OWNER)
    blocks = []
    if events is not None:
        basis = builder(_repetition_time(times), oversampling, delays)
        blocks.append(_event_regressors(times, index, events, basis, oversampling, start))
    if add_regs is not None:
        blocks.append(_confounds(add_regs, add_reg_names, index))
    elif add_reg_names is not None:
        msg = (
            f"The 'add_reg_names' parameter of {_OWNER} names confounds, but "
            "'add_regs' is None; pass the confounds too, or drop the names."
        )
        raise InvalidParameterError(msg)
    blocks.append(_drift_frame(times, index, drift_model, high_pass, drift_order, _OWNER))
    names = pd.Index([name for block in blocks for name in block.columns])
    _check_unique_names(names)
    matrix = np.hstack([block.to_numpy(dtype=np.float64) for block in blocks])
    return pd.DataFrame(_regularised(matrix), columns=names, index=index)


def _event_regressors(
    times: np.ndarray,
    index: np.ndarray,
    events: pd.DataFrame | str | os.PathLike[str],
    basis: HrfBasis,
    oversampling: int,
    min_onset: float,
) -> pd.DataFrame:
    """Return the regressors of every condition, conditions in sorted order."""
    table = check_events(events)
    conditions = table['trial_type'].to_numpy()
    onsets, durations = table['onset'].to_numpy(), table['duration'].to_numpy()
    amplitudes = table['modulation'].to_numpy()
    columns, names = [], []
    for condition in np.unique(conditions):
        rows = conditions == condition
        timing = (onsets[rows], durations[rows], amplitudes[rows])
        name = str(condition)
        columns.append(_condition_regressors(times, timing, basis, oversampling, min_onset, name))
        names += _regressor_names(name, basis)
    values = np.hstack(columns) if columns else np.empty((times.size, 0))
    return pd.DataFrame(values, columns=names, index=index)


def _confounds(
    add_regs: np.ndarray | pd.DataFrame,
    add_reg_names: Sequence[Hashable] | None,
    index: np.ndarray,
) -> pd.DataFrame:
    """Return the confounds as named float columns, one row per scan, without NaN."""
    names: list[Hashable]
    if isinstance(add_regs, pd.DataFrame):
        names = list(add_regs.columns)
        add_regs = add_regs.to_numpy()
    else:
        add_regs = _confound_array(add_regs)
        names = [f'reg{k}' for k in range(add_regs.shape[-1])]
        names = names if add_reg_names is None else list(add_reg_names)
    values = _confound_values(add_regs, index.size)
    if len(names) != values.shape[1]:
        msg = (
            f"The 'add_reg_names' parameter of {_OWNER} gives {len(names)} names but "
            f"'add_regs' has {values.shape[1]} columns; give one name per column."
        )
        raise ShapeMismatchError(msg)
    return pd.DataFrame(values, columns=names, index=index)


def _confound_array(add_regs: object) -> np.ndarray:
    """Return array-like confounds as a 2D array (a 1D array is one column)."""
    array = np.asarray(add_regs)
    if isinstance(add_regs, (str, bytes)) or array.ndim not in (1, 2):
        msg = (
            f"The 'add_regs' parameter of {_OWNER} must be a 2D array (one row per scan, "
            f'one column per confound), a 1D array or a DataFrame. Got {add_regs!r:.80} '
            'instead.'
        )
        raise ParameterTypeError(msg)
    return array[:, np.newaxis] if array.ndim == 1 else array


def _confound_values(add_regs: np.ndarray, n_scans: int) -> np.ndarray:
    """Check that the confounds are finite numbers with one row per scan."""
    if add_regs.ndim != 2 or add_regs.shape[0] != n_scans:
        msg = (
            f"The 'add_regs' parameter of {_OWNER} has {add_regs.shape[0]} rows but "
            f'there are {n_scans} frame times; give one row of confounds per scan '
            f'(array shape {add_regs.shape}).'
        )
        raise ShapeMismatchError(msg)
    try:
        values = add_regs.astype(np.float64)
    except (TypeError, ValueError):
        msg = f"The 'add_regs' parameter of {_OWNER} must hold numbers only, not text."
        raise ParameterTypeError(msg) from None
    bad_rows = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if bad_rows.size:
        msg = (
            f"The 'add_regs' parameter of {_OWNER} holds NaN or infinite values in "
            f'rows {bad_rows[:10].tolist()}{" ..." if bad_rows.size > 10 else ""}. Fill '
            'them (fMRIPrep derivative columns start with n/a: use fillna(0)) or drop '
            'those columns.'
        )
        raise InvalidParameterError(msg)
    return values


def _check_unique_names(names: pd.Index) -> None:
    """Refuse a design where two columns share a name, or names that read the same."""
    texts = pd.Index([str(name) for name in names])
    repeated = sorted(set(texts[texts.duplicated()]))
    if repeated:
        msg = (
            f'The design matrix would have several columns named {repeated}; rename '
            'the confounds (add_reg_names or the DataFrame columns) or conditions so '
            "that no name repeats, nor matches 'drift_<k>' or 'constant'."
        )
        raise InvalidParameterError(msg)


def _regularised(matrix: np.ndarray) -> np.ndarray:
    """Return ``matrix``, or nilearn's regularised version if it is near singular.

    When the condition number reaches ``MAX_CONDITION_NUMBER``, every singular
    value is raised by the same amount so that the condition number becomes
    exactly that bound, and the matrix is rebuilt from its SVD.
    """
    u, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    largest, smallest = singular.max(), singular.min()
    if smallest > 0 and largest / smallest < MAX_CONDITION_NUMBER:
        return matrix
    warnings.warn(
        'The design matrix is singular at working precision (condition number '
        f'>= {MAX_CONDITION_NUMBER:g}), so it was regularised as nilearn does; its '
        'estimates are unreliable. Look for repeated or collinear regressors: identical '
        'conditions, or confounds that duplicate a drift or the constant.',
        UserWarning,
        stacklevel=3,
    )
    shift = (largest - MAX_CONDITION_NUMBER * smallest) / (MAX_CONDITION_NUMBER - 1)
    return (u * (singular + shift)) @ vt
