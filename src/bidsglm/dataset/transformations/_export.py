"""Hand the transformed variables to the design: events, per-volume columns, tables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bidsglm.dataset.transformations._common import (
    fail,
    lookup,
    refuse_missing,
    refuse_text,
    run_timing,
    to_dense,
)
from bidsglm.dataset.transformations._variables import (
    DenseVariable,
    SimpleVariable,
    SparseVariable,
    Variable,
    VariableCollection,
)

__all__ = ['to_events', 'to_table', 'to_volumes']


def _chosen(
    collection: VariableCollection,
    names: Sequence[str] | None,
    kind: type | tuple[type, ...],
    what: str,
) -> list[Variable]:
    """Return the named variables (all of ``kind`` when None), refusing other kinds."""
    if names is None:
        return [v for v in collection.variables.values() if isinstance(v, kind)]
    chosen = [lookup(collection, name, what) for name in names]
    wrong = [v.name for v in chosen if not isinstance(v, kind)]
    if wrong:
        fail(f'{what} cannot take {wrong}: they are not of the kind it exports.')
    return chosen


def to_events(collection: VariableCollection, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Return sparse variables as an events table, one condition per variable.

    The table is what :func:`bidsglm.design.make_first_level_design_matrix` and
    ``FirstLevelModel.fit`` read: the variable's name becomes ``trial_type`` and its
    values ``modulation``, so each variable becomes one regressor convolved by the
    model's HRF (the ``Model.HRF.Variables`` of a node).

    Parameters
    ----------
    collection : VariableCollection
        A run's variables.
    names : sequence of str or None, default=None
        The variables to export (every sparse one when None).

    Returns
    -------
    events : pandas.DataFrame
        Columns ``onset``, ``duration``, ``trial_type``, ``modulation``; the events of
        each variable in turn, in their own order.

    Raises
    ------
    TransformationError
        If a variable is not sparse, holds text or has missing values.

    Examples
    --------
    >>> from bidsglm.dataset.transformations import RunTiming, SparseVariable
    >>> run = VariableCollection({'rt': SparseVariable('rt', [2.0, 6.0], [1.0, 1.0], [0.4, 0.9])},
    ...                          timing=RunTiming(5, 2.0))
    >>> to_events(run).to_dict('list')
    {'onset': [2.0, 6.0], 'duration': [1.0, 1.0], 'trial_type': ['rt', 'rt'],
     'modulation': [0.4, 0.9]}
    """
    frames = []
    chosen = _chosen(collection, names, SparseVariable, 'to_events')
    for variable in (v for v in chosen if isinstance(v, SparseVariable)):
        refuse_text(variable, 'A regressor')
        refuse_missing(variable, 'A regressor')
        frames.append(
            pd.DataFrame(
                {
                    'onset': variable.onset,
                    'duration': variable.duration,
                    'trial_type': variable.name,
                    'modulation': variable.values.astype(np.float64),
                }
            )
        )
    columns = ['onset', 'duration', 'trial_type', 'modulation']
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def to_volumes(collection: VariableCollection, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Return variables sampled once per volume: design columns used as they are.

    Dense variables at ``1 / repetition_time`` (confounds, ``Convolve`` output) are
    taken as they are; other dense variables are linearly interpolated at
    ``k * repetition_time``; sparse variables become their boxcar at that rate
    (see :func:`~bidsglm.dataset.transformations.densify`), unconvolved.

    Parameters
    ----------
    collection : VariableCollection
        A run's variables.
    names : sequence of str or None, default=None
        The variables to export (every sparse and dense one when None).

    Returns
    -------
    columns : pandas.DataFrame
        One row per volume, indexed by ``RunTiming.frame_times``, one column per variable.

    Raises
    ------
    TransformationError
        If a variable holds text or has no timing.

    Examples
    --------
    >>> from bidsglm.dataset.transformations import RunTiming
    >>> run = VariableCollection({'fd': DenseVariable('fd', [0.1, 0.3, 0.2], 0.5)},
    ...                          timing=RunTiming(3, 2.0))
    >>> to_volumes(run)['fd'].tolist()
    [0.1, 0.3, 0.2]
    """
    timing = run_timing(collection, 'to_volumes')
    kinds = (SparseVariable, DenseVariable)
    variables = _chosen(collection, names, kinds, 'to_volumes')
    rate = 1.0 / float(timing.repetition_time)
    columns = {}
    for variable in variables:
        refuse_text(variable, 'A design column')
        values = to_dense(variable, rate, timing).values
        if values.size != timing.n_volumes:
            fail(
                f'{variable.name!r} has {values.size} samples at 1/TR but the run has '
                f'{timing.n_volumes} volumes.'
            )
        columns[variable.name] = values
    return pd.DataFrame(columns, index=pd.Index(timing.frame_times, name='frame_times'))


def to_table(collection: VariableCollection, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Return row variables (no timing) as a table, one column per variable.

    Examples
    --------
    >>> rows = VariableCollection({'age': SimpleVariable('age', [21.0, 34.0])})
    >>> to_table(rows)['age'].tolist()
    [21.0, 34.0]
    """
    variables = _chosen(collection, names, SimpleVariable, 'to_table')
    return pd.DataFrame({v.name: v.values for v in variables})
