import base64
import re
import tempfile
from xml.etree import ElementTree

import nibabel as nib
import numpy as np
import pytest

from bidsglm import save_glm_to_bids
from bidsglm._drawing.png import read_png
from bidsglm.errors import (
    ContrastError,
    ContrastTypeError,
    NotFittedError,
    ParameterTypeError,
)
from bidsglm.models import FirstLevelModel, SecondLevelModel
from bidsglm.report.document import HTMLReport
from bidsglm.report.fitted import generate_report

from .conftest import AFFINE, CONTRASTS, SHAPE, T_R, events, planted_run
from .test_report import chromium, needs_chromium

FOOTER = re.compile(r'<footer>.*</footer>')


def z_map_captions(page):
    """The captions of every thresholded z map's picture, in order."""
    return re.findall(r'alt="Thresholded z map of [^"]*"><figcaption>([^<]*)<', page)


def slice_labels(page, contrast):
    """The slice captions drawn in the z map figure of one contrast."""
    uri = re.search(
        rf'<img src="data:image/svg\+xml;base64,([^"]*)" alt="Thresholded z map of {contrast}"',
        page,
    )
    root = ElementTree.fromstring(base64.b64decode(uri.group(1)))
    return [t.text for t in root.iter('{http://www.w3.org/2000/svg}text') if '=' in (t.text or '')]


def test_generate_report_is_the_page_a_save_writes(first_level_model, tmp_path):
    # generate_report has nilearn's signature, so it passes nilearn's two_sided=False;
    # a save given no report keyword is two-sided (bidsglm's default)
    report = first_level_model.generate_report(CONTRASTS, title='Two runs')
    saved = save_glm_to_bids(
        first_level_model, CONTRASTS, out_dir=tmp_path, title='Two runs', two_sided=False
    )
    on_disk = saved.statmap.with_name('report.html').read_text(encoding='utf-8')
    assert isinstance(report, HTMLReport)
    assert FOOTER.sub('', report.html) == FOOTER.sub('', on_disk)
    assert 'from a fitted FirstLevelModel, in memory' in report.html
    default = save_glm_to_bids(first_level_model, CONTRASTS, out_dir=tmp_path / 'default')
    assert 'two-sided (|z| ≥ 3.29)' in default.statmap.with_name('report.html').read_text()


def test_generate_report_writes_nothing(first_level_model, tmp_path, monkeypatch):
    scratch = tmp_path / 'tmp'
    scratch.mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(scratch))
    monkeypatch.chdir(tmp_path)
    first_level_model.generate_report('audio')
    assert list(tmp_path.iterdir()) == [scratch]
    assert list(scratch.iterdir()) == []  # the scratch folder of the small files is gone


def test_generate_report_shows_each_contrast_by_name(first_level_model):
    page = first_level_model.generate_report(CONTRASTS)._repr_html_()
    for name in CONTRASTS:
        assert f'Contrast: {name}' in page
    assert 'GLM report: FirstLevelModel' in page  # fitted on images: no entities to name it


def test_generate_report_is_titled_by_the_entities_of_its_inputs(rng, tmp_path):
    paths = []
    for run, shift in ((1, 0.0), (2, 2.0)):
        paths.append(tmp_path / f'sub-07_task-nback_run-{run}_desc-preproc_bold.nii.gz')
        planted_run(rng, events(shift)).to_filename(paths[-1])
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE)
    model = FirstLevelModel(t_r=T_R, mask_img=mask, drift_model=None)
    model.fit(paths, events=[events(0), events(2)])
    assert '<h1>GLM report: sub-07 task-nback</h1>' in model.generate_report('audio').html


def test_generate_report_applies_the_thresholds(first_level_model):
    default = first_level_model.generate_report('audio').html
    assert 'uncorrected p &lt; 0.001' in default
    assert '<th>Cluster</th>' in default
    strict = first_level_model.generate_report('audio', height_control=None, threshold=50)
    assert 'Threshold: z ≥ 50' in strict.html
    assert 'No voxel survives this threshold.' in strict.html
    fdr = first_level_model.generate_report('audio', height_control='fdr', alpha=0.05)
    assert 'FDR (Benjamini-Hochberg) q &lt; 0.05' in fdr.html
    large = first_level_model.generate_report('audio', cluster_threshold=10_000)
    assert 'clusters of at least 10000 voxels' in large.html
    assert 'No voxel survives this threshold.' in large.html


def test_generate_report_two_sided_shows_negative_clusters(first_level_model):
    contrast = {'minus audio': [-1, 0, 0, 0]}
    one_sided = first_level_model.generate_report(contrast).html
    two_sided = first_level_model.generate_report(contrast, two_sided=True).html
    survivors = re.compile(r'(\d+) voxels? in \d+ clusters? survives?')
    assert int(survivors.search(one_sided).group(1)) < 3  # noise alone
    assert int(survivors.search(two_sided).group(1)) >= 27  # the 3x3x3 block, negative here
    assert '|z| ≥' in two_sided
    hidden = re.search(
        r'Only positive effects are shown \(two_sided=False\): (\d+) voxels', one_sided
    )
    assert int(hidden.group(1)) >= 27  # the one-sided page says what it leaves out


def test_generate_report_cuts_where_cut_coords_say(first_level_model):
    ortho = first_level_model.generate_report('audio', display_mode='ortho', cut_coords=(0, 0, 0))
    assert z_map_captions(ortho.html) == [
        'z map, thresholded (z in red to yellow), over the mean of the data, scanner space; '
        'three planes at the given point, then axial slices.'
    ]
    assert slice_labels(ortho.html, 'audio')[:3] == ['x = 0', 'y = 0', 'z = 0']
    axial = first_level_model.generate_report('audio', cut_coords=[-7, 0, 7, 14])
    assert slice_labels(axial.html, 'audio')[3:] == ['z = -7', 'z = 0', 'z = 7', 'z = 14']
    counted = first_level_model.generate_report('audio', cut_coords=2)
    assert len(slice_labels(counted.html, 'audio')) == 3 + 2


def test_generate_report_background(first_level_model):
    none = first_level_model.generate_report('audio', bg_img=None)
    assert 'over the mask, scanner space;' in z_map_captions(none.html)[0]
    template = nib.Nifti1Image(np.ones(SHAPE), AFFINE)
    given = first_level_model.generate_report('audio', bg_img=template)
    assert 'over the given background, scanner space;' in z_map_captions(given.html)[0]


def test_generate_report_report_dims_size_the_notebook_frame(first_level_model):
    report = first_level_model.generate_report('audio', report_dims=(900, 600))
    assert 'width="900" height="600"' in report._repr_html_()


def test_generate_report_without_contrasts_warns_and_shows_the_model(first_level_model):
    with pytest.warns(UserWarning, match='No contrast passed during report generation'):
        report = first_level_model.generate_report()
    assert 'Contrast:' not in report.html
    assert '<h2>Design</h2>' in report.html
    assert '<h2>Model quality</h2>' in report.html


def test_generate_report_ignores_first_level_contrast_of_a_first_level_model(first_level_model):
    with pytest.warns(UserWarning, match="'first_level_contrast' is ignored for FirstLevelModel"):
        report = first_level_model.generate_report('audio', first_level_contrast='audio')
    assert 'Contrast: audio' in report.html


def test_generate_report_of_a_group_model(second_level_model):
    report = second_level_model.generate_report('intercept', title='Group')
    assert '<h1>Group</h1>' in report.html
    assert 'Contrast: intercept' in report.html
    assert 'Group (second-level) model' in report.html


def test_generate_report_of_a_group_of_first_level_models(rng):
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE)
    subjects = [
        FirstLevelModel(t_r=T_R, mask_img=mask, drift_model=None).fit(
            planted_run(rng, events(0.0)), events=events(0.0)
        )
        for _ in range(4)
    ]
    group = SecondLevelModel().fit(subjects)
    report = group.generate_report('intercept', first_level_contrast='audio - visual')
    assert 'Contrast: intercept' in report.html
    assert '<dt>First-level contrast tested</dt><dd>audio - visual</dd>' in report.html


@pytest.mark.parametrize(
    ('contrasts', 'keywords', 'error'),
    [
        ('nothing', {}, ContrastError),
        (5, {}, ContrastTypeError),
        ({1: 'audio'}, {}, ContrastTypeError),
        ('audio', {'alpha': '0.01'}, ParameterTypeError),
    ],
)
def test_generate_report_refuses_misuse_before_drawing(
    first_level_model, contrasts, keywords, error
):
    with pytest.raises(error):
        generate_report(first_level_model, contrasts, **keywords)


def test_generate_report_of_an_unfitted_model_is_not_fitted_error():
    with pytest.raises(NotFittedError, match='This SecondLevelModel is not fitted yet'):
        SecondLevelModel().generate_report('intercept')


@needs_chromium
def test_generate_report_shows_inline_in_a_page_as_a_notebook_does(first_level_model, tmp_path):
    """A notebook puts _repr_html_ in its own page: the frame holds the whole report."""
    report = first_level_model.generate_report('audio', report_dims=(1000, 3800))
    host = tmp_path / 'notebook.html'
    host.write_text(
        '<!DOCTYPE html><html><body style="margin:0"><h1>Cell output</h1>'
        f'{report._repr_html_()}</body></html>',
        encoding='utf-8',
    )
    screenshot = tmp_path / 'notebook.png'
    chromium(tmp_path, '--window-size=1000,4000', f'--screenshot={screenshot}', host.as_uri())
    pixels = read_png(screenshot.read_bytes())[..., :3] / 255.0
    hot = (pixels[..., 0] > 0.8) & (pixels[..., 0] - pixels[..., 2] > 0.5)
    assert hot[150:].sum() > 200  # the z map's red-yellow voxels, drawn inside the frame


def test_generate_report_of_a_surface_model_lists_its_vertices(rng, surfaces):
    model = FirstLevelModel(t_r=surfaces.t_r).fit(surfaces.gifti_run(rng), surfaces.events())
    page = generate_report(model, 'task').html
    assert 'Contrast: task' in page
    # the task response of the fixture is on the first 3 left vertices
    rows = re.findall(r'<tr><td>left hemisphere</td><td>vertex</td><td[^>]*>(\d+)</td>', page)
    assert sorted(rows) == ['0', '1', '2']
