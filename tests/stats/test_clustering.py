import numpy as np
import pytest

from bidsglm.errors import InvalidParameterError
from bidsglm.stats.clustering import kmeans, random_generator, spread_random_state


def blobs(rng, centres, size=40, spread=0.05):
    points = np.concatenate([c + spread * rng.standard_normal((size, len(c))) for c in centres])
    return points, np.repeat(np.arange(len(centres)), size)


def test_kmeans_finds_planted_clusters(rng):
    centres = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    points, truth = blobs(rng, centres)
    result = kmeans(points, 4)
    for cluster in range(4):
        members = result.members[truth == cluster]
        assert np.unique(members).size == 1
        np.testing.assert_allclose(
            result.centres[members[0]], points[truth == cluster].mean(axis=0), atol=1e-12
        )


def test_kmeans_bounds_give_lloyds_clusters(rng):
    points = rng.standard_normal((500, 3))
    result = kmeans(points, 12, n_init=1, tol=0.0, random_state=5)
    # Lloyd's fixed point: every point is nearest its centre, every centre the mean
    distances = ((points[:, None, :] - result.centres[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(result.members, distances.argmin(axis=1))
    for cluster in np.unique(result.members):
        np.testing.assert_allclose(
            result.centres[cluster], points[result.members == cluster].mean(axis=0), atol=1e-12
        )
    inertia = distances[np.arange(500), result.members].sum()
    assert result.inertia == pytest.approx(inertia, rel=1e-10)


def test_kmeans_keeps_the_best_of_several_starts(rng):
    points = rng.standard_normal((300, 2))
    single = [kmeans(points, 10, n_init=1, random_state=seed).inertia for seed in range(5)]
    best = kmeans(points, 10, n_init=5, random_state=0).inertia
    assert best <= min(single[:1]) + 1e-12
    assert best == pytest.approx(min(single), rel=0.05)


def test_kmeans_repeats_with_a_seed_and_by_default(rng):
    points = rng.standard_normal((200, 2))
    np.testing.assert_array_equal(kmeans(points, 5).members, kmeans(points, 5).members)
    np.testing.assert_array_equal(
        kmeans(points, 5, random_state=9).centres, kmeans(points, 5, random_state=9).centres
    )


@pytest.mark.parametrize('n_clusters', [0, 11])
def test_kmeans_refuses_an_impossible_number_of_clusters(n_clusters):
    with pytest.raises(InvalidParameterError, match='between 1 and 10 clusters'):
        kmeans(np.zeros((10, 2)), n_clusters)


def test_kmeans_of_one_cluster_is_the_mean(rng):
    points = rng.standard_normal((50, 2))
    result = kmeans(points, 1)
    np.testing.assert_allclose(result.centres[0], points.mean(axis=0))
    assert set(result.members) == {0}


def test_random_generator_accepts_sklearns_forms():
    assert random_generator(None).integers(1000) == random_generator(0).integers(1000)
    assert isinstance(random_generator(np.random.RandomState(1)), np.random.Generator)
    generator = np.random.default_rng(2)
    assert random_generator(generator) is generator
    with pytest.raises(InvalidParameterError, match="'random_state'"):
        random_generator('seed')


def test_spread_random_state_draws_in_order_from_generators():
    assert spread_random_state(None, 3) == [None, None, None]
    drawn = spread_random_state(np.random.default_rng(4), 3)
    assert drawn == spread_random_state(np.random.default_rng(4), 3)
    assert len(set(drawn)) == 3
    assert len(spread_random_state(np.random.RandomState(4), 2)) == 2
