"""The parts of a report, each built from a saved model (:class:`~bidsglm.bids.LoadedGlm`).

- the model: a sentence saying what was fitted, its parameters in words, timing,
  noise model, HRF, drift, mask, the space of its coordinates, and the scans (or
  input maps) and regressors of each design;
- the designs: each design matrix and the correlations of its columns;
- one part per contrast: its weights, the thresholded z map over the background
  with the threshold and its sidedness stated (a t contrast is read both ways,
  positive z in red to yellow and negative z in blue to cyan; an F test one way),
  and the tables of clusters and peaks, positive then negative effects, each peak
  named from the shipped atlas in an MNI space (:mod:`bidsglm.report.atlas`);
- model quality: r-squared (said to be uninformative, not drawn, for an
  intercept-only design) and the standard deviation of the residuals.

Saved SVG figures (design and contrast weights) are embedded as they are; they
are drawn again only when missing.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import nibabel as nib
import numpy as np
from nibabel.spatialimages import SpatialImage

from bidsglm.bids import load_glm_from_bids
from bidsglm.bids.entities import parse_bids_name
from bidsglm.bids.figures import contrast_svg, design_svg
from bidsglm.bids.reader import volume_file
from bidsglm.errors import InputNotFoundError, ShapeMismatchError
from bidsglm.report import html
from bidsglm.report._maps import SavedMaps
from bidsglm.report.atlas import ATLAS_NAME, NEAREST_WITHIN_MM, Atlas, atlas_for
from bidsglm.report.clusters import TABLE_COLUMNS, Thresholding, fdr_threshold, find_clusters
from bidsglm.report.figures import (
    background_volume,
    correlation_figure,
    stat_map_figure,
    svg_data_uri,
    volume_figure,
)
from bidsglm.report.mesh import check_meshes
from bidsglm.report.options import Cuts
from bidsglm.report.surface import SurfaceElements
from bidsglm.report.underlay import MNI_TEMPLATE_NAME, template_for

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    import pandas as pd

    from bidsglm.bids import LoadedContrast, LoadedGlm
    from bidsglm.bids.reader import SavedMap
    from bidsglm.bids.writer import StagedImage
    from bidsglm.report.clusters import Clusters
    from bidsglm.report.mesh import Mesh
    from bidsglm.report.options import Background

__all__ = [
    'R_SQUARE_UNINFORMATIVE',
    'SCANNER_SPACE',
    'ReportContext',
    'contrast_rule',
    'contrast_section',
    'design_rows_of',
    'design_section',
    'model_in_words',
    'model_section',
    'plural_of',
    'quality_section',
    'r_square_is_informative',
    'signal_scaling_text',
    'space_name',
    'weight_groups',
]

#: The space of coordinates when the files name none (no ``space-`` entity).
SCANNER_SPACE = 'scanner space'
#: The number of peaks shown per contrast; the others are in a folded part.
SHOWN_ROWS = 30
_NOISE_MODELS = {'ar1': 'AR(1)', 'ols': 'ordinary least squares (OLS)'}
_LEVELS = {'first': 'first level (runs of one subject)', 'second': 'second level (group)'}


@dataclass(frozen=True)
class ReportContext:
    """What every part of one report shares.

    Parameters
    ----------
    glm : LoadedGlm
        The saved model.
    mask : (nx, ny, nz) ndarray of bool
        The model's mask.
    affine : (4, 4) ndarray
        The affine of the mask and of every map.
    background : (nx, ny, nz) ndarray or None
        An image on the same grid, drawn under the stat maps; None draws the mask.
    thresholding : Thresholding
        How z maps are thresholded.
    saved_maps : SavedMaps
        Reads the saved maps (from memory when a save handed them over).
    background_name : str
        What is drawn under the z maps, for the captions.
    min_distance : float, default=8.0
        The smallest distance (mm) between two peaks of a cluster in the tables.
    cuts : Cuts, optional
        Where the z maps are cut.
    space : str, default='scanner space'
        The space of the coordinates, in words (see :func:`space_name`).
    atlas : Atlas or None, default=None
        Names the region at each peak (models in an MNI space); None adds no labels.
    surface : SurfaceElements or None, default=None
        For a surface model, its parts and elements; ``mask`` is then the
        ``(n_elements,)`` mask of its elements and ``affine`` is unused.
    meshes : dict of str to Mesh, optional
        For a surface model, the meshes its z maps are drawn on, by hemisphere.
    mesh_note : str, optional
        Where the meshes were found, or looked for (said under the z maps).
    """

    glm: LoadedGlm
    mask: np.ndarray
    affine: np.ndarray
    background: np.ndarray | None
    thresholding: Thresholding
    saved_maps: SavedMaps
    background_name: str = 'the mask'
    min_distance: float = 8.0
    cuts: Cuts = field(default_factory=Cuts)
    space: str = SCANNER_SPACE
    atlas: Atlas | None = None
    surface: SurfaceElements | None = None
    meshes: Mapping[str, Mesh] = field(default_factory=dict)
    mesh_note: str | None = None

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        thresholding: Thresholding | None = None,
        background: Background = None,
        images: Mapping[Path, StagedImage] | None = None,
        min_distance: float = 8.0,
        cuts: Cuts | None = None,
        meshes: Mapping[str, Mesh] | None = None,
        mesh_note: str | None = None,
    ) -> ReportContext:
        """Read a saved model, its mask and a background (see :func:`write_report`).

        Parameters
        ----------
        path : path-like
            A model's ``statmap.json``, or a folder holding one saved model.
        thresholding : Thresholding, optional
            How z maps are thresholded; by default uncorrected p < 0.001.
        background : path-like, nibabel image or False, optional
            Drawn under the z maps, after resampling to their grid; by default the
            saved mean image (``stat-mean``) when there is one, else in an MNI space
            the shipped MNI template (:mod:`bidsglm.report.underlay`), else the
            mask; False draws none.
        images : mapping of path to nibabel image, optional
            Saved maps already in memory, by path.
        min_distance : float, default=8.0
            The smallest distance (mm) between two peaks of a cluster.
        cuts : Cuts, optional
            Where the z maps are cut.
        meshes : mapping of str to Mesh, optional
            A surface model's meshes by hemisphere (:mod:`bidsglm.report.mesh`).
        mesh_note : str, optional
            Where they were found, or looked for (a surface model only).

        Returns
        -------
        ReportContext
            The shared data of the report.

        Raises
        ------
        InputNotFoundError
            If the saved model has no mask.
        ShapeMismatchError
            If meshes are given for a volume model, or do not fit a surface model's
            hemispheres (checked before anything is drawn).

        Notes
        -----
        A surface model (GIFTI or CIFTI-2) has no background, cuts nor atlas: its
        context holds the mask of its elements and their parts (``surface``).
        """
        glm = load_glm_from_bids(path)
        if glm.mask is None:
            msg = f'The saved model {str(glm.statmap)!r} has no mask file; the report needs it.'
            raise InputNotFoundError(msg)
        if glm.surface_format is not None:
            maps = SavedMaps(images or {})
            context = cls._load_surface(glm, thresholding or Thresholding(), meshes or {}, maps)
            return dataclasses.replace(context, mesh_note=mesh_note)
        if meshes:
            msg = (
                f'Meshes are given, but the saved model {str(glm.statmap)!r} is a volume '
                'model: meshes are for surface models (GIFTI, CIFTI-2). Leave them out.'
            )
            raise ShapeMismatchError(msg)
        maps = SavedMaps(images or {})
        mask, affine = maps.volume(volume_file(glm.mask, 'The mask'))
        template = template_for(glm.statmap)
        if background is None and glm.mean is not None:
            drawn_under: np.ndarray | None = maps.volume(volume_file(glm.mean, 'The mean'))[0]
            name = 'the mean of the data'
        elif background is None and template is not None:
            drawn_under = _background(template, affine, mask.shape)
            name = MNI_TEMPLATE_NAME
        else:
            drawn_under = _background(background or None, affine, mask.shape)
            name = 'the given background' if background else 'the mask'
        return cls(
            glm=glm,
            mask=mask != 0,
            affine=affine,
            background=drawn_under,
            thresholding=thresholding or Thresholding(),
            saved_maps=maps,
            background_name=name,
            min_distance=min_distance,
            cuts=cuts or Cuts(),
            space=space_name(glm.statmap),
            atlas=atlas_for(glm.statmap),
        )

    @classmethod
    def _load_surface(
        cls,
        glm: LoadedGlm,
        thresholding: Thresholding,
        meshes: Mapping[str, Mesh],
        maps: SavedMaps,
    ) -> ReportContext:
        """Read a surface model's mask and parts, and check its meshes against them."""
        inside, layout = maps.surface_values(cast('SavedMap', glm.mask))
        check_meshes(meshes, layout)
        return cls(
            glm=glm,
            mask=inside != 0,
            affine=np.eye(4),
            background=None,
            thresholding=thresholding,
            saved_maps=maps,
            space=space_name(glm.statmap),
            surface=SurfaceElements.of(layout),
            meshes=dict(meshes),
        )

    @property
    def is_first_level(self) -> bool:
        """Tell whether the model is a first-level one (runs rather than subjects)."""
        return self.glm.level != 'second'

    def design_title(self, index: int) -> str:
        """Name a design: ``run 1`` at the first level, ``group design`` at the second."""
        return f'Run {index + 1}' if self.is_first_level else 'Group design'

    def saved_svgs(self, contrast: str | None) -> list[Path]:
        """Return the saved SVG figures of the designs (or a contrast's), in run order."""
        found = []
        for file in self.glm.files:
            name = parse_bids_name(file)
            is_svg = name.suffix == 'design' and name.extension == '.svg'
            if is_svg and name.entities.get('contrast') == contrast:
                found.append(file)
        return sorted(found, key=_natural_key)


def space_name(path: str | os.PathLike[str]) -> str:
    """Name the space of a saved file's coordinates, from its ``space-`` entity.

    Parameters
    ----------
    path : path-like
        A saved file (the model's ``statmap.json``).

    Returns
    -------
    str
        ``'<label> space'``, or :data:`SCANNER_SPACE` when the name has no ``space-``.

    Examples
    --------
    >>> space_name('sub-01_task-x_space-MNI152NLin2009cAsym_statmap.json')
    'MNI152NLin2009cAsym space'
    >>> space_name('sub-01_task-x_statmap.json')
    'scanner space'
    """
    label = parse_bids_name(path).entities.get('space')
    return f'{label} space' if label else SCANNER_SPACE


def _background(
    background: str | os.PathLike[str] | SpatialImage | None,
    affine: np.ndarray,
    shape: tuple[int, ...],
) -> np.ndarray | None:
    """Load a background image, average it over time if 4D, and put it on the maps' grid."""
    if background is None:
        return None
    loaded = background if isinstance(background, SpatialImage) else nib.load(background)
    image = cast('nib.Nifti1Image', loaded)
    data = np.asarray(image.dataobj, dtype=np.float64)
    if data.ndim == 4:
        data = data.mean(axis=3)
    return background_volume(data, np.asarray(image.affine), affine, shape)


def _natural_key(path: Path) -> list[Any]:
    """Sort ``run-2`` before ``run-10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', path.name)]


# ------------------------------------------------------------------ the model
def _format_value(value: object) -> str:
    """Write a metadata value for people: lists joined, None as 'none'."""
    if value is None:
        return 'none'
    if isinstance(value, (list, tuple)):
        return ', '.join(_format_value(v) for v in value)
    if isinstance(value, float):
        return f'{value:g}'
    return str(value)


def _hrf(value: Any) -> str:  # noqa: ANN401 - JSON content
    model = _format_value(value.get('Model')) if isinstance(value, dict) else str(value)
    delays = value.get('FIRDelays') if isinstance(value, dict) else None
    return model if delays is None else f'{model}, delays {_format_value(delays)} scans'


def _drift(value: Any) -> str:  # noqa: ANN401 - JSON content
    if not isinstance(value, dict):
        return _format_value(value)
    text = _format_value(value.get('Type'))
    if 'HighPassFilterCutoffHz' in value:
        text += f', high-pass cut-off {_format_value(value["HighPassFilterCutoffHz"])} Hz'
    if 'Order' in value:
        text += f', order {_format_value(value["Order"])}'
    return text


def _with_unit(unit: str) -> Callable[[Any], str]:
    def write(value: Any) -> str:  # noqa: ANN401 - JSON content
        return 'none' if value is None else f'{_format_value(value)} {unit}'

    return write


def signal_scaling_text(value: Any) -> str:  # noqa: ANN401 - JSON content
    """Say in words what a ``signal_scaling`` value (nilearn's parameter) does to the data.

    Parameters
    ----------
    value : int, list of int, bool or None
        The ``SignalScaling`` of ``statmap.json``.

    Returns
    -------
    str
        The sentence, with the parameter's value at the end.

    Examples
    --------
    >>> print(signal_scaling_text(0))
    each voxel's time series divided by its mean over time (percent signal change;
    signal_scaling=0)
    >>> signal_scaling_text(False)
    'none: the data as given (signal_scaling=False)'
    """
    if isinstance(value, bool) or value is None:
        return f'none: the data as given (signal_scaling={value})'
    key = tuple(value) if isinstance(value, list) else value
    words = {
        0: "each voxel's time series divided by its mean over time (percent signal change",
        1: 'each scan divided by its mean over the voxels (global scaling',
        (0, 1): 'each scan divided by its mean over the voxels, then each voxel by its mean '
        'over time (percent signal change',
    }
    if key not in words:
        return f'signal_scaling={_format_value(value)}'
    return f'{words[key]}; signal_scaling={_format_value(value)})'


#: statmap.json keys shown in the model part: key -> (term, how to write the value).
MODEL_FIELDS: dict[str, tuple[str, Callable[[Any], str]]] = {
    'Level': ('Level', lambda v: _LEVELS.get(v, _format_value(v))),
    'Estimator': ('Estimator', _format_value),
    'NoiseModel': ('Noise model', lambda v: _NOISE_MODELS.get(v, _format_value(v))),
    'HRF': ('HRF model', _hrf),
    'DriftModel': ('Drift model', _drift),
    'RepetitionTime': ('Repetition time (TR)', _with_unit('s')),
    'SliceTimeRef': ('Slice timing reference', lambda v: f'{_format_value(v)} of the TR'),
    'SignalScaling': ('Signal scaling', signal_scaling_text),
    'Units': ('Units of the effects', _format_value),
    'SmoothingFWHM': ('Smoothing (FWHM)', _with_unit('mm')),
    'NumberOfRuns': ('Runs', _format_value),
    'NumberOfVolumes': ('Volumes per run', _format_value),
    'NumberOfSubjects': ('Input maps', _format_value),
    'FirstLevelContrast': ('First-level contrast tested', _format_value),
}


def _mask_text(mask: np.ndarray, affine: np.ndarray) -> str:
    """Describe the mask: voxels, volume, grid and voxel size."""
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    volume = int(mask.sum()) * float(abs(np.linalg.det(affine[:3, :3])))
    grid = ' x '.join(str(n) for n in mask.shape)
    size = ' x '.join(f'{z:.3g}' for z in zooms)
    return f'{int(mask.sum())} voxels ({volume / 1000:.1f} cm³), in a {grid} grid of {size} mm'


def _space_text(space: str) -> str:
    """Say in which space the coordinates (mm) of the tables and slices are."""
    if space == SCANNER_SPACE:
        return (
            'mm in scanner space: the files name no space- entity, so the '
            'coordinates are not those of a template (such as MNI)'
        )
    return f'mm in {space} (the space- entity of the files)'


def design_rows_of(metadata: Mapping[str, Any]) -> str:
    """Return what one row of a saved model's designs is (``scan``, ``input map``...).

    Parameters
    ----------
    metadata : mapping
        The model's ``statmap.json``.

    Returns
    -------
    str
        Its ``DesignRows``, else ``'scan'`` at the first level and ``'input map'``.

    Examples
    --------
    >>> design_rows_of({'Level': 'second', 'DesignRows': 'study'}), design_rows_of({})
    ('study', 'scan')
    """
    default = 'input map' if metadata.get('Level') == 'second' else 'scan'
    return str(metadata.get('DesignRows') or default)


#: How the model sentence says a noise model was fitted.
_FITTED_BY = {
    'ar1': 'fitted with AR(1) noise',
    'ols': 'fitted by ordinary least squares (OLS)',
}
#: Regressors counted apart in the table of runs, by how their names start.
_REGRESSOR_KINDS = (('drift', 'drift terms'), ('constant', 'constant'))


def _regressor_text(columns: Sequence[str], first_level: bool) -> str:
    """Count a design's regressors: task and confounds, drift terms, constant.

    A group design's few regressors are named instead.
    """
    if not first_level:
        return f'{len(columns)}: ' + ', '.join(columns)
    counts = dict.fromkeys([kind for _, kind in _REGRESSOR_KINDS], 0)
    for column in columns:
        kind = next((k for start, k in _REGRESSOR_KINDS if column.startswith(start)), None)
        if kind is not None:
            counts[kind] += 1
    other = len(columns) - sum(counts.values())
    parts = [_plural(other, 'task or confound regressor')] if other else []
    parts += [f'{n} {kind}' for kind, n in counts.items() if n]
    return f'{len(columns)}: ' + ', '.join(parts)


def _runs_table(context: ReportContext) -> str:
    """Tabulate each design's rows and regressors, folded when there are many runs."""
    rows = design_rows_of(context.glm.metadata)
    body = [
        [
            context.design_title(index),
            str(len(design)),
            _regressor_text([str(c) for c in design.columns], context.is_first_level),
        ]
        for index, design in enumerate(context.glm.designs)
    ]
    table = html.table(['Design', plural_of(rows).capitalize(), 'Regressors'], body)
    if len(body) > 4:
        return html.folded(f'Scans and regressors of the {len(body)} runs', table)
    return table


def model_in_words(glm: LoadedGlm) -> str:
    """Say in one sentence what model was fitted.

    Parameters
    ----------
    glm : LoadedGlm
        The saved model.

    Returns
    -------
    str
        The sentence.
    """
    metadata, designs = glm.metadata, glm.designs
    noise_model = str(metadata.get('NoiseModel'))
    fitted = _FITTED_BY.get(noise_model, f'fitted with the {noise_model} noise model')
    if glm.level == 'second':
        rows = _plural(len(designs[0]) if designs else 0, design_rows_of(metadata))
        what = (
            'an intercept only (a one-sample test of the mean)'
            if designs and not r_square_is_informative(designs[0])
            else 'the regressors ' + ', '.join(str(c) for c in designs[0].columns)
        )
        return f'A GLM across {rows} with {what}, {fitted}.'
    hrf = _hrf(metadata.get('HRF', 'unknown'))
    drift_type, _, detail = _drift(metadata.get('DriftModel', 'none')).partition(', ')
    drift = f'{drift_type} drift terms' + (f' ({detail})' if detail else '')
    if drift_type in ('none', 'None'):
        drift = 'no drift terms'
    runs = len(designs)
    element = 'vertex' if glm.surface_format is not None else 'voxel'
    combined = '; the runs are combined by fixed effects' if runs > 1 else ''
    return (
        f"A GLM of each {element}'s time series in {_plural(runs, 'run')}: the task's "
        f'conditions convolved with the {hrf} HRF, any confounds given, {drift} and a '
        f'constant, {fitted}{combined}.'
    )


def model_section(context: ReportContext) -> html.Section:
    """Return the part describing the model, from its ``statmap.json``.

    Parameters
    ----------
    context : ReportContext
        The report's shared data.

    Returns
    -------
    Section
        The part.
    """
    metadata = context.glm.metadata
    items = [
        (term, write(metadata[key]))
        for key, (term, write) in MODEL_FIELDS.items()
        if key in metadata
    ]
    if context.surface is None:
        items.append(('Mask', _mask_text(context.mask, context.affine)))
        items.append(('Coordinates', _space_text(context.space)))
    else:
        named = context.space if context.space != SCANNER_SPACE else 'no space- entity'
        items.append(('Surface', f'{context.glm.surface_format}, {named}'))
        items.append(('Mask', context.surface.describe(context.mask)))
    if context.atlas is not None:
        items.append(('Atlas labels', f'{ATLAS_NAME}, MIT licence (see the page footer)'))
    rows = design_rows_of(metadata)
    items = [
        (
            term,
            f'{value} (one per {rows})' if term == 'Input maps' and rows != 'input map' else value,
        )
        for term, value in items
    ]
    inputs = [str(f) for f in metadata.get('InputFiles') or [] if f]
    body = html.paragraph(model_in_words(context.glm)) + html.definition_list(items)
    body += _runs_table(context)
    if inputs:
        listed = html.table(['Input file'], [[name] for name in inputs])
        body += html.folded(f'Input files ({len(inputs)})', listed)
    return html.Section('model', 'Model', body)


# ------------------------------------------------------------------ the designs
def design_section(context: ReportContext) -> html.Section:
    """Return the part showing each design matrix and its column correlations.

    Parameters
    ----------
    context : ReportContext
        The report's shared data.

    Returns
    -------
    Section
        The part.
    """
    saved = context.saved_svgs(None)
    body = ''
    for index, design in enumerate(context.glm.designs):
        title = context.design_title(index)
        rows = design_rows_of(context.glm.metadata)
        svg = (
            saved[index].read_bytes()
            if index < len(saved)
            else design_svg(design, title, rows=rows)
        )
        size = f'{_plural(design.shape[0], "row")} x {_plural(design.shape[1], "column")}'
        pictures = [html.Picture(svg_data_uri(svg), f'Design matrix, {title}', size)]
        if (design.nunique() > 1).sum() >= 2:  # correlations need two varying columns
            pictures.append(
                html.Picture(
                    svg_data_uri(correlation_figure(design)),
                    f'Correlations between design columns, {title}',
                    'Correlations between columns (constant columns left blank).',
                )
            )
        body += html.heading(title) + html.figures(pictures)
    return html.Section('design', 'Design', body)


# ------------------------------------------------------------------ the contrasts
def _test_text(contrast: LoadedContrast) -> str:
    """Say which test a contrast is, with its degrees of freedom."""
    dof = [_format_value(float(d)) for d in contrast.metadata.get('DegreesOfFreedom', [])]
    if contrast.stat_type == 'F':
        return f'F test, {" and ".join(dof)} degrees of freedom' if dof else 'F test'
    return f't test, {dof[-1]} degrees of freedom' if dof else 't test'


def _design_index(design: object, sources: Sequence[object]) -> int:
    """Return the index of a design named in ``ContrastWeights``: a URI or a number."""
    if isinstance(design, str):
        return sources.index(design) if design in sources else -1
    return int(cast('int', design)) - 1


def weight_groups(metadata: Mapping[str, Any]) -> list[tuple[dict[str, Any], list[int]]]:
    """Return each distinct set of a contrast's weights, with the designs that use it.

    Parameters
    ----------
    metadata : mapping
        The sidecar of a contrast map: its ``ContrastWeights`` list each distinct
        set once with its ``Designs`` (BIDS URIs of ``design.tsv`` files, in the
        order of ``Sources``); older files list the weights once per design.

    Returns
    -------
    list of (dict, list of int)
        Each set of weights (``Columns`` and ``Weights``) and the indices (from 0)
        of its designs.

    Examples
    --------
    >>> entry = {'Columns': ['a'], 'Weights': [[1.0]], 'Designs': ['bids::r2.tsv', 'bids::r1.tsv']}
    >>> weight_groups({'ContrastWeights': [entry], 'Sources': ['bids::r1.tsv', 'bids::r2.tsv']})
    [({'Columns': ['a'], 'Weights': [[1.0]], 'Designs': [...]}, [0, 1])]
    """
    entries = metadata.get('ContrastWeights') or []
    sources = list(metadata.get('Sources') or [])
    groups: dict[str, tuple[dict[str, Any], list[int]]] = {}
    for position, entry in enumerate(entries):
        designs = entry.get('Designs')
        indices = [position] if designs is None else [_design_index(d, sources) for d in designs]
        key = repr((entry.get('Columns'), entry.get('Weights')))
        groups.setdefault(key, (entry, []))[1].extend(indices)
    return [(entry, sorted(indices)) for entry, indices in groups.values()]


def _weight_pictures(contrast: LoadedContrast, context: ReportContext) -> list[html.Picture]:
    """One picture per distinct set of weights over the designs (runs that share one)."""
    saved = context.saved_svgs(contrast.label)
    pictures = []
    for entry, runs in weight_groups(contrast.metadata):
        first = runs[0] if runs else -1
        if 0 <= first < len(saved):
            svg = saved[first].read_bytes()
        else:
            svg = contrast_svg(entry['Weights'], entry['Columns'], contrast.name)
        which = ', '.join(str(r + 1) for r in runs)
        where = f'runs {which}' if len(runs) > 1 else context.design_title(first).lower()
        caption = f'Weights over the columns of {where}.' if context.is_first_level else ''
        pictures.append(html.Picture(svg_data_uri(svg), f'Weights of {contrast.name}', caption))
    return pictures


def _format_number(value: Any, digits: int) -> str:  # noqa: ANN401 - table cells
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ''
    return '' if np.isnan(number) else f'{number:.{digits}f}'


#: The column of peak labels in a cluster table (models in an MNI space).
ATLAS_COLUMN = 'Atlas label'


def _table_rows(table: pd.DataFrame) -> list[list[str]]:
    """Format the rows of a cluster table as text; an atlas label column stays as is."""
    digits = {'X (mm)': 1, 'Y (mm)': 1, 'Z (mm)': 1, 'Peak z': 2, 'Voxels': 0, 'Volume (mm3)': 0}
    numbers = list(TABLE_COLUMNS[1:])
    return [
        [str(row[0])]
        + [_format_number(v, digits[c]) for c, v in zip(numbers, row[1:], strict=False)]
        + [str(label) for label in row[len(TABLE_COLUMNS) :]]
        for row in table.itertuples(index=False)
    ]


def _peak_table(table: pd.DataFrame) -> str:
    """Return one table of peaks; rows past :data:`SHOWN_ROWS` are folded."""
    header = ['Cluster', 'X (mm)', 'Y (mm)', 'Z (mm)', 'Peak z', 'Voxels', 'Volume (mm³)']
    numeric = [False] + [True] * 6
    if ATLAS_COLUMN in table.columns:
        header, numeric = [*header, ATLAS_COLUMN], [*numeric, False]
    wrapped = [title == ATLAS_COLUMN for title in header]
    out = html.table(header, _table_rows(table.head(SHOWN_ROWS)), numeric, wrapped)
    if len(table) > SHOWN_ROWS:
        rest = html.table(header, _table_rows(table.iloc[SHOWN_ROWS:]), numeric, wrapped)
        out += html.folded(f'The other {len(table) - SHOWN_ROWS} of {len(table)} peaks', rest)
    return out


#: The tables of a contrast's clusters, by sign: (heading, keeps the rows of this sign).
_SIGNS = (
    ('Positive effects (z > 0)', lambda peak: peak > 0),
    ('Negative effects (z < 0)', lambda peak: peak < 0),
)


def _with_atlas_labels(table: pd.DataFrame, atlas: Atlas) -> pd.DataFrame:
    """Return the table with the region of each peak in an :data:`ATLAS_COLUMN`."""
    xyz = table[['X (mm)', 'Y (mm)', 'Z (mm)']].to_numpy(dtype=float)
    return table.assign(**{ATLAS_COLUMN: atlas.labels_of(xyz)})


def _coordinates_text(space: str, atlas: Atlas | None) -> str:
    """Say in which space the peaks are, and where their labels come from."""
    if atlas is None:
        return f'Peak coordinates in mm, {space}; no atlas labels (given in MNI spaces only).'
    return (
        f'Peak coordinates in mm, {space}; atlas labels from {ATLAS_NAME}, cortex only: '
        f'a peak outside its parcels is given the nearest one within {NEAREST_WITHIN_MM:g} mm '
        'and its distance.'
    )


def _cluster_table(
    clusters: Clusters, two_sided: bool, space: str, atlas: Atlas | None = None
) -> str:
    """Return the tables of clusters and peaks, positive then negative effects.

    A one-sided rule (an F test, ``two_sided=False``) has one table, of positive z.
    With an atlas (models in an MNI space) each peak is named in an
    :data:`ATLAS_COLUMN`.
    """
    table = clusters.table
    if table.empty:
        return html.paragraph('No voxel survives this threshold.', 'muted')
    if atlas is not None:
        table = _with_atlas_labels(table, atlas)
    out = html.paragraph(_coordinates_text(space, atlas), 'muted')
    for heading, keeps in _SIGNS if two_sided else _SIGNS[:1]:
        rows = table[keeps(table['Peak z'].to_numpy())]
        found = html.paragraph('None.', 'muted') if rows.empty else _peak_table(rows)
        out += html.heading(heading, level=4) + found
    return out


def plural_of(noun: str) -> str:
    """Return the plural of an English noun, by its ending (``study`` -> ``studies``).

    Parameters
    ----------
    noun : str
        The noun, in the singular.

    Returns
    -------
    str
        Its plural.

    Examples
    --------
    >>> plural_of('study'), plural_of('input map'), plural_of('day'), plural_of('patch')
    ('studies', 'input maps', 'days', 'patches')
    """
    if noun.endswith('y') and noun[-2:-1] not in tuple('aeiou'):
        return noun[:-1] + 'ies'
    if noun.endswith(('s', 'x', 'z', 'ch', 'sh')):
        return noun + 'es'
    return noun + 's'


def _plural(count: int, noun: str) -> str:
    return f'{count} {noun if count == 1 else plural_of(noun)}'


def _survivor_text(clusters: Clusters) -> str:
    """Count the voxels and clusters that survive, by sign."""
    survivors = int((clusters.labels > 0).sum())
    count = clusters.n_clusters
    text = (
        f'{_plural(survivors, "voxel")} in {_plural(count, "cluster")} '
        f'survive{"s" if survivors == 1 else ""}'
    )
    negative = clusters.table['Peak z'].to_numpy() < 0
    main = clusters.table['Voxels'].notna().to_numpy()
    n_negative = int((negative & main).sum())
    if n_negative == count and count:
        text += ', all of negative z'
    elif n_negative:
        text += f' ({_plural(count - n_negative, "cluster")} of positive z, {n_negative} negative)'
    return text + '.'


def _one_sided_text(z_values: np.ndarray, threshold: float, stat_type: str) -> str:
    """Say why a map is read one way, and what of the other way is left out."""
    if stat_type == 'F':
        return ' An F test is one-sided: its z grows with the evidence for any effect.'
    hidden = int((z_values <= -threshold).sum())
    return (
        f' Only positive effects are shown (two_sided=False): {_plural(hidden, "voxel")} '
        f'with z ≤ {-threshold:.3g} (the reverse effect) {"is" if hidden == 1 else "are"} '
        'left out; pass two_sided=True to show them.'
    )


def _threshold_text(
    z_values: np.ndarray, threshold: float, clusters: Clusters, rule: Thresholding, stat_type: str
) -> str:
    """State the threshold, what survives, and the FDR equivalent."""
    text = f'Threshold: {rule.describe(threshold)}. {_survivor_text(clusters)}'
    if not rule.two_sided:
        text += _one_sided_text(z_values, threshold, stat_type)
    if rule.height_control != 'fdr':
        fdr = fdr_threshold(z_values, 0.05, rule.two_sided)
        sign = '|z|' if rule.two_sided else 'z'
        equivalent = f'{sign} ≥ {fdr:.3g}' if np.isfinite(fdr) else 'no voxel survives'
        text += f' For comparison, FDR q < 0.05: {equivalent}.'
    return html.paragraph(text, 'threshold')


def _z_map_picture(
    contrast: LoadedContrast,
    z: np.ndarray,
    clusters: Clusters,
    context: ReportContext,
    two_sided: bool,
) -> html.Picture:
    """Draw the clusters of a z map: three planes at a point, then axial slices."""
    cut: list[float] | None
    if context.cuts.point is not None:
        cut, where = list(context.cuts.point), 'at the given point'
    elif len(clusters.table):
        cut = clusters.table.iloc[0][['X (mm)', 'Y (mm)', 'Z (mm)']].tolist()
        where = 'at the strongest peak'
    else:
        cut, where = None, 'through the centre of the mask'
    figure = stat_map_figure(
        np.where(clusters.labels > 0, z, 0.0), context.affine, threshold=clusters.threshold,
        mask=context.mask, background=context.background,
        two_sided=two_sided, cut=cut, axial=context.cuts.axial,
    )  # fmt: skip
    colours = (
        'positive z in red to yellow, negative z in blue to cyan'
        if two_sided
        else 'z in red to yellow'
    )
    return html.Picture(
        svg_data_uri(figure),
        f'Thresholded z map of {contrast.name}',
        f'z map, thresholded ({colours}), over {context.background_name}, '
        f'{context.space}; three planes {where}, then axial slices.',
    )


def contrast_rule(contrast: LoadedContrast, rule: Thresholding) -> Thresholding:
    """Return the rule a contrast is thresholded by: an F test is always one-sided.

    Parameters
    ----------
    contrast : LoadedContrast
        The saved contrast.
    rule : Thresholding
        The report's rule.

    Returns
    -------
    Thresholding
        ``rule``, made one-sided for an F test.
    """
    return rule.one_sided() if contrast.stat_type == 'F' else rule


def contrast_section(contrast: LoadedContrast, context: ReportContext) -> html.Section:
    """Return the part of one contrast: weights, thresholded z map, clusters and peaks.

    A t contrast is read in both directions (unless the report's rule is one-sided):
    clusters of positive and of negative z, in two colour ramps and two tables.

    Parameters
    ----------
    contrast : LoadedContrast
        The saved contrast.
    context : ReportContext
        The report's shared data.

    Returns
    -------
    Section
        The part.
    """
    anchor, title = f'contrast-{contrast.label}', f'Contrast: {contrast.name}'
    if 'z' not in contrast.maps:
        return html.Section(anchor, title, html.paragraph('No z map was saved.'), 'contrast')
    z, _affine = context.saved_maps.volume(volume_file(contrast.maps['z'], 'The z map'))
    rule = contrast_rule(contrast, context.thresholding)
    z_values = z[context.mask]
    threshold = rule.z_threshold(z_values)
    inside = np.where(context.mask, z, np.nan)
    clusters = find_clusters(
        inside, context.affine, threshold, cluster_extent=rule.cluster_extent,
        two_sided=rule.two_sided, min_distance=context.min_distance,
    )  # fmt: skip
    body = (
        html.paragraph(f'{_test_text(contrast)}; label “{contrast.label}”.', 'muted')
        + html.figures(_weight_pictures(contrast, context))
        + _threshold_text(z_values, threshold, clusters, rule, contrast.stat_type)
        + html.figures([_z_map_picture(contrast, z, clusters, context, rule.two_sided)])
        + _cluster_table(clusters, rule.two_sided, context.space, context.atlas)
    )
    return html.Section(anchor, title, body, 'contrast')


# ------------------------------------------------------------------ model quality
#: Said instead of drawing r-squared when the design holds only constant columns.
R_SQUARE_UNINFORMATIVE = (
    'r-squared is not drawn: this design has only an intercept (a constant column), '
    "which fits each voxel's mean and nothing else, so r-squared (the variance "
    'explained around the mean) is 0 by construction and tells nothing about the model. '
    'The residuals below show how much the inputs vary around their mean.'
)


def r_square_is_informative(design: pd.DataFrame) -> bool:
    """Tell whether a design explains anything beyond the mean (a non-constant column).

    Parameters
    ----------
    design : pandas.DataFrame
        The design matrix.

    Returns
    -------
    bool
        False for an intercept-only design, whose r-squared is 0 by construction.

    Examples
    --------
    >>> import pandas as pd
    >>> r_square_is_informative(pd.DataFrame({'intercept': [1.0, 1.0, 1.0]}))
    False
    >>> r_square_is_informative(pd.DataFrame({'intercept': 1.0, 'age': [20.0, 31, 45]}))
    True
    """
    return bool((design.nunique() > 1).any())


def _quality_pictures(index: int, context: ReportContext) -> list[html.Picture]:
    """Draw the r-squared and residual standard deviation maps of one design."""
    glm, mask = context.glm, context.mask
    title = context.design_title(index).lower()
    pictures = []
    if index < len(glm.r_square) and _r_square_drawn(index, context):
        r_square, _ = context.saved_maps.volume(volume_file(glm.r_square[index], 'r-squared'))
        median = float(np.median(r_square[mask])) if mask.any() else float('nan')
        figure = volume_figure(r_square, context.affine, mask=mask, vmin=0.0, label='r²')
        caption = f'r-squared, {title}; median in the mask {median:.3f}.'
        pictures.append(html.Picture(svg_data_uri(figure), f'r-squared, {title}', caption))
    if index < len(glm.residuals):
        residuals = volume_file(glm.residuals[index], 'The residuals')
        sd, _ = context.saved_maps.residual_sd(residuals, mask)  # only the mask is drawn
        units = _format_value(glm.metadata.get('Units', 'data units'))
        figure = volume_figure(sd, context.affine, mask=mask, cmap='heat', label='SD')
        caption = f'Standard deviation of the residuals, {title} ({units}).'
        pictures.append(html.Picture(svg_data_uri(figure), f'Residual SD, {title}', caption))
    return pictures


def _r_square_drawn(index: int, context: ReportContext) -> bool:
    """Tell whether design ``index`` has an informative r-squared to draw."""
    designs = context.glm.designs
    return index >= len(designs) or r_square_is_informative(designs[index])


def quality_section(context: ReportContext) -> html.Section:
    """Return the model-quality part: r-squared and residual maps of every design.

    Parameters
    ----------
    context : ReportContext
        The report's shared data.

    Returns
    -------
    Section
        The part.
    """
    body = ''
    for index in range(max(len(context.glm.r_square), len(context.glm.residuals))):
        pictures = _quality_pictures(index, context)
        body += html.heading(context.design_title(index))
        if index < len(context.glm.r_square) and not _r_square_drawn(index, context):
            body += html.paragraph(R_SQUARE_UNINFORMATIVE, 'muted')
        body += html.figures(pictures)
    return html.Section('quality', 'Model quality', body or html.paragraph('No model maps saved.'))
