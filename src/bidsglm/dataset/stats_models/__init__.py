"""Read a BIDS Stats Model (``model-<label>_smdl.json``) into what bidsglm runs.

:func:`read_stats_model` reads the file, rewrites earlier spellings with one warning
(:mod:`~bidsglm.dataset.stats_models._legacy`), reads every node and edge, and
checks the graph against what bidsglm can run (:mod:`~._graph`), all before any
data is read: a feature bidsglm cannot honour is refused by name, never silently
ignored. What needs the dataset (variables, columns, participants) is checked
when the command line plans the work.

What is read, in short (``docs/stats-models.md`` has the full compatibility table):

- top level: ``Name``, ``BIDSModelVersion``, ``Description``, ``Input`` (any
  entity, long or short names, ``""`` for "absent"), ``Nodes``, ``Edges`` (with
  ``Filter``; nodes chain in order without them);
- nodes of every level, several per level (branches), any ``GroupBy`` of the
  kind each level runs (:mod:`~._graph`);
- ``Model``: ``Type``, ``X`` (names, globs, ``1``, ``trial_type.<value>``),
  ``Formula`` (Run and Dataset nodes, with formulaic), ``HRF`` (:mod:`~._hrf`),
  ``Options`` (:mod:`~._options`), ``Software`` (:mod:`~._software`);
- ``Contrasts`` (weights as numbers or ``"1/3"``; ``Test`` ``t``, ``F``,
  ``pass``, ``FEMA``) and ``DummyContrasts``;
- ``Transformations``: :mod:`bidsglm.dataset.transformations`;
- what the Run node names outside its ``X`` is left out with one warning, as
  pybids does (:mod:`~._outside_x`).

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
>>> expand_variables(model.run.model.x, ['congruent', 'incongruent', 'trans_x', 'rot_x'])
['congruent', 'incongruent', 'trans_x', '1']
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

from bidsglm.dataset.discovery import close_matches
from bidsglm.dataset.stats_models._fields import check_keys, filters, reject
from bidsglm.dataset.stats_models._graph import (
    INTERCEPT_NAME,
    check_graph,
    contrast_matches,
    read_edges,
)
from bidsglm.dataset.stats_models._hrf import HRF_NAMES
from bidsglm.dataset.stats_models._legacy import modernize
from bidsglm.dataset.stats_models._load import load_model
from bidsglm.dataset.stats_models._nodes import read_node
from bidsglm.dataset.stats_models._outside_x import leave_out_names_outside_x
from bidsglm.dataset.stats_models._types import (
    INTERCEPT,
    LEVELS,
    Contrast,
    DummyContrasts,
    Edge,
    Hrf,
    MaskSpec,
    Node,
    NodeModel,
    ParametricModulation,
    StatsModel,
)
from bidsglm.errors import InvalidParameterError, warn_caller

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping, Sequence

__all__ = [
    'HRF_NAMES',
    'INTERCEPT',
    'INTERCEPT_NAME',
    'LEVELS',
    'Contrast',
    'DummyContrasts',
    'Edge',
    'Hrf',
    'MaskSpec',
    'Node',
    'NodeModel',
    'ParametricModulation',
    'StatsModel',
    'contrast_matches',
    'expand_variables',
    'read_stats_model',
]

_TOP_KEYS = frozenset({'Name', 'BIDSModelVersion', 'Description', 'Input', 'Nodes', 'Edges'})


def _nodes(content: Mapping[str, Any]) -> tuple[list[Node], list[str]]:
    items = content.get('Nodes')
    if not isinstance(items, list) or not items:
        reject('Nodes', 'expected a non-empty list of nodes')
    nodes, notes = [], []
    for index, item in enumerate(items):
        node, more = read_node(item, f'Nodes[{index}]')
        nodes.append(node)
        notes += more
    names = [node.name for node in nodes]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        reject('Nodes', f'the node name {repeated[0]!r} is given twice', 'names must be unique')
    return nodes, notes


def _without_names_outside_x(nodes: list[Node]) -> list[Node]:
    """Leave out of the Run node what names variables outside its ``X``, with one warning."""
    read = []
    for index, node in enumerate(nodes):
        kept, left_out = leave_out_names_outside_x(node) if node.level == 'Run' else (node, [])
        if left_out:
            msg = (
                f'BIDS Stats Model, Nodes[{index}] ({node.name}): Model.X {list(node.model.x)} '
                f'does not hold what these name, so they are left out, as pybids and bidspm '
                f'do: {"; ".join(left_out)}. Add the variables to X to keep them.'
            )
            warn_caller(msg, UserWarning)
        read.append(kept)
    return read


def read_stats_model(source: str | os.PathLike[str] | Mapping[str, Any]) -> StatsModel:
    """Read and check a BIDS Stats Model.

    Parameters
    ----------
    source : path-like or mapping
        The ``_smdl.json`` file, or its content (not modified).

    Returns
    -------
    StatsModel
        The nodes, edges and input filters, checked.

    Raises
    ------
    InputNotFoundError
        If the file does not exist.
    InvalidParameterError
        If it is not valid JSON, or uses a feature bidsglm does not support (the
        message names where, what, and the way out).

    Warns
    -----
    UserWarning
        Once, listing the earlier spellings read with their modern meaning; once,
        listing what the Run node names outside its ``X`` and leaves out
        (:mod:`~bidsglm.dataset.stats_models._outside_x`).

    Examples
    --------
    >>> read_stats_model({'Name': 'x', 'BIDSModelVersion': '1.0.0', 'Nodes': [
    ...     {'Level': 'Run', 'Name': 'run', 'GroupBy': ['run', 'subject'],
    ...      'Model': {'Type': 'glm', 'X': [1], 'Options': {'LowPassFilterCutoffHz': 0.1}}}]})
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: BIDS Stats Model, Nodes[0].Model.Options.LowPass...
    """
    content = load_model(source)
    modernize(content)
    check_keys(content, _TOP_KEYS, 'the top level', {})
    name = content['Name']
    if not isinstance(name, str) or not name:
        reject('Name', f'expected a name, got {name!r}')
    nodes, notes = _nodes(content)
    nodes = _without_names_outside_x(nodes)
    edges = read_edges(content.get('Edges'), nodes)
    check_graph(nodes, edges)
    description = content.get('Description')
    return StatsModel(
        name=name,
        nodes=tuple(nodes),
        edges=edges,
        input=filters(content.get('Input'), 'Input'),
        description=description if isinstance(description, str) else '',
        notes=tuple(notes),
        source=content,
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
            else [a for a in available if a == pattern or fnmatch.fnmatchcase(a, pattern)]
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
