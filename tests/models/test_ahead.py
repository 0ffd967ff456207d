"""ahead: items computed on a helper thread, handed over in order, errors in place."""

from __future__ import annotations

import threading
import time

import pytest

from bidsglm.models._ahead import ahead


def test_items_come_in_order_whatever_their_timing():
    def slow():
        for value in range(20):
            time.sleep(0.001 * (value % 3))
            yield value

    assert list(ahead(slow(), depth=3)) == list(range(20))


def test_an_error_of_the_helper_is_raised_in_place_of_its_item():
    def failing():
        yield 1
        yield 2
        msg = 'bad map'
        raise ValueError(msg)

    seen = []

    def consume():
        seen.extend(ahead(failing()))

    with pytest.raises(ValueError, match='bad map'):
        consume()
    assert seen == [1, 2]


def test_leaving_early_stops_the_helper():
    produced = []

    def endless():
        value = 0
        while True:
            produced.append(value)
            yield value
            value += 1

    before = threading.active_count()
    items = ahead(endless(), depth=2)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert threading.active_count() == before
    assert len(produced) <= 3 + 2 + 1
