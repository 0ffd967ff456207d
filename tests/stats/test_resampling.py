import numpy as np
import pytest

from bidsglm.errors import InvalidParameterError
from bidsglm.stats.resampling import (
    Grid,
    check_target,
    clip_bounds,
    crop_box,
    resample_volume,
    resampled_dtype,
    target_grid,
    voxel_mapping,
)

SOURCE = Grid(np.diag([2.0, 2.0, 2.0, 1.0]), (10, 12, 8))


def test_a_full_target_is_used_as_given():
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    affine[:3, 3] = [-4.0, 1.0, 2.0]
    grid = target_grid(SOURCE, affine, (5, 6, 7))
    np.testing.assert_array_equal(grid.affine, affine)
    assert grid.shape == (5, 6, 7)


def test_without_a_shape_the_grid_holds_the_source_box_plus_one_voxel():
    # source x spans 0..18 mm: 18 / 4 = 4.5 target voxels, so ceil(4.5) + 1 = 6
    grid = target_grid(SOURCE, np.diag([4.0, 4.0, 4.0, 1.0]))
    assert grid.shape == (6, 7, 5)


def test_a_3x3_target_gets_the_offset_of_the_source_box():
    shifted = Grid(
        np.array([[2.0, 0, 0, -9], [0, 2, 0, 5], [0, 0, 2, 1], [0, 0, 0, 1]]), (10, 12, 8)
    )
    grid = target_grid(shifted, np.diag([3.0, 3.0, 3.0]))
    np.testing.assert_allclose(grid.affine[:3, 3], [-9.0, 5.0, 1.0])
    # 18 mm / 3 = 6 voxels: ceil(6) + 1
    assert grid.shape == (7, 9, 6)


def test_a_flipped_3x3_target_starts_at_the_far_corner():
    grid = target_grid(SOURCE, np.diag([-2.0, 2.0, 2.0]))
    np.testing.assert_allclose(grid.affine[:3, 3], [18.0, 0.0, 0.0])
    assert grid.shape == (10, 12, 8)


def test_a_target_holding_none_of_the_data_is_refused():
    affine = np.eye(4)
    affine[:3, 3] = 100.0
    with pytest.raises(InvalidParameterError, match='hold none of the data'):
        target_grid(SOURCE, affine, (4, 4, 4))


@pytest.mark.parametrize(
    ('affine', 'shape', 'match'),
    [
        (np.eye(2), None, '4x4 voxel-to-world affine'),
        (np.full((4, 4), np.nan), None, '4x4 voxel-to-world affine'),
        (np.eye(3), (4, 4, 4), 'needs a 4x4 target_affine'),
        (None, (4, 4, 4), 'needs a 4x4 target_affine'),
        (np.eye(4), (4, 4), '3 positive integers'),
        (np.eye(4), (4.0, 4.0, 4.0), '3 positive integers'),
        (np.eye(4), (4, 0, 4), '3 positive integers'),
    ],
)
def test_check_target_refuses_what_nilearn_refuses(affine, shape, match):
    with pytest.raises(InvalidParameterError, match=match):
        check_target(affine, shape)


def test_voxel_mapping_is_the_identity_for_equal_affines_and_a_diagonal_when_it_can():
    matrix, offset = voxel_mapping(SOURCE.affine, SOURCE.affine.copy())
    np.testing.assert_array_equal(matrix, np.ones(3))
    np.testing.assert_array_equal(offset, np.zeros(3))
    target = np.diag([4.0, 4.0, 4.0, 1.0])
    target[:3, 3] = [2.0, 0.0, -2.0]
    matrix, offset = voxel_mapping(SOURCE.affine, target)
    np.testing.assert_allclose(matrix, [2.0, 2.0, 2.0])
    np.testing.assert_allclose(offset, [1.0, 0.0, -1.0])


def test_voxel_mapping_of_a_rotation_is_a_matrix(rng):
    angle = 0.3
    target = np.eye(4)
    target[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    matrix, _ = voxel_mapping(np.eye(4), target)
    assert matrix.shape == (3, 3)
    point = rng.standard_normal(3)
    np.testing.assert_allclose(matrix @ point, target[:3, :3] @ point)


@pytest.mark.parametrize(
    ('dtype', 'order', 'expected'),
    [
        (np.int16, 3, np.float32),
        (np.int8, 3, np.float32),
        (np.int64, 3, np.float64),
        (np.uint16, 3, np.uint16),
        (np.float32, 3, np.float32),
        (np.int16, 0, np.int16),
        ('>f4', 3, np.float32),
    ],
)
def test_resampled_dtype_follows_nilearn(dtype, order, expected):
    assert resampled_dtype(np.dtype(dtype), order) == np.dtype(expected)


def test_resampling_at_integer_shifts_gives_the_samples_back(rng):
    volume = rng.standard_normal((12, 10, 9))
    target = np.eye(4)
    target[:3, 3] = [2.0, 1.0, 3.0]
    resampled = resample_volume(volume, voxel_mapping(np.eye(4), target), (8, 8, 5), order=3)
    np.testing.assert_allclose(resampled, volume[2:10, 1:9, 3:8], atol=1e-10)


def test_cubic_resampling_of_a_slow_wave_matches_the_wave_inside(rng):
    x, y, z = np.meshgrid(np.arange(40.0), np.arange(30.0), np.arange(20.0), indexing='ij')

    def wave(x, y, z):
        return np.sin(x / 6) + np.cos(y / 5) * z / 20

    target = np.diag([0.7, 0.7, 0.7, 1.0])
    target[:3, 3] = [10.3, 8.1, 5.2]
    resampled = resample_volume(
        wave(x, y, z), voxel_mapping(np.eye(4), target), (20, 15, 10), order=3
    )
    tx, ty, tz = np.meshgrid(*(np.arange(n) * 0.7 for n in (20, 15, 10)), indexing='ij')
    np.testing.assert_allclose(resampled, wave(tx + 10.3, ty + 8.1, tz + 5.2), atol=2e-4)


def test_nearest_resampling_repeats_voxels_and_fills_zeros_outside():
    volume = np.arange(1, 9, dtype=np.uint8).reshape(2, 2, 2)
    target = np.diag([0.5, 0.5, 0.5, 1.0])
    resampled = resample_volume(volume, voxel_mapping(np.eye(4), target), (6, 2, 2), order=0)
    assert resampled.dtype == np.uint8
    # coordinates 0, 0.5, 1, 1.5, 2, 2.5 along x: .5 rounds up, 2 and beyond are outside
    np.testing.assert_array_equal(resampled[:, 0, 0], [1, 5, 5, 0, 0, 0])


def test_clip_bounds_always_hold_zero():
    assert clip_bounds(2.0, 5.0) == (0, 5.0)
    assert clip_bounds(-3.0, -1.0) == (-3.0, 0)


def test_crop_box_pads_by_one_voxel_within_the_volume():
    mask = np.zeros((8, 9, 10), bool)
    mask[0, 3:5, 6] = True
    mask[2, 4, 9] = True
    assert crop_box(mask) == (slice(0, 4), slice(2, 6), slice(5, 10))
    assert crop_box(np.zeros((3, 4, 5), bool)) == (slice(0, 3), slice(0, 4), slice(0, 5))


def test_a_cropped_grid_maps_its_voxels_to_the_same_places():
    box = (slice(2, 6), slice(1, 4), slice(0, 3))
    cropped = SOURCE.cropped(box)
    assert cropped.shape == (4, 3, 3)
    np.testing.assert_allclose(cropped.affine @ [0, 0, 0, 1], SOURCE.affine @ [2, 1, 0, 1])
    assert not cropped.same_as(SOURCE)
    assert SOURCE.same_as(Grid(SOURCE.affine + 1e-10, SOURCE.shape))
