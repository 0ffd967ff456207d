"""Tests of bidsglm.design.second_level: group design matrices."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from nilearn.glm.second_level import make_second_level_design_matrix as nilearn_design

from bidsglm.design import make_second_level_design_matrix
from bidsglm.errors import InvalidParameterError

LABELS = ['sub-01', 'sub-02', 'sub-03', 'sub-04']
COVARIATES = pd.DataFrame(
    {
        'subject_label': ['sub-04', 'sub-02', 'sub-01', 'sub-03', 'sub-99'],
        'age': [0.3, -0.5, 0.1, 0.2, 9.0],
        'group': [1, 0, 0, 1, 1],
    }
)


def test_second_level_design_without_covariates_is_the_intercept() -> None:
    design = make_second_level_design_matrix(LABELS)
    assert list(design.columns) == ['intercept']
    assert design.index.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(design['intercept'], 1.0)
    assert design['intercept'].dtype == np.float64


def test_second_level_design_takes_covariates_in_label_order() -> None:
    design = make_second_level_design_matrix(LABELS, COVARIATES)
    assert list(design.columns) == ['age', 'group', 'intercept']
    assert design['age'].tolist() == [0.1, -0.5, 0.2, 0.3]
    assert design['group'].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert design['group'].dtype == np.float64


def test_second_level_design_missing_subject_is_named() -> None:
    with pytest.raises(InvalidParameterError, match=r"No row for \['sub-05'\]"):
        make_second_level_design_matrix([*LABELS, 'sub-05'], COVARIATES)


def test_second_level_design_repeated_subject_is_named() -> None:
    doubled = pd.concat([COVARIATES, COVARIATES.iloc[[0]]])
    with pytest.raises(InvalidParameterError, match=r"several rows for \['sub-04'\]"):
        make_second_level_design_matrix(LABELS, doubled)


def test_second_level_design_needs_a_subject_label_column() -> None:
    with pytest.raises(InvalidParameterError, match=r"'subject_label' column.*'age'"):
        make_second_level_design_matrix(LABELS, COVARIATES.drop(columns='subject_label'))


def test_second_level_design_missing_covariate_names_the_subject() -> None:
    covariates = COVARIATES.assign(age=[0.3, np.nan, 0.1, 0.2, 9.0])
    with pytest.raises(InvalidParameterError, match=r"missing values for subjects \['sub-02'\]"):
        make_second_level_design_matrix(LABELS, covariates)


def test_second_level_design_ignores_unlisted_subjects_missing_values() -> None:
    covariates = COVARIATES.assign(age=[0.3, -0.5, 0.1, 0.2, np.nan])
    assert make_second_level_design_matrix(LABELS, covariates).shape == (4, 3)


def test_second_level_design_refuses_text_covariates() -> None:
    covariates = COVARIATES.assign(site=['a', 'b', 'a', 'b', 'a'])
    with pytest.raises(InvalidParameterError, match=r"non-numeric columns: \['site'\]"):
        make_second_level_design_matrix(LABELS, covariates)


def test_second_level_design_refuses_a_covariate_named_intercept() -> None:
    covariates = COVARIATES.rename(columns={'group': 'intercept'})
    with pytest.raises(InvalidParameterError, match="not named 'intercept'"):
        make_second_level_design_matrix(LABELS, covariates)


@pytest.mark.parametrize('labels', [[], 'sub-01'])
def test_second_level_design_refuses_bad_labels(labels) -> None:
    with pytest.raises(InvalidParameterError, match="'subjects_label'"):
        make_second_level_design_matrix(labels)


def test_second_level_design_warns_when_singular() -> None:
    covariates = COVARIATES.assign(constant=1.0)
    with pytest.warns(UserWarning, match='singular or badly conditioned'):
        make_second_level_design_matrix(LABELS, covariates)


@pytest.mark.oracle
@pytest.mark.parametrize('with_covariates', [False, True])
def test_second_level_design_matches_nilearn(with_covariates, rng) -> None:
    labels = [f'sub-{i:02d}' for i in range(1, 9)]
    covariates = None
    if with_covariates:
        covariates = pd.DataFrame(
            {
                'subject_label': labels[::-1],
                'age': rng.normal(size=8),
                'score': rng.normal(size=8),
            }
        )
    ours = make_second_level_design_matrix(labels, covariates)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        theirs = nilearn_design(labels, covariates)
    assert list(ours.columns) == list(theirs.columns)
    np.testing.assert_array_equal(ours.index.to_numpy(), theirs.index.to_numpy())
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.oracle
def test_second_level_design_warns_where_nilearn_does() -> None:
    # Ages in years next to the intercept: condition number 169 > 8 cells.
    ages = pd.DataFrame({'subject_label': LABELS, 'age': [25.0, 31.0, 38.0, 45.0]})
    with pytest.warns(UserWarning, match='Design matrix is singular'):
        nilearn_design(LABELS, ages)
    with pytest.warns(UserWarning, match=r'condition number 169 > 8'):
        make_second_level_design_matrix(LABELS, ages)
