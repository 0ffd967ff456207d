"""ahead: items computed on a helper thread, handed over in order, errors in place."""

from __future__ import annotations

import threading
import time

import pytest

from bidsglm.models._ahead import ahead, ahead_map


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


def test_ahead_map_gives_results_in_order_from_several_threads():
    threads = set()

    def slow_square(value):
        threads.add(threading.get_ident())
        time.sleep(0.002 * (value % 3))
        return value * value

    assert list(ahead_map(slow_square, range(30), workers=3, depth=5)) == [
        value * value for value in range(30)
    ]
    assert len(threads) > 1


def test_ahead_map_raises_an_error_in_place_and_computes_only_a_few_ahead():
    started = []

    def check(value):
        started.append(value)
        if value == 3:
            msg = 'bad map 3'
            raise ValueError(msg)
        return value

    seen = []
    with pytest.raises(ValueError, match='bad map 3'):
        seen.extend(ahead_map(check, range(100), workers=2, depth=2))
    assert seen == [0, 1, 2]
    assert max(started) <= 3 + 2


def test_leaving_ahead_map_early_leaves_no_thread_behind():
    before = threading.active_count()
    results = ahead_map(lambda value: value, range(1000), depth=3)
    assert [next(results) for _ in range(2)] == [0, 1]
    results.close()
    assert threading.active_count() == before
