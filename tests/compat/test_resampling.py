"""``target_affine`` / ``target_shape`` on both models, against nilearn 0.14.1.

nilearn resamples the mask (nearest neighbour; a first-level mask computed from the
runs is computed from their means resampled by cubic splines) and the data (cubic
splines, clipped to their range, onto the mask's bounding box, then smoothed) with
its ``resample_img``; bidsglm follows the same recipe with scipy. Same masks (grid
and voxels), and maps within 1e-6 relative on float64 runs and maps, 1e-4 on
float32 and int16 runs (measured: about 2e-15 for all of them).
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.glm.second_level import SecondLevelModel as NilearnSecondLevel
from nilearn.maskers import NiftiMasker

from bidsglm import FirstLevelModel, SecondLevelModel
from bidsglm.errors import InvalidParameterError

from .conftest import assert_maps_equal, quietly

pytestmark = pytest.mark.oracle

SHAPE = (14, 15, 12)
AFFINE = np.array(
    [[2.0, 0.0, 0.0, -14.0], [0.0, 2.0, 0.0, -16.0], [0.0, 0.0, 2.5, -12.0], [0, 0, 0, 1.0]]
)
N_SCANS = 30
T_R = 2.0
TOLERANCE = {np.float64: 1e-6, np.float32: 1e-4, np.int16: 1e-4}
THREE_MM = np.array(
    [[3.0, 0.0, 0.0, -15.0], [0.0, 3.0, 0.0, -17.0], [0.0, 0.0, 3.0, -13.0], [0, 0, 0, 1.0]]
)
TURN = np.eye(4)
TURN[:2, :2] = [[np.cos(0.2), -np.sin(0.2)], [np.sin(0.2), np.cos(0.2)]]
TARGETS = {
    'affine and shape': {'target_affine': THREE_MM, 'target_shape': (10, 11, 10)},
    'affine only': {'target_affine': THREE_MM},
    'axes only (3x3)': {'target_affine': np.diag([3.0, 3.0, 3.0])},
    'oblique': {'target_affine': TURN @ THREE_MM, 'target_shape': (11, 11, 10)},
    'finer': {'target_affine': np.diag([1.5, 1.5, 2.0, 1.0]) @ np.eye(4)},
}


def distance() -> np.ndarray:
    """Normalised distance from the centre: < 1 inside an ellipsoid 'brain'."""
    grid = np.indices(SHAPE).astype(float)
    centre = (np.array(SHAPE) - 1) / 2
    return sum(((grid[i] - centre[i]) / (SHAPE[i] / 2.4)) ** 2 for i in range(3))


def brain_mask() -> nib.Nifti1Image:
    return nib.Nifti1Image((distance() < 1).astype(np.uint8), AFFINE)


def make_run(rng, dtype=np.float64) -> nib.Nifti1Image:
    """A bright brain with soft edges, a block response in its front half, noise."""
    baseline = 800 / (1 + np.exp(8 * (distance() - 1))) + 20
    wave = (np.arange(N_SCANS) % 8 < 4).astype(float)
    front = (np.indices(SHAPE)[0] < 7)[..., None]
    data = baseline[..., None] * (1 + 0.02 * wave * front)
    data = data + 5 * rng.standard_normal((*SHAPE, N_SCANS))
    return nib.Nifti1Image(data.astype(dtype), AFFINE)


def make_events(shift: float = 0.0) -> pd.DataFrame:
    onsets = np.arange(4.0, 56.0, 8.0) + shift
    return pd.DataFrame(
        {'onset': onsets, 'duration': 4.0, 'trial_type': (['a', 'b'] * 4)[: onsets.size]}
    )


def assert_same_mask(ours, theirs) -> None:
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.affine, theirs.affine, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours.get_fdata() > 0, theirs.get_fdata() > 0)


def fit_first_levels(runs, events, fit_kwargs=None, **params):
    fit_kwargs = fit_kwargs or {}
    ours = FirstLevelModel(t_r=T_R, **params).fit(runs, events, **fit_kwargs)
    theirs = NilearnFirstLevel(t_r=T_R, minimize_memory=False, **params)
    return ours, quietly(theirs.fit, runs, events, **fit_kwargs)


@pytest.mark.parametrize('target', TARGETS.values(), ids=TARGETS.keys())
@pytest.mark.parametrize('mask', ['computed', 'given', 'every voxel'])
def test_first_level_resampled_runs_equal_nilearn(rng, target, mask):
    mask_img = {'computed': None, 'given': brain_mask(), 'every voxel': False}[mask]
    runs, events = [make_run(rng), make_run(rng)], [make_events(0.0), make_events(2.0)]
    ours, theirs = fit_first_levels(runs, events, mask_img=mask_img, **target)
    assert_same_mask(ours.mask_img_, theirs.masker_.mask_img_)
    assert_maps_equal(
        ours.compute_contrast('a - b', output_type='all'),
        quietly(theirs.compute_contrast, 'a - b', output_type='all'),
    )


@pytest.mark.parametrize('dtype', [np.float32, np.int16])
def test_first_level_resampled_float32_and_int16_runs_equal_nilearn(rng, dtype):
    runs, events = [make_run(rng, dtype)], [make_events()]
    ours, theirs = fit_first_levels(runs, events, **TARGETS['oblique'])
    assert_same_mask(ours.mask_img_, theirs.masker_.mask_img_)
    assert_maps_equal(
        ours.compute_contrast('a', output_type='all'),
        theirs.compute_contrast('a', output_type='all'),
        rtol=TOLERANCE[dtype],
    )


def test_first_level_resampled_and_smoothed_equals_nilearn(rng):
    runs, events = [make_run(rng)], [make_events()]
    ours, theirs = fit_first_levels(
        runs, events, mask_img=brain_mask(), smoothing_fwhm=5.0, **TARGETS['affine only']
    )
    assert_maps_equal(
        ours.compute_contrast('a - b', output_type='all'),
        theirs.compute_contrast('a - b', output_type='all'),
    )


def test_first_level_resampled_from_gzipped_files_with_scrubbing_and_ar2_equals_nilearn(
    rng, tmp_path
):
    paths = []
    for index in range(2):
        paths.append(tmp_path / f'run-{index}.nii.gz')
        nib.save(make_run(rng, np.float32), paths[-1])
    kept = [np.arange(3, N_SCANS), np.r_[0:10, 15:N_SCANS]]
    ours, theirs = fit_first_levels(
        [str(path) for path in paths],
        [make_events(0.0), make_events(2.0)],
        fit_kwargs={'sample_masks': kept, 'bins': 1000},
        noise_model='ar2',
        smoothing_fwhm=4.0,
        **TARGETS['affine only'],
    )
    assert_same_mask(ours.mask_img_, theirs.masker_.mask_img_)
    assert_maps_equal(
        quietly(ours.compute_contrast, 'a - b', output_type='all'),
        quietly(theirs.compute_contrast, 'a - b', output_type='all'),
        rtol=1e-4,
    )
    np.testing.assert_allclose(
        ours.masker_.transform(str(paths[0])),
        quietly(theirs.masker_.transform, str(paths[0])),
        rtol=1e-6,
    )


def test_first_level_with_a_resampling_niftimasker_equals_nilearn(rng):
    masker = NiftiMasker(mask_img=brain_mask(), **TARGETS['affine and shape']).fit()
    runs, events = [make_run(rng)], [make_events()]
    ours, theirs = fit_first_levels(runs, events, mask_img=masker)
    assert ours.mask_img_.shape == (10, 11, 10)
    assert_same_mask(ours.mask_img_, theirs.masker_.mask_img_)
    assert_maps_equal(
        ours.compute_contrast('a', output_type='all'),
        theirs.compute_contrast('a', output_type='all'),
    )


def test_a_models_target_gives_way_to_its_maskers_with_a_warning(rng):
    masker = NiftiMasker(mask_img=brain_mask(), **TARGETS['affine and shape'])
    model = FirstLevelModel(t_r=T_R, mask_img=masker, target_affine=np.diag([4.0] * 4))
    with pytest.warns(UserWarning, match='overridden by those of the NiftiMasker'):
        model.fit(make_run(rng), make_events())
    assert model.mask_img_.shape == (10, 11, 10)


def maps(rng, n_maps=8):
    inside = distance() < 1
    return [
        nib.Nifti1Image(np.where(inside, 1.0, 0.0) + rng.standard_normal(SHAPE), AFFINE)
        for _ in range(n_maps)
    ]


@pytest.mark.parametrize('target', TARGETS.values(), ids=TARGETS.keys())
@pytest.mark.parametrize('mask', ['computed', 'given'])
def test_second_level_resampled_maps_equal_nilearn(rng, target, mask):
    mask_img = None if mask == 'computed' else brain_mask()
    inputs = maps(rng)
    design = pd.DataFrame({'intercept': np.ones(8), 'age': np.linspace(-1, 1, 8)})
    ours = SecondLevelModel(mask_img=mask_img, smoothing_fwhm=4.0, **target)
    theirs = NilearnSecondLevel(mask_img=mask_img, smoothing_fwhm=4.0, **target)
    ours.fit(inputs, design_matrix=design)
    quietly(theirs.fit, inputs, design_matrix=design)
    assert_same_mask(ours.mask_img_, theirs.masker_.mask_img_)
    for contrast in ('intercept', 'age'):
        assert_maps_equal(
            ours.compute_contrast(contrast, output_type='all'),
            quietly(theirs.compute_contrast, contrast, output_type='all'),
        )


def test_second_level_over_first_level_models_resampled_equals_nilearn(rng):
    events = make_events()
    models = [
        FirstLevelModel(t_r=T_R, mask_img=brain_mask()).fit(make_run(rng), events)
        for _ in range(4)
    ]
    # nilearn is given our first-level effect maps (its models' equal ours, see
    # test_first_level_*), so that only the second level's resampling is compared
    ours = SecondLevelModel(**TARGETS['axes only (3x3)']).fit(models)
    theirs = NilearnSecondLevel(**TARGETS['axes only (3x3)'])
    maps_of_a = [model.compute_contrast('a', output_type='effect_size') for model in models]
    quietly(theirs.fit, maps_of_a, design_matrix=pd.DataFrame({'intercept': np.ones(4)}))
    assert_same_mask(ours.mask_img_, theirs.masker_.mask_img_)
    assert_maps_equal(
        ours.compute_contrast(first_level_contrast='a', output_type='all'),
        quietly(theirs.compute_contrast, output_type='all'),
    )


FAR = np.eye(4)
FAR[:3, 3] = 500.0
#: What nilearn's messages say (its resample_img's checks, or numpy's).
NILEARN_REFUSES = r'target_affine|shape|field of view|not aligned'


@pytest.mark.parametrize(
    'target',
    [
        {'target_shape': (4, 4, 4)},
        {'target_affine': np.eye(3), 'target_shape': (4, 4, 4)},
        {'target_affine': np.eye(2)},
        {'target_affine': np.eye(4), 'target_shape': (4, 4)},
        {'target_affine': FAR, 'target_shape': (3, 3, 3)},
    ],
    ids=['shape without affine', '3x3 with a shape', '2x2', 'shape of 2', 'outside the data'],
)
def test_targets_nilearn_refuses_are_value_errors_in_both(rng, target):
    run, events = make_run(rng), make_events()
    with pytest.raises(ValueError, match=NILEARN_REFUSES):
        quietly(NilearnFirstLevel(t_r=T_R, mask_img=False, **target).fit, run, events)
    with pytest.raises(InvalidParameterError):
        FirstLevelModel(t_r=T_R, mask_img=False, **target).fit(run, events)
    with pytest.raises(ValueError, match=NILEARN_REFUSES):
        quietly(
            NilearnSecondLevel(**target).fit,
            maps(rng),
            design_matrix=pd.DataFrame({'i': np.ones(8)}),
        )
    with pytest.raises(InvalidParameterError):
        SecondLevelModel(**target).fit(maps(rng))
