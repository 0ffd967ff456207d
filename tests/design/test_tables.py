"""Tables given as DataFrames or as TSV / CSV paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bidsglm.design.tables import read_table
from bidsglm.errors import InputNotFoundError, InvalidParameterError, ParameterTypeError

PARAMETER = "The 'confounds' parameter of FirstLevelModel.fit"


def _table() -> pd.DataFrame:
    return pd.DataFrame({'trans_x': [0.5, -1.25, 2.0], 'csf': [10.0, np.nan, 12.5]})


def _read(table: object) -> pd.DataFrame:
    return read_table(table, parameter=PARAMETER, kind='confounds')


def test_read_table_returns_a_dataframe_itself() -> None:
    table = _table()
    assert _read(table) is table


@pytest.mark.parametrize(('suffix', 'sep'), [('.tsv', '\t'), ('.csv', ','), ('.CSV', ',')])
def test_read_table_reads_each_separator_by_extension(tmp_path, suffix, sep) -> None:
    path = tmp_path / f'confounds{suffix}'
    _table().to_csv(path, sep=sep, index=False, na_rep='n/a')
    for given in (path, str(path)):
        read = _read(given)
        assert list(read.columns) == ['trans_x', 'csf']
        np.testing.assert_array_equal(read['trans_x'], [0.5, -1.25, 2.0])
        np.testing.assert_array_equal(read['csf'], [10.0, np.nan, 12.5])


def test_read_table_keeps_a_pandas_index_as_a_column_as_nilearn_does(tmp_path) -> None:
    path = tmp_path / 'design.csv'
    _table().to_csv(path)  # pandas writes the index as an unnamed first column
    assert list(_read(path).columns) == ['Unnamed: 0', 'trans_x', 'csf']


@pytest.mark.parametrize('table', [3, None, {'trans_x': [1.0]}, np.ones((3, 2)), [[1.0]]])
def test_read_table_refuses_other_types_as_a_type_error(table) -> None:
    got = r'Got (int|NoneType|dict|ndarray|list) instead'
    with pytest.raises(TypeError, match=rf"'confounds' parameter of .*{got}"):
        _read(table)
    with pytest.raises(ParameterTypeError, match=r'DataFrame or the path of a \.tsv or \.csv'):
        _read(table)


def test_read_table_refuses_other_extensions_listing_the_readable_ones(tmp_path) -> None:
    path = tmp_path / 'confounds.txt'
    path.write_text('a\tb\n1\t2\n')
    listed = r"\['\.csv', '\.tsv'\]"
    with pytest.raises(InvalidParameterError, match=rf"from '.*confounds\.txt'.*{listed}"):
        _read(path)


def test_read_table_missing_file_is_a_file_not_found_and_a_value_error(tmp_path) -> None:
    path = tmp_path / 'nothing.tsv'
    with pytest.raises(InputNotFoundError, match=r"The confounds file '.*nothing\.tsv' does not"):
        _read(path)
    with pytest.raises(FileNotFoundError):
        _read(path)
    with pytest.raises(ValueError, match='does not exist'):
        _read(path)


def test_read_table_empty_file_names_it(tmp_path) -> None:
    path = tmp_path / 'empty.tsv'
    path.write_text('')
    with pytest.raises(InvalidParameterError, match=r"'.*empty\.tsv' is empty"):
        _read(path)
