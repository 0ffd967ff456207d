"""The ``contrasts`` argument, in every accepted form, as a list of frozen records.

:func:`normalize_contrasts` accepts:

- a string (an expression over the design columns, named by itself);
- a dict of name to definition, a definition being a string, a list of numbers, a
  list of lists of numbers, or a 1D or 2D array;
- a bare array (1D or 2D) or a list of numbers: one unnamed contrast;
- a list (or tuple) of strings and arrays: one contrast per item;
- in a dict, a list (or tuple) of strings, one per design: the contrast of each run,
  combined over the runs by fixed effects as nilearn's ``compute_contrast`` does
  with one definition per run (a run whose weights are all zero is left out).

A 2D array is one contrast (an F-test over its rows), unlike nilearn, which splits
a bare 2D array into one t-test per row. Unnamed arrays are named from their
weights by :func:`bidsglm.bids.labels.name_from_weights` over the columns of the
first design.

Definitions are read by the models' own parser
(:func:`bidsglm.design.contrasts.contrast_to_matrix`) against every design, so an
unknown column, a wrong number of weights or a null contrast is reported before
anything is computed or written.

``contrast_types`` maps names (or labels) to ``'t'`` or ``'F'`` and decides the test
that is computed: ``'F'`` on one row is an F-test (F = t**2), ``'t'`` on several
rows is an error. Without it, a contrast whose weights are 1D (a string without
commas, a list of numbers, a 1D array) is a t-test, and one whose weights are 2D (a
string with commas, a list of lists, a 2D array, even of one row) is an F-test.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from bidsglm.bids.labels import label_contrasts, name_from_weights
from bidsglm.design.contrasts import contrast_to_matrix
from bidsglm.errors import ContrastError, ContrastTypeError

__all__ = [
    'STAT_TYPES',
    'ContrastSpec',
    'Definition',
    'contrast_weights',
    'normalize_contrasts',
    'per_design',
]

StatType = Literal['t', 'F']
Definition = str | np.ndarray | tuple[str, ...]

#: The tests ``contrast_types`` may ask for.
STAT_TYPES: tuple[StatType, ...] = ('t', 'F')


@dataclass(frozen=True)
class ContrastSpec:
    """One contrast to compute and save.

    Parameters
    ----------
    name : str
        The user's name (dict key, expression, or the name given to an array).
    label : str
        The BIDS label of its files.
    definition : str, (p,) or (q, p) ndarray, or tuple of str
        What the model is given: an expression, float64 weights, or one expression
        per run.
    stat_type : {'t', 'F'}
        The test to compute.
    """

    name: str
    label: str
    definition: Definition = field(compare=False)
    stat_type: StatType


def per_design(definition: Definition, n_designs: int) -> list[str | np.ndarray]:
    """Return the definition of each design: per run as given, or the same for all.

    Examples
    --------
    >>> per_design('a - b', 2), per_design(('a', '-a'), 2)
    (['a - b', 'a - b'], ['a', '-a'])
    """
    if isinstance(definition, tuple):
        return list(definition)
    return [definition] * n_designs


def contrast_weights(definition: str | np.ndarray, columns: Sequence[str]) -> np.ndarray:
    """Return a definition's weights over one design, always as a 2D array.

    Parameters
    ----------
    definition : str or ndarray
        An expression, or weights of shape ``(p,)`` or ``(q, p)``.
    columns : sequence of str
        The ``p`` design column names.

    Returns
    -------
    (q, p) ndarray
        The weights, one row per row of the contrast.

    Raises
    ------
    ContrastError
        If the definition does not fit the design (see ``contrast_to_matrix``).

    Examples
    --------
    >>> contrast_weights('a - b', ['a', 'b']).tolist()
    [[1.0, -1.0]]
    """
    return np.atleast_2d(contrast_to_matrix(definition, [str(c) for c in columns]))


def _is_number(value: object) -> bool:
    """Tell whether ``value`` is a real number (not a string, not a sequence)."""
    return isinstance(value, numbers.Real)


def _definition(value: object, where: str) -> Any:  # noqa: ANN401 - a str, list, tuple or array
    """Refuse the forms that are never a definition (None, numbers, dicts...)."""
    if isinstance(value, (str, list, tuple, np.ndarray)):
        return value
    msg = (
        f'The contrast {where} must be a string, a list of numbers or a 1D/2D array. '
        f'Got {type(value).__name__} {value!r} instead.'
    )
    raise ContrastTypeError(msg)


def _from_mapping(contrasts: Mapping[object, object]) -> list[tuple[str | None, Any]]:
    """Read a dict of name to definition."""
    items: list[tuple[str | None, Any]] = []
    for name, value in contrasts.items():
        if not isinstance(name, str):
            msg = f'Contrast names must be strings. Got {type(name).__name__} {name!r} instead.'
            raise ContrastTypeError(msg)
        items.append((name, _definition(value, repr(name))))
    return items


def _from_sequence(contrasts: Sequence[object]) -> list[tuple[str | None, Any]]:
    """Read a list: one vector of numbers, or one contrast per item."""
    if contrasts and all(_is_number(item) for item in contrasts):
        return [(None, list(contrasts))]
    items: list[tuple[str | None, Any]] = []
    for position, item in enumerate(contrasts):
        definition = _definition(item, f'at position {position}')
        items.append((definition if isinstance(definition, str) else None, definition))
    return items


def _named_items(contrasts: object) -> list[tuple[str | None, Any]]:
    """Read any accepted form into (name or None, definition) pairs."""
    if isinstance(contrasts, str):
        return [(contrasts, contrasts)]
    if isinstance(contrasts, Mapping):
        return _from_mapping(contrasts)
    if isinstance(contrasts, np.ndarray):
        return [(None, contrasts)]
    if isinstance(contrasts, (list, tuple)):
        return _from_sequence(contrasts)
    msg = (
        "The 'contrasts' parameter must be a string, a list, a dict or an array. "
        f'Got {type(contrasts).__name__} instead.'
    )
    raise ContrastTypeError(msg)


def _is_per_run(raw: object) -> bool:
    """Tell whether a definition is a list of expressions, one per design."""
    return isinstance(raw, (list, tuple)) and bool(raw) and all(isinstance(i, str) for i in raw)


def _read_per_run(
    name: str, raw: Sequence[str], designs: Sequence[Sequence[str]]
) -> tuple[Definition, np.ndarray]:
    """Read one expression per design; return them and the first non-null weights."""
    if len(raw) != len(designs):
        msg = (
            f'The contrast {name!r} gives {len(raw)} expressions for {len(designs)} '
            'designs: give one per run, or one expression for all.'
        )
        raise ContrastError(msg)
    weights = [
        contrast_to_matrix(text, columns, name=name, allow_null=True)
        for text, columns in zip(raw, designs, strict=True)
    ]
    used = [w for w in weights if np.any(w != 0)]
    if not used:
        msg = f'The contrast {name!r} has zero weights in every run: give non-zero weights.'
        raise ContrastError(msg)
    if len({np.atleast_2d(w).shape[0] for w in used}) > 1:
        msg = f'The runs of the contrast {name!r} have different numbers of rows.'
        raise ContrastError(msg)
    return (tuple(raw) if len(raw) > 1 else raw[0]), used[0]


def _read_one(
    name: str | None,
    raw: Any,  # noqa: ANN401 - a str, list, tuple or array
    designs: Sequence[Sequence[str]],
) -> tuple[Definition, np.ndarray]:
    """Read one definition on every design; return it for the model and its weights."""
    if isinstance(raw, (list, tuple)) and len(raw) == 1 and isinstance(raw[0], str):
        raw = raw[0]  # one expression for all runs
    if name is not None and _is_per_run(raw):
        return _read_per_run(name, raw, designs)
    weights = contrast_to_matrix(raw, designs[0], name=name)
    for columns in designs[1:]:
        contrast_to_matrix(raw, columns, name=name)
    return (raw if isinstance(raw, str) else weights), weights


def _read_all(
    items: list[tuple[str | None, Any]], designs: Sequence[Sequence[str]]
) -> dict[str, tuple[Definition, np.ndarray]]:
    """Read every definition on every design; name the unnamed arrays.

    Returns each name with the definition to hand to the model (a string, float64
    weights, or one string per run) and its weights on the first design that uses it.
    """
    named: dict[str, tuple[Definition, np.ndarray]] = {}
    for name, raw in items:
        definition, weights = _read_one(name, raw, designs)
        key = name if name is not None else name_from_weights(weights, designs[0])
        if key in named:
            msg = f'The contrast {key!r} is given twice. Give each contrast once.'
            raise ContrastError(msg)
        named[key] = (definition, weights)
    return named


def _stat_types(contrast_types: object, labels: Mapping[str, str]) -> dict[str, StatType]:
    """Read ``contrast_types`` into a name -> test mapping, checking keys and values."""
    if contrast_types is None:
        return {}
    if not isinstance(contrast_types, Mapping):
        msg = (
            "The 'contrast_types' parameter of save_glm_to_bids must be a dict of contrast "
            f"name to 't' or 'F', or None. Got {type(contrast_types).__name__} instead."
        )
        raise ContrastError(msg)
    by_label = {label: name for name, label in labels.items()}
    chosen: dict[str, StatType] = {}
    for key, value in contrast_types.items():
        name = key if key in labels else by_label.get(key)
        if name is None:
            msg = (
                f'The contrast_types key {key!r} names no contrast. Known names: '
                f'{list(labels)} (their labels {list(labels.values())} are accepted too).'
            )
            raise ContrastError(msg)
        if value not in STAT_TYPES:
            msg = (
                f'The contrast type of {key!r} must be one of {list(STAT_TYPES)}. '
                f'Got {value!r} instead.'
            )
            raise ContrastError(msg)
        chosen[name] = value
    return chosen


def _stat_type(name: str, weights: np.ndarray, chosen: Mapping[str, StatType]) -> StatType:
    """Pick the test: the user's choice, else t for 1D weights and F for 2D."""
    stat_type = chosen.get(name, 'F' if weights.ndim == 2 else 't')
    rows = np.atleast_2d(weights).shape[0]
    if stat_type == 't' and rows > 1:
        msg = f"The contrast {name!r} has {rows} rows: a 't' test needs one row; use 'F'."
        raise ContrastError(msg)
    return stat_type


def normalize_contrasts(
    contrasts: object,
    designs: Sequence[Sequence[str]],
    contrast_types: Mapping[str, str] | None = None,
) -> tuple[ContrastSpec, ...]:
    """Turn the ``contrasts`` argument into checked, labelled records.

    Parameters
    ----------
    contrasts : str, list, dict or array
        Any form listed in the module docstring.
    designs : sequence of sequence of str
        The column names of each design (one per run; one for a second level).
    contrast_types : dict of str to {'t', 'F'}, optional
        The test of some contrasts, keyed by name or label.

    Returns
    -------
    tuple of ContrastSpec
        In the order given.

    Raises
    ------
    ContrastError
        For a malformed definition, an unknown column, a wrong number of weights, a
        null contrast, a contrast given twice, an unknown ``contrast_types`` key or
        value, or ``'t'`` on several rows; a :class:`ContrastTypeError` (also a
        ``TypeError``, as nilearn raises) for a name that is not a string or a
        definition of a form not accepted (None, a number, a dict).
    BidsNameError
        For names that cannot be labelled or whose labels collide.

    Examples
    --------
    >>> specs = normalize_contrasts({'effects': np.eye(2)}, [['a', 'b']])
    >>> specs[0].label, specs[0].stat_type
    ('effects', 'F')
    >>> [spec.label for spec in normalize_contrasts([[1, -1], 'a'], [['a', 'b']])]
    ['aMinusB', 'a']
    """
    designs = [[str(column) for column in columns] for columns in designs]
    named = _read_all(_named_items(contrasts), designs)
    labels = label_contrasts(named)
    chosen = _stat_types(contrast_types, labels)
    return tuple(
        ContrastSpec(name, labels[name], definition, _stat_type(name, weights, chosen))
        for name, (definition, weights) in named.items()
    )
