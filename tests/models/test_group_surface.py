"""Reading second-level surface maps: the store, the default mask, the surface checks."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from bidsglm.errors import ImageDimensionError, InvalidParameterError, ShapeMismatchError
from bidsglm.models._group_surface import (
    CiftiHeaders,
    check_not_mixed,
    check_same_surface,
    read_given_surface_mask,
    read_surface_maps,
    split_surface_maps,
    surface_source,
)
from bidsglm.models.surface import SurfaceData, SurfaceLayout, read_surface

LAYOUT = SurfaceLayout('gifti', (('left', 3), ('right', 2)))


def one_map(values) -> SurfaceData:
    return SurfaceData(np.asarray(values, dtype=np.float32)[None], LAYOUT)


def test_maps_are_stored_in_float64_with_every_vertex():
    reading = read_surface_maps([one_map([1, 2, 3, 4, 5]), one_map([6, 7, 8, 9, 10])], ['a', 'b'])
    assert reading.store.dtype == np.float64
    np.testing.assert_array_equal(reading.store.to_array(), [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]])
    assert reading.layout is LAYOUT
    assert reading.mask().n_elements == 5


def test_the_default_mask_leaves_out_vertices_zero_or_not_finite_in_any_map():
    maps = [one_map([1, 0, 3, 4, 5]), one_map([1, 2, np.inf, 4, 5]), one_map([1, 2, 3, np.nan, 5])]
    reading = read_surface_maps(maps, ['a', 'b', 'c'])
    assert reading.valid.tolist() == [True, False, False, False, True]


def test_a_map_off_the_expected_surface_is_named():
    other = SurfaceData(np.ones((1, 5)), SurfaceLayout('gifti', (('left', 5),)))
    with pytest.raises(ShapeMismatchError, match=r'map b \(GIFTI \(left 5\)\) is not on the '
                       r'surface of map a \(GIFTI \(left 3, right 2\)\)'):  # fmt: skip
        read_surface_maps([one_map([1, 2, 3, 4, 5]), other], ['map a', 'map b'])
    with pytest.raises(ShapeMismatchError, match=r'map a .* surface of mask_img'):
        read_surface_maps([other], ['map a'], LAYOUT, 'mask_img')


def cifti_layout(surface_vertices: int) -> SurfaceLayout:
    """The layout of a CIFTI-2 map of 3 left-cortex vertices on a mesh of ``surface_vertices``."""
    inside = np.arange(surface_vertices) < 3
    models = nib.cifti2.BrainModelAxis.from_mask(inside, 'CortexLeft')
    image = nib.Cifti2Image(
        np.ones((1, 3), np.float32), header=(nib.cifti2.ScalarAxis(['a']), models)
    )
    return read_surface(image).layout


def test_cifti_brain_models_of_the_same_structures_are_told_apart():
    check_same_surface(cifti_layout(4), 'map 2', cifti_layout(4), 'map 1')  # the same: fine
    with pytest.raises(ShapeMismatchError, match='same structures but other vertices'):
        check_same_surface(cifti_layout(4), 'map 2', cifti_layout(5), 'map 1')


def test_an_input_of_several_maps_is_refused_in_a_list():
    several = SurfaceData(np.ones((2, 5)), LAYOUT)
    with pytest.raises(ImageDimensionError, match='map b holds 2 maps'):
        read_surface_maps([one_map([1, 2, 3, 4, 5]), several], ['map a', 'map b'])


def test_an_input_of_several_maps_splits_into_single_maps():
    maps = split_surface_maps(SurfaceData(np.arange(10.0).reshape(2, 5), LAYOUT, 'x.dscalar.nii'))
    assert [m.data.tolist() for m in maps] == [[[0, 1, 2, 3, 4]], [[5, 6, 7, 8, 9]]]
    assert {m.source for m in maps} == {'x.dscalar.nii'}


def test_mixing_is_refused_only_when_some_inputs_are_volumes():
    check_not_mixed([{'left': 'a.shape.gii'}, 'b.dscalar.nii'])  # surface only: fine
    check_not_mixed(['a.nii.gz', 'b.nii.gz'])  # volumes only: fine
    with pytest.raises(
        ImageDimensionError, match=r"input map 1: 'a.nii.gz'; input map 3: 'c.nii'"
    ):
        check_not_mixed(['a.nii.gz', 'b.dscalar.nii', 'c.nii'])


def test_the_source_of_a_map_is_its_file():
    assert surface_source('sub-01.dscalar.nii') == 'sub-01.dscalar.nii'
    assert surface_source({'left': 'l.shape.gii', 'right': 'r.shape.gii'}) == 'l.shape.gii'
    assert surface_source(SurfaceData(np.ones((1, 5)), LAYOUT, 'y.dscalar.nii')) == 'y.dscalar.nii'
    assert surface_source(one_map([1, 2, 3, 4, 5])) is None


def test_a_given_mask_keeps_its_non_zero_vertices():
    mask = read_given_surface_mask(one_map([1, 0, 2, 0, -1]), 'surface maps')
    assert mask.inside.tolist() == [True, False, True, False, True]
    with pytest.raises(InvalidParameterError, match='mask_img is a Nifti1Image, but the inputs'):
        read_given_surface_mask(nib.Nifti1Image(np.ones((2, 2, 2)), np.eye(4)), 'surface maps')


def test_a_masker_gives_its_fitted_mask():
    class Masker:
        mask_img = None
        mask_img_ = one_map([0, 1, 1, 0, 1])

        def transform(self, imgs):
            return imgs

    assert read_given_surface_mask(Masker(), 'surface maps').n_elements == 3


def write_cifti(path, values, models, name='effect') -> str:
    header = (nib.cifti2.ScalarAxis([name]), models)
    nib.Cifti2Image(np.asarray(values, np.float32)[None], header=header).to_filename(path)
    return str(path)


def test_cifti_files_sharing_a_header_are_parsed_once_and_read_alike(rng, tmp_path):
    models = nib.cifti2.BrainModelAxis.from_mask(np.ones(4, bool), 'CortexLeft')
    values = rng.standard_normal((3, 4))
    paths = [
        write_cifti(tmp_path / f'sub-{i}.dscalar.nii', row, models, name=f'subject {i}')
        for i, row in enumerate(values)
    ]
    headers = CiftiHeaders()
    surfaces = [headers.read(path, f'map {i}') for i, path in enumerate(paths)]
    assert headers.n_parsed == 1
    for surface, path in zip(surfaces, paths, strict=True):
        expected = read_surface(path)
        np.testing.assert_array_equal(surface.data, expected.data)
        assert surface.layout.matches(expected.layout)
        assert surface.source == path


def test_a_cifti_file_of_other_brain_models_is_parsed_and_refused(rng, tmp_path):
    left = nib.cifti2.BrainModelAxis.from_mask(np.ones(4, bool), 'CortexLeft')
    right = nib.cifti2.BrainModelAxis.from_mask(np.ones(4, bool), 'CortexRight')
    paths = [
        write_cifti(tmp_path / 'a.dscalar.nii', rng.standard_normal(4), left),
        write_cifti(tmp_path / 'b.dscalar.nii', rng.standard_normal(4), left),
        write_cifti(tmp_path / 'c.dscalar.nii', rng.standard_normal(4), right),
    ]
    with pytest.raises(ShapeMismatchError, match=r'map 3 \(CIFTI-2 \(4 grayordinates\)\)'):
        read_surface_maps(paths, ['map 1', 'map 2', 'map 3'])


def test_an_unfitted_masker_gives_its_given_mask():
    class Masker:
        mask_img = one_map([1, 1, 0, 0, 0])

        def transform(self, imgs):
            return imgs

    assert read_given_surface_mask(Masker(), 'surface maps').inside.tolist() == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_a_cifti_named_file_that_is_not_nifti2_is_left_to_the_reader(tmp_path):
    path = tmp_path / 'sub-01.dscalar.nii'
    nib.Nifti1Image(np.zeros((2, 2, 2), np.float32), np.eye(4)).to_filename(path)
    with pytest.raises(ImageDimensionError, match='is not a CIFTI-2 image'):
        CiftiHeaders().read(str(path), 'map 1')
