"""The manifest of a saved model: which files bidsglm wrote for it, written last.

A save moves its files into place one by one; the model's manifest is the last file
moved, and the first one moved aside when the model is saved again. So a manifest is
there exactly when the model is complete, and it names the model's files: what a
rerun checks before skipping a subject, what ``--overwrite`` (or any later save of
the same model) removes, and what :func:`bidsglm.load_glm_from_bids` reads, never a
user's file that happens to carry the model's entities.

The manifest is a hidden file beside the model's ``statmap.json``
(``sub-01/.sub-01_task-x_statmap.manifest.json``), so it moves with the subject's
folder and BIDS tools skip it. Its paths are relative to its own folder.

Examples
--------
>>> statmap = PurePosixPath('sub-01/sub-01_task-x_statmap.json')
>>> str(manifest_path(statmap))
'sub-01/.sub-01_task-x_statmap.manifest.json'
>>> text = manifest_bytes(statmap, [statmap, PurePosixPath('sub-01/func/a.nii.gz')])
>>> json.loads(text)['Files']
['func/a.nii.gz', 'sub-01_task-x_statmap.json']
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from bidsglm._version import __version__
from bidsglm.errors import BidsNameError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ['complete_model_files', 'manifest_bytes', 'manifest_path', 'read_manifest']

_SUFFIX = '.manifest.json'


def manifest_path(statmap: PurePosixPath) -> PurePosixPath:
    """Return the manifest's path for a model's ``statmap.json`` (both relative).

    Parameters
    ----------
    statmap : PurePosixPath
        The model-level ``statmap.json``, relative to the output folder.

    Returns
    -------
    PurePosixPath
        ``<folder>/.<statmap name without .json>.manifest.json``.
    """
    return statmap.parent / f'.{statmap.name.removesuffix(".json")}{_SUFFIX}'


def manifest_bytes(statmap: PurePosixPath, files: Iterable[PurePosixPath]) -> bytes:
    """Return the manifest of a model made of ``files`` (relative to the output folder).

    Parameters
    ----------
    statmap : PurePosixPath
        The model-level ``statmap.json``.
    files : iterable of PurePosixPath
        Every file of the model, the ``statmap.json`` included.

    Returns
    -------
    bytes
        Indented JSON: ``Model``, ``GeneratedBy`` and the sorted ``Files``, relative
        to the manifest's folder.
    """
    folder = statmap.parent
    content = {
        'Model': statmap.name,
        'GeneratedBy': {'Name': 'bidsglm', 'Version': __version__},
        'Files': sorted(str(PurePosixPath(f).relative_to(folder)) for f in files),
    }
    return (json.dumps(content, indent=2) + '\n').encode('utf-8')


def _inside(folder: PurePosixPath, entry: object) -> PurePosixPath | None:
    """Return ``folder / entry`` when ``entry`` is a plain relative path, else None."""
    if not isinstance(entry, str):
        return None
    path = PurePosixPath(entry)
    unsafe = not path.parts or path.is_absolute() or '..' in path.parts or '\\' in entry
    return None if unsafe else folder / path


def read_manifest(root: Path, statmap: PurePosixPath) -> tuple[PurePosixPath, ...] | None:
    """Read the files a model's manifest lists, relative to the output folder.

    Parameters
    ----------
    root : pathlib.Path
        The output folder.
    statmap : PurePosixPath
        The model's ``statmap.json``, relative to ``root``.

    Returns
    -------
    tuple of PurePosixPath or None
        The files; None when there is no readable manifest. Entries that would leave
        the manifest's folder are dropped, so a damaged manifest can never make a
        later save remove a file elsewhere.

    Examples
    --------
    >>> import tempfile
    >>> read_manifest(Path(tempfile.mkdtemp()), PurePosixPath('statmap.json')) is None
    True
    """
    path = root / manifest_path(statmap)
    try:
        content = json.loads(path.read_text(encoding='utf-8'))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    entries = content.get('Files') if isinstance(content, dict) else None
    if not isinstance(entries, list):
        return None
    files = (_inside(statmap.parent, entry) for entry in entries)
    return tuple(f for f in files if f is not None)


def complete_model_files(root: Path, statmap: PurePosixPath) -> tuple[Path, ...] | None:
    """Return the files of a complete saved model, or None if it is absent or partial.

    Parameters
    ----------
    root : pathlib.Path
        The output folder.
    statmap : PurePosixPath
        The model's ``statmap.json``, relative to ``root``.

    Returns
    -------
    tuple of pathlib.Path or None
        Every file the manifest lists, when the manifest and all of them exist.

    Raises
    ------
    BidsNameError
        If ``statmap`` is not a plain relative path.
    """
    if statmap.is_absolute() or '..' in statmap.parts:
        msg = f'{str(statmap)!r} is not a path inside the output folder.'
        raise BidsNameError(msg)
    listed = read_manifest(root, statmap)
    if listed is None:
        return None
    files = tuple(root / f for f in listed)
    return files if all(f.is_file() for f in files) else None
