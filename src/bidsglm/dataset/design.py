"""A run's design from its files and a node: variables, transformations, ``X``, HRF, drifts.

:func:`run_design` is the one recipe, used to check every run while planning and
again, identically, where the run is fitted:

1. the events (``n/a`` is the only missing value, as BIDS says: ``NA`` and
   ``NULL`` are conditions) and every confounds column become the run's variables
   (:func:`~bidsglm.dataset.transformations.collection_from_run`);
2. the node's ``Transformations`` run on them;
3. names of ``X`` are found: a variable's own name; ``column.value``, the
   indicator of the events whose ``column`` is ``value`` (pybids' name after a
   ``Factor``, which bidspm writes without one); a ``trial_type`` value itself
   (``congruent``, bidsglm's shorthand, which keeps the events' ``modulation``);
   globs over all of these (a glob may match nothing: ``*outlier*`` in a run
   without outliers); a bidspm short name (``VisMot`` for ``trial_type.VisMot``);
4. events variables of ``X`` are convolved by the node's HRF (those of
   ``HRF.Variables``; every one when the node has no ``HRF``, with bidsglm's
   default ``glover``); events with a missing value count as 0, as pybids fills
   them; other variables (confounds, ``Convolve`` outputs) are design columns as
   they are, the first row of a confound filled with 0 when missing (fMRIPrep
   leaves it empty for derivatives), as nilearn does;
5. bidspm's parametric modulations add their modulated regressors
   (:mod:`bidsglm.dataset.modulations`), convolved alike; a ``Formula`` replaces
   the columns of ``X``'s variables by formulaic's columns over them
   (:mod:`bidsglm.dataset.stats_models._formula`);
6. the cosine drifts (``HighPassFilterCutoffHz``, 0.01 Hz by default) and the
   constant (``1`` in ``X``) complete the design, built by
   :func:`bidsglm.design.make_first_level_design_matrix` as ``FirstLevelModel``
   builds it.

A condition named in ``X`` that has no event in a run (a ``column.value`` whose
value does not occur) is left out of that run's design, as nilearn leaves out a
condition without events; contrasts that weight it are checked by the planner.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bidsglm.dataset.modulations import add_modulations
from bidsglm.dataset.stats_models import INTERCEPT, ParametricModulation, contrast_matches
from bidsglm.dataset.stats_models._formula import formula_columns
from bidsglm.dataset.transformations import (
    RunTiming,
    SparseVariable,
    Transformations,
    VariableCollection,
    apply_transformations,
    collection_from_run,
    to_events,
    to_volumes,
)
from bidsglm.design import check_events, make_first_level_design_matrix
from bidsglm.errors import InvalidParameterError, TransformationError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

__all__ = [
    'DEFAULT_HRF',
    'DesignSpec',
    'RunDesign',
    'read_bids_tsv',
    'run_design',
]

#: The HRF of a node without ``HRF`` (bidsglm's and nilearn's default).
DEFAULT_HRF = 'glover'
#: The drift cut-off when the node gives none (Hz).
DEFAULT_HIGH_PASS = 0.01
_GLOB = ('*', '?', '[')
_TRIAL_TYPE = 'trial_type'


def read_bids_tsv(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    r"""Read a BIDS table: ``n/a`` (and empty cells) are missing, every other text is kept.

    pandas' defaults would also read ``NA``, ``NULL``, ``nan``... as missing, which
    makes a condition named ``NULL`` disappear. ``trial_type`` is read as text.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / 'e.tsv'
    >>> _ = path.write_text('onset\tduration\ttrial_type\n0\t1\tNULL\n2\t1\tn/a\n')
    >>> read_bids_tsv(path)['trial_type'].tolist()
    ['NULL', nan]
    >>> _ = path.write_text('\n')
    >>> read_bids_tsv(path)
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: The table '...e.tsv' is empty: a BIDS table ...
    """
    try:
        return pd.read_csv(
            path,
            sep='\t',
            na_values=['n/a', ''],
            keep_default_na=False,
            dtype={_TRIAL_TYPE: str},
            usecols=None if columns is None else list(columns),
        )
    except pd.errors.EmptyDataError:
        msg = f'The table {str(path)!r} is empty: a BIDS table starts with a row of column names.'
        raise InvalidParameterError(msg) from None


@dataclass(frozen=True)
class DesignSpec:
    """How a node makes a run's design.

    Parameters
    ----------
    x : tuple of str
        ``X``: names, globs and ``'1'``.
    hrf_model : str
        The kernel of the convolved variables.
    convolved : tuple of str or None
        ``HRF.Variables`` (names or globs); None: every events variable of ``X``.
    high_pass : float
        The cosine drifts' cut-off, in Hz.
    fir_delays : tuple of int
        The FIR delays, in volumes.
    transformations : Transformations or None
        The node's transformations.
    modulations : tuple of ParametricModulation
        bidspm's parametric modulations (:mod:`bidsglm.dataset.modulations`).
    formula : str or None
        ``Model.Formula``, over the design columns of ``X``'s variables.
    """

    x: tuple[str, ...]
    hrf_model: str = DEFAULT_HRF
    convolved: tuple[str, ...] | None = None
    high_pass: float = DEFAULT_HIGH_PASS
    fir_delays: tuple[int, ...] = (0,)
    transformations: Transformations | None = field(default=None, compare=False)
    modulations: tuple[ParametricModulation, ...] = ()
    formula: str | None = None


@dataclass(frozen=True)
class RunDesign:
    """A run's design and how its names were found.

    Parameters
    ----------
    design : pandas.DataFrame
        One row per volume, one column per regressor.
    columns : dict of str to str
        The design column of each name used in ``X`` (``'1'`` is ``constant``;
        a bidspm short name maps to its ``column.value``).
    variables : tuple of str
        The variables of ``X`` found in this run, in order (globs expanded).
    events : tuple of str
        Those of them convolved (events variables, the conditions).
    absent : tuple of str
        Names of ``X`` that are conditions without events in this run.
    """

    design: pd.DataFrame
    columns: dict[str, str]
    variables: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()


def _is_glob(name: str) -> bool:
    return any(ch in name for ch in _GLOB)


def _factor_levels(collection: VariableCollection, column: str) -> VariableCollection:
    """Add the ``column.value`` indicators of an events column, keeping the column."""
    spec = {
        'Transformer': 'pybids-transforms-v1',
        'Instructions': [
            {'Name': 'Copy', 'Input': [column], 'Output': ['__levels__']},
            {'Name': 'Factor', 'Input': ['__levels__']},
        ],
    }
    made = apply_transformations(collection, spec)
    variables = dict(collection.variables)
    prefix = '__levels__.'
    for name, variable in made.variables.items():
        if name.startswith(prefix):
            new = f'{column}.{name[len(prefix) :]}'
            variables.setdefault(new, replace(variable, name=new))
    return collection.with_variables(variables)


def _wanted_columns(names: Iterable[str], collection: VariableCollection) -> set[str]:
    """Return the variables whose ``column.value`` indicators a name of ``X`` asks for."""
    wanted = set()
    for name in names:
        column, dot, _rest = name.partition('.')
        if dot and column in collection and name not in collection:
            variable = collection[column]
            if isinstance(variable, SparseVariable):
                wanted.add(column)
    return wanted


def _plain_conditions(collection: VariableCollection, names: Iterable[str]) -> VariableCollection:
    """Add ``trial_type`` values named in ``X`` as variables (their ``modulation`` kept)."""
    if _TRIAL_TYPE not in collection:
        return collection
    trial_type = collection[_TRIAL_TYPE]
    assert isinstance(trial_type, SparseVariable)
    texts = np.array([str(v) for v in trial_type.values], dtype=object)
    modulation = collection.variables.get('modulation')
    variables = dict(collection.variables)
    for name in names:
        if name in collection or _is_glob(name) or name == INTERCEPT:
            continue
        rows = texts == name
        if rows.any():
            values = modulation.values[rows] if isinstance(modulation, SparseVariable) else 1.0
            variables[name] = SparseVariable(
                name,
                trial_type.onset[rows],
                trial_type.duration[rows],
                np.broadcast_to(values, rows.sum()),
            )
    return collection.with_variables(variables)


def _resolve(
    patterns: Sequence[str], collection: VariableCollection
) -> tuple[list[str], dict[str, str], list[str]]:
    """Resolve ``X`` against the variables: names in order, the name map, absent conditions."""
    names = list(collection.names)
    resolved: list[str] = []
    columns: dict[str, str] = {INTERCEPT: 'constant'}
    absent: list[str] = []
    for pattern in patterns:
        if pattern == INTERCEPT:
            continue
        if _is_glob(pattern):
            found = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        elif pattern in collection:
            found = [pattern]
        else:
            found = [n for n in names if contrast_matches(pattern, n)][:1]
        if not found:
            _missing(pattern, collection, absent)
            continue
        columns.setdefault(pattern, found[0])
        resolved += [n for n in found if n not in resolved]
    return resolved, columns, absent


def _missing(pattern: str, collection: VariableCollection, absent: list[str]) -> None:
    """Note a condition without events here; refuse a name that is nothing."""
    column, dot, _value = pattern.partition('.')
    if (dot and column in collection) or (_TRIAL_TYPE in collection and not dot):
        absent.append(pattern)
        return
    msg = (
        f'Model.X names {pattern!r}, which is not a variable of this run: the variables '
        f'are {list(collection.names)[:40]}. Check the name, or make it with a transformation.'
    )
    raise InvalidParameterError(msg)


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(
        name == p or fnmatch.fnmatchcase(name, p) or contrast_matches(p, name) for p in patterns
    )


def _convolved(spec: DesignSpec, events: Sequence[str], others: Sequence[str]) -> list[str]:
    """Return the events variables to convolve; refuse one left unconvolved, or a dense one."""
    if spec.convolved is None:
        return list(events)
    dense = [n for n in others if _matches(n, spec.convolved)]
    if dense:
        msg = (
            f'HRF.Variables lists {dense}, which are sampled once per volume (confounds, '
            'Convolve outputs), not events: bidsglm convolves events only. Leave them out '
            'of HRF.Variables (they are used as they are), or Convolve them in the '
            'Transformations.'
        )
        raise InvalidParameterError(msg)
    chosen = [
        n
        for n in events
        if any(
            n == p or fnmatch.fnmatchcase(n, p) or contrast_matches(p, n) for p in spec.convolved
        )
    ]
    left = [n for n in events if n not in chosen]
    if left:
        msg = (
            f'Model.X names the events variables {left}, which HRF.Variables does not list: '
            'bidsglm would have to use them unconvolved (boxcars), which is rarely meant. '
            'List them in HRF.Variables, or Convolve them in the Transformations.'
        )
        raise InvalidParameterError(msg)
    return chosen


def _events_table(collection: VariableCollection, names: Sequence[str]) -> pd.DataFrame | None:
    """Return the events of the variables to convolve (missing values as 0, zeros dropped)."""
    if not names:
        return None
    filled = {}
    for name in names:
        variable = collection[name]
        assert isinstance(variable, SparseVariable)
        values = np.asarray(variable.values, dtype=np.float64)
        filled[name] = SparseVariable(
            name, variable.onset, variable.duration, np.nan_to_num(values)
        )
    events = to_events(collection.with_variables(filled), names)
    events = events[events['modulation'] != 0]
    return check_events(events) if len(events) else None


def _volumes(collection: VariableCollection, names: Sequence[str]) -> pd.DataFrame | None:
    """Return the columns used as they are; a missing first value becomes 0."""
    if not names:
        return None
    table = to_volumes(collection, names).reset_index(drop=True)
    table.iloc[0] = table.iloc[0].fillna(0.0)
    missing = table.columns[table.isna().any()].tolist()
    if missing:
        msg = (
            f'The design columns {missing} have missing values (after the first volume). '
            'Replace them with a transformation, or leave those columns out of X.'
        )
        raise InvalidParameterError(msg)
    return table


def _collection(
    events: pd.DataFrame | None,
    confounds: pd.DataFrame | None,
    timing: RunTiming,
    spec: DesignSpec,
) -> VariableCollection:
    """Return the run's variables after the node's transformations and implicit indicators."""
    collection = collection_from_run(timing, events, confounds)
    if spec.transformations is not None:
        collection = apply_transformations(collection, spec.transformations)
    names = [*spec.x, *(spec.convolved or ())]
    for column in sorted(_wanted_columns(names, collection)):
        collection = _factor_levels(collection, column)
    return _plain_conditions(collection, names)


def run_design(
    events: pd.DataFrame | None,
    confounds: pd.DataFrame | None,
    timing: RunTiming,
    spec: DesignSpec,
) -> RunDesign:
    """Build a run's design the way a node describes it (see the module docstring).

    Parameters
    ----------
    events : pandas.DataFrame or None
        The run's events (read by :func:`read_bids_tsv`).
    confounds : pandas.DataFrame or None
        The run's confounds, one row per volume.
    timing : RunTiming
        Volumes, repetition time and ``StartTime``.
    spec : DesignSpec
        The node's recipe.

    Returns
    -------
    RunDesign
        The design, and how each name of ``X`` was found.

    Raises
    ------
    InvalidParameterError
        For a name of ``X`` that is no variable, an events variable left
        unconvolved, or missing values in a design column.
    TransformationError
        For a transformation that cannot run on these variables.

    Examples
    --------
    >>> events = pd.DataFrame({'onset': [2.0, 10.0], 'duration': [2.0, 2.0],
    ...                        'trial_type': ['face', 'house']})
    >>> spec = DesignSpec(x=('trial_type.face', 'trial_type.house', '1'), hrf_model='spm')
    >>> made = run_design(events, None, RunTiming(60, 2.0), spec)
    >>> list(made.design.columns)
    ['trial_type.face', 'trial_type.house', 'drift_1', 'drift_2', 'constant']
    """
    collection = _collection(events, confounds, timing, spec)
    resolved, columns, absent = _resolve(spec.x, collection)
    events_names = [n for n in resolved if isinstance(collection[n], SparseVariable)]
    others = [n for n in resolved if n not in events_names]
    text = [n for n in events_names if collection[n].values.dtype == object]
    if text:
        msg = (
            f'Model.X names {text}, which hold text: name their values instead '
            f'({text[0]}.<value>), or Factor them.'
        )
        raise TransformationError(msg)
    slice_time_ref = timing.start_time / timing.repetition_time
    convolved = _convolved(spec, events_names, others)
    collection, modulated = add_modulations(collection, convolved, spec.modulations)
    volumes = _volumes(collection, others)
    design = make_first_level_design_matrix(
        (np.arange(timing.n_volumes) + slice_time_ref) * timing.repetition_time,
        events=_events_table(collection, [*convolved, *modulated]),
        hrf_model=spec.hrf_model,
        high_pass=spec.high_pass,
        fir_delays=list(spec.fir_delays),
        add_regs=None if volumes is None else volumes.to_numpy(dtype=np.float64),
        add_reg_names=None if volumes is None else list(volumes.columns),
    )
    present = set(design.columns)
    delays = {str(c).rsplit('_delay_', 1)[0] for c in design.columns if '_delay_' in str(c)}
    variables = tuple(n for n in resolved if n in present or n in delays)
    if spec.formula is not None:
        written = {c: n for n, c in columns.items() if n in spec.x and not _is_glob(n)}
        design, variables = _with_formula(design, spec.formula, variables, written)
        columns.update({name: name for name in variables})
    return RunDesign(
        design, columns, variables, tuple(n for n in convolved if n in variables), tuple(absent)
    )


def _with_formula(
    design: pd.DataFrame, formula: str, variables: Sequence[str], written: dict[str, str]
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Replace the columns of ``X``'s variables by the formula's columns over them.

    The formula names the variables as ``X`` writes them (``written``: a design
    column to its name in ``X``, for bidspm's short names).
    """
    table = design[list(variables)].rename(columns=written)
    terms = formula_columns(formula, table)
    terms = terms.drop(columns=[c for c in terms.columns if c == 'Intercept'])
    rest = design.drop(columns=list(variables))
    clash = sorted(set(terms.columns) & set(rest.columns))
    if clash:
        msg = f'The Formula makes the columns {clash}, which the design already has.'
        raise InvalidParameterError(msg)
    return pd.concat([terms, rest], axis=1), tuple(terms.columns)
