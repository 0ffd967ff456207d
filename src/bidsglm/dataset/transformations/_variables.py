"""The variables that transformations read and write, and their collection.

Three kinds of variable, each a frozen record whose arrays are read-only:

- :class:`SparseVariable`: one row per event (``onset``, ``duration``, one value),
  the columns of a run's ``*_events.tsv``;
- :class:`DenseVariable`: one value per sample at a fixed ``sampling_rate`` from
  the start of the run, the columns of a confounds file (rate ``1 / TR``) and the
  output of ``Convolve`` and ``ToDense``;
- :class:`SimpleVariable`: one value per row without timing, the columns of
  ``participants.tsv``, ``sessions.tsv`` or ``scans.tsv`` at the higher levels.

A value array is numeric (bool, int or float; ``NaN`` is a missing value) or text
(``object``, missing values are ``NaN`` or ``None``). An ``object`` array whose
present values are all numbers becomes ``float64``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TypeAlias, TypeGuard

import numpy as np
import pandas as pd

from bidsglm.dataset.discovery import close_matches
from bidsglm.errors import EventsError, InvalidParameterError, ShapeMismatchError

__all__ = [
    'DenseVariable',
    'RunTiming',
    'SimpleVariable',
    'SparseVariable',
    'Variable',
    'VariableCollection',
    'collection_from_run',
    'collection_from_table',
    'is_missing',
    'is_numeric',
]


def _frozen(values: object, dtype: type | None = None) -> np.ndarray:
    """Return a read-only 1D copy of ``values``."""
    array = np.array(values, dtype=dtype)
    if array.ndim != 1:
        array = array.reshape(-1)
    array.flags.writeable = False
    return array


def _is_number(value: object) -> TypeGuard[float]:
    """Tell whether ``value`` is a real number (booleans and text excluded)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def as_values(values: object) -> np.ndarray:
    """Return ``values`` as a read-only value array: numeric, or ``object`` for text.

    Examples
    --------
    >>> as_values(['1', 'face']).dtype, as_values([1, None, 2.5]).tolist()
    (dtype('O'), [1.0, nan, 2.5])
    """
    array = np.asarray(values)
    if array.dtype.kind in 'biuf':
        return _frozen(array)
    array = np.array(array, dtype=object).reshape(-1)
    present = [value for value in array if not _missing_scalar(value)]
    if all(_is_number(value) for value in present):
        return _frozen([np.nan if _missing_scalar(v) else float(v) for v in array], np.float64)
    return _frozen(array, object)


def _missing_scalar(value: object) -> bool:
    """Tell whether one value is missing (``None`` or ``NaN``)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def is_missing(values: np.ndarray) -> np.ndarray:
    """Return a boolean mask of the missing values (``NaN``, ``None``).

    Examples
    --------
    >>> is_missing(np.array(['a', None, np.nan], dtype=object)).tolist()
    [False, True, True]
    """
    return np.asarray(pd.isna(values), dtype=bool)


@dataclass(frozen=True, eq=False)
class SparseVariable:
    """Events of one run: an onset, a duration and a value per row.

    Parameters
    ----------
    name : str
        The variable's name (an events column, ``trial_type.face``, ...).
    onset, duration : (n_events,) array-like of float
        Seconds from the start of the run.
    values : (n_events,) array-like
        The value (amplitude) of each event: numbers or text.

    Examples
    --------
    >>> v = SparseVariable('rt', [0.0, 4.0], [1.0, 1.0], [0.5, 0.7])
    >>> v.values.tolist(), is_numeric(v)
    ([0.5, 0.7], True)
    """

    name: str
    onset: np.ndarray
    duration: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, 'onset', _frozen(self.onset, np.float64))
        object.__setattr__(self, 'duration', _frozen(self.duration, np.float64))
        object.__setattr__(self, 'values', as_values(self.values))
        sizes = {self.onset.size, self.duration.size, self.values.size}
        if len(sizes) != 1:
            msg = (
                f'Variable {self.name!r} has {self.onset.size} onsets, '
                f'{self.duration.size} durations and {self.values.size} values; '
                'each event needs one of each.'
            )
            raise ShapeMismatchError(msg)

    def __len__(self) -> int:
        return int(self.values.size)

    def take(self, rows: np.ndarray) -> SparseVariable:
        """Return the events at ``rows`` (indices or a boolean mask)."""
        return replace(
            self, onset=self.onset[rows], duration=self.duration[rows], values=self.values[rows]
        )


@dataclass(frozen=True, eq=False)
class DenseVariable:
    """A regularly sampled time series of one run; sample ``k`` is at ``k / sampling_rate`` s.

    Parameters
    ----------
    name : str
        The variable's name.
    values : (n_samples,) array-like of float
        One value per sample.
    sampling_rate : float
        Samples per second (``1 / TR`` for one value per volume).

    Examples
    --------
    >>> DenseVariable('trans_x', [0.0, 0.1, 0.3], sampling_rate=0.5).values.tolist()
    [0.0, 0.1, 0.3]
    """

    name: str
    values: np.ndarray
    sampling_rate: float

    def __post_init__(self) -> None:
        object.__setattr__(self, 'values', as_values(self.values))
        if not (_is_number(self.sampling_rate) and self.sampling_rate > 0):
            msg = (
                f'Dense variable {self.name!r} needs a sampling rate in (0, inf) Hz. '
                f'Got {self.sampling_rate!r} instead.'
            )
            raise InvalidParameterError(msg)
        object.__setattr__(self, 'sampling_rate', float(self.sampling_rate))

    def __len__(self) -> int:
        return int(self.values.size)


@dataclass(frozen=True, eq=False)
class SimpleVariable:
    """One value per row and no timing (``participants.tsv`` and the like).

    Parameters
    ----------
    name : str
        The variable's name (a column).
    values : (n_rows,) array-like
        One value per row (subject, session or scan).

    Examples
    --------
    >>> SimpleVariable('age', [21, 34]).values.tolist()
    [21, 34]
    """

    name: str
    values: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, 'values', as_values(self.values))

    def __len__(self) -> int:
        return int(self.values.size)

    def take(self, rows: np.ndarray) -> SimpleVariable:
        """Return the rows at ``rows`` (indices or a boolean mask)."""
        return replace(self, values=self.values[rows])


Variable: TypeAlias = SparseVariable | DenseVariable | SimpleVariable


def is_numeric(variable: Variable) -> bool:
    """Tell whether a variable holds numbers (rather than text).

    Examples
    --------
    >>> is_numeric(SimpleVariable('group', ['patient', 'control']))
    False
    """
    return variable.values.dtype.kind in 'biuf'


def _check_positive(value: object, name: str) -> None:
    """Refuse a value that is not a finite number > 0."""
    if not (_is_number(value) and math.isfinite(value) and value > 0):
        msg = f'The {name!r} parameter of RunTiming must be a float in (0, inf). Got {value!r}.'
        raise InvalidParameterError(msg)


@dataclass(frozen=True)
class RunTiming:
    """The clock of one run: its volumes and how finely events are modelled.

    Parameters
    ----------
    n_volumes : int
        Volumes of the run (>= 2).
    repetition_time : float
        Seconds between volumes.
    start_time : float, default=0.0
        Seconds from the start of a volume's acquisition to the time its value
        stands for (``slice_time_ref * repetition_time``, the BIDS ``StartTime``
        of slice-time-corrected data); ``Convolve`` samples its regressors at
        ``k * repetition_time + start_time``.
    sampling_rate : float, default=10.0
        Hz at which ``Dense: true``, ``Orthogonalize`` and ``Split`` make sparse
        variables dense (pybids' collection rate).
    oversampling : int, default=50
        Fine-grid samples per volume used by ``Convolve`` (bidsglm's and nilearn's
        design default).
    min_onset : float, default=-24.0
        Seconds before the first volume from which ``Convolve`` models events.

    Examples
    --------
    >>> timing = RunTiming(n_volumes=4, repetition_time=2.0, start_time=1.0)
    >>> timing.duration, timing.frame_times.tolist()
    (8.0, [1.0, 3.0, 5.0, 7.0])
    """

    n_volumes: int
    repetition_time: float
    start_time: float = 0.0
    sampling_rate: float = 10.0
    oversampling: int = 50
    min_onset: float = -24.0

    def __post_init__(self) -> None:
        volumes: object = self.n_volumes
        if not (isinstance(volumes, numbers.Integral) and int(volumes) >= 2):
            msg = f"The 'n_volumes' parameter of RunTiming must be an int >= 2. Got {volumes!r}."
            raise InvalidParameterError(msg)
        _check_positive(self.repetition_time, 'repetition_time')
        _check_positive(self.sampling_rate, 'sampling_rate')
        oversampling: object = self.oversampling
        if not (isinstance(oversampling, numbers.Integral) and int(oversampling) >= 1):
            msg = (
                "The 'oversampling' parameter of RunTiming must be an int >= 1. "
                f'Got {self.oversampling!r}.'
            )
            raise InvalidParameterError(msg)
        if not (_is_number(self.min_onset) and self.min_onset <= 0):
            msg = f"The 'min_onset' parameter of RunTiming must be <= 0. Got {self.min_onset!r}."
            raise InvalidParameterError(msg)

    @property
    def duration(self) -> float:
        """Length of the run in seconds: ``n_volumes * repetition_time``."""
        return float(self.n_volumes * self.repetition_time)

    @property
    def frame_times(self) -> np.ndarray:
        """Times (s) that the volumes stand for: ``k * repetition_time + start_time``."""
        return np.arange(self.n_volumes) * float(self.repetition_time) + float(self.start_time)


def _name_error(name: str, names: Iterable[str]) -> str:
    """Say that ``name`` is not a variable, listing the ones there are."""
    available = list(names)
    return (
        f'There is no variable named {name!r}{close_matches(name, available)}. '
        f'The variables are {available}.'
    )


@dataclass(frozen=True, eq=False)
class VariableCollection:
    """The variables of one run (or of one table at a higher level), by name.

    Collections are immutable: each transformation returns a new one.

    Parameters
    ----------
    variables : mapping of str to Variable
        The variables, each under its own name, in order.
    timing : RunTiming or None, default=None
        The run's clock; required when a variable is sparse or dense.
    groups : mapping of str to tuple of str, default={}
        Names made by ``Group`` that stand for lists of variables in ``Input``.

    Examples
    --------
    >>> c = VariableCollection({'age': SimpleVariable('age', [21, 34])})
    >>> c.names, c['age'].values.tolist()
    (('age',), [21, 34])
    """

    variables: Mapping[str, Variable]
    timing: RunTiming | None = None
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, variable in self.variables.items():
            if key != variable.name:
                msg = f'The variable {variable.name!r} is stored under the key {key!r}.'
                raise InvalidParameterError(msg)
        timed = [v.name for v in self.variables.values() if not isinstance(v, SimpleVariable)]
        if timed and self.timing is None:
            msg = f'The run variables {timed} need the run timing (timing=RunTiming(...)).'
            raise InvalidParameterError(msg)
        object.__setattr__(self, 'variables', MappingProxyType(dict(self.variables)))
        object.__setattr__(
            self, 'groups', MappingProxyType({k: tuple(v) for k, v in self.groups.items()})
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the variables, in order."""
        return tuple(self.variables)

    def __contains__(self, name: object) -> bool:
        return name in self.variables

    def __getitem__(self, name: str) -> Variable:
        if name not in self.variables:
            raise KeyError(_name_error(name, self.variables))
        return self.variables[name]

    def __len__(self) -> int:
        return len(self.variables)

    def with_variables(
        self, variables: Mapping[str, Variable], groups: Mapping[str, Iterable[str]] | None = None
    ) -> VariableCollection:
        """Return a collection with other variables (and groups), the same timing."""
        kept = self.groups if groups is None else groups
        return VariableCollection(variables, self.timing, {k: tuple(v) for k, v in kept.items()})


def _events_columns(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the onsets and durations of an events table, checked."""
    missing = [c for c in ('onset', 'duration') if c not in events.columns]
    if missing:
        msg = f'The events table has no {missing} column; BIDS events need onset and duration.'
        raise EventsError(msg)
    timing = []
    for column in ('onset', 'duration'):
        values = pd.to_numeric(events[column], errors='coerce').to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            rows = np.flatnonzero(~np.isfinite(values)).tolist()
            msg = f'The events column {column!r} must hold numbers; rows {rows} do not.'
            raise EventsError(msg)
        timing.append(values)
    return timing[0], timing[1]


def collection_from_run(
    timing: RunTiming,
    events: pd.DataFrame | None = None,
    confounds: pd.DataFrame | None = None,
) -> VariableCollection:
    """Make the variables of one run from its events and confounds tables.

    Every events column but ``onset`` and ``duration`` becomes a
    :class:`SparseVariable` holding all the rows (missing values kept, as pybids'
    graph reads them); every confounds column becomes a :class:`DenseVariable`
    sampled once per volume (rate ``1 / repetition_time``).

    Parameters
    ----------
    timing : RunTiming
        The run's clock.
    events : pandas.DataFrame or None, default=None
        The run's events (read with only ``n/a`` as a missing value, as BIDS says).
    confounds : pandas.DataFrame or None, default=None
        One row per volume.

    Returns
    -------
    collection : VariableCollection
        The events variables then the confounds, in column order.

    Raises
    ------
    EventsError
        If ``onset`` or ``duration`` is missing or holds something else than numbers.
    ShapeMismatchError
        If the confounds do not have one row per volume.
    InvalidParameterError
        If an events and a confounds column share a name.

    Examples
    --------
    >>> events = pd.DataFrame({'onset': [0, 10], 'duration': [5, 5],
    ...                        'trial_type': ['face', 'house']})
    >>> confounds = pd.DataFrame({'trans_x': [0.0, 0.1, 0.2, 0.1]})
    >>> c = collection_from_run(RunTiming(4, 5.0), events, confounds)
    >>> c.names, type(c['trans_x']).__name__, c['trans_x'].sampling_rate
    (('trial_type', 'trans_x'), 'DenseVariable', 0.2)
    """
    variables: dict[str, Variable] = {}
    if events is not None:
        onset, duration = _events_columns(events)
        for column in events.columns:
            if column not in ('onset', 'duration'):
                name = str(column)
                variables[name] = SparseVariable(name, onset, duration, events[column].to_numpy())
    if confounds is not None:
        if len(confounds) != timing.n_volumes:
            msg = (
                f'The confounds table has {len(confounds)} rows but the run has '
                f'{timing.n_volumes} volumes; give one row per volume.'
            )
            raise ShapeMismatchError(msg)
        rate = 1.0 / float(timing.repetition_time)
        for column in confounds.columns:
            name = str(column)
            if name in variables:
                msg = (
                    f'The column {name!r} is both in the events and in the confounds; rename one.'
                )
                raise InvalidParameterError(msg)
            variables[name] = DenseVariable(name, confounds[column].to_numpy(), rate)
    return VariableCollection(variables, timing)


def collection_from_table(table: pd.DataFrame) -> VariableCollection:
    """Make one :class:`SimpleVariable` per column of a table (``participants.tsv``, ...).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per subject, session or scan.

    Returns
    -------
    collection : VariableCollection
        The columns, in order, without timing.

    Examples
    --------
    >>> t = pd.DataFrame({'participant_id': ['sub-01', 'sub-02'], 'age': [21, 34]})
    >>> collection_from_table(t)['age'].values.tolist()
    [21, 34]
    """
    return VariableCollection(
        {str(c): SimpleVariable(str(c), table[c].to_numpy()) for c in table.columns}
    )
