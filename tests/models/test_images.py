"""Tests of bidsglm.models._images: loading, checks, masking, unmasking, smoothing."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from nilearn.image import smooth_img
from nilearn.maskers import NiftiMasker
from nilearn.masking import unmask as nilearn_unmask

from bidsglm.errors import (
    ImageDimensionError,
    InputNotFoundError,
    InvalidParameterError,
    ShapeMismatchError,
)
from bidsglm.models._images import (
    apply_mask,
    check_3d,
    check_4d,
    check_same_grid,
    iter_volumes,
    load_image,
    load_mask,
    smooth_array,
    unmask,
)

SHAPE = (5, 6, 7)
ANISOTROPIC = np.array(
    [[3.0, 0.0, 0.0, -10.0], [0.0, 2.0, 0.5, 4.0], [0.0, 0.0, 4.0, 1.0], [0.0, 0.0, 0.0, 1.0]]
)


def _image(data, affine=None):
    return nib.Nifti1Image(data, np.eye(4) if affine is None else affine)


def _mask_data():
    mask = np.zeros(SHAPE, dtype=np.uint8)
    mask[1:4, 2:5, 1:6] = 1
    mask[0, 0, 0] = 1
    return mask


@pytest.fixture
def run_data(rng):
    return 100 + 10 * rng.normal(size=(*SHAPE, 20))


# --------------------------------------------------------------------------- load_image
def test_load_image_missing_path_names_it(tmp_path):
    path = tmp_path / 'sub-01_bold.nii.gz'
    with pytest.raises(InputNotFoundError, match=r"'run_imgs' file '.*sub-01_bold\.nii\.gz'"):
        load_image(path, name='run_imgs')


def test_load_image_unreadable_file(tmp_path):
    path = tmp_path / 'notes.nii.gz'
    path.write_text('not an image')
    with pytest.raises(InvalidParameterError, match='cannot be read as a NIfTI image'):
        load_image(str(path))


def test_load_image_rejects_other_types():
    with pytest.raises(InvalidParameterError, match=r"'img' parameter .* Got list instead"):
        load_image([1, 2], name='img')


def test_load_image_path_stays_lazy(tmp_path, run_data):
    path = tmp_path / 'run.nii.gz'
    _image(run_data.astype(np.float32)).to_filename(path)
    image = load_image(Path(path))
    assert type(image) is nib.Nifti1Image
    assert nib.is_proxy(image.dataobj)
    np.testing.assert_array_equal(image.get_fdata(), run_data.astype(np.float32))


def test_load_image_returns_nifti1_unchanged(run_data):
    image = _image(run_data)
    assert load_image(image) is image


def test_load_image_converts_nifti2_without_copy(run_data):
    two = nib.Nifti2Image(run_data, ANISOTROPIC)
    two.header.set_zooms((3.0, 2.06, 4.0, 2.5))
    two.header.set_xyzt_units('mm', 'sec')
    one = load_image(two)
    assert type(one) is nib.Nifti1Image
    assert one.dataobj is two.dataobj
    np.testing.assert_array_equal(one.affine, ANISOTROPIC)
    assert one.header.get_zooms()[3] == pytest.approx(2.5)
    assert one.header.get_xyzt_units() == ('mm', 'sec')


# --------------------------------------------------------------------------- checks
def test_check_4d_refuses_3d_with_advice(run_data):
    with pytest.raises(ImageDimensionError) as info:
        check_4d(_image(run_data[..., 0]), name='run_imgs[0]')
    message = str(info.value)
    assert 'run_imgs[0] must be a 4D image (x, y, z, time)' in message
    assert 'shape (5, 6, 7)' in message
    assert 'nibabel.funcs.concat_images' in message


def test_check_4d_accepts_a_single_volume(run_data):
    assert check_4d(_image(run_data[..., :1]), name='run').shape == (*SHAPE, 1)


def test_check_3d_squeezes_a_single_volume(tmp_path, run_data):
    path = tmp_path / 'map.nii.gz'
    _image(run_data[..., :1]).to_filename(path)
    image = check_3d(path, name='map')
    assert image.shape == SHAPE
    np.testing.assert_array_equal(image.get_fdata(), run_data[..., 0])


def test_check_3d_refuses_several_volumes(run_data):
    with pytest.raises(ImageDimensionError, match=r'map must be a 3D image .* \(5, 6, 7, 20\)'):
        check_3d(_image(run_data), name='map')


def test_check_same_grid_names_both_shapes():
    a, b = _image(np.zeros(SHAPE)), _image(np.zeros((5, 6, 8, 3)))
    with pytest.raises(ShapeMismatchError) as info:
        check_same_grid([a, b], ['mask_img', 'run 2'])
    message = str(info.value)
    assert 'mask_img and run 2 are not on the same voxel grid' in message
    assert 'mask_img has shape (5, 6, 7) and run 2 has shape (5, 6, 8)' in message
    assert 'affines are equal' in message
    assert 'Resample' in message


def test_check_same_grid_affine_tolerance():
    a = _image(np.zeros(SHAPE), ANISOTROPIC)
    close = _image(np.zeros(SHAPE), ANISOTROPIC + 1e-9)
    far = _image(np.zeros(SHAPE), ANISOTROPIC + np.diag([0.01, 0, 0, 0]))
    check_same_grid([a, close], ['a', 'close'])
    with pytest.raises(ShapeMismatchError, match='affines differ') as info:
        check_same_grid([a, close, far], ['a', 'close', 'far'])
    assert '[[3.0, 0.0, 0.0, -10.0], ' in str(info.value)
    assert '[[3.01, 0.0, 0.0, -10.0], ' in str(info.value)


# --------------------------------------------------------------------------- masks
def test_load_mask_reads_any_single_value():
    data = np.zeros(SHAPE)
    data[2, 3, :4] = 7.5
    data[0, 0, 0] = np.nan
    mask = load_mask(_image(data))
    assert mask.dtype == bool
    assert mask.sum() == 4
    assert mask[2, 3, :4].all()


def test_load_mask_refuses_empty_mask():
    with pytest.raises(InvalidParameterError, match='mask_img is empty'):
        load_mask(_image(np.zeros(SHAPE, dtype=np.uint8)))


def test_load_mask_refuses_three_values():
    data = _mask_data().astype(np.int16)
    data[2, 2, 2] = 2
    with pytest.raises(InvalidParameterError, match='non-zero values 1, 2 instead'):
        load_mask(_image(data))


# --------------------------------------------------------------------------- apply_mask
def test_apply_mask_planted_values_and_order():
    data = np.arange(np.prod(SHAPE) * 3, dtype=np.float64).reshape(*SHAPE, 3)
    mask = np.zeros(SHAPE, dtype=np.uint8)
    mask[4, 0, 1] = mask[0, 5, 6] = mask[1, 0, 0] = 1
    series = apply_mask(_image(data), _image(mask))
    # columns in C order of the mask: (0, 5, 6), (1, 0, 0), (4, 0, 1)
    np.testing.assert_array_equal(
        series[0], [data[0, 5, 6, 0], data[1, 0, 0, 0], data[4, 0, 1, 0]]
    )
    np.testing.assert_array_equal(series[:, 2], [data[4, 0, 1, t] for t in range(3)])
    assert series.dtype == np.float64
    assert series.flags.c_contiguous


@pytest.mark.parametrize(
    ('dtype', 'expected'),
    [
        (np.int16, np.float32),
        (np.uint8, np.float32),
        (np.float32, np.float32),
        (np.float64, np.float64),
    ],
)
def test_apply_mask_dtype(run_data, dtype, expected):
    series = apply_mask(_image(run_data.astype(dtype)), _image(_mask_data()))
    assert series.dtype == expected
    assert series.shape == (20, int(_mask_data().sum()))


def test_apply_mask_layouts_agree(run_data):
    mask = _image(_mask_data())
    from_c = apply_mask(_image(np.ascontiguousarray(run_data)), mask)
    from_f = apply_mask(_image(np.asfortranarray(run_data)), mask)
    np.testing.assert_array_equal(from_c, from_f)
    assert from_f.flags.c_contiguous


def test_apply_mask_zeroes_non_finite(run_data):
    run_data[1, 2, 1, 3] = np.nan
    run_data[1, 2, 2, 4] = -np.inf
    series = apply_mask(_image(run_data), _image(_mask_data()))
    assert np.isfinite(series).all()
    assert series[3, 1] == 0.0  # (1, 2, 1) is the 2nd mask voxel in C order


def test_apply_mask_3d_image_gives_one_row(run_data):
    series = apply_mask(_image(run_data[..., 0]), _image(_mask_data()))
    assert series.shape == (1, 46)


def test_apply_mask_refuses_other_grid(run_data):
    mask = _image(_mask_data(), np.diag([2.0, 2.0, 2.0, 1.0]))
    with pytest.raises(ShapeMismatchError, match='mask and img are not on the same voxel grid'):
        apply_mask(_image(run_data), mask)


def test_apply_mask_reads_uncompressed_nifti(tmp_path, run_data):
    path = tmp_path / 'run.nii'
    _image(run_data.astype(np.float32)).to_filename(path)
    series = apply_mask(path, _image(_mask_data()))
    assert type(series) is np.ndarray
    np.testing.assert_array_equal(series, run_data.astype(np.float32)[_mask_data() == 1].T)


def test_apply_mask_streams_a_gzipped_run_with_the_same_numbers(tmp_path, run_data):
    path = tmp_path / 'run.nii.gz'
    data = run_data.astype('>f4')  # big-endian on disk: the streamed copy keeps the bytes
    data[1, 2, 3, 4] = np.nan
    _image(data).to_filename(path)
    image = load_image(path)
    assert image.dataobj.streams
    series = apply_mask(image, _image(_mask_data()))
    expected = apply_mask(_image(np.asanyarray(nib.load(path).dataobj)), _image(_mask_data()))
    assert series.dtype == np.float32
    np.testing.assert_array_equal(series, expected)


def test_load_image_gzipped_reads_whole_and_slices_like_nibabel(tmp_path, run_data):
    path = tmp_path / 'run.nii.gz'
    _image(run_data.astype(np.int16)).to_filename(path)
    reference = nib.load(path)
    image = load_image(path)
    assert image.get_filename() == str(path)
    np.testing.assert_array_equal(image.get_fdata(), reference.get_fdata())
    np.testing.assert_array_equal(image.dataobj[1:3, :, 4, ::2], reference.dataobj[1:3, :, 4, ::2])


def test_load_image_gzipped_nifti1_is_the_image_nibabel_loads(tmp_path, run_data):
    path = tmp_path / 'run.nii.gz'
    image = _image(run_data.astype(np.int16), ANISOTROPIC)
    image.header.set_slope_inter(0.5, 3.0)
    image.header.extensions.append(nib.nifti1.Nifti1Extension('comment', b'hello'))
    image.to_filename(path)
    reference = nib.load(path)
    loaded = load_image(path)
    assert loaded.header.binaryblock == reference.header.binaryblock
    assert loaded.header.extensions == reference.header.extensions
    np.testing.assert_array_equal(loaded.affine, reference.affine)
    assert type(loaded.dataobj).__name__ == '_IsalArrayProxy'
    np.testing.assert_array_equal(loaded.get_fdata(), reference.get_fdata())  # scaled


def test_load_image_gzipped_nifti2_is_loaded_by_nibabel(tmp_path, run_data):
    path = tmp_path / 'run.nii.gz'
    nib.Nifti2Image(run_data.astype(np.float32), ANISOTROPIC).to_filename(path)
    loaded = load_image(path)
    assert type(loaded) is nib.Nifti1Image
    np.testing.assert_array_equal(loaded.affine, ANISOTROPIC)
    np.testing.assert_array_equal(loaded.get_fdata(), run_data.astype(np.float32))


def test_load_image_gzip_damaged_in_its_header_is_refused_by_name(tmp_path):
    path = tmp_path / 'map.nii.gz'
    path.write_bytes(b'\x1f\x8b\x08\x00' + bytes(20))
    with pytest.raises(InvalidParameterError, match=r"'.*map\.nii\.gz' cannot be read"):
        load_image(path)


def test_load_image_gzipped_truncated_file_is_named(tmp_path, run_data):
    path = tmp_path / 'run.nii.gz'
    _image(run_data.astype(np.float32)).to_filename(path)
    raw = nib.openers.Opener(path).read()
    short = tmp_path / 'short.nii.gz'
    with nib.openers.Opener(short, 'wb') as stream:
        stream.write(raw[:-100])
    with pytest.raises(InvalidParameterError, match=r"'.*short\.nii\.gz' is truncated"):
        load_image(short).get_fdata()
    with pytest.raises(InvalidParameterError, match='truncated'):
        apply_mask(short, _image(_mask_data()))


def _damaged_gzip(tmp_path, run_data):
    """A gzipped run cut in the middle of its compressed stream."""
    path = tmp_path / 'sub-01_task-x_bold.nii.gz'
    _image(run_data.astype(np.float32)).to_filename(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def test_load_image_names_a_gzip_file_cut_in_its_stream_when_read_whole(tmp_path, run_data):
    path = _damaged_gzip(tmp_path, run_data)
    image = load_image(path)  # the header is whole: the image loads
    with pytest.raises(InvalidParameterError) as caught:
        image.get_fdata()
    assert str(caught.value).startswith(f"Cannot read the data of '{path}': Compressed file")
    assert 'write or copy it again' in str(caught.value)


def test_apply_mask_names_a_gzip_file_cut_in_its_stream_when_streaming(tmp_path, run_data):
    path = _damaged_gzip(tmp_path, run_data)
    assert load_image(path).dataobj.streams
    with pytest.raises(InvalidParameterError, match=r"Cannot read the data of '.*bold\.nii\.gz'"):
        apply_mask(path, _image(_mask_data()))


def test_load_image_names_a_short_uncompressed_file_when_read(tmp_path, run_data):
    path = tmp_path / 'run.nii'
    _image(run_data.astype(np.float32)).to_filename(path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(InvalidParameterError, match=r"Cannot read the data of '.*run\.nii'"):
        load_image(path).get_fdata()


# --------------------------------------------------------------------------- unmask
def test_unmask_round_trip(run_data):
    mask = _mask_data().astype(bool)
    image = unmask(apply_mask(_image(run_data), _image(_mask_data())), _image(_mask_data()))
    data = image.get_fdata()
    assert data.shape == (*SHAPE, 20)
    np.testing.assert_array_equal(data[mask], run_data[mask])
    assert not data[~mask].any()
    assert image.get_data_dtype() == np.float64


def test_unmask_1d_gives_3d_with_dtype():
    values = np.arange(1, 47)
    image = unmask(values, _image(_mask_data()), dtype=np.float32)
    assert image.shape == SHAPE
    assert image.get_data_dtype() == np.float32
    assert image.dataobj[0, 0, 0] == 1.0
    assert image.dataobj[3, 4, 5] == 46.0


def test_unmask_refuses_wrong_length():
    with pytest.raises(ShapeMismatchError, match='45 values per volume but the mask has 46'):
        unmask(np.zeros((2, 45)), _image(_mask_data()))


def test_unmask_refuses_3d_array():
    with pytest.raises(ImageDimensionError, match=r'1D \(one volume\) or 2D'):
        unmask(np.zeros((2, 3, 46)), _image(_mask_data()))


# --------------------------------------------------------------------------- smoothing
def test_smooth_array_keeps_a_constant_image_constant():
    data = np.full((*SHAPE, 2), 3.0)
    np.testing.assert_allclose(smooth_array(data, ANISOTROPIC, 6.0), 3.0, rtol=1e-12)


def test_smooth_array_planted_sigma():
    data = np.zeros((1, 41, 1))
    data[0, 20, 0] = 1.0
    fwhm = 2 * np.sqrt(2 * np.log(2)) * 2.0 * 1.5  # sigma of 2 voxels at 1.5 mm
    smoothed = smooth_array(data, np.diag([1.0, 1.5, 1.0, 1.0]), fwhm)[0, :, 0]
    positions = np.arange(41) - 20
    assert smoothed.sum() == pytest.approx(1.0)
    assert np.sqrt(np.sum(smoothed * positions**2)) == pytest.approx(2.0, rel=1e-3)


def test_smooth_array_none_casts_and_cleans():
    data = np.array([[[1, 2], [3, 4]]], dtype=np.int16)
    out = smooth_array(data, np.eye(4), None)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, data)
    nan = smooth_array(np.array([[[np.nan, 1.0]]]), np.eye(4), None)
    np.testing.assert_array_equal(nan, [[[0.0, 1.0]]])


def test_smooth_array_fast_weights():
    data = np.zeros((3, 3, 3))
    data[1, 1, 1] = 2.2
    out = smooth_array(data, np.eye(4), 'fast')
    assert out[1, 1, 1] == pytest.approx(1.0)
    assert out[0, 1, 1] == pytest.approx(0.2)
    assert out[0, 0, 1] == 0.0


@pytest.mark.parametrize('fwhm', [-1.0, [1.0, 2.0], 'slow', np.nan])
def test_smooth_array_refuses_bad_fwhm(fwhm):
    with pytest.raises(InvalidParameterError, match="'fwhm' parameter of smooth_array"):
        smooth_array(np.zeros(SHAPE), np.eye(4), fwhm)


# --------------------------------------------------------------------------- oracle
@pytest.mark.oracle
@pytest.mark.parametrize('dtype', [np.float64, np.float32, np.int16])
@pytest.mark.parametrize('fwhm', [4.0, [4.0, None, 2.5], 'fast'])
def test_smooth_array_matches_nilearn(run_data, dtype, fwhm):
    data = (run_data * (10 if dtype is np.int16 else 1)).astype(dtype)
    data[2, 2, 2, 0] = 0 if dtype is np.int16 else np.nan
    expected = smooth_img(_image(data, ANISOTROPIC), fwhm).get_fdata(dtype=np.float64)
    ours = smooth_array(data, ANISOTROPIC, fwhm)
    assert ours.dtype == (np.float64 if dtype is np.float64 else np.float32)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


@pytest.mark.oracle
@pytest.mark.parametrize('dtype', [np.float64, np.float32, np.int16])
@pytest.mark.parametrize('smoothing_fwhm', [None, 4.0])
def test_apply_mask_matches_nilearn_masker(tmp_path, run_data, dtype, smoothing_fwhm):
    path = tmp_path / 'run.nii.gz'
    _image((run_data * 10).astype(dtype), ANISOTROPIC).to_filename(path)
    mask = _image(_mask_data(), ANISOTROPIC)
    masker = NiftiMasker(mask_img=mask, standardize=None, smoothing_fwhm=smoothing_fwhm)
    expected = masker.fit().transform(path)
    ours = apply_mask(path, mask, smoothing_fwhm=smoothing_fwhm)
    assert ours.dtype == expected.dtype
    np.testing.assert_array_equal(ours, expected)  # same operations, same bits


@pytest.mark.oracle
def test_unmask_matches_nilearn(run_data):
    mask = _image(_mask_data(), ANISOTROPIC)
    values = run_data[..., :3].reshape(-1, 3)[:46].T
    for array in (values, values[0]):
        expected = nilearn_unmask(array, mask)
        ours = unmask(array, mask)
        np.testing.assert_array_equal(ours.get_fdata(), expected.get_fdata())
        np.testing.assert_array_equal(ours.affine, expected.affine)


def test_iter_volumes_yields_each_volume_in_order(rng, tmp_path):
    data = rng.standard_normal((*SHAPE, 4)).astype(np.float32)
    nib.save(_image(data), tmp_path / 'run.nii.gz')
    nib.save(_image(data), tmp_path / 'run.nii')
    for source in (
        _image(data),
        load_image(tmp_path / 'run.nii.gz'),
        load_image(tmp_path / 'run.nii'),
    ):
        volumes = [volume.copy() for volume in iter_volumes(source)]
        assert len(volumes) == 4
        for index, volume in enumerate(volumes):
            np.testing.assert_array_equal(volume, data[..., index])


def test_iter_volumes_of_a_3d_image_is_that_image(rng):
    data = rng.standard_normal(SHAPE)
    (volume,) = iter_volumes(_image(data))
    np.testing.assert_array_equal(volume, data)
