"""ParamsMixin: scikit-learn's parameter conventions, without scikit-learn."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bidsglm.errors import InvalidParameterError
from bidsglm.models._params import ParamsMixin


class Inner(ParamsMixin):
    def __init__(self, fwhm=None, mode='reflect'):
        self.fwhm = fwhm
        self.mode = mode


class Outer(ParamsMixin):
    def __init__(self, zeta=1.0, alpha=0, mask=None):
        self.zeta = zeta
        self.alpha = alpha
        self.mask = mask


def test_get_params_lists_parameters_sorted_by_name():
    assert list(Outer().get_params(deep=False)) == ['alpha', 'mask', 'zeta']


def test_get_params_deep_adds_the_parameters_of_an_estimator_parameter():
    inner = Inner(fwhm=4.0)
    model = Outer(mask=inner)
    assert model.get_params(deep=False) == {'alpha': 0, 'mask': inner, 'zeta': 1.0}
    assert model.get_params() == {
        'alpha': 0,
        'mask': inner,
        'mask__fwhm': 4.0,
        'mask__mode': 'reflect',
        'zeta': 1.0,
    }


def test_a_class_as_a_parameter_is_not_expanded():
    assert Outer(mask=Inner).get_params() == {'alpha': 0, 'mask': Inner, 'zeta': 1.0}


def test_set_params_returns_the_estimator_and_sets_nested_parameters():
    inner = Inner()
    model = Outer(mask=inner)
    assert model.set_params(alpha=2, mask__fwhm=6.0) is model
    assert (model.alpha, inner.fwhm, inner.mode) == (2, 6.0, 'reflect')
    assert model.set_params() is model


def test_set_params_sets_the_holder_before_its_nested_parameters():
    new = Inner()
    model = Outer(mask=Inner(fwhm=1.0)).set_params(mask__mode='nearest', mask=new)
    assert model.mask is new
    assert new.mode == 'nearest'


def test_set_params_refuses_an_unknown_name_and_changes_nothing():
    model = Outer()
    with pytest.raises(InvalidParameterError, match=r"Invalid parameter 'beta' for Outer") as info:
        model.set_params(alpha=3, beta=1)
    assert isinstance(info.value, ValueError)
    assert "['alpha', 'mask', 'zeta']" in str(info.value)
    assert model.alpha == 0


def test_set_params_refuses_nested_names_on_a_plain_value():
    model = Outer(mask='mask.nii.gz')
    with pytest.raises(InvalidParameterError, match=r'holds str, which has no parameters'):
        model.set_params(mask__fwhm=2.0)
    assert model.mask == 'mask.nii.gz'


def test_repr_shows_only_changed_parameters_in_name_order():
    assert repr(Outer()) == 'Outer()'
    assert repr(Outer(zeta=2.0, alpha=1)) == 'Outer(alpha=1, zeta=2.0)'
    # scikit-learn compares reprs: 1 is not its default 1.0
    assert repr(Outer(zeta=1)) == 'Outer(zeta=1)'
    assert repr(Outer(mask=Inner(fwhm=3))) == 'Outer(mask=Inner(fwhm=3))'


def test_repr_wraps_long_lines_under_the_class_name():
    model = Outer(alpha='a' * 30, zeta='z' * 30, mask='m' * 20)
    lines = repr(model).split('\n')
    assert lines == [
        f"Outer(alpha='{'a' * 30}', mask='{'m' * 20}',",
        f"      zeta='{'z' * 30}')",
    ]
    assert all(len(line) <= 81 for line in lines)


def test_repr_of_a_very_long_value_is_cut_in_the_middle():
    text = repr(Outer(mask='x' * 2000))
    assert text.startswith("Outer(mask='xxx")
    assert text.endswith("xxx')")
    assert '...' in text
    assert len(text) == 703


def test_sklearn_tags_need_scikit_learn_imported(monkeypatch):
    monkeypatch.setitem(sys.modules, 'sklearn.utils', None)
    with pytest.raises(AttributeError, match=r'scikit-learn >= 1\.6'):
        Outer().__sklearn_tags__()


def test_fitting_and_reading_attributes_import_no_heavy_or_test_only_package():
    """scikit-learn and nilearn are test-only; scipy.signal costs a second to import."""
    script = (
        'import sys, numpy as np, nibabel as nib\n'
        'from bidsglm import FirstLevelModel, SecondLevelModel\n'
        'rng = np.random.default_rng(0)\n'
        'run = nib.Nifti1Image(100 + rng.standard_normal((3, 3, 3, 20)), np.eye(4))\n'
        'model = FirstLevelModel(t_r=2.0, mask_img=False, drift_model=None, hrf_model=None)\n'
        'model.fit(run, design_matrices=__import__("pandas").DataFrame({"c": np.ones(20)}))\n'
        'result = next(iter(model.results_[0].values()))\n'
        'result.Y, result.residuals, model.masker_.transform(run), repr(model)\n'
        'model.get_params(deep=True)\n'
        'print(sorted(m for m in ("sklearn", "nilearn", "scipy.signal") if m in sys.modules))\n'
    )
    done = subprocess.run(
        [sys.executable, '-c', script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == '[]'
