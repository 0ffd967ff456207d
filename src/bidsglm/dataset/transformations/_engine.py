"""Read a ``Transformations`` object and run its instructions on a collection."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bidsglm.dataset.discovery import close_matches
from bidsglm.dataset.transformations._common import (
    common_dense,
    densify,
    fail,
    lookup,
    refuse_text,
    require_aligned,
    run_timing,
)
from bidsglm.dataset.transformations._registry import REFUSED, TRANSFORMERS
from bidsglm.dataset.transformations._variables import SparseVariable, Variable, VariableCollection
from bidsglm.errors import TransformationError

if TYPE_CHECKING:
    from bidsglm.dataset.transformations._spec import InstructionSpec

__all__ = ['Instruction', 'Transformations', 'apply_transformations', 'read_transformations']

#: Arguments every instruction takes (snake_case), besides its own options.
_COMMON = ('name', 'input', 'output', 'output_prefix', 'output_suffix', 'dense', 'description')
_PATTERN = re.compile(r'[*?\[\]]')


def snake_case(key: str) -> str:
    """Return pybids' snake_case spelling of a JSON key.

    Examples
    --------
    >>> snake_case('ReplaceNa'), snake_case('FirDelays'), snake_case('input')
    ('replace_na', 'fir_delays', 'input')
    """
    return re.sub(r'(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])', '_', key).lower()


def camel_case(key: str) -> str:
    """Return the JSON spelling of a snake_case argument (``replace_na`` -> ``ReplaceNa``)."""
    return ''.join(part.capitalize() for part in key.split('_'))


@dataclass(frozen=True)
class Instruction:
    """One instruction, read and checked.

    Parameters
    ----------
    name : str
        The instruction, as its transformer spells it (``'Factor'``).
    inputs : tuple of str
        ``Input``: names, ``Group`` names or glob patterns.
    outputs : tuple of str, default=()
        ``Output``.
    output_prefix, output_suffix : str, default=''
        ``OutputPrefix`` and ``OutputSuffix``, added around each output name.
    dense : bool, default=False
        ``Dense``: make sparse inputs dense first.
    options : mapping of str to object, default={}
        The instruction's other arguments by snake_case name, defaults filled in.
    position : int, default=1
        Its place in the list (from 1), for messages.
    """

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    output_prefix: str = ''
    output_suffix: str = ''
    dense: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    position: int = 1

    @property
    def renames(self) -> bool:
        """Whether an output name, prefix or suffix is given."""
        return bool(self.outputs or self.output_prefix or self.output_suffix)


@dataclass(frozen=True)
class Transformations:
    """A node's ``Transformations``, read and checked.

    Parameters
    ----------
    transformer : str
        The instruction set (a key of :data:`TRANSFORMERS`).
    instructions : tuple of Instruction
        The instructions, in order.
    """

    transformer: str
    instructions: tuple[Instruction, ...]


def _names_list(value: object, what: str, where: str) -> tuple[str, ...]:
    """Return a name or a list of names as a tuple, or refuse anything else."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        fail(f'{where}: {what} must be a variable name or a list of names; got {value!r}.')
    return tuple(items)


def _transformer(spec: Mapping[str, Any]) -> str:
    """Return the registry key of the spec's ``Transformer``."""
    if 'transformer' not in spec:
        fail(f'Transformations need a "Transformer"; use one of {list(TRANSFORMERS)}.')
    name = spec['transformer']
    key = name.lower() if isinstance(name, str) else name
    if key not in TRANSFORMERS:
        fail(
            f'The transformer {name!r} is not supported; bidsglm runs the instructions of '
            f'{list(TRANSFORMERS)}.'
        )
    return str(key)


def _spec_of(transformer: str, name: object, where: str) -> tuple[str, InstructionSpec]:
    """Return the canonical name and the spec of an instruction, or refuse it by name."""
    registry = TRANSFORMERS[transformer]
    canonical = {key.lower(): key for key in registry}
    refused = {key.lower(): reason for key, reason in REFUSED[transformer].items()}
    key = name.lower() if isinstance(name, str) else None
    if key in refused:
        fail(f'{where}: {refused[key].format(name=name)}.')
    if key not in canonical:
        names = list(registry)
        hint = close_matches(str(name), names)
        fail(f'{where}: unknown instruction {name!r}{hint} for {transformer!r}; it knows {names}.')
    return canonical[key], registry[canonical[key]]


def _options(spec: InstructionSpec, given: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check the instruction's own arguments and fill in the defaults."""
    unknown = [key for key in given if key not in spec.options]
    if unknown:
        known = [camel_case(k) for k in (*_COMMON[1:], *spec.options)]
        first = camel_case(unknown[0])
        fail(
            f'{where}: unknown argument {first!r}{close_matches(first, known)}; it takes {known}.'
        )
    options = {}
    for key, option in spec.options.items():
        if key not in given:
            if option.required:
                fail(f'{where}: the argument {camel_case(key)!r} is required ({option.expected}).')
            options[key] = option.default
            continue
        value = given[key]
        items = value if option.per_input and isinstance(value, list) else [value]
        if not items or not all(option.check(item) for item in items):
            fail(f'{where}: {camel_case(key)} must be {option.expected}; got {value!r}.')
        options[key] = value
    return options


def _instruction(transformer: str, raw: object, position: int) -> Instruction:
    """Read and check one instruction."""
    where = f'Instruction {position}'
    if not isinstance(raw, Mapping):
        fail(f'{where} must be an object with a "Name" and an "Input"; got {raw!r}.')
    given = {snake_case(str(key)): value for key, value in raw.items()}
    name, spec = _spec_of(transformer, given.get('name'), where)
    where = f'{where} ({name})'
    if 'input' not in given and spec.needs_input:
        fail(f'{where}: "Input" is required (the variables to transform).')
    inputs = _names_list(given['input'], 'Input', where) if 'input' in given else ()
    outputs = () if given.get('output') is None else _names_list(given['output'], 'Output', where)
    extras = {k: v for k, v in given.items() if k not in _COMMON}
    instruction = Instruction(
        name=name,
        inputs=inputs,
        outputs=outputs,
        output_prefix=_text(given, 'output_prefix', where),
        output_suffix=_text(given, 'output_suffix', where),
        dense=_dense(given, where),
        options=MappingProxyType(_options(spec, extras, where)),
        position=position,
    )
    _check_outputs(spec, instruction, where)
    return instruction


def _text(given: Mapping[str, Any], key: str, where: str) -> str:
    value = given.get(key, '')
    if not isinstance(value, str):
        fail(f'{where}: {camel_case(key)} must be a string; got {value!r}.')
    return value


def _dense(given: Mapping[str, Any], where: str) -> bool:
    value = given.get('dense', False)
    if not isinstance(value, bool):
        fail(f'{where}: Dense must be true or false; got {value!r}.')
    return value


def _check_outputs(spec: InstructionSpec, instruction: Instruction, where: str) -> None:
    """Refuse a missing or impossible ``Output`` before any data is read."""
    if spec.output_required and not instruction.renames:
        fail(f'{where}: "Output" is required (the name of the new variable).')
    if spec.kind == 'joint' and len(instruction.outputs) != 1:
        fail(
            f'{where}: "Output" must be one name (it makes one variable); '
            f'got {list(instruction.outputs)}.'
        )
    patterns = any(_PATTERN.search(name) for name in instruction.inputs)
    if spec.kind == 'each' and instruction.outputs and not patterns:
        _check_output_count(instruction, len(instruction.inputs), where)


def _check_output_count(instruction: Instruction, n_inputs: int, where: str) -> None:
    if len(instruction.outputs) != n_inputs:
        fail(
            f'{where}: {len(instruction.outputs)} Output names for {n_inputs} inputs; give one '
            'output name per input, or an OutputPrefix / OutputSuffix.'
        )


def read_transformations(spec: Mapping[str, Any] | Sequence[Any]) -> Transformations:
    """Read and check a node's ``Transformations`` without touching any data.

    Every problem a model file can have on its own is found here (unknown
    transformer, instruction or argument, a wrong value, a missing ``Output``),
    so a model can be refused before any work.

    Parameters
    ----------
    spec : mapping or list
        ``{"Transformer": ..., "Instructions": [...]}``; a bare list of
        instructions (the pre-1.0 form) is read as ``pybids-transforms-v1``.
        Keys may be CamelCase or snake_case, as pybids reads them.

    Returns
    -------
    transformations : Transformations
        The transformer's registry key and the checked instructions.

    Raises
    ------
    TransformationError
        Naming the instruction (position and name) and what is wrong with it.

    Examples
    --------
    >>> t = read_transformations({'Transformer': 'pybids-transforms-v1', 'Instructions': [
    ...     {'Name': 'Factor', 'Input': 'trial_type'}]})
    >>> t.transformer, t.instructions[0].name, dict(t.instructions[0].options)
    ('pybids-transforms-v1', 'Factor', {'constraint': 'none', 'ref_level': None, 'sep': '.'})
    >>> read_transformations({'Transformer': 'pybids-transforms-v1', 'Instructions': [
    ...     {'Name': 'Dummify', 'Input': 'trial_type'}]})
    Traceback (most recent call last):
    ...
    bidsglm.errors.TransformationError: Instruction 1: unknown instruction 'Dummify' ...
    """
    if not isinstance(spec, Mapping):
        spec = {'Transformer': 'pybids-transforms-v1', 'Instructions': spec}
    given = {snake_case(str(key)): value for key, value in spec.items()}
    unknown = set(given) - {'transformer', 'instructions', 'description'}
    if unknown:
        fail(f'Transformations take "Transformer" and "Instructions"; not {sorted(unknown)}.')
    transformer = _transformer(given)
    raw = given.get('instructions')
    if not isinstance(raw, list):
        fail(f'"Instructions" must be a list of instructions; got {raw!r}.')
    return Transformations(
        transformer, tuple(_instruction(transformer, item, i) for i, item in enumerate(raw, 1))
    )


def expand_inputs(collection: VariableCollection, inputs: Sequence[str]) -> list[str]:
    """Replace group names by their variables and glob patterns by the names they match.

    A pattern may match nothing (pybids' rule: ``trial_type.*`` in a run without
    such events); a plain name must be a variable.
    """
    names: list[str] = []
    for entry in inputs:
        if entry in collection.groups:
            names.extend(collection.groups[entry])
        elif _PATTERN.search(entry) and entry not in collection:
            names.extend(fnmatch.filter(collection.names, entry))
        else:
            names.append(lookup(collection, entry, 'Input').name)
    return names


def _option_for(
    spec: InstructionSpec, instruction: Instruction, index: int, count: int
) -> dict[str, Any]:
    """Return the options of the ``index``-th input: a list gives one value per input."""
    chosen = {}
    for key, value in instruction.options.items():
        if spec.options[key].per_input and isinstance(value, list):
            if len(value) != count:
                fail(
                    f'{camel_case(key)} has {len(value)} values for {count} inputs; '
                    'give one value, or one per input.'
                )
            value = value[index]  # noqa: PLW2901
        chosen[key] = value
    return chosen


def _result_names(instruction: Instruction, index: int, results: Sequence[Variable]) -> list[str]:
    """Name an input's results: Output (or its own name), prefix and suffix on the first."""
    own = [result.name for result in results]
    if not instruction.renames or not results:
        return own
    first = instruction.outputs[index] if instruction.outputs else own[0]
    return [instruction.output_prefix + first + instruction.output_suffix, *own[1:]]


def _prepared(
    spec: InstructionSpec, collection: VariableCollection, instruction: Instruction, name: str
) -> Variable:
    """Return an input variable, checked and (with ``Dense``) made dense."""
    variable = collection.variables[name]
    if not spec.text_inputs:
        refuse_text(variable, instruction.name)
    if instruction.dense and isinstance(variable, SparseVariable):
        timing = run_timing(collection, 'Dense')
        return densify(variable, timing.sampling_rate, timing)
    return variable


def _run_each(
    spec: InstructionSpec, collection: VariableCollection, instruction: Instruction
) -> VariableCollection:
    """Apply an instruction to each input in turn, storing what it returns."""
    names = expand_inputs(collection, instruction.inputs)
    if instruction.outputs:
        _check_output_count(instruction, len(names), 'Output')
    variables = dict(collection.variables)
    for index, name in enumerate(names):
        variable = _prepared(spec, collection, instruction, name)
        returned = spec.function(
            variable, collection, **_option_for(spec, instruction, index, len(names))
        )
        results = returned if isinstance(returned, tuple) else (returned,)
        if spec.drops_input:
            variables.pop(name, None)
        for new_name, result in zip(
            _result_names(instruction, index, results), results, strict=True
        ):
            variables[new_name] = replace(result, name=new_name)
    return collection.with_variables(variables)


def _run_joint(
    spec: InstructionSpec, collection: VariableCollection, instruction: Instruction
) -> VariableCollection:
    """Apply an instruction to all inputs together; store its one result under Output."""
    names = expand_inputs(collection, instruction.inputs)
    if not names:
        fail(f'{instruction.name} has no input variable (its patterns matched nothing).')
    variables = [_prepared(spec, collection, instruction, name) for name in names]
    if instruction.dense:
        variables = common_dense(variables, run_timing(collection, 'Dense'))
    require_aligned(variables, instruction.name)
    result = spec.function(variables, **instruction.options)
    output = instruction.output_prefix + instruction.outputs[0] + instruction.output_suffix
    return collection.with_variables(
        {**collection.variables, output: replace(result, name=output)}
    )


def _run_names(
    spec: InstructionSpec, collection: VariableCollection, instruction: Instruction
) -> VariableCollection:
    """Apply an instruction to the collection's names (Select, Delete, Group)."""
    names = expand_inputs(collection, instruction.inputs)
    return spec.function(collection, names, instruction.outputs)


def _run_table(
    spec: InstructionSpec, collection: VariableCollection, instruction: Instruction
) -> VariableCollection:
    """Apply a bidspm instruction to the collection as one events table."""
    names: list[str] = []
    for entry in instruction.inputs:
        timing = entry in ('onset', 'duration') and entry not in collection
        names += [entry] if timing else expand_inputs(collection, [entry])
    return spec.function(collection, names, instruction.outputs, **instruction.options)


_DRIVERS = {'each': _run_each, 'joint': _run_joint, 'names': _run_names, 'table': _run_table}


def apply_transformations(
    collection: VariableCollection,
    transformations: Transformations | Mapping[str, Any] | Sequence[Any],
) -> VariableCollection:
    """Run a node's transformations on a collection and return the new collection.

    Parameters
    ----------
    collection : VariableCollection
        The variables of one run (or one table at a higher level); not modified.
    transformations : Transformations or mapping or list
        What :func:`read_transformations` returns, or what it reads.

    Returns
    -------
    collection : VariableCollection
        The variables after the last instruction.

    Raises
    ------
    TransformationError
        Naming the instruction (position and name) and what went wrong.

    Examples
    --------
    >>> import pandas as pd
    >>> from bidsglm.dataset.transformations import RunTiming, collection_from_run
    >>> events = pd.DataFrame({'onset': [0, 4, 8], 'duration': [1, 1, 1],
    ...                        'trial_type': ['go', 'stop', 'go']})
    >>> run = collection_from_run(RunTiming(n_volumes=10, repetition_time=2.0), events)
    >>> out = apply_transformations(run, {'Transformer': 'pybids-transforms-v1',
    ...     'Instructions': [{'Name': 'Factor', 'Input': ['trial_type']}]})
    >>> out.names, out['trial_type.go'].values.tolist()
    (('trial_type.go', 'trial_type.stop'), [1.0, 0.0, 1.0])
    """
    if not isinstance(transformations, Transformations):
        transformations = read_transformations(transformations)
    registry = TRANSFORMERS[transformations.transformer]
    for instruction in transformations.instructions:
        spec = registry[instruction.name]
        try:
            collection = _DRIVERS[spec.kind](spec, collection, instruction)
        except TransformationError as error:
            prefix = f'Instruction {instruction.position} ({instruction.name})'
            message = str(error)
            if message.startswith('Instruction '):
                raise
            msg = f'{prefix}: {message}'
            raise TransformationError(msg) from error
    return collection
