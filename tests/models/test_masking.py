"""Tests of bidsglm.models.masking: EPI, multi-run EPI and background masks."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from nilearn import masking as nilearn_masking
from scipy import ndimage

from bidsglm.errors import InvalidParameterError, ShapeMismatchError
from bidsglm.models.masking import (
    compute_background_mask,
    compute_epi_mask,
    compute_multi_epi_mask,
)

SHAPE = (12, 14, 10)
AFFINE = np.diag([3.0, 3.5, 4.0, 1.0])
HAXBY = Path(__file__).parent.parent / 'data' / 'haxby'
HAXBY_RUNS = [
    HAXBY / f'sub-1_task-objectviewing_acq-25mm_run-{run}_bold.nii.gz' for run in ('01', '02')
]


def _ellipsoid(shift=0):
    x, y, z = np.ogrid[: SHAPE[0], : SHAPE[1], : SHAPE[2]]
    return ((x - 5.5 - shift) / 4.5) ** 2 + ((y - 6.5) / 5.5) ** 2 + ((z - 4.5) / 4.0) ** 2 < 1


def _run(rng, dtype=np.float64, shift=0, blob=False):
    """A bright ellipsoid 'brain' in dark noise, 20 volumes; optionally a bright blob."""
    brain = _ellipsoid(shift)[..., np.newaxis]
    signal = 1000 * brain * (1 + 0.05 * rng.normal(size=(*SHAPE, 20)))
    data = 100 + signal + 50 * rng.normal(size=(*SHAPE, 20))
    if blob:
        data[9:12, 11:14, 0:3] += 900  # a separate bright corner that survives the opening
    return nib.Nifti1Image(data.astype(dtype), AFFINE)


def _voxels(image):
    return np.asanyarray(image.dataobj).astype(bool)


def _assert_same_mask(ours, theirs):
    assert ours.get_data_dtype() == np.uint8
    np.testing.assert_array_equal(ours.affine, theirs.affine)
    np.testing.assert_array_equal(_voxels(ours), _voxels(theirs))


# --------------------------------------------------------------------------- planted
def test_compute_epi_mask_covers_the_ellipsoid(rng):
    brain = _ellipsoid()
    mask = compute_epi_mask(_run(rng))
    voxels = _voxels(mask)
    assert mask.get_data_dtype() == np.uint8
    assert set(np.unique(np.asanyarray(mask.dataobj))) == {0, 1}
    np.testing.assert_array_equal(mask.affine, AFFINE)
    assert not (voxels & ~brain).any()  # nothing outside the brain
    assert voxels[ndimage.binary_erosion(brain)].all()  # the whole core is in
    assert voxels.sum() == 320


def test_compute_epi_mask_connected_drops_the_blob(rng):
    run = _run(rng, blob=True)
    connected = _voxels(compute_epi_mask(run, opening=1))
    everything = _voxels(compute_epi_mask(run, opening=1, connected=False))
    assert not connected[9:, 11:, :3].any()
    assert everything[10, 12, 1]  # the blob's centre survives one erosion
    np.testing.assert_array_equal(everything & ~connected, everything & ~_ellipsoid())
    assert (everything & ~connected)[9:, 11:, :3].sum() == (everything & ~connected).sum()


def test_compute_multi_epi_mask_threshold_planted(rng):
    runs = [_run(rng, shift=shift) for shift in (-1, 0, 1)]
    singles = [_voxels(compute_epi_mask(run)) for run in runs]
    union = _voxels(compute_multi_epi_mask(runs, threshold=0))
    majority = _voxels(compute_multi_epi_mask(runs))
    every = _voxels(compute_multi_epi_mask(runs, threshold=1))
    np.testing.assert_array_equal(every, singles[0] & singles[1] & singles[2])
    np.testing.assert_array_equal(union, singles[0] | singles[1] | singles[2])
    assert every.sum() < majority.sum() < union.sum()


def test_compute_background_mask_finds_the_maps(rng):
    brain = _ellipsoid()
    data = np.zeros(SHAPE)
    data[brain] = rng.normal(size=brain.sum())
    mask = _voxels(compute_background_mask(nib.Nifti1Image(data, AFFINE)))
    np.testing.assert_array_equal(mask, brain)


def test_compute_background_mask_nan_background(rng):
    data = np.full(SHAPE, np.nan)
    data[3:6, 4:9, 2:5] = rng.normal(size=(3, 5, 3))
    mask = _voxels(compute_background_mask(nib.Nifti1Image(data, AFFINE)))
    assert mask.sum() == 45


# --------------------------------------------------------------------------- errors
def test_compute_epi_mask_empty_raises_with_advice():
    checkerboard = np.indices(SHAPE).sum(axis=0) % 2 * 100.0
    with pytest.raises(InvalidParameterError) as info:
        compute_epi_mask(nib.Nifti1Image(checkerboard, AFFINE))
    assert 'compute_epi_mask computed an empty mask' in str(info.value)
    assert 'pass an explicit mask_img' in str(info.value)


def test_compute_background_mask_constant_image_raises():
    with pytest.raises(InvalidParameterError, match='compute_background_mask computed an empty'):
        compute_background_mask(nib.Nifti1Image(np.ones(SHAPE), AFFINE))


@pytest.mark.parametrize(
    ('kwargs', 'message'),
    [
        (
            {'lower_cutoff': 1.5},
            r"'lower_cutoff' parameter of compute_epi_mask must be a float in \[0, 1\]. Got 1.5",
        ),
        ({'lower_cutoff': 0.9, 'upper_cutoff': 0.5}, "must be smaller than 'upper_cutoff'"),
        (
            {'opening': -1},
            r"'opening' parameter of compute_epi_mask must be an int in \[0, inf\) or False",
        ),
        ({'opening': 1.5}, "'opening' parameter"),
    ],
)
def test_compute_epi_mask_bad_parameters(rng, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        compute_epi_mask(_run(rng), **kwargs)


def test_compute_multi_epi_mask_bad_inputs(rng):
    with pytest.raises(InvalidParameterError, match='non-empty sequence of images'):
        compute_multi_epi_mask([])
    with pytest.raises(InvalidParameterError, match=r"'threshold' parameter .* Got 2 instead"):
        compute_multi_epi_mask([_run(rng)], threshold=2)


def test_compute_multi_epi_mask_refuses_other_grids(rng):
    other = nib.Nifti1Image(np.asanyarray(_run(rng).dataobj)[:, :, :9], AFFINE)
    with pytest.raises(ShapeMismatchError, match=r'imgs\[0\] and imgs\[1\] are not on the same'):
        compute_multi_epi_mask([_run(rng), other])


def test_compute_background_mask_bad_border():
    with pytest.raises(InvalidParameterError, match=r"'border_size' .* int in \[1, inf\)"):
        compute_background_mask(nib.Nifti1Image(np.ones(SHAPE), AFFINE), border_size=0)


# --------------------------------------------------------------------------- oracle
@pytest.mark.oracle
@pytest.mark.parametrize('dtype', [np.float64, np.float32, np.int16])
@pytest.mark.parametrize(
    'kwargs',
    [
        {},
        {'opening': 0},
        {'opening': 1, 'connected': False},
        {'exclude_zeros': True, 'lower_cutoff': 0.1, 'upper_cutoff': 0.9},
        {'ensure_finite': False},
    ],
)
def test_compute_epi_mask_matches_nilearn(rng, dtype, kwargs):
    run = _run(rng, dtype, blob=True)
    if dtype is not np.int16:
        run.dataobj[0, 5, 5, :] = np.nan
        run.dataobj[3, 3, 3, 0] = np.inf
    _assert_same_mask(
        compute_epi_mask(run, **kwargs), nilearn_masking.compute_epi_mask(run, **kwargs)
    )


@pytest.mark.oracle
@pytest.mark.parametrize('n_runs', [2, 3])
@pytest.mark.parametrize('threshold', [0.5, 0.0, 1.0])
def test_compute_multi_epi_mask_matches_nilearn(rng, n_runs, threshold):
    dtypes = [np.int16, np.float32, np.float64]
    runs = [_run(rng, dtypes[i], shift=i - 1, blob=i == 0) for i in range(n_runs)]
    expected = nilearn_masking.compute_multi_epi_mask(runs, threshold=threshold)
    _assert_same_mask(compute_multi_epi_mask(runs, threshold=threshold), expected)


@pytest.mark.oracle
@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('kwargs', [{}, {'border_size': 1}, {'connected': True, 'opening': 1}])
def test_compute_background_mask_matches_nilearn(rng, dtype, kwargs):
    data = np.zeros((*SHAPE, 4))
    data[_ellipsoid()] = rng.normal(size=(_ellipsoid().sum(), 4))
    data[9:12, 11:14, 0:3] = 1.0
    image = nib.Nifti1Image(data.astype(dtype), AFFINE)
    expected = nilearn_masking.compute_background_mask(image, **kwargs)
    _assert_same_mask(compute_background_mask(image, **kwargs), expected)


TARGETS = [
    {'target_affine': np.diag([4.0, 4.0, 4.0, 1.0]), 'target_shape': (10, 12, 10)},
    {'target_affine': np.diag([2.5, 3.0, 3.0, 1.0])},
    {'target_affine': np.diag([4.0, 4.0, 5.0])},
]


@pytest.mark.oracle
@pytest.mark.parametrize('target', TARGETS)
def test_epi_masks_on_a_target_grid_match_nilearn(rng, target):
    runs = [_run(rng), _run(rng, shift=1)]
    _assert_same_mask(
        compute_epi_mask(runs[0], **target), nilearn_masking.compute_epi_mask(runs[0], **target)
    )
    _assert_same_mask(
        compute_multi_epi_mask(runs, **target),
        nilearn_masking.compute_multi_epi_mask(runs, **target),
    )


@pytest.mark.oracle
def test_masks_match_nilearn_on_haxby():
    for run in HAXBY_RUNS:
        _assert_same_mask(compute_epi_mask(run), nilearn_masking.compute_epi_mask(run))
        _assert_same_mask(
            compute_background_mask(run), nilearn_masking.compute_background_mask(run)
        )
    multi = compute_multi_epi_mask(HAXBY_RUNS)
    _assert_same_mask(multi, nilearn_masking.compute_multi_epi_mask(HAXBY_RUNS))
    single = compute_multi_epi_mask(HAXBY_RUNS[:1])
    _assert_same_mask(single, nilearn_masking.compute_multi_epi_mask(HAXBY_RUNS[:1]))
    assert _voxels(multi).sum() == 18
