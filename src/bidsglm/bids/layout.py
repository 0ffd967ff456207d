"""Where each file of a saved model goes, and the entities of its name.

Three sources of entities, in this order of precedence:

1. ``prefix`` given and made of BIDS entities (``'sub-01_task-x'``): those entities.
   A free-form prefix (``'myprefix'``) is put in front of every name as it is.
   ``prefix=''`` means no entity at all.
2. ``prefix=None``: entities inferred from the input files' BIDS names. First level:
   each run keeps its own entities (minus ``desc``), and the model-level and contrast
   files keep the entities common to all runs. Second level: the entities common to
   all input maps, minus those of one subject or one map (``sub``, ``ses``, ``run``,
   ``contrast``, ``stat``, ``desc``); when every input map is of one first-level
   contrast (``contrast-aMinusB``), its label becomes the ``desc`` of the group
   files (``task-x_desc-aMinusB_contrast-intercept_stat-t_statmap.nii.gz``), so the
   group analyses of several first-level contrasts never overwrite each other, and
   root-level group sidecars are not inherited by the subjects' files. Entities with
   invalid labels are skipped.
3. No file name known: nothing, and the model's ``subject_label`` (first level) if set.

Runs are told apart by ``run-<i>`` (1-based) whenever their own entities do not
already do it. Each file's folder follows from its own entities:
``sub-<s>/[ses-<s>/]func/`` when it has a subject, the top of the output folder
otherwise; the model-level ``statmap.json`` sits one folder above the maps, in
``sub-<s>/[ses-<s>/]``, where BIDS inheritance applies it to every map below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from bidsglm.bids.entities import (
    ENTITY_ORDER,
    check_name_length,
    format_bids_name,
    normalize_prefix,
    parse_bids_entities,
    validate_label,
)
from bidsglm.errors import BidsNameError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ['Layout', 'check_output_names', 'plan_layout']

#: Entities the writer adds itself, never taken from inputs or a prefix.
_WRITER_ENTITIES = frozenset({'contrast', 'stat'})
#: Entities dropped when inferring names from inputs, per model level: ``hemi`` is
#: that of the first hemisphere's file; the writer names each GIFTI file's own.
_DROPPED = {
    'first': frozenset({'desc', 'hemi'}) | _WRITER_ENTITIES,
    'second': frozenset({'sub', 'ses', 'run', 'desc', 'hemi'}) | _WRITER_ENTITIES,
}


@dataclass(frozen=True)
class Layout:
    """The names of one saved model.

    Parameters
    ----------
    prefix : str
        Free-form text put in front of every name (``''`` or ending in ``_``).
    common : dict of str to str
        Entities of the model-level and contrast files.
    runs : tuple of dict of str to str
        Entities of the files of each design (run).

    Examples
    --------
    >>> layout = plan_layout('first', ['sub-01_task-x_run-1_bold.nii.gz',
    ...                                'sub-01_task-x_run-2_bold.nii.gz'], None)
    >>> str(layout.run_path(1, {}, 'design', '.tsv'))
    'sub-01/func/sub-01_task-x_run-2_design.tsv'
    >>> str(layout.statmap_path())
    'sub-01/sub-01_task-x_statmap.json'
    """

    prefix: str
    common: dict[str, str]
    runs: tuple[dict[str, str], ...]

    def path(self, entities: Mapping[str, str], suffix: str, extension: str) -> PurePosixPath:
        """Return the relative path of a file with these entities."""
        return _folder(entities) / format_bids_name(entities, suffix, extension, self.prefix)

    def model_path(self, extra: Mapping[str, str], suffix: str, extension: str) -> PurePosixPath:
        """Return the path of a model-level or contrast file."""
        return self.path({**self.common, **extra}, suffix, extension)

    def run_path(
        self, index: int, extra: Mapping[str, str], suffix: str, extension: str
    ) -> PurePosixPath:
        """Return the path of a file of design ``index`` (0-based)."""
        return self.path({**self.runs[index], **extra}, suffix, extension)

    def statmap_path(self) -> PurePosixPath:
        """Return the path of the model-level ``statmap.json``."""
        folder = _folder(self.common)
        above = folder.parent if 'sub' in self.common else folder
        return above / format_bids_name(self.common, 'statmap', '.json', self.prefix)


def _folder(entities: Mapping[str, str]) -> PurePosixPath:
    """Return ``sub-<s>/[ses-<s>/]func`` for a file with a subject, else the top folder."""
    if 'sub' not in entities:
        return PurePosixPath()
    folder = PurePosixPath(f'sub-{entities["sub"]}')
    if 'ses' in entities:
        folder /= f'ses-{entities["ses"]}'
    return folder / 'func'


def _input_entities(source: str, dropped: frozenset[str]) -> dict[str, str]:
    """Return the usable entities of an input file name: known keys, valid labels."""
    entities = {}
    for key, value in parse_bids_entities(source).items():
        if key in ENTITY_ORDER and key not in dropped:
            try:
                entities[key] = validate_label(value, key)
            except BidsNameError:
                continue
    return entities


def _common(dicts: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """Return the entities equal in every dict."""
    return {k: v for k, v in dicts[0].items() if all(d.get(k) == v for d in dicts[1:])}


def _numbered(common: Mapping[str, str], n_designs: int) -> tuple[dict[str, str], ...]:
    """Give each design the common entities, plus ``run-<i>`` when there are several."""
    if n_designs == 1:
        return (dict(common),)
    return tuple({**common, 'run': str(index + 1)} for index in range(n_designs))


def _subject(subject_label: object) -> dict[str, str]:
    """Return the ``sub`` entity from a model's ``subject_label``, if it has one."""
    if subject_label is None:
        return {}
    label = str(subject_label).removeprefix('sub-')
    try:
        return {'sub': validate_label(label, 'sub')}
    except BidsNameError:
        msg = (
            f"The model's subject_label {subject_label!r} cannot be a BIDS label (ASCII "
            "letters and digits). Change it, or pass prefix='sub-<label>'."
        )
        raise BidsNameError(msg) from None


def _first_level_contrast(sources: Sequence[str]) -> dict[str, str]:
    """Return ``{'desc': label}`` when every input map is of one first-level contrast."""
    labels = {parse_bids_entities(source).get('contrast') for source in sources}
    label = labels.pop() if len(labels) == 1 else None
    if label is None:
        return {}
    try:
        return {'desc': validate_label(label, 'desc')}
    except BidsNameError:
        return {}


def _inferred(
    level: str,
    n_designs: int,
    sources: Sequence[str | None],
    subject_label: object,
    first_level_label: str | None,
) -> Layout:
    """Entities from the inputs' file names (and the subject label)."""
    known = all(isinstance(source, str) for source in sources) and bool(sources)
    per_input = [_input_entities(s, _DROPPED[level]) for s in sources if s] if known else []
    common = _common(per_input) if per_input else {}
    if level == 'second' and per_input:
        common.update(_first_level_contrast([s for s in sources if s]))
    if level == 'second' and first_level_label is not None:
        common['desc'] = first_level_label
    subject = {} if 'sub' in common or level == 'second' else _subject(subject_label)
    distinct = len({tuple(sorted(e.items())) for e in per_input}) == len(per_input)
    if level == 'first' and per_input and all(per_input) and distinct:
        return Layout('', {**subject, **common}, tuple({**subject, **e} for e in per_input))
    common = {**subject, **common}
    return Layout('', common, _numbered(common, n_designs))


def _prefix_entities(prefix: str) -> dict[str, str] | None:
    """Return the entities of a prefix made only of BIDS entities, else None."""
    tokens = prefix.rstrip('_').split('_')
    entities: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition('-')
        if not sep or key not in ENTITY_ORDER or key in entities:
            return None
        try:
            entities[key] = validate_label(value, key)
        except BidsNameError:
            return None
    return entities


def _from_prefix(prefix: object, n_designs: int) -> Layout:
    """Names from an explicit prefix: BIDS entities, or free-form text."""
    if not isinstance(prefix, str):
        msg = (
            "The 'prefix' parameter of save_glm_to_bids must be a string or None. "
            f'Got {type(prefix).__name__} {prefix!r} instead.'
        )
        raise InvalidParameterError(msg)
    entities = _prefix_entities(prefix) if prefix else {}
    if entities is None:
        return Layout(normalize_prefix(prefix), {}, _numbered({}, n_designs))
    clash = sorted(_WRITER_ENTITIES.intersection(entities))
    if n_designs > 1 and 'run' in entities:
        clash.append('run')
    if clash:
        msg = (
            f'The prefix {prefix!r} sets {clash}, which the writer sets itself for each '
            'file. Remove them from the prefix.'
        )
        raise BidsNameError(msg)
    return Layout('', entities, _numbered(entities, n_designs))


def plan_layout(
    level: str,
    sources: Sequence[str | None],
    prefix: str | None,
    *,
    n_designs: int | None = None,
    subject_label: object = None,
    first_level_label: str | None = None,
) -> Layout:
    """Decide the entities of every file of a saved model.

    Parameters
    ----------
    level : {'first', 'second'}
        The model level.
    sources : sequence of str or None
        The input files: one per run (first level) or per input map (second level).
    prefix : str or None
        ``None`` infers entities from ``sources``; a string sets them (see the module
        docstring); ``''`` means none.
    n_designs : int, optional
        The number of designs; by default one per source at the first level and one
        at the second.
    subject_label : str, optional
        The model's subject, used at the first level when inference finds none.
    first_level_label : str, optional
        At the second level, the label of the first-level contrast whose maps the
        model tests, inferred as ``desc``.

    Returns
    -------
    Layout
        The prefix and entities of every file.

    Raises
    ------
    BidsNameError
        If the prefix cannot name files safely, or sets entities the writer sets.
    InvalidParameterError
        If ``prefix`` is neither a string nor None.

    Examples
    --------
    >>> plan_layout('second', ['a.nii', 'b.nii'], 'task-x').common
    {'task': 'x'}
    >>> plan_layout('first', [None, None], None).runs
    ({'run': '1'}, {'run': '2'})
    >>> plan_layout('second', ['sub-01_task-x_bold.nii', 'sub-02_task-x_bold.nii'], None,
    ...             first_level_label='aMinusB').common
    {'task': 'x', 'desc': 'aMinusB'}
    """
    count = n_designs if n_designs is not None else (len(sources) if level == 'first' else 1)
    if prefix is None:
        return _inferred(level, count, sources, subject_label, first_level_label)
    return _from_prefix(prefix, count)


def check_output_names(paths: Iterable[str | PurePosixPath]) -> None:
    """Refuse, before anything is written, any planned file whose name is too long.

    A file name over 255 bytes cannot be created on common file systems; the
    writer and the command line's planning call this on every name they plan.

    Parameters
    ----------
    paths : iterable of str or PurePosixPath
        Planned paths, relative to the output folder; only each last part is checked.

    Raises
    ------
    BidsNameError
        For the longest name when it is over 255 bytes, naming the contrast label or
        the prefix that makes it too long (see
        :func:`bidsglm.bids.entities.check_name_length`); a label shortened as the
        message says fits every name.

    Examples
    --------
    >>> check_output_names(['sub-01/func/sub-01_contrast-a_stat-t_statmap.nii.gz'])
    >>> check_output_names([f'contrast-{"x" * 250}_stat-z_statmap.nii.gz'])
    Traceback (most recent call last):
    ...
    bidsglm.errors.BidsNameError: The file name 'contrast-xxx...' would be 281 bytes long, ...
    """
    names = [PurePosixPath(path).name for path in paths]
    if names:
        check_name_length(max(names, key=lambda name: len(name.encode())))
