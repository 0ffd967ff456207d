"""The on-disk store of a group's maps: rows of any length up to its width, zeros after."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from bidsglm.models._map_store import MapStore


def ragged_store() -> MapStore:
    """Three rows of 4, 2 and 0 values in a store 4 wide (float32)."""
    store = MapStore(4, np.float32)
    store.append(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    store.append(np.array([5.0, 6.0], np.float32))
    store.append(np.array([], np.float32))
    return store


def test_short_rows_end_with_zeros_and_take_only_their_values_on_disk():
    store = ragged_store()
    assert store.shape == (3, 4)
    assert store.nbytes == 6 * 4
    assert store.row(1).tolist() == [5.0, 6.0, 0.0, 0.0]
    assert store.row(2).tolist() == [0.0] * 4
    assert store.columns(np.array([1, 3])).tolist() == [[2.0, 4.0], [6.0, 0.0], [0.0, 0.0]]
    assert store.columns(np.array([2, 3])).tolist() == [[3.0, 4.0], [0.0, 0.0], [0.0, 0.0]]


def test_a_wider_store_gives_every_row_zeros_in_its_new_columns():
    store = ragged_store()
    store.widen(6)
    store.append(np.arange(6, dtype=np.float32))
    expected = [
        [1.0, 2.0, 3.0, 4.0, 0.0, 0.0],
        [5.0, 6.0, 0.0, 0.0, 0.0, 0.0],
        [0.0] * 6,
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
    ]
    assert store.to_array().tolist() == expected
    assert store.columns(np.array([4, 5])).tolist() == [row[4:] for row in expected]


def test_a_row_longer_than_the_store_or_a_narrower_store_is_refused():
    store = ragged_store()
    with pytest.raises(ValueError, match='at most 4 values'):
        store.append(np.zeros(5, np.float32))
    with pytest.raises(ValueError, match='can only widen'):
        store.widen(3)


def test_a_wider_type_rewrites_the_rows_as_long_as_they_were():
    store = ragged_store()
    store.append(np.array([0.1], np.float64))
    assert store.dtype == np.float64
    assert store.nbytes == 7 * 8
    assert store.row(3).tolist() == [0.1, 0.0, 0.0, 0.0]
    assert store.row(0).tolist() == [1.0, 2.0, 3.0, 4.0]


def test_a_copy_or_a_pickle_keeps_the_rows_and_their_lengths():
    store = ragged_store()
    for other in (copy.deepcopy(store), pickle.loads(pickle.dumps(store))):
        assert other.shape == (3, 4)
        assert other.nbytes == store.nbytes
        np.testing.assert_array_equal(other.to_array(), store.to_array())
