"""FirstLevelModel.fit takes designs, events and confounds in nilearn's forms, same numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.glm.first_level import make_first_level_design_matrix as nilearn_design

from bidsglm import FirstLevelModel
from bidsglm.errors import InputNotFoundError, InvalidParameterError, ParameterTypeError

from .conftest import (
    N_SCANS,
    T_R,
    assert_designs_equal,
    assert_maps_equal,
    quietly,
    recording,
    warned,
)

pytestmark = pytest.mark.oracle

FRAME_TIMES = np.arange(N_SCANS) * T_R


def _designs(events: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """nilearn's designs of the runs, with a motion-like confound."""
    drift = np.linspace(-1.0, 1.0, N_SCANS) ** 3
    confounds = pd.DataFrame({'trans_x': drift})
    return [nilearn_design(FRAME_TIMES, e, add_regs=confounds) for e in events]


def _write(designs: list[pd.DataFrame], folder: Path, suffix: str) -> list[Path]:
    paths = []
    for index, design in enumerate(designs):
        path = folder / f'run-{index + 1}_design{suffix}'
        design.to_csv(path, sep='\t' if suffix == '.tsv' else ',', index=False)
        paths.append(path)
    return paths


def _both(runs, mask_img, **fit):
    t_r = T_R if 'events' in fit else None
    ours = FirstLevelModel(t_r=t_r, mask_img=mask_img).fit(runs, **fit)
    theirs = quietly(NilearnFirstLevel(t_r=t_r, mask_img=mask_img).fit, runs, **fit)
    return ours, theirs


def _assert_same_fit(ours, theirs, contrast):
    assert_designs_equal(ours.design_matrices_, theirs.design_matrices_)
    per_run = [contrast] * len(ours.design_matrices_)
    assert_maps_equal(
        ours.compute_contrast(per_run, output_type='all'),
        quietly(theirs.compute_contrast, per_run, output_type='all'),
    )


# ------------------------------------------------------------------ design matrices
@pytest.mark.parametrize('suffix', ['.tsv', '.csv'])
@pytest.mark.parametrize('as_text', [True, False], ids=['str', 'Path'])
def test_design_matrices_as_paths_fit_as_nilearn(two_runs, mask_img, tmp_path, suffix, as_text):
    runs, events = two_runs
    paths = _write(_designs(events), tmp_path, suffix)
    given = [str(p) for p in paths] if as_text else paths
    ours, theirs = _both(runs, mask_img, design_matrices=given)
    assert list(ours.design_matrices_[0].columns)[:3] == ['audio', 'visual', 'trans_x']
    _assert_same_fit(ours, theirs, 'audio - visual')


def test_one_design_matrix_path_for_one_run_fits_as_nilearn(two_runs, mask_img, tmp_path):
    runs, events = two_runs
    (path,) = _write(_designs(events[:1]), tmp_path, '.tsv')
    ours, theirs = _both(runs[0], mask_img, design_matrices=str(path))
    assert len(ours.design_matrices_[0]) == N_SCANS  # not the length of the path
    _assert_same_fit(ours, theirs, 'visual')


@pytest.mark.parametrize('design', [3, {'audio': [1.0]}, None], ids=['int', 'dict', 'None'])
def test_design_matrices_of_a_wrong_type_are_a_type_error_in_both(two_runs, mask_img, design):
    runs, _ = two_runs
    with pytest.raises(TypeError):
        quietly(NilearnFirstLevel(mask_img=mask_img).fit, runs[0], design_matrices=[design])
    with pytest.raises(ParameterTypeError, match=r"'design_matrices' parameter.*Got"):
        FirstLevelModel(mask_img=mask_img).fit(runs[0], design_matrices=[design])


def test_design_matrix_file_of_another_kind_is_a_value_error_in_both(two_runs, mask_img, tmp_path):
    runs, events = two_runs
    (path,) = _write(_designs(events[:1]), tmp_path, '.tsv')
    text = path.rename(tmp_path / 'design.txt')
    with pytest.raises(ValueError, match='TSV or CSV'):
        quietly(NilearnFirstLevel(mask_img=mask_img).fit, runs[0], design_matrices=text)
    with pytest.raises(InvalidParameterError, match=r"design\.txt'.*\['\.csv', '\.tsv'\]"):
        FirstLevelModel(mask_img=mask_img).fit(runs[0], design_matrices=text)


def test_missing_design_matrix_file_is_a_file_not_found_in_both(two_runs, mask_img, tmp_path):
    runs, _ = two_runs
    missing = tmp_path / 'design.tsv'
    with pytest.raises(FileNotFoundError):
        quietly(NilearnFirstLevel(mask_img=mask_img).fit, runs[0], design_matrices=missing)
    with pytest.raises(InputNotFoundError, match=r"design matrix file '.*design\.tsv'"):
        FirstLevelModel(mask_img=mask_img).fit(runs[0], design_matrices=missing)


def test_design_matrices_not_one_per_run_is_a_value_error_in_both(two_runs, mask_img):
    runs, events = two_runs
    designs = _designs(events)
    with pytest.raises(ValueError, match='does not match'):
        quietly(NilearnFirstLevel(mask_img=mask_img).fit, runs[0], design_matrices=designs)
    with pytest.raises(ValueError, match='2 design_matrices were given for 1 runs'):
        FirstLevelModel(mask_img=mask_img).fit(runs[0], design_matrices=designs)


# ------------------------------------------------- designs given with events/confounds
@pytest.mark.parametrize(
    ('extra', 'named', 'nilearn_named'),
    [
        (('events',), 'events', 'events'),
        (('confounds',), 'confounds', 'confounds'),
        (('events', 'confounds'), 'events and confounds', 'confounds and events'),
    ],
)
def test_design_with_events_or_confounds_warns_and_ignores_them_as_nilearn(
    two_runs, mask_img, extra, named, nilearn_named
):
    runs, events = two_runs
    designs = _designs(events)
    values = {'events': [e.iloc[:2] for e in events], 'confounds': [np.ones((N_SCANS, 1))] * 2}
    fit = {key: values[key] for key in extra}
    theirs, caught = recording(
        NilearnFirstLevel(mask_img=mask_img).fit, runs, design_matrices=designs, **fit
    )
    assert warned(caught, UserWarning, f'{nilearn_named} will be ignored')
    with pytest.warns(UserWarning, match=f'design_matrices and {named}: .* ignored') as caught:
        ours = FirstLevelModel(mask_img=mask_img).fit(runs, design_matrices=designs, **fit)
    assert len(caught) == 1
    assert caught[0].filename == __file__  # the warning points at the caller's line
    _assert_same_fit(ours, theirs, 'audio')


# ------------------------------------------------------------------------ confounds
def _confounds(rng, n_runs: int = 2) -> list[pd.DataFrame]:
    return [
        pd.DataFrame(
            {'trans_x': rng.standard_normal(N_SCANS), 'csf': rng.standard_normal(N_SCANS)}
        )
        for _ in range(n_runs)
    ]


@pytest.mark.parametrize('suffix', ['.csv', '.tsv'])
def test_confounds_as_paths_fit_as_nilearn(rng, two_runs, mask_img, tmp_path, suffix):
    runs, events = two_runs
    paths = []
    for index, table in enumerate(_confounds(rng)):
        paths.append(tmp_path / f'run-{index + 1}_confounds{suffix}')
        table.to_csv(paths[-1], sep=',' if suffix == '.csv' else '\t', index=False)
    ours, theirs = _both(runs, mask_img, events=events, confounds=[str(p) for p in paths])
    assert list(ours.design_matrices_[0].columns)[2:4] == ['trans_x', 'csf']
    _assert_same_fit(ours, theirs, 'audio - csf')


def test_confounds_as_arrays_are_named_as_nilearn_names_them(rng, two_runs, mask_img):
    runs, events = two_runs
    arrays = [table.to_numpy() for table in _confounds(rng)]
    ours, theirs = _both(runs, mask_img, events=events, confounds=arrays)
    assert list(ours.design_matrices_[1].columns)[2:4] == ['confound_0', 'confound_1']
    _assert_same_fit(ours, theirs, 'confound_1')


def test_integer_confound_names_are_kept_as_nilearn_keeps_them(rng, two_runs, mask_img):
    runs, events = two_runs
    tables = [table.set_axis([0, 1], axis=1) for table in _confounds(rng)]
    ours, theirs = _both(runs, mask_img, events=events, confounds=tables)
    assert list(ours.design_matrices_[0].columns)[2:4] == [0, 1]
    _assert_same_fit(ours, theirs, np.eye(ours.design_matrices_[0].shape[1])[3])


def test_confounds_of_a_wrong_type_are_a_type_error_in_both(two_runs, mask_img):
    runs, events = two_runs
    with pytest.raises(TypeError):
        quietly(NilearnFirstLevel(t_r=T_R, mask_img=mask_img).fit, runs[0], events[0], confounds=3)
    with pytest.raises(ParameterTypeError, match=r"'confounds' parameter.*Got int"):
        FirstLevelModel(t_r=T_R, mask_img=mask_img).fit(runs[0], events[0], confounds=3)


def test_confounds_holding_text_are_a_type_error_in_both(rng, two_runs, mask_img):
    runs, events = two_runs
    table = _confounds(rng, 1)[0].astype(object)
    table.loc[3, 'csf'] = 'high'
    with pytest.raises(TypeError):
        quietly(
            NilearnFirstLevel(t_r=T_R, mask_img=mask_img).fit, runs[0], events[0], confounds=table
        )
    with pytest.raises(ParameterTypeError, match=r"column 'csf' holds text .*rows \[3\]"):
        FirstLevelModel(t_r=T_R, mask_img=mask_img).fit(runs[0], events[0], confounds=table)


def test_confounds_with_too_few_rows_are_a_value_error_in_both(rng, two_runs, mask_img):
    runs, events = two_runs
    short = _confounds(rng, 1)[0].to_numpy()[:10]
    with pytest.raises(ValueError, match='does not match'):
        quietly(
            NilearnFirstLevel(t_r=T_R, mask_img=mask_img).fit, runs[0], events[0], confounds=short
        )
    with pytest.raises(ValueError, match='has 10 rows but the run has 40 volumes'):
        FirstLevelModel(t_r=T_R, mask_img=mask_img).fit(runs[0], events[0], confounds=short)
