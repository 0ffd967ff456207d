"""Every public parameter of nilearn's estimators and design functions, side by side.

Each parameter of ``FirstLevelModel`` and ``SecondLevelModel`` (constructor, ``fit``,
``compute_contrast``) and of ``make_first_level_design_matrix`` and
``make_second_level_design_matrix`` gets a value other than its default (with the
companions it needs, such as ``hrf_model='fir'`` for ``fir_delays``). Both libraries
are called with the same arguments on the same tiny data and must give the same
numbers: 1e-6 relative on the maps, 1e-10 on the designs. The last tests fail when
nilearn 0.14.1 has a parameter that the tables here do not cover.
"""

from __future__ import annotations

import inspect
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.glm.first_level import (
    make_first_level_design_matrix as nilearn_first_level_design,
)
from nilearn.glm.second_level import SecondLevelModel as NilearnSecondLevel
from nilearn.glm.second_level import (
    make_second_level_design_matrix as nilearn_second_level_design,
)

from bidsglm import (
    FirstLevelModel,
    SecondLevelModel,
    make_first_level_design_matrix,
    make_second_level_design_matrix,
)

from .conftest import (
    N_SCANS,
    T_R,
    assert_designs_equal,
    assert_maps_equal,
    make_events,
    make_maps,
    make_run,
    quietly,
)

pytestmark = pytest.mark.oracle

#: A coarser grid than the data's (3 x 3 x 3.5 mm), for the resampling parameters.
TARGET = np.diag([4.0, 4.0, 4.0, 1.0])

#: FirstLevelModel(...): each parameter, and the arguments that give it a non-default
#: value. The data's grid, t_r and a mask come from the test unless a case sets them.
FIRST_LEVEL_INIT: dict[str, dict[str, Any]] = {
    't_r': {'t_r': 2.5},
    'slice_time_ref': {'slice_time_ref': 0.5},
    'hrf_model': {'hrf_model': 'spm + derivative + dispersion'},
    'drift_model': {'drift_model': None},
    'high_pass': {'high_pass': 0.03},
    'drift_order': {'drift_model': 'polynomial', 'drift_order': 3},
    'fir_delays': {'hrf_model': 'fir', 'fir_delays': [0, 1, 2]},
    'min_onset': {'min_onset': -6},
    'mask_img': {'mask_img': None},
    'target_affine': {'target_affine': TARGET[:3, :3]},
    'target_shape': {'target_affine': TARGET, 'target_shape': (5, 5, 6)},
    'smoothing_fwhm': {'smoothing_fwhm': 5.0},
    'memory': {'memory': 'MEMORY'},
    'memory_level': {'memory_level': 2},
    'standardize': {'standardize': 'zscore_sample'},
    'signal_scaling': {'signal_scaling': (0, 1)},
    'noise_model': {'noise_model': 'ols'},
    'verbose': {'verbose': 1},
    'n_jobs': {'n_jobs': 2},
    'minimize_memory': {'minimize_memory': False},
    'subject_label': {'subject_label': '07'},
    'random_state': {'noise_model': 'ar2', 'random_state': 4},
    'reports': {'reports': False},
}

#: Parameters that nilearn 0.14.1 cannot fit with (a bug of its own): with
#: ``memory_level=2`` its masker caches a function object without a ``__name__`` and
#: fails with ``AttributeError`` (the first level when it fits, the second level when
#: it computes its first contrast). Ours fit, and equal nilearn's default numbers.
NILEARN_FAILS = {'memory_level': AttributeError}

#: FirstLevelModel.fit(...): each parameter other than the runs' images.
FIRST_LEVEL_FIT = ('events', 'confounds', 'sample_masks', 'design_matrices', 'bins')

#: FirstLevelModel.compute_contrast(...)
FIRST_LEVEL_CONTRAST: dict[str, dict[str, Any]] = {
    'contrast_def': {'contrast_def': 'audio'},
    'stat_type': {'contrast_def': np.eye(4)[:2], 'stat_type': 'F'},
    'output_type': {'contrast_def': 'visual', 'output_type': 'effect_variance'},
}

#: SecondLevelModel(...)
SECOND_LEVEL_INIT: dict[str, dict[str, Any]] = {
    'mask_img': {'mask_img': None},
    'target_affine': {'target_affine': TARGET},
    'target_shape': {'target_affine': TARGET, 'target_shape': (5, 6, 7)},
    'smoothing_fwhm': {'smoothing_fwhm': 6.0},
    'memory': {'memory': 'MEMORY'},
    'memory_level': {'memory_level': 2},
    'verbose': {'verbose': 1},
    'n_jobs': {'n_jobs': 2},
    'minimize_memory': {'minimize_memory': False},
    'reports': {'reports': False},
}

#: SecondLevelModel.fit(...) and .compute_contrast(...), covered by the tests below.
SECOND_LEVEL_FIT = ('second_level_input', 'confounds', 'design_matrix')
SECOND_LEVEL_CONTRAST = (
    'second_level_contrast',
    'first_level_contrast',
    'second_level_stat_type',
    'output_type',
)

#: make_first_level_design_matrix(...), the frame times given.
FIRST_LEVEL_DESIGN: dict[str, dict[str, Any]] = {
    'events': {'events': make_events(1.0)},
    'hrf_model': {'hrf_model': 'glover + derivative'},
    'drift_model': {'drift_model': 'polynomial'},
    'high_pass': {'high_pass': 0.02},
    'drift_order': {'drift_model': 'polynomial', 'drift_order': 2},
    'fir_delays': {'hrf_model': 'fir', 'fir_delays': [1, 3]},
    'add_regs': {'add_regs': np.linspace(-1.0, 1.0, N_SCANS)[:, None]},
    'add_reg_names': {
        'add_regs': np.linspace(-1.0, 1.0, 2 * N_SCANS).reshape(N_SCANS, 2),
        'add_reg_names': ['motion_x', 'motion_y'],
    },
    'min_onset': {'min_onset': -4},
    'oversampling': {'oversampling': 16},
}


def with_memory(arguments: dict[str, Any], folder: str) -> dict[str, Any]:
    """The arguments, with the placeholder ``'MEMORY'`` replaced by a real folder."""
    return {
        key: folder if isinstance(value, str) and value == 'MEMORY' else value
        for key, value in arguments.items()
    }


def first_level_pair(
    mask: nib.Nifti1Image | None, **arguments: Any
) -> tuple[FirstLevelModel, NilearnFirstLevel]:
    """Both first-level models with the same arguments (t_r and mask unless given)."""
    settings = {'t_r': T_R, 'mask_img': mask, 'minimize_memory': False} | arguments
    return FirstLevelModel(**settings), NilearnFirstLevel(**settings)


def without_nilearns_bugs(
    parameter: str,
    arguments: dict[str, Any],
    fit: Any,
) -> dict[str, Any]:
    """The arguments nilearn is compared with: without a parameter it fails on.

    ``fit`` fits a nilearn model made with given arguments; for a parameter of
    :data:`NILEARN_FAILS` it must fail as recorded there.
    """
    if parameter not in NILEARN_FAILS:
        return arguments
    with pytest.raises(NILEARN_FAILS[parameter]):
        fit(arguments)
    return {key: value for key, value in arguments.items() if key != parameter}


def fit_first_levels(
    pair: tuple[FirstLevelModel, NilearnFirstLevel], *args: Any, **kwargs: Any
) -> tuple[FirstLevelModel, NilearnFirstLevel]:
    ours, theirs = pair
    return quietly(ours.fit, *args, **kwargs), quietly(theirs.fit, *args, **kwargs)


def assert_contrasts_equal(ours: Any, theirs: Any, contrast: Any, **kwargs: Any) -> None:
    assert_maps_equal(
        quietly(ours.compute_contrast, contrast, output_type='all', **kwargs),
        quietly(theirs.compute_contrast, contrast, output_type='all', **kwargs),
    )


@pytest.mark.parametrize('parameter', sorted(FIRST_LEVEL_INIT))
def test_each_first_level_parameter_gives_nilearns_numbers(parameter, rng, mask_img, tmp_path):
    arguments = with_memory(FIRST_LEVEL_INIT[parameter], str(tmp_path))
    runs = [make_run(rng), make_run(rng)]
    events = [make_events(0.0), make_events(2.0)]

    def fit_nilearn(given):
        return quietly(first_level_pair(mask_img, **given)[1].fit, runs, events)

    ours = quietly(first_level_pair(mask_img, **arguments)[0].fit, runs, events)
    theirs = fit_nilearn(without_nilearns_bugs(parameter, arguments, fit_nilearn))
    assert_designs_equal(ours.design_matrices_, theirs.design_matrices_)
    np.testing.assert_array_equal(ours.mask_img_.get_fdata(), theirs.masker_.mask_img_.get_fdata())
    contrast = 'audio - visual' if parameter != 'fir_delays' else 'audio_delay_1 - visual_delay_1'
    assert_contrasts_equal(ours, theirs, contrast)
    assert ours.subject_label == theirs.subject_label


def test_first_level_fit_events_as_files_and_confounds_give_nilearns_numbers(
    rng, mask_img, tmp_path
):
    runs = [make_run(rng), make_run(rng)]
    paths = []
    for index, shift in enumerate((0.0, 2.0)):
        paths.append(tmp_path / f'events{index}.tsv')
        make_events(shift).to_csv(paths[-1], sep='\t', index=False)
    confounds = [
        pd.DataFrame({'motion': rng.standard_normal(N_SCANS), 'csf': rng.standard_normal(N_SCANS)})
        for _ in runs
    ]
    pair = first_level_pair(mask_img)
    ours, theirs = fit_first_levels(pair, runs, [str(p) for p in paths], confounds)
    assert_designs_equal(ours.design_matrices_, theirs.design_matrices_)
    assert_contrasts_equal(ours, theirs, 'audio - visual')


def test_first_level_fit_sample_masks_and_bins_give_nilearns_numbers(rng, mask_img):
    runs = [make_run(rng), make_run(rng)]
    events = [make_events(0.0), make_events(2.0)]
    kept = [np.arange(3, N_SCANS), np.r_[0:20, 25:N_SCANS]]
    pair = first_level_pair(mask_img)
    ours, theirs = fit_first_levels(pair, runs, events, sample_masks=kept, bins=7)
    assert_designs_equal(ours.design_matrices_, theirs.design_matrices_)
    np.testing.assert_array_equal(ours.labels_[1], theirs.labels_[1])
    assert_contrasts_equal(ours, theirs, 'audio - visual')


def test_first_level_fit_design_matrices_give_nilearns_numbers(rng, mask_img):
    runs = [make_run(rng)]
    frame_times = np.arange(N_SCANS) * T_R
    design = make_first_level_design_matrix(frame_times, make_events(1.0), drift_model=None)
    ours, theirs = fit_first_levels(first_level_pair(mask_img), runs, design_matrices=[design])
    assert_contrasts_equal(ours, theirs, 'visual')


@pytest.mark.parametrize('parameter', sorted(FIRST_LEVEL_CONTRAST))
def test_each_first_level_contrast_parameter_gives_nilearns_numbers(parameter, rng, mask_img):
    runs, events = [make_run(rng)], [make_events(0.0)]
    ours, theirs = fit_first_levels(first_level_pair(mask_img), runs, events)
    arguments = FIRST_LEVEL_CONTRAST[parameter]
    mine = quietly(ours.compute_contrast, **arguments)
    reference = quietly(theirs.compute_contrast, **arguments)
    np.testing.assert_allclose(mine.get_fdata(), reference.get_fdata(), rtol=1e-6, atol=1e-9)


def second_level_pair(
    mask: nib.Nifti1Image | None, **arguments: Any
) -> tuple[SecondLevelModel, NilearnSecondLevel]:
    settings = {'mask_img': mask, 'minimize_memory': False} | arguments
    return SecondLevelModel(**settings), NilearnSecondLevel(**settings)


def one_sample_design(n_maps: int) -> pd.DataFrame:
    return pd.DataFrame({'intercept': np.ones(n_maps)})


@pytest.mark.parametrize('parameter', sorted(SECOND_LEVEL_INIT))
def test_each_second_level_parameter_gives_nilearns_numbers(parameter, rng, mask_img, tmp_path):
    arguments = with_memory(SECOND_LEVEL_INIT[parameter], str(tmp_path))
    maps = make_maps(rng, 6)

    def fit(model):
        return quietly(model.fit, maps, design_matrix=one_sample_design(6))

    def fit_nilearn(given):
        # nilearn reads the maps when the first contrast is computed
        model = fit(second_level_pair(mask_img, **given)[1])
        quietly(model.compute_contrast, 'intercept')
        return model

    ours = fit(second_level_pair(mask_img, **arguments)[0])
    theirs = fit_nilearn(without_nilearns_bugs(parameter, arguments, fit_nilearn))
    assert_contrasts_equal(ours, theirs, 'intercept')


def first_level_models(rng, mask_img, subjects):
    """Fitted first-level models of both libraries, one per subject."""
    pairs = []
    for subject in subjects:
        runs, events = [make_run(rng)], [make_events(0.0)]
        pair = first_level_pair(mask_img, subject_label=subject)
        pairs.append(fit_first_levels(pair, runs, events))
    return [pair[0] for pair in pairs], [pair[1] for pair in pairs]


def test_second_level_input_confounds_and_first_level_contrast_give_nilearns_numbers(
    rng, mask_img
):
    subjects = ['01', '02', '03', '04', '05']
    ours_inputs, their_inputs = first_level_models(rng, mask_img, subjects)
    confounds = pd.DataFrame({'subject_label': subjects, 'age': [23.0, 31.0, 27.0, 45.0, 38.0]})
    ours, theirs = second_level_pair(mask_img)
    quietly(ours.fit, ours_inputs, confounds=confounds)
    quietly(theirs.fit, their_inputs, confounds=confounds)
    pd.testing.assert_frame_equal(ours.design_matrix_, theirs.design_matrix_)
    for contrast in ('intercept', 'age'):
        assert_contrasts_equal(ours, theirs, contrast, first_level_contrast='audio - visual')


@pytest.mark.parametrize('output_type', ['stat', 'p_value', 'effect_size'])
def test_second_level_f_test_and_output_types_give_nilearns_numbers(rng, mask_img, output_type):
    maps = make_maps(rng, 8)
    design = pd.DataFrame({'intercept': np.ones(8), 'dose': np.linspace(-1.0, 1.0, 8)})
    ours, theirs = second_level_pair(mask_img)
    quietly(ours.fit, maps, design_matrix=design)
    quietly(theirs.fit, maps, design_matrix=design)
    arguments = {
        'second_level_contrast': np.eye(2),
        'second_level_stat_type': 'F',
        'output_type': output_type,
    }
    np.testing.assert_allclose(
        quietly(ours.compute_contrast, **arguments).get_fdata(),
        quietly(theirs.compute_contrast, **arguments).get_fdata(),
        rtol=1e-6,
        atol=1e-9,
    )


@pytest.mark.parametrize('parameter', sorted(FIRST_LEVEL_DESIGN))
def test_each_first_level_design_parameter_gives_nilearns_design(parameter):
    frame_times = np.arange(N_SCANS) * T_R
    arguments = {'events': make_events(0.0)} | FIRST_LEVEL_DESIGN[parameter]
    ours = quietly(make_first_level_design_matrix, frame_times, **arguments)
    theirs = quietly(nilearn_first_level_design, frame_times, **arguments)
    assert_designs_equal([ours], [theirs])


def test_second_level_design_with_confounds_gives_nilearns_design():
    subjects = ['sub-01', 'sub-02', 'sub-03']
    confounds = pd.DataFrame({'subject_label': subjects, 'age': [30.0, 24.0, 41.0]})
    ours = quietly(make_second_level_design_matrix, subjects, confounds)
    theirs = quietly(nilearn_second_level_design, subjects, confounds)
    pd.testing.assert_frame_equal(ours, theirs)


def names(function: Any, skip: tuple[str, ...] = ()) -> set[str]:
    """The parameter names of one of nilearn's functions, without ``self`` and ``skip``."""
    return set(inspect.signature(function).parameters) - {'self', *skip}


@pytest.mark.parametrize(
    ('function', 'covered', 'skip'),
    [
        (NilearnFirstLevel.__init__, set(FIRST_LEVEL_INIT), ()),
        (NilearnFirstLevel.fit, set(FIRST_LEVEL_FIT), ('run_imgs',)),
        (NilearnFirstLevel.compute_contrast, set(FIRST_LEVEL_CONTRAST), ()),
        (NilearnSecondLevel.__init__, set(SECOND_LEVEL_INIT), ()),
        (NilearnSecondLevel.fit, set(SECOND_LEVEL_FIT), ()),
        (NilearnSecondLevel.compute_contrast, set(SECOND_LEVEL_CONTRAST), ()),
        (nilearn_first_level_design, set(FIRST_LEVEL_DESIGN), ('frame_times',)),
        (nilearn_second_level_design, {'subjects_label', 'confounds'}, ()),
    ],
)
def test_every_nilearn_parameter_is_covered(function, covered, skip):
    assert names(function, skip) == covered


@pytest.mark.parametrize(
    ('ours', 'theirs'),
    [
        (FirstLevelModel.__init__, NilearnFirstLevel.__init__),
        (FirstLevelModel.fit, NilearnFirstLevel.fit),
        (FirstLevelModel.compute_contrast, NilearnFirstLevel.compute_contrast),
        (SecondLevelModel.__init__, NilearnSecondLevel.__init__),
        (SecondLevelModel.fit, NilearnSecondLevel.fit),
        (SecondLevelModel.compute_contrast, NilearnSecondLevel.compute_contrast),
        (make_first_level_design_matrix, nilearn_first_level_design),
        (make_second_level_design_matrix, nilearn_second_level_design),
    ],
)
def test_parameters_have_nilearns_names_order_and_defaults(ours, theirs):
    def listed(function):
        return [
            (name, parameter.default)
            for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind is not inspect.Parameter.VAR_KEYWORD
        ]

    mine, reference = listed(ours), listed(theirs)
    assert mine[: len(reference)] == reference
    assert all(
        inspect.signature(ours).parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        for name, _ in mine[len(reference) :]
    )
