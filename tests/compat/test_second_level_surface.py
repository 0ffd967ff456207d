"""Second-level GLMs on surfaces against nilearn 0.14.1's, on its own ``SurfaceImage``.

Both libraries fit the same maps (two hemispheres of a tiny mesh) with the same
design; every map must agree to 1e-6 relative on float64 maps, 1e-4 on float32. The
same maps given as GIFTI hemispheres and as CIFTI-2 ``.dscalar.nii`` files must give
the numbers of the ``SurfaceImage``; on CIFTI-2 they must also equal our volume
engine on the same matrix and nilearn's array-level GLM functions.

Ours agree with scipy's one-sample t-test to 1e-16 on float64 maps; nilearn's differ
from it by about 2e-8 relative, because its surface masker hands a list of float64
``SurfaceImage`` maps over rounded to float32 (on float32 maps both are equal).
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.glm.contrasts import compute_contrast as nilearn_contrast
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.glm.first_level import run_glm
from nilearn.glm.second_level import SecondLevelModel as NilearnSecondLevel
from nilearn.surface import InMemoryMesh, PolyMesh, SurfaceImage

from bidsglm import FirstLevelModel, SecondLevelModel

from .conftest import N_SCANS, OUTPUTS, T_R, make_events, quietly

pytestmark = pytest.mark.oracle

N_VERTICES = {'left': 12, 'right': 9}
N_MAPS = 10
TOLERANCE = {np.float64: 1e-6, np.float32: 1e-4}


def hemisphere_mesh(n_vertices: int, rng: np.random.Generator) -> InMemoryMesh:
    coordinates = rng.standard_normal((n_vertices, 3))
    faces = np.array([[i, i + 1, i + 2] for i in range(n_vertices - 2)])
    return InMemoryMesh(coordinates, faces)


@pytest.fixture
def mesh(rng) -> PolyMesh:
    return PolyMesh(**{part: hemisphere_mesh(n, rng) for part, n in N_VERTICES.items()})


def surface_maps(rng, mesh, slopes=None, dtype=np.float64) -> list[SurfaceImage]:
    """One map per subject: an effect on the left part's first half, noise, a slope."""
    slopes = np.zeros(N_MAPS) if slopes is None else slopes
    maps = []
    for slope in slopes:
        data = {}
        for part, n in N_VERTICES.items():
            effect = np.zeros(n)
            if part == 'left':
                effect[: n // 2] = 1.5
            data[part] = (effect + 2.0 * slope + rng.standard_normal(n)).astype(dtype)
        maps.append(SurfaceImage(mesh=mesh, data=data))
    return maps


def parts_of(image) -> np.ndarray:
    return np.concatenate([np.asarray(image.data.parts[p]) for p in N_VERTICES], axis=0)


def assert_surface_maps_equal(ours: dict, theirs: dict, rtol: float) -> None:
    for name in OUTPUTS:
        mine, reference = parts_of(ours[name]), parts_of(theirs[name])
        assert mine.shape == reference.shape, name
        scale = np.abs(reference).max()
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=rtol * scale, err_msg=name)


def intercept(n: int = N_MAPS) -> pd.DataFrame:
    return pd.DataFrame({'intercept': np.ones(n)})


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_one_sample_equals_nilearns(rng, mesh, dtype):
    maps = surface_maps(rng, mesh, dtype=dtype)
    ours = SecondLevelModel().fit(maps)  # nilearn needs the design; ours is its default
    theirs = quietly(NilearnSecondLevel().fit, maps, design_matrix=intercept())
    assert isinstance(ours.mask_img_, SurfaceImage)
    np.testing.assert_array_equal(parts_of(ours.mask_img_), parts_of(theirs.masker_.mask_img_))
    mine = ours.compute_contrast(output_type='all')
    reference = quietly(theirs.compute_contrast, 'intercept', output_type='all')
    assert isinstance(mine['z_score'], SurfaceImage)
    assert_surface_maps_equal(mine, reference, TOLERANCE[dtype])
    assert parts_of(mine['stat'])[:3].min() > 2  # the planted effect is found


def test_a_covariate_equals_nilearns(rng, mesh):
    age = np.linspace(-1.0, 1.0, N_MAPS)
    maps = surface_maps(rng, mesh, slopes=age)
    design = pd.DataFrame({'intercept': np.ones(N_MAPS), 'age': age})
    ours = SecondLevelModel().fit(maps, design_matrix=design)
    theirs = quietly(NilearnSecondLevel().fit, maps, design_matrix=design)
    for contrast in ('age', 'intercept', 'intercept - age'):
        mine = ours.compute_contrast(contrast, output_type='all')
        reference = quietly(theirs.compute_contrast, contrast, output_type='all')
        assert_surface_maps_equal(mine, reference, 1e-6)
    slope = parts_of(ours.compute_contrast('age', output_type='effect_size'))
    np.testing.assert_allclose(slope.mean(), 2.0, atol=0.5)  # planted: 2 per unit of age
    f_test = np.eye(2)
    mine_f = ours.compute_contrast(f_test, output_type='stat')
    reference_f = quietly(theirs.compute_contrast, f_test, output_type='stat')
    np.testing.assert_allclose(parts_of(mine_f), parts_of(reference_f), rtol=1e-6)


def test_a_vertex_without_data_is_out_of_both_masks(rng, mesh):
    maps = surface_maps(rng, mesh)
    maps[3].data.parts['left'][0] = np.nan
    ours = SecondLevelModel().fit(maps)
    theirs = quietly(NilearnSecondLevel().fit, maps, design_matrix=intercept())
    np.testing.assert_array_equal(parts_of(ours.mask_img_), parts_of(theirs.masker_.mask_img_))
    assert ours.n_elements_ == theirs.n_elements_ == sum(N_VERTICES.values()) - 1
    mine = ours.compute_contrast(output_type='all')
    reference = quietly(theirs.compute_contrast, 'intercept', output_type='all')
    assert_surface_maps_equal(mine, reference, 1e-6)
    assert parts_of(mine['stat'])[0] == 0.0


def test_a_given_surface_mask_equals_nilearns(rng, mesh):
    maps = surface_maps(rng, mesh)
    keep = {part: (np.arange(n) % 3 != 0).astype(np.float64) for part, n in N_VERTICES.items()}
    mask = SurfaceImage(mesh=mesh, data=keep)
    ours = SecondLevelModel(mask_img=mask).fit(maps)
    theirs = quietly(NilearnSecondLevel(mask_img=mask).fit, maps, design_matrix=intercept())
    assert ours.n_elements_ == theirs.n_elements_ == int(parts_of(mask).sum())
    mine = ours.compute_contrast(output_type='all')
    reference = quietly(theirs.compute_contrast, 'intercept', output_type='all')
    assert_surface_maps_equal(mine, reference, 1e-6)


def test_one_surface_image_of_every_map_equals_nilearns(rng, mesh):
    maps = surface_maps(rng, mesh)
    stacked = SurfaceImage(
        mesh=mesh,
        data={
            p: np.stack([np.asarray(m.data.parts[p]) for m in maps], axis=1) for p in N_VERTICES
        },
    )
    ours = SecondLevelModel().fit(stacked)
    theirs = quietly(NilearnSecondLevel().fit, stacked, design_matrix=intercept())
    mine = ours.compute_contrast(output_type='all')
    reference = quietly(theirs.compute_contrast, 'intercept', output_type='all')
    assert_surface_maps_equal(mine, reference, 1e-6)
    assert ours.residuals_.data.parts['left'].shape == (N_VERTICES['left'], N_MAPS)


def test_a_nilearn_surface_masker_gives_its_mask(rng, mesh):
    from nilearn.maskers import SurfaceMasker as NilearnSurfaceMasker

    maps = surface_maps(rng, mesh)
    keep = {part: (np.arange(n) % 2 == 0).astype(np.float64) for part, n in N_VERTICES.items()}
    mask = SurfaceImage(mesh=mesh, data=keep)
    masker = quietly(NilearnSurfaceMasker(mask_img=mask).fit)
    ours = SecondLevelModel(mask_img=masker).fit(maps)
    theirs = quietly(NilearnSecondLevel(mask_img=masker).fit, maps, design_matrix=intercept())
    np.testing.assert_array_equal(parts_of(ours.mask_img_), parts_of(mask))
    mine = ours.compute_contrast(output_type='all')
    reference = quietly(theirs.compute_contrast, 'intercept', output_type='all')
    assert_surface_maps_equal(mine, reference, 1e-6)


def surface_run(rng, mesh, gain: float) -> SurfaceImage:
    wave = (np.arange(N_SCANS) % 8 < 4).astype(float)
    data = {}
    for part, n in N_VERTICES.items():
        baseline = rng.uniform(500.0, 900.0, (n, 1))
        values = baseline + gain * wave + 4 * rng.standard_normal((n, N_SCANS))
        data[part] = values
    return SurfaceImage(mesh=mesh, data=data)


def test_first_level_models_on_surfaces_equal_nilearn_on_their_effect_maps(rng, mesh):
    # nilearn 0.14.1 fits surface first-level models but its second level fails on them
    # (check_niimg refuses a SurfaceImage), so it is given their effect maps.
    runs = [surface_run(rng, mesh, gain) for gain in np.linspace(2.0, 10.0, 6)]
    labels = [f'{i:02d}' for i in range(1, 7)]
    ours_first, effects = [], []
    for run, label in zip(runs, labels, strict=True):
        settings = {'t_r': T_R, 'subject_label': label, 'minimize_memory': False}
        ours_first.append(FirstLevelModel(**settings).fit(run, make_events()))
        theirs_first = quietly(NilearnFirstLevel(**settings).fit, run, make_events())
        effects.append(quietly(theirs_first.compute_contrast, 'audio', output_type='effect_size'))
    confounds = pd.DataFrame({'subject_label': labels, 'age': [1.0, -0.5, 0.8, -1.2, 0.3, -0.4]})
    ours = SecondLevelModel().fit(ours_first, confounds=confounds)
    theirs = quietly(NilearnSecondLevel().fit, effects, design_matrix=ours.design_matrix_)
    assert list(ours.design_matrix_.columns) == ['age', 'intercept']
    for contrast in ('intercept', 'age'):
        mine = ours.compute_contrast(contrast, first_level_contrast='audio', output_type='all')
        reference = quietly(theirs.compute_contrast, contrast, output_type='all')
        assert_surface_maps_equal(mine, reference, 1e-6)
    assert isinstance(ours.residuals_, SurfaceImage)


def gifti_map(image: SurfaceImage) -> dict[str, nib.gifti.GiftiImage]:
    def hemisphere(values):
        array = nib.gifti.GiftiDataArray(np.asarray(values, np.float32))
        return nib.gifti.GiftiImage(darrays=[array])

    return {part: hemisphere(image.data.parts[part]) for part in N_VERTICES}


def brain_models() -> nib.cifti2.BrainModelAxis:
    left = nib.cifti2.BrainModelAxis.from_mask(np.ones(N_VERTICES['left'], bool), 'CortexLeft')
    right = nib.cifti2.BrainModelAxis.from_mask(np.ones(N_VERTICES['right'], bool), 'CortexRight')
    return left + right


def cifti_map(image: SurfaceImage) -> nib.Cifti2Image:
    scalars = nib.cifti2.ScalarAxis(['effect'])
    return nib.Cifti2Image(
        parts_of(image)[None].astype(np.float32), header=(scalars, brain_models())
    )


def test_gifti_and_cifti_maps_give_the_numbers_of_the_surface_image(rng, mesh, tmp_path):
    maps = [
        SurfaceImage(mesh=mesh, data={p: v.astype(np.float32) for p, v in m.data.parts.items()})
        for m in surface_maps(rng, mesh)
    ]
    expected = parts_of(SecondLevelModel().fit(maps).compute_contrast(output_type='stat'))
    paths = []
    for index, image in enumerate(maps):
        paths.append(tmp_path / f'sub-{index:02d}_stat-effect_statmap.dscalar.nii')
        cifti_map(image).to_filename(paths[-1])
    for given in ([gifti_map(m) for m in maps], [cifti_map(m) for m in maps], paths):
        model = SecondLevelModel().fit(given)
        stat = model.compute_contrast(output_type='stat')
        if isinstance(stat, dict):
            values = np.concatenate([stat[p].darrays[0].data for p in N_VERTICES])
        else:
            assert isinstance(stat, nib.Cifti2Image)
            values = np.asarray(stat.dataobj)[0]
        np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-9)
    assert model.input_sources_ == [str(path) for path in paths]


def test_cifti_maps_equal_nilearns_array_level_glm_and_our_volume_engine(rng, mesh):
    age = np.linspace(-1.0, 1.0, N_MAPS)
    maps = [cifti_map(image) for image in surface_maps(rng, mesh, slopes=age)]
    design = pd.DataFrame({'intercept': np.ones(N_MAPS), 'age': age})
    ours = SecondLevelModel().fit(maps, design_matrix=design)
    mine = ours.compute_contrast('age', output_type='all')
    matrix = np.concatenate([np.asarray(m.dataobj, dtype=np.float64) for m in maps])
    labels, results = run_glm(matrix, design.to_numpy(), noise_model='ols')
    reference = nilearn_contrast(labels, results, np.array([0.0, 1.0]), stat_type='t')
    expected = {
        'stat': reference.stat(),
        'effect_size': reference.effect_size().ravel(),
        'effect_variance': reference.effect_variance().ravel(),
        'p_value': reference.p_value(),
        'z_score': reference.z_score(),
    }
    for name, values in expected.items():
        np.testing.assert_allclose(np.asarray(mine[name].dataobj)[0], values, rtol=1e-6)
    # the same matrix as maps of 1 x 1 x n voxels, through the volume path
    full = nib.Nifti1Image(np.ones((1, 1, matrix.shape[1]), np.uint8), np.eye(4))
    volumes = [nib.Nifti1Image(row.reshape(1, 1, -1), np.eye(4)) for row in matrix]
    as_volume = SecondLevelModel(mask_img=full).fit(volumes, design_matrix=design)
    volume_maps = as_volume.compute_contrast('age', output_type='all')
    for name in OUTPUTS:
        np.testing.assert_allclose(
            np.asarray(mine[name].dataobj)[0], volume_maps[name].get_fdata().ravel(), rtol=1e-12
        )
