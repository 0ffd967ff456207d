"""SecondLevelModel on surface maps: GIFTI hemispheres, CIFTI-2 scalars, surface models."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from bidsglm import FirstLevelModel, SecondLevelModel
from bidsglm.errors import (
    ContrastError,
    ImageDimensionError,
    InvalidParameterError,
    ShapeMismatchError,
)
from bidsglm.models import _group_fit
from bidsglm.models.surface import SurfaceMasker

from .conftest import T_R, make_events

N_LEFT, N_RIGHT = 5, 4
N_VERTICES = N_LEFT + N_RIGHT


def gifti_map(values: np.ndarray, parts=(('left', N_LEFT), ('right', N_RIGHT))) -> dict:
    """One map as a dict of GIFTI hemispheres, one data array each."""
    out, start = {}, 0
    for part, count in parts:
        array = nib.gifti.GiftiDataArray(values[start : start + count].astype(np.float32))
        out[part] = nib.gifti.GiftiImage(darrays=[array])
        start += count
    return out


def gifti_values(image: dict) -> np.ndarray:
    """The values of a GIFTI output, rows (data arrays) by vertices."""
    return np.concatenate(
        [np.stack([a.data for a in image[p].darrays]) for p in ('left', 'right')], axis=1
    )


def brain_models(
    left=N_LEFT, right=N_RIGHT, right_name='CortexRight'
) -> nib.cifti2.BrainModelAxis:
    return nib.cifti2.BrainModelAxis.from_mask(
        np.ones(left, bool), 'CortexLeft'
    ) + nib.cifti2.BrainModelAxis.from_mask(np.ones(right, bool), right_name)


def cifti_maps(values: np.ndarray, models=None) -> nib.Cifti2Image:
    """Maps as one CIFTI-2 dense scalar image, a row per map."""
    values = np.atleast_2d(values).astype(np.float32)
    scalars = nib.cifti2.ScalarAxis([f'map {i}' for i in range(len(values))])
    return nib.Cifti2Image(values, header=(scalars, models or brain_models()))


def planted(rng, n_maps=10, mean=1.0) -> np.ndarray:
    """Maps, one row each: ``mean`` plus noise, float32-exact."""
    return (mean + rng.standard_normal((n_maps, N_VERTICES))).astype(np.float32)


def test_one_sample_on_gifti_maps_is_a_vertexwise_t_test(rng):
    values = planted(rng)
    model = SecondLevelModel().fit([gifti_map(row) for row in values])
    maps = model.compute_contrast(output_type='all')
    expected = sps.ttest_1samp(values.astype(np.float64), 0.0, alternative='greater')
    assert set(maps['stat']) == {'left', 'right'}
    np.testing.assert_allclose(gifti_values(maps['stat'])[0], expected.statistic, rtol=1e-6)
    np.testing.assert_allclose(gifti_values(maps['p_value'])[0], expected.pvalue, rtol=1e-5)
    np.testing.assert_allclose(gifti_values(maps['effect_size'])[0], values.mean(0), rtol=1e-6)
    assert model.n_elements_ == N_VERTICES
    assert isinstance(model.masker_, SurfaceMasker)
    assert list(model.design_matrix_.columns) == ['intercept']


def test_a_covariate_on_cifti_maps_recovers_the_planted_slope(rng):
    age = np.linspace(-1.0, 1.0, 20)
    values = 2.0 * age[:, None] + 0.1 * rng.standard_normal((20, N_VERTICES))
    design = pd.DataFrame({'intercept': np.ones(20), 'age': age})
    maps = [cifti_maps(row) for row in values]
    model = SecondLevelModel().fit(maps, design_matrix=design)
    slope = model.compute_contrast('age', output_type='effect_size')
    assert isinstance(slope, nib.Cifti2Image)
    assert slope.header.get_axis(1) == brain_models()
    np.testing.assert_allclose(np.asarray(slope.dataobj)[0], 2.0, atol=0.15)
    stat = np.asarray(model.compute_contrast('age', output_type='stat').dataobj)
    assert stat.min() > 10


def test_one_cifti_of_several_maps_equals_the_list_of_its_rows(rng):
    values = planted(rng, n_maps=6)
    whole = SecondLevelModel().fit(cifti_maps(values)).compute_contrast(output_type='stat')
    rows = SecondLevelModel().fit([cifti_maps(row) for row in values])
    np.testing.assert_array_equal(
        np.asarray(whole.dataobj), np.asarray(rows.compute_contrast(output_type='stat').dataobj)
    )


def test_vertices_zero_or_nan_in_any_map_are_out_of_the_default_mask(rng):
    values = planted(rng, n_maps=6)
    values[2, 0] = np.nan
    values[4, N_LEFT] = 0.0  # the first vertex of the right hemisphere
    model = SecondLevelModel().fit([gifti_map(row) for row in values])
    assert gifti_values(model.mask_img_)[0].tolist() == [0, 1, 1, 1, 1, 0, 1, 1, 1]
    assert model.n_elements_ == N_VERTICES - 2
    stat = gifti_values(model.compute_contrast(output_type='stat'))[0]
    assert stat[0] == stat[N_LEFT] == 0.0
    assert np.isfinite(stat).all()


def test_a_given_mask_keeps_its_vertices(rng):
    values = planted(rng, n_maps=6)
    keep = np.array([1, 1, 0, 1, 0, 1, 1, 1, 0], dtype=float)
    model = SecondLevelModel(mask_img=gifti_map(keep)).fit([gifti_map(row) for row in values])
    assert model.n_elements_ == 6
    stat = gifti_values(model.compute_contrast(output_type='stat'))[0]
    assert (stat[keep == 0] == 0).all()
    assert (stat[keep == 1] != 0).all()


def test_residuals_and_predicted_add_up_to_the_maps(rng):
    values = planted(rng, n_maps=5)
    model = SecondLevelModel().fit([gifti_map(row) for row in values])
    total = gifti_values(model.residuals_) + gifti_values(model.predicted_)
    np.testing.assert_allclose(total, values, rtol=1e-5, atol=1e-6)  # float32 residuals
    assert gifti_values(model.r_square_).shape == (1, N_VERTICES)
    assert len(list(model.iter_residuals())) == 5


def test_cifti_residuals_are_named_scalar_maps(rng):
    model = SecondLevelModel().fit([cifti_maps(row) for row in planted(rng, n_maps=3)])
    residuals = model.residuals_
    assert list(residuals.header.get_axis(0).name) == ['map 1', 'map 2', 'map 3']


def test_the_block_wise_fit_equals_one_fit(rng, monkeypatch):
    values = planted(rng, n_maps=7)
    maps = [cifti_maps(row) for row in values]
    whole = SecondLevelModel().fit(maps).compute_contrast(output_type='all')
    monkeypatch.setattr(_group_fit, 'BLOCK_BYTES', 8 * 7 * 2)  # 2 vertices a block
    blocks = SecondLevelModel().fit(maps).compute_contrast(output_type='all')
    for name, image in whole.items():
        np.testing.assert_allclose(
            np.asarray(image.dataobj), np.asarray(blocks[name].dataobj), rtol=1e-12
        )


def test_cifti_files_are_read_from_paths_and_named_as_sources(rng, tmp_path):
    paths = []
    for index, row in enumerate(planted(rng, n_maps=4)):
        paths.append(str(tmp_path / f'sub-{index}_effect.dscalar.nii'))
        cifti_maps(row).to_filename(paths[-1])
    model = SecondLevelModel().fit(paths)
    assert model.input_sources_ == paths
    assert model.second_level_input_ == paths


# ------------------------------------------------------------ first-level models
def surface_run(rng, gain: float) -> dict:
    wave = (np.arange(40) % 8 < 4).astype(float)
    values = 600.0 + gain * wave[:, None] + 3 * rng.standard_normal((40, N_VERTICES))
    parts, start = {}, 0
    for part, count in (('left', N_LEFT), ('right', N_RIGHT)):
        arrays = [
            nib.gifti.GiftiDataArray(row[start : start + count])
            for row in values.astype(np.float32)
        ]
        parts[part] = nib.gifti.GiftiImage(darrays=arrays)
        start += count
    return parts


@pytest.fixture
def surface_models(rng) -> list[FirstLevelModel]:
    return [
        FirstLevelModel(t_r=T_R, subject_label=f'{i:02d}').fit(
            surface_run(rng, gain), make_events()
        )
        for i, gain in enumerate((2.0, 4.0, 6.0, 8.0, 10.0), start=1)
    ]


def test_surface_models_equal_their_effect_maps(surface_models):
    effects = [m.compute_contrast('audio', output_type='effect_size') for m in surface_models]
    confounds = pd.DataFrame(
        {'subject_label': ['01', '02', '03', '04', '05'], 'age': [0.5, -1.0, 0.2, 0.9, -0.6]}
    )
    from_models = SecondLevelModel().fit(surface_models, confounds=confounds)
    assert from_models.n_elements_ == N_VERTICES
    mine = from_models.compute_contrast('age', first_level_contrast='audio', output_type='all')
    design = from_models.design_matrix_
    reference = SecondLevelModel().fit(effects, design_matrix=design)
    expected = reference.compute_contrast('age', output_type='all')
    for name, image in mine.items():  # the GIFTI effect maps are float32: 1e-5
        np.testing.assert_allclose(
            gifti_values(image), gifti_values(expected[name]), rtol=1e-5, atol=1e-6
        )


def test_an_f_first_level_contrast_is_refused(surface_models):
    model = SecondLevelModel().fit(surface_models)
    columns = surface_models[0].design_matrices_[0].shape[1]
    with pytest.raises(ContrastError, match='has 2 rows: a second-level model takes one'):
        model.compute_contrast(first_level_contrast=np.eye(columns)[:2])


def test_surface_and_volume_models_are_not_mixed(surface_models, rng):
    volume = nib.Nifti1Image(600 + rng.standard_normal((2, 2, 2, 40)), np.eye(4))
    volume_model = FirstLevelModel(t_r=T_R, mask_img=False).fit(volume, make_events())
    with pytest.raises(ImageDimensionError, match=r'mix surface and volume fits \(model 3 was'):
        SecondLevelModel().fit([*surface_models[:2], volume_model])


# ------------------------------------------------------------------------ errors
def test_surface_and_volume_maps_are_not_mixed(rng):
    maps = [gifti_map(row) for row in planted(rng, n_maps=3)]
    volume = nib.Nifti1Image(np.ones((2, 2, 2)), np.eye(4))
    with pytest.raises(
        ImageDimensionError, match=r'mix surface maps and others \(input map 2: a Nifti1Image\)'
    ):
        SecondLevelModel().fit([maps[0], volume, maps[1]])


def test_maps_with_other_hemispheres_are_refused(rng):
    values = planted(rng, n_maps=3)
    maps = [gifti_map(row) for row in values]
    maps[2] = gifti_map(values[2], parts=(('left', N_VERTICES),))
    with pytest.raises(ShapeMismatchError, match=r'input map 3 \(GIFTI \(left 9\)\) is not on'):
        SecondLevelModel().fit(maps)


def test_cifti_maps_with_other_brain_models_are_refused(rng):
    values = planted(rng, n_maps=3)
    maps = [cifti_maps(row) for row in values]
    maps[1] = cifti_maps(values[1], brain_models(right_name='Cerebellum'))
    with pytest.raises(ShapeMismatchError, match=r'input map 2 \(CIFTI-2 \(9 grayordinates\)\)'):
        SecondLevelModel().fit(maps)
    other_vertices = nib.cifti2.BrainModelAxis.from_mask(
        np.array([1, 1, 1, 1, 1, 0], bool), 'CortexLeft'
    ) + nib.cifti2.BrainModelAxis.from_mask(np.ones(N_RIGHT, bool), 'CortexRight')
    maps[1] = cifti_maps(values[1], other_vertices)
    with pytest.raises(ShapeMismatchError, match='same structures but other vertices'):
        SecondLevelModel().fit(maps)


def test_a_list_item_of_several_maps_is_refused(rng):
    values = planted(rng, n_maps=3)
    with pytest.raises(ImageDimensionError, match='input map 2 holds 2 maps'):
        SecondLevelModel().fit([cifti_maps(values[0]), cifti_maps(values[1:])])


def test_a_mask_on_another_surface_is_refused_before_the_maps_are_read(rng):
    maps = [gifti_map(row) for row in planted(rng, n_maps=3)]
    mask = gifti_map(np.ones(N_VERTICES), parts=(('left', N_VERTICES),))
    with pytest.raises(
        ShapeMismatchError, match=r'input map 1 .* is not on the surface of mask_img'
    ):
        SecondLevelModel(mask_img=mask).fit(maps)


def test_masks_of_the_other_kind_are_refused(rng):
    maps = [gifti_map(row) for row in planted(rng, n_maps=3)]
    volume_mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))
    with pytest.raises(InvalidParameterError, match='but the inputs are surface maps'):
        SecondLevelModel(mask_img=volume_mask).fit(maps)
    volumes = [nib.Nifti1Image(rng.standard_normal((2, 2, 2)), np.eye(4)) for _ in range(3)]
    with pytest.raises(InvalidParameterError, match='surface mask, but the second-level inputs'):
        SecondLevelModel(mask_img=maps[0]).fit(volumes)
    with pytest.raises(InvalidParameterError, match='keeps no vertex'):
        SecondLevelModel(mask_img=gifti_map(np.zeros(N_VERTICES))).fit(maps)


@pytest.mark.parametrize(
    ('name', 'value'), [('smoothing_fwhm', 4.0), ('target_affine', np.eye(4))]
)
def test_volume_parameters_are_refused_on_surfaces(rng, name, value):
    maps = [gifti_map(row) for row in planted(rng, n_maps=3)]
    with pytest.raises(InvalidParameterError, match=f'{name} applies to volumes'):
        SecondLevelModel(**{name: value}).fit(maps)


def test_an_empty_default_mask_is_refused(rng):
    values = planted(rng, n_maps=3)
    values[0, :] = 0.0
    with pytest.raises(ShapeMismatchError, match='default mask is empty'):
        SecondLevelModel().fit([gifti_map(row) for row in values])


def test_a_table_of_surface_maps_is_refused():
    table = pd.DataFrame(
        {
            'subject_label': ['01', '02'],
            'map_name': ['a', 'a'],
            'effects_map_path': ['sub-01.dscalar.nii', 'sub-02.dscalar.nii'],
        }
    )
    with pytest.raises(InvalidParameterError, match='tables are read for volume maps only'):
        SecondLevelModel().fit(table)


def test_surface_maps_and_first_level_models_are_not_mixed(surface_models, rng):
    maps = [gifti_map(row) for row in planted(rng, n_maps=2)]
    with pytest.raises(ImageDimensionError, match=r'input map 3: a FirstLevelModel'):
        SecondLevelModel().fit([*maps, surface_models[0]])


def test_surface_models_on_other_surfaces_are_refused(surface_models, rng):
    left_only = {'left': surface_run(rng, 4.0)['left']}
    other = FirstLevelModel(t_r=T_R).fit(left_only, make_events())
    with pytest.raises(ShapeMismatchError, match=r'first-level model 3 \(GIFTI \(left 5\)\)'):
        SecondLevelModel().fit([*surface_models[:2], other])


def test_surface_models_take_a_given_mask_of_their_surface(surface_models):
    keep = np.array([1, 0, 1, 1, 1, 1, 0, 1, 1], dtype=float)
    model = SecondLevelModel(mask_img=gifti_map(keep)).fit(surface_models)
    assert model.n_elements_ == 7
    stat = gifti_values(model.compute_contrast(first_level_contrast='audio', output_type='stat'))
    assert (stat[0, keep == 0] == 0).all()
    assert (stat[0, keep == 1] != 0).all()
    left_mask = gifti_map(np.ones(N_VERTICES), parts=(('left', N_VERTICES),))
    with pytest.raises(
        ShapeMismatchError, match=r'mask_img .* is not on the surface of the first'
    ):
        SecondLevelModel(mask_img=left_mask).fit(surface_models)
