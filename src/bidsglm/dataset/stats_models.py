"""Read a BIDS Stats Models file (``model-<label>_smdl.json``) into what bidsglm runs.

bidsglm runs the common three-node chain, each node mapped onto one of its models:

=========  ===============================================  ===========================
Level      what bidsglm supports                            what runs it
=========  ===============================================  ===========================
Run        ``GroupBy`` ``["run", "subject"]`` (``session``  one design per run inside
           may be added); ``Model.Type`` ``glm``; ``X``:    the subject's
           event ``trial_type`` values, confound columns,   ``FirstLevelModel``
           globs over them (``"trans_*"``) and ``1``;
           ``HRF`` (``Variables``, ``Model`` a name of
           :data:`bidsglm.design.HRF_MODELS`, ``Parameters``
           ``{"fir_delays": [...]}`` for ``fir``);
           ``Options.HighPassFilterCutoffHz``;
           ``Contrasts`` and ``DummyContrasts``
Subject    ``GroupBy`` ``["subject", "contrast"]``;         fixed effects over the runs
           ``Type`` ``meta`` or ``glm``; ``X`` ``[1]``;     (``FirstLevelModel``)
           ``DummyContrasts`` (optionally restricted to
           the run contrasts to keep)
Dataset    ``GroupBy`` ``["contrast"]``; ``Type`` ``glm``;  one ``SecondLevelModel``
           ``X``: ``1`` and ``participants.tsv``            per first-level contrast
           columns (globs allowed); ``Contrasts`` and
           ``DummyContrasts``
=========  ===============================================  ===========================

Also read: ``Name``, ``BIDSModelVersion``, ``Description`` (anywhere), ``Input``
(``task``, ``subject``, ``session``, ``run``, ``space``) and ``Edges`` that chain the
nodes in order. Contrast weights may be strings such as ``"1/3"``; ``Test`` ``pass``
is saved like ``t`` (the effect and variance maps are what the next level reads);
``F`` contrasts are terminal, as the specification says. Everything else
(``Transformations``, ``Formula``, ``Session`` nodes, edge ``Filter``,
``LowPassFilterCutoffHz``, ``Software``, the legacy ``Steps``...) is an error that
names it: a model is never run with a part silently ignored.

Examples
--------
>>> model = read_stats_model({
...     'Name': 'demo', 'BIDSModelVersion': '1.0.0', 'Input': {'task': ['stroop']},
...     'Nodes': [{'Level': 'Run', 'Name': 'run', 'GroupBy': ['run', 'subject'],
...                'Model': {'Type': 'glm', 'X': ['congruent', 'incongruent', 'trans_*', 1]},
...                'Contrasts': [{'Name': 'incongruentMinusCongruent',
...                               'ConditionList': ['incongruent', 'congruent'],
...                               'Weights': [1, -1], 'Test': 't'}]}]})
>>> model.run.contrasts[0].expression()
'1*`incongruent` - 1*`congruent`'
>>> expand_variables(model.run.x, ['congruent', 'incongruent', 'trans_x', 'rot_x'])
['congruent', 'incongruent', 'trans_x', '1']
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bidsglm.dataset.discovery import close_matches
from bidsglm.design.hrf import HRF_MODELS
from bidsglm.errors import InputNotFoundError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    'Contrast',
    'DummyContrasts',
    'Node',
    'StatsModel',
    'expand_variables',
    'read_stats_model',
]

#: The literal that stands for the intercept in ``X`` and ``ConditionList``.
INTERCEPT = '1'
_LEVELS = ('Run', 'Subject', 'Dataset')
_TESTS = ('t', 'F', 'pass')
#: The HRF models a model file may name (the registry's, but for the absent one).
_HRF_NAMES = tuple(name for name in HRF_MODELS if name is not None)
#: The accepted ``GroupBy`` of each level (as sets), the first one the default.
_GROUP_BY: dict[str, tuple[frozenset[str], ...]] = {
    'Run': (frozenset({'run', 'subject'}), frozenset({'run', 'session', 'subject'})),
    'Subject': (frozenset({'subject', 'contrast'}),),
    'Dataset': (frozenset({'contrast'}),),
}
_INPUT_KEYS = ('task', 'subject', 'session', 'run', 'space')

#: The keys bidsglm reads, per kind of object.
_KEYS: dict[str, frozenset[str]] = {
    'the model': frozenset({'Name', 'BIDSModelVersion', 'Description', 'Input', 'Nodes', 'Edges'}),
    'node': frozenset(
        {'Level', 'Name', 'GroupBy', 'Model', 'Contrasts', 'DummyContrasts', 'Description'}
    ),
    'Model': frozenset({'Type', 'X', 'HRF', 'Options', 'Description'}),
    'HRF': frozenset({'Variables', 'Model', 'Parameters', 'Description'}),
    'Options': frozenset({'HighPassFilterCutoffHz', 'Description'}),
    'contrast': frozenset({'Name', 'ConditionList', 'Weights', 'Test', 'Description'}),
    'DummyContrasts': frozenset({'Contrasts', 'Test', 'Description'}),
    'edge': frozenset({'Source', 'Destination', 'Description'}),
}
#: Why some keys are refused, and what to do instead.
_ADVICE = {
    'Steps': 'it is the pre-1.0 name of Nodes: rename it "Nodes" and give each node a Name',
    'Type': 'a contrast\'s test is now written "Test" ("t" or "F")',
    'Transformations': 'bidsglm applies no variable transformations: prepare the events '
    'and confounds files instead',
    'Formula': 'list the design columns in X (names, globs and 1)',
    'Filter': "select inputs with the command-line options or the model's Input",
    'LowPassFilterCutoffHz': 'only a high-pass (cosine drift) filter is available',
    'ReplaceVariables': 'voxel-wise regressors are not available',
    'Mask': 'the mask is the brain mask next to each preprocessed run',
    'Aggregate': 'models are fitted voxel by voxel',
    'Software': 'software-specific options are not read; use the command-line options',
}


def _reject(where: str, problem: str, advice: str = '') -> NoReturn:
    """Raise the error for a model file: where, what is wrong, what to do."""
    tail = f' {advice[0].upper()}{advice[1:]}.' if advice else ''
    msg = f'BIDS Stats Model, {where}: {problem}.{tail}'
    raise InvalidParameterError(msg)


def _check_keys(obj: object, kind: str, where: str) -> dict[str, Any]:
    """Check ``obj`` is an object holding only keys bidsglm reads."""
    if not isinstance(obj, dict):
        _reject(where, f'expected a JSON object, got {type(obj).__name__} {obj!r}')
    for key in obj:
        if key not in _KEYS[kind]:
            advice = _ADVICE.get(key, f'the keys read here are {sorted(_KEYS[kind])}')
            _reject(f'{where}.{key}', f'{key!r} is not supported by bidsglm', advice)
    return obj


def _string_list(value: object, where: str, *, intercept: bool = False) -> tuple[str, ...]:
    """Read a list of names (and the intercept ``1`` when allowed)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        _reject(where, f'expected a non-empty list of names, got {value!r}')
    names = []
    for item in items:
        if intercept and item in (1, INTERCEPT) and not isinstance(item, bool):
            names.append(INTERCEPT)
        elif isinstance(item, str) and item:
            names.append(item)
        else:
            allowed = 'names or 1' if intercept else 'names'
            _reject(where, f'expected {allowed}, got {item!r}')
    return tuple(names)


# -------------------------------------------------------------------- contrasts
@dataclass(frozen=True)
class Contrast:
    """One contrast of a node.

    Parameters
    ----------
    name : str
        Its name (the ``contrast`` entity of its outputs).
    conditions : tuple of str
        The variables weighted (``'1'`` is the intercept).
    weights : tuple of tuple of float
        One row per test row, one weight per condition.
    test : {'t', 'F', 'pass'}
        The test.
    """

    name: str
    conditions: tuple[str, ...]
    weights: tuple[tuple[float, ...], ...]
    test: str

    @property
    def stat_type(self) -> str:
        """The test bidsglm computes: ``'F'`` or ``'t'`` (for ``t`` and ``pass``)."""
        return 'F' if self.test == 'F' else 't'

    def expression(self, intercept: str = 'constant') -> str:
        """Write the contrast as an expression over design columns.

        Parameters
        ----------
        intercept : str, default='constant'
            The design column standing for ``1``.

        Returns
        -------
        str
            Rows separated by ``', '``, each a sum of ``weight*`column```.

        Examples
        --------
        >>> Contrast('c', ('a', '1'), ((0.5, -2.0),), 't').expression('intercept')
        '0.5*`a` - 2*`intercept`'
        """
        return ', '.join(self._row(row, intercept) for row in self.weights)

    def _row(self, row: Sequence[float], intercept: str) -> str:
        terms = []
        for weight, name in zip(row, self.conditions, strict=True):
            if weight == 0:
                continue
            column = intercept if name == INTERCEPT else name
            sign = '-' if weight < 0 else '+'
            terms.append(f'{sign} {abs(weight):.17g}*`{column}`')
        text = ' '.join(terms)
        return text[2:] if text.startswith('+') else f'-{text[2:]}'


@dataclass(frozen=True)
class DummyContrasts:
    """One contrast per variable, named after it.

    Parameters
    ----------
    conditions : tuple of str or None
        The variables; None means every variable of ``X``.
    test : {'t', 'F', 'pass'}
        The test of each.
    """

    conditions: tuple[str, ...] | None
    test: str

    def expand(self, variables: Sequence[str]) -> list[Contrast]:
        """Return the contrasts over these (resolved) variables."""
        names = variables if self.conditions is None else self.conditions
        return [Contrast(name, (name,), ((1.0,),), self.test) for name in names]


def _weight(value: object, where: str) -> float:
    """Read one weight: a number or a fraction string such as ``"1/3"``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        _reject(where, f'a weight must be a number or a string like "1/3", got {value!r}')
    try:
        return float(Fraction(value)) if isinstance(value, str) else float(value)
    except (ValueError, ZeroDivisionError):
        _reject(where, f'cannot read the weight {value!r}', 'write it like "1/3"')


def _weights(
    value: object, n_conditions: int, test: str, where: str
) -> tuple[tuple[float, ...], ...]:
    """Read 1D or 2D weights, one per condition in each row."""
    if not isinstance(value, list) or not value:
        _reject(where, f'expected a list of weights, got {value!r}')
    two_d = all(isinstance(row, list) for row in value)
    if two_d and test != 'F':
        _reject(where, f'2D weights need "Test": "F" (got {test!r})')
    rows = value if two_d else [value]
    table = tuple(tuple(_weight(w, where) for w in row) for row in rows)
    for row in table:
        if len(row) != n_conditions:
            _reject(where, f'{len(row)} weights for {n_conditions} conditions in ConditionList')
        if not any(row):
            _reject(where, 'a row of weights is all zeros')
    return table


def _test(value: object, where: str) -> str:
    if value not in _TESTS:
        _reject(where, f'Test must be one of {list(_TESTS)}, got {value!r}')
    return str(value)


def _contrast(obj: object, where: str) -> Contrast:
    """Read one element of ``Contrasts``."""
    item = _check_keys(obj, 'contrast', where)
    for key in ('Name', 'ConditionList', 'Weights', 'Test'):
        if key not in item:
            _reject(where, f'the contrast lacks {key!r}')
    name = item['Name']
    if not isinstance(name, str) or not name:
        _reject(f'{where}.Name', f'expected a non-empty name, got {name!r}')
    conditions = _string_list(item['ConditionList'], f'{where}.ConditionList', intercept=True)
    test = _test(item['Test'], f'{where}.Test')
    weights = _weights(item['Weights'], len(conditions), test, f'{where}.Weights')
    return Contrast(name, conditions, weights, test)


def _dummy(obj: object, where: str) -> DummyContrasts | None:
    """Read ``DummyContrasts`` (an object; ``true``/``false`` as older files write it)."""
    if isinstance(obj, bool):
        return DummyContrasts(None, 't') if obj else None
    item = _check_keys(obj, 'DummyContrasts', where)
    names = item.get('Contrasts')
    conditions = (
        None if names is None else _string_list(names, f'{where}.Contrasts', intercept=True)
    )
    return DummyContrasts(conditions, _test(item.get('Test', 't'), f'{where}.Test'))


# ------------------------------------------------------------------------ nodes
@dataclass(frozen=True)
class Node:
    """One node: its level, design variables, options and contrasts.

    Parameters
    ----------
    level : {'Run', 'Subject', 'Dataset'}
        The level.
    name : str
        Its unique name.
    model_type : {'glm', 'meta'}
        ``Model.Type``.
    x : tuple of str
        ``Model.X``: names, globs and ``'1'``.
    contrasts : tuple of Contrast
        ``Contrasts``.
    dummy : DummyContrasts or None
        ``DummyContrasts``.
    hrf_model : str or None
        ``Model.HRF.Model``.
    hrf_variables : tuple of str or None
        ``Model.HRF.Variables``.
    fir_delays : tuple of int or None
        ``Model.HRF.Parameters.fir_delays``.
    high_pass : float or None
        ``Model.Options.HighPassFilterCutoffHz``.
    """

    level: str
    name: str
    model_type: str
    x: tuple[str, ...]
    contrasts: tuple[Contrast, ...] = ()
    dummy: DummyContrasts | None = None
    hrf_model: str | None = None
    hrf_variables: tuple[str, ...] | None = None
    fir_delays: tuple[int, ...] | None = field(default=None)
    high_pass: float | None = None

    def contrasts_for(self, variables: Sequence[str]) -> list[Contrast]:
        """Return the dummy contrasts over ``variables``, then the explicit ones."""
        dummies = self.dummy.expand(variables) if self.dummy is not None else []
        return [*dummies, *self.contrasts]


def _hrf(obj: object, where: str) -> dict[str, Any]:
    """Read ``Model.HRF`` into node fields."""
    hrf = _check_keys(obj, 'HRF', where)
    model = hrf.get('Model')
    if model not in _HRF_NAMES:
        _reject(
            f'{where}.Model',
            f'the HRF model {model!r} is not available',
            f'choose one of {list(_HRF_NAMES)}',
        )
    parameters = hrf.get('Parameters') or {}
    allowed = {'fir_delays'} if model == 'fir' else set()
    if not isinstance(parameters, dict) or set(parameters) - allowed:
        _reject(
            f'{where}.Parameters',
            f'HRF parameters {parameters!r} are not supported',
            'only "fir" takes one: {"fir_delays": [0, 1, 2]}',
        )
    if model == 'fir' and 'fir_delays' not in parameters:
        _reject(f'{where}.Parameters', 'the "fir" model needs "fir_delays"')
    delays = parameters.get('fir_delays')
    return {
        'hrf_model': model,
        'hrf_variables': _string_list(hrf.get('Variables'), f'{where}.Variables'),
        'fir_delays': None if delays is None else tuple(int(d) for d in delays),
    }


def _options(obj: object, where: str) -> dict[str, Any]:
    """Read ``Model.Options``."""
    options = _check_keys(obj, 'Options', where)
    cutoff = options.get('HighPassFilterCutoffHz')
    if cutoff is not None and (
        isinstance(cutoff, bool) or not isinstance(cutoff, (int, float)) or cutoff <= 0
    ):
        _reject(f'{where}.HighPassFilterCutoffHz', f'expected a frequency > 0, got {cutoff!r}')
    return {'high_pass': None if cutoff is None else float(cutoff)}


def _model_fields(obj: object, where: str) -> dict[str, Any]:
    """Read ``Model`` into node fields."""
    model = _check_keys(obj, 'Model', where)
    if model.get('Type') not in ('glm', 'meta'):
        _reject(f'{where}.Type', f'expected "glm" or "meta", got {model.get("Type")!r}')
    fields: dict[str, Any] = {
        'model_type': model['Type'],
        'x': _string_list(model.get('X'), f'{where}.X', intercept=True),
    }
    if 'HRF' in model:
        fields.update(_hrf(model['HRF'], f'{where}.HRF'))
    if 'Options' in model:
        fields.update(_options(model['Options'], f'{where}.Options'))
    return fields


def _group_by(node: Mapping[str, Any], level: str, where: str) -> None:
    """Check ``GroupBy`` is one bidsglm runs at this level."""
    accepted = _GROUP_BY[level]
    value = node.get('GroupBy', sorted(accepted[0]))
    names = set(_string_list(value, f'{where}.GroupBy') if value else ())
    if names not in accepted:
        shown = [sorted(a) for a in accepted]
        _reject(
            f'{where}.GroupBy',
            f'grouping by {sorted(names)} at the {level} level is not supported',
            f'use one of {shown}',
        )


def _node(obj: object, where: str) -> Node:
    """Read one node."""
    node = _check_keys(obj, 'node', where)
    level = node.get('Level')
    if level not in _LEVELS:
        advice = 'a Session node is not supported: runs of all sessions are combined'
        _reject(f'{where}.Level', f'expected one of {list(_LEVELS)}, got {level!r}', advice)
    name = node.get('Name', level.lower())
    if not isinstance(name, str) or not name:
        _reject(f'{where}.Name', f'expected a name, got {name!r}')
    _group_by(node, level, where)
    if 'Model' not in node:
        _reject(where, 'the node lacks "Model"')
    contrasts = node.get('Contrasts') or []
    if not isinstance(contrasts, list):
        _reject(f'{where}.Contrasts', f'expected a list, got {contrasts!r}')
    return Node(
        level=level,
        name=name,
        contrasts=tuple(_contrast(c, f'{where}.Contrasts[{i}]') for i, c in enumerate(contrasts)),
        dummy=_dummy(node['DummyContrasts'], f'{where}.DummyContrasts')
        if 'DummyContrasts' in node
        else None,
        **_model_fields(node['Model'], f'{where}.Model'),
    )


# ------------------------------------------------------------------ level rules
def _covered(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _check_run(node: Node, where: str) -> None:
    if node.model_type != 'glm':
        _reject(f'{where}.Model.Type', 'the Run level fits a "glm"')
    named = [c for contrast in node.contrasts for c in contrast.conditions]
    named += list(node.hrf_variables or ()) + list((node.dummy and node.dummy.conditions) or ())
    for name in named:
        if name != INTERCEPT and not _covered(name, node.x):
            _reject(where, f'{name!r} is used but is not in Model.X {list(node.x)}')


def _check_subject(node: Node, where: str) -> None:
    if node.x != (INTERCEPT,):
        _reject(
            f'{where}.Model.X',
            f'the Subject level combines runs by fixed effects: X must be [1], not {list(node.x)}',
        )
    if node.contrasts or node.dummy is None:
        _reject(
            where,
            'the Subject level passes each run contrast on, combined over runs',
            'write "DummyContrasts": {"Test": "t"} and no Contrasts',
        )
    if node.hrf_model is not None or node.high_pass is not None:
        _reject(f'{where}.Model', 'HRF and Options belong to the Run level')


def _check_dataset(node: Node, where: str) -> None:
    if node.model_type != 'glm':
        _reject(f'{where}.Model.Type', 'the Dataset level fits a "glm"')
    if INTERCEPT not in node.x:
        _reject(f'{where}.Model.X', 'the group design always has an intercept', 'add 1 to X')
    if node.hrf_model is not None or node.high_pass is not None:
        _reject(f'{where}.Model', 'HRF and Options belong to the Run level')
    for contrast in node.contrasts:
        for name in contrast.conditions:
            if name != INTERCEPT and not _covered(name, node.x):
                _reject(where, f'{name!r} is used but is not in Model.X {list(node.x)}')


_LEVEL_CHECKS: dict[str, Callable[[Node, str], None]] = {
    'Run': _check_run,
    'Subject': _check_subject,
    'Dataset': _check_dataset,
}


# ------------------------------------------------------------------- the model
@dataclass(frozen=True)
class StatsModel:
    """A BIDS Stats Model that bidsglm can run.

    Parameters
    ----------
    name : str
        ``Name``.
    input : dict of str to tuple of str
        ``Input``: entity filters (``task``, ``subject``, ``session``, ``run``, ``space``).
    run : Node
        The Run node.
    subject : Node or None
        The Subject node (runs are combined by fixed effects either way).
    dataset : Node or None
        The Dataset node.
    """

    name: str
    input: dict[str, tuple[str, ...]]
    run: Node
    subject: Node | None = None
    dataset: Node | None = None

    def first_level_contrasts(self, variables: Sequence[str]) -> list[Contrast]:
        """Return the run contrasts over these variables that the Subject node keeps."""
        contrasts = self.run.contrasts_for(variables)
        keep = self.subject.dummy.conditions if self.subject and self.subject.dummy else None
        if keep is None or keep == (INTERCEPT,):
            return contrasts
        return [c for c in contrasts if c.name in keep]


def _input(obj: object) -> dict[str, tuple[str, ...]]:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        _reject('Input', f'expected an object of entity filters, got {obj!r}')
    unknown = sorted(set(obj) - set(_INPUT_KEYS))
    if unknown:
        _reject(f'Input.{unknown[0]}', 'this filter is not supported', f'use {list(_INPUT_KEYS)}')
    filters = {}
    for key, value in obj.items():
        values = value if isinstance(value, list) else [value]
        filters[key] = tuple(
            str(v).removeprefix('sub-') if key == 'subject' else str(v) for v in values
        )
    return filters


def _check_edges(edges: object, names: Sequence[str]) -> None:
    """Accept edges only if they chain the nodes in their order."""
    if not isinstance(edges, list):
        _reject('Edges', f'expected a list, got {edges!r}')
    pairs = []
    for i, edge in enumerate(edges):
        item = _check_keys(edge, 'edge', f'Edges[{i}]')
        pairs.append((item.get('Source'), item.get('Destination')))
    expected = list(itertools.pairwise(names))
    if pairs != expected:
        _reject(
            'Edges',
            f'the edges {pairs} do not chain the nodes in order ({expected})',
            'bidsglm runs Run -> Subject -> Dataset',
        )


def _nodes(content: Mapping[str, Any]) -> list[Node]:
    items = content.get('Nodes')
    if not isinstance(items, list) or not items:
        _reject('Nodes', 'expected a non-empty list of nodes')
    nodes = [_node(item, f'Nodes[{i}]') for i, item in enumerate(items)]
    levels = [node.level for node in nodes]
    if (
        levels[0] != 'Run'
        or levels != sorted(levels, key=_LEVELS.index)
        or len(set(levels)) < len(levels)
    ):
        _reject(
            'Nodes',
            f'levels {levels} are not supported',
            'write Run, then optionally Subject, then Dataset',
        )
    names = [node.name for node in nodes]
    if len(set(names)) < len(names):
        _reject('Nodes', f'node names {names} are not unique')
    for i, node in enumerate(nodes):
        _LEVEL_CHECKS[node.level](node, f'Nodes[{i}] ({node.name})')
    if 'Edges' in content:
        _check_edges(content['Edges'], names)
    return nodes


def _load(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Read the model file (or take the mapping) as a JSON object."""
    if not isinstance(source, (str, os.PathLike)):
        return dict(source)
    path = Path(source)
    if not path.is_file():
        msg = f'The model file {str(path)!r} does not exist. Check the --model path.'
        raise InputNotFoundError(msg)
    try:
        content = json.loads(path.read_text(encoding='utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        msg = f'The model file {str(path)!r} is not valid JSON: {error}. Fix it and run again.'
        raise InvalidParameterError(msg) from error
    if not isinstance(content, dict):
        _reject('the top level', 'expected a JSON object')
    return content


def read_stats_model(source: str | os.PathLike[str] | Mapping[str, Any]) -> StatsModel:
    """Read and check a BIDS Stats Model.

    Parameters
    ----------
    source : path-like or mapping
        The ``_smdl.json`` file, or its content.

    Returns
    -------
    StatsModel
        The Run node and, when present, the Subject and Dataset nodes.

    Raises
    ------
    InputNotFoundError
        If the file does not exist.
    InvalidParameterError
        If it is not valid JSON, or uses a feature bidsglm does not support (the
        message names it).

    Examples
    --------
    >>> read_stats_model({'Name': 'x', 'BIDSModelVersion': '1.0.0', 'Nodes': [
    ...     {'Level': 'Run', 'Name': 'run', 'GroupBy': ['run', 'subject'],
    ...      'Transformations': {}, 'Model': {'Type': 'glm', 'X': [1]}}]})
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: BIDS Stats Model, Nodes[0].Transformations: ...
    """
    content = _check_keys(_load(source), 'the model', 'the top level')
    for key in ('Name', 'BIDSModelVersion'):
        if key not in content:
            _reject('the top level', f'the model lacks {key!r}')
    by_level = {node.level: node for node in _nodes(content)}
    return StatsModel(
        name=str(content['Name']),
        input=_input(content.get('Input')),
        run=by_level['Run'],
        subject=by_level.get('Subject'),
        dataset=by_level.get('Dataset'),
    )


def expand_variables(patterns: Sequence[str], available: Sequence[str]) -> list[str]:
    """Resolve ``X``: each name or glob in turn, in the order of ``available``.

    Parameters
    ----------
    patterns : sequence of str
        Names, globs (``*``, ``?``) and ``'1'``.
    available : sequence of str
        The variables that exist (trial types, confound columns, covariates).

    Returns
    -------
    list of str
        Each variable once, ``'1'`` kept where it was listed.

    Raises
    ------
    InvalidParameterError
        If a name or glob matches nothing; the message lists close matches.

    Examples
    --------
    >>> expand_variables(['a_comp_cor_0?', '1'], ['a_comp_cor_00', 'a_comp_cor_01', 'csf'])
    ['a_comp_cor_00', 'a_comp_cor_01', '1']
    """
    resolved: list[str] = []
    for pattern in patterns:
        found = (
            [INTERCEPT]
            if pattern == INTERCEPT
            else [a for a in available if fnmatch.fnmatchcase(a, pattern)]
        )
        if not found:
            msg = (
                f'The model variable {pattern!r} matches no trial type, confound or '
                f'covariate{close_matches(pattern, available)}. Variables that exist: '
                f'{list(available)[:30]}.'
            )
            raise InvalidParameterError(msg)
        resolved += [name for name in found if name not in resolved]
    return resolved
