"""``dataset_description.json``: create it, or merge bidsglm into an existing one.

A derivative dataset needs ``Name``, ``BIDSVersion``, ``DatasetType: derivative``
and a ``GeneratedBy`` list. :func:`merge_dataset_description` keeps everything an
existing file holds and adds only what is missing. bidsglm's ``GeneratedBy`` entry
appears once whatever the number of saves (an older bidsglm entry is replaced), and
older layouts are read without error: a ``GeneratedBy`` object (nilearn 0.9) becomes
a one-item list, and legacy keys such as ``PipelineDescription`` (FitLins) are kept.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from bidsglm._version import __version__
from bidsglm.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = [
    'BIDS_VERSION',
    'GENERATED_BY',
    'merge_bidsignore',
    'merge_dataset_description',
    'parse_dataset_description',
    'read_dataset_description',
]

logger = logging.getLogger('bidsglm')

#: The BIDS version new descriptions declare.
BIDS_VERSION = '1.10.0'

#: bidsglm's entry in ``GeneratedBy``.
GENERATED_BY: dict[str, str] = {
    'Name': 'bidsglm',
    'Version': __version__,
    'Description': 'General linear models of task fMRI saved as BIDS statistical derivatives.',
}


def read_dataset_description(path: Path) -> dict[str, Any] | None:
    """Read an existing ``dataset_description.json``, or None if there is none.

    Parameters
    ----------
    path : pathlib.Path
        The file's path.

    Returns
    -------
    dict or None
        Its content; None when the file does not exist or is empty.

    Raises
    ------
    InvalidParameterError
        If the file is not a JSON object (it is then left alone).

    Examples
    --------
    >>> from pathlib import Path
    >>> read_dataset_description(Path('no/such/dataset_description.json')) is None
    True
    """
    if not path.is_file():
        return None
    return parse_dataset_description(path.read_bytes(), str(path))


def parse_dataset_description(data: bytes | None, where: str) -> dict[str, Any] | None:
    """Parse the bytes of a ``dataset_description.json``.

    An empty file (as an interrupted write of an older version could leave) holds
    nothing to keep: it reads as no file, with a warning, and is written anew.

    Parameters
    ----------
    data : bytes or None
        The file's content, None when there is no file.
    where : str
        The file's path, for messages.

    Returns
    -------
    dict or None
        Its content, or None.

    Raises
    ------
    InvalidParameterError
        If the content is not a JSON object.

    Examples
    --------
    >>> parse_dataset_description(b'{"Name": "x"}', 'dataset_description.json')
    {'Name': 'x'}
    """
    if data is None:
        return None
    if not data.strip():
        logger.warning('%s is empty: it is written anew.', where)
        return None
    try:
        content = json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        msg = f'{where!r} is not valid JSON ({error}). Fix it or remove it, then save again.'
        raise InvalidParameterError(msg) from error
    if not isinstance(content, dict):
        msg = f'{where!r} must hold a JSON object. Fix it or remove it, then save again.'
        raise InvalidParameterError(msg)
    return content


def _generated_by(existing: object) -> list[Any]:
    """Return the other tools' GeneratedBy entries as a list, then bidsglm's."""
    if existing is None:
        entries: list[Any] = []
    elif isinstance(existing, list):
        entries = list(existing)
    else:
        entries = [existing]
    others = [e for e in entries if not (isinstance(e, dict) and e.get('Name') == 'bidsglm')]
    return [*others, dict(GENERATED_BY)]


def merge_dataset_description(existing: dict[str, Any] | None) -> dict[str, Any]:
    """Return the description to write, given the existing one (or None).

    Parameters
    ----------
    existing : dict or None
        The current content of ``dataset_description.json``.

    Returns
    -------
    dict
        ``existing`` with ``Name``, ``BIDSVersion`` and ``DatasetType`` added when
        missing, and bidsglm once in ``GeneratedBy``.

    Raises
    ------
    InvalidParameterError
        If ``existing`` declares a raw dataset (derivatives must not be mixed into it).

    Examples
    --------
    >>> merged = merge_dataset_description({'Name': 'x', 'GeneratedBy': {'Name': 'nilearn'}})
    >>> [entry['Name'] for entry in merged['GeneratedBy']], merged['DatasetType']
    (['nilearn', 'bidsglm'], 'derivative')
    """
    content = dict(existing or {})
    dataset_type = content.setdefault('DatasetType', 'derivative')
    if dataset_type != 'derivative':
        msg = (
            f'The output folder holds a dataset of type {dataset_type!r}; statistical maps '
            "are derivatives. Save them in a folder of their own, e.g. '<dataset>/"
            "derivatives/bidsglm'."
        )
        raise InvalidParameterError(msg)
    content.setdefault('Name', 'bidsglm statistical maps')
    content.setdefault('BIDSVersion', BIDS_VERSION)
    content['GeneratedBy'] = _generated_by(content.get('GeneratedBy'))
    ordered = {key: content.pop(key) for key in ('Name', 'BIDSVersion', 'DatasetType')}
    return {**ordered, **content}


def merge_bidsignore(existing: str | None, patterns: Sequence[str]) -> str:
    r"""Return a ``.bidsignore`` text holding ``existing`` lines and ``patterns``.

    Lines already there are kept in their order; missing patterns are appended, so
    saving again never duplicates a line.

    Parameters
    ----------
    existing : str or None
        The current file's text, or None when there is none.
    patterns : sequence of str
        Glob patterns of files the BIDS validator should not check.

    Returns
    -------
    str
        The new text, ending with a newline.

    Examples
    --------
    >>> merge_bidsignore('extra/\n', ['*report.html'])
    'extra/\n*report.html\n'
    >>> merge_bidsignore('*report.html\n', ['*report.html'])
    '*report.html\n'
    """
    lines = (existing or '').splitlines()
    lines += [pattern for pattern in patterns if pattern not in lines]
    return '\n'.join(lines) + '\n'
