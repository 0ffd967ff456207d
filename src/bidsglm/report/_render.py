"""One report page from a saved model's files, or from a model staged in memory.

:func:`render_report` is what :func:`~bidsglm.report.write_report`, the report
written by every save and :func:`~bidsglm.report.fitted.generate_report` share:
the same parts, drawn the same way, whichever of them asks. A surface model's
contrasts and model quality are told in tables (:mod:`bidsglm.report._surface_sections`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bidsglm._version import __version__
from bidsglm.bids.entities import parse_bids_name
from bidsglm.report import html
from bidsglm.report._sections import (
    ReportContext,
    contrast_section,
    design_section,
    model_section,
    quality_section,
)
from bidsglm.report._surface_sections import surface_contrast_section, surface_quality_section
from bidsglm.report.atlas import ATLAS_CREDIT
from bidsglm.report.options import ReportOptions

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping
    from pathlib import Path

    from bidsglm.bids import LoadedGlm
    from bidsglm.bids.writer import StagedImage

__all__ = ['REPORT_SUFFIX', 'render_report', 'report_path']

REPORT_SUFFIX = 'report.html'


def report_path(statmap: Path) -> Path:
    """Name the report after the model's statmap.json: ``<entities>_report.html``.

    Parameters
    ----------
    statmap : pathlib.Path
        The model's ``statmap.json``.

    Returns
    -------
    pathlib.Path
        The report beside it.

    Examples
    --------
    >>> from pathlib import Path
    >>> report_path(Path('sub-01/sub-01_task-x_statmap.json')).as_posix()
    'sub-01/sub-01_task-x_report.html'
    """
    return statmap.with_name(statmap.name.removesuffix('statmap.json') + REPORT_SUFFIX)


def _title(glm: LoadedGlm, unnamed: str | None) -> str:
    """Title a report by the model's entities, else ``unnamed``, else its folder."""
    name = parse_bids_name(glm.statmap)
    parts = [f'{k}-{v}' for k, v in name.entities.items()] + list(name.others)
    return 'GLM report: ' + (' '.join(parts) if parts else unnamed or glm.statmap.parent.name)


def _subtitle(glm: LoadedGlm) -> str:
    """Summarise the model in one line."""
    level = 'Group (second-level) model' if glm.level == 'second' else 'First-level model'
    designs = len(glm.designs)
    unit = 'design' if glm.level == 'second' else 'run'
    contrasts = len(glm.contrasts)
    return (
        f'{level}, {designs} {unit}{"s" if designs != 1 else ""}, '
        f'{contrasts} contrast{"s" if contrasts != 1 else ""}'
    )


def render_report(
    path: str | os.PathLike[str],
    options: ReportOptions | None = None,
    images: Mapping[Path, StagedImage] | None = None,
    *,
    in_memory: str | None = None,
) -> tuple[Path, str]:
    """Return where a model's report goes and its HTML.

    Parameters
    ----------
    path : path-like
        A model's ``statmap.json``, or a folder holding one saved model.
    options : ReportOptions, optional
        How the report is drawn.
    images : mapping of path to nibabel image, optional
        Its maps already in memory, by path.
    in_memory : str, optional
        For a model staged from memory rather than saved: its name (the class of
        the model), which titles the page when its files carry no entities.

    Returns
    -------
    report : pathlib.Path
        ``<entities>_report.html`` beside the ``statmap.json``.
    document : str
        The page.

    Examples
    --------
    >>> import tempfile, nibabel as nib, numpy as np
    >>> from bidsglm import save_glm_to_bids
    >>> from bidsglm.models import SecondLevelModel
    >>> maps = [nib.Nifti1Image(np.full((2, 2, 2), v), np.eye(4)) for v in (1., 2., 4.)]
    >>> mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))
    >>> saved = save_glm_to_bids(SecondLevelModel(mask_img=mask).fit(maps), 'intercept',
    ...                          out_dir=tempfile.mkdtemp(), prefix='task-x')
    >>> target, document = render_report(saved.statmap, ReportOptions(title='Group'))
    >>> target.name, '<h1>Group</h1>' in document
    ('task-x_report.html', True)
    """
    options = options or ReportOptions()
    context = ReportContext.load(
        path,
        thresholding=options.thresholding,
        background=options.background,
        images=images,
        min_distance=options.min_distance,
        cuts=options.cuts,
        meshes=options.meshes,
        mesh_note=options.mesh_note,
    )
    glm = context.glm
    surface = context.surface is not None
    draw_contrast = surface_contrast_section if surface else contrast_section
    sections = [
        model_section(context),
        design_section(context),
        *(draw_contrast(contrast, context) for contrast in glm.contrasts),
        surface_quality_section(context) if surface else quality_section(context),
    ]
    subtitle = _subtitle(glm)
    origin = (
        f'from a fitted {in_memory}, in memory' if in_memory else 'from the files beside this page'
    )
    document = html.page(
        options.title if options.title is not None else _title(glm, in_memory or options.folder),
        sections,
        subtitle=subtitle,
        description=subtitle,
        footer=f'Made by bidsglm {__version__} {origin}. '
        'The page is self-contained: it loads nothing from the network.'
        + (f' {ATLAS_CREDIT}' if context.atlas is not None else ''),
    )
    return report_path(glm.statmap), document
