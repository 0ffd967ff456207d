r"""The participant level: each subject's runs, through the Run node and its fixed-effects nodes.

For each subject, every run's design is built and checked
(:mod:`bidsglm.dataset.runs`); the Run node's contrasts become :class:`Output`\\ s of
each group of runs; each Session or Subject node combines the outputs it receives
by fixed effects (:mod:`bidsglm.dataset.outputs`). Every node that is saved gives
one :class:`PlannedSave` per set of runs: the worker fits the subject's runs once
and saves each as a view of that fit over its runs, so the numbers of a
fixed-effects node are exactly bidsglm's first-level fixed effects over those runs.

Contrasts that a run cannot estimate (a condition without events in it) are left
out of that run's outputs; a node that combines runs refuses a contrast that some
of them cannot estimate, naming the run; a contrast no run of a subject can
estimate is left out for that subject, and said.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np

from bidsglm.bids.layout import plan_layout
from bidsglm.dataset.entity_model import entity_outputs
from bidsglm.dataset.naming import check_contrast_names
from bidsglm.dataset.outputs import Output, combine, weights_of
from bidsglm.dataset.runs import checked_design, not_estimable, unusable_columns, without_subject
from bidsglm.dataset.stats_models import (
    INTERCEPT,
    Contrast,
    DummyContrasts,
    Edge,
    Node,
    StatsModel,
    contrast_matches,
)
from bidsglm.dataset.stats_models._graph import is_entity_model
from bidsglm.design.contrasts import parse_contrast_expression
from bidsglm.errors import BidsGlmError, ContrastError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from bidsglm.dataset.design import DesignSpec, RunDesign
    from bidsglm.dataset.discovery import RunInputs

__all__ = [
    'NAMES_FROM_MODEL',
    'FirstLevel',
    'FirstLevelSettings',
    'PlannedSave',
    'SubjectJob',
    'plan_subject',
]

logger = logging.getLogger('bidsglm')

NAMES_FROM_MODEL = (
    'The names come from the model file: the Name of each contrast, or the condition '
    'of a dummy contrast.'
)
#: Entities of a BOLD file that are not the run's own (its processing).
_NOT_RUN_ENTITIES = frozenset({'desc'})


@dataclass(frozen=True)
class FirstLevel:
    """What the Run node means for one subject.

    Parameters
    ----------
    spec : DesignSpec
        How each run's design is made.
    contrasts : tuple of Contrast, default=()
        The node's ``Contrasts``.
    dummy : DummyContrasts or None, default=None
        The node's ``DummyContrasts``.
    expressions : tuple of (str, str), default=()
        Contrasts given as ``NAME=EXPRESSION`` over the design columns (the
        command line's ``--contrast``); one row is a t-test, several an F-test.
    names_from : str
        Where the contrast names come from, and how to change them (for messages).
    confounds : tuple of str, default=()
        The confound columns of ``spec.x`` (the options' model, for messages).
    """

    spec: DesignSpec
    contrasts: tuple[Contrast, ...] = ()
    dummy: DummyContrasts | None = None
    expressions: tuple[tuple[str, str], ...] = ()
    names_from: str = NAMES_FROM_MODEL
    confounds: tuple[str, ...] = ()


@dataclass(frozen=True)
class FirstLevelSettings:
    """The first-level model's parameters besides the designs."""

    hrf_model: str = 'glover'
    fir_delays: tuple[int, ...] = (0,)
    noise_model: str = 'ar1'
    high_pass: float = 0.01
    smoothing_fwhm: float | None = None


@dataclass(frozen=True)
class PlannedSave:
    """One model to save: a node's outputs over one set of a subject's runs.

    Parameters
    ----------
    node : str
        The node.
    out_dir : pathlib.Path
        The derivative dataset it goes to.
    runs : tuple of int
        The subject's runs (indices) it is a view of.
    contrasts : tuple of (str, str or tuple of str)
        Name and expression of each contrast (or one expression per run).
    contrast_types : tuple of (str, str)
        Name and test (``'t'`` or ``'F'``).
    statmap : PurePosixPath
        Its ``statmap.json``, relative to ``out_dir`` (the key of its lock).
    """

    node: str
    out_dir: Path
    runs: tuple[int, ...]
    contrasts: tuple[tuple[str, str | tuple[str, ...]], ...]
    contrast_types: tuple[tuple[str, str], ...]
    statmap: PurePosixPath


@dataclass(frozen=True)
class SubjectJob:
    """One subject to fit and save.

    Parameters
    ----------
    subject : str
        The label.
    runs : tuple of RunInputs
        Its runs.
    spec : DesignSpec
        How each run's design is made.
    settings : FirstLevelSettings
        The model's other parameters.
    masks : tuple of pathlib.Path
        The mask of each run (empty: computed from the runs).
    saves : tuple of PlannedSave
        What to save.
    overwrite : bool, default=False
        Save even what is saved already.
    """

    subject: str
    runs: tuple[RunInputs, ...]
    spec: DesignSpec
    settings: FirstLevelSettings
    masks: tuple[Path, ...]
    saves: tuple[PlannedSave, ...]
    overwrite: bool = False

    @property
    def name(self) -> str:
        """``sub-<label>``."""
        return f'sub-{self.subject}'

    @property
    def contrasts(self) -> tuple[tuple[str, str | tuple[str, ...]], ...]:
        """Every contrast saved, for messages."""
        return tuple(c for save in self.saves for c in save.contrasts)


@dataclass
class _Subject:
    """What planning knows of one subject while it walks the graph."""

    subject: str
    runs: Sequence[RunInputs]
    designs: Sequence[RunDesign]
    first_level: FirstLevel
    shown: dict[str, str] = field(default_factory=dict)

    def unusable(self, index: int) -> set[str]:
        design = self.designs[index]
        columns = {str(c) for d in self.designs for c in d.design.columns}
        dense = set(design.variables) - set(design.events)
        return unusable_columns(sorted(columns), design.design, sorted(dense))

    def conditions(self) -> list[str]:
        return sorted({name for d in self.designs for name in d.events})

    def entities(self, runs: Iterable[int]) -> tuple[tuple[str, str], ...]:
        dicts = [self.runs[i].entities for i in runs]
        common = {
            k: v
            for k, v in dicts[0].items()
            if k not in _NOT_RUN_ENTITIES and all(d.get(k) == v for d in dicts[1:])
        }
        return tuple(sorted(common.items()))


# ------------------------------------------------------------- the Run node
def _variables(designs: Sequence[RunDesign]) -> list[str]:
    """Return the variables of ``X`` over all runs, in order."""
    return list(dict.fromkeys(name for design in designs for name in design.variables))


def _dummies(dummy: DummyContrasts | None, designs: Sequence[RunDesign]) -> list[Contrast]:
    """Expand DummyContrasts; over every variable of ``X``, the intercept is left out."""
    if dummy is None:
        return []
    variables = _variables(designs)
    names = dummy.conditions if dummy.conditions is not None else variables
    return [
        Contrast(
            'intercept' if name == INTERCEPT else name,
            (_variable_of(name, variables),),
            ((1.0,),),
            dummy.test,
        )
        for name in names
    ]


def _variable_of(name: str, variables: Sequence[str]) -> str:
    """Return the variable a dummy contrast names: itself, or bidspm's short name's variable.

    Examples
    --------
    >>> _variable_of('face', ['trial_type.face', 'trial_type.house'])
    'trial_type.face'
    >>> _variable_of('face', ['face', 'trial_type.face']), _variable_of('x', ['y'])
    ('face', 'x')
    """
    if name in variables:
        return name
    matches = [variable for variable in variables if contrast_matches(name, variable)]
    return matches[0] if len(matches) == 1 else name


def _from_expression(name: str, expression: str, state: _Subject) -> Contrast:
    """Read ``NAME=EXPRESSION`` over the subject's design columns."""
    columns = list(dict.fromkeys(str(c) for d in state.designs for c in d.design.columns))
    try:
        weights = np.atleast_2d(parse_contrast_expression(expression, columns))
    except BidsGlmError as error:
        msg = f'The contrast {name!r} does not fit the designs of sub-{state.subject}: {error}'
        raise type(error)(msg) from error
    used = [int(i) for i in np.flatnonzero(np.any(weights != 0, axis=0))]
    rows = tuple(tuple(float(w) for w in row[used]) for row in weights)
    state.shown[name] = name if expression.strip('`') == name else f'{name} = {expression}'
    return Contrast(name, tuple(columns[i] for i in used), rows, 'F' if len(rows) > 1 else 't')


def _run_contrasts(state: _Subject) -> list[Contrast]:
    """Return the Run node's contrasts for this subject: dummies, then the others (which win)."""
    first = state.first_level
    explicit = [*first.contrasts, *(_from_expression(n, e, state) for n, e in first.expressions)]
    names = {c.name for c in explicit}
    dummies = [c for c in _dummies(first.dummy, state.designs) if c.name not in names]
    return [*dummies, *explicit]


def _column_map(designs: Sequence[RunDesign]) -> dict[str, str]:
    columns: dict[str, str] = {}
    for design in designs:
        for name, column in design.columns.items():
            columns.setdefault(name, column)
    return columns


def _group_runs(node: Node, state: _Subject) -> list[tuple[int, ...]]:
    """Group the subject's runs by the node's entities (``subject`` is implied)."""
    keys = [key for key in node.group_by if key not in ('contrast', 'sub')]
    groups: dict[tuple[str | None, ...], list[int]] = {}
    for index, run in enumerate(state.runs):
        groups.setdefault(tuple(run.entities.get(k) for k in keys), []).append(index)
    return [tuple(runs) for runs in groups.values()]


def _refuse_partial(
    state: _Subject, name: str, weights: Iterable[str], runs: Sequence[int]
) -> None:
    """Refuse a contrast that some of the runs it combines cannot estimate."""
    for index in runs:
        bad = [column for column in weights if column in state.unusable(index)]
        if bad:
            run = state.runs[index]
            reason = not_estimable(
                bad[0], run, index, state.designs[index].design, state.conditions()
            )
            shown = state.shown.get(name, name)
            msg = (
                f'{reason}, so the contrast {shown!r}, which weights it, cannot be '
                'estimated there. Leave it out of the contrast, or add its events to that '
                f'run. {without_subject(run.subject)}'
            )
            raise ContrastError(msg)


def _run_outputs(node: Node, state: _Subject) -> list[Output]:
    contrasts = _run_contrasts(state)
    columns = _column_map(state.designs)
    outputs = []
    for runs in _group_runs(node, state):
        for contrast in contrasts:
            weights = weights_of(contrast, columns)
            used = {column for row in weights for column, _ in row}
            fits = [not used & state.unusable(i) for i in runs]
            if all(fits):
                entities = state.entities(runs)
                outputs.append(
                    Output(node.name, contrast.name, weights, contrast.test, runs, entities)
                )
            elif any(fits) and len(runs) > 1:
                _refuse_partial(state, contrast.name, used, runs)
    return outputs


# ------------------------------------------------------- fixed-effects nodes
def passes_filter(
    output_entity: Callable[[str], str | None], name: str, filters: Mapping[str, tuple[str, ...]]
) -> bool:
    """Tell whether an input passes an edge's ``Filter`` (``""``: the entity is absent)."""
    for key, values in filters.items():
        if key == 'contrast':
            if not any(contrast_matches(value, name) for value in values):
                return False
            continue
        label = output_entity(key)
        if not any((label is None) if value == '' else label == value for value in values):
            return False
    return True


def _received(node: Node, edge: Edge, outputs: Sequence[Output]) -> list[Output]:
    """Return the outputs a node receives: passed on, through its edge's filter, kept."""
    received = [o for o in outputs if o.passes_on and passes_filter(o.entity, o.name, edge.filter)]
    keep = node.dummy.conditions if node.dummy is not None and node.model.intercept_only else None
    if keep is None or INTERCEPT in keep:
        return received
    return [o for o in received if any(contrast_matches(k, o.name) for k in keep)]


def _scaled(output: Output, contrast: Contrast, node: str, runs: tuple[int, ...]) -> Output:
    """One incoming contrast times a ``[1]`` contrast's weights: ``<incoming>_<name>``."""
    rows = tuple(
        tuple((column, weight * factor[0]) for column, weight in output.weights[0])
        for factor in contrast.weights
    )
    return Output(
        node, f'{output.name}_{contrast.name}', rows, contrast.test, runs, output.entities
    )


def _combined(contrast: Contrast, group: Sequence[Output], node: str) -> Output:
    """Return a contrast that weights incoming contrasts: their weights combined, per run."""
    parts = []
    for condition, weight in zip(contrast.conditions, contrast.weights[0], strict=True):
        found = [o for o in group if contrast_matches(condition, o.name)]
        if not found:
            msg = f'the incoming contrast {condition!r} of {contrast.name!r} is missing'
            raise ContrastError(msg)
        parts.append((found[0].weights, weight))
    runs = tuple(sorted({r for o in group for r in o.runs}))
    entities = group[0].entities
    return Output(node, contrast.name, combine(parts), contrast.test, runs, entities)


def _refuse_weighted(node: Node, group: Sequence[Output], state: _Subject) -> None:
    """Refuse to combine again, over [1], contrasts across a subject's inputs."""
    weighted = sorted({o.name for o in group if o.run_factors is not None})
    if weighted:
        msg = (
            f'Node {node.name!r} receives {weighted}, contrasts across inputs of '
            f'sub-{state.subject}, which fixed effects over [1] do not combine again. '
            'Send them to a Dataset node.'
        )
        raise ContrastError(msg)


def _fixed_group(node: Node, group: Sequence[Output], state: _Subject) -> list[Output]:
    if is_entity_model(node):
        return entity_outputs(node, group, state.entities)
    _refuse_weighted(node, group, state)
    expected = tuple(sorted({r for o in group for r in o.runs}))
    names = list(dict.fromkeys(o.name for o in group))
    if 'contrast' not in node.group_by and len(names) > 1 and (node.dummy or _per_input(node)):
        msg = (
            f'Node {node.name!r}: without "contrast" in GroupBy, one group of '
            f'sub-{state.subject} holds the contrasts {names}, which one intercept would '
            'mix. Add "contrast" to GroupBy, or keep one contrast with an edge Filter.'
        )
        raise ContrastError(msg)
    outputs = []
    for name in names:
        members = [o for o in group if o.name == name]
        runs = tuple(sorted({r for o in members for r in o.runs}))
        if runs != expected:
            _refuse_partial(state, name, members[0].columns, expected)
        first = members[0]
        if node.dummy is not None:
            outputs.append(
                Output(node.name, name, first.weights, node.dummy.test, runs, first.entities)
            )
        outputs += [
            _scaled(first, c, node.name, runs)
            for c in node.contrasts
            if c.conditions == (INTERCEPT,)
        ]
    outputs += [
        _combined(c, group, node.name) for c in node.contrasts if c.conditions != (INTERCEPT,)
    ]
    return outputs


def _per_input(node: Node) -> bool:
    return any(c.conditions == (INTERCEPT,) for c in node.contrasts)


def _fixed_outputs(
    node: Node, edge: Edge, inputs: Sequence[Output], state: _Subject
) -> list[Output]:
    received = _received(node, edge, inputs)
    keys = [key for key in node.group_by if key != 'contrast']
    groups: dict[tuple[str | None, ...], list[Output]] = {}
    for output in received:
        groups.setdefault(tuple(output.entity(k) for k in keys), []).append(output)
    outputs = []
    for group in groups.values():
        outputs += _fixed_group(node, group, state)
    return outputs


# -------------------------------------------------------------------- saves
def _saves(
    node: Node, outputs: Sequence[Output], out_dir: Path, state: _Subject
) -> list[PlannedSave]:
    by_runs: dict[tuple[int, ...], list[Output]] = {}
    for output in outputs:
        by_runs.setdefault(output.runs, []).append(output)
    saves = []
    for runs, members in by_runs.items():
        bolds = [str(state.runs[i].bold) for i in runs]
        layout = plan_layout('first', bolds, None, subject_label=state.subject)
        names = [o.name for o in members]
        check_contrast_names(names, layout, len(runs), state.first_level.names_from)
        saves.append(
            PlannedSave(
                node.name,
                out_dir,
                runs,
                tuple((o.name, o.definition()) for o in members),
                tuple((o.name, o.stat_type) for o in members),
                layout.statmap_path(),
            )
        )
    return saves


def plan_subject(
    model: StatsModel,
    runs: Sequence[RunInputs],
    first_level: FirstLevel,
    placement: Callable[[Node], Path | None],
) -> list[PlannedSave]:
    """Plan a subject's nodes: check every run, and return what to save.

    Parameters
    ----------
    model : StatsModel
        The model (its Run node's design is ``first_level``).
    runs : sequence of RunInputs
        The subject's runs.
    first_level : FirstLevel
        What the Run node means for this subject.
    placement : callable
        The folder each node's outputs go to (None: not saved).

    Returns
    -------
    list of PlannedSave
        One per node saved and set of runs.

    Raises
    ------
    BidsGlmError
        For a damaged file, a design that cannot be built or fitted, a contrast
        some run cannot estimate, or names that cannot be saved.
    """
    designs = [checked_design(run, first_level.spec) for run in runs]
    state = _Subject(runs[0].subject, runs, designs, first_level)
    _check_absent(state)
    outputs = {model.run.name: _run_outputs(model.run, state)}
    for node in model.nodes_of('fixed'):
        edge = model.sources(node.name)[0]
        outputs[node.name] = _fixed_outputs(node, edge, outputs[edge.source], state)
    _log_dropped(model, state, outputs)
    saves = []
    for node in model.nodes_of('run', 'fixed'):
        out_dir = placement(node)
        if out_dir is not None:
            saves += _saves(node, outputs[node.name], out_dir, state)
    return saves


def _check_absent(state: _Subject) -> None:
    """Refuse a plain name of ``X`` found in no run; say which conditions have no events."""
    absent = [
        name
        for name in dict.fromkeys(n for d in state.designs for n in d.absent)
        if all(name in d.absent for d in state.designs)
    ]
    plain = [name for name in absent if '.' not in name]
    if plain:
        variables = sorted({v for d in state.designs for v in d.variables})
        msg = (
            f'Model.X names {plain}, which no run of sub-{state.subject} has (neither a '
            f'column nor a trial_type value; the variables of X found are {variables}). '
            'Check the names; write a condition that some subjects lack as '
            'trial_type.<value>, which is left out where it has no events.'
        )
        raise InvalidParameterError(msg)
    if absent:
        logger.warning(
            'sub-%s: %s have no events in any run: left out of its designs.',
            state.subject,
            absent,
        )


def _log_dropped(model: StatsModel, state: _Subject, outputs: Mapping[str, list[Output]]) -> None:
    """Say which contrasts of the Run node no run of the subject can estimate."""
    made = {o.name for o in outputs[model.run.name]}
    missing = [c.name for c in _run_contrasts(state) if c.name not in made]
    if missing:
        logger.warning(
            'sub-%s: no run can estimate the contrast(s) %s (their conditions have no '
            'events): left out for this subject.',
            state.subject,
            missing,
        )
