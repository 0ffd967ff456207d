"""Surface inputs: reading GIFTI, CIFTI-2 and SurfaceImage-like data, masks, errors."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from bidsglm import FirstLevelModel
from bidsglm.errors import (
    ImageDimensionError,
    InvalidParameterError,
    ParameterTypeError,
    ShapeMismatchError,
)
from bidsglm.models.surface import (
    SurfaceData,
    SurfaceLayout,
    SurfaceMask,
    SurfaceMasker,
    compute_surface_mask,
    is_surface_input,
    place_kept,
    read_surface,
    read_surface_mask,
    surface_shape,
)

N_SCANS = 30  # as SurfaceFactory.n_scans
T_R = 2.0  # as SurfaceFactory.t_r


def test_gifti_parts_become_one_matrix_in_part_order(rng, surfaces):
    left, right = rng.standard_normal((5, N_SCANS)), rng.standard_normal((4, N_SCANS))
    run = read_surface({'left': surfaces.hemisphere(left), 'right': surfaces.hemisphere(right)})
    assert run.layout.parts == (('left', 5), ('right', 4))
    np.testing.assert_allclose(run.data, np.concatenate([left, right]).T, rtol=1e-6)
    assert run.n_samples == N_SCANS


def test_gifti_files_are_read_from_paths(rng, tmp_path, surfaces):
    paths = {}
    for part in ('left', 'right'):
        paths[part] = tmp_path / f'hemi-{part}.func.gii'
        surfaces.hemisphere(rng.standard_normal((3, 4))).to_filename(paths[part])
    run = read_surface(paths)
    assert run.data.shape == (4, 6)
    assert run.source == str(paths['left'])


@pytest.mark.parametrize(
    ('encoding', 'dtype'),
    [('B64GZ', '<f4'), ('B64BIN', '<f4'), ('B64GZ', '<i4'), ('ASCII', '<f4'), ('B64BIN', 'u1')],
)
def test_gifti_files_are_read_as_nibabel_reads_them(rng, tmp_path, encoding, dtype):
    values = (100 * np.abs(rng.standard_normal((3, 4)))).astype(dtype)
    paths = {}
    for part in ('left', 'right'):
        arrays = [nib.gifti.GiftiDataArray(row, encoding=encoding) for row in values]
        paths[part] = tmp_path / f'{part}.func.gii'
        nib.save(nib.gifti.GiftiImage(darrays=arrays), paths[part])
    run = read_surface(paths)  # ASCII arrays: read by nibabel
    by_nibabel = read_surface({part: nib.load(path) for part, path in paths.items()})
    np.testing.assert_array_equal(run.data, by_nibabel.data)
    assert run.data.dtype == by_nibabel.data.dtype
    np.testing.assert_array_equal(run.data[:, :4], values)


def test_a_damaged_gifti_file_gets_nibabels_error(rng, tmp_path, surfaces):
    path = tmp_path / 'left.func.gii'
    surfaces.hemisphere(rng.standard_normal((3, 4))).to_filename(path)
    text = path.read_bytes()
    start = text.index(b'<Data>') + len(b'<Data>')
    path.write_bytes(text[:start] + b'!!' + text[start + 2 :])
    with pytest.raises(ValueError, match='base64') as raised:
        nib.load(path)
    with pytest.raises(type(raised.value), match='base64'):  # the same error
        read_surface({'left': path, 'right': path})


def test_a_single_gifti_array_of_vertices_by_time_is_read(rng):
    values = rng.standard_normal((6, 4)).astype(np.float32)
    image = nib.gifti.GiftiImage(darrays=[nib.gifti.GiftiDataArray(values)])
    np.testing.assert_array_equal(read_surface({'left': image}).data, values.T)


def test_cifti_series_keeps_its_structures(rng, surfaces):
    run = read_surface(surfaces.cifti(rng.standard_normal((N_SCANS, 9)).astype(np.float32)))
    assert run.layout.kind == 'cifti'
    assert run.layout.parts == (
        ('CIFTI_STRUCTURE_CORTEX_LEFT', 5),
        ('CIFTI_STRUCTURE_CORTEX_RIGHT', 4),
    )
    image = run.layout.make(np.arange(9.0))
    assert isinstance(image, nib.Cifti2Image)
    assert isinstance(image.header.get_axis(0), nib.cifti2.ScalarAxis)
    assert image.header.get_axis(1) == surfaces.brain_models()
    series = run.layout.make(np.zeros((3, 9)))
    assert series.header.get_axis(0).step == T_R


def test_a_cifti_file_is_read_as_nibabel_reads_it(rng, tmp_path, surfaces):
    path = tmp_path / 'run.dtseries.nii'
    nib.save(surfaces.cifti_run(rng), path)
    run, by_nibabel = read_surface(path), read_surface(nib.load(path))
    np.testing.assert_array_equal(run.data, by_nibabel.data)
    assert run.data.flags.f_contiguous  # as nibabel gives NIfTI data
    assert run.layout.matches(by_nibabel.layout)
    assert run.layout.parts == by_nibabel.layout.parts
    assert float(run.layout.series.series_step) == T_R
    assert run.source == str(path)


def test_cifti_files_of_one_surface_share_their_parsed_grayordinates(rng, tmp_path, surfaces):
    first, second = tmp_path / 'a.dtseries.nii', tmp_path / 'b.dscalar.nii'
    nib.save(surfaces.cifti_run(rng), first)
    scalars = read_surface(first).layout.make(np.arange(9.0), names=['effect'])
    nib.save(scalars, second)
    run, scalar = read_surface(first), read_surface(second)
    assert scalar.layout.brain_models is run.layout.brain_models  # parsed once
    assert scalar.layout.series is None
    np.testing.assert_array_equal(scalar.data, [np.arange(9.0)])


def test_a_cifti_file_with_brain_models_first_is_refused(tmp_path, surfaces):
    path = tmp_path / 'turned.dscalar.nii'
    header = (surfaces.brain_models(), nib.cifti2.ScalarAxis(['a', 'b']))
    nib.save(nib.Cifti2Image(np.zeros((9, 2), np.float32), header=header), path)
    with pytest.raises(ImageDimensionError, match=r'axes \(BRAIN_MODELS, SCALARS\)'):
        read_surface(path)
    with pytest.raises(ImageDimensionError, match=r'axes \(BRAIN_MODELS, SCALARS\)'):
        surface_shape(path)


def test_surface_shape_of_a_cifti_file_is_its_samples_and_grayordinates(rng, tmp_path, surfaces):
    path = tmp_path / 'run.dtseries.nii'
    nib.save(surfaces.cifti_run(rng, n_vertices=9), path)
    assert surface_shape(path) == (N_SCANS, 9)


def test_is_surface_input_tells_the_forms_apart(surfaces):
    assert is_surface_input({'left': 'l.func.gii'})
    assert is_surface_input('bold.dtseries.nii')
    assert is_surface_input(surfaces.cifti(np.zeros((2, 9), np.float32)))
    assert not is_surface_input('bold.nii.gz')
    assert not is_surface_input(nib.Nifti1Image(np.zeros((2, 2, 2, 2)), np.eye(4)))


def test_hemispheres_of_different_lengths_are_refused(rng, surfaces):
    parts = {
        'left': surfaces.hemisphere(rng.standard_normal((5, 10))),
        'right': surfaces.hemisphere(rng.standard_normal((4, 12))),
    }
    with pytest.raises(ShapeMismatchError, match=r'different numbers of time points \(left 10'):
        read_surface(parts, 'run 1')


def test_a_gifti_without_data_arrays_is_refused():
    with pytest.raises(ImageDimensionError, match='without data arrays'):
        read_surface({'left': nib.gifti.GiftiImage()})


def test_a_single_gifti_file_asks_for_both_hemispheres(rng, surfaces):
    with pytest.raises(ImageDimensionError, match='hemispheres together, as a dict'):
        read_surface(surfaces.hemisphere(rng.standard_normal((3, 4))), 'run 1')


def test_a_cifti_with_the_wrong_axes_is_refused():
    parcels = nib.cifti2.ScalarAxis(['a', 'b'])
    image = nib.Cifti2Image(np.zeros((2, 2)), header=(parcels, parcels))
    with pytest.raises(ImageDimensionError, match=r'axes \(SCALARS, SCALARS\)'):
        read_surface(image)


def test_surface_shape_reads_a_cifti_header_only(rng, tmp_path, surfaces):
    path = tmp_path / 'run.dtseries.nii'
    nib.save(surfaces.cifti_run(rng), path)
    path.write_bytes(path.read_bytes()[: -4 * 9])  # the last time point's data cut off
    assert surface_shape(path) == (N_SCANS, 9)
    with pytest.raises(OSError, match='could the file be damaged'):
        read_surface(path)  # reading the data finds them short


def test_surface_shape_refuses_what_read_surface_refuses(rng, tmp_path, surfaces):
    run = surfaces.gifti_run(rng)
    assert surface_shape(run) == (N_SCANS, 9)
    short = {'left': run['left'], 'right': surfaces.hemisphere(np.zeros((4, 29)))}
    with pytest.raises(ShapeMismatchError, match=r'\(left 30, right 29\)'):
        surface_shape(short, 'run 1')
    path = tmp_path / 'wrong.dscalar.nii'
    parcels = nib.cifti2.ScalarAxis(['a', 'b'])
    nib.save(nib.Cifti2Image(np.zeros((2, 2), np.float32), header=(parcels, parcels)), path)
    with pytest.raises(ImageDimensionError, match=r'axes \(SCALARS, SCALARS\)'):
        surface_shape(path)


def test_dict_keys_must_be_part_names(rng, surfaces):
    with pytest.raises(ParameterTypeError, match='string keys'):
        read_surface({0: surfaces.hemisphere(rng.standard_normal((3, 4)))})


def test_the_default_mask_leaves_out_zero_and_non_finite_vertices():
    layout = SurfaceLayout('gifti', (('left', 4),))
    runs = [
        SurfaceData(np.array([[1.0, 0.0, 2.0, 3.0], [2.0, 0.0, 2.0, 3.0]]), layout),
        SurfaceData(np.array([[1.0, 0.0, 2.0, np.inf], [1.0, 0.0, 2.0, 3.0]]), layout),
    ]
    assert compute_surface_mask(runs).inside.tolist() == [True, False, True, False]


def test_a_mask_on_another_surface_is_refused(rng, surfaces):
    layout = SurfaceLayout('gifti', (('left', 5), ('right', 4)))
    other = {
        'left': surfaces.hemisphere(np.ones((5, 1))),
        'right': surfaces.hemisphere(np.ones((3, 1))),
    }
    with pytest.raises(ShapeMismatchError, match=r'not on the surface of the runs'):
        read_surface_mask(other, layout)


def test_masker_transform_and_inverse_round_trip(rng):
    layout = SurfaceLayout('gifti', (('left', 3), ('right', 2)))
    masker = SurfaceMasker(SurfaceMask(np.array([True, False, True, True, False]), layout))
    data = SurfaceData(rng.standard_normal((4, 5)), layout)
    kept = masker.transform(data)
    assert kept.shape == (4, 3)
    back = masker.inverse_transform(kept[0])
    assert back['left'].darrays[0].data.tolist() == pytest.approx(
        [data.data[0, 0], 0.0, data.data[0, 2]], rel=1e-6
    )
    assert masker.n_elements_ == 3


def test_a_first_level_on_cifti_gives_cifti_maps_with_the_runs_structures(rng, surfaces):
    model = FirstLevelModel(t_r=T_R).fit(
        [surfaces.cifti_run(rng), surfaces.cifti_run(rng)], [surfaces.events(), surfaces.events()]
    )
    assert model.n_elements_ == 8
    maps = model.compute_contrast('task', output_type='all')
    z_map = maps['z_score']
    assert isinstance(z_map, nib.Cifti2Image)
    assert z_map.header.get_axis(1) == surfaces.brain_models()
    values = np.asarray(z_map.dataobj)[0]
    assert values[7] == 0.0
    assert (values[:3] > 3).all()
    assert np.abs(values[3:7]).max() < 4
    residuals = model.residuals_[0]
    assert residuals.shape == (N_SCANS, 9)
    assert isinstance(model.mean_img_, nib.Cifti2Image)


def test_an_f_test_effect_on_cifti_names_its_rows(rng, surfaces):
    model = FirstLevelModel(t_r=T_R).fit(surfaces.cifti_run(rng), surfaces.events())
    effect = model.compute_contrast(np.eye(3)[:2], stat_type='F', output_type='effect_size')
    assert list(effect.header.get_axis(0).name) == ['row 1', 'row 2']


@pytest.mark.parametrize(
    ('parameter', 'value'),
    [
        ('smoothing_fwhm', {'smoothing_fwhm': 4.0}),
        ('target_affine', {'target_affine': np.eye(3)}),
        ('target_affine', {'target_affine': np.eye(4), 'target_shape': (2, 2, 2)}),
    ],
)
def test_volume_parameters_are_refused_on_surfaces(rng, parameter, value, surfaces):
    with pytest.raises(InvalidParameterError, match=rf'{parameter} applies to volumes'):
        FirstLevelModel(t_r=T_R, **value).fit(surfaces.cifti_run(rng), surfaces.events())


def test_surface_and_volume_runs_cannot_be_mixed(rng, surfaces):
    volume = nib.Nifti1Image(rng.standard_normal((2, 2, 2, N_SCANS)), np.eye(4))
    with pytest.raises(ImageDimensionError, match=r'mix surface and volume data \(run 2'):
        FirstLevelModel(t_r=T_R).fit(
            [surfaces.cifti_run(rng), volume], [surfaces.events(), surfaces.events()]
        )


def test_runs_on_two_surfaces_are_refused(rng, surfaces):
    other = surfaces.cifti(np.ones((N_SCANS, 10), np.float32), surfaces.brain_models(6, 4))
    with pytest.raises(ShapeMismatchError, match=r'run 2 \(CIFTI-2 \(10 grayordinates\)\)'):
        FirstLevelModel(t_r=T_R).fit(
            [surfaces.cifti_run(rng), other], [surfaces.events(), surfaces.events()]
        )


def test_a_volume_mask_is_refused_for_surface_runs(rng, surfaces):
    mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))
    with pytest.raises(InvalidParameterError, match='mask of the same form'):
        FirstLevelModel(t_r=T_R, mask_img=mask).fit(surfaces.cifti_run(rng), surfaces.events())


def test_a_surface_mask_and_mask_false_choose_the_vertices(rng, surfaces):
    inside = np.zeros((1, 9), np.float32)
    inside[0, :4] = 1
    mask = nib.Cifti2Image(
        inside, header=(nib.cifti2.ScalarAxis(['mask']), surfaces.brain_models())
    )
    model = FirstLevelModel(t_r=T_R, mask_img=mask).fit(surfaces.cifti_run(rng), surfaces.events())
    assert model.n_elements_ == 4
    everything = FirstLevelModel(t_r=T_R, mask_img=False).fit(
        surfaces.cifti_run(rng), surfaces.events()
    )
    assert everything.n_elements_ == 9


@pytest.mark.parametrize('kept', ['some', 'all'])
@pytest.mark.parametrize('shape', [(), (3,), (2, 3)])
def test_place_kept_puts_each_value_where_a_boolean_index_puts_it(rng, kept, shape):
    inside = rng.random(7) < 0.6 if kept == 'some' else np.ones(7, bool)
    values = rng.standard_normal((*shape, int(inside.sum()))).astype(np.float32)
    expected = np.zeros((*shape, 7))
    expected[..., inside] = values
    full = np.zeros((*shape, 7))
    place_kept(full, values, inside)
    assert full.tobytes() == expected.tobytes()
    assert np.count_nonzero(full) == values.size
