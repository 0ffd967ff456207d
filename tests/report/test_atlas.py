from importlib import resources
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from bidsglm.errors import InvalidParameterError, ShapeMismatchError
from bidsglm.report.atlas import (
    NEAREST_WITHIN_MM,
    NO_LABEL,
    Atlas,
    atlas_for,
    read_atlas,
    shipped_atlas,
)

FOLDER = Path(str(resources.files('bidsglm') / 'data' / 'schaefer2018'))

#: Parcel centres from CBIG's own table
#: (Schaefer2018_400Parcels_17Networks_order_FSLMNI152_2mm.Centroid_RAS.csv), not from bidsglm.
CBIG_CENTROIDS = [
    ((-36, -62, -16), 'Left extrastriate cortex, central visual network (parcel 1)'),
    ((-38, -8, 12), 'Left secondary somatosensory cortex (S2), somatomotor B network (parcel 1)'),
    ((-54, -2, -30), 'Left temporal cortex, default B network (parcel 2)'),
    ((-12, 24, -20), 'Left orbitofrontal cortex, limbic B network (parcel 1)'),
    ((40, -4, 52), 'Right frontal eye field, dorsal attention B network (parcel 1)'),
    ((14, -46, 4), 'Right retrosplenial cortex, default C network (parcel 1)'),
    ((62, -40, 22), 'Right hemisphere, temporal parietal network (parcel 10)'),
]


def slab_atlas() -> Atlas:
    """Regions 7 (x >= 6 mm) and 9 (one voxel at x = 0, y = 16) on a 2 mm grid."""
    regions = np.zeros((6, 10, 5), dtype=int)
    regions[3:, :, :] = 7
    regions[0, 8, 2] = 9
    return Atlas(regions, np.diag([2.0, 2.0, 2.0, 1.0]), {7: 'Slab', 9: 'Dot'})


@pytest.mark.parametrize(('xyz', 'name'), CBIG_CENTROIDS)
def test_shipped_atlas_names_the_parcel_at_cbig_centres(xyz, name):
    assert shipped_atlas().label_of(xyz) == name


def test_shipped_atlas_is_small_licensed_and_named_in_full():
    sizes = [path.stat().st_size for path in FOLDER.iterdir()]
    assert sum(sizes) < 200_000
    assert 'MIT' in (FOLDER / 'LICENSE').read_text()
    assert 'Computational Brain Imaging Group' in (FOLDER / 'LICENSE').read_text()
    atlas = shipped_atlas()
    image = nib.load(FOLDER / 'schaefer2018_400parcels_17networks_2mm.nii.gz')
    assert image.header['sform_code'] == 4
    assert np.allclose(atlas.affine[:3, 3], [90.0, -126.0, -72.0])
    assert set(np.unique(atlas.regions).tolist()) == {0, *range(1, 401)}
    assert sorted(atlas.names) == list(range(1, 401))
    assert sum(name.startswith('Left ') for name in atlas.names.values()) == 200


def test_a_peak_inside_a_region_gets_its_name():
    assert slab_atlas().label_of([6.0, 4.0, 4.0]) == 'Slab'
    assert slab_atlas().label_of([0.4, 16.3, 3.8]) == 'Dot'  # rounds to the Dot's voxel


def test_a_peak_outside_every_region_gets_the_nearest_one_within_six_mm():
    atlas = slab_atlas()
    assert atlas.label_of([2.0, 4.0, 4.0]) == 'nearest, 4 mm: Slab'
    assert atlas.label_of([0.0, 12.0, 4.0]) == 'nearest, 4 mm: Dot'  # nearer than the slab
    assert atlas.label_of([-4.0, 4.0, 4.0]) == NO_LABEL  # 10 mm from the slab
    assert atlas.label_of([16.0, 4.0, 4.0]) == 'nearest, 6 mm: Slab'  # past the grid's edge
    assert atlas.label_of([300.0, 4.0, 4.0]) == NO_LABEL


def test_labels_of_names_every_row_of_coordinates():
    xyz = np.array([[6.0, 4.0, 4.0], [2.0, 4.0, 4.0], [-40.0, 0.0, 0.0]])
    assert slab_atlas().labels_of(xyz) == ['Slab', 'nearest, 4 mm: Slab', NO_LABEL]


def test_atlas_refuses_a_volume_that_is_not_3d():
    with pytest.raises(ShapeMismatchError, match=r'3D volume of regions and a 4x4 affine'):
        Atlas(np.zeros((4, 4)), np.eye(4), {})


def test_atlas_refuses_regions_without_names():
    regions = np.zeros((3, 3, 3), dtype=int)
    regions[0, 0, 0], regions[1, 1, 1] = 2, 5
    with pytest.raises(InvalidParameterError, match=r'regions \[5\] that its names do not list'):
        Atlas(regions, np.eye(4), {2: 'Two'})


def test_read_atlas_reads_an_image_and_a_table_of_names(tmp_path):
    regions = np.zeros((3, 3, 3), dtype=np.int16)
    regions[1, 1, 1] = 5
    nib.save(nib.Nifti1Image(regions, np.eye(4)), tmp_path / 'atlas.nii.gz')
    (tmp_path / 'names.tsv').write_text('index\tname\n5\tCentre\n', encoding='utf-8')
    atlas = read_atlas(tmp_path / 'atlas.nii.gz', tmp_path / 'names.tsv')
    assert atlas.label_of([1.0, 1.0, 1.0]) == 'Centre'
    assert atlas.label_of([0.0, 1.0, 1.0]) == 'nearest, 1 mm: Centre'


@pytest.mark.parametrize(
    ('name', 'has_atlas'),
    [
        ('task-x_space-MNI152NLin2009cAsym_statmap.json', True),
        ('sub-01_task-x_space-MNI152NLin6Asym_statmap.json', True),
        ('sub-01_task-x_space-T1w_statmap.json', False),
        ('sub-01_task-x_space-fsLR_statmap.json', False),
        ('sub-01_task-x_statmap.json', False),
    ],
)
def test_only_mni_spaces_get_the_atlas(name, has_atlas):
    assert (atlas_for(name) is shipped_atlas()) is has_atlas


def test_labels_of_equals_label_of_point_by_point_on_the_shipped_atlas(rng):
    atlas = shipped_atlas()
    xyz = rng.uniform(-110, 110, size=(300, 3))  # inside, near and outside the brain
    labels = atlas.labels_of(xyz)
    assert labels == [atlas.label_of(point) for point in xyz]
    assert len(set(labels)) > 20  # regions, nearest regions and no label all seen
    assert NO_LABEL in labels
    assert any(label.startswith('nearest') for label in labels)


def brute_force_label(atlas: Atlas, point: np.ndarray, voxels: np.ndarray, mm: np.ndarray) -> str:
    """The label by measuring every region voxel of the atlas: the reference."""
    ijk = np.rint(np.linalg.solve(atlas.affine, [*point, 1.0])[:3]).astype(int)
    if np.all(ijk >= 0) and np.all(ijk < atlas.regions.shape) and atlas.regions[tuple(ijk)] > 0:
        return atlas.names[int(atlas.regions[tuple(ijk)])]
    distance = np.linalg.norm(mm - point, axis=1)
    best = int(np.argmin(distance))  # the first in the volume's order among equals
    if distance[best] > NEAREST_WITHIN_MM:
        return NO_LABEL
    name = atlas.names[int(atlas.regions[tuple(voxels[best])])]
    return f'nearest, {distance[best]:.0f} mm: {name}'


def test_labels_of_equals_a_search_of_every_region_voxel(rng):
    atlas = shipped_atlas()
    voxels = np.argwhere(atlas.regions > 0)
    mm = voxels @ atlas.affine[:3, :3].T + atlas.affine[:3, 3]
    # points on the voxel grid (ties between equidistant voxels) and between them
    grid = rng.integers(-40, 40, size=(100, 3)) * 2.0 + np.array([0.0, -18.0, 18.0])
    xyz = np.vstack([grid, rng.uniform(-100, 100, size=(100, 3))])
    labels = atlas.labels_of(xyz)
    assert labels == [brute_force_label(atlas, point, voxels, mm) for point in xyz]
    assert sum(label.startswith('nearest') for label in labels) > 20
    assert NO_LABEL in labels


def test_labels_of_gives_the_same_labels_searched_a_few_points_at_a_time(monkeypatch, rng):
    from bidsglm.report import atlas as atlas_module

    atlas = shipped_atlas()
    xyz = rng.uniform(-80, 80, size=(60, 3))
    at_once = atlas.labels_of(xyz)
    monkeypatch.setattr(atlas_module, '_SEARCHED_VOXELS', 2 * len(atlas._offsets))
    assert atlas.labels_of(xyz) == at_once  # two points per search
    assert sum(label.startswith('nearest') for label in at_once) > 3
