"""``Convolve``: events (or a dense series) through an HRF, sampled at the run's volumes."""

from __future__ import annotations

import numpy as np

from bidsglm.dataset.transformations._common import (
    fail,
    numbers,
    refuse_missing,
    run_timing,
)
from bidsglm.dataset.transformations._variables import (
    DenseVariable,
    SparseVariable,
    Variable,
    VariableCollection,
)
from bidsglm.design.hrf import HRF_MODELS, compute_regressor

#: The HRF names pybids' Convolve takes (``Derivative`` and ``Dispersion`` add the
#: derivatives); the full names of bidsglm's HRF registry are accepted as well.
CONVOLVE_MODELS = ('spm', 'glover', 'fir')


def hrf_key(model: str, derivative: bool, dispersion: bool) -> str:
    """Return the key of :data:`~bidsglm.design.HRF_MODELS` that a Convolve asks for.

    Examples
    --------
    >>> hrf_key('SPM', derivative=True, dispersion=False)
    'spm + derivative'
    """
    key = model.lower()
    if key in ('spm', 'glover'):
        if dispersion and not derivative:
            fail(
                f'Convolve: the {model!r} model has a dispersion derivative only together '
                'with the time derivative; set "Derivative": true as well.'
            )
        key += ' + derivative' * derivative + ' + dispersion' * dispersion
    known = [name for name in HRF_MODELS if name is not None]
    if key not in known:
        choices = list(dict.fromkeys([*CONVOLVE_MODELS, *known]))
        fail(f'Convolve: unknown Model {model!r}; use one of {choices}.')
    return key


def _events(variable: Variable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (onsets, durations, amplitudes): the events, or one per dense sample."""
    if isinstance(variable, SparseVariable):
        return variable.onset, variable.duration, numbers(variable)
    if not isinstance(variable, DenseVariable):
        fail(f'Convolve needs events or a time series; {variable.name!r} has no timing.')
    step = 1.0 / variable.sampling_rate
    onsets = np.arange(len(variable)) * step
    return onsets, np.full(onsets.size, step), numbers(variable)


def _pybids_name(variable: str, regressor: str) -> str:
    """Name a regressor as pybids does: ``x``, ``x_derivative``, ``x_<delay>``, ..."""
    suffix = regressor[len(variable) :]
    return variable + (f'_{suffix.rsplit("_", 1)[-1]}' if suffix else '')


def convolve(
    variable: Variable,
    collection: VariableCollection,
    model: str = 'spm',
    derivative: bool = False,
    dispersion: bool = False,
    fir_delays: list[int] | None = None,
) -> tuple[Variable, ...]:
    """Convolve with an HRF and sample at the run's volumes (``RunTiming.frame_times``).

    The regressors are bidsglm's :func:`~bidsglm.design.hrf.compute_regressor`
    with the run's ``oversampling`` and ``min_onset``: the numbers of bidsglm's own
    design matrices. A dense input is a train of events, one per sample, each
    lasting one sample. The results are dense, one value per volume.
    """
    refuse_missing(variable, 'Convolve')
    timing = run_timing(collection, 'Convolve')
    key = hrf_key(model, bool(derivative), bool(dispersion))
    regressors, names = compute_regressor(
        _events(variable),
        key,
        timing.frame_times,
        con_id=variable.name,
        oversampling=timing.oversampling,
        fir_delays=fir_delays,
        min_onset=timing.min_onset,
    )
    rate = 1.0 / float(timing.repetition_time)
    return tuple(
        DenseVariable(_pybids_name(variable.name, name), regressors[:, index], rate)
        for index, name in enumerate(names)
    )
