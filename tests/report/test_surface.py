import nibabel as nib
import numpy as np
import pytest

from bidsglm.models.surface import SurfaceLayout, read_surface
from bidsglm.report.surface import (
    PEAK_COLUMNS,
    SurfaceElements,
    read_surface_values,
    strongest_elements,
    subcortical_volume,
    survivor_counts,
)

GIFTI = SurfaceLayout('gifti', (('left', 6), ('right', 4)))


def planted_z():
    """z on 6 + 4 vertices: a positive patch on left 1-3, a negative one on right 2-3."""
    z = np.array([0.5, 4.0, 6.0, 5.0, -1.0, 0.2, 1.0, -0.3, -7.0, -3.5])
    inside = np.ones(10, bool)
    return z, inside


def cifti_with_voxels():
    """A CIFTI-2 map: 3 left vertices (1, 4, 7 of 8), then 4 thalamus voxels of a 2x2x1 grid."""
    cortex = np.zeros(8, bool)
    cortex[[1, 4, 7]] = True
    models = nib.cifti2.BrainModelAxis.from_mask(
        cortex, 'CortexLeft'
    ) + nib.cifti2.BrainModelAxis.from_mask(np.ones((2, 2, 1), bool), 'ThalamusLeft', np.eye(4))
    values = np.array([[0.1, -6.0, 5.0, 0.0, 0.3, -4.0, 0.2]])
    return nib.Cifti2Image(values, header=(nib.cifti2.ScalarAxis(['z']), models))


def test_elements_of_gifti_hemispheres_are_numbered_within_each_part():
    elements = SurfaceElements.of(GIFTI)
    assert elements.parts == ('left hemisphere', 'right hemisphere')
    assert elements.kinds == ('vertex', 'vertex')
    assert elements.part_of.tolist() == [0] * 6 + [1] * 4
    assert elements.index_of[5:7] == ('5', '0')
    assert elements.n_elements == 10


def test_elements_of_cifti_name_vertices_by_their_index_and_voxels_by_ijk():
    elements = SurfaceElements.of(read_surface(cifti_with_voxels()).layout)
    assert elements.parts == ('cortex left', 'thalamus left')
    assert elements.kinds == ('vertex', 'voxel')
    assert elements.index_of == ('1', '4', '7', '0, 0, 0', '0, 1, 0', '1, 0, 0', '1, 1, 0')


def test_the_planted_patches_are_listed_with_their_sign_part_and_vertex():
    z, inside = planted_z()
    elements = SurfaceElements.of(GIFTI)
    positive = strongest_elements(z, inside, elements, 3.0)
    assert list(positive.columns) == list(PEAK_COLUMNS)
    assert positive[['Part', 'Index', 'z']].values.tolist() == [
        ['left hemisphere', '2', 6.0],
        ['left hemisphere', '3', 5.0],
        ['left hemisphere', '1', 4.0],
    ]
    negative = strongest_elements(z, inside, elements, 3.0, sign=-1)
    assert negative[['Part', 'Index', 'z']].values.tolist() == [
        ['right hemisphere', '2', -7.0],
        ['right hemisphere', '3', -3.5],
    ]


def test_strongest_elements_keep_at_most_per_part_and_only_the_mask():
    z, inside = planted_z()
    inside[2] = False  # the strongest positive vertex is outside the mask
    table = strongest_elements(z, inside, SurfaceElements.of(GIFTI), 3.0, per_part=1)
    assert table[['Part', 'Index', 'z']].values.tolist() == [['left hemisphere', '3', 5.0]]


def test_no_element_passing_gives_an_empty_table_with_the_columns():
    z, inside = planted_z()
    table = strongest_elements(z, inside, SurfaceElements.of(GIFTI), 10.0)
    assert table.empty
    assert list(table.columns) == list(PEAK_COLUMNS)


@pytest.mark.parametrize(
    ('two_sided', 'expected'),
    [
        (True, {'Positive': [3, 0], 'Negative': [0, 2]}),
        (False, {'Positive': [3, 0]}),
    ],
)
def test_survivor_counts_per_part_and_sign(two_sided, expected):
    z, inside = planted_z()
    inside[9] = False
    counts = survivor_counts(z, inside, SurfaceElements.of(GIFTI), 3.0, two_sided=two_sided)
    assert counts['Part'].tolist() == ['left hemisphere', 'right hemisphere']
    assert counts['In mask'].tolist() == [6, 3]
    assert {k: counts[k].tolist() for k in expected} == (
        {**expected, 'Negative': [0, 1]} if two_sided else expected
    )
    assert ('Negative' in counts.columns) is two_sided


def test_a_cifti_voxel_is_listed_by_structure_and_ijk(tmp_path):
    path = tmp_path / 'z.dscalar.nii'
    cifti_with_voxels().to_filename(path)
    z, layout = read_surface_values(path)
    elements = SurfaceElements.of(layout)
    inside = np.ones(z.size, bool)
    negative = strongest_elements(z, inside, elements, 3.0, sign=-1)
    assert negative.values.tolist() == [
        ['cortex left', 'vertex', '4', -6.0],
        ['thalamus left', 'voxel', '1, 0, 0', -4.0],
    ]
    positive = strongest_elements(z, inside, elements, 3.0)
    assert positive.values.tolist() == [['cortex left', 'vertex', '7', 5.0]]


def test_cifti_voxels_are_put_back_on_their_grid_in_mm():
    models = nib.cifti2.BrainModelAxis.from_mask(np.ones(2, bool), 'CortexLeft')
    inside = np.zeros((4, 5, 3), bool)
    inside[1, 2, 0] = inside[3, 4, 2] = True
    models += nib.cifti2.BrainModelAxis.from_mask(
        inside, 'ThalamusRight', np.diag([2.0, 3.0, 4.0, 1.0])
    )
    values = np.array([9.0, 8.0, -5.0, 6.0])
    layout = read_surface(
        nib.Cifti2Image(values[None], (nib.cifti2.ScalarAxis(['z']), models))
    ).layout
    volume = subcortical_volume(values, layout)
    assert (volume.inside == inside).all()
    assert volume.values[1, 2, 0] == -5.0
    assert volume.values[3, 4, 2] == 6.0
    assert volume.values.sum() == 1.0  # the cortex is not on the grid
    np.testing.assert_array_equal(volume.affine, np.diag([2.0, 3.0, 4.0, 1.0]))


def test_a_surface_without_voxels_has_no_subcortical_volume():
    assert subcortical_volume(np.zeros(10), GIFTI) is None
