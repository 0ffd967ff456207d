"""How an instruction is described: its arguments, their checks, how it is driven."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = ['InstructionSpec', 'Option']

#: How the engine drives an instruction: once per input variable (``each``), once
#: over all of them together (``joint``), on the collection's names (``names``), or
#: on the collection as one events table with the instruction's arguments (``table``,
#: bidspm's instructions).
Kind = Literal['each', 'joint', 'names', 'table']


@dataclass(frozen=True)
class Option:
    """One argument of an instruction (beyond ``Input``, ``Output`` and ``Dense``).

    Parameters
    ----------
    default : object
        Its value when the instruction does not give it.
    check : callable
        Tells whether a given value is acceptable.
    expected : str
        What an acceptable value is, for messages.
    required : bool, default=False
        Whether the instruction must give it.
    per_input : bool, default=True
        Whether a list gives one value per input variable (pybids' rule); when
        False, the value applies to every input as it is.
    """

    default: object
    check: Callable[[object], bool]
    expected: str
    required: bool = False
    per_input: bool = True


@dataclass(frozen=True)
class InstructionSpec:
    """What an instruction does and which arguments it takes.

    Parameters
    ----------
    kind : {'each', 'joint', 'names'}
        How the engine drives ``function``: ``each`` calls
        ``function(variable, collection, **options)`` per input variable and
        names the results; ``joint`` calls ``function(variables, **options)``
        once and stores the one result under ``Output``; ``names`` calls
        ``function(collection, names, outputs)`` and takes the collection it
        returns; ``table`` calls ``function(collection, names, outputs, **options)``
        (``onset`` and ``duration`` passed as they are) and takes the collection.
    function : callable
        The work.
    summary : str
        One line saying what it does.
    options : mapping of str to Option, default={}
        The other arguments, by snake_case name.
    output_required : bool, default=False
        Whether ``Output`` (or a prefix or suffix) must be given.
    text_inputs : bool, default=False
        Whether input variables may hold text.
    drops_input : bool, default=False
        Whether the input variable leaves the collection (``Factor``, ``Rename``).
    needs_input : bool, default=True
        Whether ``Input`` is required (bidspm's ``Constant`` takes none).
    """

    kind: Kind
    function: Callable[..., Any]
    summary: str
    options: Mapping[str, Option] = field(default_factory=dict)
    output_required: bool = False
    text_inputs: bool = False
    drops_input: bool = False
    needs_input: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, 'options', MappingProxyType(dict(self.options)))


def is_bool(value: object) -> bool:
    """Tell whether a value is ``true`` or ``false``."""
    return isinstance(value, bool)


def is_number(value: object) -> bool:
    """Tell whether a value is a real number (not a boolean)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_positive(value: object) -> bool:
    """Tell whether a value is a number > 0."""
    return is_number(value) and float(value) > 0  # type: ignore[arg-type]


def is_text(value: object) -> bool:
    """Tell whether a value is a string."""
    return isinstance(value, str)


def is_names(value: object) -> bool:
    """Tell whether a value is a name or a list of names."""
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(item, str) for item in value)
    )


def is_scalar(value: object) -> bool:
    """Tell whether a value is a number, a string or a boolean."""
    return isinstance(value, (str, bool)) or is_number(value)


def is_whole(value: object) -> bool:
    """Tell whether a value is a whole number (a number of samples)."""
    return is_number(value) and float(value).is_integer()  # type: ignore[arg-type]


def is_numbers(value: object) -> bool:
    """Tell whether a value is a number or a list of numbers."""
    return is_number(value) or (isinstance(value, list) and all(map(is_number, value)))


def one_of(*choices: object) -> Callable[[object], bool]:
    """Return a check that a value is one of ``choices`` (text compared exactly)."""
    return lambda value: any(value == c and type(value) is type(c) for c in choices)


def is_replacements(value: object) -> bool:
    """Tell whether a value maps old values to new ones.

    pybids writes ``{"old": "new", ...}``; bidspm also writes a list of
    ``{"key": old, "value": new}`` objects.
    """
    if isinstance(value, Mapping):
        return all(is_scalar(v) for v in value.values())
    pairs = value if isinstance(value, list) else None
    return pairs is not None and all(
        isinstance(pair, Mapping) and set(pair) == {'key', 'value'} for pair in pairs
    )
