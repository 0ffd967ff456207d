import nibabel as nib
import numpy as np
import pytest

from bidsglm.errors import InputNotFoundError, ParameterTypeError, ShapeMismatchError
from bidsglm.models.surface import SurfaceLayout, read_surface
from bidsglm.report.mesh import check_meshes, hemisphere_values, read_mesh, read_meshes

from .conftest import icosphere


def surf_gii(coordinates, faces):
    """A GIFTI surface: a pointset array and a triangle array."""
    return nib.gifti.GiftiImage(
        darrays=[
            nib.gifti.GiftiDataArray(coordinates.astype(np.float32), 'NIFTI_INTENT_POINTSET'),
            nib.gifti.GiftiDataArray(faces.astype(np.int32), 'NIFTI_INTENT_TRIANGLE'),
        ]
    )


def test_a_surf_gii_file_and_a_pair_give_the_same_mesh(tmp_path):
    coordinates, faces = icosphere(1)
    path = tmp_path / 'hemi-L_pial.surf.gii'
    surf_gii(coordinates, faces).to_filename(path)
    from_file, from_pair = read_mesh(path), read_mesh((coordinates, faces))
    assert from_file.n_vertices == from_pair.n_vertices == 42
    np.testing.assert_allclose(from_file.coordinates, from_pair.coordinates, rtol=1e-6)
    assert (from_file.faces == from_pair.faces).all()
    assert (from_file.source, from_pair.source) == (str(path), None)


@pytest.mark.parametrize(
    ('value', 'error', 'message'),
    [
        ('missing.surf.gii', InputNotFoundError, 'left hemisphere: no file at'),
        (np.eye(3), ParameterTypeError, 'must be a GIFTI surface file'),
        ((np.eye(2), [[0, 1, 2]]), ShapeMismatchError, r'\(n, 3\) finite vertex'),
        ((np.eye(3), [[0.0, 1.0, 2.0]]), ShapeMismatchError, r'\(m, 3\) integer faces'),
        ((np.eye(3), [[0, 1, 5]]), ShapeMismatchError, 'outside its 3 vertices'),
        (nib.gifti.GiftiImage(), ShapeMismatchError, r'\(n, 3\) finite vertex'),
    ],
)
def test_a_wrong_mesh_is_refused_with_what_is_wrong(value, error, message):
    with pytest.raises(error, match=message):
        read_mesh(value, 'left')


def test_meshes_are_given_per_hemisphere():
    with pytest.raises(ParameterTypeError, match=r"\['lh'\]"):
        read_meshes({'lh': icosphere(0)})
    assert read_meshes(None) == {}


def test_a_mesh_with_the_wrong_vertex_count_is_refused_naming_both_counts():
    layout = SurfaceLayout('gifti', (('left', 42), ('right', 12)))
    meshes = read_meshes({'left': icosphere(1), 'right': icosphere(1)})
    with pytest.raises(ShapeMismatchError, match=r'right hemisphere has 42 vertices.*has 12'):
        check_meshes(meshes, layout)
    check_meshes(read_meshes({'left': icosphere(1), 'right': icosphere(0)}), layout)


def test_a_cifti_cortex_needs_a_mesh_of_its_surface_and_places_values_by_vertex():
    cortex = np.zeros(12, bool)
    cortex[[2, 5, 11]] = True
    models = nib.cifti2.BrainModelAxis.from_mask(
        cortex, 'CortexLeft'
    ) + nib.cifti2.BrainModelAxis.from_mask(np.ones((1, 1, 2), bool), 'ThalamusLeft', np.eye(4))
    image = nib.Cifti2Image(np.arange(1.0, 6.0)[None], (nib.cifti2.ScalarAxis(['z']), models))
    layout = read_surface(image).layout
    check_meshes(read_meshes({'left': icosphere(0)}), layout)  # 12 vertices, 3 with data
    with pytest.raises(ShapeMismatchError, match=r'has 42 vertices.*has 12'):
        check_meshes(read_meshes({'left': icosphere(1)}), layout)
    with pytest.raises(ShapeMismatchError, match='right hemisphere, which this model'):
        check_meshes(read_meshes({'right': icosphere(0)}), layout)
    values = hemisphere_values(np.arange(1.0, 6.0), layout, 'left', 12)
    assert np.flatnonzero(~np.isnan(values)).tolist() == [2, 5, 11]
    assert values[[2, 5, 11]].tolist() == [1.0, 2.0, 3.0]
