"""``Model.Software``: the options of other packages that have a meaning here.

The specification leaves each package its own section. bidsglm reads the few
options that mean something for its models and ignores the others, each named in
one info line (:attr:`StatsModel.notes`):

=========================================  =========================================
option                                     what bidsglm does
=========================================  =========================================
``SPM.SerialCorrelation`` (also            ``"AR(1)"``: the AR(1) noise model;
``SPM.Whitening``, ``SPM.whitening``)      ``"none"``/``"OLS"``: OLS; ``"FAST"``
                                           (SPM's multi-lag model): not available,
                                           AR(1) is fitted, said in the notes
``SPM.HRFderivatives``                     ``"Temporal"`` / ``"TemporalDispersion"``
                                           add the derivatives to the HRF
``SPM.ParametricModulations``              read (bidspm): each condition's events
                                           modulated by a column's values, as SPM
                                           makes them
                                           (:mod:`bidsglm.dataset.modulations`)
``bidsglm.NoiseModel``                     ``"ar1"`` or ``"ols"``
``bidsglm.SmoothingFWHM``                  Gaussian smoothing of the runs, in mm
``SPM.InclusiveMaskingThreshold``,         ignored (the brain mask is used), noted
``bidspm.*``, any other package
=========================================  =========================================

An option given on the command line (``--noise-model``, ``--smoothing-fwhm``) wins
over the model's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bidsglm.dataset.stats_models._fields import check_keys, name_list, reject
from bidsglm.dataset.stats_models._types import ParametricModulation

__all__ = ['read_software']

_AR1 = ('ar(1)', 'ar1')
_OLS = ('none', 'ols', 'off')


def _serial_correlation(value: object, where: str, settings: dict[str, Any]) -> str | None:
    text = value.strip().lower() if isinstance(value, str) else ''
    if text in _AR1:
        settings['noise_model'] = 'ar1'
        return None
    if text in _OLS:
        settings['noise_model'] = 'ols'
        return None
    return f'{where} {value!r} is not available: bidsglm fits AR(1) (or OLS with "none")'


def _hrf_derivatives(value: object, where: str, settings: dict[str, Any]) -> str | None:
    settings['hrf_derivatives'] = (value, where)
    return None


_MODULATION_KEYS = frozenset(
    {'Name', 'Conditions', 'Values', 'PolynomialExpansion', 'Description'}
)


def _modulation(item: object, where: str) -> ParametricModulation:
    """Read one parametric modulation: a name, conditions, one values column, an order."""
    given = check_keys(item, _MODULATION_KEYS, where, {})
    name = given.get('Name')
    if not isinstance(name, str) or not name.strip():
        reject(f'{where}.Name', f"expected the modulator's name, got {name!r}")
    values = name_list(given.get('Values'), f'{where}.Values')
    if len(values) != 1:
        reject(
            f'{where}.Values',
            f'expected one column of amplitudes, got {list(values)}',
            'write one modulation per column',
        )
    order = given.get('PolynomialExpansion', 1)
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        reject(f'{where}.PolynomialExpansion', f'expected a whole number >= 1, got {order!r}')
    conditions = name_list(given.get('Conditions'), f'{where}.Conditions')
    return ParametricModulation(name, conditions, values[0], order)


def _parametric_modulations(value: object, where: str, settings: dict[str, Any]) -> str | None:
    if not isinstance(value, list):
        reject(where, f'expected a list of modulations, got {value!r}')
    settings['modulations'] = tuple(
        _modulation(item, f'{where}[{index}]') for index, item in enumerate(value)
    )
    return None


def _noise_model(value: object, where: str, settings: dict[str, Any]) -> str | None:
    if value not in ('ar1', 'ols'):
        reject(where, f'expected "ar1" or "ols", got {value!r}')
    settings['noise_model'] = value
    return None


def _smoothing(value: object, where: str, settings: dict[str, Any]) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        reject(where, f'expected a full width at half maximum >= 0 in mm, got {value!r}')
    settings['smoothing_fwhm'] = float(value) or None
    return None


Handler = Callable[[object, str, dict[str, Any]], 'str | None']
#: The options read, by (package in lower case, option).
READ: dict[tuple[str, str], Handler] = {
    ('spm', 'SerialCorrelation'): _serial_correlation,
    ('spm', 'Whitening'): _serial_correlation,
    ('spm', 'whitening'): _serial_correlation,
    ('spm', 'HRFderivatives'): _hrf_derivatives,
    ('spm', 'ParametricModulations'): _parametric_modulations,
    ('bidsglm', 'NoiseModel'): _noise_model,
    ('bidsglm', 'SmoothingFWHM'): _smoothing,
}


def read_software(obj: object, where: str, level: str) -> tuple[dict[str, Any], list[str]]:
    """Read ``Model.Software``: the settings it gives, and what it leaves unread.

    Parameters
    ----------
    obj : object
        The ``Software`` object: one object of options per package.
    where : str
        Its place in the file, for messages.
    level : str
        The node's level; options of the Run node only are read at other levels as
        ignored.

    Returns
    -------
    settings : dict
        ``noise_model``, ``smoothing_fwhm``, ``hrf_derivatives`` and
        ``modulations`` when given.
    notes : list of str
        The options ignored, one line each.

    Examples
    --------
    >>> settings, notes = read_software(
    ...     {'SPM': {'SerialCorrelation': 'AR(1)', 'InclusiveMaskingThreshold': 0.8},
    ...      'bidspm': {'Results': []}}, 'Software', 'Run')
    >>> settings
    {'noise_model': 'ar1'}
    >>> print(notes[0])
    Software.SPM.InclusiveMaskingThreshold, Software.bidspm.Results: not read by bidsglm
    """
    if not isinstance(obj, dict):
        reject(where, f'expected an object of packages, got {obj!r}')
    settings: dict[str, Any] = {}
    notes: list[str] = []
    ignored: list[str] = []
    for package, options in obj.items():
        if not isinstance(options, dict):
            ignored.append(f'{where}.{package}')
            continue
        for option, value in options.items():
            place = f'{where}.{package}.{option}'
            handler = READ.get((package.lower(), option))
            if handler is None or option == 'Description' or level != 'Run':
                ignored.append(place)
                continue
            note = handler(value, place, settings)
            if note:
                notes.append(note)
    if ignored:
        notes.append(f'{", ".join(ignored)}: not read by bidsglm')
    return settings, notes
