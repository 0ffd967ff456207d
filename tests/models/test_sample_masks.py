import numpy as np
import pytest

from bidsglm.errors import InvalidParameterError, ParameterTypeError, ShapeMismatchError
from bidsglm.models._sample_masks import read_sample_masks


def test_none_keeps_every_volume_of_every_run():
    assert read_sample_masks(None, [5, 6]) == [None, None]


def test_indices_and_booleans_become_indices():
    volumes = read_sample_masks([[0, 1, 3], np.array([True, False, True])], [4, 3])
    assert [v.tolist() for v in volumes] == [[0, 1, 3], [0, 2]]


def test_an_array_is_the_mask_of_a_single_run():
    assert read_sample_masks(np.arange(2, 5), [6])[0].tolist() == [2, 3, 4]


def test_order_and_repeats_are_kept_as_given():
    assert read_sample_masks([[3, 0, 0]], [4])[0].tolist() == [3, 0, 0]


def test_integer_valued_floats_are_indices():
    assert read_sample_masks([np.array([0.0, 2.0])], [3])[0].tolist() == [0, 2]


def test_a_run_may_keep_every_volume_with_none():
    volumes = read_sample_masks([None, [1]], [3, 3])
    assert volumes[0] is None
    assert volumes[1].tolist() == [1]


@pytest.mark.parametrize(
    ('masks', 'error', 'match'),
    [
        ('0,1', ParameterTypeError, 'must be a list with one mask per run'),
        ([0, 1, 2], ParameterTypeError, 'holds numbers where it needs one mask per run'),
        ([[0, 1]], ShapeMismatchError, '1 masks for 2 runs'),
        ([[0.5], [1]], ParameterTypeError, 'integer indices'),
        ([['a'], [1]], ParameterTypeError, 'integer indices'),
        ([[-1, 2], [1]], InvalidParameterError, 'negative indices'),
        ([[0, 4], [1]], ShapeMismatchError, r'indices \[4\] but the run has 4 volumes'),
        ([[True, False], [1]], ShapeMismatchError, 'has 2 values but the run has 4 volumes'),
        ([[False] * 4, [1]], InvalidParameterError, 'keeps no volume'),
        ([[], [1]], InvalidParameterError, 'keeps no volume'),
    ],
)
def test_unusable_masks_are_refused(masks, error, match):
    with pytest.raises(error, match=match):
        read_sample_masks(masks, [4, 4])
