"""The graph: edges, and the rules that make each node one bidsglm can run.

Each node is run one of three ways (:attr:`Node.kind`):

``run`` (the Run node, the graph's root)
    One time-series GLM per group of runs of a subject (one run for the usual
    ``["run", "subject"]``; the runs of a group are fitted together, their
    contrasts combined by fixed effects). ``subject`` is implied: runs of several
    subjects never share a model.
``fixed`` (Session and Subject nodes)
    Fixed effects, per subject, of the contrasts they receive: with ``X`` ``[1]``,
    whether ``Type`` is ``meta`` or ``glm`` (SPM and bidspm combine runs this way;
    an OLS over a subject's few runs, FitLins' reading of ``glm``, is not
    offered). ``GroupBy`` must hold ``subject``, and ``contrast`` unless one
    contrast comes in. Their outputs equal bidsglm's first-level fixed effects
    over the same runs. ``X`` may also hold entities (bidspm's
    ``["session", 1]``): each label becomes an indicator (``session.test``), and
    each t contrast over them (``ConditionList`` ``["test", "retest"]``) weights
    the incoming contrast of each input, within the fixed effects of all their
    runs; such a node needs ``contrast`` in ``GroupBy`` and writes its contrasts.
``group`` (Dataset nodes)
    An OLS model across the inputs of each group: ``X`` of ``1``,
    ``participants.tsv`` columns (numbers, or ``column.level`` indicators of a
    categorical one), incoming contrast names (cell means), and what
    transformations make of them; or a ``Formula``.

Edges go up the levels (Run, Session, Subject, Dataset), each node but the root
has one source, and a Dataset node is a leaf.
"""

from __future__ import annotations

import fnmatch
import itertools
from typing import TYPE_CHECKING

from bidsglm.dataset.stats_models._fields import (
    check_keys,
    entity_key,
    filters,
    is_entity,
    reject,
)
from bidsglm.dataset.stats_models._types import INTERCEPT, LEVELS, Edge, Node

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ['check_graph', 'contrast_matches', 'is_covered', 'is_entity_model', 'read_edges']

_EDGE_KEYS = frozenset({'Source', 'Destination', 'Filter', 'Description'})
#: The name a dummy contrast over ``1`` takes when no single contrast comes in.
INTERCEPT_NAME = 'intercept'


def read_edges(value: object, nodes: Sequence[Node]) -> tuple[Edge, ...]:
    """Read ``Edges``, or chain the nodes in their order when there are none.

    Examples
    --------
    >>> from bidsglm.dataset.stats_models._types import NodeModel
    >>> nodes = [Node('Run', 'run', (), NodeModel('glm', ('a',))),
    ...          Node('Subject', 'sub', ('sub',), NodeModel('meta', ('1',)))]
    >>> read_edges(None, nodes)
    (Edge(source='run', destination='sub', filter={}),)
    """
    if value is None:
        return tuple(Edge(a.name, b.name) for a, b in itertools.pairwise(nodes))
    if not isinstance(value, list):
        reject('Edges', f'expected a list of edges, got {value!r}')
    names = [node.name for node in nodes]
    edges = []
    for index, item in enumerate(value):
        where = f'Edges[{index}]'
        edge = check_keys(item, _EDGE_KEYS, where, {})
        ends = [edge.get('Source'), edge.get('Destination')]
        for key, end in zip(('Source', 'Destination'), ends, strict=True):
            if end not in names:
                reject(f'{where}.{key}', f'{end!r} is not the Name of a node; they are {names}')
        edges.append(
            Edge(str(ends[0]), str(ends[1]), filters(edge.get('Filter'), f'{where}.Filter'))
        )
    return tuple(edges)


def _check_shape(nodes: Sequence[Node], edges: Sequence[Edge]) -> None:
    """One Run node as the root; edges up the levels; one source each; all reachable."""
    runs = [node.name for node in nodes if node.level == 'Run']
    if len(runs) != 1:
        reject(
            'Nodes',
            f'expected one Run node, got {len(runs)} ({runs})',
            'bidsglm runs one Run node, the root of the graph',
        )
    level = {node.name: node.level for node in nodes}
    for index, edge in enumerate(edges):
        below, above = LEVELS.index(level[edge.source]), LEVELS.index(level[edge.destination])
        if above <= below or level[edge.source] == 'Dataset':
            reject(
                f'Edges[{index}]',
                f'{edge.source!r} ({level[edge.source]}) -> {edge.destination!r} '
                f'({level[edge.destination]}) does not go up the levels',
                'bidsglm runs Run -> [Session ->] [Subject ->] Dataset nodes, Dataset nodes last',
            )
    for node in nodes:
        incoming = [edge.source for edge in edges if edge.destination == node.name]
        if node.level == 'Run' and incoming:
            reject(f'Nodes ({node.name})', 'the Run node is the root: no edge may lead to it')
        if node.level != 'Run' and len(incoming) != 1:
            reject(
                f'Nodes ({node.name})',
                f'expected one edge into the node, got {len(incoming)} ({incoming})',
                'give each node but the Run node one Source',
            )


def is_covered(name: str, patterns: Iterable[str]) -> bool:
    """Tell whether ``X`` (names and globs) covers a name, or names ``column.name`` (bidspm)."""
    return any(
        name == p or fnmatch.fnmatchcase(name, p) or contrast_matches(name, p) for p in patterns
    )


def _is_level_of(name: str, x: Iterable[str]) -> bool:
    """Tell whether a name is a level (``group.B``) of a variable of ``X`` (``group``)."""
    column, dot, _level = name.partition('.')
    return bool(dot) and column in x


def _check_run(node: Node, where: str) -> None:
    if node.model.type != 'glm':
        reject(f'{where}.Model.Type', 'the Run node fits a time-series "glm"')
    bad = [key for key in node.group_by if not is_entity(key)]
    if bad:
        reject(
            f'{where}.GroupBy',
            f'the Run node groups runs by entities (run, session, subject...), not by {bad}',
        )
    _check_modulations(node, where)


def _check_modulations(node: Node, where: str) -> None:
    """Check that bidspm's parametric modulations modulate convolved variables of ``X``."""
    x = node.model.x
    convolved = node.model.hrf.variables if node.model.hrf else None
    for index, modulation in enumerate(node.model.modulations):
        for name in modulation.conditions:
            if not is_covered(name, x) or (
                convolved is not None and not is_covered(name, convolved)
            ):
                reject(
                    f'{where}.Model.Software.SPM.ParametricModulations[{index}].Conditions',
                    f'{name!r} is not a convolved variable of Model.X',
                    'modulate conditions listed in X (and in HRF.Variables)',
                )


def is_entity_model(node: Node) -> bool:
    """Tell whether a fixed node's ``X`` holds entities (and maybe ``1``), not ``[1]`` only.

    Examples
    --------
    >>> from bidsglm.dataset.stats_models._types import NodeModel
    >>> node = Node('Subject', 's', ('sub', 'contrast'), NodeModel('glm', ('session', '1')))
    >>> is_entity_model(node)
    True
    """
    x = node.model.x
    return (
        node.model.formula is None
        and not node.model.intercept_only
        and all(name == INTERCEPT or is_entity(entity_key(name)) for name in x)
        and any(name != INTERCEPT for name in x)
    )


def _check_entity_model(node: Node, where: str) -> None:
    """Check a fixed node whose ``X`` holds entities: t contrasts, ``contrast`` grouping."""
    if 'contrast' not in node.group_by:
        reject(f'{where}.GroupBy', 'a model over entities needs "contrast" in GroupBy')
    if node.dummy is not None:
        reject(
            f'{where}.DummyContrasts',
            'dummy contrasts over entities are not available',
            'write the contrasts (e.g. ConditionList ["test", "retest"], Weights [1, -1])',
        )
    if not node.contrasts:
        reject(f'{where}.Contrasts', 'a model over entities needs contrasts over them')
    for index, contrast in enumerate(node.contrasts):
        if contrast.stat_type != 't':
            reject(
                f'{where}.Contrasts[{index}].Test',
                'over entities, bidsglm computes t contrasts (one row)',
                'write one t contrast per row',
            )


def _check_fixed(node: Node, run: Node, where: str) -> None:
    if is_entity_model(node):
        _check_entity_model(node, where)
    elif not node.model.intercept_only:
        reject(
            f'{where}.Model.X',
            f"a {node.level} node combines a subject's contrasts by fixed effects, so X must "
            f'be [1] or entities with 1 (such as ["session", 1]), not {list(node.model.x)}'
            f'{" with a Formula" if node.model.formula else ""} (a model of variables across '
            'the contrasts or runs of one subject is not available)',
            'compute such differences as contrasts of the Run node',
        )
    if 'sub' not in node.group_by:
        reject(f'{where}.GroupBy', f'a {node.level} node works within a subject: add "subject"')
    bad = [key for key in node.group_by if not is_entity(key) and key != 'contrast']
    if bad:
        reject(f'{where}.GroupBy', f"grouping a subject's maps by {bad} is not supported")
    if node.transformations is not None:
        reject(
            f'{where}.Transformations',
            f'a {node.level} node combines the contrasts it receives by fixed effects: it has '
            'no variables to transform',
            'remove them; to compare sessions, give the Subject node X ["session", 1] and a '
            'contrast over the session labels (ConditionList ["test", "retest"], Weights [1, -1])',
        )
    mask = node.model.mask
    if mask is not None and not mask.is_default and mask != run.model.mask:
        reject(
            f'{where}.Model.Options.Mask',
            "the fixed effects use the mask of the Run node's models",
            'give the mask at the Run node',
        )


def _check_group(node: Node, where: str) -> None:
    if node.model.type != 'glm':
        reject(
            f'{where}.Model.Type',
            'a Dataset node fits a "glm" across subjects (fixed effects across subjects are '
            'not available)',
        )
    tests = [c.test for c in node.contrasts] + ([node.dummy.test] if node.dummy else [])
    if 'FEMA' in tests:
        reject(
            f'{where}',
            'Test "FEMA" (fixed effects) at the Dataset level is not available',
            'use "t"',
        )
    if node.model.formula is not None:
        return
    x = node.model.x
    given = node.dummy.conditions if node.dummy else None
    for name in given if given is not None and not node.model.intercept_only else ():
        if name != INTERCEPT and not is_covered(name, x) and not _is_level_of(name, x):
            reject(
                f'{where}.DummyContrasts.Contrasts',
                f'{name!r} is not in Model.X {list(x)}',
                'list variables of X (or, with X [1], the incoming contrasts to keep)',
            )
    for index, contrast in enumerate(node.contrasts):
        for name in contrast.conditions:
            if name != INTERCEPT and not is_covered(name, x) and not _is_level_of(name, x):
                reject(
                    f'{where}.Contrasts[{index}]',
                    f'{name!r} is used but is not in Model.X {list(x)} (nor a level of one of '
                    'its categorical variables)',
                )


def contrast_matches(wanted: str, name: str) -> bool:
    """Tell whether a name written at a later node means this incoming contrast.

    The name itself, or (bidspm's spelling) the level of a ``column.level`` name.

    Examples
    --------
    >>> contrast_matches('face', 'trial_type.face'), contrast_matches('face', 'face')
    (True, True)
    >>> contrast_matches('face', 'trial_type.house')
    False
    """
    return wanted == name or ('.' in name and name.partition('.')[2] == wanted)


class _Names:
    """The contrast names a node passes on: those known, and whether more may come."""

    def __init__(self, known: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        self.known = list(dict.fromkeys(known))
        self.patterns = list(patterns)

    def has(self, wanted: str) -> bool:
        return any(contrast_matches(wanted, name) for name in self.known) or is_covered(
            wanted, self.patterns
        )

    def described(self) -> str:
        more = f' (and names matching {self.patterns})' if self.patterns else ''
        return f'{self.known}{more}'


def _run_names(node: Node) -> _Names:
    dummies: list[str] = []
    patterns: list[str] = []
    if node.dummy is not None and node.dummy.test != 'F':
        given = node.dummy.conditions
        for name in given if given is not None else node.model.x:
            if name == INTERCEPT:
                dummies += [INTERCEPT_NAME] if given is not None else []
            elif any(ch in name for ch in '*?['):
                patterns.append(name)
            else:
                dummies.append(name)
    explicit = [c.name for c in node.contrasts if c.passes_on]
    return _Names([*dummies, *explicit], patterns)


def _kept(node: Node, incoming: _Names, where: str) -> _Names:
    """Apply an intercept-only node's DummyContrasts list: the incoming contrasts to keep."""
    given = node.dummy.conditions if node.dummy else None
    if given is None or not node.model.intercept_only:
        return incoming
    wanted = [name for name in given if name != INTERCEPT]
    for name in wanted:
        if not incoming.has(name):
            reject(
                f'{where}.DummyContrasts.Contrasts',
                f'{name!r} is not a contrast this node receives; it receives '
                f'{incoming.described()}',
                'list contrasts the source node makes (its Contrasts names and DummyContrasts)',
            )
    if INTERCEPT in given or not wanted:
        return incoming
    return _Names(
        [n for n in incoming.known if any(contrast_matches(w, n) for w in wanted)], wanted
    )


def _filtered(edge: Edge, incoming: _Names, where: str) -> _Names:
    wanted = edge.filter.get('contrast')
    if wanted is None:
        return incoming
    for name in wanted:
        if not incoming.has(name):
            reject(
                f'{where}.Filter.contrast',
                f'{name!r} is not a contrast that {edge.source!r} passes on; it passes on '
                f'{incoming.described()}',
            )
    return _Names(
        [n for n in incoming.known if any(contrast_matches(w, n) for w in wanted)], wanted
    )


def _check_fixed_contrasts(node: Node, incoming: _Names, where: str) -> None:
    """Check a fixed-effects contrast weights ``1`` (each incoming contrast) or incoming ones."""
    for index, contrast in enumerate(node.contrasts):
        if contrast.conditions == (INTERCEPT,):
            continue
        for name in contrast.conditions:
            if name == INTERCEPT or not incoming.has(name):
                reject(
                    f'{where}.Contrasts[{index}].ConditionList',
                    f'{name!r} is neither 1 nor a contrast this node receives '
                    f'({incoming.described()})',
                    'weight 1 (each incoming contrast), or combine incoming contrasts by name',
                )


def _fixed_names(node: Node, incoming: _Names) -> _Names:
    if is_entity_model(node):
        made = [f'{n}_{c.name}' for n in incoming.known for c in node.contrasts if c.passes_on]
        return _Names(made)
    names = list(incoming.known) if node.dummy is not None and node.dummy.test != 'F' else []
    for contrast in node.contrasts:
        if not contrast.passes_on:
            continue
        if contrast.conditions == (INTERCEPT,):
            names += [f'{name}_{contrast.name}' for name in incoming.known]
        else:
            names.append(contrast.name)
    return _Names(names, incoming.patterns)


def _check_mixing(node: Node, incoming: _Names, where: str) -> None:
    if 'contrast' in node.group_by or not node.model.intercept_only:
        return
    if len(incoming.known) > 1 or (incoming.patterns and incoming.known):
        reject(
            f'{where}.GroupBy',
            f'without "contrast", each group would mix the contrasts {incoming.described()} '
            'in one intercept',
            'add "contrast" to GroupBy, or keep one contrast with an edge Filter',
        )


def check_graph(nodes: Sequence[Node], edges: Sequence[Edge]) -> None:
    """Check the graph and each node against what bidsglm runs, before any data.

    Raises
    ------
    InvalidParameterError
        Naming the node (or edge) and the feature, with what to do.
    """
    _check_shape(nodes, edges)
    where = {node.name: f'Nodes[{i}] ({node.name})' for i, node in enumerate(nodes)}
    run = next(node for node in nodes if node.level == 'Run')
    _check_run(run, where[run.name])
    names = {run.name: _run_names(run)}
    for node in _in_order(nodes, edges, run):
        edge = next(e for e in edges if e.destination == node.name)
        index = list(edges).index(edge)
        incoming = _filtered(edge, names[edge.source], f'Edges[{index}]')
        incoming = _kept(node, incoming, where[node.name])
        _check_mixing(node, incoming, where[node.name])
        if node.kind == 'fixed':
            _check_fixed(node, run, where[node.name])
            if not is_entity_model(node):
                _check_fixed_contrasts(node, incoming, where[node.name])
            names[node.name] = _fixed_names(node, incoming)
        else:
            _check_group(node, where[node.name])


def _in_order(nodes: Sequence[Node], edges: Sequence[Edge], root: Node) -> list[Node]:
    """Return the nodes below the root, each after its source; refuse unreachable ones."""
    ordered: list[Node] = []
    reached = {root.name}
    pending = [node for node in nodes if node is not root]
    while pending:
        ready = [
            n
            for n in pending
            if any(e.destination == n.name and e.source in reached for e in edges)
        ]
        if not ready:
            reject(
                f'Nodes ({pending[0].name})',
                'the node cannot be reached from the Run node',
                'connect it with an edge, or remove it',
            )
        ordered += ready
        reached |= {n.name for n in ready}
        pending = [n for n in pending if n.name not in reached]
    return ordered
