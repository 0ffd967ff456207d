"""Instructions that reshape variables.

Per variable: Factor, Split, Filter, Replace, Assign, DropNA, Copy, Rename, ToDense,
Resample; over several: Concatenate; on the collection's names: Select, Delete, Group.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace as replace_fields

import numpy as np

from bidsglm.dataset.transformations._common import (
    MISSING,
    densify,
    fail,
    label,
    lookup,
    numbers,
    require_aligned,
    resample,
    run_timing,
    to_dense,
    with_values,
)
from bidsglm.dataset.transformations._query import evaluate_query
from bidsglm.dataset.transformations._variables import (
    DenseVariable,
    SparseVariable,
    Variable,
    VariableCollection,
    as_values,
    is_missing,
    is_numeric,
)

#: The coding schemes of Factor.
CONSTRAINTS = ('none', 'drop_one', 'mean_zero')
#: What Replace and Assign may read or write, besides the value.
ATTRIBUTES = ('value', 'amplitude', 'onset', 'duration')


def keep(variable: Variable, collection: VariableCollection) -> Variable:
    """Return the variable as it is (``Copy`` and ``Rename`` only name it anew)."""
    return variable


def _levels(variable: Variable) -> list[object]:
    """Return the distinct present values, sorted (numbers by value, text as text)."""
    present = variable.values[~is_missing(variable.values)]
    if is_numeric(variable):
        return list(np.unique(present))
    return sorted(set(present.tolist()), key=str)


def factor(
    variable: Variable,
    collection: VariableCollection,
    constraint: str = 'none',
    ref_level: object = None,
    sep: str = '.',
) -> tuple[Variable, ...]:
    """One indicator variable per distinct value, named ``<name><sep><value>``.

    Every indicator keeps all the rows (1 where the row has that value, else 0;
    missing values are 0 everywhere). ``drop_one`` leaves out the reference level
    (``RefLevel``, else the first sorted one); ``mean_zero`` also sets the
    reference rows to ``-1 / (n_levels - 1)``; a ``RefLevel`` alone is left out too.
    """
    levels = _levels(variable)
    labels = [label(level) for level in levels]
    reference = _reference(variable, labels, constraint, ref_level)
    results = []
    for level, text in zip(levels, labels, strict=True):
        if text == reference:
            continue
        indicator = (variable.values == level).astype(np.float64)
        if constraint == 'mean_zero' and reference is not None:
            indicator[variable.values == levels[labels.index(reference)]] = -1.0 / (
                len(levels) - 1
            )
        results.append(
            replace_fields(with_values(variable, indicator), name=f'{variable.name}{sep}{text}')
        )
    return tuple(results)


def _reference(
    variable: Variable, labels: list[str], constraint: str, ref_level: object
) -> str | None:
    """Return the label of the level to leave out, if any."""
    if ref_level is None:
        return labels[0] if constraint != 'none' and len(labels) > 1 else None
    wanted = label(ref_level)
    if wanted not in labels:
        fail(f'Factor: RefLevel {ref_level!r} is not a value of {variable.name!r} {labels}.')
    return wanted


def _row_variables(
    variable: Variable, names: Sequence[str], collection: VariableCollection
) -> list[Variable]:
    """Return the variables ``names``, lined up with ``variable`` (made dense if it is)."""
    found = [lookup(collection, name, 'Split (By)') for name in names]
    if isinstance(variable, DenseVariable):
        timing = run_timing(collection, 'Split')
        found = [to_dense(item, variable.sampling_rate, timing) for item in found]
    return found


def split(
    variable: Variable, collection: VariableCollection, by: str | list[str]
) -> tuple[Variable, ...]:
    """One variable per combination of the values of ``By``: ``<name>.<by>[<value>]...``.

    Sparse and row variables keep the rows of each combination; a dense variable
    keeps its length and is 0 outside the combination (``By`` made dense at its
    rate). Only combinations that occur are made; a missing ``By`` value is
    ``nan``, as in pybids.
    """
    names = [by] if isinstance(by, str) else list(by)
    groups = _row_variables(variable, names, collection)
    require_aligned([variable, *groups], 'Split')
    keys = list(zip(*(_labels(g) for g in groups), strict=True))
    results = []
    for combination in sorted(set(keys), key=_sort_key):
        rows = np.array([key == combination for key in keys], dtype=bool)
        suffix = ''.join(
            f'.{name}[{value}]' for name, value in zip(names, combination, strict=True)
        )
        results.append(replace_fields(_subset(variable, rows), name=f'{variable.name}{suffix}'))
    return tuple(results)


def _labels(variable: Variable) -> list[str]:
    """Return each row's value as a label, ``nan`` where it is missing (pybids)."""
    missing = is_missing(variable.values)
    return [
        'nan' if gone else label(value)
        for value, gone in zip(variable.values, missing, strict=True)
    ]


def _sort_key(combination: tuple[str, ...]) -> tuple[tuple[int, float, str], ...]:
    """Sort labels numerically when they are numbers, else as text."""

    def one(text: str) -> tuple[int, float, str]:
        try:
            return (0, float(text), text)
        except ValueError:
            return (1, 0.0, text)

    return tuple(one(text) for text in combination)


def _subset(variable: Variable, rows: np.ndarray) -> Variable:
    """Keep ``rows``: the events or rows themselves, or zeros elsewhere when dense."""
    if isinstance(variable, DenseVariable):
        return with_values(variable, np.where(rows, numbers(variable), 0.0))
    return variable.take(rows)


def filter_(
    variable: Variable,
    collection: VariableCollection,
    query: str,
    by: str | list[str] | None = None,
) -> Variable:
    """Keep the events (or rows) where ``Query`` holds; it may name the input and ``By``."""
    if isinstance(variable, DenseVariable):
        fail(
            f'Filter removes events, but {variable.name!r} is dense (one value per '
            'sample); use Threshold to set samples to 0 instead.'
        )
    names = [] if by is None else [by] if isinstance(by, str) else list(by)
    others = [lookup(collection, name, 'Filter (By)') for name in names]
    require_aligned([variable, *others], 'Filter')
    columns = {variable.name: variable.values, **{v.name: v.values for v in others}}
    return variable.take(evaluate_query(query, columns))


def drop_na(variable: Variable, collection: VariableCollection) -> Variable:
    """Remove the events (or rows) whose value is missing."""
    if isinstance(variable, DenseVariable):
        fail(
            f'DropNA removes events, but {variable.name!r} is dense (one value per '
            f'sample); fill its missing values with Replace {{"{MISSING}": 0}} instead.'
        )
    return variable.take(~is_missing(variable.values))


def _pairs(replace: object, regex: bool) -> list[tuple[object, object]]:
    """Return the (old, new) pairs of a Replace mapping (pybids' or bidspm's form)."""
    if isinstance(replace, Mapping):
        if regex and set(replace) == {'key', 'value'}:
            return [(replace['key'], replace['value'])]
        return list(replace.items())
    assert isinstance(replace, list)
    return [(pair['key'], pair['value']) for pair in replace]


def _matches(values: np.ndarray, key: object, regex: bool) -> np.ndarray:
    """Rows of ``values`` equal to ``key`` (``n/a``: missing; numbers by value)."""
    missing = is_missing(values)
    if key == MISSING:
        return missing
    if values.dtype.kind in 'biuf':
        try:
            number = float(key)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return np.zeros(values.size, dtype=bool)
        return ~missing & (values.astype(np.float64) == number)
    texts = [None if gone else label(value) for value, gone in zip(values, missing, strict=True)]
    if regex and isinstance(key, str):
        pattern = re.compile(key)
        return np.array(
            [t is not None and pattern.fullmatch(t) is not None for t in texts], dtype=bool
        )
    return np.array([t == label(key) for t in texts], dtype=bool)


def _replaced(values: np.ndarray, replace: object, regex: bool) -> np.ndarray:
    """Return ``values`` with every old value replaced by its new one (all at once)."""
    result = np.array(values, dtype=object)
    for old, new in _pairs(replace, regex):
        result[_matches(values, old, regex)] = np.nan if new == MISSING else new
    return as_values(result)


def replace_values(
    variable: Variable,
    collection: VariableCollection,
    replace: object,
    attribute: str = 'value',
    regex: bool = False,
) -> Variable:
    """Replace values (or onsets, or durations) by others, all pairs at once.

    Keys match a numeric variable by number (``"1"`` matches 1.0); ``"n/a"``
    matches and writes missing values. With ``regex`` (bidspm), text keys are
    regular expressions that must match a whole value.
    """
    if attribute in ('value', 'amplitude'):
        return with_values(variable, _replaced(variable.values, replace, regex))
    if not isinstance(variable, SparseVariable):
        fail(f'Replace can change the {attribute} only of events; {variable.name!r} has none.')
    old = getattr(variable, attribute)
    new = _replaced(old, replace, regex=False)
    if new.dtype.kind not in 'biuf' or np.any(np.isnan(new)):
        fail(f'Replace must give {variable.name!r} a number for every {attribute}.')
    return _with_timing(variable, attribute, new)


def _with_timing(variable: SparseVariable, attribute: str, values: np.ndarray) -> SparseVariable:
    """Return events with other onsets or durations."""
    if attribute == 'onset':
        return replace_fields(variable, onset=values)
    return replace_fields(variable, duration=values)


def _attribute(variable: SparseVariable, attribute: str) -> np.ndarray:
    """Return the values, onsets or durations of events."""
    return variable.values if attribute in ('value', 'amplitude') else getattr(variable, attribute)


def assign(
    variable: Variable,
    collection: VariableCollection,
    target: str,
    input_attr: str = 'amplitude',
    target_attr: str = 'amplitude',
) -> Variable:
    """Copy the input's value, onset or duration onto the target's, event by event.

    The result is the target so changed (stored under the target's name unless
    ``Output`` names it); both must be events with the same number of rows.
    """
    destination = lookup(collection, target, 'Assign (Target)')
    if not (isinstance(variable, SparseVariable) and isinstance(destination, SparseVariable)):
        fail(f'Assign works on events; {variable.name!r} or {target!r} is not made of events.')
    if len(variable) != len(destination):
        fail(
            f'Assign needs as many events in {variable.name!r} ({len(variable)}) as in '
            f'{target!r} ({len(destination)}).'
        )
    values = _attribute(variable, input_attr)
    if target_attr in ('value', 'amplitude'):
        return replace_fields(destination, values=values)
    if values.dtype.kind not in 'biuf' or np.any(np.isnan(values.astype(float))):
        fail(f'Assign cannot make the {target_attr} of {target!r} from non-numbers.')
    return _with_timing(destination, target_attr, values)


def to_dense_(
    variable: Variable, collection: VariableCollection, sampling_rate: float = 10
) -> Variable:
    """Sample events as a boxcar at ``SamplingRate`` Hz (see :func:`densify`)."""
    timing = run_timing(collection, 'ToDense')
    if isinstance(variable, SparseVariable):
        return densify(variable, float(sampling_rate), timing)
    return to_dense(variable, float(sampling_rate), timing)


def resample_(
    variable: Variable, collection: VariableCollection, sampling_rate: float = 10
) -> Variable:
    """Resample a dense variable to ``SamplingRate`` Hz by linear interpolation in time."""
    if not isinstance(variable, DenseVariable):
        fail(f'Resample works on dense variables; make {variable.name!r} dense with ToDense.')
    return resample(variable, float(sampling_rate), run_timing(collection, 'Resample'))


def concatenate(variables: Sequence[Variable]) -> Variable:
    """Join the rows' values as text with ``_`` (``face`` and ``1`` -> ``face_1``)."""
    require_aligned(variables, 'Concatenate')
    missing = np.any([is_missing(v.values) for v in variables], axis=0)
    texts = [
        np.nan if gone else '_'.join(label(v.values[row]) for v in variables)
        for row, gone in enumerate(missing)
    ]
    return with_values(variables[0], as_values(np.array(texts, dtype=object)))


def select(
    collection: VariableCollection, names: Sequence[str], outputs: Sequence[str]
) -> VariableCollection:
    """Keep only the named variables, in the order named."""
    return collection.with_variables(
        {name: lookup(collection, name, 'Select') for name in dict.fromkeys(names)}
    )


def delete(
    collection: VariableCollection, names: Sequence[str], outputs: Sequence[str]
) -> VariableCollection:
    """Remove the named variables."""
    gone = {lookup(collection, name, 'Delete').name for name in names}
    return collection.with_variables(
        {k: v for k, v in collection.variables.items() if k not in gone}
    )


def group(
    collection: VariableCollection, names: Sequence[str], outputs: Sequence[str]
) -> VariableCollection:
    """Give a list of variables a name (``Output``) that ``Input`` may use later."""
    if len(outputs) != 1:
        fail(f'Group needs one group name in Output; got {list(outputs)}.')
    name = outputs[0]
    if name in collection:
        fail(f'Group cannot be named {name!r}: a variable has that name; choose another.')
    for member in names:
        lookup(collection, member, 'Group')
    return collection.with_variables(
        collection.variables, {**collection.groups, name: tuple(names)}
    )
