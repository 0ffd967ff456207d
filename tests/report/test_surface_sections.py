import base64
import re

import nibabel as nib
import numpy as np
import pytest

from bidsglm import save_glm_to_bids
from bidsglm._drawing.png import read_png
from bidsglm._drawing.svg import embedded_pngs
from bidsglm.errors import ShapeMismatchError
from bidsglm.models import FirstLevelModel
from bidsglm.report import Thresholding, write_report

from .conftest import icosphere
from .test_report import chromium, needs_chromium, probe_report


def decoded_svgs(document):
    """The SVG figures embedded in a page, as bytes."""
    prefix = 'data:image/svg+xml;base64,'
    sources = re.findall(r'<img src="([^"]+)"', document)
    return [base64.b64decode(s[len(prefix) :]) for s in sources if s.startswith(prefix)]


def cells_of(fragment):
    """The rows of the first table in an HTML fragment, as lists of cell texts."""
    table = fragment[fragment.index('<tbody>') : fragment.index('</tbody>')]
    return [re.findall(r'<td[^>]*>([^<]*)</td>', row) for row in table.split('</tr>') if row]


def after(document, heading):
    """The HTML from a heading of the contrast part to the next heading."""
    start = document.index(heading)
    end = document.find('<h', start + len(heading))
    return document[start : end if end > 0 else None]


def planted_series(rng, surfaces, n_vertices, negative):
    """Time x vertices: the fixture's positive patch on 0-2, a negative one on ``negative``."""
    values = surfaces.series(rng, n_vertices)
    values[:, negative] -= 20 * surfaces.task_wave()[:, None]
    return values


@pytest.fixture
def gifti_report(rng, surfaces, tmp_path):
    """The report of a GIFTI model: + on left 0-2, - on right 0-1, right 2 out of the mask."""
    values = planted_series(rng, surfaces, 9, [5, 6]).T
    run = {'left': surfaces.hemisphere(values[:5]), 'right': surfaces.hemisphere(values[5:])}
    model = FirstLevelModel(t_r=surfaces.t_r).fit(run, surfaces.events())
    save_glm_to_bids(model, 'task', out_dir=tmp_path)
    return (tmp_path / 'report.html').read_text(encoding='utf-8')


def test_the_planted_patches_are_listed_with_their_sign_part_and_vertex(gifti_report):
    positive = cells_of(after(gifti_report, '<h4>Positive effects'))
    negative = cells_of(after(gifti_report, '<h4>Negative effects'))
    assert sorted((part, index) for part, _kind, index, _z in positive) == [
        ('left hemisphere', '0'),
        ('left hemisphere', '1'),
        ('left hemisphere', '2'),
    ]
    assert sorted((part, index) for part, _kind, index, _z in negative) == [
        ('right hemisphere', '0'),
        ('right hemisphere', '1'),
    ]
    assert all(float(z) > 3.29 for *_, z in positive)
    assert all(float(z) < -3.29 for *_, z in negative)


def test_the_counts_per_part_and_the_two_sided_threshold_are_stated(gifti_report):
    contrast = after(gifti_report, '<h2>Contrast: task')
    assert 'uncorrected p &lt; 0.001, two-sided (|z| ≥ 3.29)' in gifti_report
    assert '5 elements of 8 in the mask pass.' in gifti_report
    counts = cells_of(contrast[contrast.index('>In mask</th>') :])
    assert counts == [['left hemisphere', '5', '3', '0'], ['right hemisphere', '3', '0', '2']]


def test_the_model_part_counts_the_vertices_of_the_mask(gifti_report):
    assert 'left hemisphere 5 of 5 vertices, right hemisphere 3 of 4 vertices' in gifti_report
    assert 'A GLM of each vertex&#x27;s time series' in gifti_report


def test_model_quality_gives_medians_per_part(gifti_report):
    quality = gifti_report[gifti_report.index('<h2>Model quality') :]
    rows = cells_of(quality)
    assert [row[0] for row in rows] == ['left hemisphere', 'right hemisphere']
    r_square = [float(row[1]) for row in rows]
    sd = [float(row[2]) for row in rows]
    assert 0 < r_square[1] < r_square[0] < 1  # the left has 3 of 5 task vertices, the right 2 of 3
    assert all(s > 0 for s in sd)
    assert 'Median residual SD (percent signal change)' in quality


def test_a_one_sided_rule_lists_no_negative_effect(rng, surfaces, tmp_path):
    values = planted_series(rng, surfaces, 9, [5, 6]).T
    run = {'left': surfaces.hemisphere(values[:5]), 'right': surfaces.hemisphere(values[5:])}
    model = FirstLevelModel(t_r=surfaces.t_r).fit(run, surfaces.events())
    save_glm_to_bids(model, 'task', out_dir=tmp_path)
    rule = Thresholding(two_sided=False, cluster_extent=5)
    document = write_report(tmp_path, thresholding=rule).read_text(encoding='utf-8')
    assert '<h4>Negative effects' not in document
    assert 'The cluster extent is not applied on a surface' in document
    assert '3 elements of 8 in the mask pass.' in document


def test_a_cifti_subcortical_voxel_is_listed_by_structure_and_ijk(rng, surfaces, tmp_path):
    models = surfaces.brain_models() + nib.cifti2.BrainModelAxis.from_mask(
        np.ones((2, 2, 1), bool), 'ThalamusLeft', np.eye(4)
    )
    values = planted_series(rng, surfaces, 13, [11])  # thalamus voxel 2 of 4: i, j, k = 1, 0, 0
    run = surfaces.cifti(values.astype(np.float32), models)
    model = FirstLevelModel(t_r=surfaces.t_r).fit(run, surfaces.events())
    save_glm_to_bids(model, 'task', out_dir=tmp_path)
    document = (tmp_path / 'report.html').read_text(encoding='utf-8')
    negative = cells_of(after(document, '<h4>Negative effects'))
    assert [row[:3] for row in negative] == [['thalamus left', 'voxel', '1, 0, 0']]
    assert 'thalamus left 4 of 4 voxels' in document
    slices = [svg for svg in decoded_svgs(document) if b'axial' in svg.lower() or b'z =' in svg]
    assert 'Subcortical z map of task' in document
    assert len(slices) == 1
    # the voxels drawn as slices: the negative one in blue to cyan
    pixels = read_png(embedded_pngs(slices[0])[0])[..., :3].astype(int)
    assert (pixels[..., 2] > pixels[..., 0] + 60).sum() > 0


# ------------------------------------------------------------------ with meshes
def sphere_run(rng, surfaces):
    """A GIFTI run on two 42-vertex spheres: a task response on the left's lateral cap."""
    coordinates, _faces = icosphere(1)
    values = 600 + 5 * rng.standard_normal((surfaces.n_scans, 84))
    cap = np.flatnonzero(coordinates[:, 0] < -30)
    values[:, cap] += 20 * surfaces.task_wave()[:, None]
    run = {
        'left': surfaces.hemisphere(values[:, :42].T),
        'right': surfaces.hemisphere(values[:, 42:].T),
    }
    return run, cap


def test_with_meshes_the_z_map_is_drawn_on_them(rng, surfaces, tmp_path):
    run, cap = sphere_run(rng, surfaces)
    model = FirstLevelModel(t_r=surfaces.t_r).fit(run, surfaces.events())
    meshes = {'left': icosphere(1), 'right': icosphere(1)}
    save_glm_to_bids(model, 'task', out_dir=tmp_path, meshes=meshes)
    document = (tmp_path / 'report.html').read_text(encoding='utf-8')
    assert 'on the given meshes: lateral and medial views' in document
    figures = [svg for svg in decoded_svgs(document) if b'hemisphere, lateral' in svg]
    assert len(figures) == 1
    captions = re.findall(rb'>((?:left|right) hemisphere, \w+)<', figures[0])
    assert captions == [
        b'left hemisphere, lateral',
        b'left hemisphere, medial',
        b'right hemisphere, lateral',
        b'right hemisphere, medial',
    ]
    positive = cells_of(after(document, '<h4>Positive effects'))
    assert sorted(int(index) for _part, _kind, index, _z in positive) == sorted(cap.tolist())
    # write_report takes the meshes too; without them the page has no figure of z
    again = write_report(tmp_path, meshes={'left': icosphere(1)}).read_text(encoding='utf-8')
    assert b'left hemisphere, lateral' in b''.join(decoded_svgs(again))
    assert b'right hemisphere' not in b''.join(decoded_svgs(again))
    plain = write_report(tmp_path).read_text(encoding='utf-8')
    assert not [svg for svg in decoded_svgs(plain) if b'hemisphere, lateral' in svg]


def test_a_mesh_that_does_not_match_the_data_is_refused_before_any_work(rng, surfaces, tmp_path):
    run, _cap = sphere_run(rng, surfaces)
    model = FirstLevelModel(t_r=surfaces.t_r).fit(run, surfaces.events())
    out = tmp_path / 'out'
    with pytest.raises(ShapeMismatchError, match=r'left hemisphere has 162 vertices.*has 42'):
        save_glm_to_bids(model, 'task', out_dir=out, meshes={'left': icosphere(2)})
    assert not out.exists()
    save_glm_to_bids(model, 'task', out_dir=out)
    before = (out / 'report.html').read_bytes()
    with pytest.raises(ShapeMismatchError, match='does not match the data'):
        write_report(out, meshes={'right': icosphere(0)})
    assert (out / 'report.html').read_bytes() == before


def test_meshes_for_a_volume_model_are_refused(first_level_model, tmp_path):
    with pytest.raises(ShapeMismatchError, match='meshes are for models fitted on surface'):
        save_glm_to_bids(
            first_level_model, 'audio', out_dir=tmp_path, meshes={'left': icosphere(0)}
        )
    assert not any(tmp_path.iterdir())


def test_a_surface_image_model_is_drawn_on_its_own_mesh(rng, surfaces, tmp_path):
    from nilearn.surface import InMemoryMesh, PolyMesh, SurfaceImage

    run, cap = sphere_run(rng, surfaces)
    coordinates, faces = icosphere(1)
    mesh = PolyMesh(left=InMemoryMesh(coordinates, faces), right=InMemoryMesh(coordinates, faces))
    data = {part: np.stack([a.data for a in run[part].darrays], axis=1) for part in run}
    image = SurfaceImage(mesh=mesh, data=data)
    model = FirstLevelModel(t_r=surfaces.t_r).fit(image, surfaces.events())
    save_glm_to_bids(model, 'task', out_dir=tmp_path)
    saved = (tmp_path / 'report.html').read_text(encoding='utf-8')
    in_memory = model.generate_report('task').html
    for document in (saved, in_memory):
        figures = [svg for svg in decoded_svgs(document) if b'hemisphere, lateral' in svg]
        assert len(figures) == 1
        positive = cells_of(after(document, '<h4>Positive effects'))
        assert sorted(int(row[2]) for row in positive) == sorted(cap.tolist())


@needs_chromium
def test_a_surface_report_with_meshes_renders_in_headless_chromium(rng, surfaces, tmp_path):
    run, _cap = sphere_run(rng, surfaces)
    model = FirstLevelModel(t_r=surfaces.t_r).fit(run, surfaces.events())
    out = tmp_path / 'out'
    meshes = {'left': icosphere(1), 'right': icosphere(1)}
    saved = save_glm_to_bids(model, 'task', out_dir=out, meshes=meshes)
    report = saved.statmap.with_name('report.html')
    screenshot = tmp_path / 'surface.png'
    chromium(tmp_path, '--window-size=1000,3000', f'--screenshot={screenshot}', report.as_uri())
    pixels = read_png(screenshot.read_bytes())[..., :3] / 255.0
    hot = (pixels[..., 0] > 0.8) & (pixels[..., 0] - pixels[..., 2] > 0.5)
    gray = (
        (np.ptp(pixels, axis=2) < 0.03) & (pixels.mean(axis=2) > 0.3) & (pixels.mean(axis=2) < 0.8)
    )
    assert hot.sum() > 5000  # the patch on the left hemisphere's lateral view
    assert gray.sum() > 100_000  # the gray hemispheres: about 3 discs of radius 144 px
    probe = probe_report(report, tmp_path, '--window-size=1000,2000')
    assert probe['headings'] == ['Model', 'Design', 'Contrast: task', 'Model quality']
    assert all(complete and width > 0 for complete, width, _ in probe['images'])


@pytest.mark.parametrize('form', ['gifti', 'cifti'])
def test_the_report_of_a_save_reads_the_maps_from_memory_as_from_disk(
    rng, surfaces, tmp_path, form
):
    values = planted_series(rng, surfaces, 13, [11])
    if form == 'cifti':
        models = surfaces.brain_models() + nib.cifti2.BrainModelAxis.from_mask(
            np.ones((2, 2, 1), bool), 'ThalamusLeft', np.eye(4)
        )
        run = surfaces.cifti(values.astype(np.float32), models)
    else:
        run = {
            'left': surfaces.hemisphere(values.T[:6]),
            'right': surfaces.hemisphere(values.T[6:]),
        }
    model = FirstLevelModel(t_r=surfaces.t_r).fit(run, surfaces.events())
    save_glm_to_bids(model, ['task', '-task'], out_dir=tmp_path, meshes={})  # no search
    report = tmp_path / 'report.html'
    from_memory = report.read_text(encoding='utf-8')  # written by the save, maps handed over
    assert write_report(tmp_path) == report
    from_disk = report.read_text(encoding='utf-8')  # every map read from its files
    assert 'Median residual SD' in from_memory
    assert from_memory == from_disk
