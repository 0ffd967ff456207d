"""Designs given to fit are read as given and hold numbers only."""

import numpy as np
import pandas as pd
import pytest

from bidsglm.errors import InvalidParameterError, ParameterTypeError
from bidsglm.models._tables import numbers_only, read_design

PARAMETER = "The 'design_matrix' parameter of SecondLevelModel.fit"


def test_read_design_returns_a_dataframe_itself():
    design = pd.DataFrame({'intercept': [1, 1, 1], 'age': [20, 30, 40]})
    assert read_design(design, PARAMETER, 'The design matrix') is design


@pytest.mark.parametrize('suffix', ['.tsv', '.csv'])
def test_read_design_reads_a_file_as_written(tmp_path, suffix):
    path = tmp_path / f'design{suffix}'
    pd.DataFrame({'intercept': [1.0, 1.0], 'age': [-0.5, 0.5]}).to_csv(
        path, sep='\t' if suffix == '.tsv' else ',', index=False
    )
    read = read_design(path, PARAMETER, 'The design matrix')
    assert list(read.columns) == ['intercept', 'age']
    np.testing.assert_array_equal(read['age'], [-0.5, 0.5])


def test_read_design_names_the_file_holding_text(tmp_path):
    path = tmp_path / 'design.csv'
    path.write_text('intercept,age\n1,20\n1,old\n')
    expected = rf"^The design matrix \('{path}'\): column 'age' holds text .*'old'"
    with pytest.raises(ParameterTypeError, match=expected):
        read_design(path, PARAMETER, 'The design matrix')


def test_read_design_refuses_missing_values_naming_the_columns():
    design = pd.DataFrame({'a': [1.0, np.nan], 'b': [1.0, 2.0], 'c': [np.nan, 0.0]})
    with pytest.raises(InvalidParameterError, match=r"missing values .* \['a', 'c'\]"):
        read_design(design, PARAMETER, 'The design matrix')


def test_read_design_refuses_an_array_as_a_type_error():
    with pytest.raises(TypeError, match=r"'design_matrix' parameter .*Got ndarray instead"):
        read_design(np.ones((3, 1)), PARAMETER, 'The design matrix')


def test_numbers_only_converts_numeric_text_and_keeps_names():
    table = pd.DataFrame({0: ['1.5', '2'], 'csf': [3, 4]})
    values = numbers_only(table, 'The confounds', 'confounds')
    assert list(values.columns) == [0, 'csf']
    assert values.dtypes.tolist() == [np.float64, np.float64]
    np.testing.assert_array_equal(values[0], [1.5, 2.0])
