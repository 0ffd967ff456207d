import numpy as np
import pytest

from bidsglm.errors import InvalidParameterError
from bidsglm.stats.clustering import kmeans, spread_random_state


def blobs(rng, centres, size=40, spread=0.05):
    points = np.concatenate([c + spread * rng.standard_normal((size, len(c))) for c in centres])
    return points, np.repeat(np.arange(len(centres)), size)


def test_kmeans_finds_planted_clusters(rng):
    centres = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    points, truth = blobs(rng, centres)
    found, members = kmeans(points, 4)
    for cluster in range(4):
        inside = members[truth == cluster]
        assert np.unique(inside).size == 1
        np.testing.assert_allclose(
            found[inside[0]], points[truth == cluster].mean(axis=0), atol=1e-12
        )


def test_kmeans_is_scikit_learns_with_nilearns_arguments(rng):
    from sklearn.cluster import KMeans

    points = rng.standard_normal((500, 3))
    expected = KMeans(n_clusters=12, n_init=10, random_state=5).fit(points)
    centres, members = kmeans(points, 12, random_state=5)
    np.testing.assert_array_equal(centres, expected.cluster_centers_)
    np.testing.assert_array_equal(members, expected.labels_)


def test_kmeans_repeats_by_default(rng):
    points = rng.standard_normal((200, 2))
    np.testing.assert_array_equal(kmeans(points, 5)[1], kmeans(points, 5, random_state=0)[1])


def test_kmeans_of_as_many_clusters_as_points_keeps_every_point(rng):
    points = rng.standard_normal((6, 2))
    centres, members = kmeans(points, 6)
    np.testing.assert_allclose(centres[members], points, rtol=1e-12)


@pytest.mark.parametrize('n_clusters', [0, 11])
def test_kmeans_refuses_an_impossible_number_of_clusters(n_clusters):
    with pytest.raises(InvalidParameterError, match='between 1 and 10 clusters'):
        kmeans(np.zeros((10, 2)), n_clusters)


def test_spread_gives_a_seed_to_every_fit():
    assert spread_random_state(3, 3) == [3, 3, 3]
    assert spread_random_state(None, 2) == [0, 0]
    drawn = spread_random_state(np.random.RandomState(1), 2)
    assert drawn == spread_random_state(np.random.RandomState(1), 2)
    assert drawn[0] != drawn[1]
    generator_seeds = spread_random_state(np.random.default_rng(4), 3)
    assert len(set(generator_seeds)) == 3


@pytest.mark.parametrize('bad', ['seed', 1.5, True])
def test_spread_refuses_other_random_states(bad):
    with pytest.raises(InvalidParameterError, match="'random_state' must be an int"):
        spread_random_state(bad, 1)
