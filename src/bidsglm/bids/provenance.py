"""Where a model's inputs came from, written so that it means something on another machine.

``statmap.json`` records the files a model was fitted on. An absolute path names one
machine's folders, and for data shipped inside an installed package it names the
user's virtual environment (``.../site-packages/bidsglm/data/...``). Each input is
therefore written as:

- its path relative to its BIDS dataset, the nearest folder above it that holds a
  ``dataset_description.json`` (``sub-01/func/sub-01_task-x_bold.nii.gz``); the
  dataset is named in ``InputDatasets``, with the ``Name`` and ``DatasetType`` of
  its description and the number of inputs it holds;
- else, for a file inside an installed Python package, its path from the package
  (``bidsglm/data/pain21/contrast_pain_01.nii.gz``), the package being recorded
  with its version in ``Software``;
- else, as given (a file of the user's own, outside any dataset).

``Software`` also names bidsglm and its version, which wrote the model.
"""

from __future__ import annotations

import functools
import json
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bidsglm._version import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ['SOFTWARE', 'describe_inputs', 'find_dataset_root']

#: The package that writes the model, as ``statmap.json`` records it.
SOFTWARE: dict[str, str] = {'Name': 'bidsglm', 'Version': __version__}
_DESCRIPTION = 'dataset_description.json'


@functools.lru_cache(maxsize=256)
def _root_of_folder(folder: Path) -> Path | None:
    """Return ``folder`` or its nearest parent holding a dataset description."""
    for candidate in (folder, *folder.parents):
        if (candidate / _DESCRIPTION).is_file():
            return candidate
    return None


def find_dataset_root(path: str | Path) -> Path | None:
    """Return the BIDS dataset a file belongs to: the nearest folder above it with a description.

    Parameters
    ----------
    path : str or pathlib.Path
        A file.

    Returns
    -------
    pathlib.Path or None
        The dataset's root folder, or None when no folder above holds a
        ``dataset_description.json``.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / 'dataset_description.json').write_text('{}')
    >>> find_dataset_root(root / 'sub-01' / 'func' / 'bold.nii.gz') == root
    True
    """
    return _root_of_folder(Path(path).absolute().parent)


def _dataset_entry(root: Path) -> dict[str, Any]:
    """Name a dataset by its description (its ``Name`` and ``DatasetType``)."""
    try:
        description = json.loads((root / _DESCRIPTION).read_text(encoding='utf-8'))
    except (OSError, ValueError):
        description = {}
    if not isinstance(description, dict):
        description = {}
    return {
        'Name': str(description.get('Name') or root.name),
        'DatasetType': str(description.get('DatasetType') or 'raw'),
    }


def _package_of(path: Path) -> tuple[str, Path] | None:
    """Return the installed package a file lies in, and the folder its path starts from."""
    for parent in path.parents:
        if parent.name in ('site-packages', 'dist-packages'):
            package = path.relative_to(parent).parts[0]
            return package, parent
    here = Path(__file__).resolve().parents[1]  # the bidsglm package, installed or not
    if here in path.parents:
        return 'bidsglm', here.parent
    return None


def _version(package: str) -> str:
    if package == 'bidsglm':
        return __version__
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return 'unknown'


def describe_inputs(paths: Sequence[str | None]) -> dict[str, Any]:
    """Write a model's input files relative to their dataset (see the module docstring).

    Parameters
    ----------
    paths : sequence of str or None
        The input files, in order; None for an input given in memory.

    Returns
    -------
    dict
        ``InputFiles`` (one entry per path, None kept), ``InputDatasets`` (the
        datasets they belong to, when any) and ``Software`` (bidsglm and any
        package holding inputs, with their versions).

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / 'dataset_description.json').write_text('{"Name": "Stroop"}')
    >>> record = describe_inputs([str(root / 'sub-01' / 'func' / 'run-1_bold.nii.gz'), None])
    >>> record['InputFiles']
    ['sub-01/func/run-1_bold.nii.gz', None]
    >>> record['InputDatasets']
    [{'Name': 'Stroop', 'DatasetType': 'raw', 'Files': 1}]
    >>> record['Software'][0]['Name']
    'bidsglm'
    """
    files: list[str | None] = []
    datasets: dict[Path, dict[str, Any]] = {}
    software = {'bidsglm': dict(SOFTWARE)}
    for given in paths:
        if given is None:
            files.append(None)
            continue
        path = Path(given).absolute()
        root = find_dataset_root(path)
        package = _package_of(path.resolve()) if root is None else None
        if root is not None:
            entry = datasets.setdefault(root, {**_dataset_entry(root), 'Files': 0})
            entry['Files'] += 1
            files.append(path.relative_to(root).as_posix())
        elif package is not None:
            name, start = package
            software.setdefault(name, {'Name': name, 'Version': _version(name)})
            files.append(path.relative_to(start).as_posix())
        else:
            files.append(str(given))
    record: dict[str, Any] = {'InputFiles': files}
    if datasets:
        record['InputDatasets'] = list(datasets.values())
    record['Software'] = list(software.values())
    return record
