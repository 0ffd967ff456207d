"""AR(p) noise models (``noise_model='ar2'``, ``'ar3'``, ...) against nilearn 0.14.1.

Both group the voxels of an AR(p > 1) fit with scikit-learn's k-means, called with
the same arguments and seed, so everything (Yule-Walker per voxel, the clusters,
labels rounded to 2 decimals, the first voxel's coefficients for a label, whitening,
refits, contrasts) must agree: 1e-6 relative on float64 runs, 1e-4 on float32, with
each voxel its own cluster and with fewer clusters than voxels.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel

from bidsglm import FirstLevelModel
from bidsglm.errors import InvalidParameterError

from .conftest import T_R, assert_maps_equal, make_events, make_run, quietly

pytestmark = pytest.mark.oracle

#: Enough bins for every voxel of the conftest's brain (82 voxels) to be its own cluster.
ALL_VOXELS = 1000
TOLERANCE = {np.float64: 1e-6, np.float32: 1e-4}


def fit_both(runs, events, mask_img, noise_model, bins, random_state=0):
    ours = FirstLevelModel(
        t_r=T_R, mask_img=mask_img, noise_model=noise_model, random_state=random_state
    )
    theirs = NilearnFirstLevel(
        t_r=T_R,
        mask_img=mask_img,
        noise_model=noise_model,
        minimize_memory=False,
        random_state=random_state,
    )
    return ours.fit(runs, events, bins=bins), quietly(theirs.fit, runs, events, bins=bins)


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('noise_model', ['ar2', 'ar3'])
def test_ar_p_maps_equal_nilearn_when_each_voxel_is_its_own_cluster(
    rng, mask_img, noise_model, dtype
):
    runs = [nib.Nifti1Image(make_run(rng).get_fdata().astype(dtype), make_run(rng).affine)]
    runs.append(nib.Nifti1Image(make_run(rng).get_fdata().astype(dtype), runs[0].affine))
    events = [make_events(0.0), make_events(2.0)]
    ours, theirs = fit_both(runs, events, mask_img, noise_model, ALL_VOXELS)
    f_test = np.eye(ours.design_matrices_[0].shape[1])[:2]
    for contrast in ('audio - visual', 'visual', [f_test, f_test]):
        assert_maps_equal(
            ours.compute_contrast(contrast, output_type='all')
            if isinstance(contrast, str)
            else quietly(ours.compute_contrast, contrast, output_type='all'),
            quietly(theirs.compute_contrast, contrast, output_type='all'),
            rtol=TOLERANCE[dtype],
        )


@pytest.mark.parametrize('noise_model', ['ar2', 'ar3'])
def test_ar_p_labels_and_results_equal_nilearns(rng, mask_img, noise_model):
    runs, events = [make_run(rng)], [make_events(0.0)]
    ours, theirs = fit_both(runs, events, mask_img, noise_model, ALL_VOXELS)
    np.testing.assert_array_equal(ours.labels_[0], theirs.labels_[0])
    assert len(ours.results_[0]) == len(theirs.results_[0])
    assert list(ours.results_[0]) == list(theirs.results_[0])
    for label, result in ours.results_[0].items():
        reference = theirs.results_[0][label]
        np.testing.assert_allclose(result.whitened_design, reference.whitened_design, rtol=1e-10)
        np.testing.assert_allclose(result.theta, reference.theta, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(result.dispersion, reference.dispersion, rtol=1e-6)
        np.testing.assert_allclose(result.predicted, reference.predicted, rtol=1e-6, atol=1e-9)
    ours_predicted = ours.predicted_[0].get_fdata()
    np.testing.assert_allclose(
        ours_predicted, theirs.predicted_[0].get_fdata(), rtol=1e-6, atol=1e-9
    )


def test_ar1_written_as_ar01_is_ar1_as_in_nilearn(rng, mask_img):
    runs, events = [make_run(rng)], [make_events(0.0)]
    ours, theirs = fit_both(runs, events, mask_img, 'ar01', 100)
    np.testing.assert_array_equal(ours.labels_[0], theirs.labels_[0])
    assert_maps_equal(
        ours.compute_contrast('audio', output_type='all'),
        theirs.compute_contrast('audio', output_type='all'),
    )


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('noise_model', ['ar2', 'ar3'])
def test_ar_p_with_fewer_bins_than_voxels_equals_nilearn_for_one_seed(
    rng, mask_img, noise_model, dtype
):
    runs = [make_run(rng), make_run(rng)]
    runs = [nib.Nifti1Image(run.get_fdata().astype(dtype), run.affine) for run in runs]
    events = [make_events(0.0), make_events(2.0)]
    ours, theirs = fit_both(runs, events, mask_img, noise_model, bins=10, random_state=3)
    assert [len(r) for r in ours.results_] == [len(r) for r in theirs.results_]
    assert all(2 <= len(results) <= 10 for results in ours.results_)
    for run in range(2):
        np.testing.assert_array_equal(ours.labels_[run], theirs.labels_[run])
    assert_maps_equal(
        quietly(ours.compute_contrast, 'audio - visual', output_type='all'),
        quietly(theirs.compute_contrast, 'audio - visual', output_type='all'),
        rtol=TOLERANCE[dtype],
    )


@pytest.mark.parametrize('noise_model', ['ar0', 'arx', 'ar-2', 'wls'])
def test_unknown_noise_models_are_value_errors_in_both(rng, mask_img, noise_model):
    runs, events = [make_run(rng)], [make_events(0.0)]
    with pytest.raises(ValueError, match=r'AR order|noise model'):
        quietly(
            NilearnFirstLevel(t_r=T_R, mask_img=mask_img, noise_model=noise_model).fit,
            runs,
            events,
        )
    with pytest.raises(InvalidParameterError, match=rf"'noise_model'.*'{noise_model}'"):
        FirstLevelModel(t_r=T_R, mask_img=mask_img, noise_model=noise_model).fit(runs, events)
