import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage
from scipy.stats import norm

from bidsglm.errors import InvalidParameterError, ShapeMismatchError
from bidsglm.report.clusters import TABLE_COLUMNS, Thresholding, fdr_threshold, find_clusters

SHAPE = (7, 8, 9)
AFFINE = np.array([[3.0, 0, 0, -9.0], [0, 3.0, 0, -12.0], [0, 0, 3.5, -14.0], [0, 0, 0, 1.0]])
VOXEL_MM3 = 3.0 * 3.0 * 3.5


def two_blob_map(rng):
    """Noise below 2.5 everywhere, a 2x3x2 blob peaking at 6.5 and a 3-voxel line at 4.2."""
    z = rng.uniform(-2.5, 2.5, SHAPE)
    z[1:3, 1:4, 1:3] = rng.uniform(3.5, 5.5, (2, 3, 2))
    z[2, 3, 1] = 6.5
    z[5, 5:8, 6] = [3.6, 4.2, 3.9]
    return z


def mm(ijk):
    return (AFFINE @ [*ijk, 1.0])[:3]


def position(table, row):
    return table[['X (mm)', 'Y (mm)', 'Z (mm)']].to_numpy(float)[row]


def test_find_clusters_planted_two_blobs_exact_peaks_and_sizes(rng):
    found = find_clusters(two_blob_map(rng), AFFINE, 3.0, n_subpeaks=0)
    table = found.table
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert found.n_clusters == 2
    assert table['Cluster'].tolist() == ['1', '2']
    np.testing.assert_allclose(position(table, 0), mm((2, 3, 1)))
    np.testing.assert_allclose(position(table, 1), mm((5, 6, 6)))
    assert table['Peak z'].tolist() == [6.5, 4.2]
    assert table['Voxels'].tolist() == [12, 3]
    np.testing.assert_allclose(table['Volume (mm3)'], [12 * VOXEL_MM3, 3 * VOXEL_MM3])
    assert (found.labels == 1).sum() == 12
    assert found.labels[1:3, 1:4, 1:3].min() == 1
    assert (found.labels == 2).sum() == 3
    assert found.labels[5, 5:8, 6].tolist() == [2, 2, 2]


def test_find_clusters_threshold_is_inclusive_and_nan_is_below():
    z = np.zeros(SHAPE)
    z[3, 3, 3] = 3.0
    z[0, 0, 0] = np.nan
    assert find_clusters(z, AFFINE, 3.0).table['Voxels'].tolist() == [1]
    assert find_clusters(z, AFFINE, 3.0 + 1e-9).table.empty


def test_find_clusters_cluster_extent_drops_small_clusters(rng):
    found = find_clusters(two_blob_map(rng), AFFINE, 3.0, cluster_extent=4)
    assert found.n_clusters == 1
    assert found.table['Voxels'].dropna().tolist() == [12]
    assert found.labels[5, 5:8, 6].tolist() == [0, 0, 0]


def test_find_clusters_faces_connect_but_edges_do_not():
    z = np.zeros(SHAPE)
    z[2, 2, 2] = z[2, 2, 3] = 5.0  # share a face
    z[3, 3, 3] = 4.0  # touches (2, 2, 3) along an edge only
    found = find_clusters(z, AFFINE, 3.0)
    assert found.table['Voxels'].dropna().tolist() == [2, 1]


def test_find_clusters_two_sided_lists_positive_then_negative(rng):
    z = two_blob_map(rng)
    z[5, 5:8, 6] *= -1
    one_sided = find_clusters(z, AFFINE, 3.0)
    assert one_sided.n_clusters == 1
    both = find_clusters(z, AFFINE, 3.0, two_sided=True, n_subpeaks=0)
    assert both.table['Peak z'].tolist() == [6.5, -4.2]
    assert both.table['Voxels'].tolist() == [12, 3]


def test_find_clusters_subpeaks_are_local_maxima_beyond_min_distance():
    z = np.zeros(SHAPE)
    z[1:6, 3, 4] = [7.0, 5.0, 4.0, 5.0, 6.0]  # two maxima 12 mm apart, a dip between
    found = find_clusters(z, AFFINE, 3.0, min_distance=8.0)
    assert found.table['Cluster'].tolist() == ['1', '1a']
    assert found.table['Peak z'].tolist() == [7.0, 6.0]
    assert found.table['Voxels'].isna().tolist() == [False, True]
    np.testing.assert_allclose(position(found.table, 1), mm((5, 3, 4)))
    assert find_clusters(z, AFFINE, 3.0, min_distance=12.0).table['Cluster'].tolist() == ['1']
    assert find_clusters(z, AFFINE, 3.0, n_subpeaks=0).table['Cluster'].tolist() == ['1']


def test_find_clusters_many_clusters_numbered_by_peak():
    z = np.zeros((20, 20, 20))
    z[::2, ::2, ::2] = np.arange(1000).reshape(10, 10, 10) / 100 + 3.0  # 1000 isolated voxels
    found = find_clusters(z, np.eye(4), 3.0)
    assert found.n_clusters == 1000
    assert found.table['Peak z'].is_monotonic_decreasing
    assert found.labels[18, 18, 18] == 1
    assert found.labels[0, 0, 0] == 1000


def test_find_clusters_rejects_a_4d_map():
    with pytest.raises(ShapeMismatchError, match='3D z map'):
        find_clusters(np.zeros((2, 2, 2, 2)), AFFINE, 3.0)


def test_fdr_threshold_matches_a_hand_computed_step_up():
    # m = 4, alpha = 0.05: the bounds k * alpha / m are 0.0125, 0.025, 0.0375, 0.05.
    # p(2) = 0.03 fails its bound but p(3) = 0.032 passes: the step-up keeps 3 voxels.
    p_values = np.array([0.5, 0.032, 0.001, 0.03])
    z = norm.isf(p_values)
    threshold = fdr_threshold(z, 0.05)
    assert threshold == pytest.approx(norm.isf(0.032), rel=1e-12)
    assert (z >= threshold).sum() == 3


def test_fdr_threshold_is_infinite_when_nothing_survives():
    assert fdr_threshold(norm.isf(np.array([0.2, 0.5, 0.9])), 0.05) == np.inf


def test_fdr_threshold_two_sided_uses_both_tails():
    z = np.array([-4.0, 0.1, 0.2, 0.3])  # two-sided p(1) = 6.3e-5 <= 0.05 / 4
    assert fdr_threshold(z, 0.05) == np.inf
    assert fdr_threshold(z, 0.05, two_sided=True) == 4.0


@pytest.mark.parametrize(
    ('rule', 'expected'),
    [
        (Thresholding('fpr', alpha=0.001), norm.isf(0.0005)),  # two-sided by default
        (Thresholding('fpr', alpha=0.001, two_sided=False), norm.isf(0.001)),
        (Thresholding('fpr', alpha=0.001).one_sided(), norm.isf(0.001)),
        (Thresholding('bonferroni', alpha=0.05), norm.isf(0.05 / 100 / 2)),
        (Thresholding(None, z=2.5), 2.5),
    ],
)
def test_thresholding_height_rules(rule, expected):
    assert rule.z_threshold(np.zeros(100)) == pytest.approx(expected, rel=1e-12)


def test_thresholding_describe_states_rule_threshold_and_extent():
    text = Thresholding('fdr', alpha=0.05, cluster_extent=5).describe(2.841)
    assert text == (
        'FDR (Benjamini-Hochberg) q < 0.05, two-sided (|z| ≥ 2.84), clusters of at least 5 voxels'
    )
    one_sided = Thresholding('fpr', two_sided=False).describe(3.09)
    assert one_sided == 'uncorrected p < 0.001, one-sided (z ≥ 3.09)'


@pytest.mark.parametrize(
    ('kwargs', 'match'),
    [
        ({'height_control': 'fwe'}, r"one of \['bonferroni', 'fdr', 'fpr'\] or None"),
        ({'alpha': 1.5}, 'must be in'),
        ({'cluster_extent': -1}, 'integer >= 0'),
    ],
)
def test_thresholding_rejects_bad_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        Thresholding(**kwargs)


@pytest.mark.oracle
def test_find_clusters_main_peaks_and_sizes_equal_nilearn(rng):
    from nilearn.glm import fdr_threshold as nilearn_fdr
    from nilearn.reporting import get_clusters_table

    z = ndimage.gaussian_filter(rng.standard_normal(SHAPE), 0.8) * 6.0
    ours = find_clusters(z, AFFINE, 2.0, n_subpeaks=0).table
    theirs = get_clusters_table(nib.Nifti1Image(z, AFFINE), 2.0, min_distance=1e9)
    assert len(ours) == len(theirs) > 2
    np.testing.assert_allclose(ours[['X (mm)', 'Y (mm)', 'Z (mm)']], theirs[['X', 'Y', 'Z']])
    np.testing.assert_allclose(ours['Peak z'], theirs['Peak Stat'], rtol=1e-12)
    # nilearn truncates the volume to whole mm3.
    assert (ours['Volume (mm3)'].astype(int) == theirs['Cluster Size (mm3)']).all()
    assert fdr_threshold(z.ravel(), 0.2) == pytest.approx(nilearn_fdr(z.ravel(), 0.2), abs=1e-9)


def test_find_clusters_image_passes_do_not_grow_with_the_number_of_clusters(monkeypatch):
    from bidsglm.report import clusters as module

    calls = []

    class CountingNdimage:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(ndimage, name)

    monkeypatch.setattr(module, 'ndimage', CountingNdimage())
    one = np.zeros((20, 20, 20))
    one[5:8, 5:8, 5:8] = 4.0
    many = np.zeros((20, 20, 20))
    many[::2, ::2, ::2] = 4.0 + np.arange(1000).reshape(10, 10, 10) / 1000
    find_clusters(one, np.eye(4), 3.0)
    calls_for_one = list(calls)
    calls.clear()
    assert find_clusters(many, np.eye(4), 3.0).n_clusters == 1000
    assert calls == calls_for_one == ['label']
