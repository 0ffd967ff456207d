"""The HTML report of a model, built from its saved files.

:func:`write_report` reads a folder written by :func:`bidsglm.save_glm_to_bids` and
writes one self-contained page beside the model's ``statmap.json``
(``<entities>_report.html``): the model in words, its designs, each contrast's
weights, thresholded z map (both signs of a t contrast) and tables of clusters and
peaks, and r-squared and residual maps. Every save writes it too
(:func:`report_companion`), and a fitted model's ``generate_report`` draws the same
page from the model in memory (:mod:`bidsglm.report.fitted`). :func:`report_options`
reads nilearn's report keywords. :func:`write_index` writes ``index.html`` at the
top of an output folder, linking every report below it.

A surface model (GIFTI, CIFTI-2) gets the same page with its contrasts told in
tables: the threshold, the elements (vertices, subcortical voxels) passing it per
part, and the strongest of each sign by part and index; given meshes of its
hemispheres (:mod:`bidsglm.report.mesh`), each z map is also drawn on them
(:mod:`bidsglm.report.surface_figure`), and a CIFTI-2 file's subcortical voxels
as slices.
"""

from __future__ import annotations

import functools
import json
import os
import re
from html import unescape
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from bidsglm._version import __version__
from bidsglm.bids.entities import parse_bids_name
from bidsglm.bids.transaction import model_lock, replace_shared_file, write_atomically
from bidsglm.bids.writer import Companion
from bidsglm.errors import InputNotFoundError
from bidsglm.report import html
from bidsglm.report._render import REPORT_SUFFIX, render_report
from bidsglm.report.clusters import Clusters, Thresholding, fdr_threshold, find_clusters
from bidsglm.report.mesh import read_meshes
from bidsglm.report.options import ReportOptions, report_options

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from nibabel.spatialimages import SpatialImage

    from bidsglm.bids.writer import StagedImage

__all__ = [
    'REPORT_COMPANION',
    'Clusters',
    'ReportOptions',
    'Thresholding',
    'fdr_threshold',
    'find_clusters',
    'find_reports',
    'is_surface_model',
    'report_companion',
    'report_options',
    'write_index',
    'write_report',
]

INDEX_NAME = 'index.html'
_DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')


def write_report(
    path: str | os.PathLike[str],
    *,
    thresholding: Thresholding | None = None,
    background: str | os.PathLike[str] | SpatialImage | None = None,
    images: Mapping[Path, StagedImage] | None = None,
    meshes: Mapping[str, object] | None = None,
) -> Path:
    """Write the HTML report of a saved model, beside its ``statmap.json``.

    Parameters
    ----------
    path : path-like
        A model's ``statmap.json``, or a folder holding exactly one saved model.
    thresholding : Thresholding, optional
        How the z maps are thresholded; by default uncorrected p < 0.001.
    background : path-like or nibabel image, optional
        An image drawn under the z maps (a mean EPI, a template), resampled to the
        maps' grid; a 4D image is averaged over time. By default the model's saved
        mean image (``stat-mean``, first level) is drawn, else for a model in an MNI
        space the MNI template shipped with bidsglm (:mod:`bidsglm.report.underlay`),
        else the mask.
    images : mapping of path to nibabel image, optional
        Saved maps already in memory, by path (as :func:`bidsglm.save_glm_to_bids`
        hands over the files it just wrote): used instead of reading those files.
    meshes : dict, optional
        A surface model only: a mesh per hemisphere, ``{'left': ..., 'right': ...}``
        (either may be left out), each a GIFTI surface file (``*.surf.gii``), a
        ``nibabel.gifti.GiftiImage`` or a ``(coordinates, faces)`` pair. Each
        contrast's thresholded z map is then drawn on them, lateral and medial
        views. A GIFTI hemisphere needs a mesh of its number of vertices, a CIFTI-2
        cortex one of its surface's (``surface_number_of_vertices``).

    Returns
    -------
    pathlib.Path
        The report, ``<entities>_report.html`` (``report.html`` without entities).

    Raises
    ------
    InputNotFoundError
        If ``path`` holds no saved model, or the model has no mask.
    InvalidParameterError
        If ``path`` holds several models.
    ShapeMismatchError
        If a mesh does not match the model's hemisphere (its number of vertices), or
        meshes are given for a volume model; checked before anything is drawn.

    Examples
    --------
    >>> import tempfile, nibabel as nib, numpy as np
    >>> from bidsglm import save_glm_to_bids
    >>> from bidsglm.models import SecondLevelModel
    >>> rng = np.random.default_rng(0)
    >>> maps = [nib.Nifti1Image(rng.normal(2, 1, (4, 4, 4)), np.eye(4)) for _ in range(5)]
    >>> mask = nib.Nifti1Image(np.ones((4, 4, 4), np.uint8), np.eye(4))
    >>> out = tempfile.mkdtemp()
    >>> _ = save_glm_to_bids(SecondLevelModel(mask_img=mask).fit(maps), 'intercept',
    ...                      out_dir=out, prefix='task-x')
    >>> write_report(out).name
    'task-x_report.html'
    """
    options = ReportOptions(
        thresholding=thresholding or Thresholding(),
        background=background,
        meshes=read_meshes(meshes),
    )
    target, document = render_report(path, options, images)
    write_atomically(target, document.encode('utf-8'))
    return target


def _visible_files(root: Path) -> list[Path]:
    """Every file under ``root``, hidden folders (staging) skipped, in sorted order."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
        found += [Path(dirpath) / name for name in sorted(filenames)]
    return found


def _is_model_statmap(path: Path) -> bool:
    """Tell a model's statmap.json from a map's sidecar (which has a ``stat-``)."""
    name = parse_bids_name(path)
    return (
        name.suffix == 'statmap'
        and name.extension == '.json'
        and not {'stat', 'contrast'} & set(name.entities)
    )


def is_surface_model(statmap: Path) -> bool:
    """Tell whether a model's ``statmap.json`` is that of a surface model.

    Parameters
    ----------
    statmap : pathlib.Path
        The model's ``statmap.json``.

    Returns
    -------
    bool
        True when it records a ``Surface`` (GIFTI or CIFTI-2 model).

    Examples
    --------
    >>> import tempfile
    >>> statmap = Path(tempfile.mkdtemp()) / 'statmap.json'
    >>> _ = statmap.write_text('{"Surface": {"Format": "GIFTI"}}')
    >>> is_surface_model(statmap)
    True
    """
    content = json.loads(statmap.read_text(encoding='utf-8'))
    return isinstance(content, dict) and isinstance(content.get('Surface'), dict)


def find_reports(output_dir: str | os.PathLike[str]) -> list[Path]:
    """Return every report below a folder, in sorted order.

    Parameters
    ----------
    output_dir : path-like
        The folder.

    Returns
    -------
    list of pathlib.Path
        The ``*report.html`` files.

    Examples
    --------
    >>> import tempfile
    >>> find_reports(tempfile.mkdtemp())
    []
    """
    return [p for p in _visible_files(Path(output_dir)) if p.name.endswith(REPORT_SUFFIX)]


def _summary(report: Path) -> str:
    """Read the one-line summary a report stores in its description."""
    with report.open(encoding='utf-8') as stream:
        found = _DESCRIPTION.search(stream.read(4096))
    return unescape(found.group(1)) if found else ''


def write_index(output_dir: str | os.PathLike[str], *, rebuild: bool = False) -> Path:
    """Write ``index.html`` at the top of an output folder, linking every report below it.

    Parameters
    ----------
    output_dir : path-like
        The folder (the ``OUTPUT_DIR`` of the command line, an ``out_dir``).
    rebuild : bool, default=False
        First (re)write the report of every saved model found below the folder.

    Returns
    -------
    pathlib.Path
        The index page.

    Raises
    ------
    InputNotFoundError
        If ``output_dir`` is not a folder.

    Examples
    --------
    >>> import tempfile
    >>> write_index(tempfile.mkdtemp()).name
    'index.html'
    """
    root = Path(output_dir)
    if not root.is_dir():
        msg = f'{str(root)!r} is not a folder. Give the output folder of bidsglm.'
        raise InputNotFoundError(msg)
    if rebuild:
        for statmap in filter(_is_model_statmap, _visible_files(root)):
            _rebuild_report(root, statmap)
    reports = find_reports(root)
    links = [(p.relative_to(root).as_posix(), p.relative_to(root).as_posix(), _summary(p))
             for p in reports]  # fmt: skip
    body = html.link_list(links) if links else html.paragraph('No report was found.', 'muted')
    document = html.page(
        f'GLM reports: {root.resolve().name}',
        [html.Section('reports', f'{len(links)} report{"s" if len(links) != 1 else ""}', body)],
        description=f'Index of {len(links)} bidsglm reports',
        footer=f'Made by bidsglm {__version__}.',
    )
    replace_shared_file(root, INDEX_NAME, lambda _old: document.encode('utf-8'))
    return root / INDEX_NAME


def _rebuild_report(root: Path, statmap: Path) -> None:
    """Write a model's report again, while no save of the model runs."""
    relative = PurePosixPath(statmap.relative_to(root).as_posix())
    with model_lock(root, relative):
        target, document = render_report(statmap)
        replace_shared_file(
            root, target.relative_to(root).as_posix(), lambda _old: document.encode('utf-8')
        )


def _write_staged_report(
    staged_statmap: Path,
    statmap: PurePosixPath,
    stage: Callable[[PurePosixPath], Path],
    images: Mapping[Path, StagedImage],
    *,
    options: ReportOptions,
) -> None:
    """Write the report of a model being saved, inside the save's staging folder."""
    staged_report, document = render_report(staged_statmap, options, images)
    stage(statmap.parent / staged_report.name).write_text(document, encoding='utf-8')


def report_companion(options: ReportOptions | None = None) -> Companion:
    """Return the report as a companion of a save, drawn with ``options``.

    Parameters
    ----------
    options : ReportOptions, optional
        How the report is drawn (see :func:`report_options` for nilearn's keywords).

    Returns
    -------
    Companion
        What :func:`bidsglm.bids.write_derivatives` runs with a save.

    Examples
    --------
    >>> report_companion().ignore
    ('*report.html', 'index.html')
    """
    write = functools.partial(_write_staged_report, options=options or ReportOptions())
    return Companion(write, ignore=(f'*{REPORT_SUFFIX}', INDEX_NAME))


#: The report as a companion of every save (see :func:`bidsglm.save_glm_to_bids`).
REPORT_COMPANION = report_companion()
