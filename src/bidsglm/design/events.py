"""Read and check an events table: the experimental paradigm of one run.

An events table has one row per stimulus or trial. Two columns are required and
two are optional:

``onset`` (required)
    Start of the event, in seconds from the first volume's acquisition.
``duration`` (required)
    Length of the event in seconds; ``0`` makes a brief impulse.
``trial_type`` (optional)
    The condition the event belongs to. Without it, every event belongs to one
    condition called ``'dummy'``.
``modulation`` (optional)
    The event's amplitude (parametric modulation); ``1`` when absent.

:func:`check_events` returns a clean table holding exactly these four columns,
in that order. It behaves as nilearn 0.14.1's ``check_events`` followed by its
duplicate handling: the same events are kept and the same situations warn.
Where nilearn lets an impossible value through (a negative duration, a NaN
modulation) we stop with an :class:`~bidsglm.errors.EventsError` instead.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bidsglm.design.tables import read_table
from bidsglm.errors import EventsError, EventsTypeError

if TYPE_CHECKING:
    import os

__all__ = ['EVENT_COLUMNS', 'check_events']

#: The columns of a checked events table, in order.
EVENT_COLUMNS = ('onset', 'duration', 'trial_type', 'modulation')

#: The condition given to every event of a table without ``trial_type``.
DEFAULT_TRIAL_TYPE = 'dummy'

#: How many offending rows an error message lists before it abbreviates.
_MAX_ROWS_SHOWN = 10


def check_events(events: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
    """Check an events table and return it in canonical form.

    Parameters
    ----------
    events : pandas.DataFrame or str or os.PathLike
        The events, or the path of a ``.tsv`` (BIDS) or ``.csv`` file holding
        them. ``n/a`` cells in a file are read as missing values.

    Returns
    -------
    events : pandas.DataFrame
        A new table with the columns ``onset``, ``duration`` (float seconds),
        ``trial_type`` and ``modulation`` (float), one row per distinct event
        and a fresh 0-based index. Duplicated events are merged into one.

    Raises
    ------
    EventsError
        If ``onset`` or ``duration`` is missing, holds missing or infinite
        values, if a duration is negative, or if ``modulation`` holds missing or
        infinite values.
    EventsTypeError
        If ``onset``, ``duration`` or ``modulation`` holds text that is not a
        number (also a ``TypeError``).
    InputNotFoundError
        If ``events`` is a path that does not exist.
    ParameterTypeError
        If ``events`` is neither a DataFrame nor a path (also a ``TypeError``).
    InvalidParameterError
        If the file is not a ``.tsv`` or ``.csv`` file, or is empty.

    Warns
    -----
    UserWarning
        When ``trial_type`` is missing (every event becomes ``'dummy'``), when
        some events have a missing ``trial_type`` (they are dropped), when some
        events last 0 s (they are modelled as impulses), and when events with the
        same ``trial_type``, ``onset`` and ``duration`` occur more than once
        (they are merged into one event whose modulation is the sum).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({'onset': [0, 10, 10], 'duration': [5, 5, 5],
    ...                       'trial_type': ['a', 'b', 'b']})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter('ignore')  # the duplicated 'b' event warns
    ...     checked = check_events(table)
    >>> print(checked.to_string())
       onset  duration trial_type  modulation
    0    0.0       5.0          a         1.0
    1   10.0       5.0          b         2.0
    """
    table = _load_table(events)
    for column in ('onset', 'duration'):
        table[column] = _finite_numbers(table, column)
    _check_durations(table)
    table = _with_trial_type(table)
    _warn_zero_durations(table)
    table['modulation'] = _finite_numbers(table, 'modulation') if 'modulation' in table else 1.0
    return _merge_duplicates(table[list(EVENT_COLUMNS)])


def _load_table(events: object) -> pd.DataFrame:
    """Return a copy of ``events``, reading it from disk when it is a path."""
    parameter = "The 'events' parameter of check_events"
    return read_table(events, parameter=parameter, kind='events').copy()


def _finite_numbers(table: pd.DataFrame, column: str) -> pd.Series:
    """Return ``table[column]`` as float64, refusing missing, text or infinite cells."""
    if column not in table:
        msg = (
            f'The events table has no {column!r} column; its columns are '
            f'{[str(name) for name in table.columns]}. An events table needs '
            "'onset' and 'duration' columns, in seconds."
        )
        raise EventsError(msg)
    raw = table[column]
    if raw.dtype.kind in 'fiu':  # numbers already (a file's usual columns): a quick check
        numbers = raw.to_numpy(dtype=np.float64)
        if np.isfinite(numbers).all():
            return pd.Series(numbers, index=raw.index, name=raw.name)
    values = pd.to_numeric(raw, errors='coerce').astype(np.float64)
    problems: dict[str, tuple[pd.Series, type[EventsError]]] = {
        'holds text that is not a number': (values.isna() & raw.notna(), EventsTypeError),
        'holds missing (NaN / n/a) values': (raw.isna(), EventsError),
        'holds infinite values': (values.abs() == np.inf, EventsError),
    }
    for what, (bad, error) in problems.items():
        if bad.any():
            msg = f'The {column!r} column of the events {what} at {_rows(table, bad)}.'
            raise error(msg)
    return values


def _check_durations(table: pd.DataFrame) -> None:
    """Refuse negative durations, which nilearn would silently mis-model."""
    negative = table['duration'] < 0
    if negative.any():
        msg = (
            f"The 'duration' column of the events holds negative values at "
            f'{_rows(table, negative)}. Durations are in seconds and must be >= 0.'
        )
        raise EventsError(msg)


def _with_trial_type(table: pd.DataFrame) -> pd.DataFrame:
    """Add the ``'dummy'`` condition, or drop events whose condition is missing."""
    if 'trial_type' not in table:
        warnings.warn(
            "The events table has no 'trial_type' column: all events are modelled "
            f'as one condition named {DEFAULT_TRIAL_TYPE!r}.',
            UserWarning,
            stacklevel=3,
        )
        table['trial_type'] = DEFAULT_TRIAL_TYPE
        return table
    missing = table['trial_type'].isna()
    if missing.any():
        warnings.warn(
            f"Events with a missing 'trial_type' at {_rows(table, missing)} are "
            'ignored (as nilearn does). Give them a condition name to model them.',
            UserWarning,
            stacklevel=3,
        )
        table = table.loc[~missing].copy()
    return table


def _warn_zero_durations(table: pd.DataFrame) -> None:
    """Warn, per condition, about events of zero duration (modelled as impulses)."""
    conditions = table.loc[table['duration'] == 0, 'trial_type'].unique()
    if len(conditions) > 0:
        names = sorted(str(name) for name in conditions)
        warnings.warn(
            f'These conditions have events of duration 0, modelled as brief impulses: {names}.',
            UserWarning,
            stacklevel=3,
        )


def _merge_duplicates(table: pd.DataFrame) -> pd.DataFrame:
    """Merge events that share condition, onset and duration; sum their modulation."""
    keys = ['trial_type', 'onset', 'duration']
    if not table.duplicated(keys).any():
        return table.reset_index(drop=True)
    merged = table.groupby(keys, sort=False, dropna=False)['modulation'].sum().reset_index()
    if len(merged) != len(table):
        warnings.warn(
            f'{len(table) - len(merged)} events repeat the trial_type, onset and '
            'duration of an earlier event; each group is merged into one event whose '
            'modulation is the sum. Check the events table if this is unexpected.',
            UserWarning,
            stacklevel=3,
        )
    return merged[list(EVENT_COLUMNS)]


def _rows(table: pd.DataFrame, mask: pd.Series) -> str:
    """Describe the rows of ``table`` selected by ``mask`` by their index labels."""
    labels = table.index[mask.to_numpy()].tolist()
    shown = ', '.join(str(label) for label in labels[:_MAX_ROWS_SHOWN])
    more = f' and {len(labels) - _MAX_ROWS_SHOWN} more' if len(labels) > _MAX_ROWS_SHOWN else ''
    return f'rows [{shown}{more}] (index labels; for a file, 0-based data rows)'
