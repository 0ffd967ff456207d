"""Haemodynamic response kernels and the regressors of one condition.

An HRF model turns the events of one condition into one or more regressors: the
condition's boxcar (on from each onset for its duration, scaled by its
modulation) is built on a fine time grid, convolved with each kernel of the model,
and sampled at the frame times. :data:`HRF_MODELS` maps each model name to a
builder of its kernels:

=====================================  ==============================================
name                                   regressors per condition
=====================================  ==============================================
``'glover'``, ``'spm'``                the canonical response
``'glover + derivative'``, ...         plus its time derivative (``<name>_derivative``)
``'... + derivative + dispersion'``    plus its dispersion derivative
                                       (``<name>_dispersion``)
``'fir'``                              one box per delay in scans
                                       (``<name>_delay_<d>``)
``None``                               the boxcar itself, unconvolved
=====================================  ==============================================

A callable ``hrf(t_r, oversampling) -> kernel`` (or a list of them) is accepted
too; its regressors are named ``<name>_<function name>``.

Every number follows nilearn 0.14.1: each kernel is a difference of two gamma
densities sampled on ``round(time_length / dt)`` points evenly spread over
``[0, time_length]`` s with ``dt = t_r / oversampling``, shifted by one step
``dt``, and scaled to sum to 1. Glover's undershoot ratio is 0.48 (nilearn
>= 0.11). The derivatives are finite differences, and the extra regressors of a
condition are orthogonalised against the ones before them.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeGuard

import numpy as np
from scipy.special import gammaln, xlogy

from bidsglm.errors import InvalidParameterError, ParameterTypeError, ShapeMismatchError

__all__ = [
    'HRF_MODELS',
    'HrfBasis',
    'compute_regressor',
    'glover_dispersion_derivative',
    'glover_hrf',
    'glover_time_derivative',
    'orthogonalize',
    'spm_dispersion_derivative',
    'spm_hrf',
    'spm_time_derivative',
]

#: Events handled at once when convolving (bounds memory for very long runs).
_EVENTS_PER_CHUNK = 256
#: Step, in seconds, of the finite difference giving the time derivatives.
TIME_DERIVATIVE_STEP = 0.1
#: Step of the finite difference, on the dispersion, giving dispersion derivatives.
DISPERSION_DERIVATIVE_STEP = 0.01


@dataclass(frozen=True)
class _GammaPair:
    """Parameters of a response modelled as peak gamma - ratio * undershoot gamma."""

    delay: float
    undershoot: float
    dispersion: float
    u_dispersion: float
    ratio: float

    def with_dispersion(self, dispersion: float) -> _GammaPair:
        """Return the same pair with another dispersion of the peak."""
        return _GammaPair(self.delay, self.undershoot, dispersion, self.u_dispersion, self.ratio)


_SPM = _GammaPair(delay=6.0, undershoot=16.0, dispersion=1.0, u_dispersion=1.0, ratio=0.167)
_GLOVER = _GammaPair(delay=6.0, undershoot=12.0, dispersion=0.9, u_dispersion=0.9, ratio=0.48)
# nilearn's Glover dispersion derivative keeps the undershoot dispersion at 1.0,
# unlike glover_hrf (0.9); we reproduce it so that the numbers agree.
_GLOVER_FOR_DISPERSION = _GammaPair(
    delay=6.0, undershoot=12.0, dispersion=0.9, u_dispersion=1.0, ratio=0.48
)


def _gamma_pdf(t: np.ndarray, shape: float, loc: float, scale: float) -> np.ndarray:
    """Gamma density with the given shape, location and scale (0 before ``loc``)."""
    x = (t - loc) / scale
    density = np.zeros_like(x)
    inside = x >= 0
    density[inside] = np.exp(xlogy(shape - 1.0, x[inside]) - x[inside] - gammaln(shape)) / scale
    return density


def _gamma_difference(
    pair: _GammaPair, t_r: float, oversampling: int, time_length: float, onset: float
) -> np.ndarray:
    """Sample a difference of two gamma densities and scale it to sum to 1."""
    _check_positive(t_r, 't_r', 'the HRF kernels')
    _check_positive(time_length, 'time_length', 'the HRF kernels')
    step = t_r / oversampling
    times = np.linspace(0, time_length, int(np.rint(float(time_length) / step))) - onset
    peak = _gamma_pdf(times, pair.delay / pair.dispersion, step, pair.dispersion)
    undershoot = _gamma_pdf(times, pair.undershoot / pair.u_dispersion, step, pair.u_dispersion)
    response = peak - pair.ratio * undershoot
    return response / response.sum()


def glover_hrf(
    t_r: float, oversampling: int = 50, time_length: float = 32.0, onset: float = 0.0
) -> np.ndarray:
    """Glover's canonical haemodynamic response, sampled every ``t_r / oversampling`` s.

    Parameters
    ----------
    t_r : float
        Repetition time in seconds.
    oversampling : int, default=50
        Number of kernel samples per repetition time.
    time_length : float, default=32.0
        Length of the kernel in seconds.
    onset : float, default=0.0
        Delay of the response, in seconds.

    Returns
    -------
    kernel : (round(time_length * oversampling / t_r),) ndarray
        The response, scaled to sum to 1. It peaks about 5 s after the onset and
        undershoots (ratio 0.48, as in nilearn >= 0.11) from about 10 s.

    Raises
    ------
    InvalidParameterError
        If ``t_r`` or ``time_length`` is not positive.

    Examples
    --------
    >>> kernel = glover_hrf(t_r=2.0, oversampling=20)
    >>> print(kernel.size, round(float(kernel.sum()), 12))
    320 1.0
    >>> print(f'peak at {kernel.argmax() * 2.0 / 20:.1f} s')
    peak at 5.1 s
    """
    return _gamma_difference(_GLOVER, t_r, oversampling, time_length, onset)


def spm_hrf(
    t_r: float, oversampling: int = 50, time_length: float = 32.0, onset: float = 0.0
) -> np.ndarray:
    """SPM's canonical haemodynamic response, sampled every ``t_r / oversampling`` s.

    Parameters
    ----------
    t_r : float
        Repetition time in seconds.
    oversampling : int, default=50
        Number of kernel samples per repetition time.
    time_length : float, default=32.0
        Length of the kernel in seconds.
    onset : float, default=0.0
        Delay of the response, in seconds.

    Returns
    -------
    kernel : (round(time_length * oversampling / t_r),) ndarray
        The response (peak gamma of shape 6, undershoot of shape 16, ratio 1/6),
        scaled to sum to 1.

    Raises
    ------
    InvalidParameterError
        If ``t_r`` or ``time_length`` is not positive.

    Examples
    --------
    >>> kernel = spm_hrf(t_r=2.0, oversampling=20)
    >>> print(f'peak at {kernel.argmax() * 2.0 / 20:.1f} s')
    peak at 5.1 s
    """
    return _gamma_difference(_SPM, t_r, oversampling, time_length, onset)


def _time_derivative(
    response: Callable[[float, int, float, float], np.ndarray],
    t_r: float,
    oversampling: int,
    time_length: float,
    onset: float,
) -> np.ndarray:
    """Finite difference of ``response`` over a small delay of its onset."""
    late = response(t_r, oversampling, time_length, onset + TIME_DERIVATIVE_STEP)
    now = response(t_r, oversampling, time_length, onset)
    return (1.0 / TIME_DERIVATIVE_STEP) * (now - late)


def glover_time_derivative(
    t_r: float, oversampling: int = 50, time_length: float = 32.0, onset: float = 0.0
) -> np.ndarray:
    """Time derivative of :func:`glover_hrf` (finite difference over 0.1 s).

    Parameters
    ----------
    t_r : float
        Repetition time in seconds.
    oversampling : int, default=50
        Number of kernel samples per repetition time.
    time_length : float, default=32.0
        Length of the kernel in seconds.
    onset : float, default=0.0
        Delay of the response, in seconds.

    Returns
    -------
    kernel : (round(time_length * oversampling / t_r),) ndarray
        ``(glover_hrf(onset) - glover_hrf(onset + 0.1)) / 0.1``; it sums to 0.

    Examples
    --------
    >>> kernel = glover_time_derivative(t_r=2.0, oversampling=20)
    >>> print(abs(round(float(kernel.sum()), 12)))
    0.0
    """
    return _time_derivative(glover_hrf, t_r, oversampling, time_length, onset)


def spm_time_derivative(
    t_r: float, oversampling: int = 50, time_length: float = 32.0, onset: float = 0.0
) -> np.ndarray:
    """Time derivative of :func:`spm_hrf` (finite difference over 0.1 s).

    Parameters
    ----------
    t_r : float
        Repetition time in seconds.
    oversampling : int, default=50
        Number of kernel samples per repetition time.
    time_length : float, default=32.0
        Length of the kernel in seconds.
    onset : float, default=0.0
        Delay of the response, in seconds.

    Returns
    -------
    kernel : (round(time_length * oversampling / t_r),) ndarray
        ``(spm_hrf(onset) - spm_hrf(onset + 0.1)) / 0.1``; it sums to 0.

    Examples
    --------
    >>> kernel = spm_time_derivative(t_r=2.0, oversampling=20)
    >>> print(kernel.size, abs(round(float(kernel.sum()), 12)))
    320 0.0
    """
    return _time_derivative(spm_hrf, t_r, oversampling, time_length, onset)


def _dispersion_derivative(
    pair: _GammaPair, t_r: float, oversampling: int, time_length: float, onset: float
) -> np.ndarray:
    """Finite difference of a gamma-difference response over its peak dispersion."""
    wider = pair.with_dispersion(pair.dispersion + DISPERSION_DERIVATIVE_STEP)
    now = _gamma_difference(pair, t_r, oversampling, time_length, onset)
    later = _gamma_difference(wider, t_r, oversampling, time_length, onset)
    return (1.0 / DISPERSION_DERIVATIVE_STEP) * (now - later)


def glover_dispersion_derivative(
    t_r: float, oversampling: int = 50, time_length: float = 32.0, onset: float = 0.0
) -> np.ndarray:
    """Differentiate the Glover response with respect to the dispersion of its peak.

    Parameters
    ----------
    t_r : float
        Repetition time in seconds.
    oversampling : int, default=50
        Number of kernel samples per repetition time.
    time_length : float, default=32.0
        Length of the kernel in seconds.
    onset : float, default=0.0
        Delay of the response, in seconds.

    Returns
    -------
    kernel : (round(time_length * oversampling / t_r),) ndarray
        A finite difference over a 0.01 change of the peak dispersion (0.9). As in
        nilearn 0.14.1, the undershoot here keeps a dispersion of 1.0.

    Examples
    --------
    >>> kernel = glover_dispersion_derivative(t_r=2.0, oversampling=20)
    >>> print(abs(round(float(kernel.sum()), 12)))
    0.0
    """
    return _dispersion_derivative(_GLOVER_FOR_DISPERSION, t_r, oversampling, time_length, onset)


def spm_dispersion_derivative(
    t_r: float, oversampling: int = 50, time_length: float = 32.0, onset: float = 0.0
) -> np.ndarray:
    """Differentiate the SPM response with respect to the dispersion of its peak.

    Parameters
    ----------
    t_r : float
        Repetition time in seconds.
    oversampling : int, default=50
        Number of kernel samples per repetition time.
    time_length : float, default=32.0
        Length of the kernel in seconds.
    onset : float, default=0.0
        Delay of the response, in seconds.

    Returns
    -------
    kernel : (round(time_length * oversampling / t_r),) ndarray
        A finite difference over a 0.01 change of the peak dispersion (1.0).

    Examples
    --------
    >>> kernel = spm_dispersion_derivative(t_r=2.0, oversampling=20)
    >>> print(kernel.shape)
    (320,)
    """
    return _dispersion_derivative(_SPM, t_r, oversampling, time_length, onset)


@dataclass(frozen=True)
class HrfBasis:
    """The kernels an HRF model convolves each condition with.

    Attributes
    ----------
    kernels : tuple of (n_samples,) ndarray
        One kernel per regressor, sampled every ``t_r / oversampling`` s.
    suffixes : tuple of str
        What each regressor adds to the condition name (``''``,
        ``'_derivative'``, ``'_delay_2'``, ...).
    orthogonal : bool
        Whether each regressor is orthogonalised against the previous ones.
    shift : int
        Number of fine-grid samples the convolved signal is advanced before it is
        sampled at the frame times (``oversampling - 1`` for FIR, else 0).
    """

    kernels: tuple[np.ndarray, ...]
    suffixes: tuple[str, ...]
    orthogonal: bool = True
    shift: int = 0


KernelFunction = Callable[[float, int], np.ndarray]
HrfBuilder = Callable[[float, int, tuple[int, ...]], HrfBasis]


def _gamma_basis(functions: tuple[KernelFunction, ...], suffixes: tuple[str, ...]) -> HrfBuilder:
    """Make the builder of a model whose kernels are the given functions."""

    def build(t_r: float, oversampling: int, fir_delays: tuple[int, ...]) -> HrfBasis:
        del fir_delays  # only FIR models use delays
        return HrfBasis(tuple(function(t_r, oversampling) for function in functions), suffixes)

    return build


def _fir_basis(t_r: float, oversampling: int, fir_delays: tuple[int, ...]) -> HrfBasis:
    """Finite impulse response: a one-scan box, delayed by each of ``fir_delays`` scans."""
    del t_r  # boxes are counted in scans, whatever their length
    box = np.ones(oversampling) / oversampling
    kernels = tuple(np.concatenate([np.zeros(delay * oversampling), box]) for delay in fir_delays)
    suffixes = tuple(f'_delay_{delay}' for delay in fir_delays)
    return HrfBasis(kernels, suffixes, orthogonal=False, shift=oversampling - 1)


def _no_convolution(t_r: float, oversampling: int, fir_delays: tuple[int, ...]) -> HrfBasis:
    """No HRF: the condition's boxcar is sampled as it is."""
    del t_r, oversampling, fir_delays
    return HrfBasis((np.ones(1),), ('',))


def _custom_basis(functions: tuple[KernelFunction, ...]) -> HrfBuilder:
    """Make the builder of user-given kernel functions ``f(t_r, oversampling)``."""

    def build(t_r: float, oversampling: int, fir_delays: tuple[int, ...]) -> HrfBasis:
        del fir_delays
        return HrfBasis(
            tuple(_call_custom(function, t_r, oversampling) for function in functions),
            tuple(f'_{_function_name(function)}' for function in functions),
        )

    return build


def _function_name(function: object) -> str:
    """Return the name of a function, used in the names of its regressors."""
    return str(getattr(function, '__name__', type(function).__name__))


def _call_custom(function: KernelFunction, t_r: float, oversampling: int) -> np.ndarray:
    """Call a user's HRF and check that it returned a non-empty 1D kernel."""
    try:
        kernel = np.asarray(function(t_r, oversampling), dtype=np.float64)
    except TypeError as error:
        msg = (
            f'The custom HRF {_function_name(function)!r} failed when called as '
            f'hrf(t_r={t_r}, oversampling={oversampling}): {error}. A custom HRF takes '
            'these two arguments and returns a 1D kernel sampled every t_r / oversampling s.'
        )
        raise InvalidParameterError(msg) from error
    if kernel.ndim != 1 or kernel.size == 0:
        msg = (
            f'The custom HRF {_function_name(function)!r} returned an array of shape '
            f'{kernel.shape}; it must return a non-empty 1D kernel.'
        )
        raise InvalidParameterError(msg)
    return kernel


#: The HRF models, by name: each builds the kernels for a repetition time, an
#: oversampling factor and FIR delays.
HRF_MODELS: dict[str | None, HrfBuilder] = {
    'glover': _gamma_basis((glover_hrf,), ('',)),
    'spm': _gamma_basis((spm_hrf,), ('',)),
    'glover + derivative': _gamma_basis((glover_hrf, glover_time_derivative), ('', '_derivative')),
    'spm + derivative': _gamma_basis((spm_hrf, spm_time_derivative), ('', '_derivative')),
    'glover + derivative + dispersion': _gamma_basis(
        (glover_hrf, glover_time_derivative, glover_dispersion_derivative),
        ('', '_derivative', '_dispersion'),
    ),
    'spm + derivative + dispersion': _gamma_basis(
        (spm_hrf, spm_time_derivative, spm_dispersion_derivative),
        ('', '_derivative', '_dispersion'),
    ),
    'fir': _fir_basis,
    None: _no_convolution,
}


def _resolve_hrf_model(hrf_model: object, owner: str) -> HrfBuilder:
    """Return the builder of ``hrf_model``: a registry name, None, or callables."""
    if callable(hrf_model):
        return _custom_basis((hrf_model,))
    if isinstance(hrf_model, (list, tuple)) and hrf_model and all(map(callable, hrf_model)):
        return _custom_basis(tuple(hrf_model))
    key = hrf_model.lower() if isinstance(hrf_model, str) else hrf_model
    if (key is None or isinstance(key, str)) and key in HRF_MODELS:
        return HRF_MODELS[key]
    msg = (
        f"The 'hrf_model' parameter of {owner} must be one of {list(HRF_MODELS)}, a "
        f'function hrf(t_r, oversampling) or a list of such functions. Got {hrf_model!r} '
        'instead.'
    )
    if hrf_model is not None and not isinstance(hrf_model, (str, list, tuple)):
        raise ParameterTypeError(msg)
    raise InvalidParameterError(msg)


def orthogonalize(columns: np.ndarray) -> np.ndarray:
    """Make every column orthogonal to the columns before it.

    Each column, from the second on, loses its least-squares projection on the
    columns to its left (Gram-Schmidt without normalisation), so the first
    column is unchanged and the span of the first ``k`` columns is kept. A 1D
    array is a single column, returned unchanged, as nilearn does.

    Parameters
    ----------
    columns : (n_samples, n_columns) or (n_samples,) array-like
        The columns to orthogonalise.

    Returns
    -------
    orthogonal : ndarray of the shape of ``columns``
        A new float64 array; the input is not modified (nilearn's is changed in
        place).

    Raises
    ------
    ShapeMismatchError
        If ``columns`` has more than 2 dimensions.

    Examples
    --------
    >>> out = orthogonalize([[1.0, 2.0], [1.0, 0.0]])
    >>> print(out.tolist())
    [[1.0, 1.0], [1.0, -1.0]]
    >>> print(orthogonalize(np.array([3, 4])))
    [3. 4.]
    """
    result = np.array(columns, dtype=np.float64)
    if result.ndim not in (1, 2):
        msg = (
            'orthogonalize needs a 2D array of columns (or a 1D array, one column); got '
            f'{result.ndim} dimension(s).'
        )
        raise ShapeMismatchError(msg)
    if result.ndim == 1:
        return result
    for index in range(1, result.shape[1]):
        previous = result[:, :index]
        result[:, index] -= previous @ (np.linalg.pinv(previous) @ result[:, index])
    return result


def compute_regressor(
    exp_condition: tuple[Iterable[float], Iterable[float], Iterable[float]] | np.ndarray,
    hrf_model: str | KernelFunction | list[KernelFunction] | None,
    frame_times: Iterable[float],
    con_id: str = 'cond',
    oversampling: int = 50,
    fir_delays: Iterable[int] | None = None,
    min_onset: float = -24.0,
) -> tuple[np.ndarray, list[str]]:
    """Model one condition's events with an HRF model, sampled at the frame times.

    The events make a boxcar on a grid ``oversampling`` times finer than the
    smallest step between frame times, starting ``-min_onset`` s before the first
    frame. Each event adds its amplitude from the first grid time at or after its
    onset up to (not including) the first grid time at or after its end; an
    event of duration 0 lasts one grid step. The boxcar is convolved with each
    kernel of the model and linearly interpolated at the frame times.

    Parameters
    ----------
    exp_condition : (3, n_events) array-like
        The ``(onsets, durations, amplitudes)`` of the condition's events, in
        seconds for the first two.
    hrf_model : str or callable or list of callable or None
        A key of :data:`HRF_MODELS` (case-insensitive), a function
        ``hrf(t_r, oversampling) -> kernel`` or a list of them.
    frame_times : (n_scans,) array-like
        Acquisition times of the scans, in seconds, strictly increasing.
    con_id : str, default='cond'
        Name of the condition; the regressor names start with it.
    oversampling : int, default=50
        Number of fine-grid samples per repetition time.
    fir_delays : iterable of int or None, default=None
        Delays, in scans, of the FIR regressors (``[0]`` when None). Used only by
        ``hrf_model='fir'``.
    min_onset : float, default=-24.0
        Start of the modelled time, in seconds relative to the first frame
        (<= 0). Events earlier than that are cut at that time.

    Returns
    -------
    regressors : (n_scans, n_regressors) ndarray
        One column per regressor of the model, one row per frame time.
    names : list of str
        The name of each column: ``con_id``, ``con_id + '_derivative'``,
        ``con_id + '_delay_<d>'``, ... As nilearn returns them.

    Raises
    ------
    InvalidParameterError
        If a parameter is outside its valid range or the HRF model is unknown;
        :class:`~bidsglm.errors.ParameterTypeError` (also a ``TypeError``) if a
        parameter is of the wrong type.
    ShapeMismatchError
        If ``exp_condition`` does not hold three rows of equal length.

    Warns
    -----
    UserWarning
        If some events start before the modelled time.

    Examples
    --------
    >>> import numpy as np
    >>> regressors, names = compute_regressor(
    ...     ([10.0], [20.0], [1.0]), 'glover', np.arange(20) * 2.0, con_id='block')
    >>> print(names, regressors.shape, regressors[6:11, 0].round(3).tolist())
    ['block'] (20, 1) [0.022, 0.377, 1.043, 1.481, 1.543]
    """
    owner = 'compute_regressor'
    times = _check_frame_times(frame_times, owner)
    delays = _check_fir_delays((0,) if fir_delays is None else fir_delays, owner)
    oversampling = _check_oversampling(oversampling, owner)
    start = _check_min_onset(min_onset, owner)
    builder = _resolve_hrf_model(hrf_model, owner)
    basis = builder(_repetition_time(times), oversampling, delays)
    events = _condition_arrays(exp_condition)
    values = _condition_regressors(times, events, basis, oversampling, start, str(con_id))
    return values, _regressor_names(str(con_id), basis)


def _repetition_time(times: np.ndarray) -> float:
    """Return the smallest step between frame times: the time unit of the kernels."""
    return float(np.min(np.diff(times)))


def _regressor_names(condition: str, basis: HrfBasis) -> list[str]:
    """Return the names of a condition's regressors, which must be distinct."""
    names = [f'{condition}{suffix}' for suffix in basis.suffixes]
    if len(set(names)) != len(names):
        msg = (
            f'The HRF model gives condition {condition!r} regressors with repeated '
            f'names {names}; give the custom HRF functions distinct names.'
        )
        raise InvalidParameterError(msg)
    return names


def _condition_arrays(
    exp_condition: tuple[Iterable[float], Iterable[float], Iterable[float]] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(onsets, durations, amplitudes)`` as float arrays of one length."""
    rows = [np.atleast_1d(np.asarray(row, dtype=np.float64)) for row in exp_condition]
    if len(rows) != 3 or any(row.ndim != 1 or row.size != rows[0].size for row in rows):
        shapes = [row.shape for row in rows]
        msg = (
            'The events of a condition must be three rows (onsets, durations, '
            f'amplitudes) of equal length; got rows of shapes {shapes}.'
        )
        raise ShapeMismatchError(msg)
    return rows[0], rows[1], rows[2]


def _condition_regressors(
    times: np.ndarray,
    events: tuple[np.ndarray, np.ndarray, np.ndarray],
    basis: HrfBasis,
    oversampling: int,
    min_onset: float,
    condition: str,
) -> np.ndarray:
    """Return the ``(n_scans, n_kernels)`` regressors of one condition.

    See :func:`compute_regressor` for the recipe.
    """
    onsets, durations, amplitudes = events
    earliest = times[0] + min_onset
    if np.any(onsets < earliest):
        warnings.warn(
            f'Condition {condition!r} has events starting before {earliest:g} s, more '
            f'than {-min_onset:g} s before the first frame; they are modelled as '
            'starting then. Lower min_onset to model them fully.',
            UserWarning,
            stacklevel=3,
        )
    grid = _fine_grid(times, oversampling, min_onset)
    starts, stops = _event_edges(grid, onsets, durations)
    # The interpolation at the frame times reads the convolved boxcar, advanced by
    # ``shift`` samples, only at the fine samples around each frame time.
    sampled = grid[: grid.size - basis.shift]
    read = _bracketing_samples(sampled, times)
    columns = [
        np.interp(
            times,
            sampled[read],
            _convolved_boxcar(read + basis.shift, starts, stops, amplitudes, kernel),
        )
        for kernel in basis.kernels
    ]
    regressors = np.column_stack(columns)
    return orthogonalize(regressors) if basis.orthogonal else regressors


def _fine_grid(times: np.ndarray, oversampling: int, min_onset: float) -> np.ndarray:
    """Return the fine time grid of the convolution (nilearn 0.14.1's, exactly)."""
    n_scans = times.size
    first, last = float(times.min()), float(times.max())
    if last < 0:
        msg = (
            f'The last frame time is {last:g} s; frame times must end at or after 0 s '
            'to model events (they count from the start of the run).'
        )
        raise InvalidParameterError(msg)
    end = last * (1 + 1.0 / (n_scans - 1))
    per_second = (n_scans - 1) * 1.0 / (last - first)
    n_samples = per_second * ((end - first - min_onset) * oversampling) + 1
    return np.linspace(first + min_onset, end, int(np.rint(n_samples)))


def _event_edges(
    grid: np.ndarray, onsets: np.ndarray, durations: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the fine-grid samples where each event switches on and off.

    An event is on from the first sample at or after its onset up to, not
    including, the first sample at or after its end; both are capped at the last
    sample, and an event that would last no sample lasts one.
    """
    last = grid.size - 1
    starts = np.minimum(np.searchsorted(grid, onsets), last)
    stops = np.minimum(np.searchsorted(grid, onsets + durations), last)
    stops[(stops < last) & (stops == starts)] += 1
    return starts, stops


def _bracketing_samples(grid: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Return the sorted grid samples on either side of each time, for interpolation."""
    after = np.searchsorted(grid, times)
    around = np.concatenate([after - 1, after, after + 1])
    return np.unique(np.clip(around, 0, grid.size - 1))


def _convolved_boxcar(
    samples: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    amplitudes: np.ndarray,
    kernel: np.ndarray,
) -> np.ndarray:
    """Return, at fine-grid ``samples``, the events' boxcar convolved with ``kernel``.

    The boxcar is a sum of steps: ``+amplitude`` at each start and
    ``-amplitude`` at each stop. Its convolution is therefore the same sum of
    copies of the kernel's step response (the running sum of the kernel, constant
    once the kernel ends), shifted to each edge. This equals convolving the
    sampled boxcar (nilearn's route) at the cost of a few products per sample.
    """
    step_response = np.cumsum(kernel)

    def response(edges: np.ndarray) -> np.ndarray:
        lags = samples[:, np.newaxis] - edges[np.newaxis, :]
        values = step_response[np.clip(lags, 0, step_response.size - 1)]
        return np.where(lags >= 0, values, 0.0)

    total = np.zeros(samples.size)
    for first in range(0, starts.size, _EVENTS_PER_CHUNK):  # bounds the memory used
        chunk = slice(first, first + _EVENTS_PER_CHUNK)
        total += (response(starts[chunk]) - response(stops[chunk])) @ amplitudes[chunk]
    return total


def _param_message(name: str, owner: str, expected: str, value: object) -> str:
    """Word an invalid parameter as sklearn does: whose, what it must be, what it was."""
    return f'The {name!r} parameter of {owner} must be {expected}. Got {value!r} instead.'


def _is_real(value: object) -> TypeGuard[float]:
    """Tell whether ``value`` is a real number (booleans excluded)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _check_real(value: object, name: str, owner: str, expected: str) -> float:
    """Return ``value`` as a float if it is a real number, else a type error."""
    if not _is_real(value):
        raise ParameterTypeError(_param_message(name, owner, expected, value))
    return float(value)


def _check_positive(value: object, name: str, owner: str) -> float:
    """Return ``value`` as a float if it is a finite number > 0."""
    number = _check_real(value, name, owner, 'a float in (0, inf)')
    if not (np.isfinite(number) and number > 0):
        msg = _param_message(name, owner, 'a float in (0, inf)', value)
        raise InvalidParameterError(msg)
    return number


def _check_min_onset(value: object, owner: str) -> float:
    """Return ``min_onset`` as a float if it is finite and <= 0."""
    expected = 'a float in (-inf, 0] (seconds before the first frame)'
    number = _check_real(value, 'min_onset', owner, expected)
    if not (np.isfinite(number) and number <= 0):
        msg = _param_message('min_onset', owner, expected, value)
        raise InvalidParameterError(msg)
    return number


def _check_oversampling(value: object, owner: str) -> int:
    """Return ``oversampling`` if it is an int >= 1."""
    msg = _param_message('oversampling', owner, 'an int in [1, inf)', value)
    if not (isinstance(value, numbers.Integral) and _is_real(value)):
        raise ParameterTypeError(msg)
    if value < 1:
        raise InvalidParameterError(msg)
    return int(value)


def _is_delay(value: object) -> bool:
    """Tell whether ``value`` is a whole, non-negative number of scans."""
    return _is_real(value) and float(value).is_integer() and value >= 0


def _check_fir_delays(value: object, owner: str) -> tuple[int, ...]:
    """Return the FIR delays as distinct non-negative ints."""
    items = [value] if _is_real(value) else value
    if isinstance(items, Iterable) and not isinstance(items, str):
        delays = list(items)
        if delays and all(map(_is_delay, delays)) and len(set(delays)) == len(delays):
            return tuple(int(delay) for delay in delays)
    expected = 'a non-empty list of distinct non-negative ints (delays in scans)'
    msg = _param_message('fir_delays', owner, expected, value)
    if not isinstance(items, Iterable) or isinstance(items, str):
        raise ParameterTypeError(msg)
    raise InvalidParameterError(msg)


def _check_frame_times(frame_times: object, owner: str) -> np.ndarray:
    """Return the frame times as floats if they are finite and strictly increasing."""
    try:
        times = np.asarray(frame_times, dtype=np.float64)
    except (TypeError, ValueError):
        times = np.empty(0)
    if times.ndim != 1 or times.size < 2 or not np.all(np.isfinite(times)):
        expected = 'a 1D array of at least 2 finite, strictly increasing times in seconds'
        msg = _param_message('frame_times', owner, expected, frame_times)
        raise InvalidParameterError(msg)
    steps = np.diff(times)
    if steps.min() <= 0:
        worst = int(np.argmin(steps))
        msg = (
            f"The 'frame_times' parameter of {owner} must be strictly increasing: the "
            f'repetition time it implies (its smallest step) must be positive, but '
            f'frames {worst} and {worst + 1} are {steps[worst]:g} s apart.'
        )
        raise InvalidParameterError(msg)
    return times
