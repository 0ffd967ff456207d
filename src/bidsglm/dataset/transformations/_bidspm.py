"""bidspm's own instructions, read as bids-matlab's transformers compute them.

bidspm runs ``bids.transformers`` (bids-matlab) on the events table, row by row: every
column has one value per event, and an instruction reads and writes whole columns.
Here each events column is a sparse variable over the same events, so these
instructions work on the events variables that share the rows of their input:

``Filter``
    ``Query`` ``"<column><op><value>"`` (``op``: ``>=``, ``<=``, ``==``, ``~=``,
    ``>``, ``<``, the first found in that order); on text, ``==`` and ``~=`` take a
    regular expression that must match the whole value. The input keeps every
    event; where the query fails its value becomes missing (``n/a``). The result
    replaces the input, or goes to ``Output``.
``Add``, ``Subtract``, ``Multiply``, ``Divide``, ``Power``
    The input with ``Value`` as the operand, on the rows an optional ``Query``
    selects. In place, the other rows keep their values; into a new ``Output``
    they are 0 (bids-matlab writes into a new column, which MATLAB fills with
    zeros). ``Input`` may be ``onset`` or ``duration``: the events of every
    variable sharing the query column's rows are moved or lengthened.
``Constant``
    A new events column ``Output`` holding ``Value`` (default 1) at every event.
``LabelIdenticalRows``
    The number of each row among consecutive rows of the same value (``a a b a``:
    1 2 1 1), or with ``Cumulative`` among all rows of that value so far (1 2 1 3);
    missing values count as one value. ``Output`` defaults to ``<input>_label``.
``Factor``
    bids-matlab's dummy coding: one indicator per distinct value (sorted) named
    ``<input>_<level>``, where a text column's levels are numbered ``1`` to ``N``
    and a numeric column's are its values as text; characters other than letters,
    digits and ``_`` are removed from the name. Missing values belong to no level.
"""

from __future__ import annotations

import operator
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from bidsglm.dataset.transformations._common import fail, label, lookup
from bidsglm.dataset.transformations._variables import (
    SparseVariable,
    Variable,
    VariableCollection,
    as_values,
    is_missing,
    is_numeric,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ['ARITHMETIC', 'arithmetic', 'constant', 'factor', 'filter_rows', 'label_rows']

#: The comparisons of a query, in the order bids-matlab looks for them.
_COMPARISONS: tuple[tuple[str, Callable[[Any, Any], Any]], ...] = (
    ('>=', operator.ge),
    ('<=', operator.le),
    ('==', operator.eq),
    ('~=', operator.ne),
    ('>', operator.gt),
    ('<', operator.lt),
)
#: bids-matlab's arithmetic instructions.
ARITHMETIC: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    'Add': operator.add,
    'Subtract': operator.sub,
    'Multiply': operator.mul,
    'Divide': operator.truediv,
    'Power': operator.pow,
}
_TIMING = ('onset', 'duration')


def _parse_query(query: str) -> tuple[str, str, Callable[[Any, Any], Any]]:
    """Split ``"<column><op><value>"`` into the column, the value and the comparison."""
    found = [(text, compare) for text, compare in _COMPARISONS if text in query]
    if not found:
        fail(
            f'the query {query!r} holds none of the comparisons '
            f'{[text for text, _ in _COMPARISONS]} bids-matlab reads.'
        )
    text, compare = found[0]
    left, right = query.split(text, 1)
    return left.strip(), right.strip(), compare


def _anchored(pattern: str) -> re.Pattern[str]:
    """Return a pattern anchored at both ends, as bids-matlab's ``regexify`` anchors it."""
    head = '' if pattern.startswith('^') else '^'
    tail = '' if pattern.endswith('$') else '$'
    return re.compile(f'{head}{pattern}{tail}')


def _text_rows(values: np.ndarray, pattern: str, compare: Callable[[Any, Any], Any]) -> np.ndarray:
    if compare not in (operator.eq, operator.ne):
        fail('on text, a bidspm query compares with == or ~= only.')
    regex = _anchored(pattern)
    missing = is_missing(values)
    found = np.array(
        [
            not gone and regex.search(str(v)) is not None
            for v, gone in zip(values, missing, strict=True)
        ],
        dtype=bool,
    )
    return found if compare is operator.eq else ~found & ~missing


def query_rows(collection: VariableCollection, query: str) -> tuple[SparseVariable, np.ndarray]:
    """Return the query's column and the rows where the query holds.

    Examples
    --------
    >>> from bidsglm.dataset.transformations import RunTiming
    >>> kind = SparseVariable('trial_type', [0.0, 2.0, 4.0], [1.0] * 3, ['olf_a', 'vis', 'olf'])
    >>> collection = VariableCollection({'trial_type': kind}, RunTiming(10, 2.0))
    >>> query_rows(collection, 'trial_type==olf.*')[1].tolist()
    [True, False, True]
    """
    left, right, compare = _parse_query(query)
    column = lookup(collection, left, 'the query')
    if not isinstance(column, SparseVariable):
        fail(f'the query names {left!r}, which is not an events column.')
    if not is_numeric(column):
        return column, _text_rows(column.values, right, compare)
    try:
        number = float(right)
    except ValueError:
        fail(f'the query compares the numbers of {left!r} with {right!r}, which is no number.')
    values = np.asarray(column.values, dtype=np.float64)
    return column, ~np.isnan(values) & compare(values, number)


def _same_rows(a: SparseVariable, b: SparseVariable) -> bool:
    return np.array_equal(a.onset, b.onset) and np.array_equal(a.duration, b.duration)


def _events_input(
    collection: VariableCollection, name: str, reference: SparseVariable
) -> SparseVariable:
    variable = lookup(collection, name, 'Input')
    if not isinstance(variable, SparseVariable) or not _same_rows(variable, reference):
        fail(
            f'{name!r} is not an events column of the same events as {reference.name!r} '
            "(bidspm's instructions read one events table)."
        )
    return variable


def _outputs(inputs: Sequence[str], outputs: Sequence[str]) -> list[str]:
    if outputs and len(outputs) != len(inputs):
        fail(f'{len(outputs)} Output names for {len(inputs)} inputs; give one per input.')
    return list(outputs) or list(inputs)


def filter_rows(
    collection: VariableCollection, inputs: Sequence[str], outputs: Sequence[str], query: str
) -> VariableCollection:
    """Set missing values where the query fails, as bidspm's Filter does."""
    column, rows = query_rows(collection, query)
    variables = dict(collection.variables)
    for name, output in zip(inputs, _outputs(inputs, outputs), strict=True):
        variable = _events_input(collection, name, column)
        values = np.array(variable.values, dtype=object if not is_numeric(variable) else float)
        values[~rows] = np.nan
        variables[output] = replace(variable, name=output, values=as_values(values))
    return collection.with_variables(variables)


def _operand(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        fail(f'Value must be a number (or a text holding one); got {value!r}.')


def _move_events(
    collection: VariableCollection,
    attribute: str,
    compute: Callable[[np.ndarray], np.ndarray],
    reference: SparseVariable,
    rows: np.ndarray,
) -> VariableCollection:
    """Change the onsets or durations of every events variable sharing ``reference``'s rows."""
    variables = dict(collection.variables)
    for name, variable in collection.variables.items():
        if isinstance(variable, SparseVariable) and _same_rows(variable, reference):
            timing = np.array(getattr(variable, attribute), dtype=np.float64)
            timing[rows] = compute(timing)[rows]
            moved = (
                replace(variable, onset=timing)
                if attribute == 'onset'
                else replace(variable, duration=timing)
            )
            variables[name] = moved
    return collection.with_variables(variables)


def _first_events(collection: VariableCollection, what: str) -> SparseVariable:
    events = [v for v in collection.variables.values() if isinstance(v, SparseVariable)]
    if not events:
        fail(f'{what} needs an events table, and this run has no events.')
    return events[0]


def arithmetic(
    collection: VariableCollection,
    inputs: Sequence[str],
    outputs: Sequence[str],
    operation: str,
    value: object,
    query: str | None = None,
) -> VariableCollection:
    """Apply bidspm's Add, Subtract, Multiply, Divide or Power (see the module docstring)."""
    operand = _operand(value)
    compute = ARITHMETIC[operation]
    if query is None:
        reference = _first_events(collection, operation)
        rows = np.ones(len(reference), dtype=bool)
    else:
        reference, rows = query_rows(collection, query)
    for name, output in zip(inputs, _outputs(inputs, outputs), strict=True):
        if name in _TIMING and name not in collection:
            if output != name:
                fail(f'{operation} changes {name!r} in place: leave Output out.')
            collection = _move_events(
                collection, name, lambda t: compute(t, operand), reference, rows
            )
            continue
        variable = _events_input(collection, name, reference)
        values = np.asarray(variable.values, dtype=np.float64)
        kept = values if output == name else np.zeros_like(values)
        made = np.where(rows, compute(values, operand), kept)
        collection = collection.with_variables(
            {**collection.variables, output: replace(variable, name=output, values=made)}
        )
    return collection


def constant(
    collection: VariableCollection,
    inputs: Sequence[str],
    outputs: Sequence[str],
    value: object = 1,
) -> VariableCollection:
    """Add an events column holding one value (bidspm's Constant)."""
    if len(outputs) != 1:
        fail(f'Constant makes one column: give one Output name; got {list(outputs)}.')
    events = _first_events(collection, 'Constant')
    made = replace(
        events, name=outputs[0], values=as_values(np.full(len(events), value, dtype=object))
    )
    return collection.with_variables({**collection.variables, outputs[0]: made})


def _labels(values: np.ndarray, cumulative: bool) -> np.ndarray:
    """Count each row among the consecutive (or, cumulative, all earlier) rows of its value."""
    keys = [
        '\0missing' if gone else label(v)
        for v, gone in zip(values, is_missing(values), strict=True)
    ]
    counts: dict[str, int] = {}
    numbers = []
    previous = None
    for key in keys:
        if not cumulative and key != previous:
            counts = {}
        counts[key] = counts.get(key, 0) + 1
        numbers.append(float(counts[key]))
        previous = key
    return np.array(numbers)


def label_rows(
    collection: VariableCollection,
    inputs: Sequence[str],
    outputs: Sequence[str],
    cumulative: bool = False,
) -> VariableCollection:
    """Count identical rows, as bidspm's LabelIdenticalRows does (see the module docstring).

    Examples
    --------
    >>> from bidsglm.dataset.transformations import RunTiming
    >>> kind = SparseVariable('kind', [0.0, 2.0, 4.0, 6.0], [1.0] * 4, ['a', 'a', 'b', 'a'])
    >>> collection = VariableCollection({'kind': kind}, RunTiming(10, 2.0))
    >>> label_rows(collection, ['kind'], [])['kind_label'].values.tolist()
    [1.0, 2.0, 1.0, 1.0]
    >>> label_rows(collection, ['kind'], ['n'], cumulative=True)['n'].values.tolist()
    [1.0, 2.0, 1.0, 3.0]
    """
    variables = dict(collection.variables)
    for name, output in zip(inputs, _outputs(inputs, outputs), strict=True):
        variable = lookup(collection, name, 'Input')
        target = f'{output}_label' if output == name else output
        if target in collection:
            fail(f'the output {target!r} already exists; choose another Output.')
        made = _labels(variable.values, cumulative)
        variables[target] = replace(variable, name=target, values=made)
    return collection.with_variables(variables)


def _level_names(variable: Variable, levels: list[object]) -> list[str]:
    if is_numeric(variable):
        return [label(level) for level in levels]
    return [str(index) for index in range(1, len(levels) + 1)]


def factor(
    collection: VariableCollection, inputs: Sequence[str], outputs: Sequence[str]
) -> VariableCollection:
    """Make ``<input>_<level>`` indicators, as bids-matlab's Factor does (module docstring).

    Examples
    --------
    >>> from bidsglm.dataset.transformations import RunTiming
    >>> kind = SparseVariable('kind', [0.0, 2.0, 4.0], [1.0] * 3, ['go', 'stop', 'go'])
    >>> made = factor(VariableCollection({'kind': kind}, RunTiming(10, 2.0)), ['kind'], [])
    >>> made.names, made['kind_2'].values.tolist()
    (('kind', 'kind_1', 'kind_2'), [0.0, 1.0, 0.0])
    """
    variables = dict(collection.variables)
    for name in inputs:
        variable = lookup(collection, name, 'Input')
        present = ~is_missing(variable.values)
        texts = np.array([label(v) for v in variable.values], dtype=object)
        levels = sorted(set(variable.values[present].tolist()), key=_sort_key)
        for level, level_name in zip(levels, _level_names(variable, levels), strict=True):
            column = re.sub(r'[^a-zA-Z0-9_]', '', f'{name}_{level_name}')
            values = (present & (texts == label(level))).astype(np.float64)
            variables[column] = replace(variable, name=column, values=values)
    return collection.with_variables(variables)


def _sort_key(value: object) -> tuple[int, float, str]:
    """Sort numbers by value, then text as text (MATLAB's unique sorts each kind)."""
    if isinstance(value, (int, float, np.number)):
        return (0, float(value), '')
    return (1, 0.0, str(value))
