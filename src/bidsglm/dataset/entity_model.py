"""A Session or Subject node whose ``X`` holds entities: contrasts across a subject's inputs.

bidspm compares the sessions of a subject with a node such as::

    {"Level": "Subject", "GroupBy": ["subject", "contrast"],
     "Model": {"Type": "glm", "X": ["session", 1]},
     "Contrasts": [{"Name": "test_gt_retest", "ConditionList": ["test", "retest"],
                    "Weights": [1, -1], "Test": "t"}]}

For each incoming contrast of a subject, the inputs (one per session here) are the
rows of a design: ``1`` is a column of ones and each entity gives one indicator per
label (``session.retest``, ``session.test``). A contrast ``c`` over these columns
(short names such as ``test`` find ``session.test``) must be estimable from the rows;
it weights input ``i`` by ``w_i``, the entries of ``c @ pinv(X)``, which for the
difference of two sessions are ``+1`` and ``-1``. As every input is the fixed
effects of its runs (each run weighted ``1/k``), the output weights each run by
``w_i / k``: an effect that is the difference of the two sessions' fixed effects,
whose variance is the sum of theirs, with the degrees of freedom of all the runs.
It is saved as one expression per run (:meth:`~bidsglm.dataset.outputs.Output.definition`)
and named ``<incoming>_<contrast>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bidsglm.dataset.outputs import Output
from bidsglm.dataset.stats_models import INTERCEPT, contrast_matches
from bidsglm.dataset.stats_models._fields import entity_key
from bidsglm.errors import ContrastError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bidsglm.dataset.stats_models import Contrast, Node

__all__ = ['entity_design', 'entity_outputs', 'input_weights']


def entity_design(x: Sequence[str], members: Sequence[Output]) -> dict[str, np.ndarray]:
    """Return the columns of ``X`` over the inputs: ``1``, and one indicator per label.

    Raises
    ------
    ContrastError
        If an input lacks an entity that ``X`` names.

    Examples
    --------
    >>> members = [Output('s', 'c', (), 't', (i,), (('ses', s),)) for i, s in enumerate('ab')]
    >>> {k: v.tolist() for k, v in entity_design(['session', '1'], members).items()}
    {'session.a': [1.0, 0.0], 'session.b': [0.0, 1.0], '1': [1.0, 1.0]}
    """
    columns: dict[str, np.ndarray] = {}
    for name in x:
        if name == INTERCEPT:
            columns[INTERCEPT] = np.ones(len(members))
            continue
        labels = [member.entity(entity_key(name)) for member in members]
        if None in labels:
            msg = f'Model.X names {name!r}, but some inputs have no {name} (their names).'
            raise ContrastError(msg)
        for label in sorted(set(labels), key=str):
            columns[f'{name}.{label}'] = np.array([float(v == label) for v in labels])
    return columns


def _column_of(condition: str, columns: Sequence[str], contrast: str) -> str:
    """Find the column a condition names: itself, ``1``, or a label (``test``)."""
    if condition in columns:
        return condition
    found = [column for column in columns if contrast_matches(condition, column)]
    if len(found) != 1:
        msg = (
            f'The contrast {contrast!r} names {condition!r}, which is no column of the '
            f'inputs here: they are {list(columns)}.'
        )
        raise ContrastError(msg)
    return found[0]


def input_weights(contrast: Contrast, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Return the weight of each input: ``c @ pinv(X)``, refused when not estimable.

    Examples
    --------
    >>> from bidsglm.dataset.stats_models import Contrast
    >>> columns = {'session.a': np.array([1.0, 0.0]), 'session.b': np.array([0.0, 1.0]),
    ...            '1': np.ones(2)}
    >>> input_weights(Contrast('bMinusA', ('b', 'a'), ((1.0, -1.0),), 't'), columns)
    array([-1.,  1.])
    """
    names = list(columns)
    c = np.zeros(len(names))
    for condition, weight in zip(contrast.conditions, contrast.weights[0], strict=True):
        c[names.index(_column_of(condition, names, contrast.name))] += weight
    design = np.column_stack([columns[name] for name in names])
    weights = c @ np.linalg.pinv(design)
    if not np.allclose(weights @ design, c, atol=1e-8):
        msg = (
            f'The contrast {contrast.name!r} cannot be estimated from these inputs (their '
            f'columns {names}): weight labels that are present, with weights summing as '
            'the design allows.'
        )
        raise ContrastError(msg)
    return np.round(weights, 12) + 0.0  # exact +1 and -1 where they are meant; no -0.0


def _combined(
    node: str,
    name: str,
    contrast: Contrast,
    members: Sequence[Output],
    weights: np.ndarray,
    entities: Callable[[tuple[int, ...]], tuple[tuple[str, str], ...]],
) -> Output:
    """Return the output of one contrast: each run weighted by its input's weight / k."""
    factors: dict[int, float] = {}
    for member, weight in zip(members, weights, strict=True):
        for run, factor in zip(member.runs, member.factors(), strict=True):
            factors[run] = factors.get(run, 0.0) + weight * factor
    runs = tuple(sorted(factors))
    return Output(
        node,
        f'{name}_{contrast.name}',
        members[0].weights,
        contrast.test,
        runs,
        entities(runs),
        tuple(factors[run] for run in runs),
    )


def entity_outputs(
    node: Node,
    group: Sequence[Output],
    entities: Callable[[tuple[int, ...]], tuple[tuple[str, str], ...]],
) -> list[Output]:
    """Return a node's outputs for one subject's group: each incoming contrast, each contrast.

    Parameters
    ----------
    node : Node
        The Session or Subject node (``X`` of entities).
    group : sequence of Output
        The outputs it receives for one subject (and session).
    entities : callable
        The entities common to some runs of the subject.

    Returns
    -------
    list of Output
        ``<incoming>_<contrast>`` for each incoming contrast and each contrast.
    """
    outputs = []
    for name in dict.fromkeys(output.name for output in group):
        members = [output for output in group if output.name == name]
        columns = entity_design(node.model.x, members)
        outputs += [
            _combined(node.name, name, c, members, input_weights(c, columns), entities)
            for c in node.contrasts
        ]
    return outputs
