"""The parts of a report, each built from a saved model (:class:`~bidsglm.bids.LoadedGlm`).

- the model: its parameters, runs, timing, noise model, HRF, drift and mask;
- the designs: each design matrix and the correlations of its columns;
- one part per contrast: its weights, the thresholded z map over the background
  with the threshold stated, and the table of clusters and peaks;
- model quality: r-squared and the standard deviation of the residuals.

Saved SVG figures (design and contrast weights) are embedded as they are; they
are drawn again only when missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import nibabel as nib
import numpy as np
from nibabel.spatialimages import SpatialImage

from bidsglm.bids import load_glm_from_bids
from bidsglm.bids.entities import parse_bids_name
from bidsglm.bids.figures import contrast_svg, design_svg
from bidsglm.errors import InputNotFoundError
from bidsglm.report import html
from bidsglm.report._maps import SavedMaps
from bidsglm.report.clusters import TABLE_COLUMNS, Thresholding, fdr_threshold, find_clusters
from bidsglm.report.figures import (
    background_volume,
    correlation_figure,
    stat_map_figure,
    svg_data_uri,
    volume_figure,
)
from bidsglm.report.options import Cuts

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Mapping
    from pathlib import Path

    import pandas as pd

    from bidsglm.bids import LoadedContrast, LoadedGlm
    from bidsglm.bids.writer import StagedImage
    from bidsglm.report.clusters import Clusters
    from bidsglm.report.options import Background

__all__ = [
    'ReportContext',
    'contrast_section',
    'design_section',
    'model_section',
    'quality_section',
]

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
            saved mean image (``stat-mean``) when there is one; False draws none.
        images : mapping of path to nibabel image, optional
            Saved maps already in memory, by path.
        min_distance : float, default=8.0
            The smallest distance (mm) between two peaks of a cluster.
        cuts : Cuts, optional
            Where the z maps are cut.

        Returns
        -------
        ReportContext
            The shared data of the report.

        Raises
        ------
        InputNotFoundError
            If the saved model has no mask.
        """
        glm = load_glm_from_bids(path)
        if glm.mask is None:
            msg = f'The saved model {str(glm.statmap)!r} has no mask file; the report needs it.'
            raise InputNotFoundError(msg)
        maps = SavedMaps(images or {})
        mask, affine = maps.volume(glm.mask)
        if background is None and glm.mean is not None:
            drawn_under: np.ndarray | None = maps.volume(glm.mean)[0]
            name = 'the mean of the data'
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


#: statmap.json keys shown in the model part: key -> (term, how to write the value).
MODEL_FIELDS: dict[str, tuple[str, Callable[[Any], str]]] = {
    'Level': ('Level', lambda v: _LEVELS.get(v, _format_value(v))),
    'Estimator': ('Estimator', _format_value),
    'NoiseModel': ('Noise model', lambda v: _NOISE_MODELS.get(v, _format_value(v))),
    'HRF': ('HRF model', _hrf),
    'DriftModel': ('Drift model', _drift),
    'RepetitionTime': ('Repetition time (TR)', _with_unit('s')),
    'SliceTimeRef': ('Slice timing reference', lambda v: f'{_format_value(v)} of the TR'),
    'SignalScaling': ('Signal scaling', _format_value),
    'Units': ('Units of the effects', _format_value),
    'SmoothingFWHM': ('Smoothing (FWHM)', _with_unit('mm')),
    'NumberOfRuns': ('Runs', _format_value),
    'NumberOfVolumes': ('Volumes per run', _format_value),
    'NumberOfSubjects': ('Input maps (subjects)', _format_value),
    'FirstLevelContrast': ('First-level contrast tested', _format_value),
}


def _mask_text(mask: np.ndarray, affine: np.ndarray) -> str:
    """Describe the mask: voxels, volume, grid and voxel size."""
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    volume = int(mask.sum()) * float(abs(np.linalg.det(affine[:3, :3])))
    grid = ' x '.join(str(n) for n in mask.shape)
    size = ' x '.join(f'{z:.3g}' for z in zooms)
    return f'{int(mask.sum())} voxels ({volume / 1000:.1f} cm³), in a {grid} grid of {size} mm'


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
    items.append(('Mask', _mask_text(context.mask, context.affine)))
    inputs = [str(f) for f in metadata.get('InputFiles') or [] if f]
    body = html.definition_list(items)
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
        svg = saved[index].read_bytes() if index < len(saved) else design_svg(design, title)
        size = f'{design.shape[0]} rows x {design.shape[1]} columns'
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


def _weight_pictures(contrast: LoadedContrast, context: ReportContext) -> list[html.Picture]:
    """One picture per distinct set of weights over the designs (runs that share one)."""
    groups: dict[str, list[int]] = {}
    weights = contrast.metadata.get('ContrastWeights') or []
    for index, entry in enumerate(weights):
        groups.setdefault(repr((entry.get('Columns'), entry.get('Weights'))), []).append(index)
    saved = context.saved_svgs(contrast.label)
    pictures = []
    for runs in groups.values() or [[0]]:
        first = runs[0]
        if first < len(saved):
            svg = saved[first].read_bytes()
        elif first < len(weights):
            entry = weights[first]
            svg = contrast_svg(entry['Weights'], entry['Columns'], contrast.name)
        else:
            continue
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


def _table_rows(table: pd.DataFrame) -> list[list[str]]:
    """Format the rows of a cluster table as text."""
    digits = {'X (mm)': 1, 'Y (mm)': 1, 'Z (mm)': 1, 'Peak z': 2, 'Voxels': 0, 'Volume (mm3)': 0}
    return [
        [str(row[0])]
        + [_format_number(v, digits[c]) for c, v in zip(TABLE_COLUMNS[1:], row[1:], strict=True)]
        for row in table.itertuples(index=False)
    ]


def _cluster_table(clusters: Clusters) -> str:
    """Return the table of clusters and peaks; rows past :data:`SHOWN_ROWS` are folded."""
    table = clusters.table
    if table.empty:
        return html.paragraph('No voxel survives this threshold.', 'muted')
    header = ['Cluster', 'X (mm)', 'Y (mm)', 'Z (mm)', 'Peak z', 'Voxels', 'Volume (mm³)']
    numeric = [False] + [True] * 6
    out = html.table(header, _table_rows(table.head(SHOWN_ROWS)), numeric)
    if len(table) > SHOWN_ROWS:
        rest = html.table(header, _table_rows(table.iloc[SHOWN_ROWS:]), numeric)
        out += html.folded(f'The other {len(table) - SHOWN_ROWS} of {len(table)} peaks', rest)
    return out


def _plural(count: int, noun: str) -> str:
    return f'{count} {noun}{"" if count == 1 else "s"}'


def _threshold_text(
    z_values: np.ndarray, threshold: float, clusters: Clusters, rule: Thresholding
) -> str:
    """State the threshold, what survives, and the FDR equivalent."""
    survivors = int((clusters.labels > 0).sum())
    count = clusters.n_clusters
    text = (
        f'Threshold: {rule.describe(threshold)}. {_plural(survivors, "voxel")} in '
        f'{_plural(count, "cluster")} survive{"s" if survivors == 1 else ""}.'
    )
    if rule.height_control != 'fdr':
        fdr = fdr_threshold(z_values, 0.05, rule.two_sided)
        equivalent = f'z ≥ {fdr:.3g}' if np.isfinite(fdr) else 'no voxel survives'
        text += f' For comparison, FDR q < 0.05: {equivalent}.'
    return html.paragraph(text, 'threshold')


def _z_map_picture(
    contrast: LoadedContrast, z: np.ndarray, clusters: Clusters, context: ReportContext
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
        two_sided=context.thresholding.two_sided, cut=cut, axial=context.cuts.axial,
    )  # fmt: skip
    return html.Picture(
        svg_data_uri(figure),
        f'Thresholded z map of {contrast.name}',
        f'z map, thresholded, over {context.background_name}; three planes {where}, '
        'then axial slices.',
    )


def contrast_section(contrast: LoadedContrast, context: ReportContext) -> html.Section:
    """Return the part of one contrast: weights, thresholded z map, clusters and peaks.

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
    z, _affine = context.saved_maps.volume(contrast.maps['z'])
    rule = context.thresholding
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
        + _threshold_text(z_values, threshold, clusters, rule)
        + html.figures([_z_map_picture(contrast, z, clusters, context)])
        + _cluster_table(clusters)
    )
    return html.Section(anchor, title, body, 'contrast')


# ------------------------------------------------------------------ model quality
def _quality_pictures(index: int, context: ReportContext) -> list[html.Picture]:
    """Draw the r-squared and residual standard deviation maps of one design."""
    glm, mask = context.glm, context.mask
    title = context.design_title(index).lower()
    pictures = []
    if index < len(glm.r_square):
        r_square, _ = context.saved_maps.volume(glm.r_square[index])
        median = float(np.median(r_square[mask])) if mask.any() else float('nan')
        figure = volume_figure(r_square, context.affine, mask=mask, vmin=0.0, label='r²')
        caption = f'r-squared, {title}; median in the mask {median:.3f}.'
        pictures.append(html.Picture(svg_data_uri(figure), f'r-squared, {title}', caption))
    if index < len(glm.residuals):
        sd, _ = context.saved_maps.residual_sd(glm.residuals[index])
        units = _format_value(glm.metadata.get('Units', 'data units'))
        figure = volume_figure(sd, context.affine, mask=mask, cmap='heat', label='SD')
        caption = f'Standard deviation of the residuals, {title} ({units}).'
        pictures.append(html.Picture(svg_data_uri(figure), f'Residual SD, {title}', caption))
    return pictures


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
        body += html.heading(context.design_title(index)) + html.figures(pictures)
    return html.Section('quality', 'Model quality', body or html.paragraph('No model maps saved.'))
