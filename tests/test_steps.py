"""Steps told by the models reach the listener, from any thread, and never break a fit."""

from __future__ import annotations

import threading

import nibabel as nib
import numpy as np
import pandas as pd

from bidsglm import FirstLevelModel, SecondLevelModel
from bidsglm._steps import StepCounter, listening


def test_threads_counting_at_once_lose_no_step():
    heard = []
    counter = StepCounter('blocks', 400)
    with listening(lambda kind, done, total: heard.append(done)):
        threads = [
            threading.Thread(target=lambda: [counter.advance() for _ in range(100)])
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert counter.done == 400
    assert max(heard) == 400
    assert len(heard) == 400


def test_a_failing_listener_does_not_stop_the_work():
    def broken(kind, done, total):
        raise RuntimeError(kind)

    with listening(broken):
        StepCounter('runs', 1).advance()  # no error


def test_listening_ends_with_its_block_and_restores_the_outer_listener():
    outer, inner = [], []
    with listening(lambda *step: outer.append(step)):
        with listening(lambda *step: inner.append(step)):
            StepCounter('runs', 1).advance()
        StepCounter('maps', 1).advance()
    StepCounter('blocks', 1).advance()
    assert inner == [('runs', 1, 1)]
    assert outer == [('maps', 1, 1)]


def _run(rng: np.random.Generator) -> nib.Nifti1Image:
    return nib.Nifti1Image(rng.standard_normal((3, 3, 3, 20)).astype(np.float32), np.eye(4))


def test_a_first_level_fit_tells_each_run(rng):
    events = pd.DataFrame({'onset': [0.0, 20.0], 'duration': 5.0, 'trial_type': 'a'})
    mask = nib.Nifti1Image(np.ones((3, 3, 3), np.uint8), np.eye(4))
    heard = []
    with listening(lambda *step: heard.append(step)):
        FirstLevelModel(t_r=2.0, mask_img=mask).fit([_run(rng)] * 3, events=[events] * 3)
    assert heard == [('runs', 1, 3), ('runs', 2, 3), ('runs', 3, 3)]


def test_a_group_fit_tells_each_map_read_and_each_block_fitted(rng):
    maps = [nib.Nifti1Image(rng.standard_normal((4, 4, 4)), np.eye(4)) for _ in range(5)]
    heard = []
    with listening(lambda *step: heard.append(step)):
        SecondLevelModel().fit(maps)
    assert [step for step in heard if step[0] == 'maps'] == [('maps', i, 5) for i in range(1, 6)]
    assert [step for step in heard if step[0] == 'blocks'] == [('blocks', 1, 1)]


def test_blocks_are_told_one_by_one_when_the_fit_takes_several(rng, monkeypatch):
    from bidsglm.models import _group_fit

    monkeypatch.setattr(_group_fit, 'BLOCK_BYTES', 8 * 5 * 16)  # 16 voxels of 5 maps a block
    maps = [nib.Nifti1Image(rng.standard_normal((4, 4, 4)), np.eye(4)) for _ in range(5)]
    heard = []
    with listening(lambda *step: heard.append(step)):
        SecondLevelModel().fit(maps)
    assert [step for step in heard if step[0] == 'blocks'] == [
        ('blocks', i, 4) for i in range(1, 5)
    ]


def test_a_surface_group_fit_tells_each_map_read(rng):
    from bidsglm.models.surface import SurfaceData, SurfaceLayout

    layout = SurfaceLayout('gifti', (('left', 3), ('right', 2)))
    maps = [SurfaceData(rng.standard_normal((1, 5)), layout) for _ in range(4)]
    heard = []
    with listening(lambda *step: heard.append(step)):
        SecondLevelModel().fit(maps)
    assert [step for step in heard if step[0] == 'maps'] == [('maps', i, 4) for i in range(1, 5)]
    assert ('blocks', 1, 1) in heard
