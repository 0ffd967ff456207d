import nibabel as nib
import numpy as np
import pytest

from bidsglm.errors import ImageDimensionError
from bidsglm.report import _maps
from bidsglm.report._maps import SavedMaps, read_volume, residual_sd

AFFINE = np.diag([3.0, 3.0, 3.5, 1.0])


@pytest.mark.parametrize('name', ['errorts.nii.gz', 'errorts.nii'])
def test_residual_sd_equals_numpy_std_over_time(tmp_path, rng, monkeypatch, name):
    data = rng.standard_normal((7, 8, 9, 30)).astype(np.float32)
    data *= np.arange(1.0, 10.0)[None, None, :, None]  # a different spread per slice
    nib.save(nib.Nifti1Image(data, AFFINE), tmp_path / name)
    monkeypatch.setattr(_maps, '_CHUNK_BYTES', 7 * 8 * 9 * 4 * 4)  # 4 volumes per read
    sd, affine = residual_sd(tmp_path / name)
    np.testing.assert_allclose(sd, data.astype(float).std(axis=3), rtol=1e-6)
    np.testing.assert_array_equal(affine, AFFINE)


def test_residual_sd_applies_the_scale_factor(tmp_path, rng):
    data = rng.integers(-100, 100, (3, 4, 5, 20)).astype(np.int16)
    image = nib.Nifti1Image(data, AFFINE)
    image.header.set_slope_inter(0.5, 10.0)
    nib.save(image, tmp_path / 'scaled.nii.gz')
    sd, _ = residual_sd(tmp_path / 'scaled.nii.gz')
    np.testing.assert_allclose(sd, 0.5 * data.std(axis=3), rtol=1e-10)


def test_residual_sd_rejects_a_3d_map(tmp_path):
    nib.save(nib.Nifti1Image(np.zeros((2, 2, 2), np.float32), AFFINE), tmp_path / 'a.nii.gz')
    with pytest.raises(ImageDimensionError, match='should be 4D'):
        residual_sd(tmp_path / 'a.nii.gz')


def test_read_volume_returns_the_first_volume_as_float(tmp_path):
    data = np.arange(16, dtype=np.int16).reshape(2, 2, 2, 2)
    nib.save(nib.Nifti1Image(data, AFFINE), tmp_path / 'r2.nii.gz')
    volume, affine = read_volume(tmp_path / 'r2.nii.gz')
    assert volume.dtype == np.float64
    np.testing.assert_array_equal(volume, data[..., 0])
    np.testing.assert_array_equal(affine, AFFINE)


@pytest.mark.parametrize('order', ['F', 'C'])
def test_saved_maps_residual_sd_from_memory_equals_the_file(tmp_path, rng, monkeypatch, order):
    data = np.asarray(rng.standard_normal((7, 8, 9, 30)), dtype=np.float32, order=order)
    image = nib.Nifti1Image(data, AFFINE)
    nib.save(image, tmp_path / 'errorts.nii.gz')
    monkeypatch.setattr(_maps, '_CHUNK_BYTES', 7 * 8 * 9 * 4 * 4)  # 4 volumes per block
    in_memory, affine = SavedMaps({tmp_path / 'errorts.nii.gz': image}).residual_sd(
        tmp_path / 'errorts.nii.gz'
    )
    from_disk, _ = residual_sd(tmp_path / 'errorts.nii.gz')
    np.testing.assert_array_equal(in_memory, from_disk)
    np.testing.assert_allclose(in_memory, data.astype(float).std(axis=3), rtol=1e-6)
    np.testing.assert_array_equal(affine, AFFINE)


def test_saved_maps_read_from_memory_before_disk(tmp_path, monkeypatch):
    on_disk = nib.Nifti1Image(np.zeros((2, 2, 2), np.float32), AFFINE)
    nib.save(on_disk, tmp_path / 'z.nii.gz')
    nib.save(on_disk, tmp_path / 'other.nii.gz')
    in_memory = nib.Nifti1Image(np.full((2, 2, 2), 3.0), AFFINE)
    maps = SavedMaps({tmp_path / 'z.nii.gz': in_memory})
    monkeypatch.chdir(tmp_path)
    assert maps.volume('z.nii.gz')[0].tolist() == np.full((2, 2, 2), 3.0).tolist()
    assert maps.volume(tmp_path / 'other.nii.gz')[0].sum() == 0.0


def test_saved_maps_refuse_a_3d_residual_map_in_memory(tmp_path):
    image = nib.Nifti1Image(np.zeros((2, 2, 2), np.float32), AFFINE)
    with pytest.raises(ImageDimensionError, match='should be 4D'):
        SavedMaps({tmp_path / 'a.nii.gz': image}).residual_sd(tmp_path / 'a.nii.gz')


@pytest.mark.parametrize('in_memory', [True, False])
def test_residual_sd_in_a_mask_is_the_whole_grids_bit_for_bit(
    tmp_path, rng, monkeypatch, in_memory
):
    data = np.asarray(rng.standard_normal((7, 8, 9, 30)), dtype=np.float32, order='F')
    data *= rng.uniform(0.5, 20.0, (7, 8, 9, 1)).astype(np.float32)
    mask = rng.random((7, 8, 9)) < 0.4
    data[~mask] = 0.0  # residuals are 0 outside the model's mask
    image = nib.Nifti1Image(data, AFFINE)
    nib.save(image, tmp_path / 'errorts.nii.gz')
    monkeypatch.setattr(_maps, '_CHUNK_BYTES', 7 * 8 * 9 * 4 * 4)  # 4 volumes per block
    maps = SavedMaps({tmp_path / 'errorts.nii.gz': image} if in_memory else {})
    whole, _ = maps.residual_sd(tmp_path / 'errorts.nii.gz')
    inside, affine = maps.residual_sd(tmp_path / 'errorts.nii.gz', mask)
    assert inside.tobytes() == whole.tobytes()
    assert np.count_nonzero(inside) == np.count_nonzero(mask)
    np.testing.assert_array_equal(affine, AFFINE)


def test_residual_sd_ignores_a_mask_of_another_grid(tmp_path, rng):
    data = rng.standard_normal((3, 4, 5, 10)).astype(np.float32)
    nib.save(nib.Nifti1Image(data, AFFINE), tmp_path / 'errorts.nii.gz')
    sd, _ = residual_sd(tmp_path / 'errorts.nii.gz', np.ones((3, 4, 6), bool))
    np.testing.assert_allclose(sd, data.astype(float).std(axis=3), rtol=1e-6)
