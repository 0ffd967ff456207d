"""``Model.HRF``: the HRF names model files use, mapped onto bidsglm's kernels.

Names are compared without case and without spaces around ``+``
(``"SPM+derivative"`` is ``"spm + derivative"``).

=======================================  ==========================================
name in the model file                   bidsglm kernel (:data:`HRF_MODELS`)
=======================================  ==========================================
``spm``, ``glover``                      the same
``spm + derivative``, ``glover + ...``   the same, with the time derivative
``... + derivative + dispersion``        the same, with both derivatives
``DoubleGamma`` (bidspm, pybids'         ``spm``: SPM's canonical HRF is a double
auto model, FSL)                         gamma (peak 6 s, undershoot 16 s, ratio
                                         1/6, FSL's default double-gamma too);
                                         bidspm reads the name so. Gamma
                                         ``Parameters`` cannot be honoured: refused
``fir``                                  ``fir``, ``Parameters.fir_delays`` (or
                                         ``FirDelays``) in volumes, required
other (``afni``, ``gamma``...)           refused, listing these names
=======================================  ==========================================

``Software.SPM.HRFderivatives`` (bidspm) adds the derivatives to ``spm``:
``Temporal`` gives ``spm + derivative``, ``TemporalDispersion`` gives
``spm + derivative + dispersion``, ``none`` nothing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bidsglm.dataset.stats_models._fields import check_keys, name_list, reject
from bidsglm.dataset.stats_models._types import Hrf
from bidsglm.design.hrf import HRF_MODELS

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ['HRF_NAMES', 'add_derivatives', 'read_hrf']

#: Each name a model file may give (normalised), to bidsglm's kernel.
HRF_NAMES: dict[str, str] = {
    **{name: name for name in HRF_MODELS if name is not None},
    'doublegamma': 'spm',
}
_KEYS = frozenset({'Variables', 'Model', 'Parameters', 'Description'})
_DERIVATIVES = {
    'temporal': ' + derivative',
    'temporaldispersion': ' + derivative + dispersion',
    'none': '',
}


def normalise_name(name: str) -> str:
    """Return a HRF name without case and with one space around each ``+``.

    Examples
    --------
    >>> normalise_name('SPM+Derivative'), normalise_name('DoubleGamma')
    ('spm + derivative', 'doublegamma')
    """
    return re.sub(r'\s*\+\s*', ' + ', name.strip().lower())


def _delays(parameters: Mapping[str, Any], where: str) -> tuple[int, ...]:
    delays = parameters.get('fir_delays', parameters.get('FirDelays'))
    if not isinstance(delays, list) or not delays:
        reject(f'{where}.Parameters', 'the "fir" model needs "fir_delays": [0, 1, 2, ...]')
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in delays):
        reject(f'{where}.Parameters.fir_delays', f'expected whole numbers >= 0, got {delays}')
    return tuple(delays)


def read_hrf(obj: object, where: str) -> Hrf:
    """Read ``Model.HRF``.

    Examples
    --------
    >>> read_hrf({'Variables': ['a'], 'Model': 'DoubleGamma'}, 'HRF')
    Hrf(model='spm', variables=('a',), fir_delays=None, written='DoubleGamma')
    """
    hrf = check_keys(obj, _KEYS, where, {})
    written = hrf.get('Model')
    key = normalise_name(written) if isinstance(written, str) else None
    if key not in HRF_NAMES:
        reject(
            f'{where}.Model',
            f'the HRF model {written!r} is not available',
            f'choose one of {sorted({*HRF_NAMES, "DoubleGamma"} - {"doublegamma"})}',
        )
    assert key is not None
    parameters = hrf.get('Parameters') or {}
    if not isinstance(parameters, dict):
        reject(f'{where}.Parameters', f'expected an object, got {parameters!r}')
    model = HRF_NAMES[key]
    delays = _delays(parameters, where) if model == 'fir' else None
    if model != 'fir' and parameters:
        reject(
            f'{where}.Parameters',
            f'parameters {sorted(parameters)} of the {written!r} HRF cannot be honoured: '
            f"bidsglm uses the {model!r} kernel as it is (pybids' auto model writes such "
            'parameters, but neither pybids nor FitLins applies them)',
            'remove "Parameters" to use that kernel',
        )
    variables = (
        name_list(hrf['Variables'], f'{where}.Variables', empty=True)
        if 'Variables' in hrf
        else None
    )
    return Hrf(model, variables, delays, str(written))


def add_derivatives(hrf: Hrf, value: object, where: str) -> Hrf:
    """Apply ``Software.SPM.HRFderivatives`` (bidspm) to an ``spm`` or ``glover`` HRF.

    Examples
    --------
    >>> add_derivatives(Hrf('spm', ('a',)), 'Temporal', 'x').model
    'spm + derivative'
    """
    key = normalise_name(value).replace(' ', '') if isinstance(value, str) else None
    if key not in _DERIVATIVES:
        reject(where, f'expected one of ["Temporal", "TemporalDispersion", "none"], got {value!r}')
    assert key is not None
    if not _DERIVATIVES[key]:
        return hrf
    if hrf.model not in ('spm', 'glover'):
        reject(where, f'derivatives can be added to "spm" or "glover", not to {hrf.written!r}')
    return Hrf(hrf.model + _DERIVATIVES[key], hrf.variables, hrf.fir_delays, hrf.written)
