"""A read-only view of a fitted model: everything the writer needs, nothing more.

:func:`view_model` turns a fitted first- or second-level model, bidsglm's or
nilearn's, into a :class:`ModelView` built from public attributes only. The
writer then never touches the model itself. Dispatch is by ``isinstance`` against
a small registry: bidsglm's classes, nilearn's classes when nilearn is already
imported (the model came from it, so it is; bidsglm never imports nilearn), and
last any object following bidsglm's model contract (``compute_contrast_result``,
``mask_img_`` and the fitted attributes), by duck typing.

For nilearn models, which do not report them, the contrast weights come from
bidsglm's contrast parser and the degrees of freedom are the sum over runs of
``n_scans - rank(design)``, as nilearn computes them. The files a nilearn
first-level model was fitted on are read where nilearn keeps them (its private
``_reporting_data``, the only place it does), so its files are named after its runs
as ours are; a nilearn second-level model is named after its input files, or the
first runs of its first-level models. A nilearn model fitted with its default
``minimize_memory=True`` kept no residuals: it is saved without them, with a warning.

A bidsglm model fitted on surface data gives its mask as a
:class:`~bidsglm.models.surface.SurfaceMask` (the vertices kept, on the runs'
surface); its maps stay images of the runs' form, which the writer reads. nilearn's
surface models are refused.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import nibabel as nib
import numpy as np

from bidsglm.bids.contrast_specs import contrast_weights, per_design
from bidsglm.bids.surface_files import check_hemispheres
from bidsglm.errors import (
    ContrastError,
    InvalidParameterError,
    NotFittedError,
    ShapeMismatchError,
    warn_caller,
)
from bidsglm.models.surface import SurfaceLayout, SurfaceMask, is_surface_input, read_surface

if TYPE_CHECKING:
    import pandas as pd

    from bidsglm.bids.contrast_specs import ContrastSpec

__all__ = ['MODEL_PARAMETERS', 'ContrastMaps', 'ModelView', 'design_rows', 'view_model']

Level = Literal['first', 'second']

#: The public parameters recorded in ``statmap.json`` when the model has them.
MODEL_PARAMETERS: tuple[str, ...] = (
    't_r',
    'slice_time_ref',
    'hrf_model',
    'drift_model',
    'high_pass',
    'drift_order',
    'fir_delays',
    'min_onset',
    'noise_model',
    'signal_scaling',
    'standardize',
    'smoothing_fwhm',
    'subject_label',
)


@dataclass(frozen=True)
class ContrastMaps:
    """The maps of one computed contrast, with what its sidecars record.

    Parameters
    ----------
    images : dict of str to nibabel.Nifti1Image
        Keyed ``'effect_size'``, ``'effect_variance'``, ``'stat'``, ``'p_value'``,
        ``'z_score'``, exactly as the model's ``compute_contrast`` returns them.
    weights : tuple of (q, p) ndarray
        The weights over each design's columns.
    columns : tuple of tuple of str
        The columns of each design.
    dof : float
        The error degrees of freedom of the test.
    stat_type : {'t', 'F'}
        The test that was computed.
    """

    images: dict[str, nib.Nifti1Image] = field(repr=False)
    weights: tuple[np.ndarray, ...] = field(compare=False)
    columns: tuple[tuple[str, ...], ...]
    dof: float
    stat_type: Literal['t', 'F']

    @property
    def effect_dof(self) -> int:
        """The number of rows of the contrast."""
        return int(self.weights[0].shape[0])


@dataclass(frozen=True)
class ModelView:
    """What the writer reads from a fitted model.

    Parameters
    ----------
    level : {'first', 'second'}
        First level (runs of one subject) or second level (a group).
    estimator : str
        The model's class, as ``module.Class``.
    designs : tuple of pandas.DataFrame
        One design per run (first level) or the group design.
    mask_img : nibabel.Nifti1Image or bidsglm.models.surface.SurfaceMask
        The mask the model used: an image for a volume model, the vertices kept
        (and the surface they are on) for a surface model.
    sources : tuple of str or None
        The file of each run (first level) or input map (second level), or None.
    parameters : dict
        The model's public parameters among :data:`MODEL_PARAMETERS`.
    compute : callable
        ``compute(spec) -> ContrastMaps``.
    residuals : callable or None
        ``residuals() -> tuple`` of 4D images, one per design; None when the model
        kept none.
    r_square : callable or None
        ``r_square() -> tuple`` of images, one per design; None as ``residuals``.
    mean_img : nibabel.Nifti1Image or None
        The data averaged over time, saved as ``stat-mean`` (the report draws the
        maps over it); None when the model does not keep it.
    first_level_contrast : str, array or None
        For a second-level model fitted on first-level models, the first-level
        contrast whose maps it tests.
    residual_rows : callable or None
        For a model that gives its residuals one volume at a time (bidsglm's):
        ``residual_rows(index)`` yields each volume's in-mask values of design
        ``index``, in the C order of the mask's voxels; ``stat-errorts`` is then
        written volume by volume from them, never whole in memory. None: from
        ``residuals``.

    Attributes
    ----------
    rows : str
        What one row of the designs is, in the singular (see :func:`design_rows`).
    """

    level: Level
    estimator: str
    designs: tuple[pd.DataFrame, ...] = field(repr=False, compare=False)
    mask_img: nib.Nifti1Image | SurfaceMask = field(repr=False)
    sources: tuple[str | None, ...]
    parameters: dict[str, Any]
    compute: Callable[[ContrastSpec], ContrastMaps] = field(repr=False)
    residuals: Callable[[], tuple[nib.Nifti1Image, ...]] | None = field(repr=False)
    r_square: Callable[[], tuple[nib.Nifti1Image, ...]] | None = field(repr=False)
    mean_img: nib.Nifti1Image | None = field(default=None, repr=False)
    first_level_contrast: Any = None
    residual_rows: Callable[[int], Iterator[np.ndarray]] | None = field(default=None, repr=False)

    @property
    def columns(self) -> tuple[tuple[str, ...], ...]:
        """The column names of each design."""
        return tuple(tuple(str(c) for c in design.columns) for design in self.designs)

    @property
    def surface(self) -> SurfaceLayout | None:
        """The surface of a surface model (its parts, its kind); None for a volume model."""
        return self.mask_img.layout if isinstance(self.mask_img, SurfaceMask) else None

    @property
    def rows(self) -> str:
        """What one row of the designs is: ``'scan'``, or the group input's own word."""
        return design_rows(self.designs[0], self.level)


def design_rows(design: pd.DataFrame, level: str) -> str:
    """Say what one row of a design is, in the singular.

    A first-level row is a scan. A group row is an input map, named with the caller's
    word when the design's index has a name (a design built with
    ``index=pd.Index(labels, name='study')`` has rows that are studies).

    Parameters
    ----------
    design : pandas.DataFrame
        The design.
    level : {'first', 'second'}
        The model's level.

    Returns
    -------
    str
        ``'scan'``, the name of the index, or ``'input map'``.

    Examples
    --------
    >>> import pandas as pd
    >>> design = pd.DataFrame({'intercept': [1.0, 1.0]})
    >>> design_rows(design, 'first'), design_rows(design, 'second')
    ('scan', 'input map')
    >>> design_rows(design.rename_axis('study'), 'second')
    'study'
    """
    if level == 'first':
        return 'scan'
    name = design.index.name
    return name.strip() if isinstance(name, str) and name.strip() else 'input map'


# ---------------------------------------------------------------- shared helpers
def _estimator_name(model: object) -> str:
    """Return ``module.Class`` of the model (recorded, never dispatched on)."""
    kind = type(model)
    return f'{kind.__module__}.{kind.__qualname__}'


def _parameters(model: object) -> dict[str, Any]:
    """Read the public parameters the model has, among MODEL_PARAMETERS.

    The smoothing is the one applied: a masker given as ``mask_img`` may bring its
    own (its ``masker_`` then says so) while the model's parameter stays None.
    """
    getter = getattr(model, 'get_params', None)
    params = getter(deep=False) if callable(getter) else vars(model)
    found = {name: params[name] for name in MODEL_PARAMETERS if name in params}
    applied = getattr(getattr(model, 'masker_', None), 'smoothing_fwhm', None)
    if found.get('smoothing_fwhm') is None and applied is not None:
        found['smoothing_fwhm'] = applied
    return found


def _fitted(model: object, attribute: str) -> Any:  # noqa: ANN401
    """Read a fitted attribute, turning its absence into a NotFittedError."""
    try:
        return getattr(model, attribute)
    except (AttributeError, NotFittedError):
        msg = (
            f'This {type(model).__name__} is not fitted yet (it has no {attribute!r}). '
            'Call fit(...) before save_glm_to_bids.'
        )
        raise NotFittedError(msg) from None


def _surface_mask(model: object, mask: object) -> SurfaceMask:
    """Return the vertices a surface model kept, from its masker or its mask image."""
    kept = getattr(getattr(model, 'masker_', None), 'mask_', None)
    if isinstance(kept, SurfaceMask):
        surface_mask = kept
    else:
        data = read_surface(mask, 'the mask of the model (mask_img_)')
        surface_mask = SurfaceMask(data.data[0] != 0, data.layout)
    if surface_mask.inside.shape != (surface_mask.layout.n_vertices,):
        msg = (
            f'The mask of this {type(model).__name__} has {surface_mask.inside.size} values '
            f'for a surface of {surface_mask.layout.n_vertices} vertices '
            f'({surface_mask.layout.describe()}): it cannot be saved. Fit the model again.'
        )
        raise ShapeMismatchError(msg)
    check_hemispheres(surface_mask.layout)
    return surface_mask


def _model_mask(model: object, mask: object) -> nib.Nifti1Image | SurfaceMask:
    """Return the model's mask: a NIfTI image, or the vertices of a surface model."""
    if isinstance(mask, nib.spatialimages.SpatialImage):  # a Cifti2Image is not one
        return cast('nib.Nifti1Image', mask)
    if is_surface_input(mask):
        return _surface_mask(model, mask)
    msg = (
        f'The mask of this {type(model).__name__} is a {type(mask).__name__}, neither a '
        'NIfTI image nor surface data (GIFTI, CIFTI-2, SurfaceImage): it cannot be saved.'
    )
    raise InvalidParameterError(msg)


def _volume_mask(model: object, mask: object) -> nib.Nifti1Image:
    """Return the mask of a nilearn model, refusing nilearn's surface models."""
    if not isinstance(mask, nib.spatialimages.SpatialImage):
        msg = (
            f'This nilearn {type(model).__name__} was fitted on surface data '
            f'({type(mask).__name__}); bidsglm saves the surface models it fits itself, '
            "not nilearn's. Fit bidsglm.FirstLevelModel on the same runs (the "
            "parameters are nilearn's) and save that, or use nilearn's save_glm_to_bids."
        )
        raise InvalidParameterError(msg)
    return cast('nib.Nifti1Image', mask)


def _refuse_first_level_contrast(model: object, first_level_contrast: object) -> None:
    if first_level_contrast is not None:
        msg = (
            "The 'first_level_contrast' parameter of save_glm_to_bids is for a "
            'SecondLevelModel fitted on first-level models; this is a '
            f'{type(model).__name__}. Leave it out.'
        )
        raise InvalidParameterError(msg)


def _from_result(result: Any) -> ContrastMaps:  # noqa: ANN401
    """Turn a bidsglm ContrastResult into ContrastMaps."""
    return ContrastMaps(
        images=result.to_images(),
        weights=tuple(np.atleast_2d(w) for w in result.weights),
        columns=tuple(tuple(c) for c in result.columns),
        dof=float(result.dof),
        stat_type=result.stat_type,
    )


# ---------------------------------------------------------------- bidsglm models
def _ours_first(model: Any, first_level_contrast: object = None) -> ModelView:  # noqa: ANN401
    """View a fitted bidsglm (or contract-following) first-level model."""
    _refuse_first_level_contrast(model, first_level_contrast)
    designs = tuple(_fitted(model, 'design_matrices_'))

    def compute(spec: ContrastSpec) -> ContrastMaps:
        return _from_result(
            model.compute_contrast_result(spec.definition, stat_type=spec.stat_type)
        )

    return ModelView(
        level='first',
        estimator=_estimator_name(model),
        designs=designs,
        mask_img=_model_mask(model, _fitted(model, 'mask_img_')),
        sources=tuple(getattr(model, 'run_sources_', None) or [None] * len(designs)),
        parameters=_parameters(model),
        compute=compute,
        residuals=lambda: tuple(model.residuals_),
        r_square=lambda: tuple(model.r_square_),
        mean_img=getattr(model, 'mean_img_', None),
        residual_rows=getattr(model, 'iter_residuals', None),
    )


def _ours_second(model: Any, first_level_contrast: object = None) -> ModelView:  # noqa: ANN401
    """View a fitted bidsglm (or contract-following) second-level model.

    Its residuals and r-squared are read after the contrasts are computed: for
    inputs that depend on the first-level contrast, they are that contrast's.
    """
    design = _fitted(model, 'design_matrix_')
    keywords = (
        {} if first_level_contrast is None else {'first_level_contrast': first_level_contrast}
    )

    def compute(spec: ContrastSpec) -> ContrastMaps:
        result = model.compute_contrast_result(
            second_level_contrast=spec.definition,
            second_level_stat_type=spec.stat_type,
            **keywords,
        )
        return _from_result(result)

    return ModelView(
        level='second',
        estimator=_estimator_name(model),
        designs=(design,),
        mask_img=_model_mask(model, _fitted(model, 'mask_img_')),
        sources=tuple(getattr(model, 'input_sources_', None) or [None] * len(design)),
        parameters=_parameters(model),
        compute=compute,
        residuals=lambda: (model.residuals_,),
        r_square=lambda: (model.r_square_,),
        first_level_contrast=first_level_contrast,
        residual_rows=_one_design_rows(getattr(model, 'iter_residuals', None)),
    )


def _one_design_rows(
    rows: Callable[[], Iterator[np.ndarray]] | None,
) -> Callable[[int], Iterator[np.ndarray]] | None:
    """Give a model of one design's ``iter_residuals()`` the view's ``(index)`` form."""
    return None if rows is None else lambda _index: rows()


# ---------------------------------------------------------------- nilearn models
def _dof(designs: tuple[pd.DataFrame, ...]) -> float:
    """Sum over designs of n_rows - rank, nilearn's error degrees of freedom."""
    return float(sum(len(d) - np.linalg.matrix_rank(d.to_numpy(dtype=float)) for d in designs))


def _nilearn_maps(images: dict[str, Any], spec: ContrastSpec, designs: Any) -> ContrastMaps:  # noqa: ANN401
    """Assemble ContrastMaps from nilearn's images and our reading of the weights."""
    columns = tuple(tuple(str(c) for c in design.columns) for design in designs)
    return ContrastMaps(
        images=dict(images),
        weights=tuple(
            contrast_weights(definition, cols)
            for definition, cols in zip(
                per_design(spec.definition, len(columns)), columns, strict=True
            )
        ),
        columns=columns,
        dof=_dof(tuple(designs)),
        stat_type=spec.stat_type,
    )


def _nilearn_attribute(model: Any, attribute: str) -> tuple[nib.Nifti1Image, ...]:  # noqa: ANN401
    """Read nilearn's residuals or r-square as a tuple of images, one per design."""
    try:
        value = getattr(model, attribute)
    except ValueError as error:
        msg = f'nilearn could not give the {attribute} of this model: {error}'
        raise ContrastError(msg) from error
    return tuple(value) if isinstance(value, list) else (value,)


def _nilearn_kept(model: Any, name: str) -> Callable[[], tuple[nib.Nifti1Image, ...]] | None:  # noqa: ANN401
    """Return how to read a voxel-wise attribute, None when minimize_memory dropped it."""
    if getattr(model, 'minimize_memory', False):
        return None
    return lambda: _nilearn_attribute(model, name)


def _warn_minimized(model: object) -> None:
    """Say which files a nilearn model fitted with minimize_memory=True cannot give."""
    if getattr(model, 'minimize_memory', False):
        kind = type(model).__name__
        msg = (
            f"This nilearn {kind} was fitted with minimize_memory=True (nilearn's "
            'default) and kept no residuals: stat-errorts and stat-rSquare are not '
            f'saved. Fit it with {kind}(minimize_memory=False) to save them, or use '
            f'bidsglm.{kind}, which keeps them by default.'
        )
        warn_caller(msg)


def _nilearn_run_files(model: Any, n_runs: int) -> tuple[str | None, ...]:  # noqa: ANN401
    """Return the file each run of a nilearn first-level model was read from."""
    kept = getattr(model, '_reporting_data', {}).get('run_imgs', {})
    entries = [kept.get(index) or {} for index in range(n_runs)]
    return tuple(
        str(entry['file_path']) if isinstance(entry, dict) and entry.get('file_path') else None
        for entry in entries
    )


def _nilearn_input_file(item: object) -> str | None:
    """Return the file behind one second-level input: a path, or a model's first run."""
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)
    return _nilearn_run_files(item, 1)[0] if hasattr(item, 'design_matrices_') else None


def _nilearn_group_files(model: Any, n_maps: int) -> tuple[str | None, ...]:  # noqa: ANN401
    """Return the file behind each input of a nilearn SecondLevelModel, where known."""
    inputs = getattr(model, 'second_level_input_', None)
    if not isinstance(inputs, list) or len(inputs) != n_maps:
        return (None,) * n_maps
    return tuple(_nilearn_input_file(item) for item in inputs)


def _nilearn_first(model: Any, first_level_contrast: object = None) -> ModelView:  # noqa: ANN401
    """View a fitted nilearn FirstLevelModel."""
    _refuse_first_level_contrast(model, first_level_contrast)
    designs = tuple(_fitted(model, 'design_matrices_'))

    def compute(spec: ContrastSpec) -> ContrastMaps:
        per_run = per_design(spec.definition, len(designs))  # no "same contrast" warning
        images = model.compute_contrast(per_run, stat_type=spec.stat_type, output_type='all')
        return _nilearn_maps(images, spec, designs)

    sources = _nilearn_run_files(model, len(designs))
    return _nilearn_view('first', model, designs, compute, sources)


def _nilearn_second(model: Any, first_level_contrast: object = None) -> ModelView:  # noqa: ANN401
    """View a fitted nilearn SecondLevelModel."""
    designs = (_fitted(model, 'design_matrix_'),)

    def compute(spec: ContrastSpec) -> ContrastMaps:
        images = model.compute_contrast(
            second_level_contrast=spec.definition,
            first_level_contrast=first_level_contrast,
            second_level_stat_type=spec.stat_type,
            output_type='all',
        )
        return _nilearn_maps(images, spec, designs)

    sources = _nilearn_group_files(model, len(designs[0]))
    view = _nilearn_view('second', model, designs, compute, sources)
    return dataclasses.replace(view, first_level_contrast=first_level_contrast)


def _nilearn_view(
    level: Level,
    model: Any,  # noqa: ANN401
    designs: tuple[pd.DataFrame, ...],
    compute: Callable[[ContrastSpec], ContrastMaps],
    sources: tuple[str | None, ...],
) -> ModelView:
    """Build the parts of a nilearn view that both levels share."""
    mask = _volume_mask(model, _fitted(model, 'masker_').mask_img_)
    _warn_minimized(model)
    return ModelView(
        level=level,
        estimator=_estimator_name(model),
        designs=designs,
        mask_img=mask,
        sources=sources,
        parameters=_parameters(model),
        compute=compute,
        residuals=_nilearn_kept(model, 'residuals_'),
        r_square=_nilearn_kept(model, 'r_square_'),
    )


# ---------------------------------------------------------------- dispatch
Builder = Callable[[Any, object], ModelView]


def _ours() -> list[tuple[type, Builder]]:
    """List bidsglm's model classes (imported here, lazily)."""
    try:
        from bidsglm.models import FirstLevelModel, SecondLevelModel  # noqa: PLC0415
    except ImportError:  # pragma: no cover - only while the models are being written
        return []
    return [(FirstLevelModel, _ours_first), (SecondLevelModel, _ours_second)]


def _nilearns() -> list[tuple[type, Builder]]:
    """List nilearn's model classes if nilearn is already imported (never import it)."""
    found: list[tuple[type, Builder]] = []
    for module, name, build in (
        ('nilearn.glm.first_level', 'FirstLevelModel', _nilearn_first),
        ('nilearn.glm.second_level', 'SecondLevelModel', _nilearn_second),
    ):
        kind = getattr(sys.modules.get(module), name, None)
        if isinstance(kind, type):
            found.append((kind, build))
    return found


def _duck(model: object) -> Builder | None:
    """Recognise an object that follows bidsglm's model contract."""
    method = getattr(model, 'compute_contrast_result', None)
    if not callable(method):
        return None
    second = 'second_level_contrast' in inspect.signature(method).parameters
    return _ours_second if second else _ours_first


def view_model(model: object, first_level_contrast: object = None) -> ModelView:
    """Build the writer's view of a fitted model.

    Parameters
    ----------
    model : FirstLevelModel or SecondLevelModel
        Fitted; from bidsglm, from nilearn, or any object following bidsglm's model
        contract.
    first_level_contrast : str or array, optional
        For a second-level model fitted on first-level models: the first-level
        contrast whose maps it tests.

    Returns
    -------
    ModelView
        Designs, mask, sources and parameters read now; contrasts, residuals and
        r-square computed on demand.

    Raises
    ------
    NotFittedError
        If the model is not fitted.
    InvalidParameterError
        If the object is not a model the writer knows, is a nilearn model fitted on
        surface data, has surface parts other than ``'left'`` and ``'right'`` (GIFTI,
        SurfaceImage), or ``first_level_contrast`` is given for a first-level model.
    ShapeMismatchError
        If a surface model's mask does not fit its surface.

    Warns
    -----
    UserWarning
        For a nilearn model fitted with ``minimize_memory=True``: it is saved
        without residuals and r-squared.

    Examples
    --------
    >>> import nibabel as nib, numpy as np, pandas as pd
    >>> from bidsglm.models import SecondLevelModel
    >>> maps = [nib.Nifti1Image(np.full((2, 2, 2), v), np.eye(4)) for v in (1., 2., 4.)]
    >>> mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))
    >>> view = view_model(SecondLevelModel(mask_img=mask).fit(maps))
    >>> view.level, view.columns
    ('second', (('intercept',),))
    """
    for kind, build in [*_ours(), *_nilearns()]:
        if isinstance(model, kind):
            return build(model, first_level_contrast)
    build_duck = _duck(model)
    if build_duck is None:
        msg = (
            "The 'model' parameter of save_glm_to_bids must be a fitted FirstLevelModel or "
            f'SecondLevelModel (from bidsglm or nilearn). Got {type(model).__name__} instead.'
        )
        raise InvalidParameterError(msg)
    return build_duck(model, first_level_contrast)
