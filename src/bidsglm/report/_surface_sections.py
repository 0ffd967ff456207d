"""The parts of a surface model's report that differ from a volume model's.

Each contrast of a surface model (GIFTI hemispheres, CIFTI-2 grayordinates) states
its threshold (two-sided for a t contrast, as for volumes), counts the elements
that pass it in each part, and lists the strongest positive and negative ones by
part and index (a vertex, or a subcortical voxel's ``i, j, k`` in a CIFTI-2 file).
Given meshes of its hemispheres (:mod:`bidsglm.report.mesh`), its thresholded z
map is drawn on them (:mod:`bidsglm.report.surface_figure`); the subcortical
voxels of a CIFTI-2 file are drawn as slices, as volume maps are. Model quality
is summarised per part: the median r-squared and the median standard deviation of
the residuals. Clusters are not formed: a cluster extent, which needs the mesh's
neighbours, is not applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bidsglm.report import html
from bidsglm.report._sections import (
    R_SQUARE_UNINFORMATIVE,
    _format_value,
    _plural,
    _r_square_drawn,
    _test_text,
    _weight_pictures,
    contrast_rule,
)
from bidsglm.report.clusters import fdr_threshold
from bidsglm.report.figures import stat_map_figure, svg_data_uri
from bidsglm.report.mesh import hemisphere_values
from bidsglm.report.surface import (
    SurfaceElements,
    strongest_elements,
    subcortical_volume,
    survivor_counts,
)
from bidsglm.report.surface_figure import surface_figure

if TYPE_CHECKING:
    import pandas as pd

    from bidsglm.bids import LoadedContrast
    from bidsglm.models.surface import SurfaceLayout
    from bidsglm.report._sections import ReportContext
    from bidsglm.report.clusters import Thresholding

__all__ = ['surface_contrast_section', 'surface_quality_section']

#: The strongest elements listed per part and sign.
PER_PART = 10


def _elements_of(context: ReportContext) -> SurfaceElements:
    if context.surface is None:  # pragma: no cover - the caller checks
        msg = 'This report part is for surface models.'
        raise TypeError(msg)
    return context.surface


def _surface_threshold_text(
    z_values: np.ndarray, threshold: float, rule: Thresholding, counts: pd.DataFrame
) -> str:
    """State the threshold, how many elements pass it, and the FDR equivalent."""
    passed = int(counts.drop(columns=['Part', 'In mask']).to_numpy().sum())
    text = (
        f'Threshold: {rule.describe(threshold)}. {_plural(passed, "element")} of '
        f'{int(counts["In mask"].sum())} in the mask pass{"es" if passed == 1 else ""}.'
    )
    if rule.cluster_extent:
        text += ' The cluster extent is not applied on a surface (no mesh neighbours).'
    if not rule.two_sided:
        text += ' Only positive z is counted (one-sided).'
    if rule.height_control != 'fdr':
        fdr = fdr_threshold(z_values, 0.05, rule.two_sided)
        sign = '|z|' if rule.two_sided else 'z'
        equivalent = f'{sign} ≥ {fdr:.3g}' if np.isfinite(fdr) else 'no element survives'
        text += f' For comparison, FDR q < 0.05: {equivalent}.'
    return html.paragraph(text, 'threshold')


def _counts_table(counts: pd.DataFrame) -> str:
    header = [str(c) for c in counts.columns]
    rows = [[str(v) for v in row] for row in counts.itertuples(index=False)]
    return html.table(header, rows, [False] + [True] * (len(header) - 1))


def _strongest_tables(
    z: np.ndarray, context: ReportContext, threshold: float, two_sided: bool
) -> str:
    """Tabulate the strongest elements by part: positive effects, then negative ones."""
    elements = _elements_of(context)
    signs = (('Positive effects (z > 0)', 1), ('Negative effects (z < 0)', -1))
    out = ''
    for heading, sign in signs if two_sided else signs[:1]:
        table = strongest_elements(
            z, context.mask, elements, threshold, sign=sign, per_part=PER_PART
        )
        if table.empty:
            found = html.paragraph('None.', 'muted')
        else:
            rows = [[part, kind, index, f'{value:.2f}'] for part, kind, index, value in
                    table.itertuples(index=False)]  # fmt: skip
            found = html.table(['Part', 'Element', 'Index', 'z'], rows, [False, False, True, True])
        out += html.heading(heading, level=4) + found
    return out


def _mesh_picture(
    contrast: LoadedContrast,
    z: np.ndarray,
    layout: SurfaceLayout,
    context: ReportContext,
    threshold: float,
    two_sided: bool,
) -> list[html.Picture]:
    """Draw the thresholded z map on the given meshes; none without meshes."""
    if not context.meshes:
        return []
    hemispheres = [
        (part, mesh, hemisphere_values(z, layout, part, mesh.n_vertices))
        for part, mesh in sorted(context.meshes.items())
    ]
    figure = surface_figure(hemispheres, threshold, two_sided)
    colours = (
        'positive z in red to yellow, negative z in blue to cyan'
        if two_sided
        else 'z in red to yellow'
    )
    caption = (
        f'z map, thresholded ({colours}), on the {"found" if context.mesh_note else "given"} '
        'meshes: lateral and medial views; '
        'a face is coloured when its three vertices pass the threshold.'
        f'{_mesh_origin(context)}'
    )
    return [html.Picture(svg_data_uri(figure), f'Thresholded z map of {contrast.name}', caption)]


def _mesh_origin(context: ReportContext) -> str:
    """Say where the meshes drawn come from: found beside the data, or their files."""
    if context.mesh_note:
        return f' {context.mesh_note}'
    named = [f'{part}: {mesh.source}' for part, mesh in sorted(context.meshes.items())
             if mesh.source]  # fmt: skip
    return f' Meshes drawn: {"; ".join(named)}.' if named else ''


def _no_mesh_text(context: ReportContext) -> str:
    """Say, when no mesh is drawn after a search, where the meshes were looked for."""
    if context.meshes or not context.mesh_note:
        return ''
    return html.paragraph(context.mesh_note, 'muted')


def _subcortical_picture(
    contrast: LoadedContrast,
    z: np.ndarray,
    layout: SurfaceLayout,
    threshold: float,
    two_sided: bool,
) -> list[html.Picture]:
    """Draw the subcortical voxels of a CIFTI-2 z map as slices; none without voxels."""
    volume = subcortical_volume(z, layout)
    if volume is None:
        return []
    figure = stat_map_figure(
        np.where(volume.inside, volume.values, 0.0), volume.affine, threshold=threshold,
        mask=volume.inside, two_sided=two_sided,
    )  # fmt: skip
    caption = (
        'Subcortical voxels of the CIFTI-2 file (in gray), z thresholded as above; three '
        'planes through the centre of the voxels, then axial slices.'
    )
    return [html.Picture(svg_data_uri(figure), f'Subcortical z map of {contrast.name}', caption)]


def surface_contrast_section(contrast: LoadedContrast, context: ReportContext) -> html.Section:
    """Return the part of one contrast of a surface model: weights, threshold, tables.

    Parameters
    ----------
    contrast : LoadedContrast
        The saved contrast.
    context : ReportContext
        The report's shared data (a surface model's).

    Returns
    -------
    Section
        The part.
    """
    anchor, title = f'contrast-{contrast.label}', f'Contrast: {contrast.name}'
    if 'z' not in contrast.maps:
        return html.Section(anchor, title, html.paragraph('No z map was saved.'), 'contrast')
    z, layout = context.saved_maps.surface_values(contrast.maps['z'])
    rule = contrast_rule(contrast, context.thresholding)
    z_values = z[context.mask]
    threshold = rule.z_threshold(z_values)
    counts = survivor_counts(
        z, context.mask, _elements_of(context), threshold, two_sided=rule.two_sided
    )
    body = (
        html.paragraph(f'{_test_text(contrast)}; label “{contrast.label}”.', 'muted')
        + html.figures(_weight_pictures(contrast, context))
        + _surface_threshold_text(z_values, threshold, rule, counts)
        + html.figures(
            _mesh_picture(contrast, z, layout, context, threshold, rule.two_sided)
            + _subcortical_picture(contrast, z, layout, threshold, rule.two_sided)
        )
        + _no_mesh_text(context)
        + html.paragraph(
            'Elements passing the threshold, by part (a surface model is summarised in '
            f'tables: the strongest {PER_PART} of each part and sign are listed; an index '
            'is a vertex of the part, or a voxel i, j, k of the CIFTI-2 volume).',
            'muted',
        )
        + _counts_table(counts)
        + _strongest_tables(z, context, threshold, rule.two_sided)
    )
    return html.Section(anchor, title, body, 'contrast')


def _median_by_part(values: np.ndarray, context: ReportContext) -> list[str]:
    """Return the median of a map over the mask in each part, as text."""
    elements = _elements_of(context)
    texts = []
    for number in range(len(elements.parts)):
        here = context.mask & (elements.part_of == number)
        texts.append(f'{float(np.median(values[here])):.3g}' if here.any() else '')
    return texts


def _sd_over_time(series: np.ndarray, block: int = 8192) -> np.ndarray:
    """Return the SD (``ddof=0``) of each column, in float64 a block of columns at a time."""
    return np.concatenate(
        [
            series[:, start : start + block].astype(np.float64).std(axis=0)
            for start in range(0, series.shape[1], block)
        ]
        or [np.zeros(0)]
    )


def _quality_table(index: int, context: ReportContext) -> str:
    """Tabulate one design's median r-squared and residual SD per part."""
    glm = context.glm
    columns: dict[str, list[str]] = {}
    if index < len(glm.r_square) and _r_square_drawn(index, context):
        r_square = context.saved_maps.surface_values(glm.r_square[index])[0]
        columns['Median r²'] = _median_by_part(r_square, context)
    if index < len(glm.residuals):
        residuals = context.saved_maps.surface_rows(glm.residuals[index])[0]
        units = _format_value(glm.metadata.get('Units', 'data units'))
        sd = _sd_over_time(residuals)
        columns[f'Median residual SD ({units})'] = _median_by_part(sd, context)
    if not columns:
        return ''
    parts = _elements_of(context).parts
    rows = [[part, *(values[n] for values in columns.values())] for n, part in enumerate(parts)]
    return html.table(['Part', *columns], rows, [False] + [True] * len(columns))


def surface_quality_section(context: ReportContext) -> html.Section:
    """Return the model-quality part of a surface model: medians per part and design.

    Parameters
    ----------
    context : ReportContext
        The report's shared data (a surface model's).

    Returns
    -------
    Section
        The part.
    """
    body = ''
    for index in range(max(len(context.glm.r_square), len(context.glm.residuals))):
        body += html.heading(context.design_title(index))
        if index < len(context.glm.r_square) and not _r_square_drawn(index, context):
            body += html.paragraph(R_SQUARE_UNINFORMATIVE, 'muted')
        body += _quality_table(index, context)
    return html.Section('quality', 'Model quality', body or html.paragraph('No model maps saved.'))
