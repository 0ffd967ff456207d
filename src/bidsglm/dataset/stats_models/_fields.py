"""Reading the small values of a model file: errors that say where, names, weights, filters."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NoReturn

from bidsglm.dataset.stats_models._types import INTERCEPT
from bidsglm.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    'ENTITY_KEYS',
    'check_keys',
    'entity_key',
    'filters',
    'name_list',
    'reject',
    'test_of',
    'weights',
]

#: The tests a contrast may ask for; ``FEMA`` is FitLins' fixed-effects t-test.
TESTS = ('t', 'F', 'pass', 'FEMA')
#: Entity names as pybids and the specification write them, to bidsglm's short keys.
ENTITY_KEYS = {
    'subject': 'sub',
    'session': 'ses',
    'task': 'task',
    'acquisition': 'acq',
    'ceagent': 'ce',
    'reconstruction': 'rec',
    'direction': 'dir',
    'run': 'run',
    'echo': 'echo',
    'part': 'part',
    'space': 'space',
    'resolution': 'res',
    'density': 'den',
    'description': 'desc',
    'suffix': 'suffix',
}
_SHORT_KEYS = frozenset(ENTITY_KEYS.values())


def reject(where: str, problem: str, advice: str = '') -> NoReturn:
    """Raise the error for a model file: where, what is wrong, what to do.

    Examples
    --------
    >>> reject('Nodes[0].Level', "expected 'Run', got 'run_level'", 'fix the Level')
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: BIDS Stats Model, Nodes[0].Level: expected ...
    """
    tail = f' {advice[0].upper()}{advice[1:]}.' if advice else ''
    msg = f'BIDS Stats Model, {where}: {problem}.{tail}'
    raise InvalidParameterError(msg)


def check_keys(
    obj: object, known: frozenset[str], where: str, advice: Mapping[str, str]
) -> dict[str, Any]:
    """Check ``obj`` is an object holding only keys that are read; return it."""
    if not isinstance(obj, dict):
        reject(where, f'expected a JSON object, got {type(obj).__name__} {obj!r}')
    for key in obj:
        if key not in known:
            hint = advice.get(key, f'the keys read here are {sorted(known)}')
            reject(f'{where}.{key}', f'{key!r} is not supported by bidsglm', hint)
    return obj


def name_list(
    value: object, where: str, *, intercept: bool = False, empty: bool = False
) -> tuple[str, ...]:
    """Read a list of names (and the intercept ``1`` when allowed).

    A single string is refused: the specification writes lists, and a string would
    be read letter by letter by tools that iterate over it.

    Examples
    --------
    >>> name_list(['a', 1], 'X', intercept=True)
    ('a', '1')
    >>> name_list('a', 'X')
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: BIDS Stats Model, X: expected a list of names...
    """
    allowed = 'names or 1' if intercept else 'names'
    if not isinstance(value, list):
        reject(where, f'expected a list of {allowed}, got {value!r}', f'write [{value!r}]')
    if not value and not empty:
        reject(where, f'expected a list of {allowed}, got an empty list', 'fill it in')
    names = []
    for item in value:
        if intercept and item in (1, INTERCEPT) and not isinstance(item, bool):
            names.append(INTERCEPT)
        elif isinstance(item, str) and item.strip():
            names.append(item)
        else:
            allowed = 'a name or 1' if intercept else 'a name'
            reject(where, f'expected {allowed}, got {item!r}')
    return tuple(names)


def _weight(value: object, where: str) -> float:
    """Read one weight: a number or a fraction string such as ``"1/3"``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        reject(where, f'a weight must be a number or a string like "1/3", got {value!r}')
    try:
        return float(Fraction(value)) if isinstance(value, str) else float(value)
    except (ValueError, ZeroDivisionError):
        reject(where, f'cannot read the weight {value!r}', 'write it like "1/3"')


def weights(
    value: object, n_conditions: int, test: str, where: str
) -> tuple[tuple[float, ...], ...]:
    """Read 1D or 2D weights, one per condition in each row.

    Examples
    --------
    >>> weights([1, '-1/2'], 2, 't', 'w')
    ((1.0, -0.5),)
    """
    if not isinstance(value, list) or not value:
        reject(where, f'expected a list of weights, got {value!r}')
    two_d = all(isinstance(row, list) for row in value)
    if two_d and test != 'F' and len(value) > 1:
        reject(where, f'2D weights need "Test": "F" (got {test!r})')
    rows = value if two_d else [value]
    table = tuple(tuple(_weight(w, where) for w in row) for row in rows)
    for row in table:
        if len(row) != n_conditions:
            reject(where, f'{len(row)} weights for {n_conditions} conditions in ConditionList')
        if not any(row):
            reject(where, 'a row of weights is all zeros')
    return table


def test_of(value: object, where: str) -> str:
    """Read a ``Test``."""
    if value not in TESTS:
        reject(where, f'Test must be one of {list(TESTS)}, got {value!r}')
    return str(value)


def entity_key(key: str) -> str:
    """Return bidsglm's short key of an entity written long or short (``subject`` -> ``sub``).

    Examples
    --------
    >>> entity_key('acquisition'), entity_key('ses'), entity_key('group')
    ('acq', 'ses', 'group')
    """
    if key in ENTITY_KEYS:
        return ENTITY_KEYS[key]
    return key


def is_entity(key: str) -> bool:
    """Tell whether a (short) key is an entity, not a metadata column."""
    return key in _SHORT_KEYS


def _label(value: object, key: str, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        reject(where, f'expected text or numbers, got {value!r}')
    text = str(value)
    if key == 'sub':
        return text.removeprefix('sub-')
    return text.removeprefix('ses-') if key == 'ses' else text


def filters(obj: object, where: str, *, short_keys: bool = True) -> dict[str, tuple[str, ...]]:
    """Read an object of filters: each key a value or a list of values.

    Entity keys are given bidsglm's short spelling (``subject`` -> ``sub``); other
    keys (``contrast``, ``participants.tsv`` columns) are kept as they are.

    Examples
    --------
    >>> filters({'subject': ['sub-01', 2], 'acquisition': ''}, 'Input')
    {'sub': ('01', '2'), 'acq': ('',)}
    """
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        reject(where, f'expected an object of filters, got {obj!r}')
    read = {}
    for key, value in obj.items():
        short = entity_key(key) if short_keys else key
        values = value if isinstance(value, list) else [value]
        if not values:
            reject(f'{where}.{key}', 'expected at least one value')
        read[short] = tuple(_label(v, short, f'{where}.{key}') for v in values)
    return read


def is_path_like(value: object) -> bool:
    """Tell whether a value is a string that could be a file path."""
    return isinstance(value, (str, os.PathLike))
