"""scikit-learn's estimator conventions: our models behave as nilearn's do.

clone, get_params(deep=True), set_params (nested, unknown names), repr, tags,
check_is_fitted, and the API checks of ``sklearn.utils.estimator_checks`` that apply
to an estimator fitted on images (the others feed 2D arrays to ``fit``).
"""

from __future__ import annotations

import pickle

import joblib
import nibabel as nib
import numpy as np
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.glm.second_level import SecondLevelModel as NilearnSecondLevel
from nilearn.maskers import NiftiMasker
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils import estimator_checks
from sklearn.utils.validation import check_is_fitted

from bidsglm import FirstLevelModel, SecondLevelModel
from bidsglm.errors import InvalidParameterError, NotFittedError

from ._api_data import T_R, events, group_maps, mask_img, quietly, run

pytestmark = pytest.mark.oracle

PAIRS = {
    'first': (FirstLevelModel, NilearnFirstLevel),
    'second': (SecondLevelModel, NilearnSecondLevel),
}

#: The checks of sklearn.utils.estimator_checks that need no 2D-array fit.
API_CHECKS = [
    'check_estimator_cloneable',
    'check_estimator_repr',
    'check_no_attributes_set_in_init',
    'check_get_params_invariance',
    'check_set_params',
    'check_parameters_default_constructible',
    'check_do_not_raise_errors_in_init_or_set_params',
    'check_estimator_tags_renamed',
    'check_valid_tag_types',
    'check_mixin_order',
    'check_estimators_unfitted',
]

ESTIMATORS = {
    'first-default': FirstLevelModel,
    'first-masker': lambda: FirstLevelModel(t_r=T_R, mask_img=NiftiMasker(smoothing_fwhm=4.0)),
    'second-default': SecondLevelModel,
    'second-masker': lambda: SecondLevelModel(smoothing_fwhm=6.0, mask_img=NiftiMasker()),
}


@pytest.mark.parametrize('name', ESTIMATORS)
@pytest.mark.parametrize('check', API_CHECKS)
def test_scikit_learn_api_checks_pass(check, name):
    estimator = ESTIMATORS[name]()
    getattr(estimator_checks, check)(type(estimator).__name__, estimator)


# ---------------------------------------------------------------- clone, params
CLONED = [
    ('first', {'t_r': 1.5, 'noise_model': 'ols', 'smoothing_fwhm': 4.0}),
    ('first', {'mask_img': NiftiMasker(smoothing_fwhm=3.0), 'high_pass': 0.02}),
    ('second', {'smoothing_fwhm': 8.0, 'n_jobs': 2}),
    ('second', {'mask_img': NiftiMasker(mask_strategy='epi')}),
]


@pytest.mark.parametrize(('level', 'params'), CLONED)
def test_clone_copies_parameters_as_nilearn_clone_does(level, params):
    for kind in PAIRS[level]:
        model = quietly(kind, **params)
        copy = clone(model)
        assert type(copy) is kind
        assert repr(copy) == repr(model)
        assert copy.get_params(deep=False).keys() == model.get_params(deep=False).keys()
        if 'mask_img' in params:
            assert copy.mask_img is not model.mask_img  # the masker is cloned too
            assert copy.mask_img.get_params() == model.mask_img.get_params()


def test_clone_of_a_fitted_model_is_unfitted_in_both(rng):
    data, table = run(rng), events()
    for kind in PAIRS['first']:
        model = quietly(kind(t_r=T_R, mask_img=mask_img()).fit, data, events=table)
        check_is_fitted(model)
        with pytest.raises(SklearnNotFittedError):
            check_is_fitted(clone(model))


@pytest.mark.parametrize(
    'params',
    [
        {},
        {'t_r': 2.0, 'noise_model': 'ols'},
        {'slice_time_ref': 0},  # scikit-learn compares reprs: 0 is not 0.0
        {
            'drift_model': 'polynomial',
            'drift_order': 3,
            'high_pass': 0.02,
            'hrf_model': 'spm',
            'noise_model': 'ols',
            'slice_time_ref': 0.5,
            'smoothing_fwhm': 4,
            'subject_label': '01',
            't_r': 2.0,
        },
        {'mask_img': NiftiMasker(smoothing_fwhm=3), 'n_jobs': 2, 'minimize_memory': False},
        {'mask_img': False, 'signal_scaling': (0, 1), 'standardize': False},
    ],
)
def test_first_level_repr_equals_nilearn(params):
    assert repr(FirstLevelModel(**params)) == repr(NilearnFirstLevel(**params))


@pytest.mark.parametrize(
    'params',
    [{}, {'smoothing_fwhm': 8.0, 'n_jobs': 2}, {'mask_img': NiftiMasker(), 'verbose': 1}],
)
def test_second_level_repr_equals_nilearn(params):
    assert repr(SecondLevelModel(**params)) == repr(NilearnSecondLevel(**params))


@pytest.mark.parametrize('level', PAIRS)
def test_get_params_deep_lists_the_masker_parameters_as_nilearn(level):
    ours, theirs = (kind(mask_img=NiftiMasker(smoothing_fwhm=5.0)) for kind in PAIRS[level])
    nested_ours = {k: v for k, v in ours.get_params(deep=True).items() if '__' in k}
    nested_theirs = {k: v for k, v in theirs.get_params(deep=True).items() if '__' in k}
    assert joblib.hash(nested_ours) == joblib.hash(nested_theirs)
    assert nested_ours['mask_img__smoothing_fwhm'] == 5.0
    shallow = ours.get_params(deep=False)
    assert set(shallow) <= set(theirs.get_params(deep=False))
    assert all(ours.get_params(deep=True)[key] is value for key, value in shallow.items())


@pytest.mark.parametrize('level', PAIRS)
def test_set_params_sets_nested_masker_parameters_as_nilearn(level):
    for kind in PAIRS[level]:
        masker = NiftiMasker()
        model = kind(mask_img=masker)
        assert model.set_params(mask_img__smoothing_fwhm=6.0, smoothing_fwhm=None) is model
        assert masker.smoothing_fwhm == 6.0
        assert model.set_params() is model


@pytest.mark.parametrize('level', PAIRS)
def test_set_params_refuses_unknown_names_as_nilearn(level):
    ours, theirs = (kind() for kind in PAIRS[level])
    with pytest.raises(ValueError, match="Invalid parameter 'tr'"):
        theirs.set_params(tr=2.0)
    with pytest.raises(InvalidParameterError, match="Invalid parameter 'tr' for") as info:
        ours.set_params(tr=2.0)
    assert isinstance(info.value, ValueError)
    assert not hasattr(ours, 'tr')


# ---------------------------------------------------------------- fitting
def test_check_is_fitted_before_and_after_fit_as_nilearn(rng):
    data, table = run(rng), events()
    for kind in PAIRS['first']:
        model = kind(t_r=T_R, mask_img=mask_img())
        with pytest.raises(SklearnNotFittedError):
            check_is_fitted(model)
        quietly(model.fit, data, events=table)
        check_is_fitted(model)
    for kind in PAIRS['second']:
        model = kind()
        with pytest.raises(SklearnNotFittedError):
            check_is_fitted(model)


def test_fit_returns_the_model_and_leaves_its_parameters(rng):
    data, table = run(rng), events()
    masker = NiftiMasker(mask_img=mask_img()).fit()
    for params in ({'mask_img': False}, {'mask_img': masker, 'fir_delays': [0, 1]}):
        model = FirstLevelModel(t_r=T_R, **params)
        before = joblib.hash(model.get_params())
        assert model.fit(data, events=table) is model
        assert joblib.hash(model.get_params()) == before
    theirs = NilearnFirstLevel(t_r=T_R, mask_img=False)
    quietly(theirs.fit, data, events=table)
    assert isinstance(theirs.mask_img, nib.Nifti1Image)  # nilearn's fit changes it
    group = SecondLevelModel(mask_img=masker)
    before = joblib.hash(group.get_params())
    assert group.fit(group_maps(rng)) is group
    assert joblib.hash(group.get_params()) == before


def test_refit_and_clone_then_fit_give_the_same_numbers(rng):
    data, table = run(rng), events()
    model = FirstLevelModel(t_r=T_R).fit(data, events=table)
    first = model.compute_contrast('audio - visual').get_fdata()
    again = model.fit(data, events=table).compute_contrast('audio - visual').get_fdata()
    cloned = clone(model).fit(data, events=table).compute_contrast('audio - visual')
    np.testing.assert_array_equal(again, first)
    np.testing.assert_array_equal(cloned.get_fdata(), first)


def test_a_fitted_model_pickles_with_its_attributes(rng):
    data, table = run(rng), events()
    model = FirstLevelModel(t_r=T_R, mask_img=NiftiMasker(mask_img=mask_img()).fit())
    model.fit(data, events=table)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        copy.compute_contrast('audio').get_fdata(), model.compute_contrast('audio').get_fdata()
    )
    np.testing.assert_array_equal(copy.labels_[0], model.labels_[0])
    np.testing.assert_array_equal(copy.masker_.transform(data), model.masker_.transform(data))


@pytest.mark.parametrize('level', PAIRS)
def test_fitted_attributes_are_absent_before_fit_in_both(level):
    names = [
        'masker_',
        'n_elements_',
        'labels_',
        'results_',
        'residuals_',
        'predicted_',
        'r_square_',
    ]
    for kind in PAIRS[level]:
        model = kind()
        for name in names:
            assert not hasattr(model, name), (kind, name)
    ours, theirs = (kind() for kind in PAIRS[level])
    with pytest.raises((ValueError, AttributeError)):
        theirs.compute_contrast('intercept')
    with pytest.raises(NotFittedError) as info:
        ours.compute_contrast('intercept')
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, AttributeError)
