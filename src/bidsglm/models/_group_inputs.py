"""The four forms of second-level input, turned into one shape: maps on demand.

A second-level model takes a list of 3D maps (images or paths; a pandas Series of
them too, as in nilearn), one 4D image whose volumes are the maps, a list of fitted
:class:`FirstLevelModel`, or a table with ``subject_label``, ``map_name`` and
``effects_map_path``. Maps may also be surface maps (see
:mod:`bidsglm.models._group_surface`): a list of them, one input holding several,
or first-level models fitted on surface runs. :func:`read_group_input`
turns each into a :class:`GroupInput`: the subject labels, the number of maps, a
function giving the maps of a first-level contrast, and the map the default mask
is computed from (chosen as nilearn chooses it, so masks agree).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd

from bidsglm.errors import (
    ContrastError,
    ImageDimensionError,
    InvalidParameterError,
    NotFittedError,
    ParameterTypeError,
)
from bidsglm.models._group_surface import (
    check_not_mixed,
    check_same_surface,
    split_surface_maps,
    surface_source,
)
from bidsglm.models._images import check_3d, check_same_grid, load_image
from bidsglm.models.first_level import FirstLevelModel
from bidsglm.models.surface import SurfaceData, SurfaceMask, SurfaceMasker, is_surface_input

__all__ = ['GroupInput', 'GroupMaps', 'RunningMean', 'read_group_input']

_TABLE_COLUMNS = ('subject_label', 'map_name', 'effects_map_path')


@dataclass(frozen=True)
class GroupMaps:
    """The input maps of one second-level fit, and the files they came from.

    ``images`` are 3D images for volumes; for surfaces, single-map inputs in a form
    :func:`~bidsglm.models.surface.read_surface` reads (read when the model reads
    them, one at a time).
    """

    images: list[Any]
    sources: list[str | None]


@dataclass(frozen=True)
class GroupInput:
    """A second-level input of any form, read the same way.

    Parameters
    ----------
    labels : list of str or None
        The subject of each map, when the input names them.
    n_maps : int
        The number of maps (rows of the design).
    maps_for : callable
        ``maps_for(first_level_contrast)`` returns the :class:`GroupMaps`.
    needs_contrast : bool
        Whether ``maps_for`` needs a first-level contrast (or map name).
    sample_map : callable
        Returns the image the default mask is computed from.
    sources : list of str or None
        The file behind each map, as far as it is known before a contrast is chosen
        (for first-level models, the file of their first run).
    sample_is_mean : bool, default=False
        Whether ``sample_map`` is the mean of the maps of ``maps_for(None)``: the
        model can then compute it while it reads them, reading each map once.
    on_surface : bool, default=False
        Whether the maps are surface maps. Their mask is computed while they are
        read (``sample_map`` is not used), or is ``surface_mask``.
    surface_mask : SurfaceMask, optional
        For first-level models fitted on surface runs: the vertices inside every
        model's mask, the default mask (known before any contrast is chosen).
    """

    labels: list[str] | None
    n_maps: int
    maps_for: Callable[[Any], GroupMaps]
    needs_contrast: bool
    sample_map: Callable[[], nib.Nifti1Image]
    sources: list[str | None]
    sample_is_mean: bool = False
    on_surface: bool = False
    surface_mask: SurfaceMask | None = None


def read_group_input(second_level_input: Any) -> GroupInput:  # noqa: ANN401
    """Read any accepted form of second-level input.

    Raises
    ------
    ParameterTypeError
        For an unaccepted form or an empty list (also a ``TypeError``, as nilearn).
    ImageDimensionError
        For a single image that is not 4D (also a ``TypeError``, as nilearn), or a
        list that mixes surface maps (or surface first-level models) with others.
    ShapeMismatchError
        For surface first-level models fitted on different surfaces.
    InvalidParameterError
        For a table without its columns, or of surface maps.

    Examples
    --------
    >>> maps = [nib.Nifti1Image(np.full((2, 2, 2), v), np.eye(4)) for v in (1.0, 3.0)]
    >>> group = read_group_input(maps)
    >>> group.n_maps, group.needs_contrast, float(group.sample_map().get_fdata().max())
    (2, False, 2.0)
    """
    if isinstance(second_level_input, pd.DataFrame):
        return _from_table(second_level_input)
    if isinstance(second_level_input, pd.Series):  # of paths or images, as nilearn takes
        second_level_input = second_level_input.tolist()
    if is_surface_input(second_level_input):  # one input holding every map
        return _from_surface_maps(split_surface_maps(second_level_input))
    if isinstance(second_level_input, (str, os.PathLike, nib.spatialimages.SpatialImage)):
        return _from_4d(load_image(second_level_input, name='second_level_input'))
    if isinstance(second_level_input, (list, tuple)) and second_level_input:
        items = list(second_level_input)
        if all(isinstance(item, FirstLevelModel) for item in items):
            return _from_models(items)
        if any(is_surface_input(item) for item in items):
            check_not_mixed(items)
            return _from_surface_maps(items)
        return _from_maps(items)
    msg = (
        'second_level_input must be a non-empty list of 3D images or paths, a 4D image, '
        'a list of fitted FirstLevelModel, a DataFrame with columns '
        f'{list(_TABLE_COLUMNS)}, or surface maps (a list of GIFTI dicts, CIFTI-2 '
        f'.dscalar.nii or SurfaceImage). Got {type(second_level_input).__name__}.'
    )
    raise ParameterTypeError(msg)


def _fixed(maps: GroupMaps, labels: list[str] | None = None) -> GroupInput:
    return GroupInput(
        labels=labels,
        n_maps=len(maps.images),
        maps_for=lambda _: maps,
        needs_contrast=False,
        sample_map=lambda: _mean_image(maps.images),
        sources=maps.sources,
        sample_is_mean=True,
    )


def _from_maps(items: list[Any]) -> GroupInput:
    names = [f'input map {i + 1}' for i in range(len(items))]
    images = [
        check_3d(load_image(item, name=name), name=name)
        for item, name in zip(items, names, strict=True)
    ]
    sources = [os.fspath(item) if isinstance(item, (str, os.PathLike)) else None for item in items]
    check_same_grid(images, [source or name for source, name in zip(sources, names, strict=True)])
    return _fixed(GroupMaps(images, sources))


def _from_4d(image: nib.Nifti1Image) -> GroupInput:
    if image.ndim != 4:
        msg = (
            f'A single second-level input image must be 4D (one volume per map); got '
            f'shape {image.shape}. Pass a list of 3D maps instead.'
        )
        raise ImageDimensionError(msg)
    data = np.asanyarray(image.dataobj)
    volumes = [nib.Nifti1Image(data[..., i], image.affine) for i in range(image.shape[3])]
    return _fixed(GroupMaps(volumes, [None] * len(volumes)))


def _from_surface_maps(items: list[Any]) -> GroupInput:
    """Surface maps, one per item: read when the model reads them (mask included)."""
    maps = GroupMaps(items, [surface_source(item) for item in items])
    return GroupInput(
        labels=None,
        n_maps=len(items),
        maps_for=lambda _: maps,
        needs_contrast=False,
        sample_map=_no_surface_sample,
        sources=maps.sources,
        on_surface=True,
    )


def _no_surface_sample() -> nib.Nifti1Image:
    msg = 'Surface maps have no sample map: their mask is computed while they are read.'
    raise ValueError(msg)


def _first_run(model: Any) -> str | None:  # noqa: ANN401
    """Return the file of a first-level model's first run: its name tells task and space."""
    sources = getattr(model, 'run_sources_', None) or [None]
    return sources[0]


def _effect(model: Any, contrast: Any) -> nib.Nifti1Image:  # noqa: ANN401
    """Return a first-level model's effect map of ``contrast``.

    Through ``compute_contrast_result``, so that a contrast used for every run of the
    model does not warn once per model (nilearn's second level does).
    """
    return model.compute_contrast_result(contrast).to_images()['effect_size']


def _from_models(models: list[Any]) -> GroupInput:
    for index, model in enumerate(models):
        if not hasattr(model, 'mask_img_'):
            msg = f'First-level model {index + 1} is not fitted; fit every model first.'
            raise NotFittedError(msg)
    on_surface = [isinstance(model.masker_, SurfaceMasker) for model in models]
    if any(on_surface):
        _check_models_not_mixed(on_surface)
        return _from_surface_models(models)

    def maps_for(first_level_contrast: Any) -> GroupMaps:  # noqa: ANN401
        _require_contrast(first_level_contrast)
        images = [_effect(model, first_level_contrast) for model in models]
        return GroupMaps(images, [_first_run(model) for model in models])

    def sample_map() -> nib.Nifti1Image:
        first_column = str(models[0].design_matrices_[0].columns[0])
        return _effect(models[0], first_column)

    labels = [model.subject_label for model in models]
    return GroupInput(
        labels=labels if all(label is not None for label in labels) else None,
        n_maps=len(models),
        maps_for=maps_for,
        needs_contrast=True,
        sample_map=sample_map,
        sources=[_first_run(model) for model in models],
    )


def _require_contrast(first_level_contrast: Any) -> None:  # noqa: ANN401
    """Refuse first-level models as inputs without the contrast to take from them."""
    if first_level_contrast is None:
        msg = (
            'The inputs are first-level models: say which of their contrasts to take, '
            "e.g. compute_contrast(first_level_contrast='audio - visual')."
        )
        raise InvalidParameterError(msg)


def _check_models_not_mixed(on_surface: list[bool]) -> None:
    volumes = [f'model {i + 1}' for i, surface in enumerate(on_surface) if not surface]
    if volumes:
        msg = (
            f'The first-level models mix surface and volume fits ({", ".join(volumes)} '
            f'{"was" if len(volumes) == 1 else "were"} fitted on volumes): one '
            'second-level model fits one kind. Pass the surface models and the volume '
            'models to separate second-level models.'
        )
        raise ImageDimensionError(msg)


def _from_surface_models(models: list[Any]) -> GroupInput:
    """First-level models fitted on surface runs: their effect maps, on one surface.

    The default mask is the vertices inside every model's mask: outside it an effect
    map is 0 (the first-level mask leaves out vertices without data).
    """
    masks = [model.masker_.mask_ for model in models]
    for index, mask in enumerate(masks[1:], start=2):
        check_same_surface(mask.layout, f'first-level model {index}', masks[0].layout, 'model 1')
    inside = np.logical_and.reduce([mask.inside for mask in masks])

    def maps_for(first_level_contrast: Any) -> GroupMaps:  # noqa: ANN401
        _require_contrast(first_level_contrast)
        images = [_surface_effect(model, first_level_contrast) for model in models]
        return GroupMaps(images, [_first_run(model) for model in models])

    labels = [model.subject_label for model in models]
    return GroupInput(
        labels=labels if all(label is not None for label in labels) else None,
        n_maps=len(models),
        maps_for=maps_for,
        needs_contrast=True,
        sample_map=_no_surface_sample,
        sources=[_first_run(model) for model in models],
        on_surface=True,
        surface_mask=SurfaceMask(inside, masks[0].layout),
    )


def _surface_effect(model: Any, contrast: Any) -> SurfaceData:  # noqa: ANN401
    """Return a surface first-level model's effect of ``contrast``: every vertex, 0 outside."""
    result = model.compute_contrast_result(contrast)
    if result.effect.shape[0] != 1:
        msg = (
            f'first_level_contrast {contrast!r} has {result.effect.shape[0]} rows: a '
            'second-level model takes one effect map per model. Give a t contrast (one '
            'row), or the rows one at a time.'
        )
        raise ContrastError(msg)
    mask = model.masker_.mask_
    values = np.zeros((1, mask.layout.n_vertices))
    values[0, mask.inside] = result.effect[0]
    return SurfaceData(values, mask.layout, _first_run(model))


def _from_table(table: pd.DataFrame) -> GroupInput:
    missing = [column for column in _TABLE_COLUMNS if column not in table.columns]
    if missing:
        msg = (
            f'The second-level table lacks the columns {missing}; it needs '
            f'{list(_TABLE_COLUMNS)} and has {list(table.columns)}.'
        )
        raise InvalidParameterError(msg)
    if any(is_surface_input(path) for path in table['effects_map_path']):
        msg = (
            'The second-level table names surface maps; tables are read for volume maps '
            'only. Pass the surface maps as a list (one per subject, in the order of '
            'your design) with design_matrix, or first-level models fitted on surfaces.'
        )
        raise InvalidParameterError(msg)
    table = table.sort_values('subject_label', kind='stable').reset_index(drop=True)
    map_names = list(dict.fromkeys(table['map_name']))

    def maps_for(map_name: Any) -> GroupMaps:  # noqa: ANN401
        if map_name is None and len(map_names) == 1:
            map_name = map_names[0]
        if map_name not in map_names:
            msg = f'Say which map to take: first_level_contrast must be one of {map_names}.'
            raise InvalidParameterError(msg)
        paths = table.loc[table['map_name'] == map_name, 'effects_map_path'].tolist()
        return _from_maps(paths).maps_for(None)

    first_rows = table[table['map_name'] == map_names[0]]
    return GroupInput(
        labels=[str(label) for label in first_rows['subject_label']],
        n_maps=len(first_rows),
        maps_for=maps_for,
        needs_contrast=len(map_names) > 1,
        sample_map=lambda: load_image(table['effects_map_path'].iloc[0], name='first map'),
        sources=[None] * len(first_rows),
    )


class RunningMean:
    """The voxel-wise mean of 3D maps, summed one by one as nilearn's ``mean_img`` does.

    The sum runs in the first map's floating dtype (float64 for integer maps), so
    the default mask, computed from this mean, is nilearn's to the voxel.

    Examples
    --------
    >>> mean = RunningMean()
    >>> for value in (1.0, 3.0):
    ...     mean.add(np.full((2, 2, 2), value), np.eye(4))
    >>> float(mean.image().get_fdata()[0, 0, 0])
    2.0
    """

    def __init__(self) -> None:
        self._total: np.ndarray | None = None
        self._affine: np.ndarray | None = None
        self._count = 0

    def add(self, data: np.ndarray, affine: np.ndarray) -> None:
        """Add one map's values (as stored: not cast, not cleaned)."""
        volume = data.reshape(data.shape[:3], order='A')  # a view, in the data's order
        if self._total is None:
            kind = data.dtype if np.issubdtype(data.dtype, np.floating) else np.float64
            self._total = np.zeros_like(volume, dtype=kind)  # the same order: no transposing
            self._affine = affine
        self._total += volume
        self._count += 1

    def image(self) -> nib.Nifti1Image:
        """Return the mean as an image on the maps' grid."""
        if self._total is None:
            msg = 'No map was added to the mean.'
            raise ValueError(msg)
        return nib.Nifti1Image(self._total / self._count, self._affine)


def _mean_image(images: list[nib.Nifti1Image]) -> nib.Nifti1Image:
    """Return the voxel-wise mean of 3D maps (see :class:`RunningMean`)."""
    mean = RunningMean()
    for image in images:
        mean.add(np.asanyarray(image.dataobj), image.affine)
    return mean.image()
