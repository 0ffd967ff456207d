"""bidspm's parametric modulations: a condition's events weighted by a column, as SPM makes them.

``Software.SPM.ParametricModulations`` (bidspm) lists, for conditions of ``X``, a
column of the events table (after the transformations) whose value at each event
modulates that condition. bidspm hands them to SPM, and bidsglm computes the same
regressors, run by run:

1. for each condition, its events are those where its variable is not 0 (an
   indicator ``trial_type.<value>``, or a ``trial_type`` value itself);
2. each event's amplitude is the column's value at the same event (same onset
   and duration); a missing value counts as 1, and a modulation whose
   amplitudes are all 1 adds nothing (both as bidspm does);
3. ``PolynomialExpansion`` ``p`` gives the amplitudes to the powers 1 to ``p``;
4. the condition's columns ``[1, a, a², ..., b, b², ...]`` (its own events, then
   each modulation of it in the order written) are orthogonalised from left to
   right, over the condition's events of the run (SPM's default ``orth``, Gram-Schmidt
   without normalisation, :func:`bidsglm.design.hrf.orthogonalize`): so a
   first-order modulator is its amplitudes minus their mean, and the main
   regressor is unchanged;
5. each of these columns is an events variable named
   ``<condition>x<Name>^<power>`` (SPM's names), convolved with the node's HRF
   like the condition.

They are design columns beyond ``X``: contrasts and dummy contrasts do not name
them (as in bidspm, whose contrasts name the conditions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bidsglm.dataset.stats_models import ParametricModulation, contrast_matches
from bidsglm.dataset.transformations import SparseVariable, VariableCollection
from bidsglm.design.hrf import orthogonalize
from bidsglm.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ['add_modulations']


def _names_condition(modulation: ParametricModulation, variable: str) -> bool:
    return any(
        variable == name or contrast_matches(name, variable) for name in modulation.conditions
    )


def _amplitudes(condition: SparseVariable, values: SparseVariable) -> np.ndarray:
    """Return the value of ``values`` at each event of ``condition`` (missing as 1)."""
    found: dict[tuple[float, float], list[object]] = {}
    for onset, duration, value in zip(values.onset, values.duration, values.values, strict=True):
        found.setdefault((onset, duration), []).append(value)
    amplitudes = []
    for onset, duration in zip(condition.onset, condition.duration, strict=True):
        candidates = found.get((onset, duration), [])
        if len(set(map(str, candidates))) != 1:
            msg = (
                f'The parametric modulation by {values.name!r} has no single value for the '
                f'event of {condition.name!r} at {onset:g} s ({len(candidates)} found): the '
                'column must hold one value per event of the condition.'
            )
            raise InvalidParameterError(msg)
        amplitudes.append(candidates[0])
    try:
        numbers = np.asarray(amplitudes, dtype=np.float64)
    except (TypeError, ValueError):
        msg = f'The parametric modulation column {values.name!r} holds text, not numbers.'
        raise InvalidParameterError(msg) from None
    return np.where(np.isnan(numbers), 1.0, numbers)


def _values_variable(collection: VariableCollection, name: str) -> SparseVariable:
    variable = collection.variables.get(name)
    if not isinstance(variable, SparseVariable):
        msg = (
            f'The parametric modulation column {name!r} is not an events column of this run '
            f'(the variables are {list(collection.names)[:30]}). Check Values, '
            'or make the column with a transformation.'
        )
        raise InvalidParameterError(msg)
    return variable


def _modulated(
    condition: SparseVariable,
    modulations: Sequence[ParametricModulation],
    collection: VariableCollection,
) -> dict[str, SparseVariable]:
    """Return the modulated regressors of one condition, by name."""
    events = condition.take(np.flatnonzero(np.nan_to_num(np.asarray(condition.values, float))))
    columns, names = [np.ones(len(events))], []
    for modulation in modulations:
        amplitudes = _amplitudes(events, _values_variable(collection, modulation.value))
        if np.all(amplitudes == 1.0):
            continue
        for power in range(1, modulation.order + 1):
            columns.append(amplitudes**power)
            names.append(modulation.regressor(condition.name, power))
    orthogonal = orthogonalize(np.column_stack(columns))
    return {
        name: SparseVariable(name, events.onset, events.duration, orthogonal[:, index + 1])
        for index, name in enumerate(names)
    }


def add_modulations(
    collection: VariableCollection,
    conditions: Sequence[str],
    modulations: Sequence[ParametricModulation],
) -> tuple[VariableCollection, list[str]]:
    """Add the parametric modulations of the convolved conditions (see the module docstring).

    Parameters
    ----------
    collection : VariableCollection
        The run's variables, after the transformations.
    conditions : sequence of str
        The events variables of ``X`` that are convolved, in order.
    modulations : sequence of ParametricModulation
        The node's modulations.

    Returns
    -------
    collection : VariableCollection
        With the modulated regressors added.
    names : list of str
        Their names, each condition's after one another, in the order of ``conditions``.

    Raises
    ------
    InvalidParameterError
        If a values column is not an events column of the run, holds text, or has
        no single value at an event of the condition.

    Examples
    --------
    >>> events = SparseVariable('trial_type.face', [0.0, 10.0, 20.0, 30.0], [1.0] * 4,
    ...                         [1, 0, 1, 1])
    >>> lag = SparseVariable('lag', [0.0, 10.0, 20.0, 30.0], [1.0] * 4, [2.0, 9.0, 4.0, 9.0])
    >>> from bidsglm.dataset.transformations import RunTiming
    >>> collection = VariableCollection({'trial_type.face': events, 'lag': lag},
    ...                                 RunTiming(20, 2.0))
    >>> made, names = add_modulations(collection, ['trial_type.face'],
    ...                               [ParametricModulation('lag', ('trial_type.face',), 'lag')])
    >>> names
    ['trial_type.facexlag^1']
    >>> made['trial_type.facexlag^1'].values.tolist()
    [-3.0, -1.0, 4.0]
    """
    variables = dict(collection.variables)
    added: list[str] = []
    for name in conditions:
        chosen = [m for m in modulations if _names_condition(m, name)]
        condition = collection[name]
        if chosen and isinstance(condition, SparseVariable):
            made = _modulated(condition, chosen, collection)
            variables.update(made)
            added += list(made)
    return collection.with_variables(variables), added
