"""Find a dataset's inputs: preprocessed BOLD, masks, confounds, events and timing.

A small walker of our own, not pybids or bids2table: it lists a dataset once with
:func:`os.scandir` (skipping ``derivatives``, ``sourcedata``, ``code`` and hidden
folders), parses every name with :func:`bidsglm.bids.entities.parse_bids_name`, and
answers the few questions a GLM needs. It indexes a 100-subject dataset (raw and
fMRIPrep derivatives, about 7,000 files) in about a tenth of a second, adds no
dependency, and keeps entities BIDS does not know yet (``contrast``, ``stat``), so
the same code reads our own outputs back.

BIDS inheritance is explicit (:meth:`BidsIndex.applicable`): a file such as a JSON
sidecar or an events table applies to a data file when it sits in the data file's
folder or one of its parents up to the dataset's root, has the same suffix and
extension, and its entities are a subset of the data file's. Applicable sidecars
are merged from the root down, the most specific last, so it wins.

What :func:`discover_runs` takes from where:

============================  ==================================================
what                          where
============================  ==================================================
BOLD                          derivatives, ``*_space-<s>_desc-preproc_bold.nii[.gz]``
surface BOLD                  derivatives, a ``hemi-L``/``hemi-R`` pair of
                              ``*_space-<s>_bold.func.gii`` (one run), or
                              ``*_space-<s>_den-<d>_bold.dtseries.nii``
mask                          derivatives, same entities, ``desc-brain_mask``
                              (none for surface runs: the data's own mask)
confounds                     derivatives, ``desc-confounds_timeseries.tsv``
                              (or the older ``desc-confounds_regressors.tsv``)
events                        the raw dataset, ``*_events.tsv``, by inheritance
``RepetitionTime``            derivative sidecars, then raw sidecars, then the
                              NIfTI header (the CIFTI-2 series step, the GIFTI
                              ``TimeStep``)
``StartTime``                 derivative sidecars (fMRIPrep records the slice
                              timing reference there); 0 when absent
============================  ==================================================
"""

from __future__ import annotations

import csv
import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from bidsglm.bids.entities import parse_bids_name
from bidsglm.errors import InputNotFoundError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

__all__ = [
    'BidsFile',
    'BidsIndex',
    'OptionNames',
    'Query',
    'RunInputs',
    'close_matches',
    'discover_runs',
    'find_fmriprep',
    'index_dataset',
    'read_tsv_column',
    'read_tsv_header',
    'run_kind',
]

#: Folders at the top of a dataset that hold no data of the dataset itself.
SKIPPED_FOLDERS = frozenset({'derivatives', 'sourcedata', 'code', 'stimuli'})
#: Entities whose labels are numbers: ``run-01`` and ``run-1`` are the same run.
_INDEX_ENTITIES = frozenset({'run', 'echo'})
#: Entities of a derivative that the raw file it comes from does not have.
_DERIVED_ENTITIES = frozenset({'space', 'res', 'den', 'desc', 'hemi'})
_NIFTI = ('.nii.gz', '.nii')
_GIFTI = '.func.gii'
_CIFTI = '.dtseries.nii'
#: The GIFTI ``hemi`` labels and the parts of a surface run they stand for.
_HEMISPHERES = {'L': 'left', 'R': 'right'}
_CONFOUND_SUFFIXES = ('timeseries', 'regressors')
_TIME_UNITS = {'sec': 1.0, 'msec': 1e-3, 'usec': 1e-6}


@dataclass(frozen=True)
class BidsFile:
    """One file of a dataset.

    Parameters
    ----------
    path : pathlib.Path
        Where it is.
    folder : pathlib.PurePosixPath
        Its folder, relative to the dataset's root (``sub-01/func``).
    entities : dict of str to str
        Its ``key-label`` pairs.
    suffix : str
        Its suffix (``bold``, ``events``...).
    extension : str
        Its extension (``.nii.gz``...).
    """

    path: Path
    folder: PurePosixPath
    entities: dict[str, str]
    suffix: str
    extension: str

    def has(self, **entities: str | None) -> bool:
        """Tell whether the file has these entity labels (None: must not have it)."""
        return all(_same_label(key, self.entities.get(key), v) for key, v in entities.items())


def _same_label(key: str, mine: str | None, wanted: str | None) -> bool:
    """Compare labels, numerically for index entities (``run-01`` is ``run-1``)."""
    if mine is None or wanted is None:
        return mine is wanted
    if key in _INDEX_ENTITIES and mine.isdigit() and wanted.isdigit():
        return int(mine) == int(wanted)
    return mine == wanted


def _walk(folder: Path, relative: PurePosixPath, top: bool) -> Iterator[BidsFile]:
    """Yield the files below ``folder``, skipping hidden and non-data folders."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith('.'):
                continue
            if entry.is_dir():
                if not (top and entry.name in SKIPPED_FOLDERS):
                    yield from _walk(Path(entry.path), relative / entry.name, top=False)
                continue
            name = parse_bids_name(entry.name)
            yield BidsFile(Path(entry.path), relative, name.entities, name.suffix, name.extension)


class BidsIndex:
    """The files of one dataset, with BIDS inheritance lookups.

    Parameters
    ----------
    root : pathlib.Path
        The dataset's folder.
    files : sequence of BidsFile
        Its files.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / 'sub-01' / 'func').mkdir(parents=True)
    >>> _ = (root / 'task-x_bold.json').write_text('{"RepetitionTime": 2.0}')
    >>> _ = (root / 'sub-01/func/sub-01_task-x_bold.json').write_text('{"TaskName": "x"}')
    >>> _ = (root / 'sub-01/func/sub-01_task-x_bold.nii.gz').write_bytes(b'')
    >>> index = index_dataset(root)
    >>> bold = index.select(suffix='bold', extension='.nii.gz')[0]
    >>> index.metadata(bold)
    {'RepetitionTime': 2.0, 'TaskName': 'x'}
    """

    def __init__(self, root: Path, files: Sequence[BidsFile]) -> None:
        self.root = root
        self.files = tuple(files)
        self._by_place: dict[tuple[PurePosixPath, str, str], list[BidsFile]] = {}
        for file in self.files:
            self._by_place.setdefault((file.folder, file.suffix, file.extension), []).append(file)
        self._json: dict[Path, dict[str, Any]] = {}

    def select(
        self,
        *,
        suffix: str,
        extension: str | Sequence[str],
        **entities: str | None,
    ) -> list[BidsFile]:
        """Return the files with this suffix, one of these extensions and these entities."""
        extensions = (extension,) if isinstance(extension, str) else tuple(extension)
        return [
            f
            for f in self.files
            if f.suffix == suffix and f.extension in extensions and f.has(**entities)
        ]

    def applicable(
        self,
        entities: Mapping[str, str],
        folder: PurePosixPath,
        suffix: str,
        extension: str,
    ) -> list[BidsFile]:
        """Return the files that apply, by inheritance, to a file of these entities.

        Parameters
        ----------
        entities : mapping of str to str
            The entities of the data file.
        folder : pathlib.PurePosixPath
            The data file's folder relative to the root; its parents are searched too.
        suffix, extension : str
            Those of the files wanted (``'bold'``, ``'.json'``).

        Returns
        -------
        list of BidsFile
            The root's first, the most specific last.
        """
        found = []
        for level in [*reversed(folder.parents), folder]:
            here = self._by_place.get((level, suffix, extension), [])
            fits = [f for f in here if _is_subset(f.entities, entities)]
            found += sorted(fits, key=lambda f: len(f.entities))
        return found

    def exact(
        self, folder: PurePosixPath, suffix: str, entities: Mapping[str, str]
    ) -> BidsFile | None:
        """Return the file of ``folder`` with exactly these entities and suffix, if any."""
        for extension in (*_NIFTI, '.tsv'):
            for file in self._by_place.get((folder, suffix, extension), []):
                if file.entities == entities:
                    return file
        return None

    def read_json(self, path: Path) -> dict[str, Any]:
        """Read a JSON object, once."""
        if path not in self._json:
            try:
                content = json.loads(path.read_text(encoding='utf-8'))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                msg = f'Cannot read the sidecar {str(path)!r}: {error}. Fix or remove it.'
                raise InvalidParameterError(msg) from error
            self._json[path] = content if isinstance(content, dict) else {}
        return self._json[path]

    def metadata(
        self, file: BidsFile, entities: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Return the merged JSON sidecars that apply to ``file`` (BIDS inheritance).

        ``entities`` replaces the file's own, to find the sidecars of the raw file a
        derivative comes from.
        """
        merged: dict[str, Any] = {}
        keys = file.entities if entities is None else entities
        for sidecar in self.applicable(keys, file.folder, file.suffix, '.json'):
            merged.update(self.read_json(sidecar.path))
        return merged


def _is_subset(candidate: Mapping[str, str], entities: Mapping[str, str]) -> bool:
    """Tell whether every entity of ``candidate`` is in ``entities`` with the same label."""
    return all(
        key in entities and _same_label(key, entities[key], value)
        for key, value in candidate.items()
    )


def index_dataset(root: str | os.PathLike[str]) -> BidsIndex:
    r"""List every file of a BIDS dataset, with its entities.

    Parameters
    ----------
    root : path-like
        The dataset's folder.

    Returns
    -------
    BidsIndex
        The files, and lookups over them.

    Raises
    ------
    InputNotFoundError
        If ``root`` is not a folder.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / 'sub-01' / 'func').mkdir(parents=True)
    >>> _ = (root / 'sub-01/func/sub-01_task-x_run-1_events.tsv').write_text('onset\n')
    >>> [f.entities for f in index_dataset(root).files]
    [{'sub': '01', 'task': 'x', 'run': '1'}]
    """
    path = Path(root)
    if not path.is_dir():
        msg = f'The dataset folder {str(path)!r} does not exist. Check the path.'
        raise InputNotFoundError(msg)
    return BidsIndex(path, list(_walk(path, PurePosixPath(), top=True)))


def find_fmriprep(bids_dir: str | os.PathLike[str]) -> Path:
    """Return the fMRIPrep folder under ``bids_dir/derivatives``.

    Parameters
    ----------
    bids_dir : path-like
        The raw dataset.

    Returns
    -------
    pathlib.Path
        ``derivatives/fmriprep`` if it exists, else the only ``derivatives/fmriprep*``.

    Raises
    ------
    InputNotFoundError
        If there is none, or several to choose from.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / 'derivatives' / 'fmriprep-24.1').mkdir(parents=True)
    >>> find_fmriprep(root).name
    'fmriprep-24.1'
    """
    folder = Path(bids_dir) / 'derivatives'
    if (folder / 'fmriprep').is_dir():
        return folder / 'fmriprep'
    found = sorted(p for p in folder.glob('fmriprep*') if p.is_dir()) if folder.is_dir() else []
    if len(found) == 1:
        return found[0]
    if found:
        names = [p.name for p in found]
        msg = f'Several fMRIPrep folders in {str(folder)!r}: {names}. Choose with --derivatives.'
    else:
        msg = (
            f'No fMRIPrep derivatives found in {str(folder)!r}. Give the folder of the '
            'preprocessed data with --derivatives PATH.'
        )
    raise InputNotFoundError(msg)


def close_matches(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'a', 'b'?)"`` for close choices, or ``''``.

    Examples
    --------
    >>> close_matches('trans_X', ['trans_x', 'rot_x'])
    " (did you mean 'trans_x'?)"
    """
    options = list(choices)
    same_letters = [c for c in options if c.lower() == word.lower()]
    found = same_letters or difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    return f' (did you mean {", ".join(map(repr, found))}?)' if found else ''


def read_tsv_header(path: Path) -> list[str]:
    r"""Return the column names of a TSV file (its first line only).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / 'c.tsv'
    >>> _ = path.write_text('trans_x\ttrans_y\n0\t1\n')
    >>> read_tsv_header(path)
    ['trans_x', 'trans_y']

    Raises
    ------
    InvalidParameterError
        If the file has no row of column names (it is empty).
    """
    with path.open(encoding='utf-8', newline='') as stream:
        header = next(csv.reader(stream, delimiter='\t'), [])
    if not any(header):
        msg = f'The table {str(path)!r} is empty: a BIDS table starts with a row of column names.'
        raise InvalidParameterError(msg)
    return header


def read_tsv_column(path: Path, column: str) -> list[str]:
    r"""Return the values of one column of a TSV file (empty if it has no such column).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / 'e.tsv'
    >>> _ = path.write_text('onset\ttrial_type\n0\tgo\n5\tstop\n')
    >>> read_tsv_column(path, 'trial_type')
    ['go', 'stop']
    """
    with path.open(encoding='utf-8', newline='') as stream:
        return [row[column] for row in csv.DictReader(stream, delimiter='\t') if column in row]


# ---------------------------------------------------------------------- runs
@dataclass(frozen=True)
class OptionNames:
    """How the caller spells the choices an error message tells the user to change.

    The command line's flags by default; :func:`bidsglm.first_level_from_bids` gives
    its parameters' names, so each message names the way out in the caller's terms.

    Parameters
    ----------
    task, space, subjects, derivatives : str
        The names of the task, space, subjects and derivatives-folder choices.
    resolution : str
        How to choose a space with a resolution, with ``{space}`` and ``{res}``
        to fill in.

    Examples
    --------
    >>> OptionNames().resolution.format(space='MNI152NLin6Asym', res='2')
    '--space MNI152NLin6Asym:res-2'
    """

    task: str = '--task'
    space: str = '--space'
    subjects: str = '--participant-label'
    derivatives: str = '--derivatives'
    resolution: str = '--space {space}:res-{res}'

    def space_example(self, space: str, res: str) -> str:
        """Return how to choose ``space`` at resolution ``res``."""
        return self.resolution.format(space=space, res=res)


@dataclass(frozen=True)
class Query:
    """What to look for.

    Parameters
    ----------
    task : str, optional
        The task; needed when the dataset has several.
    space : str, optional
        The output space, optionally with a resolution (``'MNI152NLin6Asym:res-2'``);
        needed when there are several.
    subjects : tuple of str, optional
        Subject labels (without ``sub-``); all when None.
    excluded : tuple of str
        Subject labels left out (those without data are ignored).
    filters : dict of str to tuple of str
        Other entities the BOLD files must have (``{'ses': ('1',)}``); ``''``
        means the entity is absent (``{'acq': ('',)}``).
    tasks : tuple of str, optional
        Several tasks to model together (a model's ``Input``); overrides ``task``.
    desc : str, default='preproc'
        The ``desc`` of the preprocessed BOLD files.
    mask : dict of str to tuple of str, optional
        Entities selecting each run's mask among the derivatives (a model's
        ``Options.Mask``); by default the ``desc-brain`` mask beside the run.
    default_space : str, optional
        The space chosen when ``space`` is None and the data has several, if it
        has this one (nilearn's ``first_level_from_bids`` assumes
        ``MNI152NLin2009cAsym``).
    names : OptionNames
        How error messages name the choices (the command line's flags by default).
    """

    task: str | None = None
    space: str | None = None
    subjects: tuple[str, ...] | None = None
    excluded: tuple[str, ...] = ()
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tasks: tuple[str, ...] | None = None
    desc: str = 'preproc'
    mask: dict[str, tuple[str, ...]] | None = None
    default_space: str | None = None
    names: OptionNames = field(default_factory=OptionNames)


@dataclass(frozen=True)
class RunInputs:
    """Everything one run of the first-level model needs.

    Parameters
    ----------
    subject : str
        The subject label.
    entities : dict of str to str
        The entities of the preprocessed BOLD file.
    bold, mask, confounds, events : pathlib.Path or None
        The files; ``mask`` and ``confounds`` may be missing. For a GIFTI run,
        ``bold`` is its left hemisphere's file.
    repetition_time : float
        In seconds.
    start_time : float
        The slice timing reference, in seconds from the start of the volume.
    timing_source : str
        Where the repetition time was read.
    hemispheres : dict of str to pathlib.Path, optional
        A GIFTI run's file of each hemisphere (``{'left': ..., 'right': ...}``).

    Examples
    --------
    >>> run = RunInputs('01', {'sub': '01'}, Path('sub-01_hemi-L_bold.func.gii'), None,
    ...                 None, None, 2.0, 0.0, 'derivative sidecar',
    ...                 {'left': Path('sub-01_hemi-L_bold.func.gii'),
    ...                  'right': Path('sub-01_hemi-R_bold.func.gii')})
    >>> run.kind, run.image
    ('GIFTI', {'left': 'sub-01_hemi-L_bold.func.gii', 'right': 'sub-01_hemi-R_bold.func.gii'})
    """

    subject: str
    entities: dict[str, str]
    bold: Path
    mask: Path | None
    confounds: Path | None
    events: Path | None
    repetition_time: float
    start_time: float
    timing_source: str
    hemispheres: dict[str, Path] | None = None

    @property
    def kind(self) -> str:
        """``'volume'``, ``'GIFTI'`` (a pair of hemispheres) or ``'CIFTI-2'``."""
        return run_kind(self.bold)

    @property
    def image(self) -> str | dict[str, str]:
        """What :meth:`bidsglm.FirstLevelModel.fit` takes: a path, or a path per hemisphere."""
        if self.hemispheres is not None:
            return {part: str(path) for part, path in self.hemispheres.items()}
        return str(self.bold)

    @property
    def slice_time_ref(self) -> float:
        """``StartTime / RepetitionTime``, the fraction of the volume referenced."""
        return self.start_time / self.repetition_time

    @property
    def name(self) -> str:
        """A short name for messages: the BOLD file's name."""
        return self.bold.name


def run_kind(path: Path) -> str:
    """Return the kind of a run's file: ``'volume'``, ``'GIFTI'`` or ``'CIFTI-2'``.

    Examples
    --------
    >>> run_kind(Path('a_bold.nii.gz')), run_kind(Path('a_hemi-L_bold.func.gii'))
    ('volume', 'GIFTI')
    >>> run_kind(Path('a_space-fsLR_den-91k_bold.dtseries.nii'))
    'CIFTI-2'
    """
    if path.name.endswith(_GIFTI):
        return 'GIFTI'
    return 'CIFTI-2' if path.name.endswith(_CIFTI) else 'volume'


def _space_label(file: BidsFile) -> str:
    """Return ``space``, ``space:res-<r>`` or ``space:den-<d>`` (``'none'`` without a space)."""
    space = file.entities.get('space', 'none')
    for key in ('res', 'den'):
        if key in file.entities:
            return f'{space}:{key}-{file.entities[key]}'
    return space


def _choose(kind: str, wanted: str | None, available: Sequence[str], hint: str) -> str:
    """Return ``wanted`` if available, or the only choice; else explain the choice."""
    if wanted is None and len(available) == 1:
        return available[0]
    if wanted is not None and wanted in available:
        return wanted
    if wanted is None:
        msg = f'The data has several {kind}s: {list(available)}. Choose one with {hint}.'
    else:
        msg = (
            f'No preprocessed BOLD for {kind} {wanted!r}; the {kind}s that exist are '
            f'{list(available)}{close_matches(wanted, available)}. Choose one with {hint}.'
        )
    raise InvalidParameterError(msg)


def _select_space(bolds: list[BidsFile], query: Query) -> list[BidsFile]:
    """Keep the BOLD files of the chosen space (and resolution)."""
    labels = sorted({_space_label(b) for b in bolds})
    space, names = query.space, query.names
    if space is None and query.default_space in {label.split(':')[0] for label in labels}:
        space = query.default_space
    if space is not None and ':' not in space:
        resolutions = [label for label in labels if label.split(':')[0] == space]
        if len(resolutions) > 1:
            with_res = next(label for label in resolutions if ':' in label)
            if ':res-' in with_res:
                example = names.space_example(*with_res.split(':res-'))
            else:
                example = f'{names.space} {with_res}'
            msg = (
                f'The space {space!r} has several resolutions or densities: {resolutions}. '
                f'Choose one with {names.space}, e.g. {example}.'
            )
            raise InvalidParameterError(msg)
        if resolutions:
            space = resolutions[0]
    hint = f'{names.space} (e.g. {names.space_example("MNI152NLin6Asym", "2")})'
    chosen = _choose('space', space, labels, hint)
    return [b for b in bolds if _space_label(b) == chosen]


def _select_subjects(bolds: list[BidsFile], query: Query) -> list[BidsFile]:
    available = sorted({b.entities.get('sub', '') for b in bolds})
    bolds = [b for b in bolds if b.entities.get('sub') not in query.excluded]
    if query.subjects is None:
        return bolds
    missing = [s for s in query.subjects if s not in available]
    if missing:
        msg = (
            f'No preprocessed BOLD for participant(s) {missing}; the participants with '
            f'data are {available}. Check {query.names.subjects}.'
        )
        raise InvalidParameterError(msg)
    return [b for b in bolds if b.entities.get('sub') in query.subjects]


def _select_tasks(bolds: list[BidsFile], query: Query) -> list[BidsFile]:
    """Keep the BOLD files of the task (or the tasks) the query asks for."""
    tasks = sorted({b.entities.get('task', '') for b in bolds})
    if query.tasks is None:
        chosen = [_choose('task', query.task, tasks, query.names.task)]
    else:
        chosen = [_choose('task', task, tasks, "the model's Input") for task in query.tasks]
    return [b for b in bolds if b.entities.get('task') in chosen]


def _surface_bolds(deriv: BidsIndex, desc: str) -> list[BidsFile]:
    """Return the surface BOLD files: fMRIPrep names them without ``desc`` (or with ours)."""
    found = deriv.select(suffix='bold', extension=(_GIFTI, _CIFTI))
    return [b for b in found if b.entities.get('desc') in (None, desc)]


def _check_one_kind(bolds: Sequence[BidsFile], names: OptionNames) -> None:
    """Refuse volume and surface runs (or GIFTI and CIFTI-2 runs) in one model."""
    kinds: dict[str, str] = {}
    for bold in bolds:
        kinds.setdefault(run_kind(bold.path), bold.path.name)
    if len(kinds) > 1:
        shown = ', '.join(f'{kind} ({name})' for kind, name in sorted(kinds.items()))
        msg = (
            f'The runs selected mix kinds of data: {shown}. One model fits one kind: '
            f'choose the space (and its den- or res-) with {names.space}, or narrow the '
            "model's Input."
        )
        raise InvalidParameterError(msg)


def _select_bolds(deriv: BidsIndex, query: Query) -> list[BidsFile]:
    """Return the preprocessed BOLD files the query asks for, or explain what exists."""
    bolds = deriv.select(suffix='bold', extension=_NIFTI, desc=query.desc)
    bolds += _surface_bolds(deriv, query.desc)
    if not bolds:
        msg = (
            f'No preprocessed BOLD (*_desc-{query.desc}_bold.nii[.gz], *_bold.func.gii or '
            f'*_bold.dtseries.nii) in '
            f'{str(deriv.root)!r}. Point {query.names.derivatives} to the fMRIPrep output '
            'folder.'
        )
        raise InputNotFoundError(msg)
    bolds = _select_space(_select_tasks(bolds, query), query)
    for key, labels in query.filters.items():
        bolds = [b for b in bolds if any(b.has(**{key: label or None}) for label in labels)]
    if not bolds:
        msg = (
            f"No preprocessed BOLD has the entities {query.filters} (from the model's "
            'Input). Check them against the file names.'
        )
        raise InputNotFoundError(msg)
    _check_one_kind(bolds, query.names)
    return sorted(_select_subjects(bolds, query), key=lambda b: str(b.path))


def _pair_hemispheres(bolds: Sequence[BidsFile]) -> list[tuple[BidsFile, dict[str, Path] | None]]:
    """Join the ``hemi-L`` and ``hemi-R`` GIFTI files of each run; others stay alone.

    Raises
    ------
    InputNotFoundError
        If a hemisphere's file has no partner.
    """
    runs: list[tuple[BidsFile, dict[str, Path] | None]] = []
    pairs: dict[tuple[PurePosixPath, tuple[tuple[str, str], ...]], dict[str, BidsFile]] = {}
    for bold in bolds:
        if run_kind(bold.path) != 'GIFTI':
            runs.append((bold, None))
            continue
        hemi = bold.entities.get('hemi', '')
        if hemi not in _HEMISPHERES:
            msg = (
                f'The GIFTI run {bold.path.name} has no hemi-L or hemi-R in its name, so '
                'its hemisphere is unknown. Rename it as fMRIPrep does (..._hemi-L_...).'
            )
            raise InvalidParameterError(msg)
        key = tuple(sorted((k, v) for k, v in bold.entities.items() if k != 'hemi'))
        pairs.setdefault((bold.folder, key), {})[hemi] = bold
    for pair in pairs.values():
        missing = [hemi for hemi in _HEMISPHERES if hemi not in pair]
        if missing:
            hemi, present = next((h, f.path) for h, f in pair.items())
            absent = present.name.replace(f'_hemi-{hemi}_', f'_hemi-{missing[0]}_')
            msg = (
                f'The GIFTI run {str(present)!r} has no other hemisphere: {absent!r} is '
                'missing. A surface run needs both; add it, or leave the run out.'
            )
            raise InputNotFoundError(msg)
        parts = {_HEMISPHERES[hemi]: pair[hemi].path for hemi in _HEMISPHERES}
        runs.append((pair['L'], parts))
    return sorted(runs, key=lambda run: str(run[0].path))


def _sibling(deriv: BidsIndex, bold: BidsFile, suffix: str, **changes: str | None) -> Path | None:
    """Return the derivative with the BOLD's entities changed as asked, if it exists."""
    entities = {k: v for k, v in {**bold.entities, **changes}.items() if v is not None}
    found = deriv.exact(bold.folder, suffix, entities)
    return None if found is None else found.path


def _raw_entities(bold: BidsFile) -> dict[str, str]:
    """Return the entities of the raw file a derivative comes from."""
    return {k: v for k, v in bold.entities.items() if k not in _DERIVED_ENTITIES}


def _repetition_time(
    deriv: BidsIndex, raw: BidsIndex, bold: BidsFile, sidecar: Mapping[str, Any]
) -> tuple[float, str]:
    """Return the TR and where it was found: sidecars first, the NIfTI header last."""
    if 'RepetitionTime' in sidecar:
        return float(sidecar['RepetitionTime']), 'derivative sidecar'
    raw_sidecar = raw.metadata(bold, _raw_entities(bold))
    if 'RepetitionTime' in raw_sidecar:
        return float(raw_sidecar['RepetitionTime']), 'raw sidecar'
    import nibabel as nib  # noqa: PLC0415 - only needed when no sidecar has the TR

    kind = run_kind(bold.path)
    if kind != 'volume':
        return _surface_repetition_time(bold.path, kind), f'{kind} file'
    header = cast('nib.Nifti1Header', nib.load(bold.path).header)
    unit = header.get_xyzt_units()[1]
    return float(header.get_zooms()[3]) * _TIME_UNITS.get(unit, 1.0), 'NIfTI header'


def _surface_repetition_time(path: Path, kind: str) -> float:
    """Read the TR of a surface run: the CIFTI-2 series step, or the GIFTI ``TimeStep``.

    ``TimeStep`` is in milliseconds (FreeSurfer's convention, which fMRIPrep's
    GIFTI files follow).
    """
    import nibabel as nib  # noqa: PLC0415 - only needed when no sidecar has the TR

    image: Any = nib.load(path)
    if kind == 'CIFTI-2':
        series = image.header.matrix.get_index_map(0)
        step = getattr(series, 'series_step', None)
        if step is not None and getattr(series, 'series_unit', 'SECOND') == 'SECOND':
            exponent = int(getattr(series, 'series_exponent', 0) or 0)
            return float(step) * 10.0**exponent
    else:
        for array in image.darrays[:1]:
            step = array.meta.get('TimeStep') if array.meta is not None else None
            if step is not None:
                return float(step) / 1000.0
    msg = (
        f'No repetition time for {path.name}: no sidecar has RepetitionTime and the file '
        'does not give it. Add RepetitionTime to its JSON sidecar.'
    )
    raise InvalidParameterError(msg)


def _fits(mask: BidsFile, bold: BidsFile, wanted: Mapping[str, tuple[str, ...]]) -> bool:
    """Tell whether a mask file has the wanted entities and none that contradicts the run."""
    for key, labels in wanted.items():
        if key != 'suffix' and not any(mask.has(**{key: label or None}) for label in labels):
            return False
    return all(
        _same_label(key, bold.entities[key], value)
        for key, value in mask.entities.items()
        if key in bold.entities and key not in wanted and key != 'desc'
    )


def _chosen_mask(deriv: BidsIndex, bold: BidsFile, wanted: Mapping[str, tuple[str, ...]]) -> Path:
    """Return the mask the model's entities select for a run: the one closest to it."""
    masks = deriv.select(suffix='mask', extension=_NIFTI)
    found = [m for m in masks if _fits(m, bold, wanted)]
    if not found:
        msg = (
            f'No mask file (*_mask.nii[.gz]) in {str(deriv.root)!r} has the entities '
            f"{dict(wanted)} of the model's Options.Mask and fits {bold.path.name}. Check "
            'Options.Mask, or give the path of a mask file.'
        )
        raise InputNotFoundError(msg)
    shared = [sum(k in bold.entities for k in m.entities) for m in found]
    best = [m for m, n in zip(found, shared, strict=True) if n == max(shared)]
    if len(best) > 1:
        names = sorted(m.path.name for m in best)
        msg = (
            f'Options.Mask {dict(wanted)} selects several masks for {bold.path.name}: '
            f'{names}. Add entities to choose one.'
        )
        raise InvalidParameterError(msg)
    return best[0].path


def _run_mask(
    deriv: BidsIndex, bold: BidsFile, mask: Mapping[str, tuple[str, ...]] | None
) -> Path | None:
    """Return the run's mask file (none for a surface run: the data's own mask)."""
    if run_kind(bold.path) != 'volume':
        if mask is not None:
            msg = (
                f"The model's Options.Mask {dict(mask)} selects mask images, which surface "
                f'runs ({bold.path.name}) do not take: they use their own mask (the '
                'vertices with data). Remove Options.Mask for a surface space.'
            )
            raise InvalidParameterError(msg)
        return None
    if mask is None:
        return _sibling(deriv, bold, 'mask', desc='brain')
    return _chosen_mask(deriv, bold, mask)


def _run_inputs(
    deriv: BidsIndex,
    raw: BidsIndex,
    bold: BidsFile,
    mask: Mapping[str, tuple[str, ...]] | None,
    hemispheres: dict[str, Path] | None = None,
) -> RunInputs:
    """Gather the files and timing of one run."""
    sidecar = deriv.metadata(bold)
    t_r, source = _repetition_time(deriv, raw, bold, sidecar)
    no_space = {'space': None, 'res': None, 'den': None, 'hemi': None}
    confounds = None
    for suffix in _CONFOUND_SUFFIXES:
        confounds = confounds or _sibling(deriv, bold, suffix, desc='confounds', **no_space)
    events = raw.applicable(_raw_entities(bold), bold.folder, 'events', '.tsv')
    return RunInputs(
        subject=bold.entities.get('sub', ''),
        entities={k: v for k, v in bold.entities.items() if not (hemispheres and k == 'hemi')},
        bold=bold.path,
        mask=_run_mask(deriv, bold, mask),
        confounds=confounds,
        events=events[-1].path if events else None,
        repetition_time=t_r,
        start_time=float(sidecar.get('StartTime', 0.0)),
        timing_source=source,
        hemispheres=hemispheres,
    )


def _check_runs(runs: Sequence[RunInputs], names: OptionNames) -> None:
    """Refuse runs without events, impossible timings and subjects with mixed TRs."""
    no_events = [run.name for run in runs if run.events is None]
    if no_events:
        msg = (
            f'No events file (*_events.tsv in the raw dataset) for {len(no_events)} run(s): '
            f'{no_events[:5]}. Add the events, or leave those runs out (e.g. with '
            f'{names.subjects}).'
        )
        raise InputNotFoundError(msg)
    for run in runs:
        if not 0 <= run.start_time <= run.repetition_time:
            msg = (
                f'StartTime {run.start_time} s is outside the repetition of '
                f'{run.repetition_time} s for {run.name}. Fix the sidecar.'
            )
            raise InvalidParameterError(msg)
    for key, what in (('repetition_time', 'repetition time'), ('start_time', 'StartTime')):
        _check_constant(runs, key, what, names)


def _check_constant(runs: Sequence[RunInputs], key: str, what: str, names: OptionNames) -> None:
    """Refuse subjects whose runs differ in ``key``: one model needs one value."""
    by_subject: dict[str, set[float]] = {}
    for run in runs:
        by_subject.setdefault(run.subject, set()).add(getattr(run, key))
    mixed = {s: sorted(values) for s, values in by_subject.items() if len(values) > 1}
    if mixed:
        subject, values = next(iter(mixed.items()))
        msg = (
            f'The {what} differs between the runs of sub-{subject}: {values} s (subjects '
            f'concerned: {sorted(mixed)}). One model needs one value: select runs that '
            f'agree ({names.subjects}, or Input in the model) or fix the sidecars.'
        )
        raise InvalidParameterError(msg)


def discover_runs(
    bids_dir: str | os.PathLike[str],
    derivatives: str | os.PathLike[str],
    query: Query | None = None,
) -> tuple[RunInputs, ...]:
    """Find every run to model: BOLD, mask, confounds, events, TR and StartTime.

    Parameters
    ----------
    bids_dir : path-like
        The raw dataset (events, raw sidecars).
    derivatives : path-like
        The fMRIPrep-style folder (preprocessed BOLD, masks, confounds).
    query : Query, optional
        Task, space, subjects and other filters.

    Returns
    -------
    tuple of RunInputs
        Sorted by file path (so by subject, session, task, run).

    Raises
    ------
    InputNotFoundError
        For a missing folder, no preprocessed BOLD, or runs without events.
    InvalidParameterError
        For an unknown or ambiguous task, space or participant, or mixed TRs.
    """
    query = query or Query()
    raw = index_dataset(bids_dir)
    same = Path(derivatives).resolve() == Path(bids_dir).resolve()
    deriv = raw if same else index_dataset(derivatives)
    runs = tuple(
        _run_inputs(deriv, raw, bold, query.mask, parts)
        for bold, parts in _pair_hemispheres(_select_bolds(deriv, query))
    )
    _check_runs(runs, query.names)
    return runs
