"""VolumeMasker, and masks and smoothing taken from a masker given as mask_img."""

from __future__ import annotations

import pickle

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm import FirstLevelModel, SecondLevelModel
from bidsglm.errors import (
    InvalidParameterError,
    NotFittedError,
    ShapeMismatchError,
)
from bidsglm.models._images import smooth_array
from bidsglm.models._resampling import Target
from bidsglm.models.masker import MaskerSettings, VolumeMasker, is_masker, read_masker

from .conftest import AFFINE, SHAPE, T_R, brain_mask


def mask_image(inside):
    return nib.Nifti1Image(inside.astype(np.uint8), AFFINE)


def corner_mask():
    inside = np.zeros(SHAPE, bool)
    inside[1:3, 2:4, 5] = True
    return inside


class DuckMasker:
    """The least a masker needs to be one: transform and mask_img (like nilearn's)."""

    def __init__(self, mask_img=None, **params):
        self.mask_img = mask_img
        self.__dict__.update(params)

    def transform(self, imgs):
        message = 'bidsglm reads the mask, it never calls transform'
        raise AssertionError(message)


# ---------------------------------------------------------------- VolumeMasker
def test_transform_picks_the_mask_voxels_in_c_order(rng):
    data = rng.standard_normal((*SHAPE, 5))
    masker = VolumeMasker(mask_img=mask_image(corner_mask())).fit()
    series = masker.transform(nib.Nifti1Image(data, AFFINE))
    np.testing.assert_array_equal(series, data[corner_mask()].T)
    assert masker.n_elements_ == 4
    np.testing.assert_array_equal(masker.affine_, AFFINE)
    assert masker.mask_img_.get_data_dtype() == np.uint8


def test_transform_of_a_volume_is_1d_and_of_a_list_stacks_rows(rng):
    volumes = [nib.Nifti1Image(rng.standard_normal(SHAPE), AFFINE) for _ in range(3)]
    masker = VolumeMasker(mask_img=mask_image(corner_mask())).fit()
    assert masker.transform(volumes[0]).shape == (4,)
    stacked = masker.transform(volumes)
    np.testing.assert_array_equal(stacked[2], volumes[2].get_fdata()[corner_mask()])


def test_transform_keeps_the_sample_mask_volumes(rng):
    data = rng.standard_normal((*SHAPE, 6))
    masker = VolumeMasker(mask_img=mask_image(corner_mask())).fit()
    kept = masker.transform(nib.Nifti1Image(data, AFFINE), sample_mask=[0, 2, 5])
    np.testing.assert_array_equal(kept, data[corner_mask()].T[[0, 2, 5]])


def test_transform_smooths_before_masking(rng):
    data = rng.standard_normal((*SHAPE, 2))
    masker = VolumeMasker(mask_img=mask_image(brain_mask()), smoothing_fwhm=6.0).fit()
    smoothed = smooth_array(data, AFFINE, 6.0)
    series = masker.transform(nib.Nifti1Image(data, AFFINE))
    np.testing.assert_allclose(series, smoothed[brain_mask()].T, rtol=1e-12)
    assert not np.allclose(series, data[brain_mask()].T)


def test_transform_refuses_confounds_and_other_grids(rng):
    masker = VolumeMasker(mask_img=mask_image(corner_mask())).fit()
    run = nib.Nifti1Image(rng.standard_normal((*SHAPE, 3)), AFFINE)
    with pytest.raises(InvalidParameterError, match='takes no confounds'):
        masker.transform(run, confounds=np.ones((3, 1)))
    with pytest.raises(ShapeMismatchError, match='not on the same voxel grid'):
        masker.transform(nib.Nifti1Image(np.zeros((2, 2, 2, 3)), AFFINE))


def test_inverse_transform_undoes_transform_inside_the_mask(rng):
    masker = VolumeMasker(mask_img=mask_image(corner_mask())).fit()
    values = rng.standard_normal((3, 4)).astype(np.float32)
    image = masker.inverse_transform(values)
    assert image.shape == (*SHAPE, 3)
    assert image.get_data_dtype() == np.float32
    np.testing.assert_array_equal(masker.transform(image), values)
    assert not image.get_fdata()[~corner_mask()].any()
    assert masker.inverse_transform(values[0]).shape == SHAPE
    frame = masker.inverse_transform(pd.DataFrame(values[:1]))
    assert frame.shape == (*SHAPE, 1)
    flags = masker.inverse_transform(np.array([True, False, True, True]))
    assert flags.get_data_dtype() == np.int32
    assert int(flags.get_fdata().sum()) == 3


def test_fit_without_a_mask_keeps_what_is_not_background(rng):
    data = np.zeros((*SHAPE, 4))
    data[brain_mask()] = 50 + rng.standard_normal((int(brain_mask().sum()), 4))
    masker = VolumeMasker().fit(nib.Nifti1Image(data, AFFINE))
    np.testing.assert_array_equal(masker.mask_img_.get_fdata() > 0, brain_mask())
    volumes = [nib.Nifti1Image(data[..., i], AFFINE) for i in range(4)]
    masker_of_list = VolumeMasker().fit(volumes)
    np.testing.assert_array_equal(masker_of_list.mask_img_.get_fdata() > 0, brain_mask())
    transformed = VolumeMasker().fit_transform(volumes)
    assert transformed.shape == (4, int(brain_mask().sum()))


def test_unfitted_masker_raises_not_fitted(rng):
    masker = VolumeMasker(mask_img=mask_image(corner_mask()))
    assert not hasattr(masker, 'mask_img_')
    with pytest.raises(NotFittedError, match='not fitted yet'):
        masker.transform(nib.Nifti1Image(np.zeros((*SHAPE, 2)), AFFINE))
    with pytest.raises(NotFittedError):
        masker.inverse_transform(np.zeros(4))
    with pytest.raises(InvalidParameterError, match='needs images'):
        VolumeMasker().fit()


def test_masker_pickles_and_shows_its_parameters():
    masker = VolumeMasker(mask_img='mask.nii.gz', smoothing_fwhm=4.0)
    assert repr(masker) == "VolumeMasker(mask_img='mask.nii.gz', smoothing_fwhm=4.0)"
    fitted = VolumeMasker(mask_img=mask_image(corner_mask())).fit()
    copy = pickle.loads(pickle.dumps(fitted))
    assert copy.n_elements_ == 4
    np.testing.assert_array_equal(copy.mask_img_.get_fdata(), fitted.mask_img_.get_fdata())


# ---------------------------------------------------------------- read_masker
def test_is_masker_is_duck_typed():
    assert is_masker(DuckMasker())
    assert is_masker(VolumeMasker())
    assert not is_masker(mask_image(corner_mask()))
    assert not is_masker(False)
    assert not is_masker('mask.nii.gz')


def test_read_masker_prefers_the_fitted_mask_and_takes_the_smoothing():
    given, fitted = mask_image(corner_mask()), mask_image(brain_mask())
    masker = DuckMasker(mask_img=given, mask_img_=fitted, smoothing_fwhm=5.0)
    settings = read_masker(masker, 'FirstLevelModel')
    assert settings.mask_img is fitted
    assert settings.smoothing_fwhm == 5.0
    unfitted = read_masker(DuckMasker(mask_img=given), 'FirstLevelModel')
    assert unfitted.mask_img is given
    assert unfitted.smoothing_fwhm is None


def test_read_masker_refuses_what_bidsglm_does_not_apply():
    masker = DuckMasker(detrend=True, low_pass=0.1, standardize='zscore_sample', runs=[0, 1])
    with pytest.raises(InvalidParameterError) as info:
        read_masker(masker, 'SecondLevelModel')
    message = str(info.value)
    assert "detrend=True, low_pass=0.1, standardize='zscore_sample'" in message
    assert 'runs' not in message
    assert 'Set them back to the default' in message
    overridden = DuckMasker(standardize='zscore_sample', t_r=2.0)
    settings = read_masker(overridden, 'FirstLevelModel', ignored=['standardize'])
    assert settings.mask_img is None


def test_read_masker_refuses_a_surface_mask():
    class SurfaceImage:
        pass

    with pytest.raises(InvalidParameterError, match='holds a SurfaceImage mask; bidsglm fits'):
        read_masker(DuckMasker(mask_img_=SurfaceImage()), 'FirstLevelModel')


def test_read_masker_warns_when_the_model_smoothing_is_overridden():
    masker = DuckMasker(smoothing_fwhm=4.0)
    with pytest.warns(UserWarning, match=r'smoothing_fwhm=6\.0\) is overridden by the smoothing'):
        read_masker(masker, 'SecondLevelModel', smoothing_fwhm=6.0)
    read_masker(masker, 'SecondLevelModel', smoothing_fwhm=4.0)  # no warning (error filter)


def test_settings_compute_the_mask_by_strategy(rng):
    data = np.where(brain_mask(), 100.0, 0.0) + 0.1 * rng.standard_normal(SHAPE)
    sample = nib.Nifti1Image(data, AFFINE)
    background = MaskerSettings(None, None, 'background', {'border_size': 1})
    assert int(background.compute_mask(sample).get_fdata().sum()) == data.size
    epi = MaskerSettings(None, None, 'epi', {'opening': 0})
    np.testing.assert_array_equal(epi.compute_mask(sample).get_fdata() > 0, brain_mask())
    with pytest.raises(InvalidParameterError, match="mask_strategy='gm-template'"):
        MaskerSettings(None, None, 'gm-template', {}).compute_mask(sample)
    with pytest.raises(InvalidParameterError, match=r"mask_args \['verbose'\]"):
        MaskerSettings(None, None, 'epi', {'verbose': 1}).compute_mask(sample)


# ---------------------------------------------------------------- in the models
def test_first_level_masker_holds_the_mask_and_smoothing(one_run):
    run, events = one_run
    model = FirstLevelModel(t_r=T_R, mask_img=mask_image(brain_mask()), smoothing_fwhm=5.0)
    model.fit(run, events)
    assert isinstance(model.masker_, VolumeMasker)
    assert model.masker_.mask_img_ is model.mask_img_
    assert model.masker_.smoothing_fwhm == 5.0
    assert model.masker_.n_elements_ == int(brain_mask().sum())
    expected = smooth_array(run.get_fdata(), AFFINE, 5.0)[brain_mask()].T
    np.testing.assert_allclose(model.masker_.transform(run), expected, rtol=1e-12)


def test_a_masker_as_mask_img_gives_its_mask_and_its_smoothing(one_run):
    run, events = one_run
    mask = mask_image(brain_mask())
    direct = FirstLevelModel(t_r=T_R, mask_img=mask, smoothing_fwhm=4.0).fit(run, events)
    masker = VolumeMasker(mask_img=mask, smoothing_fwhm=4.0)  # unfitted, with a mask
    through = FirstLevelModel(t_r=T_R, mask_img=masker).fit(run, events)
    assert not hasattr(masker, 'mask_img_')  # the given masker is left as it was
    assert through.masker_ is not masker
    np.testing.assert_array_equal(
        through.compute_contrast('audio').get_fdata(), direct.compute_contrast('audio').get_fdata()
    )


def test_first_level_refuses_a_masker_without_any_mask(one_run):
    run, events = one_run
    with pytest.raises(NotFittedError, match='holds no mask') as info:
        FirstLevelModel(t_r=T_R, mask_img=DuckMasker()).fit(run, events)
    assert isinstance(info.value, ValueError)


def test_second_level_masker_computes_a_missing_mask_by_strategy(rng):
    maps = [
        nib.Nifti1Image(np.where(brain_mask(), 1.0 + rng.standard_normal(SHAPE), 0.0), AFFINE)
        for _ in range(4)
    ]
    model = SecondLevelModel(mask_img=DuckMasker(mask_strategy='background')).fit(maps)
    np.testing.assert_array_equal(model.mask_img_.get_fdata() > 0, brain_mask())
    effect = model.compute_contrast(output_type='effect_size').get_fdata()[brain_mask()]
    mean = np.mean([m.get_fdata()[brain_mask()] for m in maps], axis=0)
    np.testing.assert_allclose(effect, mean, rtol=1e-10)


def test_second_level_refuses_a_masker_that_cannot_say_how_to_make_its_mask(rng):
    maps = [nib.Nifti1Image(rng.standard_normal(SHAPE), AFFINE) for _ in range(3)]
    with pytest.raises(InvalidParameterError, match='holds no mask and has no mask_strategy'):
        SecondLevelModel(mask_img=DuckMasker()).fit(maps)
    model = SecondLevelModel(mask_img=VolumeMasker()).fit(maps)  # background, as NiftiMasker
    assert model.masker_.n_elements_ == int(np.prod(SHAPE))


def test_a_masker_with_a_target_resamples_its_mask_and_the_images(rng):
    mask = nib.Nifti1Image(brain_mask().astype(np.uint8), AFFINE)
    target = np.diag([4.0, 4.0, 4.0, 1.0])
    masker = VolumeMasker(mask, target_affine=target, target_shape=(6, 7, 8)).fit()
    assert masker.mask_img_.shape == (6, 7, 8)
    np.testing.assert_array_equal(masker.mask_img_.affine, target)
    run = nib.Nifti1Image(np.full((*SHAPE, 3), 7.0), AFFINE)
    values = masker.transform(run)
    assert values.shape == (3, masker.n_elements_)
    np.testing.assert_allclose(values, 7.0)
    on_grid = nib.Nifti1Image(np.full((6, 7, 8, 2), 3.0), target)
    np.testing.assert_array_equal(masker.transform_single_imgs(on_grid), 3.0)


def test_a_masker_without_a_target_refuses_images_on_another_grid(rng):
    masker = VolumeMasker(nib.Nifti1Image(brain_mask().astype(np.uint8), AFFINE)).fit()
    with pytest.raises(ShapeMismatchError, match='not on the same voxel grid'):
        masker.transform(nib.Nifti1Image(np.ones((4, 4, 4, 2)), np.eye(4)))


def test_read_masker_takes_the_target_and_warns_when_it_replaces_the_models():
    mask = nib.Nifti1Image(brain_mask().astype(np.uint8), AFFINE)
    target = np.diag([4.0, 4.0, 4.0, 1.0])
    masker = VolumeMasker(mask, target_affine=target, target_shape=(6, 7, 8))
    settings = read_masker(masker, 'FirstLevelModel', target=Target(None, None))
    np.testing.assert_array_equal(settings.target.affine, target)
    assert settings.target.shape == (6, 7, 8)
    with pytest.warns(UserWarning, match='target_affine and target_shape are overridden'):
        read_masker(masker, 'FirstLevelModel', target=Target(np.eye(4), None))
