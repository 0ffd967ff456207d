from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from bidsglm.bids.contrast_specs import normalize_contrasts
from bidsglm.bids.model_view import view_model
from bidsglm.errors import InvalidParameterError, NotFittedError
from bidsglm.models import FirstLevelModel, SecondLevelModel

from .conftest import AFFINE, N_SCANS, N_SUBJECTS, T_R, ContractSecondLevel, brain


def test_view_model_reads_a_first_level_model(first_level, run_files):
    view = view_model(first_level)
    assert view.level == 'first'
    assert view.estimator == 'bidsglm.models.first_level.FirstLevelModel'
    assert view.columns[0][:3] == ('audio', 'motor', 'visual')
    assert view.sources == tuple(str(p) for p in run_files)
    assert view.parameters['t_r'] == 2.0
    assert view.parameters['noise_model'] == 'ar1'
    assert [img.shape[3] for img in view.residuals()] == [N_SCANS, N_SCANS]


def test_view_model_computes_what_compute_contrast_returns(first_level):
    view = view_model(first_level)
    spec = normalize_contrasts('audio - visual', view.columns, {'audio - visual': 'F'})[0]
    maps = view.compute(spec)
    expected = first_level.compute_contrast('audio - visual', stat_type='F', output_type='all')
    for key, image in expected.items():
        np.testing.assert_array_equal(maps.images[key].get_fdata(), image.get_fdata())
    assert maps.stat_type == 'F'
    assert maps.effect_dof == 1
    assert maps.weights[1][0, :3].tolist() == [1.0, 0.0, -1.0]
    rank = np.linalg.matrix_rank(first_level.design_matrices_[0].to_numpy())
    assert maps.dof == 2 * (N_SCANS - rank)


def test_one_expression_per_run_weights_each_run_by_fixed_effects(first_level):
    view = view_model(first_level)
    spec = normalize_contrasts({'runTwoMinusOne': ['-audio', 'audio']}, view.columns)[0]
    maps = view.compute(spec)
    with pytest.warns(UserWarning, match='left out of the fixed effects'):
        runs = [
            first_level.compute_contrast(['audio', '0*audio'], output_type='all'),
            first_level.compute_contrast(['0*audio', 'audio'], output_type='all'),
        ]
    effects = [run['effect_size'].get_fdata() for run in runs]
    variances = [run['effect_variance'].get_fdata() for run in runs]
    # each run alone (the other left out), then their fixed effects by hand (the mean)
    np.testing.assert_allclose(
        maps.images['effect_size'].get_fdata(), (effects[1] - effects[0]) / 2, atol=1e-10
    )
    np.testing.assert_allclose(
        maps.images['effect_variance'].get_fdata(), (variances[0] + variances[1]) / 4, rtol=1e-10
    )
    assert maps.weights[0][0, 0] == -1.0
    assert maps.weights[1][0, 0] == 1.0


def test_view_model_reads_a_second_level_model(second_level, effect_files):
    view = view_model(second_level)
    assert (view.level, view.columns) == ('second', (('intercept',),))
    assert view.sources == tuple(str(p) for p in effect_files)
    assert view.residuals()[0].shape[3] == N_SUBJECTS
    maps = view.compute(normalize_contrasts('intercept', view.columns)[0])
    assert maps.dof == N_SUBJECTS - 1


def test_view_model_accepts_any_object_following_the_model_contract(second_level):
    view = view_model(ContractSecondLevel(second_level))
    assert view.level == 'second'
    assert view.estimator.endswith('ContractSecondLevel')
    maps = view.compute(normalize_contrasts('intercept', view.columns)[0])
    expected = second_level.compute_contrast('intercept', output_type='stat')
    np.testing.assert_array_equal(maps.images['stat'].get_fdata(), expected.get_fdata())


@pytest.mark.parametrize('model', [FirstLevelModel(t_r=2.0), SecondLevelModel()])
def test_view_model_refuses_an_unfitted_model(model):
    with pytest.raises(NotFittedError, match='not fitted yet'):
        view_model(model)


@pytest.mark.parametrize('thing', [None, 'model', object()])
def test_view_model_refuses_what_is_not_a_model(thing):
    with pytest.raises(InvalidParameterError, match="'model' parameter of save_glm_to_bids"):
        view_model(thing)


@pytest.mark.oracle
def test_view_model_records_the_smoothing_a_masker_applied(run_files, events_pair):
    from nilearn.maskers import NiftiMasker

    masker = NiftiMasker(mask_img=nib.Nifti1Image(brain().astype(np.uint8), AFFINE))
    model = FirstLevelModel(t_r=T_R, mask_img=masker.set_params(smoothing_fwhm=4.0))
    model.fit([str(p) for p in run_files], events=events_pair)
    assert model.smoothing_fwhm is None
    assert view_model(model).parameters['smoothing_fwhm'] == 4.0
