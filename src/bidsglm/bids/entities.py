r"""BIDS entities and file names: one template for every file bidsglm writes.

A BIDS file name is a chain of ``key-label`` pairs joined by ``_``, then a suffix
and an extension::

    sub-01_task-x_run-1_space-MNI152NLin2009cAsym_contrast-aMinusB_stat-t_statmap.nii.gz
    \___________ entities, in ENTITY_ORDER ___________________________/ suffix  extension

:data:`ENTITY_ORDER` is the single source of truth for the order of the entities:
:func:`format_bids_name` builds every name the writer produces from it, whatever the
order of the mapping it is given. :func:`parse_bids_name` is the (permissive)
inverse, used to infer entities from input files and to read outputs back.

Labels follow the BIDS formats: ``run`` and ``echo`` are indices (digits), every
other entity is a label of ASCII letters, digits and ``+``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING

from bidsglm.errors import BidsNameError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    'ENTITY_ORDER',
    'MAX_NAME_BYTES',
    'BidsName',
    'check_name_length',
    'format_bids_name',
    'normalize_prefix',
    'parse_bids_entities',
    'parse_bids_name',
    'validate_label',
]

#: The order of the entities in every file name bidsglm writes: the BIDS order,
#: with the draft ``contrast`` and ``stat`` entities (BEP041) just before ``desc``.
ENTITY_ORDER: tuple[str, ...] = (
    'sub',
    'ses',
    'task',
    'acq',
    'ce',
    'rec',
    'dir',
    'run',
    'echo',
    'part',
    'hemi',
    'space',
    'res',
    'den',
    'contrast',
    'stat',
    'desc',
)

_INDEX_ENTITIES = frozenset({'run', 'echo'})
_LABEL = re.compile(r'[A-Za-z0-9+]+')
_INDEX = re.compile(r'[0-9]+')
_SUFFIX = re.compile(r'[A-Za-z0-9]+')
_EXTENSION = re.compile(r'(\.[A-Za-z0-9]+)+')
_PREFIX = re.compile(r'[A-Za-z0-9+_-]+')
#: The longest file name, in bytes, that common file systems accept (ext4, XFS,
#: btrfs, APFS; NTFS counts 255 UTF-16 units, which ASCII names never exceed).
MAX_NAME_BYTES = 255


@dataclass(frozen=True)
class BidsName:
    """The parts of a file name, as :func:`parse_bids_name` reads them.

    Parameters
    ----------
    entities : dict of str to str
        The ``key-label`` pairs, in the order they appear.
    suffix : str
        The last ``_``-separated part when it holds no ``-`` (``''`` otherwise).
    extension : str
        Everything from the first ``.`` of the name (``'.nii.gz'``).
    others : tuple of str
        The parts that are neither entities nor the suffix (a free-form prefix).
    """

    entities: dict[str, str]
    suffix: str
    extension: str
    others: tuple[str, ...] = field(default=())


def parse_bids_name(path: str | os.PathLike[str]) -> BidsName:
    """Split a file name into entities, suffix and extension.

    Only the last component of ``path`` is read. Parsing never fails: a name that
    does not follow BIDS simply gives few or no entities.

    Parameters
    ----------
    path : str or path-like
        A file name or path.

    Returns
    -------
    BidsName
        The entities (in file order; the first occurrence of a repeated key wins),
        the suffix, the extension and any other parts.

    Examples
    --------
    >>> name = parse_bids_name('sub-01/func/sub-01_task-x_run-2_bold.nii.gz')
    >>> name.entities, name.suffix, name.extension
    ({'sub': '01', 'task': 'x', 'run': '2'}, 'bold', '.nii.gz')
    >>> parse_bids_name('myprefix_run-1_design.tsv').others
    ('myprefix',)
    """
    stem, dot, rest = PurePath(path).name.partition('.')
    tokens = stem.split('_')
    suffix = tokens[-1] if '-' not in tokens[-1] else ''
    entities: dict[str, str] = {}
    others = []
    for token in tokens[:-1] if suffix else tokens:
        key, sep, value = token.partition('-')
        if sep and key and value and key not in entities:
            entities[key] = value
        elif token:
            others.append(token)
    return BidsName(entities, suffix, dot + rest, tuple(others))


def parse_bids_entities(path: str | os.PathLike[str]) -> dict[str, str]:
    """Return the ``key-label`` entities of a file name.

    Parameters
    ----------
    path : str or path-like
        A file name or path; only its last component is read.

    Returns
    -------
    dict of str to str
        The entities in the order they appear in the name.

    Examples
    --------
    >>> parse_bids_entities('sub-01_ses-2_task-nback_desc-preproc_bold.nii.gz')
    {'sub': '01', 'ses': '2', 'task': 'nback', 'desc': 'preproc'}
    >>> parse_bids_entities('not_bids.nii.gz')
    {}
    """
    return dict(parse_bids_name(path).entities)


def validate_label(value: str, key: str) -> str:
    """Check that ``value`` can be the label of entity ``key`` and return it.

    Parameters
    ----------
    value : str
        The candidate label.
    key : str
        The entity it belongs to; ``run`` and ``echo`` take digits only.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    BidsNameError
        If ``value`` is not a string of the allowed characters.

    Examples
    --------
    >>> validate_label('aMinusB', 'contrast')
    'aMinusB'
    >>> validate_label('a_b', 'contrast')
    Traceback (most recent call last):
    ...
    bidsglm.errors.BidsNameError: The 'contrast' entity must be a BIDS label ...
    """
    is_index = key in _INDEX_ENTITIES
    pattern = _INDEX if is_index else _LABEL
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        kind = 'index (ASCII digits only)' if is_index else 'label (ASCII letters, digits, +)'
        msg = f'The {key!r} entity must be a BIDS {kind}. Got {value!r} instead.'
        raise BidsNameError(msg)
    return value


def normalize_prefix(prefix: str | None) -> str:
    """Return ``prefix`` ready to put in front of a name: checked, ending in ``_``.

    Parameters
    ----------
    prefix : str or None
        ``None`` or ``''`` mean no prefix.

    Returns
    -------
    str
        ``''`` or the prefix followed by exactly one ``_``.

    Raises
    ------
    BidsNameError
        If the prefix holds anything but ASCII letters, digits, ``+``, ``-`` and
        ``_``; in particular a path separator, ``..`` or an absolute path, which
        could write outside the output folder.

    Examples
    --------
    >>> normalize_prefix('sub-01_task-x')
    'sub-01_task-x_'
    >>> normalize_prefix('../up')
    Traceback (most recent call last):
    ...
    bidsglm.errors.BidsNameError: The prefix '../up' cannot name files ...
    """
    if not prefix:
        return ''
    if _PREFIX.fullmatch(prefix) is None:
        culprits = sorted({char for char in prefix if _PREFIX.fullmatch(char) is None})
        msg = (
            f'The prefix {prefix!r} cannot name files inside the output folder: it holds '
            f'{", ".join(map(repr, culprits))}. Use only ASCII letters, digits, +, - and _ '
            "(no '/', '\\\\' or '..'), for example 'sub-01_task-x'."
        )
        raise BidsNameError(msg)
    return prefix.rstrip('_') + '_'


def format_bids_name(
    entities: Mapping[str, str],
    suffix: str,
    extension: str,
    prefix: str | None = None,
) -> str:
    """Build a file name from entities, in :data:`ENTITY_ORDER`.

    Parameters
    ----------
    entities : mapping of str to str
        Entity keys (from :data:`ENTITY_ORDER`) to labels; their order is ignored.
    suffix : str
        The suffix (``'statmap'``, ``'design'``, ``'mask'``...).
    extension : str
        The extension with its dot (``'.nii.gz'``).
    prefix : str, optional
        Free text put in front (see :func:`normalize_prefix`).

    Returns
    -------
    str
        The file name (no folder).

    Raises
    ------
    BidsNameError
        If a key is unknown, or a label, the suffix or the extension is invalid.
        The length is not checked here: planners check all their names at once
        (:func:`bidsglm.bids.layout.check_output_names`), so that the message
        names the longest.

    Examples
    --------
    >>> format_bids_name({'stat': 't', 'contrast': 'aMinusB', 'sub': '01'}, 'statmap', '.nii.gz')
    'sub-01_contrast-aMinusB_stat-t_statmap.nii.gz'
    >>> format_bids_name({'run': '2'}, 'design', '.tsv', prefix='myprefix')
    'myprefix_run-2_design.tsv'
    """
    unknown = [key for key in entities if key not in ENTITY_ORDER]
    if unknown:
        msg = (
            f'Unknown BIDS entities {unknown}: bidsglm writes only {list(ENTITY_ORDER)}. '
            'Remove them or put them in the prefix.'
        )
        raise BidsNameError(msg)
    _check_suffix_and_extension(suffix, extension)
    parts = [
        f'{key}-{validate_label(entities[key], key)}' for key in ENTITY_ORDER if key in entities
    ]
    return normalize_prefix(prefix) + '_'.join([*parts, suffix]) + extension


def _shorten(text: str, limit: int = 72) -> str:
    """Return ``text``, or its start and end around ``...`` when it is longer than ``limit``."""
    if len(text) <= limit:
        return text
    tail = limit // 3
    return f'{text[: limit - tail - 3]}...{text[-tail:]}'


def _blame(name: str, excess: int) -> str:
    """Say which part of a too long file name to shorten, and by how much.

    The contrast label may be in the name twice (a group model of a first-level
    contrast also carries it as ``desc``); shortening it shortens both.
    """
    entities = parse_bids_name(name).entities
    label = entities.get('contrast', '')
    size = len(label.encode())
    times = sum(value == label for value in entities.values())
    longest = size - -(-excess // times) if label else 0  # ceil(excess / times) fewer
    if longest > 0:
        return (
            f'Its contrast label {_shorten(label, 40)!r} ({size} characters) makes it too '
            f'long: rename the contrast so that its label has at most {longest} '
            'characters.'
        )
    also = ' and a shorter contrast name' if label else ''
    return (
        f'Its prefix and entities alone make it too long: give a shorter prefix{also} '
        "(without a prefix the entities come from the inputs' file names)."
    )


def check_name_length(name: str) -> str:
    """Refuse a file name longer than :data:`MAX_NAME_BYTES` bytes (UTF-8).

    Such a file cannot be created on common file systems, so every name bidsglm
    plans goes through this check before anything is written.

    Parameters
    ----------
    name : str
        A file name (no folder).

    Returns
    -------
    str
        ``name`` unchanged.

    Raises
    ------
    BidsNameError
        Naming the file, its length and the part to shorten: the contrast label
        when shortening it is enough, otherwise the prefix and entities.

    Examples
    --------
    >>> check_name_length('sub-01_contrast-aMinusB_stat-t_statmap.nii.gz')
    'sub-01_contrast-aMinusB_stat-t_statmap.nii.gz'
    >>> check_name_length(f'sub-01_contrast-{"a" * 240}_stat-t_statmap.nii.gz')
    Traceback (most recent call last):
    ...
    bidsglm.errors.BidsNameError: The file name 'sub-01_contrast-aaa...' would be 278 bytes ...
    """
    size = len(name.encode())
    if size <= MAX_NAME_BYTES:
        return name
    msg = (
        f'The file name {_shorten(name)!r} would be {size} bytes long, over the '
        f'{MAX_NAME_BYTES} bytes a file name can have on common file systems. '
        f'{_blame(name, size - MAX_NAME_BYTES)}'
    )
    raise BidsNameError(msg)


def _check_suffix_and_extension(suffix: str, extension: str) -> None:
    """Raise a BidsNameError if the suffix or the extension is malformed."""
    if _SUFFIX.fullmatch(suffix) is None:
        msg = f'A BIDS suffix must be ASCII letters and digits. Got {suffix!r} instead.'
        raise BidsNameError(msg)
    if _EXTENSION.fullmatch(extension) is None:
        msg = f"A BIDS extension must look like '.nii.gz'. Got {extension!r} instead."
        raise BidsNameError(msg)
