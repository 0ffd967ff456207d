"""The public surface is exactly ``__all__``, and both models keep one contract."""

import inspect

import pytest

import bidsglm
from bidsglm import FirstLevelModel, SecondLevelModel
from bidsglm.errors import InvalidParameterError, NotFittedError

PUBLIC = {
    'FirstLevelModel',
    'SecondLevelModel',
    '__version__',
    'first_level_from_bids',
    'make_first_level_design_matrix',
    'make_second_level_design_matrix',
    'load_glm_from_bids',
    'run_dataset',
    'save_glm_to_bids',
}


def test_all_is_the_public_api():
    assert set(bidsglm.__all__) == PUBLIC
    for name in bidsglm.__all__:
        assert hasattr(bidsglm, name), name


def test_save_glm_to_bids_has_exactly_the_promised_signature():
    parameters = inspect.signature(bidsglm.save_glm_to_bids).parameters.values()
    positional = [p for p in parameters if p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert [(p.name, p.default) for p in positional] == [
        ('model', inspect.Parameter.empty),
        ('contrasts', inspect.Parameter.empty),
        ('contrast_types', None),
        ('out_dir', '.'),
        ('prefix', None),
    ]
    extensions = [(p.name, p.kind, p.default) for p in parameters if p not in positional]
    assert extensions == [
        ('first_level_contrast', inspect.Parameter.KEYWORD_ONLY, None),  # keyword only
        # bidsglm's: a surface model's meshes, for its report (keyword only)
        ('meshes', inspect.Parameter.KEYWORD_ONLY, None),
        # nilearn's report keywords, forwarded to the report as nilearn forwards them
        ('report_kwargs', inspect.Parameter.VAR_KEYWORD, inspect.Parameter.empty),
    ]


@pytest.mark.parametrize('model_class', [FirstLevelModel, SecondLevelModel])
def test_generate_report_has_nilearns_parameters_and_defaults(model_class):
    parameters = inspect.signature(model_class.generate_report).parameters
    assert {name: p.default for name, p in parameters.items() if name != 'self'} == {
        'contrasts': None,
        'first_level_contrast': None,
        'title': None,
        'bg_img': 'MNI152TEMPLATE',
        'threshold': None,
        'alpha': 0.001,
        'cluster_threshold': 0,
        'height_control': 'fpr',
        'two_sided': False,
        'min_distance': 8.0,
        'plot_type': 'slice',
        'cut_coords': None,
        'display_mode': None,
        'report_dims': (1600, 800),
    }


def test_first_level_parameters_carry_nilearn_names_and_defaults():
    parameters = inspect.signature(FirstLevelModel).parameters
    expected = {
        't_r': None,
        'slice_time_ref': 0.0,
        'hrf_model': 'glover',
        'drift_model': 'cosine',
        'high_pass': 0.01,
        'drift_order': 1,
        'min_onset': -24,
        'mask_img': None,
        'smoothing_fwhm': None,
        'signal_scaling': 0,
        'noise_model': 'ar1',
        'minimize_memory': True,
        'n_jobs': 1,
    }
    assert {name: parameters[name].default for name in expected} == expected


@pytest.mark.parametrize('model_class', [FirstLevelModel, SecondLevelModel])
def test_init_only_stores_parameters(model_class):
    model = model_class()
    assert model.get_params() == {
        name: parameter.default
        for name, parameter in inspect.signature(model_class).parameters.items()
    }
    assert not [name for name in vars(model) if name.endswith('_')]


@pytest.mark.parametrize('model_class', [FirstLevelModel, SecondLevelModel])
def test_set_params_rejects_unknown_names(model_class):
    with pytest.raises(InvalidParameterError, match='no parameter'):
        model_class().set_params(unknown=1)


@pytest.mark.parametrize('model_class', [FirstLevelModel, SecondLevelModel])
def test_using_an_unfitted_model_raises_not_fitted(model_class):
    model = model_class()
    with pytest.raises(NotFittedError, match=f'This {model_class.__name__} is not fitted yet'):
        model.compute_contrast('intercept')
    with pytest.raises(NotFittedError):
        _ = model.residuals_
    with pytest.raises(NotFittedError, match='not fitted yet'):
        model.generate_report('intercept')


def test_not_fitted_error_is_also_a_value_and_attribute_error():
    assert issubclass(NotFittedError, ValueError)
    assert issubclass(NotFittedError, AttributeError)
