"""Surface GLMs against nilearn 0.14.1's, on its own ``SurfaceImage``.

Both libraries fit the same surface runs (two hemispheres of a tiny mesh) with the
same arguments; the maps must agree to 1e-6 relative on float64 data, 1e-4 on
float32. The same data given as GIFTI hemispheres and as a CIFTI-2 dense series must
give the same numbers as the ``SurfaceImage``.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.surface import InMemoryMesh, PolyMesh, SurfaceImage

from bidsglm import FirstLevelModel, load_glm_from_bids, save_glm_to_bids
from bidsglm.errors import InvalidParameterError

from .conftest import N_SCANS, OUTPUTS, T_R, make_events, quietly

pytestmark = pytest.mark.oracle

N_VERTICES = {'left': 30, 'right': 24}
TOLERANCE = {np.float64: 1e-6, np.float32: 1e-4}


def hemisphere_mesh(n_vertices: int, rng: np.random.Generator) -> InMemoryMesh:
    coordinates = rng.standard_normal((n_vertices, 3))
    faces = np.array([[i, i + 1, i + 2] for i in range(n_vertices - 2)])
    return InMemoryMesh(coordinates, faces)


@pytest.fixture
def mesh(rng) -> PolyMesh:
    return PolyMesh(**{part: hemisphere_mesh(n, rng) for part, n in N_VERTICES.items()})


def surface_run(rng, mesh, dtype=np.float64, active=8.0) -> SurfaceImage:
    """A run: a baseline per vertex, noise, and a block response on the left part."""
    wave = (np.arange(N_SCANS) % 8 < 4).astype(float)
    data = {}
    for part, n in N_VERTICES.items():
        baseline = rng.uniform(500.0, 900.0, (n, 1))
        amplitude = np.zeros((n, 1))
        if part == 'left':
            amplitude[: n // 2] = active
        values = baseline + amplitude * wave + 4 * rng.standard_normal((n, N_SCANS))
        data[part] = values.astype(dtype)
    return SurfaceImage(mesh=mesh, data=data)


def parts_of(image) -> np.ndarray:
    return np.concatenate([np.asarray(image.data.parts[p]) for p in N_VERTICES], axis=0)


def assert_surface_maps_equal(ours: dict, theirs: dict, rtol: float) -> None:
    for name in OUTPUTS:
        mine, reference = parts_of(ours[name]), parts_of(theirs[name])
        assert mine.shape == reference.shape, name
        scale = np.abs(reference).max()
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=rtol * scale, err_msg=name)


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('noise_model', ['ar1', 'ols'])
def test_surface_first_level_equals_nilearns(rng, mesh, dtype, noise_model):
    runs = [surface_run(rng, mesh, dtype), surface_run(rng, mesh, dtype)]
    events = [make_events(0.0), make_events(2.0)]
    settings = {'t_r': T_R, 'noise_model': noise_model, 'minimize_memory': False}
    ours = FirstLevelModel(**settings).fit(runs, events)
    theirs = quietly(NilearnFirstLevel(**settings).fit, runs, events)
    assert isinstance(ours.mask_img_, SurfaceImage)
    np.testing.assert_array_equal(parts_of(ours.mask_img_), parts_of(theirs.masker_.mask_img_))
    for contrast in ('audio - visual', 'visual'):
        mine = ours.compute_contrast(contrast, output_type='all')
        reference = quietly(theirs.compute_contrast, contrast, output_type='all')
        assert isinstance(mine['z_score'], SurfaceImage)
        assert_surface_maps_equal(mine, reference, TOLERANCE[dtype])
    for mine, reference in zip(ours.r_square_, theirs.r_square_, strict=True):
        np.testing.assert_allclose(
            parts_of(mine), parts_of(reference).reshape(parts_of(mine).shape), rtol=1e-6
        )


def test_surface_f_test_equals_nilearns(rng, mesh):
    runs, events = [surface_run(rng, mesh)], [make_events(0.0)]
    ours = FirstLevelModel(t_r=T_R).fit(runs, events)
    theirs = quietly(NilearnFirstLevel(t_r=T_R, minimize_memory=False).fit, runs, events)
    f_test = np.eye(ours.design_matrices_[0].shape[1])[:2]
    for output in ('stat', 'p_value', 'z_score'):
        mine = ours.compute_contrast(f_test, stat_type='F', output_type=output)
        reference = quietly(theirs.compute_contrast, f_test, stat_type='F', output_type=output)
        np.testing.assert_allclose(parts_of(mine), parts_of(reference), rtol=1e-6, atol=1e-9)


def gifti_parts(image: SurfaceImage) -> dict[str, nib.gifti.GiftiImage]:
    def hemisphere(values):
        arrays = [nib.gifti.GiftiDataArray(column.astype(np.float32)) for column in values.T]
        return nib.gifti.GiftiImage(darrays=arrays)

    return {part: hemisphere(np.asarray(image.data.parts[part])) for part in N_VERTICES}


def cifti_run(image: SurfaceImage) -> nib.Cifti2Image:
    models = None
    for part, structure in (('left', 'CortexLeft'), ('right', 'CortexRight')):
        axis = nib.cifti2.BrainModelAxis.from_mask(np.ones(N_VERTICES[part], bool), structure)
        models = axis if models is None else models + axis
    series = nib.cifti2.SeriesAxis(0.0, T_R, N_SCANS)
    return nib.Cifti2Image(parts_of(image).T.astype(np.float32), header=(series, models))


def test_gifti_and_cifti_runs_give_the_numbers_of_the_surface_image(rng, mesh, tmp_path):
    run = surface_run(rng, mesh, np.float32)
    events = make_events(0.0)
    reference = FirstLevelModel(t_r=T_R).fit(run, events)
    expected = parts_of(reference.compute_contrast('audio - visual', output_type='stat'))
    paths = {}
    for part, image in gifti_parts(run).items():
        paths[part] = tmp_path / f'sub-01_hemi-{part[0].upper()}_bold.func.gii'
        image.to_filename(paths[part])
    cifti_path = tmp_path / 'sub-01_space-fsLR_den-91k_bold.dtseries.nii'
    cifti_run(run).to_filename(cifti_path)
    for given in (gifti_parts(run), paths, cifti_run(run), str(cifti_path)):
        model = FirstLevelModel(t_r=T_R).fit(given, events)
        stat = model.compute_contrast('audio - visual', output_type='stat')
        if isinstance(stat, dict):
            values = np.concatenate([stat[p].darrays[0].data for p in N_VERTICES])
        else:
            values = np.asarray(stat.dataobj)[0]
        np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-6)


def test_a_cifti_run_equals_nilearns_array_level_glm_and_our_volume_engine(rng, mesh):
    from nilearn.glm.contrasts import compute_contrast as nilearn_contrast
    from nilearn.glm.first_level import mean_scaling, run_glm

    run = cifti_run(surface_run(rng, mesh))
    events = make_events(0.0)
    model = FirstLevelModel(t_r=T_R).fit(run, events)
    ours = model.compute_contrast('audio - visual', output_type='all')
    design = model.design_matrices_[0]
    weights = np.asarray(design.columns == 'audio', float) - np.asarray(design.columns == 'visual')
    matrix = np.asarray(run.dataobj, dtype=np.float64)
    labels, results = run_glm(mean_scaling(matrix)[0], design.to_numpy(), noise_model='ar1')
    reference = nilearn_contrast(labels, results, weights, stat_type='t')
    np.testing.assert_allclose(np.asarray(ours['stat'].dataobj)[0], reference.stat(), rtol=1e-6)
    np.testing.assert_allclose(
        np.asarray(ours['effect_size'].dataobj)[0], reference.effect_size().ravel(), rtol=1e-6
    )
    # the same matrix as a volume of 1 x 1 x n voxels, through the volume path
    volume = nib.Nifti1Image(matrix.T.reshape(1, 1, -1, N_SCANS), np.eye(4))
    as_volume = FirstLevelModel(t_r=T_R, mask_img=False).fit(volume, events)
    expected = as_volume.compute_contrast('audio - visual', output_type='stat').get_fdata()
    np.testing.assert_allclose(np.asarray(ours['stat'].dataobj)[0], expected.ravel(), rtol=1e-6)


def test_a_surface_image_model_is_saved_as_gifti_and_read_back_equal(rng, mesh, tmp_path):
    model = FirstLevelModel(t_r=T_R).fit(surface_run(rng, mesh), make_events(0.0))
    save_glm_to_bids(model, 'audio - visual', out_dir=tmp_path, prefix='sub-01_task-x')
    glm = load_glm_from_bids(tmp_path / 'sub-01')
    assert glm.surface_format == 'GIFTI'
    z_files = glm.contrast('audio - visual').maps['z']
    assert sorted(path.name for path in z_files.values()) == [
        'sub-01_task-x_hemi-L_contrast-audioMinusVisual_stat-z_statmap.func.gii',
        'sub-01_task-x_hemi-R_contrast-audioMinusVisual_stat-z_statmap.func.gii',
    ]
    expected = model.compute_contrast('audio - visual', output_type='z_score')
    for part, path in z_files.items():
        saved = nib.load(path).darrays[0].data
        reference = np.asarray(expected.data.parts[part])
        assert reference.dtype == np.float64
        np.testing.assert_array_equal(saved, reference.astype(np.float32))  # GIFTI's type


def test_a_nilearn_surface_model_is_refused_with_the_way_out(rng, mesh, tmp_path):
    theirs = quietly(NilearnFirstLevel(t_r=T_R, minimize_memory=False).fit,
                     surface_run(rng, mesh), make_events(0.0))  # fmt: skip
    with pytest.raises(InvalidParameterError, match=r'Fit bidsglm\.FirstLevelModel'):
        save_glm_to_bids(theirs, 'audio', out_dir=tmp_path / 'out')
    assert not (tmp_path / 'out').exists()
