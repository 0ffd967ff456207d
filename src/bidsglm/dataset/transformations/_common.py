"""Helpers shared by the instructions: numbers, labels, sampling and alignment."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import NoReturn

import numpy as np

from bidsglm.dataset.discovery import close_matches
from bidsglm.dataset.transformations._variables import (
    DenseVariable,
    RunTiming,
    SimpleVariable,
    SparseVariable,
    Variable,
    VariableCollection,
    is_missing,
    is_numeric,
)
from bidsglm.errors import TransformationError

#: What a missing value is called in messages and in ``Replace`` keys (BIDS' spelling).
MISSING = 'n/a'


def fail(message: str) -> NoReturn:
    """Raise a :class:`~bidsglm.errors.TransformationError` with ``message``."""
    raise TransformationError(message)


def lookup(collection: VariableCollection, name: str, role: str) -> Variable:
    """Return the variable ``name``, or say which instruction needed it and what exists."""
    if name not in collection:
        available = list(collection.names)
        fail(
            f'{role} names {name!r}, which is not a variable{close_matches(name, available)}. '
            f'The variables are {available}.'
        )
    return collection.variables[name]


def numbers(variable: Variable) -> np.ndarray:
    """Return a writable float64 copy of a numeric variable's values."""
    return np.array(variable.values, dtype=np.float64)


def with_values(variable: Variable, values: np.ndarray) -> Variable:
    """Return ``variable`` holding other values (same timing, same name)."""
    return replace(variable, values=values)


def label(value: object) -> str:
    """Return the text a value takes in a variable name (``trial_type.<label>``).

    Whole floats lose their ``.0`` so that a column's labels do not depend on
    whether it has a missing value (pandas reads such a column as float).

    Examples
    --------
    >>> label(2.0), label(0.5), label('face'), label(np.int64(3)), label(True)
    ('2', '0.5', 'face', '3', 'True')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def count_missing(variable: Variable) -> int:
    """Return how many values of ``variable`` are missing."""
    return int(is_missing(variable.values).sum())


def refuse_missing(variable: Variable, what: str) -> None:
    """Refuse a variable with missing values, saying how to remove or fill them."""
    missing = count_missing(variable)
    if missing:
        fix = (
            'drop them with DropNA or fill them'
            if isinstance(variable, SparseVariable)
            else 'fill them'
        )
        fail(
            f'{what} cannot use {variable.name!r}: {missing} of its {len(variable)} values '
            f'are missing ({MISSING}); {fix} with Replace {{"{MISSING}": 0}} first.'
        )


def refuse_text(variable: Variable, instruction: str) -> None:
    """Refuse a text (categorical) variable where numbers are needed."""
    if not is_numeric(variable):
        fail(
            f'{instruction} needs numbers but {variable.name!r} holds text '
            f'({_examples(variable)}); make indicators of its values with Factor first.'
        )


def _examples(variable: Variable) -> str:
    """Return a few distinct present values of a variable, for messages."""
    present = [v for v in variable.values[~is_missing(variable.values)]]
    shown = list(dict.fromkeys(map(str, present)))[:3]
    return ', '.join(map(repr, shown)) or 'no value'


def run_timing(collection: VariableCollection, what: str) -> RunTiming:
    """Return the collection's run timing, or say that ``what`` needs a run."""
    if collection.timing is None:
        fail(f'{what} works on the variables of a run; this collection has no run timing.')
    return collection.timing


def n_samples(rate: float, timing: RunTiming) -> int:
    """Return the samples of a run at ``rate`` Hz (pybids': ceil at millisecond precision)."""
    return math.ceil(round(rate * timing.duration, 3))


def densify(variable: SparseVariable, rate: float, timing: RunTiming) -> DenseVariable:
    """Sample a sparse variable's boxcar at ``rate`` Hz over the run.

    Sample ``k`` (time ``k / rate``) takes the value of an event when
    ``round(onset * rate) <= k < round(onset * rate) + round(duration * rate)``;
    where events overlap the later row wins; samples without an event are 0. An
    event shorter than half a sample covers no sample.
    """
    values = np.zeros(n_samples(rate, timing))
    starts = np.round(variable.onset * rate).astype(int)
    stops = starts + np.round(variable.duration * rate).astype(int)
    for start, stop, value in zip(starts, stops, numbers(variable), strict=True):
        values[max(start, 0) : max(stop, 0)] = value
    return DenseVariable(variable.name, values, rate)


def resample(variable: DenseVariable, rate: float, timing: RunTiming) -> DenseVariable:
    """Return a dense variable at ``rate`` Hz, linearly interpolated in time.

    The last sample is held after the end of the input.
    """
    if rate == variable.sampling_rate:
        return variable
    old_times = np.arange(len(variable)) / variable.sampling_rate
    new_times = np.arange(n_samples(rate, timing)) / rate
    values = np.interp(new_times, old_times, numbers(variable))
    return DenseVariable(variable.name, values, rate)


def to_dense(variable: Variable, rate: float, timing: RunTiming) -> DenseVariable:
    """Return ``variable`` as a dense variable at ``rate`` Hz."""
    if isinstance(variable, SparseVariable):
        return densify(variable, rate, timing)
    if isinstance(variable, DenseVariable):
        return resample(variable, rate, timing)
    return fail(f'{variable.name!r} has no timing (one value per row) and cannot be made dense.')


def aligned(variables: Sequence[Variable]) -> bool:
    """Tell whether variables line up row for row (or sample for sample)."""
    first = variables[0]
    for other in variables[1:]:
        if type(other) is not type(first) or len(other) != len(first):
            return False
        if isinstance(first, SparseVariable) and isinstance(other, SparseVariable):
            same = np.allclose(first.onset, other.onset) and np.allclose(
                first.duration, other.duration
            )
            if not same:
                return False
        dense = isinstance(first, DenseVariable) and isinstance(other, DenseVariable)
        if dense and first.sampling_rate != other.sampling_rate:  # type: ignore[union-attr]
            return False
    return True


def require_aligned(variables: Sequence[Variable], instruction: str) -> None:
    """Refuse variables that do not line up, saying how to make them."""
    if aligned(variables):
        return
    names = [v.name for v in variables]
    kinds = sorted({type(v).__name__ for v in variables})
    fail(
        f'{instruction} combines {names} row by row, but they do not line up '
        f'({", ".join(kinds)} of different events, lengths or rates); add "Dense": true to '
        'the instruction to compare them sample by sample.'
    )


def common_dense(variables: Sequence[Variable], timing: RunTiming) -> list[Variable]:
    """Make every variable dense at one rate: the first dense one's, else the run's."""
    rates = [v.sampling_rate for v in variables if isinstance(v, DenseVariable)]
    rate = rates[0] if rates else timing.sampling_rate
    return [to_dense(v, rate, timing) for v in variables]


def is_simple(variable: Variable) -> bool:
    """Tell whether a variable has no timing."""
    return isinstance(variable, SimpleVariable)
