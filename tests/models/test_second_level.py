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
    NotFittedError,
    ShapeMismatchError,
)

from .conftest import T_R, make_events, make_run

SHAPE = (4, 5, 3)
AFFINE = np.diag([2.0, 2.0, 2.0, 1.0])


def group_maps(rng, n_maps=10, mean=1.0):
    return [nib.Nifti1Image(mean + rng.standard_normal(SHAPE), AFFINE) for _ in range(n_maps)]


def full_mask():
    return nib.Nifti1Image(np.ones(SHAPE, dtype=np.uint8), AFFINE)


def test_one_sample_is_a_voxelwise_t_test(rng):
    maps = group_maps(rng)
    model = SecondLevelModel(mask_img=full_mask()).fit(maps)
    stack = np.stack([m.get_fdata() for m in maps])
    expected = sps.ttest_1samp(stack, 0.0, alternative='greater')
    maps_out = model.compute_contrast(output_type='all')
    np.testing.assert_allclose(maps_out['stat'].get_fdata(), expected.statistic, rtol=1e-10)
    np.testing.assert_allclose(maps_out['p_value'].get_fdata(), expected.pvalue, rtol=1e-8)
    np.testing.assert_allclose(maps_out['effect_size'].get_fdata(), stack.mean(0), rtol=1e-12)


def test_a_covariate_recovers_the_planted_slope(rng):
    age = np.linspace(-1, 1, 30)
    maps = [nib.Nifti1Image(2.0 * a + 0.1 * rng.standard_normal(SHAPE), AFFINE) for a in age]
    design = pd.DataFrame({'intercept': np.ones(30), 'age': age})
    model = SecondLevelModel(mask_img=full_mask()).fit(maps, design_matrix=design)
    slope = model.compute_contrast('age', output_type='effect_size').get_fdata()
    np.testing.assert_allclose(slope, 2.0, atol=0.15)
    assert model.compute_contrast('age', output_type='stat').get_fdata().min() > 10


def test_fit_fits_and_keeps_residuals_one_volume_per_map(rng):
    maps = group_maps(rng, n_maps=7)
    model = SecondLevelModel(mask_img=full_mask()).fit(maps)
    assert model.fit_ is not None
    assert model.residuals_.shape == (*SHAPE, 7)
    assert model.r_square_.shape == SHAPE
    assert model.input_sources_ == [None] * 7


def test_a_4d_image_gives_the_same_maps_as_its_volumes(rng):
    maps = group_maps(rng)
    stacked = nib.Nifti1Image(np.stack([m.get_fdata() for m in maps], axis=-1), AFFINE)
    from_list = SecondLevelModel(mask_img=full_mask()).fit(maps).compute_contrast()
    from_4d = SecondLevelModel(mask_img=full_mask()).fit(stacked).compute_contrast()
    np.testing.assert_array_equal(from_list.get_fdata(), from_4d.get_fdata())


def test_a_table_input_with_covariates_from_confounds(rng, tmp_path):
    maps = group_maps(rng, n_maps=6)
    paths = []
    for index, image in enumerate(maps):
        path = tmp_path / f'sub-{index:02d}_map.nii.gz'
        image.to_filename(path)
        paths.append(str(path))
    labels = [f'{index:02d}' for index in range(6)]
    table = pd.DataFrame({'subject_label': labels, 'map_name': 'audio', 'effects_map_path': paths})
    confounds = pd.DataFrame({'subject_label': labels, 'age': np.arange(6.0)})
    model = SecondLevelModel(mask_img=full_mask()).fit(table, confounds=confounds)
    assert list(model.design_matrix_.columns) == ['age', 'intercept']
    assert model.input_sources_ == paths
    assert model.compute_contrast('intercept').shape == SHAPE


def test_first_level_models_as_input_take_their_contrast_at_contrast_time(rng):
    models = [
        FirstLevelModel(t_r=T_R, subject_label=f'{i}').fit(
            make_run(rng, make_events()), make_events()
        )
        for i in range(3)
    ]
    group = SecondLevelModel().fit(models)
    assert group.fit_ is None
    with pytest.raises(ContrastError, match='no contrast was computed yet'):
        _ = group.residuals_
    z = group.compute_contrast(first_level_contrast='audio')
    assert z.shape == models[0].mask_img_.shape
    with pytest.raises(InvalidParameterError, match='first_level_contrast'):
        group.compute_contrast()
    effects = [m.compute_contrast('audio', output_type='effect_size') for m in models]
    on_maps = SecondLevelModel(mask_img=group.mask_img_).fit(effects)
    np.testing.assert_array_equal(group.residuals_.get_fdata(), on_maps.residuals_.get_fdata())
    np.testing.assert_array_equal(group.r_square_.get_fdata(), on_maps.r_square_.get_fdata())


def test_first_level_models_as_input_give_their_first_run_as_source(rng, tmp_path):
    models = []
    for subject in ('01', '02'):
        path = tmp_path / f'sub-{subject}_task-x_run-1_bold.nii.gz'
        make_run(rng, make_events()).to_filename(path)
        models.append(FirstLevelModel(t_r=T_R).fit(str(path), make_events()))
    group = SecondLevelModel().fit(models)
    assert group.input_sources_ == [str(tmp_path / f'sub-{s}_task-x_run-1_bold.nii.gz')
                                    for s in ('01', '02')]  # fmt: skip


def test_no_contrast_on_a_two_column_design_is_an_error(rng):
    maps = group_maps(rng, n_maps=4)
    design = pd.DataFrame({'intercept': np.ones(4), 'age': np.arange(4.0)})
    model = SecondLevelModel(mask_img=full_mask()).fit(maps, design_matrix=design)
    with pytest.raises(ContrastError, match=r"second_level_contrast='intercept'"):
        model.compute_contrast()


def test_a_design_of_another_length_is_an_error(rng):
    design = pd.DataFrame({'intercept': np.ones(3)})
    with pytest.raises(ShapeMismatchError, match='3 rows but there are 5 input maps'):
        SecondLevelModel(mask_img=full_mask()).fit(group_maps(rng, 5), design_matrix=design)


def test_confounds_with_plain_images_are_an_error(rng):
    confounds = pd.DataFrame({'subject_label': ['a'], 'age': [1.0]})
    with pytest.raises(InvalidParameterError, match='subject label'):
        SecondLevelModel().fit(group_maps(rng, 2), confounds=confounds)


def test_maps_on_different_grids_are_an_error(rng):
    maps = group_maps(rng, 3)
    maps[2] = nib.Nifti1Image(maps[2].get_fdata(), AFFINE * 2)
    with pytest.raises(ShapeMismatchError, match='input map 3'):
        SecondLevelModel(mask_img=full_mask()).fit(maps)


def _one_map_inputs(rng, tmp_path):
    path = tmp_path / 'sub-01_contrast-a_stat-effect_statmap.nii.gz'
    nib.save(group_maps(rng, 1)[0], path)
    table = pd.DataFrame({'subject_label': ['01'], 'map_name': 'a', 'effects_map_path': [path]})
    one_volume = nib.Nifti1Image(group_maps(rng, 1)[0].get_fdata()[..., None], AFFINE)
    events = make_events()
    first_level = FirstLevelModel(t_r=T_R, mask_img=False).fit(make_run(rng, events), events)
    return {'list': [path], 'table': table, '4D': one_volume, 'models': [first_level]}


@pytest.mark.parametrize('form', ['list', 'table', '4D', 'models'])
def test_a_single_map_is_an_error_as_in_nilearn(rng, tmp_path, form):
    second_level_input = _one_map_inputs(rng, tmp_path)[form]
    with pytest.raises(InvalidParameterError, match='needs at least 2 input maps') as info:
        SecondLevelModel(mask_img=full_mask()).fit(second_level_input)
    assert 'second_level_input holds 1' in str(info.value)


def test_maps_of_different_shapes_name_both_grids_before_any_mask_is_computed(rng, tmp_path):
    paths = [tmp_path / f'sub-0{i}_stat-effect_statmap.nii.gz' for i in (1, 2, 3)]
    for path, image in zip(paths, group_maps(rng, 3), strict=True):
        nib.save(image, path)
    nib.save(nib.Nifti1Image(rng.standard_normal((4, 5, 4)), AFFINE * 2), paths[2])
    with pytest.raises(ShapeMismatchError) as info:
        SecondLevelModel().fit([str(p) for p in paths])
    message = str(info.value)
    assert f'{paths[0]} has shape (4, 5, 3) and {paths[2]} has shape (4, 5, 4)' in message
    assert 'affines differ: [[2.0, 0.0, 0.0, 0.0], ' in message
    assert '[[4.0, 0.0, 0.0, 0.0], ' in message


def test_an_unaccepted_input_is_an_error():
    with pytest.raises(InvalidParameterError, match='non-empty list of 3D images'):
        SecondLevelModel().fit([])
    with pytest.raises(TypeError, match=r'non-empty list of 3D images.*Got int'):
        SecondLevelModel().fit(3)


def test_a_series_is_read_as_the_list_it_holds(rng):
    maps = group_maps(rng, 5)
    from_list = SecondLevelModel(mask_img=full_mask()).fit(maps)
    from_series = SecondLevelModel(mask_img=full_mask()).fit(pd.Series(maps, index=list('edcba')))
    np.testing.assert_array_equal(
        from_series.compute_contrast(output_type='stat').get_fdata(),
        from_list.compute_contrast(output_type='stat').get_fdata(),
    )


def test_a_design_given_with_confounds_warns_and_is_used_as_given(rng):
    maps = group_maps(rng, 4)
    table = pd.DataFrame(
        {'subject_label': list('abcd'), 'map_name': 'm', 'effects_map_path': maps}
    )
    design = pd.DataFrame({'intercept': np.ones(4)})
    confounds = pd.DataFrame({'subject_label': list('abcd'), 'age': [1.0, 2.0, 3.0, 5.0]})
    with pytest.warns(UserWarning, match='confounds are ignored') as caught:
        model = SecondLevelModel(mask_img=full_mask()).fit(table, confounds, design)
    assert caught[0].filename == __file__
    assert model.design_matrix_ is design


def test_a_single_3d_image_is_a_dimension_error(rng):
    with pytest.raises(ImageDimensionError, match=r'must be 4D .* shape \(4, 5, 3\)'):
        SecondLevelModel().fit(group_maps(rng, 1)[0])


@pytest.mark.parametrize('suffix', ['.tsv', '.csv'])
def test_a_design_file_is_read_as_a_table(rng, tmp_path, suffix):
    maps = group_maps(rng, 4)
    design = pd.DataFrame({'intercept': np.ones(4), 'age': [-1.5, -0.5, 0.5, 1.5]})
    path = tmp_path / f'design{suffix}'
    design.to_csv(path, sep='\t' if suffix == '.tsv' else ',', index=False)
    from_file = SecondLevelModel(mask_img=full_mask()).fit(maps, design_matrix=str(path))
    in_memory = SecondLevelModel(mask_img=full_mask()).fit(maps, design_matrix=design)
    pd.testing.assert_frame_equal(from_file.design_matrix_, design)
    np.testing.assert_array_equal(
        from_file.compute_contrast('age').get_fdata(),
        in_memory.compute_contrast('age').get_fdata(),
    )


def test_a_table_without_its_columns_is_an_error():
    with pytest.raises(InvalidParameterError, match='effects_map_path'):
        SecondLevelModel().fit(pd.DataFrame({'subject_label': ['01'], 'map_name': ['a']}))


def test_compute_contrast_before_fit_is_an_error():
    with pytest.raises(NotFittedError, match='SecondLevelModel is not fitted'):
        SecondLevelModel().compute_contrast()


def test_an_all_zero_contrast_is_an_error(rng):
    model = SecondLevelModel(mask_img=full_mask()).fit(group_maps(rng, 4))
    with pytest.raises(ContrastError, match='zero'):
        model.compute_contrast([0.0])
