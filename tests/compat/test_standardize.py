"""``FirstLevelModel(standardize=...)`` against nilearn 0.14.1.

nilearn 0.14.1 accepts False, True, None, 'zscore_sample' and 'psc' (and what equals
them: 0, 1, numpy booleans), refuses 'zscore' and anything else with a ValueError,
and applies none of them: its ``fit`` sets ``standardize_ = None`` whenever
``signal_scaling in [0, 1, (0, 1)]``, which also holds for ``signal_scaling=False``
(``False == 0``). So the maps are those without standardizing, whatever the value,
with or without ``signal_scaling``: 1e-6 relative on float64 runs, 1e-4 on float32.
bidsglm gives the same maps, and warns when a value asks for a standardization that
is not applied (nilearn says nothing).
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel

from bidsglm import FirstLevelModel
from bidsglm.errors import InvalidParameterError

from .conftest import T_R, assert_maps_equal, make_events, make_run, quietly, recording, warned

pytestmark = pytest.mark.oracle

NOT_APPLIED = 'is not applied: nilearn 0.14.1 never applies it'


def fit_both(run, mask_img, **params):
    ours, caught = recording(
        FirstLevelModel(t_r=T_R, mask_img=mask_img, **params).fit, run, make_events()
    )
    theirs = NilearnFirstLevel(t_r=T_R, mask_img=mask_img, minimize_memory=False, **params)
    return ours, quietly(theirs.fit, run, make_events()), caught


@pytest.mark.parametrize('signal_scaling', [0, False, (0, 1)])
@pytest.mark.parametrize('standardize', [False, True, None, 'zscore_sample', 'psc', 1, 0])
def test_standardize_gives_nilearns_maps(rng, mask_img, standardize, signal_scaling):
    ours, theirs, caught = fit_both(
        make_run(rng),
        mask_img,
        standardize=standardize,
        signal_scaling=signal_scaling,
        noise_model='ols',
    )
    assert ours.standardize_ is None
    assert theirs.standardize_ is None
    assert_maps_equal(
        ours.compute_contrast('audio - visual', output_type='all'),
        theirs.compute_contrast('audio - visual', output_type='all'),
    )
    assert warned(caught, UserWarning, NOT_APPLIED) == bool(standardize)


@pytest.mark.parametrize('standardize', ['zscore_sample', 'psc'])
def test_standardize_on_float32_ar1_runs_without_scaling_gives_nilearns_maps(
    rng, mask_img, standardize
):
    run = make_run(rng)
    run = nib.Nifti1Image(run.get_fdata().astype(np.float32), run.affine)
    ours, theirs, _ = fit_both(run, mask_img, standardize=standardize, signal_scaling=False)
    assert_maps_equal(
        ours.compute_contrast('audio', output_type='all'),
        theirs.compute_contrast('audio', output_type='all'),
        rtol=1e-4,
    )


def test_standardize_changes_nothing_in_bidsglm(rng, mask_img):
    run = make_run(rng)
    plain = FirstLevelModel(t_r=T_R, mask_img=mask_img, signal_scaling=False)
    asked = FirstLevelModel(
        t_r=T_R, mask_img=mask_img, signal_scaling=False, standardize='zscore_sample'
    )
    with pytest.warns(UserWarning, match=NOT_APPLIED):
        asked.fit(run, make_events())
    assert_maps_equal(
        asked.compute_contrast('audio', output_type='all'),
        plain.fit(run, make_events()).compute_contrast('audio', output_type='all'),
        rtol=1e-12,
    )


@pytest.mark.parametrize('standardize', ['zscore', 'foo', 'ZSCORE_SAMPLE', 2, 0.5])
def test_values_nilearn_refuses_are_value_errors_in_both(rng, mask_img, standardize):
    run = make_run(rng)
    with pytest.raises(ValueError, match="'standardize' must be one of"):
        quietly(
            NilearnFirstLevel(t_r=T_R, mask_img=mask_img, standardize=standardize).fit,
            run,
            make_events(),
        )
    with pytest.raises(InvalidParameterError, match=r"'standardize' parameter.*'zscore_sample'"):
        FirstLevelModel(t_r=T_R, mask_img=mask_img, standardize=standardize).fit(
            run, make_events()
        )
