"""Slow drift regressors, and the constant, of a first-level design.

:data:`DRIFT_MODELS` maps each drift model to a builder of its columns, always
ending with a column of ones:

``'cosine'``
    The discrete cosine basis (DCT-II) below ``high_pass`` Hz: with ``n`` scans
    and mean step ``dt``, ``K = min(n - 1, floor(2 * n * high_pass * dt))``
    columns ``sqrt(2 / n) * cos(pi / n * (t + 0.5) * k)``, ``k = 1..K``,
    ``t = 0..n-1``.
``'polynomial'``
    The powers ``1..drift_order`` of ``frame_times / max(frame_times)``, each
    orthogonalised against the constant and the lower powers (not normalised).
``None``
    The constant alone.

The columns are named ``drift_1 ... drift_K`` and ``constant``, and their values
are nilearn 0.14.1's.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from bidsglm.design.hrf import (
    _check_frame_times,
    _check_positive,
    _param_message,
    orthogonalize,
)
from bidsglm.errors import InvalidParameterError, ParameterTypeError

__all__ = ['DRIFT_MODELS', 'make_drift']

DriftBuilder = Callable[[np.ndarray, float, int], np.ndarray]


def _cosine_drift(times: np.ndarray, high_pass: float, drift_order: int) -> np.ndarray:
    """Build the cosines below ``high_pass`` Hz, then the constant."""
    del drift_order  # the number of cosines follows from high_pass
    n_scans = times.size
    step = (times[-1] - times[0]) / (n_scans - 1)
    if high_pass * step >= 0.5:
        warnings.warn(
            f'high_pass={high_pass} Hz is at or above the Nyquist frequency of a '
            f'{step:g} s sampling: the cosine drifts span every frequency and saturate '
            'the design. Lower high_pass (0.01 Hz, a 100 s period, is usual).',
            UserWarning,
            stacklevel=4,
        )
    n_cosines = min(n_scans - 1, int(np.floor(2 * n_scans * high_pass * step)))
    orders = np.arange(1, n_cosines + 1)
    phases = (np.pi / n_scans) * (np.arange(n_scans)[:, np.newaxis] + 0.5) * orders
    cosines = np.sqrt(2.0 / n_scans) * np.cos(phases)
    return np.column_stack([cosines, np.ones(n_scans)])


def _polynomial_drift(times: np.ndarray, high_pass: float, drift_order: int) -> np.ndarray:
    """Build orthogonalised powers 1..drift_order of the scaled times, then the constant."""
    del high_pass  # polynomials have no cut-off frequency
    last = float(times.max())
    if last == 0:
        msg = (
            'A polynomial drift scales the frame times by the last one, which is 0 s '
            'here; count frame times from the start of the run (the first frame at '
            '>= 0 s).'
        )
        raise InvalidParameterError(msg)
    powers = (times / last)[:, np.newaxis] ** np.arange(drift_order + 1)
    orthogonal = orthogonalize(powers)
    return np.column_stack([orthogonal[:, 1:], orthogonal[:, :1]])


def _constant_only(times: np.ndarray, high_pass: float, drift_order: int) -> np.ndarray:
    """Build the constant column alone."""
    del high_pass, drift_order
    return np.ones((times.size, 1))


#: The drift models, by name: each builds its columns (the constant last) from the
#: frame times, the high-pass cut-off in Hz and the polynomial order.
DRIFT_MODELS: dict[str | None, DriftBuilder] = {
    'cosine': _cosine_drift,
    'polynomial': _polynomial_drift,
    None: _constant_only,
}


def make_drift(
    frame_times: np.ndarray,
    drift_model: str | None = 'cosine',
    high_pass: float = 0.01,
    drift_order: int = 1,
) -> pd.DataFrame:
    """Build the drift columns and the constant of a first-level design.

    Parameters
    ----------
    frame_times : (n_scans,) array-like
        Acquisition times of the scans, in seconds, strictly increasing.
    drift_model : {'cosine', 'polynomial', None}, default='cosine'
        A key of :data:`DRIFT_MODELS` (case-insensitive).
    high_pass : float, default=0.01
        Cut-off frequency, in Hz, of the cosine drifts (> 0).
    drift_order : int, default=1
        Highest power of the polynomial drifts (>= 0).

    Returns
    -------
    drifts : pandas.DataFrame
        Columns ``drift_1 ... drift_K`` then ``constant``, indexed by the frame
        times.

    Raises
    ------
    InvalidParameterError
        If the drift model is unknown or a parameter is out of range;
        :class:`~bidsglm.errors.ParameterTypeError` (also a ``TypeError``) if a
        parameter is of the wrong type.

    Warns
    -----
    UserWarning
        If ``high_pass`` reaches the Nyquist frequency of the frame times.

    Examples
    --------
    >>> import numpy as np
    >>> drifts = make_drift(np.arange(60) * 2.0, 'cosine', high_pass=0.01)
    >>> print(list(drifts.columns), round(float(drifts['drift_1'].iloc[0]), 6))
    ['drift_1', 'drift_2', 'constant'] 0.182512
    """
    times = _check_frame_times(frame_times, 'make_drift')
    return _drift_frame(
        times, np.asarray(frame_times), drift_model, high_pass, drift_order, 'make_drift'
    )


def _drift_frame(
    times: np.ndarray,
    index: np.ndarray,
    drift_model: object,
    high_pass: object,
    drift_order: object,
    owner: str,
) -> pd.DataFrame:
    """Check the drift parameters of ``owner`` and build the named drift columns."""
    builder = _resolve_drift_model(drift_model, owner)
    cut_off = _check_positive(high_pass, 'high_pass', owner)
    order = _check_drift_order(drift_order, owner)
    columns = builder(times, cut_off, order)
    names = [f'drift_{k}' for k in range(1, columns.shape[1])] + ['constant']
    return pd.DataFrame(columns, columns=names, index=index)


def _resolve_drift_model(drift_model: object, owner: str) -> DriftBuilder:
    """Return the builder of ``drift_model`` (a case-insensitive name, or None)."""
    key = drift_model.lower() if isinstance(drift_model, str) else drift_model
    if (key is None or isinstance(key, str)) and key in DRIFT_MODELS:
        return DRIFT_MODELS[key]
    msg = _param_message('drift_model', owner, f'one of {list(DRIFT_MODELS)}', drift_model)
    if drift_model is not None and not isinstance(drift_model, str):
        raise ParameterTypeError(msg)
    raise InvalidParameterError(msg)


def _check_drift_order(value: object, owner: str) -> int:
    """Return the polynomial order if it is an int >= 0."""
    msg = _param_message('drift_order', owner, 'an int in [0, inf)', value)
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise ParameterTypeError(msg)
    if value < 0:
        raise InvalidParameterError(msg)
    return int(value)
