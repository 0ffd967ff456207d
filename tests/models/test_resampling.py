import nibabel as nib
import numpy as np
import pytest

from bidsglm.errors import InvalidParameterError
from bidsglm.models._images import apply_mask, load_image, smooth_array
from bidsglm.models._resampling import (
    Target,
    image_grid,
    resample_and_mask,
    resample_mask,
    resample_mean,
)
from bidsglm.stats.resampling import resample_volume, voxel_mapping

SOURCE = np.diag([2.0, 2.0, 2.0, 1.0])
TARGET = np.diag([3.0, 3.0, 3.0, 1.0])


def ramp_run(n_volumes=4, dtype=np.float64):
    """A run whose value is 10 + x (mm) + volume, so resampled values are known."""
    x = np.arange(16) * 2.0
    volume = np.broadcast_to((10 + x)[:, None, None], (16, 12, 10))
    data = np.stack([volume + t for t in range(n_volumes)], axis=-1)
    return nib.Nifti1Image(data.astype(dtype), SOURCE)


def full_mask(shape, affine):
    return nib.Nifti1Image(np.ones(shape, np.uint8), affine)


def test_resample_mask_zooms_by_nearest_neighbour():
    mask = np.zeros((6, 6, 6), np.uint8)
    mask[2:4, 2:4, 2:4] = 1
    resampled = resample_mask(
        nib.Nifti1Image(mask, np.eye(4)), Target(np.diag([0.5, 0.5, 0.5, 1.0]), (12, 12, 12))
    )
    assert resampled.shape == (12, 12, 12)
    # target voxel i samples source voxel round(i / 2), .5 rounding up
    inside = np.zeros(12, bool)
    inside[3:7] = True
    np.testing.assert_array_equal(resampled.get_fdata()[:, 5, 5] > 0, inside)


def test_resample_mask_keeps_a_mask_already_on_the_target_grid():
    mask = full_mask((4, 4, 4), TARGET)
    assert resample_mask(mask, Target(TARGET, (4, 4, 4))) is mask
    assert resample_mask(mask, Target(TARGET, None)) is mask


def test_resample_mask_refuses_a_target_that_leaves_out_the_mask():
    mask = np.zeros((6, 6, 6), np.uint8)
    mask[5, 5, 5] = 1
    with pytest.raises(InvalidParameterError, match='holds no voxel once resampled'):
        resample_mask(nib.Nifti1Image(mask, np.eye(4)), Target(np.eye(4), (3, 3, 3)))


def test_resample_mean_clips_to_the_range_with_zero():
    mean = np.zeros((8, 8, 8))
    mean[4:, :, :] = 100.0  # a step: cubic splines ring above 100 and below 0
    values, affine = resample_mean(mean, np.eye(4), Target(np.diag([0.6, 1.0, 1.0, 1.0]), None))
    np.testing.assert_array_equal(affine, np.diag([0.6, 1.0, 1.0, 1.0]))
    assert values.min() == 0.0
    assert values.max() == 100.0
    raw = resample_volume(mean, voxel_mapping(np.eye(4), affine), values.shape, order=3)
    assert raw.max() > 100.0
    assert raw.min() < 0.0


def test_resample_and_mask_of_a_ramp_gives_the_ramp_at_the_target_voxels():
    run = ramp_run()
    target_grid_mask = np.zeros((10, 8, 6), np.uint8)
    target_grid_mask[3:8, 2:6, 2:4] = 1
    mask = nib.Nifti1Image(target_grid_mask, TARGET)
    values = resample_and_mask([run], mask)
    x_mm = np.nonzero(target_grid_mask)[0] * 3.0
    expected = np.stack([10 + x_mm + t for t in range(4)])
    assert values.shape == (4, target_grid_mask.sum())
    # exact at whole source voxels; between them within the splines' reflection at
    # the edges of the 16-voxel axis (about 1e-3 of a unit 4 voxels in)
    np.testing.assert_allclose(values, expected, atol=2e-3)
    on_voxels = x_mm % 2 == 0
    np.testing.assert_allclose(values[:, on_voxels], expected[:, on_voxels], atol=1e-9)


def test_resample_and_mask_casts_signed_integers_to_floats():
    values = resample_and_mask([ramp_run(dtype=np.int16)], full_mask((6, 6, 4), TARGET))
    assert values.dtype == np.float32
    floats = resample_and_mask([ramp_run(dtype=np.float32)], full_mask((6, 6, 4), TARGET))
    np.testing.assert_allclose(values, floats, rtol=1e-6)


def test_resample_and_mask_clips_over_all_volumes(rng):
    data = np.zeros((10, 10, 10, 2))
    data[5:, ..., 0] = 50.0  # a step in the first volume only
    data[..., 1] = 80.0
    run = nib.Nifti1Image(data, np.eye(4))
    values = resample_and_mask([run], full_mask((14, 10, 10), np.diag([0.7, 1.0, 1.0, 1.0])))
    # the first volume rings above 50, but the range of the run reaches 80
    assert values[0].max() > 50.0
    assert values.min() == 0.0
    assert values.max() <= 80.0


def test_resample_and_mask_smooths_the_resampled_box_then_masks(rng):
    run = nib.Nifti1Image(rng.standard_normal((10, 10, 10, 3)), SOURCE)
    mask = np.zeros((7, 7, 7), np.uint8)
    mask[2:5, 1:6, 3] = 1
    mask_img = nib.Nifti1Image(mask, TARGET)
    values = resample_and_mask([run], mask_img, smoothing_fwhm=4.0)
    # by hand: resample onto the box (mask padded by 1), clip, smooth there, mask
    box = (slice(1, 6), slice(0, 7), slice(2, 5))
    box_affine = TARGET.copy()
    box_affine[:3, 3] = TARGET[:3, :3] @ [1, 0, 2]
    mapping = voxel_mapping(SOURCE, box_affine)
    data = run.get_fdata()
    stack = np.stack(
        [resample_volume(data[..., t], mapping, (5, 7, 3), 3) for t in range(3)], axis=-1
    )
    np.clip(stack, data.min(), data.max(), out=stack)
    smoothed = smooth_array(stack, box_affine, 4.0)
    np.testing.assert_allclose(values, smoothed[mask[box] > 0].T, rtol=1e-12)


def test_resample_and_mask_of_maps_resamples_them_together(rng):
    maps = [nib.Nifti1Image(rng.standard_normal((8, 8, 8)) + i, SOURCE) for i in range(3)]
    mask = full_mask((5, 5, 5), TARGET)
    together = resample_and_mask(maps, mask)
    stacked = nib.Nifti1Image(np.stack([m.get_fdata() for m in maps], axis=-1), SOURCE)
    np.testing.assert_array_equal(together, resample_and_mask([stacked], mask))


def test_a_gzipped_run_is_streamed_to_the_same_values(rng, tmp_path):
    run = nib.Nifti1Image(rng.standard_normal((9, 8, 7, 5)).astype(np.float32), SOURCE)
    nib.save(run, tmp_path / 'run.nii.gz')
    mask = full_mask((6, 5, 5), TARGET)
    from_file = resample_and_mask([load_image(tmp_path / 'run.nii.gz')], mask)
    np.testing.assert_array_equal(from_file, resample_and_mask([run], mask))


def test_non_finite_values_are_zeros_before_resampling(rng):
    data = rng.standard_normal((8, 8, 8, 2))
    zeroed = data.copy()
    data[3, 3, 3, 0] = np.nan
    zeroed[3, 3, 3, 0] = 0.0
    mask = full_mask((5, 5, 5), TARGET)
    np.testing.assert_array_equal(
        resample_and_mask([nib.Nifti1Image(data, SOURCE)], mask),
        resample_and_mask([nib.Nifti1Image(zeroed, SOURCE)], mask),
    )


def test_target_and_image_grid():
    assert not Target(None, None).given
    run = ramp_run()
    grid = Target(TARGET, None).grid_for(image_grid(run))
    assert grid.shape == (11, 9, 7)  # 30 / 3 + 1, ceil(22 / 3) + 1, 18 / 3 + 1
    same = full_mask((16, 12, 10), SOURCE)
    # on the same grid the splines give the samples back, to rounding
    np.testing.assert_allclose(resample_and_mask([run], same), apply_mask(run, same), rtol=1e-14)
