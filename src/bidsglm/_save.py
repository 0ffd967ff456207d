"""``save_glm_to_bids``: a model's BIDS statistical derivatives, with its HTML report.

It joins two layers that do not import each other: :mod:`bidsglm.bids` writes the
derivatives, :mod:`bidsglm.report` adds the report as a companion inside the same
all-or-nothing move. Every call writes the same files, whatever else was imported.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bidsglm.bids.model_view import view_model
from bidsglm.bids.writer import SavedGlm, write_derivatives
from bidsglm.errors import ShapeMismatchError
from bidsglm.report import report_companion, report_options
from bidsglm.report.mesh import check_meshes, read_meshes
from bidsglm.report.mesh_search import default_meshes

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    import numpy as np

    from bidsglm.report.mesh import Mesh

__all__ = ['save_glm_to_bids']


def _report_meshes(
    model: object, meshes: Mapping[str, object] | None, first_level_contrast: object
) -> tuple[dict[str, Mesh], str | None]:
    """Return the meshes a save's report draws on, and where they came from.

    Given meshes are read and checked against the model's surface (an error if they
    do not fit); ``{}`` asks for none. Without them, those of the model's data are
    used (a ``SurfaceImage``'s), else those found beside its GIFTI or CIFTI-2 files
    (:mod:`bidsglm.report.mesh_search`), with a note for the report.
    """
    if meshes is not None:
        read = read_meshes(meshes)
        return (_checked_meshes(model, read, first_level_contrast) if read else {}), None
    return default_meshes(model)


def _checked_meshes(
    model: object, read: dict[str, Mesh], first_level_contrast: object
) -> dict[str, Mesh]:
    """Check given meshes against the model's surface."""
    surface = view_model(model, first_level_contrast).surface
    if surface is None:
        msg = (
            f'Meshes are given, but this {type(model).__name__} was fitted on volumes: '
            'meshes are for models fitted on surface data (GIFTI, CIFTI-2). Leave them out.'
        )
        raise ShapeMismatchError(msg)
    check_meshes(read, surface)
    return read


def save_glm_to_bids(
    model: object,
    contrasts: object,
    contrast_types: Mapping[str, str] | None = None,
    out_dir: str | os.PathLike[str] = '.',
    prefix: str | None = None,
    *,
    first_level_contrast: str | np.ndarray | None = None,
    meshes: Mapping[str, object] | None = None,
    **report_kwargs: Any,  # noqa: ANN401 - nilearn's report keywords, checked by name
) -> SavedGlm:
    """Save a fitted GLM and its contrasts as BIDS statistical derivatives.

    Besides the maps, designs, figures and sidecars, the model's HTML report
    (``<entities>_report.html``) is written beside its ``statmap.json``, drawn as
    ``report_kwargs`` say.

    Parameters
    ----------
    model : FirstLevelModel or SecondLevelModel
        A fitted model, from bidsglm or from nilearn (one fitted with nilearn's
        default ``minimize_memory=True`` kept no residuals: it is saved without
        ``stat-errorts`` and ``stat-rSquare``, with a warning).
    contrasts : str, list, dict or array
        The contrasts: an expression, a list of expressions and arrays, a dict of
        name to expression / list / 1D or 2D array / one expression per run (combined
        by fixed effects, as nilearn's ``compute_contrast`` with a list), or a bare
        array (see :mod:`bidsglm.bids.contrast_specs`). Names become labels by the rule of
        :mod:`bidsglm.bids.labels`.
    contrast_types : dict of str to {'t', 'F'}, optional
        The test of some contrasts, keyed by name or label; it decides what is
        computed (``'F'`` on one row gives F = t squared).
    out_dir : path-like, default='.'
        The derivative dataset's folder; created if needed.
    prefix : str, optional
        ``None`` infers BIDS entities from the input file names; a string of BIDS
        entities (``'sub-01_task-x'``) sets them; other text is put in front of every
        name; ``''`` means none (see :mod:`bidsglm.bids.layout`).
    first_level_contrast : str or array, optional
        Keyword only. For a SecondLevelModel fitted on first-level models: the
        first-level contrast whose maps it tests, as in nilearn. It is recorded in
        ``statmap.json`` and every map's sidecar (``FirstLevelContrast``), and, when
        given by name and ``prefix`` is None, its label becomes the ``desc-`` of every
        file name, so the group models of several first-level contrasts never
        overwrite each other.
    meshes : dict, optional
        Keyword only; a surface model only. A mesh per hemisphere,
        ``{'left': ..., 'right': ...}``, each a GIFTI surface file (``*.surf.gii``),
        a ``nibabel.gifti.GiftiImage`` or a ``(coordinates, faces)`` pair: the report
        draws each contrast's thresholded z map on them (lateral and medial views).
        Each must have the hemisphere's number of vertices (for CIFTI-2, the
        surface's), checked before anything is computed or written. By default, a
        model fitted on nilearn's ``SurfaceImage`` is drawn on that image's mesh,
        and one fitted on GIFTI or CIFTI-2 files on the meshes found beside them
        (the runs' folder, the subject's ``anat`` folder, TemplateFlow's template;
        see :mod:`bidsglm.report.mesh_search`): a found mesh that does not fit is
        skipped, and the report names the files drawn or where it looked. ``{}``
        draws none and looks for none.
    **report_kwargs
        nilearn's report keywords, as its ``save_glm_to_bids`` forwards them to its
        report (see ``FirstLevelModel.generate_report``): ``height_control``,
        ``alpha``, ``threshold``, ``cluster_threshold``, ``two_sided``,
        ``min_distance``, ``bg_img``, ``title``, ``cut_coords`` and
        ``display_mode`` set how the report is drawn; ``plot_type='glass'``,
        display modes other than None, ``'z'``, ``'ortho'`` and ``'tiled'``, and
        ``report_dims`` (a notebook frame's size) are accepted with a warning that
        names them.

    Returns
    -------
    SavedGlm
        The output folder, the ``statmap.json`` and every file written.

    Raises
    ------
    NotFittedError
        If the model is not fitted.
    ContrastError
        For a contrast that cannot be read or tested on the model's design.
    BidsNameError
        For a name or prefix that cannot make safe, distinct BIDS file names.
    ShapeMismatchError
        For meshes that do not match the model's hemispheres, or given for a volume
        model.
    InvalidParameterError
        For a wrong ``out_dir``, ``prefix`` or model type, or a report keyword that
        is not one of nilearn's (the message lists them) or is out of range (a
        ``ParameterTypeError``, also a ``TypeError``, for one of the wrong type).

    Notes
    -----
    Nothing is written until every check has passed and every contrast is
    computed; the files are then staged inside ``out_dir`` and moved into place
    together. On any error, including ``KeyboardInterrupt``, ``out_dir`` is left as
    it was.

    Examples
    --------
    >>> import tempfile, nibabel as nib, numpy as np
    >>> from bidsglm.models import SecondLevelModel
    >>> maps = [nib.Nifti1Image(np.full((2, 2, 2), v), np.eye(4)) for v in (1., 2., 4.)]
    >>> mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))
    >>> model = SecondLevelModel(mask_img=mask).fit(maps)
    >>> saved = save_glm_to_bids(model, 'intercept', out_dir=tempfile.mkdtemp(),
    ...                          prefix='task-x')
    >>> sorted(p.name for p in saved.files if 'stat-t_' in p.name)
    ['task-x_contrast-intercept_stat-t_statmap.json',
     'task-x_contrast-intercept_stat-t_statmap.nii.gz']
    >>> saved.statmap.with_name('task-x_report.html').is_file()
    True
    >>> saved = save_glm_to_bids(model, 'intercept', out_dir=tempfile.mkdtemp(),
    ...                          height_control=None, threshold=2.5, title='Group')
    >>> '<h1>Group</h1>' in saved.statmap.with_name('report.html').read_text()
    True
    """
    drawn_on, mesh_note = _report_meshes(model, meshes, first_level_contrast)
    options = dataclasses.replace(
        report_options(report_kwargs, caller='save_glm_to_bids'),
        meshes=drawn_on,
        mesh_note=mesh_note,
        folder=Path(out_dir).absolute().name,
    )
    return write_derivatives(
        model,
        contrasts,
        contrast_types,
        out_dir,
        prefix,
        companions=(report_companion(options),),
        first_level_contrast=first_level_contrast,
    )
