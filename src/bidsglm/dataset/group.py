"""The group level: each Dataset node's groups of saved maps, their designs and contrasts.

A Dataset node reads what its source node saved (:func:`saved_inputs`): one row
per subject's (or run's) contrast, with the entities of its files. Its edge's
``Filter`` and, at an intercept-only node, its ``DummyContrasts.Contrasts`` select
rows; ``participants.tsv`` adds one column per participant variable, and the
node's ``Transformations`` run on those (over the subjects it analyses). Rows are
then split by ``GroupBy``: ``contrast``, entities (``session``, ``run``...) and
``participants.tsv`` columns (``group``, ``sex``...).

Each group's design has one row per map and the columns ``X`` asks for
(:func:`group_design`): ``1`` (``intercept``); a numeric column as it is; a
text (categorical) column as one indicator per level, ``column.level`` (pybids'
naming, which bidspm's models write: ``group.patient``); ``column.level`` alone;
an incoming contrast's name, the indicator of its rows (a cell-means design over
contrasts); globs over these; or, with ``Formula``, formulaic's columns. A design
without ``1`` is a cell-means design; contrasts are checked estimable.

Names: a dummy contrast over ``1`` takes the incoming contrast's name when the
group holds one contrast (else ``intercept``); other contrasts keep their own.
Files are prefixed by the entities the inputs share and ``desc-`` the incoming
contrast's label and the group's other values (``desc-faceGroupPatient``), so
no two groups of a node share a file.
"""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bidsglm.bids.entities import parse_bids_name
from bidsglm.bids.labels import contrast_label
from bidsglm.bids.layout import plan_layout
from bidsglm.dataset.design import read_bids_tsv
from bidsglm.dataset.naming import check_contrast_names
from bidsglm.dataset.participant import NAMES_FROM_MODEL, passes_filter
from bidsglm.dataset.stats_models import INTERCEPT, Contrast, Edge, Node, contrast_matches
from bidsglm.dataset.stats_models._fields import is_entity
from bidsglm.dataset.stats_models._formula import formula_columns
from bidsglm.dataset.transformations import apply_transformations, collection_from_table, to_table
from bidsglm.design.contrasts import check_estimable, parse_contrast_expression
from bidsglm.errors import ContrastError, InputNotFoundError, InvalidParameterError
from bidsglm.models.surface import is_surface_input

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bidsglm.bids.reader import LoadedGlm, SavedMap

__all__ = ['GroupInput', 'GroupJob', 'group_design', 'plan_node', 'saved_inputs']

_INTERCEPT_COLUMN = 'intercept'
#: Entities of saved maps that say nothing about the input's place in the design.
_FILE_ENTITIES = frozenset({'contrast', 'stat', 'desc'})


@dataclass(frozen=True)
class GroupInput:
    """One saved contrast of one subject (or run): a row of a group design.

    Parameters
    ----------
    subject : str
        The subject.
    name : str
        The contrast's name (as its source node named it).
    entities : dict of str to str
        The entities of its files (``sub``, ``ses``, ``task``, ``run``, ``space``...).
    effect : pathlib.Path or dict of str to pathlib.Path
        Its effect map (a file per hemisphere for a GIFTI model).
    mask : pathlib.Path or dict of str to pathlib.Path or None
        The mask of the model it comes from.
    """

    subject: str
    name: str
    entities: Mapping[str, str]
    effect: SavedMap
    mask: SavedMap | None

    def entity(self, key: str) -> str | None:
        """Return an entity's label (``contrast`` is the name)."""
        return self.name if key == 'contrast' else self.entities.get(key)


@dataclass(frozen=True)
class GroupJob:
    """One group model to fit and save.

    Parameters
    ----------
    node : str
        The Dataset node.
    label : str
        What it is, for messages (``contrast-<label>``...).
    inputs : tuple of str or dict of str to str
        The effect maps, one per design row (a file per hemisphere for GIFTI maps).
    design : pandas.DataFrame
        The design.
    masks : tuple of pathlib.Path or dict of str to pathlib.Path
        The inputs' masks; the group mask is where all of them are.
    contrasts : tuple of (str, str)
        Name and expression over the design's columns.
    contrast_types : tuple of (str, str)
        Name and test.
    out_dir : pathlib.Path
        The derivative dataset it goes to.
    prefix : str
        The entities of every file name (``task-x_space-y_desc-<label>``).
    """

    node: str
    label: str
    inputs: tuple[str | dict[str, str], ...]
    design: pd.DataFrame = field(repr=False)
    masks: tuple[SavedMap, ...]
    contrasts: tuple[tuple[str, str], ...]
    contrast_types: tuple[tuple[str, str], ...]
    out_dir: Path
    prefix: str

    @property
    def name(self) -> str:
        """The job, in log lines."""
        return self.label

    @property
    def on_surface(self) -> bool:
        """Whether its maps are surface maps (GIFTI or CIFTI-2)."""
        return any(is_surface_input(path) for path in self.inputs)


# ----------------------------------------------------------------- inputs
def saved_inputs(saved: Sequence[LoadedGlm]) -> list[GroupInput]:
    """Return the t contrasts of saved models as group inputs.

    Raises
    ------
    InputNotFoundError
        If a contrast lacks its effect map, naming the missing file.
    """
    rows = []
    for glm in saved:
        entities = {
            k: v
            for k, v in parse_bids_name(glm.statmap).entities.items()
            if k not in _FILE_ENTITIES
        }
        subject = entities.get('sub', '')
        for contrast in glm.contrasts:
            if contrast.stat_type != 't':
                continue
            if 'effect' not in contrast.maps:
                some = _first_file(next(iter(contrast.maps.values())))
                stat = parse_bids_name(some).entities['stat']
                missing = some.with_name(some.name.replace(f'_stat-{stat}_', '_stat-effect_', 1))
                msg = (
                    f'The first-level results of sub-{subject} lack the effect map of the '
                    f'contrast {contrast.label!r}: {str(missing)!r} is missing. Fit '
                    f'sub-{subject} again (participant --participant-label {subject} '
                    '--overwrite, with the same options).'
                )
                raise InputNotFoundError(msg)
            rows.append(
                GroupInput(subject, contrast.name, entities, contrast.maps['effect'], glm.mask)
            )
    return rows


def _first_file(saved: SavedMap) -> Path:
    """Return the file of a map, or its first hemisphere's."""
    return saved if isinstance(saved, Path) else next(iter(saved.values()))


def _as_input(saved: SavedMap) -> str | dict[str, str]:
    """Return a map as the group model takes it: a path, or a path per hemisphere."""
    return {k: str(v) for k, v in saved.items()} if isinstance(saved, dict) else str(saved)


def _unique(maps: Sequence[SavedMap]) -> tuple[SavedMap, ...]:
    """Return the maps without repeats, in order (dicts of hemispheres compared by files)."""
    seen: dict[str, SavedMap] = {}
    for saved in maps:
        seen.setdefault(str(_as_input(saved)), saved)
    return tuple(seen.values())


def _cell(table: pd.DataFrame, subject: str, key: str) -> str | None:
    """Return a participant's value in a column, as text (None when missing)."""
    if key not in table.columns or subject not in table.index:
        return None
    cell: object = table.at[subject, key]
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return None
    return _text(cell)


def _value(row: GroupInput, table: pd.DataFrame, key: str) -> str | None:
    """Return an input's entity, or its subject's participants.tsv value."""
    label = row.entity(key)
    return _cell(table, row.subject, key) if label is None else label


def _received(
    node: Node, edge: Edge, inputs: Sequence[GroupInput], table: pd.DataFrame
) -> list[GroupInput]:
    """Return the inputs a node receives: through its edge's filter and its keep list."""
    received = [
        row
        for row in inputs
        if passes_filter(functools.partial(_value, row, table), row.name, edge.filter)
    ]
    keep = node.dummy.conditions if node.dummy is not None and node.model.intercept_only else None
    if keep is None or INTERCEPT in keep:
        return received
    return [row for row in received if any(contrast_matches(k, row.name) for k in keep)]


# ----------------------------------------------------------- participants
def read_participants(bids_dir: Path, subjects: Sequence[str]) -> pd.DataFrame:
    """Read ``participants.tsv``, indexed by subject label (without ``sub-``).

    Returns an empty table (indexed by the subjects) when there is no file.
    """
    path = bids_dir / 'participants.tsv'
    if not path.is_file():
        return pd.DataFrame(index=pd.Index(list(subjects), name='subject'))
    table = read_bids_tsv(path)
    if 'participant_id' not in table.columns:
        msg = f'{str(path)!r} has no participant_id column. Fix participants.tsv.'
        raise InvalidParameterError(msg)
    table.index = pd.Index(
        table.pop('participant_id').astype(str).str.removeprefix('sub-'), name='subject'
    )
    return table


def _transformed(node: Node, table: pd.DataFrame, subjects: Sequence[str]) -> pd.DataFrame:
    """Run the node's transformations on the participants it analyses."""
    rows = table.reindex(list(dict.fromkeys(subjects)))
    if node.transformations is None:
        return rows
    collection = apply_transformations(
        collection_from_table(rows.reset_index(drop=True)), node.transformations
    )
    result = to_table(collection)
    result.index = rows.index
    return result


# ----------------------------------------------------------------- designs
def _is_text(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(len(present)) and bool(pd.to_numeric(present, errors='coerce').isna().any())


def _levels(values: pd.Series) -> list[str]:
    return sorted({_text(v) for v in values.dropna()})


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _numbers(name: str, values: pd.Series, subjects: Sequence[str]) -> np.ndarray:
    numbers = pd.to_numeric(values, errors='coerce').to_numpy(dtype=np.float64)
    bad = [s for s, v in zip(subjects, numbers, strict=True) if not np.isfinite(v)]
    if bad:
        msg = (
            f'The variable {name!r} is missing or not a number for sub-{bad[0]} '
            f'({len(bad)} subject(s)). Fix participants.tsv, or leave {name!r} out of the model.'
        )
        raise InvalidParameterError(msg)
    return numbers


def _variable_columns(
    name: str, rows: pd.DataFrame, subjects: Sequence[str]
) -> dict[str, np.ndarray]:
    """Return the design columns of a name of ``X``: number, categorical, level, contrast."""
    if name in rows.columns and name != 'contrast':
        values = rows[name]
        if _is_text(values):
            return {
                f'{name}.{lv}': (values.map(_text) == lv).to_numpy(float) for lv in _levels(values)
            }
        return {name: _numbers(name, values, subjects)}
    column, dot, level = name.partition('.')
    if dot and column in rows.columns and column != 'contrast':
        return {
            name: (
                rows[column].map(lambda v: _text(v) if not pd.isna(v) else None) == level
            ).to_numpy(float)
        }
    matched = rows['contrast'].map(lambda c: contrast_matches(name, c)).to_numpy(bool)
    if matched.any():
        return {name: matched.astype(float)}
    known = [c for c in rows.columns if c != 'contrast']
    msg = (
        f'Model.X names {name!r}, which is no participants.tsv column (they are {known}), '
        f'no level of one (column.level) and no contrast this node receives '
        f'({sorted(set(rows["contrast"]))}).'
    )
    raise InvalidParameterError(msg)


def _names(patterns: Sequence[str], rows: pd.DataFrame) -> list[str]:
    """Expand the globs of ``X`` over the columns and contrast names."""
    available = [c for c in rows.columns if c != 'contrast'] + sorted(set(rows['contrast']))
    names: list[str] = []
    for pattern in patterns:
        if any(ch in pattern for ch in '*?['):
            names += [a for a in available if fnmatch.fnmatchcase(a, pattern) and a not in names]
        elif pattern not in names:
            names.append(pattern)
    return names


def group_design(node: Node, rows: pd.DataFrame) -> pd.DataFrame:
    """Return a group's design: one row per input, the columns ``X`` (or the Formula) asks for.

    Parameters
    ----------
    node : Node
        The Dataset node.
    rows : pandas.DataFrame
        One row per input: ``subject``, ``contrast`` and the participant variables.

    Returns
    -------
    pandas.DataFrame
        The design (``intercept`` for ``1``).

    Raises
    ------
    InvalidParameterError
        For a name that is no variable, or a variable missing for some subject.

    Examples
    --------
    >>> from bidsglm.dataset.stats_models import Node, NodeModel
    >>> node = Node('Dataset', 'd', ('contrast',), NodeModel('glm', ('group',)))
    >>> rows = pd.DataFrame({'subject': ['1', '2', '3'], 'contrast': 'face',
    ...                      'group': ['a', 'b', 'a']})
    >>> group_design(node, rows).to_dict('list')
    {'group.a': [1.0, 0.0, 1.0], 'group.b': [0.0, 1.0, 0.0]}
    """
    subjects = list(rows['subject'])
    if node.model.formula is not None:
        names = [n for n in _names(node.model.x, rows) if n != INTERCEPT]
        table = pd.DataFrame({n: rows[n] for n in names if n in rows.columns}, index=rows.index)
        return formula_columns(node.model.formula, table).reset_index(drop=True)
    columns: dict[str, np.ndarray] = {}
    for name in _names(node.model.x, rows):
        if name == INTERCEPT:
            columns[_INTERCEPT_COLUMN] = np.ones(len(rows))
        else:
            columns.update(_variable_columns(name, rows.drop(columns='subject'), subjects))
    return pd.DataFrame(columns)


def _intercept(design: pd.DataFrame) -> str:
    return 'Intercept' if 'Intercept' in design.columns else _INTERCEPT_COLUMN


def _node_contrasts(node: Node, design: pd.DataFrame, incoming: str | None) -> list[Contrast]:
    """Return the node's contrasts over a design: dummies over its columns, then the others."""
    intercept = _intercept(design)
    contrasts = []
    if node.dummy is not None:
        given = None if node.model.intercept_only else node.dummy.conditions
        names = given if given is not None else [str(c) for c in design.columns]
        for name in names:
            column = intercept if name in (INTERCEPT, intercept) else name
            label = (incoming or 'intercept') if column == intercept else name
            contrasts.append(Contrast(label, (column,), ((1.0,),), node.dummy.test))
    explicit = [
        Contrast(
            c.name,
            tuple(intercept if n == INTERCEPT else n for n in c.conditions),
            c.weights,
            c.test,
        )
        for c in node.contrasts
    ]
    own = {c.name for c in explicit}
    return [c for c in contrasts if c.name not in own] + explicit


def _checked(
    contrasts: Sequence[Contrast], design: pd.DataFrame, where: str
) -> list[tuple[str, str]]:
    """Parse each contrast over the design; refuse unknown columns and inestimable ones."""
    columns = [str(c) for c in design.columns]
    matrix = design.to_numpy(dtype=np.float64)
    made = []
    for contrast in contrasts:
        missing = [c for c in contrast.conditions if c not in columns]
        if missing:
            msg = (
                f'{where}: the contrast {contrast.name!r} weights {missing}, which the design '
                f'does not have; its columns are {columns}.'
            )
            raise ContrastError(msg)
        expression = contrast.expression(columns={c: c for c in contrast.conditions})
        weights = parse_contrast_expression(expression, columns)
        check_estimable(np.atleast_2d(weights), matrix, columns, contrast.name)
        made.append((contrast.name, expression))
    return made


def _desc(incoming: str | None, extra: Mapping[str, str | None]) -> str:
    """``desc-`` of a group's files: the incoming contrast's label, then ``<key><Value>``."""
    parts = [contrast_label(incoming)] if incoming else []
    parts += [f'{key} {value}' for key, value in extra.items() if value is not None]
    return contrast_label(' '.join(parts)) if parts else ''


def _prefix(inputs: Sequence[GroupInput], desc: str) -> str:
    entities = [dict(row.entities) for row in inputs]
    shared = {
        k: v
        for k, v in entities[0].items()
        if k not in ('sub', 'ses', 'run') and all(e.get(k) == v for e in entities[1:])
    }
    base = plan_layout('second', [], '_'.join(f'{k}-{v}' for k, v in shared.items()) or '').common
    parts = [f'{k}-{v}' for k, v in base.items()]
    if desc:
        parts.append(f'desc-{desc}')
    return '_'.join(parts)


@dataclass(frozen=True)
class _Group:
    key: Mapping[str, str | None]
    inputs: tuple[GroupInput, ...]


def _groups(node: Node, inputs: Sequence[GroupInput], table: pd.DataFrame) -> list[_Group]:
    keys = list(node.group_by)
    unknown = [k for k in keys if k != 'contrast' and not is_entity(k) and k not in table.columns]
    if unknown:
        msg = (
            f'Node {node.name!r} groups by {unknown}, which is neither an entity nor a column '
            f'of participants.tsv (its columns are {list(table.columns)}).'
        )
        raise InvalidParameterError(msg)
    groups: dict[tuple[str | None, ...], list[GroupInput]] = {}
    for row in inputs:
        values = tuple(_value(row, table, key) for key in keys)
        groups.setdefault(values, []).append(row)
    return [_Group(dict(zip(keys, key, strict=True)), tuple(rows)) for key, rows in groups.items()]


def _rows(group: _Group, table: pd.DataFrame) -> pd.DataFrame:
    subjects = [row.subject for row in group.inputs]
    rows = table.reindex(subjects).reset_index(drop=True)
    rows.insert(0, 'contrast', [row.name for row in group.inputs])
    rows.insert(0, 'subject', subjects)
    return rows


def _group_job(
    node: Node, group: _Group, table: pd.DataFrame, out_dir: Path, names_from: str
) -> GroupJob:
    names = sorted({row.name for row in group.inputs})
    incoming = names[0] if len(names) == 1 else None
    extra = {k: v for k, v in group.key.items() if k != 'contrast'}
    desc = _desc(incoming, extra)
    where = f'Node {node.name!r}' + (f', group {dict(group.key)}' if group.key else '')
    if len(group.inputs) < 2:
        shown = ', '.join(map(repr, names))
        msg = (
            f'{where}: a group model needs at least 2 input maps, but only '
            f'sub-{group.inputs[0].subject} saved the contrast {shown}. Run the '
            'participant level for more subjects into this OUTPUT_DIR first.'
        )
        raise InvalidParameterError(msg)
    design = group_design(node, _rows(group, table))
    rank = int(np.linalg.matrix_rank(design.to_numpy(dtype=np.float64))) if design.size else 0
    if len(design) <= rank:
        msg = (
            f'{where}: {len(design)} maps for a design of rank {rank} ({list(design.columns)}) '
            'leave no degrees of freedom. Add subjects, or model fewer columns.'
        )
        raise InvalidParameterError(msg)
    contrasts = _node_contrasts(node, design, incoming)
    made = _checked(contrasts, design, where)
    prefix = _prefix(group.inputs, desc)
    check_contrast_names([n for n, _ in made], plan_layout('second', [], prefix), 1, names_from)
    masks = _unique([row.mask for row in group.inputs if row.mask is not None])
    what = f'contrast-{contrast_label(incoming)}' if incoming else 'all contrasts'
    extras = ''.join(f', {k} {v}' for k, v in extra.items())
    label = f'{node.name}: {what}{extras}'
    return GroupJob(
        node=node.name,
        label=label,
        inputs=tuple(_as_input(row.effect) for row in group.inputs),
        design=design,
        masks=masks,
        contrasts=tuple(made),
        contrast_types=tuple((c.name, c.stat_type) for c in contrasts),
        out_dir=out_dir,
        prefix=prefix,
    )


def plan_node(
    node: Node,
    edge: Edge,
    inputs: Sequence[GroupInput],
    participants: pd.DataFrame,
    out_dir: Path,
    names_from: str = NAMES_FROM_MODEL,
) -> list[GroupJob]:
    """Plan a Dataset node: one job per group of the inputs it receives.

    Parameters
    ----------
    node : Node
        The Dataset node.
    edge : Edge
        The edge into it.
    inputs : sequence of GroupInput
        What its source node saved.
    participants : pandas.DataFrame
        ``participants.tsv``, indexed by subject label.
    out_dir : pathlib.Path
        Where its results go.
    names_from : str, optional
        Where the contrast names come from, and how to change them (for messages).

    Returns
    -------
    list of GroupJob
        One per group.

    Raises
    ------
    BidsGlmError
        For a missing variable, a group of fewer than 2 maps or without degrees of
        freedom, a contrast that cannot be estimated, or a name that cannot be saved.
    """
    received = _received(node, edge, inputs, participants)
    if not received:
        msg = (
            f'Node {node.name!r} receives no saved map: run the participant level first, or '
            'check its edge Filter.'
        )
        raise InputNotFoundError(msg)
    table = _transformed(node, participants, [row.subject for row in received])
    groups = _groups(node, received, table)
    return [_group_job(node, group, table, out_dir, names_from) for group in groups]
