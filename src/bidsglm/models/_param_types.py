"""The types the estimators' parameters may have, checked as nilearn checks them.

nilearn 0.14.1 checks the type of some parameters at the start of ``fit`` and
raises a ``TypeError`` for a wrong one (``t_r='2'``, ``n_jobs=1.5``,
``memory_level='a'``), even for parameters it then ignores. We check the same
parameters against the same types and raise a
:class:`~bidsglm.errors.ParameterTypeError`, which is a ``TypeError`` and a
``ValueError``, so the ``except`` clauses written for nilearn still catch it. Values
of the right type but out of range are the estimators' own checks.

Booleans are refused where a number is expected (``t_r=True``), as nilearn does.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from bidsglm.errors import ParameterTypeError

__all__ = ['check_parameter_types']


def _real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _optional(test: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: value is None or test(value)


def _memory(value: object) -> bool:
    """None, a cache folder, or a joblib ``Memory`` (anything with ``cache``)."""
    return value is None or isinstance(value, (str, os.PathLike)) or hasattr(value, 'cache')


def _random_state(value: object) -> bool:
    random = (np.random.RandomState, np.random.Generator)
    return value is None or _integer(value) or isinstance(value, random)


def _hrf_model(value: object) -> bool:
    return value is None or isinstance(value, (str, list, tuple)) or callable(value)


def _array_like(value: object) -> bool:
    return value is None or isinstance(value, (np.ndarray, list, tuple))


#: Each checked parameter: how to test its type, and what the message says it must be.
RULES: dict[str, tuple[Callable[[object], bool], str]] = {
    't_r': (_optional(_real), 'a float or None'),
    'slice_time_ref': (_optional(_real), 'a float in [0, 1]'),
    'high_pass': (_optional(_real), 'a float in (0, inf)'),
    'smoothing_fwhm': (_optional(_real), 'a float in [0, inf) or None'),
    'hrf_model': (_hrf_model, 'a name, a function hrf(t_r, oversampling), a list of them'),
    'noise_model': (lambda value: isinstance(value, str), "a name such as 'ar1' or 'ols'"),
    'n_jobs': (_integer, 'a non-zero int (-1 for every core)'),
    'memory_level': (_integer, 'an int'),
    'verbose': (lambda value: isinstance(value, bool) or _integer(value), 'a bool or an int'),
    'memory': (_memory, 'None, a folder path or a joblib.Memory'),
    'random_state': (_random_state, 'an int, a numpy random generator or None'),
    'target_affine': (_array_like, 'an array, a list, a tuple or None'),
    'target_shape': (_array_like, 'a tuple, a list, an array or None'),
}


def check_parameter_types(model: Any) -> None:  # noqa: ANN401
    """Raise a :class:`ParameterTypeError` for the first parameter of a wrong type.

    Only the parameters the model has are checked.

    Parameters
    ----------
    model : FirstLevelModel or SecondLevelModel
        The estimator whose stored parameters are checked.

    Raises
    ------
    ParameterTypeError
        Naming the parameter, what it must be, and the value given.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> check_parameter_types(SimpleNamespace(t_r=2.0, n_jobs=-1))
    >>> check_parameter_types(SimpleNamespace(t_r='2'))
    Traceback (most recent call last):
    ...
    bidsglm.errors.ParameterTypeError: The 't_r' parameter of SimpleNamespace must be a float or None. Got '2' (str) instead.
    """  # noqa: E501
    for name, (accepted, expected) in RULES.items():
        if not hasattr(model, name):
            continue
        value = getattr(model, name)
        if not accepted(value):
            msg = (
                f'The {name!r} parameter of {type(model).__name__} must be {expected}. '
                f'Got {value!r:.80} ({type(value).__name__}) instead.'
            )
            raise ParameterTypeError(msg)
