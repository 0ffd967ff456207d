"""``FirstLevelModel.fit(sample_masks=...)`` (scrubbing) against nilearn 0.14.1.

Same data, same positional call ``fit(run_imgs, events, confounds, sample_masks)``:
the same kept design rows (index included) and the same maps, 1e-6 relative on
float64 runs; the same catchable errors.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel

from bidsglm import FirstLevelModel

from .conftest import N_SCANS, T_R, assert_maps_equal, make_events, make_run, quietly

pytestmark = pytest.mark.oracle

KEPT = np.setdiff1d(np.arange(N_SCANS), [0, 1, 7, 8, 9, 22, 31])
BOOLEAN = np.isin(np.arange(N_SCANS), [3, 4, 5, 17, 18], invert=True)


def both(mask_img, noise_model, *args):
    """Fit bidsglm and nilearn with the same positional arguments."""
    ours = FirstLevelModel(t_r=T_R, mask_img=mask_img, noise_model=noise_model)
    theirs = NilearnFirstLevel(
        t_r=T_R, mask_img=mask_img, noise_model=noise_model, minimize_memory=False
    )
    return ours.fit(*args), quietly(theirs.fit, *args)


def assert_same_fit(ours, theirs, contrasts):
    assert len(ours.design_matrices_) == len(theirs.design_matrices_)
    for mine, reference in zip(ours.design_matrices_, theirs.design_matrices_, strict=True):
        pd.testing.assert_frame_equal(mine, reference, check_exact=False, rtol=1e-10)
    for mine, reference in zip(ours.residuals_, theirs.residuals_, strict=True):
        assert mine.shape == reference.shape
    for contrast in contrasts:
        assert_maps_equal(
            quietly(ours.compute_contrast, contrast, output_type='all'),
            quietly(theirs.compute_contrast, contrast, output_type='all'),
        )


@pytest.mark.parametrize('noise_model', ['ols', 'ar1', 'ar2'])
def test_one_run_scrubbed_by_indices_equals_nilearn(rng, mask_img, noise_model):
    run, events = make_run(rng), make_events()
    ours, theirs = both(mask_img, noise_model, run, events, None, KEPT)
    assert ours.design_matrices_[0].shape[0] == KEPT.size
    assert_same_fit(ours, theirs, ['audio - visual', 'audio'])


@pytest.mark.parametrize('noise_model', ['ols', 'ar1'])
def test_runs_scrubbed_by_indices_and_booleans_equal_nilearn(rng, mask_img, noise_model):
    runs = [make_run(rng), make_run(rng)]
    events = [make_events(0.0), make_events(2.0)]
    confounds = [
        pd.DataFrame(
            {'drift': np.linspace(-1, 1, N_SCANS), 'motion': rng.standard_normal(N_SCANS)}
        )
        for _ in runs
    ]
    ours, theirs = both(mask_img, noise_model, runs, events, confounds, [KEPT, BOOLEAN])
    width = ours.design_matrices_[0].shape[1]
    assert_same_fit(ours, theirs, ['audio - visual', [np.eye(width)[:2]] * 2])


def test_scrubbing_ready_made_designs_equals_nilearn(rng, mask_img):
    runs = [make_run(rng), make_run(rng)]
    designs = [
        pd.DataFrame(
            {'a': rng.standard_normal(N_SCANS), 'b': np.sin(np.arange(N_SCANS) / 3.0)}
        ).assign(constant=1.0)
        for _ in runs
    ]
    ours = FirstLevelModel(mask_img=mask_img).fit(
        runs, sample_masks=[KEPT, None], design_matrices=designs
    )
    theirs = quietly(
        NilearnFirstLevel(mask_img=mask_img, minimize_memory=False).fit,
        runs,
        sample_masks=[KEPT, np.arange(N_SCANS)],
        design_matrices=designs,
    )
    assert_same_fit(ours, theirs, ['a - b'])


def test_keeping_every_volume_equals_no_scrubbing(rng, mask_img):
    run, events = make_run(rng), make_events()
    scrubbed = FirstLevelModel(t_r=T_R, mask_img=mask_img).fit(
        run, events, sample_masks=np.arange(N_SCANS)
    )
    plain = FirstLevelModel(t_r=T_R, mask_img=mask_img).fit(run, events)
    assert_maps_equal(
        scrubbed.compute_contrast('audio', output_type='all'),
        plain.compute_contrast('audio', output_type='all'),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    ('masks', 'error'),
    [
        ('0,1,2', TypeError),  # not a list or array
        ([KEPT, KEPT], ValueError),  # two masks for one run
        (np.array([-1, 2, 3]), ValueError),  # a negative index
    ],
)
def test_unusable_sample_masks_are_caught_as_nilearns(rng, mask_img, masks, error):
    run, events = make_run(rng), make_events()
    with pytest.raises(error):
        quietly(NilearnFirstLevel(t_r=T_R, mask_img=mask_img).fit, run, events, None, masks)
    with pytest.raises(error):
        FirstLevelModel(t_r=T_R, mask_img=mask_img).fit(run, events, None, masks)


def test_fit_takes_nilearns_parameters_in_nilearns_order():
    ours = list(inspect.signature(FirstLevelModel.fit).parameters)
    assert ours == list(inspect.signature(NilearnFirstLevel.fit).parameters)
    assert ours[4] == 'sample_masks'
