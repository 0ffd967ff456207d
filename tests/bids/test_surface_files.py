from __future__ import annotations

import re

import nibabel as nib
import numpy as np
import pytest

from bidsglm.bids.surface_files import (
    SurfaceMap,
    check_hemispheres,
    density_text,
    surface_file_names,
    surface_files,
)
from bidsglm.errors import InvalidParameterError
from bidsglm.models.surface import SurfaceLayout, read_surface

GIFTI = SurfaceLayout('gifti', (('left', 3), ('right', 2)))


def cifti_layout(surfaces) -> SurfaceLayout:
    return read_surface(surfaces.cifti(np.zeros((2, 9), np.float32))).layout


def test_gifti_maps_are_a_file_per_hemisphere_and_cifti_one_file(surfaces):
    assert surface_file_names(GIFTI, series=True) == [
        ({'hemi': 'L'}, '.func.gii'),
        ({'hemi': 'R'}, '.func.gii'),
    ]
    cifti = cifti_layout(surfaces)
    assert surface_file_names(cifti, series=False) == [({}, '.dscalar.nii')]
    assert surface_file_names(cifti, series=True) == [({}, '.dtseries.nii')]


def test_a_gifti_series_splits_by_hemisphere_with_its_time_step(tmp_path):
    values = np.arange(15, dtype=np.float32).reshape(3, 5)
    names = ('scan 1', 'scan 2', 'scan 3')
    files = surface_files(GIFTI, SurfaceMap(values, 'errorts', names, 1.5, series=True))
    for file, part in zip(files, ('left', 'right'), strict=True):
        file.to_filename(tmp_path / f'{part}.func.gii')
    left, right = (nib.load(tmp_path / f'{part}.func.gii') for part in ('left', 'right'))
    assert left.meta['AnatomicalStructurePrimary'] == 'CortexLeft'
    assert [array.data.tolist() for array in right.darrays] == [[3, 4], [8, 9], [13, 14]]
    assert right.darrays[2].meta['Name'] == 'scan 3'
    assert right.darrays[0].meta['TimeStep'] == '1500'
    assert right.darrays[0].intent == nib.nifti1.intent_codes['NIFTI_INTENT_TIME_SERIES']
    assert right.darrays[0].encoding == nib.gifti.util.gifti_encoding_codes['B64BIN']


def test_gifti_maps_are_float32_and_a_series_without_tr_has_no_time_step(tmp_path):
    values = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    left, _right = surface_files(GIFTI, SurfaceMap(values, 't', ('t',)))
    left.to_filename(tmp_path / 'left.func.gii')  # GIFTI's strict data types
    assert nib.load(tmp_path / 'left.func.gii').darrays[0].data.tolist() == pytest.approx(
        [0.1, 0.2, 0.3], rel=1e-7
    )
    assert left.values.dtype == np.float32
    assert left.image().darrays[0].intent == nib.nifti1.intent_codes['NIFTI_INTENT_TTEST']
    series = SurfaceMap(values.astype(np.float32), 'errorts', ('scan 1',), None, series=True)
    assert 'TimeStep' not in surface_files(GIFTI, series)[0].image().darrays[0].meta


@pytest.mark.parametrize('series', [False, True])
def test_a_gifti_file_is_the_xml_nibabel_writes_with_the_same_values(tmp_path, series):
    values = np.array([[0.5, -1.25, 3.0, 0.0, 7.0], [1.0, 2.0, 3.0, 4.0, 5.0]], np.float32)
    surface_map = SurfaceMap(values, 'errorts' if series else 'effect', ('a & b', '<c>'), 2.0,
                             series=series)  # fmt: skip
    left, _right = surface_files(GIFTI, surface_map)
    left.to_filename(tmp_path / 'ours.func.gii')
    left.image().to_filename(tmp_path / 'theirs.func.gii')
    ours, theirs = ((tmp_path / f'{who}.func.gii').read_bytes() for who in ('ours', 'theirs'))
    data = re.compile(rb'<Data>[^<]*</Data>')
    assert data.sub(b'', ours) == data.sub(b'', theirs)
    read = nib.load(tmp_path / 'ours.func.gii')
    np.testing.assert_array_equal([array.data for array in read.darrays], values[:, :3])
    assert [array.meta['Name'] for array in read.darrays] == ['a & b', '<c>']


def test_a_cifti_series_without_tr_steps_by_one(surfaces, tmp_path):
    series = SurfaceMap(np.zeros((4, 9), np.float32), 'errorts', ('a',) * 4, None, series=True)
    (cifti,) = surface_files(cifti_layout(surfaces), series)
    cifti.to_filename(tmp_path / 'errorts.dtseries.nii')
    image = nib.load(tmp_path / 'errorts.dtseries.nii')
    assert image.header.get_axis(0).step == 1.0
    assert image.header.get_axis(1) == surfaces.brain_models()
    assert image.nifti_header.get_intent()[0] == 'ConnDenseSeries'


@pytest.mark.parametrize('dtype', [np.float64, np.float32, '>f4'])
def test_a_cifti_file_is_the_file_nibabel_writes(surfaces, tmp_path, dtype):
    values = np.arange(18.0).reshape(2, 9).astype(dtype)
    layout = cifti_layout(surfaces)
    (cifti,) = surface_files(layout, SurfaceMap(values, 'effect', ('row 1', 'row 2')))
    matrix = nib.cifti2.Cifti2Matrix()
    matrix.append(nib.cifti2.ScalarAxis(['row 1', 'row 2']).to_mapping(0))
    matrix.append(layout.brain_models)
    assert cifti.xml == nib.cifti2.Cifti2Header(matrix).to_xml()
    cifti.to_filename(tmp_path / 'ours.dscalar.nii')
    theirs = nib.Cifti2Image(values, header=nib.cifti2.Cifti2Header(matrix))
    theirs.nifti_header.set_intent('ConnDenseScalar')
    theirs.to_filename(tmp_path / 'theirs.dscalar.nii')
    ours = (tmp_path / 'ours.dscalar.nii').read_bytes()
    assert ours == (tmp_path / 'theirs.dscalar.nii').read_bytes()


def test_cifti_structures_need_no_hemisphere_names(surfaces):
    check_hemispheres(cifti_layout(surfaces))
    with pytest.raises(InvalidParameterError, match=r"\['lh'\] cannot be saved.*'left'"):
        check_hemispheres(SurfaceLayout('surface_image', (('lh', 3), ('right', 2))))


def test_density_is_described_from_the_vertex_counts(surfaces):
    assert density_text(cifti_layout(surfaces)) == '9 grayordinates, as in the input files'
    assert density_text(GIFTI) == 'vertices (left 3, right 2), as in the input files'


def test_nilearn_reads_the_gifti_files_written(tmp_path):
    from nilearn.surface import load_surf_data

    values = np.array([[0.5, -1.25, 3.0, 0.0, 7.0], [1.0, 2.0, 3.0, 4.0, 5.0]], np.float32)
    for series in (False, True):
        surface_map = SurfaceMap(values, 'z', ('a', 'b'), 2.0, series=series)
        left, _right = surface_files(GIFTI, surface_map)
        left.to_filename(tmp_path / 'left.func.gii')
        np.testing.assert_array_equal(load_surf_data(tmp_path / 'left.func.gii'), values[:, :3].T)
