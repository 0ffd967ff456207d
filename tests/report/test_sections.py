import html
import re

import numpy as np
import pytest

from bidsglm.report._sections import (
    SHOWN_ROWS,
    ReportContext,
    _cluster_table,
    contrast_section,
    design_section,
    model_section,
    quality_section,
)
from bidsglm.report.clusters import Thresholding, find_clusters
from bidsglm.report.figures import svg_data_uri

from .conftest import AFFINE

BLOCK_MM = AFFINE @ np.array([[1, 3], [2, 4], [3, 5], [1, 1]], dtype=float)  # block corners


def images(section):
    return re.findall(r'<img src="(data:[^"]+)" alt="([^"]*)"', section.body)


def test_model_section_lists_the_model_and_its_mask(first_level_dir):
    body = model_section(ReportContext.load(first_level_dir)).body
    assert '<dt>Noise model</dt><dd>AR(1)</dd>' in body
    assert '<dt>HRF model</dt><dd>glover</dd>' in body
    assert '<dt>Repetition time (TR)</dt><dd>2 s</dd>' in body
    assert '<dt>Volumes per run</dt><dd>40, 40</dd>' in body
    assert '<dd>504 voxels (15.9 cm³), in a 7 x 8 x 9 grid of 3 x 3 x 3.5 mm</dd>' in body
    text = html.unescape(body)
    assert (
        "<p>A GLM of each voxel's time series in 2 runs: the task's conditions convolved "
        'with the glover HRF, any confounds given, no drift terms and a constant, fitted '
        'with AR(1) noise; the runs are combined by fixed effects.</p>'
    ) in text
    assert (
        "<dt>Signal scaling</dt><dd>each voxel's time series divided by its mean over time "
        '(percent signal change; signal_scaling=0)</dd>'
    ) in text
    # scans and regressors of each run: 3 conditions and a constant (no drift model)
    assert '<tr><td>Run 2</td><td>40</td><td>4: 3 task or confound regressors, 1 constant' in body


def test_model_section_of_a_group_uses_the_inputs_own_word(tmp_path, rng):
    import nibabel as nib
    import pandas as pd

    from bidsglm import save_glm_to_bids
    from bidsglm.models import SecondLevelModel

    from .conftest import SHAPE

    maps = [nib.Nifti1Image(rng.standard_normal(SHAPE), AFFINE) for _ in range(5)]
    design = pd.DataFrame({'intercept': np.ones(5)}, index=pd.Index(list('abcde'), name='study'))
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE)
    model = SecondLevelModel(mask_img=mask).fit(maps, design_matrix=design)
    save_glm_to_bids(model, 'intercept', out_dir=tmp_path, prefix='task-x')
    context = ReportContext.load(tmp_path)
    assert context.glm.metadata['DesignRows'] == 'study'
    body = model_section(context).body
    assert (
        '<p>A GLM across 5 studies with an intercept only (a one-sample test of the mean), '
        'fitted by ordinary least squares (OLS).</p>'
    ) in body
    assert '<dt>Input maps</dt><dd>5 (one per study)</dd>' in body
    assert '<tr><td>Group design</td><td>5</td><td>1: intercept</td></tr>' in body


def test_design_section_embeds_the_saved_figures(first_level_dir):
    context = ReportContext.load(first_level_dir)
    shown = images(design_section(context))
    assert [alt for _, alt in shown] == [
        'Design matrix, Run 1',
        'Correlations between design columns, Run 1',
        'Design matrix, Run 2',
        'Correlations between design columns, Run 2',
    ]
    saved = context.saved_svgs(None)
    assert [p.name for p in saved] == [
        'sub-01_task-x_run-1_design.svg',
        'sub-01_task-x_run-2_design.svg',
    ]
    assert shown[0][0] == svg_data_uri(saved[0].read_bytes())


def test_design_section_draws_missing_figures(first_level_dir):
    for svg in first_level_dir.rglob('*design.svg'):
        svg.unlink()
    shown = images(design_section(ReportContext.load(first_level_dir)))
    assert len(shown) == 4
    assert all(uri.startswith('data:image/svg+xml;base64,') for uri, _ in shown)


def test_contrast_section_finds_the_planted_block(first_level_dir):
    context = ReportContext.load(first_level_dir, thresholding=Thresholding(None, z=6.0))
    audio = context.glm.contrast('audio')
    section = contrast_section(audio, context)
    assert section.anchor == 'contrast-audio'
    assert section.title == 'Contrast: audio'
    assert 't test, 72 degrees of freedom' in section.body
    assert 'Threshold: |z| ≥ 6. 27 voxels in 1 cluster survive.' in section.body
    rows = re.findall(r'<tr><td>(\w+)</td>((?:<td class="num">[^<]*</td>)+)</tr>', section.body)
    assert rows[0][0] == '1'
    cells = re.findall(r'>([^<]*)<', rows[0][1])
    x, y, z = (float(v) for v in cells[0:6:2])
    assert BLOCK_MM[0].min() <= x <= BLOCK_MM[0].max()
    assert BLOCK_MM[1].min() <= y <= BLOCK_MM[1].max()
    assert BLOCK_MM[2].min() <= z <= BLOCK_MM[2].max()
    assert cells[8] == '27'
    assert float(cells[10]) == pytest.approx(27 * 31.5, abs=0.5)
    assert [alt for _, alt in images(section)] == [
        'Weights of audio',
        'Thresholded z map of audio',
    ]


def test_contrast_section_groups_runs_with_equal_weights(first_level_dir):
    context = ReportContext.load(first_level_dir)
    body = contrast_section(context.glm.contrast('effects'), context).body
    assert 'F test, 2 and 72 degrees of freedom' in body
    assert 'Weights over the columns of runs 1, 2.' in body


def test_contrast_section_states_the_fdr_threshold_and_folds_long_tables(first_level_dir):
    rule = Thresholding(None, z=-10.0, cluster_extent=0)
    context = ReportContext.load(first_level_dir, thresholding=rule)
    body = contrast_section(context.glm.contrast('audio'), context).body
    assert 'For comparison, FDR q &lt; 0.05: |z| ≥' in body
    fdr = ReportContext.load(first_level_dir, thresholding=Thresholding('fdr', alpha=0.05))
    body_fdr = contrast_section(fdr.glm.contrast('audio'), fdr).body
    assert 'FDR (Benjamini-Hochberg) q &lt; 0.05, two-sided (|z| ≥' in body_fdr
    assert 'For comparison' not in body_fdr


def test_contrast_section_says_when_nothing_survives(first_level_dir):
    context = ReportContext.load(first_level_dir, thresholding=Thresholding(None, z=50.0))
    body = contrast_section(context.glm.contrast('audio'), context).body
    assert 'No voxel survives this threshold.' in body
    assert 'three planes through the centre of the mask' in body


def test_quality_section_shows_r_square_and_residual_maps_per_run(first_level_dir):
    section = quality_section(ReportContext.load(first_level_dir))
    assert [alt for _, alt in images(section)] == [
        'r-squared, run 1',
        'Residual SD, run 1',
        'r-squared, run 2',
        'Residual SD, run 2',
    ]
    assert re.search(r'r-squared, run 1; median in the mask 0\.\d{3}\.', section.body)
    assert 'Standard deviation of the residuals, run 1 (percent signal change).' in section.body


def test_second_level_sections_name_the_group_design(second_level_dir):
    context = ReportContext.load(second_level_dir)
    assert '<dd>second level (group)</dd>' in model_section(context).body
    assert '<h3>Group design</h3>' in design_section(context).body
    body = contrast_section(context.glm.contrast('intercept'), context).body
    assert 't test, 11 degrees of freedom' in body
    assert 'Weights over the columns' not in body


def test_long_cluster_tables_are_folded():
    z = np.zeros((20, 20, 20))
    z[::2, ::2, ::2] = 5.0
    table = _cluster_table(find_clusters(z, np.eye(4), 3.0), False, 'scanner space')
    assert table.count('<tr><td>') == 1000
    assert f'The other {1000 - SHOWN_ROWS} of 1000 peaks' in table
    assert table.count('<details>') == 1


def test_contrast_section_without_a_z_map_says_so(first_level_dir):
    for path in first_level_dir.rglob('*contrast-audio_stat-z_statmap.*'):
        path.unlink()
    context = ReportContext.load(first_level_dir)
    section = contrast_section(context.glm.contrast('audio'), context)
    assert section.body == '<p>No z map was saved.</p>'


def test_context_draws_first_level_maps_over_the_saved_mean(first_level_dir):
    context = ReportContext.load(first_level_dir)
    mean = context.saved_maps.volume(context.glm.mean)[0]
    assert context.background is not None
    np.testing.assert_array_equal(context.background, mean)
    assert mean[context.mask].min() > 400  # the runs' baseline of 500, not the mask's 1
    assert context.background_name == 'the mean of the data'
    contrast = context.glm.contrasts[0]
    assert 'over the mean of the data, scanner space;' in contrast_section(contrast, context).body


def test_context_of_a_group_model_has_no_background(second_level_dir):
    context = ReportContext.load(second_level_dir)
    assert context.glm.mean is None
    assert context.background is None
    assert context.background_name == 'the mask'


def test_contrast_section_cuts_at_the_given_point_and_spaces_peaks(first_level_dir, monkeypatch):
    from bidsglm.report import _sections
    from bidsglm.report.options import Cuts

    context = ReportContext.load(first_level_dir, cuts=Cuts(point=(0.0, 0.0, 0.0), axial=2))
    body = contrast_section(context.glm.contrast('audio'), context).body
    assert 'three planes at the given point, then axial slices.' in body
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return find_clusters(*args, **kwargs)

    monkeypatch.setattr(_sections, 'find_clusters', spy)
    context = ReportContext.load(first_level_dir, min_distance=12.5)
    contrast_section(context.glm.contrast('audio'), context)
    assert calls[0]['min_distance'] == 12.5


def test_f_contrasts_stay_one_sided_while_t_contrasts_read_both_ways(first_level_dir):
    context = ReportContext.load(first_level_dir, thresholding=Thresholding(None, z=3.0))
    f_body = contrast_section(context.glm.contrast('effects'), context).body
    assert 'Threshold: z ≥ 3.' in f_body
    assert 'An F test is one-sided' in f_body
    assert 'Negative effects' not in f_body
    t_body = contrast_section(context.glm.contrast('audio'), context).body
    assert 'Threshold: |z| ≥ 3.' in t_body
    assert '<h4>Positive effects (z &gt; 0)</h4>' in t_body
    assert '<h4>Negative effects (z &lt; 0)</h4>' in t_body
    assert 'Peak coordinates in mm, scanner space; no atlas labels' in t_body


def test_one_sided_t_contrast_says_how_many_negative_voxels_it_leaves_out(first_level_dir):
    rule = Thresholding(None, z=3.0, two_sided=False)
    context = ReportContext.load(first_level_dir, thresholding=rule)
    body = contrast_section(context.glm.contrast('audio'), context).body
    z = context.saved_maps.volume(context.glm.contrast('audio').maps['z'])[0]
    hidden = int((z[context.mask] <= -3.0).sum())
    assert f'Only positive effects are shown (two_sided=False): {hidden} voxel' in body


def test_intercept_only_group_model_says_r_square_is_not_informative(second_level_dir):
    section = quality_section(ReportContext.load(second_level_dir))
    assert [alt for _, alt in images(section)] == ['Residual SD, group design']
    assert 'r-squared is not drawn: this design has only an intercept' in section.body


def test_group_model_with_a_covariate_draws_r_square(tmp_path, rng):
    import nibabel as nib
    import pandas as pd

    from bidsglm import save_glm_to_bids
    from bidsglm.models import SecondLevelModel

    from .conftest import SHAPE

    maps = [nib.Nifti1Image(rng.standard_normal(SHAPE), AFFINE) for _ in range(8)]
    design = pd.DataFrame({'intercept': 1.0, 'age': np.arange(8.0)})
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE)
    model = SecondLevelModel(mask_img=mask).fit(maps, design_matrix=design)
    save_glm_to_bids(model, 'age', out_dir=tmp_path, prefix='task-x')
    section = quality_section(ReportContext.load(tmp_path))
    assert [alt for _, alt in images(section)] == [
        'r-squared, group design',
        'Residual SD, group design',
    ]
    assert 'not drawn' not in section.body


def test_group_maps_in_an_mni_space_are_drawn_over_the_shipped_template(
    second_level_model, tmp_path
):
    import nibabel as nib

    from bidsglm import save_glm_to_bids
    from bidsglm.report.underlay import MNI_TEMPLATE_NAME, template_for

    saved = save_glm_to_bids(
        second_level_model, 'intercept', out_dir=tmp_path, prefix='task-x_space-MNI152NLin6Asym'
    )
    context = ReportContext.load(saved.statmap)
    assert context.background_name == MNI_TEMPLATE_NAME
    template = nib.load(template_for(saved.statmap))
    assert template.shape == (66, 78, 63)
    assert template.header['sform_code'] == 4
    assert context.background.shape == context.mask.shape
    assert context.background.max() > 50  # the brain's intensities, not a flat mask
    body = contrast_section(context.glm.contrast('intercept'), context).body
    assert f'over {MNI_TEMPLATE_NAME}, MNI152NLin6Asym space;' in body
    licence = (template_for(saved.statmap).parent / 'LICENSE').read_text()
    assert 'Louis Collins' in licence


def test_group_maps_in_scanner_space_stay_over_the_mask(second_level_dir):
    assert ReportContext.load(second_level_dir).background_name == 'the mask'


def test_survivor_text_counts_clusters_by_sign():
    from bidsglm.report._sections import _survivor_text

    z = np.zeros((6, 6, 6))
    z[1, 1, 1], z[4, 4, 4], z[1, 4, 1] = -5.0, -4.0, 6.0
    both = find_clusters(z, np.eye(4), 3.0, two_sided=True)
    assert _survivor_text(both) == (
        '3 voxels in 3 clusters survive (1 cluster of positive z, 2 negative).'
    )
    z[1, 4, 1] = 0.0
    negative = find_clusters(z, np.eye(4), 3.0, two_sided=True)
    assert _survivor_text(negative) == '2 voxels in 2 clusters survive, all of negative z.'
    assert _survivor_text(find_clusters(z, np.eye(4), 3.0)) == '0 voxels in 0 clusters survive.'


def planted_group(rng, peak_ijk, affine):
    """A fitted group model of 12 maps, a block of effect 3 around a peak of effect 6.

    Each map adds one number to all its voxels (centred over the maps), so every voxel
    has the same variance: t is 0 outside the block and twice as large at the peak.
    """
    import nibabel as nib

    from bidsglm.models import SecondLevelModel

    shape = (9, 9, 9)
    effect = np.zeros(shape)
    i, j, k = peak_ijk
    effect[i - 1 : i + 2, j - 1 : j + 2, k - 1 : k + 2] = 3.0
    effect[i, j, k] = 6.0
    shifts = rng.standard_normal(12)
    maps = [nib.Nifti1Image(effect + 1.5 * shift, affine) for shift in shifts - shifts.mean()]
    mask = nib.Nifti1Image(np.ones(shape, np.uint8), affine)
    return SecondLevelModel(mask_img=mask).fit(maps)


def atlas_cells(body):
    """The cluster names and atlas labels of a contrast section's tables."""
    numbers = r'(?:<td class="num">[^<]*</td>)+'
    rows = re.findall(rf'<tr><td>(\w+)</td>{numbers}<td class="wrap">([^<]*)</td></tr>', body)
    return [(name, html.unescape(label)) for name, label in rows]


def test_group_peaks_in_an_mni_space_are_named_from_the_shipped_atlas(rng, tmp_path):
    from bidsglm import save_glm_to_bids

    # voxel (4, 4, 4) of this 2 mm grid sits at MNI (-54, -2, -30), the centre CBIG
    # gives for parcel 168 of Schaefer 2018 (left temporal cortex, default B network)
    affine = np.array([[2.0, 0, 0, -62.0], [0, 2.0, 0, -10.0], [0, 0, 2.0, -38.0], [0, 0, 0, 1]])
    model = planted_group(rng, (4, 4, 4), affine)
    saved = save_glm_to_bids(
        model, 'intercept', out_dir=tmp_path, prefix='task-x_space-MNI152NLin2009cAsym'
    )
    context = ReportContext.load(saved.statmap, thresholding=Thresholding(None, z=3.0))
    body = contrast_section(context.glm.contrast('intercept'), context).body
    assert '<th class="wrap">Atlas label</th>' in body
    assert 'atlas labels from the Schaefer 2018 cortical parcellation' in body
    assert atlas_cells(body)[0] == ('1', 'Left temporal cortex, default B network (parcel 2)')
    assert '>-54.0<' in body
    model_body = model_section(context).body
    assert '<dt>Atlas labels</dt><dd>the Schaefer 2018 cortical parcellation' in model_body


def test_group_peaks_outside_an_mni_space_get_no_atlas_column(rng, tmp_path):
    from bidsglm import save_glm_to_bids

    affine = np.array([[2.0, 0, 0, -62.0], [0, 2.0, 0, -10.0], [0, 0, 2.0, -38.0], [0, 0, 0, 1]])
    model = planted_group(rng, (4, 4, 4), affine)
    for prefix in ('task-x', 'task-x_space-T1w'):
        saved = save_glm_to_bids(model, 'intercept', out_dir=tmp_path / prefix, prefix=prefix)
        context = ReportContext.load(saved.statmap, thresholding=Thresholding(None, z=3.0))
        assert context.atlas is None
        body = contrast_section(context.glm.contrast('intercept'), context).body
        assert 'Atlas label' not in body
        assert 'no atlas labels (given in MNI spaces only)' in body
        assert '>-54.0<' in body  # the same peak, unnamed
