"""``generate_report``: the HTML report of a fitted model, drawn from memory.

Both models' ``generate_report`` method (nilearn 0.14.1's signature) comes here
(``models`` may not import ``report``: the package's entry point links them, see
:mod:`bidsglm._hooks`). The page is the one a save writes beside the model,
drawn by the same code from the same staged files, but nothing is saved: the writer
stages the model's small files in a scratch folder and hands its maps over in
memory (:func:`bidsglm.bids.writer.preview_derivatives`), and the page is returned
as an :class:`~bidsglm.report.document.HTMLReport`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from bidsglm.bids.writer import preview_derivatives
from bidsglm.errors import warn_caller
from bidsglm.models import FirstLevelModel
from bidsglm.report._render import render_report
from bidsglm.report.document import HTMLReport
from bidsglm.report.mesh_search import default_meshes
from bidsglm.report.options import report_options

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path, PurePosixPath

    from bidsglm.bids.writer import StagedImage
    from bidsglm.report.options import ReportOptions

__all__ = ['generate_report']

#: A first-level contrast: a name or weights.
Contrast = str | np.ndarray | None


def _first_level_contrast(model: object, first_level_contrast: Contrast) -> Contrast:
    """Ignore ``first_level_contrast`` for a first-level model, with nilearn's warning."""
    if first_level_contrast is not None and isinstance(model, FirstLevelModel):
        warn_caller(
            "'first_level_contrast' is ignored for FirstLevelModel (it names the maps a "
            'SecondLevelModel fitted on first-level models tests). Setting '
            'first_level_contrast=None.'
        )
        return None
    return first_level_contrast


def _contrasts(contrasts: object) -> object:
    """No contrast draws the model, designs and quality alone, with nilearn's warning."""
    if contrasts is None:
        warn_caller(
            'No contrast passed during report generation: the report shows the model, '
            'its designs and its fit. Pass contrasts=... to see thresholded maps.'
        )
        return []
    return contrasts


def _draw(
    model: object, contrasts: object, first_level_contrast: Contrast, options: ReportOptions
) -> str:
    """Stage the model in memory and draw its page."""
    pages: list[str] = []

    def draw(
        staged_statmap: Path,
        statmap: PurePosixPath,
        stage: Callable[[PurePosixPath], Path],
        images: Mapping[Path, StagedImage],
    ) -> None:
        del statmap, stage
        name = type(model).__name__
        pages.append(render_report(staged_statmap, options, images, in_memory=name)[1])

    preview_derivatives(model, contrasts, draw, first_level_contrast=first_level_contrast)
    return pages[0]


def generate_report(
    model: object,
    contrasts: object = None,
    first_level_contrast: Contrast = None,
    **keywords: Any,  # noqa: ANN401 - nilearn's report keywords, checked by report_options
) -> HTMLReport:
    """Draw the HTML report of a fitted model, without saving anything.

    This is ``FirstLevelModel.generate_report`` and
    ``SecondLevelModel.generate_report``: see them for the parameters.

    Parameters
    ----------
    model : FirstLevelModel or SecondLevelModel
        The fitted model.
    contrasts : str, list, dict or array, optional
        The contrasts, in any form :func:`bidsglm.save_glm_to_bids` takes.
    first_level_contrast : str or array, optional
        For a SecondLevelModel fitted on first-level models.
    **keywords
        nilearn's report keywords (:func:`~bidsglm.report.options.report_options`).

    Returns
    -------
    HTMLReport
        The page.

    Raises
    ------
    InvalidParameterError
        For a report keyword that is not one of nilearn's.

    Examples
    --------
    >>> import nibabel as nib, numpy as np
    >>> from bidsglm.models import SecondLevelModel
    >>> maps = [nib.Nifti1Image(np.full((2, 2, 2), v), np.eye(4)) for v in (1., 2., 4.)]
    >>> mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))
    >>> report = generate_report(SecondLevelModel(mask_img=mask).fit(maps), 'intercept')
    >>> 'Contrast: intercept' in report.html
    True
    """
    meshes, mesh_note = default_meshes(model)
    options = dataclasses.replace(report_options(keywords), meshes=meshes, mesh_note=mesh_note)
    first_level_contrast = _first_level_contrast(model, first_level_contrast)
    page = _draw(model, _contrasts(contrasts), first_level_contrast, options)
    return HTMLReport(page, *options.size)
