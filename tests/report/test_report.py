import base64
import json
import os
import re
import shutil
import subprocess

import nibabel as nib
import numpy as np
import pytest

from bidsglm import load_glm_from_bids, save_glm_to_bids
from bidsglm._drawing.png import read_png
from bidsglm.errors import InputNotFoundError, InvalidParameterError
from bidsglm.models import FirstLevelModel, SecondLevelModel
from bidsglm.report import Thresholding, _maps, find_reports, write_index, write_report

from .conftest import AFFINE, SHAPE

FIRST_LEVEL_HEADINGS = [
    'Model',
    'Design',
    'Contrast: audio',
    'Contrast: audio - visual',
    'Contrast: effects',
    'Model quality',
]
#: 2 runs x (design, correlations) + 3 contrasts x (weights, z map) + 2 runs x (r², SD)
FIRST_LEVEL_IMAGES = 14


def h2_texts(document):
    return re.findall(r'<h2>([^<]*)</h2>', document)


def decoded_images(document):
    sources = re.findall(r'<img src="([^"]+)"', document)
    out = []
    for source in sources:
        kind, _, payload = source.partition(';base64,')
        out.append((kind, base64.b64decode(payload, validate=True)))
    return out


def test_write_report_writes_one_self_contained_page_beside_statmap(first_level_dir):
    report = write_report(first_level_dir)
    assert report == first_level_dir / 'sub-01' / 'sub-01_task-x_report.html'
    document = report.read_text(encoding='utf-8')
    assert '<title>GLM report: sub-01 task-x</title>' in document
    assert 'First-level model, 2 runs, 3 contrasts' in document
    assert h2_texts(document) == FIRST_LEVEL_HEADINGS
    images = decoded_images(document)
    assert len(images) == FIRST_LEVEL_IMAGES
    for kind, data in images:
        if kind == 'data:image/png':
            assert data.startswith(b'\x89PNG\r\n\x1a\n')
        else:
            assert kind == 'data:image/svg+xml'
            assert b'<svg' in data
    # nothing outside the page: every link is an anchor, every picture inline
    assert re.findall(r'(?:src|href)="(?!data:|#)[^"]*"', document) == []
    assert '<script' not in document


def test_report_of_a_save_reads_the_maps_from_memory(first_level_dir, monkeypatch):
    on_disk = (first_level_dir / 'sub-01' / 'sub-01_task-x_report.html').read_text()

    def no_disk_reads(path):
        msg = f'read {path} from disk'
        raise AssertionError(msg)

    monkeypatch.setattr(_maps, 'read_volume', no_disk_reads)
    monkeypatch.setattr(_maps, 'residual_sd', no_disk_reads)
    glm = load_glm_from_bids(first_level_dir / 'sub-01')
    images = {path: nib.load(path) for path in glm.residuals + glm.r_square}
    images |= {path: nib.load(path) for c in glm.contrasts for path in c.maps.values()}
    images[glm.mask] = nib.load(glm.mask)
    images[glm.mean] = nib.load(glm.mean)
    # the same page as the one written during the save, without reading a map
    assert write_report(first_level_dir, images=images).read_text() == on_disk


def test_write_report_of_a_group_model(second_level_dir):
    report = write_report(second_level_dir)
    assert report.name == 'task-x_report.html'
    document = report.read_text(encoding='utf-8')
    assert h2_texts(document) == ['Model', 'Design', 'Contrast: intercept', 'Model quality']
    assert 'Group (second-level) model, 1 design, 1 contrast' in document
    # design (no correlations: one column), weights, z map, residual SD; no r-squared,
    # which is 0 by construction for an intercept-only design
    assert len(decoded_images(document)) == 4
    assert 'alt="r-squared' not in document
    assert 'r-squared is not drawn' in document


def test_write_report_uses_the_thresholding_and_a_background(first_level_dir, rng):
    background = nib.Nifti1Image(rng.random((14, 16, 18, 3)), AFFINE @ np.diag([0.5, 0.5, 0.5, 1]))
    rule = Thresholding('fdr', alpha=0.01, cluster_extent=3)
    document = write_report(first_level_dir, thresholding=rule, background=background).read_text(
        encoding='utf-8'
    )
    assert 'FDR (Benjamini-Hochberg) q &lt; 0.01' in document
    assert 'clusters of at least 3 voxels' in document


def test_write_report_needs_one_saved_model(tmp_path, first_level_dir):
    with pytest.raises(InputNotFoundError, match=r'No statmap\.json'):
        write_report(tmp_path / 'first' / 'sub-01' / 'func')
    maps = [nib.Nifti1Image(np.ones(SHAPE) + i, AFFINE) for i in range(3)]
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE)
    model = SecondLevelModel(mask_img=mask).fit(maps)
    save_glm_to_bids(model, 'intercept', out_dir=first_level_dir, prefix='task-y')
    with pytest.raises(InvalidParameterError, match='several saved models'):
        write_report(first_level_dir)


def test_write_index_links_every_report_below_the_folder(first_level_dir, second_level_dir):
    root = first_level_dir.parent
    expected = ['first/sub-01/sub-01_task-x_report.html', 'group/task-x_report.html']
    # every save writes its report; rebuild=True writes them again
    assert [p.relative_to(root).as_posix() for p in find_reports(root)] == expected
    index = write_index(root, rebuild=True)
    assert index == root / 'index.html'
    assert [p.relative_to(root).as_posix() for p in find_reports(root)] == expected
    document = index.read_text(encoding='utf-8')
    assert re.findall(r'<a href="([^"#]+)">', document) == expected
    assert 'First-level model, 2 runs, 3 contrasts' in document
    assert 'Group (second-level) model, 1 design, 1 contrast' in document
    assert '<h2>2 reports</h2>' in document


def test_write_index_of_a_missing_folder_fails(tmp_path):
    with pytest.raises(InputNotFoundError, match='is not a folder'):
        write_index(tmp_path / 'nowhere')


# ------------------------------------------------------------------ in a real browser
CHROMIUM = next(
    filter(None, map(shutil.which, ('chromium', 'chromium-browser', 'google-chrome'))), None
)
#: CI sets BIDSGLM_REQUIRE_CHROMIUM=1, so a missing browser fails instead of skipping.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get('BIDSGLM_REQUIRE_CHROMIUM'),
    reason='headless Chromium is not installed (Debian: apt-get install chromium)',
)
PROBE = """<script>
window.addEventListener('load', function () {
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({
    images: Array.from(document.images).map(function (i) {
      return [i.complete, i.naturalWidth, i.naturalHeight];
    }),
    headings: Array.from(document.querySelectorAll('h2')).map(function (h) {
      return h.textContent;
    }),
    shownWidths: Array.from(document.images).map(function (i) {
      return i.getBoundingClientRect().right;
    }),
    pageWidth: document.documentElement.scrollWidth,
    windowWidth: window.innerWidth
  });
  document.body.appendChild(out);
});
</script>"""


def chromium(tmp_path, *arguments):
    if CHROMIUM is None:
        pytest.fail('BIDSGLM_REQUIRE_CHROMIUM is set but no chromium executable was found.')
    command = [
        CHROMIUM,
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        f'--user-data-dir={tmp_path / "chromium-profile"}',
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def probe_report(report, tmp_path, *arguments):
    """Open a copy of the report that lists what the browser drew (CSP lifted for it)."""
    document = report.read_text(encoding='utf-8')
    document = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', '', document)
    page = tmp_path / 'probe.html'
    page.write_text(document.replace('</body>', PROBE + '</body>'), encoding='utf-8')
    dom = chromium(
        tmp_path, *arguments, '--virtual-time-budget=10000', '--dump-dom', page.as_uri()
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert found is not None, dom.stderr[-2000:]
    return json.loads(found.group(1).replace('&quot;', '"').replace('&amp;', '&'))


@needs_chromium
def test_report_renders_in_headless_chromium(first_level_dir, tmp_path):
    report = write_report(first_level_dir)
    screenshot = tmp_path / 'report.png'
    chromium(tmp_path, '--window-size=1000,6000', f'--screenshot={screenshot}', report.as_uri())
    pixels = read_png(screenshot.read_bytes())[..., :3] / 255.0
    assert pixels.shape == (6000, 1000, 3)
    ink = (pixels < 0.9).any(axis=2)
    assert ink.mean() > 0.05  # not blank
    assert ink[:200].any()  # the title at the top
    hot = (pixels[..., 0] > 0.8) & (pixels[..., 0] - pixels[..., 2] > 0.5)
    assert hot.sum() > 500  # the z maps' red-yellow voxels: PNG images were drawn
    # Images and headings as the browser sees them.
    probe = probe_report(report, tmp_path, '--window-size=1000,2000')
    assert probe['headings'] == FIRST_LEVEL_HEADINGS
    assert len(probe['images']) == FIRST_LEVEL_IMAGES
    assert all(
        complete and width > 0 and height > 0 for complete, width, height in probe['images']
    )


@needs_chromium
def test_report_fits_a_phone_screen(first_level_dir, tmp_path):
    report = write_report(first_level_dir)
    screenshot = tmp_path / 'phone.png'
    chromium(tmp_path, '--window-size=390,3000', f'--screenshot={screenshot}', report.as_uri())
    pixels = read_png(screenshot.read_bytes())[..., :3] / 255.0
    assert pixels.shape == (3000, 390, 3)
    ink = (pixels < 0.9).any(axis=2)
    assert ink.mean() > 0.05
    # Headless windows are at least 500 pixels wide: narrower than the 710-pixel maps.
    probe = probe_report(report, tmp_path, '--window-size=500,3000')
    assert probe['windowWidth'] == 500
    assert probe['pageWidth'] <= 500  # nothing wider than the screen: no sideways scrolling
    assert max(probe['shownWidths']) <= 500  # every figure shrinks to the width


def signed_tables(document):
    """The rows of the positive and negative tables of a page, by heading."""
    tables = {}
    for heading in ('Positive effects (z &gt; 0)', 'Negative effects (z &lt; 0)'):
        part = document.split(f'<h4>{heading}</h4>', 1)[1].split('</table>', 1)[0]
        rows = re.findall(r'<tr><td>(\w+)</td>((?:<td class="num">[^<]*</td>)+)</tr>', part)
        tables[heading[:8]] = [
            [name, *re.findall(r'>([^<]*)<', cells)[::2]] for name, cells in rows
        ]
    return tables


def planted_group(rng):
    """A group of 30 maps with a positive and a negative block, each with a peak voxel."""
    effect = np.zeros(SHAPE)
    effect[1:3, 1:4, 1:3] = 6.0  # 12 voxels up
    effect[1, 2, 1] = 14.0  # its peak
    effect[4:6, 4:7, 5:8] = -6.0  # 18 voxels down
    effect[5, 5, 6] = -14.0
    maps = [nib.Nifti1Image(effect + 1.5 * rng.standard_normal(SHAPE), AFFINE) for _ in range(30)]
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE)
    return SecondLevelModel(mask_img=mask).fit(maps)


def test_report_shows_a_planted_positive_and_a_planted_negative_blob(tmp_path, rng):
    model = planted_group(rng)
    # two_sided is not given: a save's report is two-sided by default
    saved = save_glm_to_bids(
        model, 'intercept', out_dir=tmp_path, prefix='task-x', cluster_threshold=5
    )
    document = saved.statmap.with_name('task-x_report.html').read_text(encoding='utf-8')
    assert 'uncorrected p &lt; 0.001, two-sided (|z| ≥ 3.29), clusters of at least 5' in document
    assert '30 voxels in 2 clusters survive (1 cluster of positive z, 1 negative).' in document
    tables = signed_tables(document)
    # columns: cluster, X, Y, Z, peak z, voxels, volume (mm3); one voxel is 31.5 mm3
    up, down = tables['Positive'][0], tables['Negative'][0]
    assert up[0] == '1'
    assert [float(v) for v in up[1:4]] == (AFFINE @ [1, 2, 1, 1])[:3].tolist()
    assert float(up[4]) == pytest.approx(11.51, abs=0.01)
    assert (up[5], up[6]) == ('12', '378')
    assert down[0] == '2'
    assert [float(v) for v in down[1:4]] == (AFFINE @ [5, 5, 6, 1])[:3].tolist()
    assert float(down[4]) == pytest.approx(-11.70, abs=0.01)
    assert (down[5], down[6]) == ('18', '567')
    assert all(float(row[4]) > 0 for row in tables['Positive'])  # subpeaks keep their sign
    assert all(float(row[4]) < 0 for row in tables['Negative'])


def svg_texts(document, alt):
    """The texts of the SVG picture of a page with this alternative text."""
    source = re.search(rf'<img src="data:image/svg\+xml;base64,([^"]+)" alt="{alt}"', document)
    return re.findall(r'<text[^>]*>([^<]*)</text>', base64.b64decode(source.group(1)).decode())


def test_page_names_the_space_and_every_slice_its_directions(second_level_model, tmp_path):
    mni = save_glm_to_bids(
        second_level_model, 'intercept', out_dir=tmp_path / 'mni', prefix='task-x_space-MNI152'
    )
    page = mni.statmap.with_name('task-x_space-MNI152_report.html').read_text(encoding='utf-8')
    coordinates = '<dt>Coordinates</dt><dd>mm in MNI152 space (the space- entity of the files)'
    assert coordinates in page
    assert 'Peak coordinates in mm, MNI152 space; atlas labels from the Schaefer 2018' in page
    footer = page[page.index('<footer>') :]
    assert 'Atlas labels: Schaefer et al. (2018)' in footer
    assert 'Computational Brain Imaging Group, MIT licence' in footer
    scanner = save_glm_to_bids(
        second_level_model, 'intercept', out_dir=tmp_path / 'scanner', prefix='task-x'
    )
    page = scanner.statmap.with_name('task-x_report.html').read_text(encoding='utf-8')
    assert '<dt>Coordinates</dt><dd>mm in scanner space: the files name no space- entity' in page
    assert 'Peak coordinates in mm, scanner space; no atlas labels' in page
    assert 'Schaefer' not in page[page.index('<footer>') :]
    assert ', scanner space; three planes at the strongest peak' in page
    z_map = svg_texts(page, 'Thresholded z map of intercept')
    assert [z_map[i][:4] for i in (0, 3, 6)] == ['x = ', 'y = ', 'z = ']
    assert [z_map[1:3], z_map[4:6], z_map[7:9]] == [['P', 'A'], ['L', 'R'], ['L', 'R']]
    for alt in ('Thresholded z map of intercept', 'Residual SD, group design'):
        texts = svg_texts(page, alt)
        coronal_or_axial = sum(text.startswith(('y = ', 'z = ')) for text in texts)
        assert texts.count('L') == texts.count('R') == coronal_or_axial > 3


@needs_chromium
def test_group_report_renders_in_headless_chromium(tmp_path, rng):
    saved = save_glm_to_bids(
        planted_group(rng), 'intercept', out_dir=tmp_path / 'out', prefix='task-x_space-MNI152'
    )
    report = saved.statmap.with_name('task-x_space-MNI152_report.html')
    screenshot = tmp_path / 'group.png'
    chromium(tmp_path, '--window-size=1000,3000', f'--screenshot={screenshot}', report.as_uri())
    pixels = read_png(screenshot.read_bytes())[..., :3] / 255.0
    ink = (pixels < 0.9).any(axis=2)
    assert ink.mean() > 0.05
    slices = pixels[:, :640]  # the slices, left of the colour bars (at x > 650)
    hot = (slices[..., 0] > 0.8) & (slices[..., 0] - slices[..., 2] > 0.5)
    cold = (slices[..., 2] > 0.8) & (slices[..., 2] - slices[..., 0] > 0.5)
    assert hot.sum() > 200  # the positive block, red to yellow
    assert cold.sum() > 200  # the negative block, blue to cyan
    gray = (np.ptp(pixels, axis=2) < 0.02) & (pixels[..., 0] > 0.2) & (pixels[..., 0] < 0.8)
    assert gray.sum() > 2000  # the template under the maps
    probe = probe_report(report, tmp_path, '--window-size=1000,2000')
    assert probe['headings'] == ['Model', 'Design', 'Contrast: intercept', 'Model quality']
    # design, weights, z map, residual SD (no r-squared: intercept only)
    assert len(probe['images']) == 4
    assert all(complete and width > 0 for complete, width, _ in probe['images'])


def test_a_surface_model_is_saved_with_its_report_and_indexed(
    first_level_dir, rng, surfaces, tmp_path
):
    model = FirstLevelModel(t_r=surfaces.t_r).fit(surfaces.cifti_run(rng), surfaces.events())
    out = tmp_path / 'surface'
    saved = save_glm_to_bids(model, 'task', out_dir=out)
    assert [path.name for path in find_reports(out)] == ['report.html']
    assert [path.name for path in saved.files if path.name.endswith('report.html')] == [
        'report.html'
    ]
    document = write_report(out).read_text(encoding='utf-8')
    assert h2_texts(document) == ['Model', 'Design', 'Contrast: task', 'Model quality']
    shutil.copytree(first_level_dir, out / 'volume')
    index = write_index(out, rebuild=True)
    expected = ['report.html', 'volume/sub-01/sub-01_task-x_report.html']
    assert [p.relative_to(out).as_posix() for p in find_reports(out)] == expected
    assert re.findall(r'<a href="([^"#]+)">', index.read_text(encoding='utf-8')) == expected
