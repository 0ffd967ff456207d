"""Tests of bidsglm.models._base: what both estimators share (here, ``memory_``)."""

from __future__ import annotations

import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

from bidsglm.models import SecondLevelModel


def _maps():
    return [nib.Nifti1Image(np.full((2, 2, 2), value), np.eye(4)) for value in (1.0, 2.0, 4.0)]


MASK = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))


def test_memory_is_absent_before_a_fit_and_a_joblib_memory_after(tmp_path):
    from joblib import Memory

    model = SecondLevelModel(mask_img=MASK, memory=str(tmp_path))
    assert not hasattr(model, 'memory_')
    with pytest.raises(AttributeError, match='exists once the model is fitted'):
        _ = model.memory_
    model.fit(_maps())
    assert isinstance(model.memory_, Memory)
    assert model.memory_.location == str(tmp_path)
    assert model.memory_ is model.memory_  # made once


def test_memory_given_with_a_cache_method_is_kept():
    class Cache:
        def cache(self, function):
            return function

    given = Cache()
    assert SecondLevelModel(mask_img=MASK, memory=given).fit(_maps()).memory_ is given


def test_a_fit_and_save_do_not_import_joblib(tmp_path):
    script = (
        'import sys, nibabel as nib, numpy as np\n'
        'from bidsglm import save_glm_to_bids\n'
        'from bidsglm.models import SecondLevelModel\n'
        'maps = [nib.Nifti1Image(np.full((2, 2, 2), v), np.eye(4)) for v in (1.0, 2.0, 4.0)]\n'
        'mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))\n'
        'model = SecondLevelModel(mask_img=mask).fit(maps)\n'
        f'save_glm_to_bids(model, "intercept", out_dir={str(tmp_path)!r}, prefix="task-x")\n'
        'print("joblib" in sys.modules)\n'
    )
    result = subprocess.run(
        [sys.executable, '-c', script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == 'False'
