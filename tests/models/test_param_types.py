"""Parameter types are checked as nilearn checks them; the errors are ours."""

from types import SimpleNamespace

import numpy as np
import pytest

from bidsglm import FirstLevelModel, SecondLevelModel
from bidsglm.errors import ParameterTypeError
from bidsglm.models._param_types import RULES, check_parameter_types


@pytest.mark.parametrize(
    ('name', 'value'),
    [
        ('t_r', 2),
        ('t_r', np.float32(2.0)),
        ('t_r', None),
        ('slice_time_ref', 0.5),
        ('smoothing_fwhm', np.int64(4)),
        ('hrf_model', 'spm'),
        ('hrf_model', None),
        ('hrf_model', [np.ones]),
        ('hrf_model', len),
        ('n_jobs', np.int64(-1)),
        ('verbose', True),
        ('verbose', 2),
        ('memory', '/tmp/cache'),
        ('memory', None),
        ('random_state', np.random.RandomState(0)),
        ('random_state', np.random.default_rng(0)),
        ('random_state', 3),
        ('target_affine', np.eye(4)),
        ('target_shape', (2, 3, 4)),
    ],
)
def test_accepted_types_pass(name, value):
    check_parameter_types(SimpleNamespace(**{name: value}))


@pytest.mark.parametrize(
    ('name', 'value', 'expected'),
    [
        ('t_r', '2', r"must be a float or None\. Got '2' \(str\) instead\.$"),
        ('t_r', True, r'must be a float or None\. Got True \(bool\) instead\.$'),
        ('slice_time_ref', [0.5], r'must be a float in \[0, 1\]. Got \[0.5\] \(list\)'),
        ('n_jobs', 2.0, r'must be a non-zero int \(-1 for every core\). Got 2.0 \(float\)'),
        ('n_jobs', False, r'must be a non-zero int .* Got False \(bool\)'),
        ('memory_level', '1', "must be an int. Got '1' \\(str\\)"),
        ('verbose', 1.0, 'must be a bool or an int'),
        ('memory', 3, 'must be None, a folder path or a joblib.Memory'),
        ('random_state', 'seed', 'must be an int, a numpy random generator or None'),
        ('noise_model', None, "must be a name such as 'ar1' or 'ols'"),
        ('hrf_model', 3, 'must be a name, a function'),
        ('target_affine', 'eye', 'must be an array, a list, a tuple or None'),
    ],
)
def test_wrong_types_name_the_parameter_and_the_value(name, value, expected):
    model = SimpleNamespace(**{name: value})
    with pytest.raises(
        ParameterTypeError, match=rf"^The '{name}' parameter of SimpleNamespace {expected}"
    ):
        check_parameter_types(model)


def test_a_long_value_is_cut_in_the_message():
    with pytest.raises(ParameterTypeError) as caught:
        check_parameter_types(SimpleNamespace(t_r='x' * 500))
    assert len(str(caught.value)) < 200


def test_absent_parameters_are_not_checked():
    check_parameter_types(SimpleNamespace(subject_label=3, unknown='x'))


@pytest.mark.parametrize('model_class', [FirstLevelModel, SecondLevelModel])
def test_every_rule_names_nilearn_parameters_of_one_of_the_estimators(model_class):
    names = set(FirstLevelModel().get_params()) | set(SecondLevelModel().get_params())
    assert set(RULES) <= names
    assert set(model_class().get_params()) & set(RULES)
