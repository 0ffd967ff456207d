"""Fitted attributes as nilearn's: masker_, labels_, results_, predicted_, residuals_,
r_square_, and a NiftiMasker as mask_img, on the same data and arguments.

Tolerances are the project's oracle ones: 1e-6 relative on float64 inputs, 1e-4 on
float32 inputs.
"""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.glm.contrasts import compute_contrast as nilearn_compute_contrast
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.glm.second_level import SecondLevelModel as NilearnSecondLevel
from nilearn.maskers import NiftiMasker

from bidsglm import FirstLevelModel, SecondLevelModel
from bidsglm.errors import InvalidParameterError, NotFittedError
from bidsglm.models.masker import VolumeMasker

from ._api_data import (
    AFFINE,
    SHAPE,
    T_R,
    assert_close,
    brain,
    events,
    group_design,
    group_maps,
    mask_img,
    quietly,
    run,
)

pytestmark = pytest.mark.oracle

TOLERANCE = {np.float64: 1e-6, np.float32: 1e-4}
OUTPUTS = ('effect_size', 'effect_variance', 'stat', 'p_value', 'z_score')
#: RegressionResults attributes that both libraries have, compared one by one.
RESULT_ATTRIBUTES = (
    'theta',
    'cov',
    'dispersion',
    'df_total',
    'df_model',
    'df_residuals',
    'whitened_design',
    'predicted',
    'r_square',
    'SSE',
    'MSE',
    'whitened_residuals',
    'whitened_Y',
    'Y',
    'residuals',
    'normalized_residuals',
)


def both_first_level(runs, tables, **params):
    ours = FirstLevelModel(t_r=T_R, **params).fit(runs, events=tables)
    theirs = NilearnFirstLevel(t_r=T_R, minimize_memory=False, **params)
    return ours, quietly(theirs.fit, runs, events=tables)


def assert_same_maps(ours, theirs, contrast, rtol=1e-6):
    mine = ours.compute_contrast(contrast, output_type='all')
    reference = quietly(theirs.compute_contrast, contrast, output_type='all')
    for name in OUTPUTS:
        assert_close(mine[name].get_fdata(), reference[name].get_fdata(), rtol, name)


@pytest.fixture(scope='module')
def fitted_pairs():
    """Fitted first-level pairs by (noise model, dtype, runs), fitted once."""
    cache = {}

    def get(noise_model, dtype, n_runs):
        key = (noise_model, dtype, n_runs)
        if key not in cache:
            rng = np.random.default_rng(20011126 + n_runs)
            runs = [run(rng, dtype=dtype) for _ in range(n_runs)]
            tables = [events(2.0 * i) for i in range(n_runs)]
            cache[key] = (*both_first_level(runs, tables, noise_model=noise_model), runs)
        return cache[key]

    return get


CASES = [
    (noise_model, dtype, n_runs)
    for noise_model in ('ols', 'ar1')
    for dtype in (np.float64, np.float32)
    for n_runs in (1, 2)
]


# ---------------------------------------------------------------- labels_, results_
@pytest.mark.parametrize(('noise_model', 'dtype', 'n_runs'), CASES)
def test_labels_equal_nilearn(fitted_pairs, noise_model, dtype, n_runs):
    ours, theirs, _ = fitted_pairs(noise_model, dtype, n_runs)
    assert len(ours.labels_) == len(theirs.labels_) == n_runs
    for mine, reference in zip(ours.labels_, theirs.labels_, strict=True):
        assert mine.dtype == reference.dtype
        np.testing.assert_array_equal(mine, reference)
    if noise_model == 'ar1':
        assert len(set(ours.labels_[0])) > 5  # many AR groups: the test can tell


@pytest.mark.parametrize(('noise_model', 'dtype', 'n_runs'), CASES)
def test_results_equal_nilearn_attribute_by_attribute(fitted_pairs, noise_model, dtype, n_runs):
    ours, theirs, _ = fitted_pairs(noise_model, dtype, n_runs)
    rtol = TOLERANCE[dtype]
    for mine, reference in zip(ours.results_, theirs.results_, strict=True):
        assert list(mine) == list(reference)  # same labels, same order
        for label, result in reference.items():
            for name in RESULT_ATTRIBUTES:
                assert_close(getattr(mine[label], name), getattr(result, name), rtol, name)


@pytest.mark.parametrize('noise_model', ['ols', 'ar1'])
def test_nilearn_compute_contrast_on_our_labels_and_results(fitted_pairs, noise_model):
    ours, theirs, _ = fitted_pairs(noise_model, np.float64, 1)
    n_columns = ours.design_matrices_[0].shape[1]
    for weights in (np.eye(n_columns)[0] - np.eye(n_columns)[1], np.eye(n_columns)[:2]):
        mine = nilearn_compute_contrast(ours.labels_[0], ours.results_[0], weights)
        reference = nilearn_compute_contrast(theirs.labels_[0], theirs.results_[0], weights)
        assert_close(mine.effect, reference.effect, 1e-6, 'effect')
        assert_close(mine.variance, reference.variance, 1e-6, 'variance')
        assert_close(mine.z_score(), reference.z_score(), 1e-6, 'z')
        assert mine.dof == reference.dof


# ---------------------------------------------------------------- images
@pytest.mark.parametrize(('noise_model', 'dtype', 'n_runs'), CASES)
def test_predicted_and_r_square_equal_nilearn(fitted_pairs, noise_model, dtype, n_runs):
    ours, theirs, _ = fitted_pairs(noise_model, dtype, n_runs)
    rtol = TOLERANCE[dtype]
    for mine, reference in zip(ours.predicted_, theirs.predicted_, strict=True):
        assert mine.shape == reference.shape
        assert_close(mine.get_fdata(), reference.get_fdata(), rtol, 'predicted_')
    for mine, reference in zip(ours.r_square_, theirs.r_square_, strict=True):
        assert (mine.shape, reference.shape) == (SHAPE, (*SHAPE, 1))  # 3D on purpose
        assert_close(mine.get_fdata(), reference.get_fdata()[..., 0], rtol, 'r_square_')


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_residuals_equal_nilearn_under_ols(fitted_pairs, dtype):
    ours, theirs, _ = fitted_pairs('ols', dtype, 2)
    for mine, reference in zip(ours.residuals_, theirs.residuals_, strict=True):
        assert mine.shape == reference.shape
        assert_close(mine.get_fdata(), reference.get_fdata(), TOLERANCE[dtype], 'residuals_')


def test_ar1_residuals_are_whitened_and_results_give_nilearns(fitted_pairs):
    ours, theirs, _ = fitted_pairs('ar1', np.float64, 1)
    mine, reference = ours.residuals_[0].get_fdata(), theirs.residuals_[0].get_fdata()
    assert not np.allclose(mine, reference, atol=1e-3)  # differs on purpose (whitened)
    labels = ours.labels_[0]
    whitened = np.empty((mine.shape[3], labels.size))
    mixed = np.empty_like(whitened)
    for label, result in ours.results_[0].items():
        whitened[:, labels == label] = result.whitened_residuals
        mixed[:, labels == label] = result.residuals
    assert_close(ours.masker_.inverse_transform(whitened).get_fdata(), mine, 1e-6, 'ours')
    assert_close(ours.masker_.inverse_transform(mixed).get_fdata(), reference, 1e-6, 'nilearn')


# ---------------------------------------------------------------- masker_
@pytest.mark.parametrize('smoothing_fwhm', [None, 5.0])
def test_first_level_masker_transforms_as_nilearns(rng, smoothing_fwhm):
    data = run(rng)
    ours, theirs = both_first_level(data, events(), smoothing_fwhm=smoothing_fwhm)
    mine, reference = ours.masker_, theirs.masker_
    assert isinstance(mine, VolumeMasker)
    assert mine.n_elements_ == reference.n_elements_
    np.testing.assert_array_equal(mine.affine_, reference.affine_)
    np.testing.assert_array_equal(mine.mask_img_.get_fdata(), reference.mask_img_.get_fdata())
    assert_close(mine.transform(data), reference.transform(data), 1e-12, 'transform 4D')
    volume = data.slicer[..., 3]
    assert mine.transform(volume).shape == reference.transform(volume).shape == (mine.n_elements_,)
    assert_close(mine.transform(volume), reference.transform(volume), 1e-12, 'transform 3D')
    kept = np.array([0, 5, 6, 30])
    assert_close(
        mine.transform(data, sample_mask=kept),
        reference.transform(data, sample_mask=kept),
        1e-12,
        'sample_mask',
    )
    values = rng.standard_normal((2, mine.n_elements_))
    for array in (values, values[0]):
        image, expected = mine.inverse_transform(array), reference.inverse_transform(array)
        assert image.shape == expected.shape
        np.testing.assert_array_equal(image.get_fdata(), expected.get_fdata())


def test_second_level_masker_transforms_as_nilearns(rng):
    maps = group_maps(rng)
    ours = SecondLevelModel(smoothing_fwhm=4.0).fit(maps, design_matrix=group_design())
    theirs = NilearnSecondLevel(smoothing_fwhm=4.0)
    quietly(theirs.fit, maps, design_matrix=group_design())
    assert ours.masker_.n_elements_ == theirs.masker_.n_elements_
    assert_close(ours.masker_.transform(maps), theirs.masker_.transform(maps), 1e-12, 'maps')


# ---------------------------------------------------------------- second level
def test_second_level_attributes_equal_nilearn_after_a_contrast(rng):
    maps = group_maps(rng)
    ours = SecondLevelModel().fit(maps, design_matrix=group_design())
    theirs = NilearnSecondLevel(minimize_memory=False)
    quietly(theirs.fit, maps, design_matrix=group_design())
    ours.compute_contrast('age')
    quietly(theirs.compute_contrast, 'age')
    for name in ('predicted_', 'residuals_'):
        mine, reference = getattr(ours, name), getattr(theirs, name)
        assert mine.shape == reference.shape == (*SHAPE, len(maps))
        assert_close(mine.get_fdata(), reference.get_fdata(), 1e-6, name)
    assert (ours.r_square_.shape, theirs.r_square_.shape) == (SHAPE, (*SHAPE, 1))
    assert_close(ours.r_square_.get_fdata(), theirs.r_square_.get_fdata()[..., 0], 1e-6, 'r2')
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert list(ours.results_) == list(theirs.results_) == [0.0]
    for name in RESULT_ATTRIBUTES:
        mine, reference = getattr(ours.results_[0.0], name), getattr(theirs.results_[0.0], name)
        assert_close(mine, reference, 1e-6, name)


def test_second_level_on_first_level_models_has_no_results_before_a_contrast(rng):
    runs = [run(rng) for _ in range(3)]
    ours_flm = [FirstLevelModel(t_r=T_R, mask_img=mask_img()).fit(r, events()) for r in runs]
    theirs_flm = [
        quietly(NilearnFirstLevel(t_r=T_R, mask_img=mask_img()).fit, r, events=events())
        for r in runs
    ]
    ours = SecondLevelModel().fit(ours_flm)
    theirs = quietly(NilearnSecondLevel(minimize_memory=False).fit, theirs_flm)
    assert ours.labels_ is None
    assert theirs.labels_ is None
    assert ours.results_ is None
    assert theirs.results_ is None
    with pytest.raises(ValueError, match='No contrast has been computed yet'):
        _ = theirs.residuals_
    with pytest.raises(ValueError, match='no contrast was computed yet'):
        _ = ours.predicted_
    ours.compute_contrast(first_level_contrast='audio')
    quietly(theirs.compute_contrast, first_level_contrast='audio')
    assert_close(ours.predicted_.get_fdata(), theirs.predicted_.get_fdata(), 1e-6, 'predicted')
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)


# ---------------------------------------------------------------- NiftiMasker as mask_img
@pytest.mark.parametrize('smoothing_fwhm', [None, 5.0])
def test_first_level_with_a_fitted_nifti_masker_equals_nilearn(rng, smoothing_fwhm):
    data = run(rng)

    def masker():
        return NiftiMasker(mask_img=mask_img(), smoothing_fwhm=smoothing_fwhm).fit()

    ours = FirstLevelModel(t_r=T_R, mask_img=masker()).fit(data, events=events())
    theirs = NilearnFirstLevel(t_r=T_R, mask_img=masker())
    quietly(theirs.fit, data, events=events())
    assert ours.masker_.smoothing_fwhm == smoothing_fwhm
    assert ours.masker_.n_elements_ == int(brain().sum())
    assert_same_maps(ours, theirs, 'audio - visual')


def test_first_level_takes_the_masker_smoothing_over_its_own_with_a_warning(rng):
    data = run(rng)
    masker = NiftiMasker(mask_img=mask_img(), smoothing_fwhm=4.0).fit()
    ours = FirstLevelModel(t_r=T_R, smoothing_fwhm=8.0, mask_img=masker)
    with pytest.warns(UserWarning, match=r'smoothing_fwhm=8\.0\) is overridden'):
        ours.fit(data, events=events())
    theirs = NilearnFirstLevel(t_r=T_R, smoothing_fwhm=8.0, mask_img=masker)
    with warnings.catch_warnings():
        warnings.simplefilter('error', UserWarning)  # nilearn says nothing
        warnings.filterwarnings('ignore', category=FutureWarning)
        warnings.filterwarnings('ignore', category=DeprecationWarning)
        theirs.fit(data, events=events())
    assert_same_maps(ours, theirs, 'audio')


def test_first_level_refuses_a_masker_without_a_mask_as_nilearn(rng):
    data = run(rng)
    with pytest.raises(ValueError, match='not fitted'):
        quietly(NilearnFirstLevel(t_r=T_R, mask_img=NiftiMasker()).fit, data, events=events())
    with pytest.raises(NotFittedError, match='holds no mask') as info:
        FirstLevelModel(t_r=T_R, mask_img=NiftiMasker()).fit(data, events=events())
    assert isinstance(info.value, AttributeError)


def test_first_level_accepts_an_unfitted_masker_with_a_mask(rng):
    data = run(rng)
    with pytest.raises(ValueError, match='not fitted'):  # nilearn refuses it
        quietly(
            NilearnFirstLevel(t_r=T_R, mask_img=NiftiMasker(mask_img=mask_img())).fit,
            data,
            events=events(),
        )
    ours = FirstLevelModel(t_r=T_R, mask_img=NiftiMasker(mask_img=mask_img(), smoothing_fwhm=3.0))
    ours.fit(data, events=events())
    fitted = NiftiMasker(mask_img=mask_img(), smoothing_fwhm=3.0).fit()
    theirs = quietly(NilearnFirstLevel(t_r=T_R, mask_img=fitted).fit, data, events=events())
    assert_same_maps(ours, theirs, 'audio')


SECOND_LEVEL_MASKERS = {
    'unfitted, no mask': NiftiMasker,
    'unfitted, mask and smoothing': lambda: NiftiMasker(mask_img=mask_img(), smoothing_fwhm=6.0),
    'fitted': lambda: NiftiMasker(mask_img=mask_img()).fit(),
    'epi strategy': lambda: NiftiMasker(mask_strategy='epi'),
    'background with mask_args': lambda: NiftiMasker(mask_args={'border_size': 1}),
}


@pytest.mark.parametrize('name', SECOND_LEVEL_MASKERS)
def test_second_level_with_a_nifti_masker_equals_nilearn(rng, name):
    maps = [
        nib.Nifti1Image(np.where(brain(), 100.0, 0.0) + image.get_fdata(), AFFINE)
        for image in group_maps(rng)
    ]
    make = SECOND_LEVEL_MASKERS[name]
    ours = SecondLevelModel(mask_img=make()).fit(maps, design_matrix=group_design())
    theirs = NilearnSecondLevel(mask_img=make(), minimize_memory=False)
    quietly(theirs.fit, maps, design_matrix=group_design())
    np.testing.assert_array_equal(
        ours.mask_img_.get_fdata(), theirs.masker_.mask_img_.get_fdata().astype(bool)
    )
    assert ours.masker_.smoothing_fwhm == theirs.masker_.smoothing_fwhm
    assert_same_maps(ours, theirs, 'age')


def test_second_level_warns_as_nilearn_when_the_masker_smoothing_wins(rng):
    maps = group_maps(rng)
    masker = NiftiMasker(mask_img=mask_img(), smoothing_fwhm=4.0)
    theirs = NilearnSecondLevel(smoothing_fwhm=8.0, mask_img=masker, minimize_memory=False)
    with pytest.warns(UserWarning, match='Overriding provided-default estimator parameters'):
        theirs.fit(maps, design_matrix=group_design())
    ours = SecondLevelModel(smoothing_fwhm=8.0, mask_img=masker)
    with pytest.warns(UserWarning, match=r'smoothing_fwhm=8\.0\) is overridden'):
        ours.fit(maps, design_matrix=group_design())
    assert_same_maps(ours, theirs, 'intercept')


@pytest.mark.parametrize('level', ['first', 'second'])
def test_masker_preprocessing_bidsglm_does_not_apply_is_refused(rng, level):
    masker = NiftiMasker(mask_img=mask_img(), detrend=True, standardize='zscore_sample').fit()
    if level == 'first':
        with pytest.raises(InvalidParameterError, match=r'sets detrend=True, which bidsglm'):
            FirstLevelModel(t_r=T_R, mask_img=masker).fit(run(rng), events=events())
    else:
        with pytest.raises(InvalidParameterError, match=r"detrend=True, standardize='zscore"):
            SecondLevelModel(mask_img=masker).fit(group_maps(rng))


# ---------------------------------------------------------------- older names
@pytest.mark.parametrize('name', ['residuals', 'predicted', 'r_square'])
def test_deprecated_names_warn_and_give_the_attribute_as_nilearn(fitted_pairs, name):
    ours, theirs, _ = fitted_pairs('ols', np.float64, 1)
    with pytest.warns(FutureWarning, match=f"'{name}' is deprecated"):
        mine = getattr(ours, name)
    with pytest.warns(FutureWarning, match='is deprecated'):
        reference = getattr(theirs, name)
    expected = getattr(ours, f'{name}_')
    assert len(mine) == len(reference) == 1
    np.testing.assert_array_equal(mine[0].get_fdata(), expected[0].get_fdata())
    assert not hasattr(FirstLevelModel(), name)  # unfitted: no attribute, no warning


def test_models_count_their_mask_voxels_as_nilearn(fitted_pairs, rng):
    ours, theirs, _ = fitted_pairs('ar1', np.float64, 1)
    assert ours.n_elements_ == theirs.n_elements_ == int(ours.mask_img_.get_fdata().sum())
    maps = group_maps(rng)
    group = SecondLevelModel().fit(maps, design_matrix=group_design())
    reference = quietly(NilearnSecondLevel().fit, maps, design_matrix=group_design())
    assert group.n_elements_ == reference.n_elements_


def test_nilearns_remaining_fitted_attributes_exist_as_in_nilearn(rng):
    runs, onsets = [run(rng)], [events(0.0)]
    mask = mask_img()
    for fir_delays, expected in ((None, [0]), ([1, 2], [1, 2])):
        settings = {'t_r': T_R, 'mask_img': mask, 'hrf_model': 'fir', 'fir_delays': fir_delays}
        ours = FirstLevelModel(**settings).fit(runs, onsets)
        theirs = quietly(NilearnFirstLevel(**settings).fit, runs, onsets)
        assert ours.fir_delays_ == theirs.fir_delays_ == expected
        assert type(ours.memory_) is type(theirs.memory_)
        assert ours.memory_.location == theirs.memory_.location is None


def test_second_level_keeps_its_input_and_confounds_as_nilearn(rng, tmp_path):
    mask = mask_img()
    maps = group_maps(rng, 4)
    paths = []
    for index, image in enumerate(maps):
        paths.append(str(tmp_path / f'map{index}.nii.gz'))
        image.to_filename(paths[-1])
    table = pd.DataFrame(
        {
            'subject_label': ['03', '01', '04', '02'],
            'map_name': 'effect',
            'effects_map_path': paths,
        }
    )
    confounds = pd.DataFrame({'subject_label': ['01', '02', '03', '04'], 'age': [1.0, 3, 2, 5]})
    ours = SecondLevelModel(mask_img=mask).fit(table, confounds=confounds)
    theirs = quietly(NilearnSecondLevel(mask_img=mask).fit, table, confounds=confounds)
    pd.testing.assert_frame_equal(ours.second_level_input_, theirs.second_level_input_)
    assert ours.confounds_ is confounds
    assert theirs.confounds_ is confounds
    four_d = nib.concat_images(maps)
    ours = SecondLevelModel(mask_img=mask).fit(four_d)
    design = pd.DataFrame({'intercept': np.ones(4)})
    theirs = quietly(NilearnSecondLevel(mask_img=mask).fit, four_d, design_matrix=design)
    assert len(ours.second_level_input_) == len(theirs.second_level_input_) == 4
    for mine, reference in zip(ours.second_level_input_, theirs.second_level_input_, strict=True):
        np.testing.assert_array_equal(mine.get_fdata(), reference.get_fdata())
