"""Named stages of a job: the innermost takes the time, nothing counts unless recorded."""

from __future__ import annotations

import threading

import pytest

from bidsglm import _stages
from bidsglm._stages import recording, timed


@pytest.fixture
def ticks(monkeypatch):
    """A clock that reads the next of 0, 1, 2, ... seconds at each call."""
    counter = iter(range(1000))
    monkeypatch.setattr(_stages.time, 'perf_counter', lambda: float(next(counter)))


def test_the_innermost_stage_takes_the_time_and_repeats_add_up(ticks):
    with recording() as clock:  # t = 0
        with timed('fit'):  # 1
            with timed('read'):  # 2
                pass  # leaves at 3: read 1, fit 1 so far
            with timed('read'):  # 4: fit 2
                pass  # 5: read 2
        # leaves fit at 6: fit 3
        with timed('write'):  # 7 (6 to 7 outside every stage)
            pass  # 8: write 1
    assert clock.seconds == {'fit': 3.0, 'read': 2.0, 'write': 1.0}
    assert list(clock.seconds) == ['fit', 'read', 'write']  # the order they began


def test_a_stage_left_by_an_error_stops_counting(ticks):
    message = 'boom'
    with recording() as clock:  # t = 0
        with pytest.raises(ValueError, match=message), timed('read'):  # 1
            raise ValueError(message)  # leaves at 2
        with timed('write'):  # 3
            pass  # 4
    assert clock.seconds == {'read': 1.0, 'write': 1.0}


def test_nothing_is_counted_outside_a_recording_nor_in_other_threads():
    with timed('read'):
        pass  # no clock: a no-op, nothing to count into
    with recording() as clock:
        worker = threading.Thread(target=lambda: timed('write').__enter__())
        worker.start()
        worker.join()
    assert clock.seconds == {}
    assert _stages._CLOCK.get() is None  # the recording is over
