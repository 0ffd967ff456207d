"""Tests of bidsglm.design.confounds: numbers only, text named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bidsglm.design import check_confounds
from bidsglm.errors import InvalidParameterError


def test_check_confounds_returns_float64_and_keeps_missing_values():
    table = pd.DataFrame({'a': [1, 2, 3], 'b': ['0.5', 'n/a', '1e-3']}, index=[4, 5, 6])
    checked = check_confounds(table.replace('n/a', np.nan))
    assert checked.dtypes.tolist() == [np.float64, np.float64]
    assert checked.index.tolist() == [4, 5, 6]
    np.testing.assert_array_equal(checked['b'], [0.5, np.nan, 1e-3])


def test_check_confounds_names_the_column_first_row_and_count_of_text():
    table = pd.DataFrame({'a': [1.0, 2.0, 3.0, 4.0], 'b': [0.1, 'high', 0.3, 'low']})
    with pytest.raises(InvalidParameterError) as caught:
        check_confounds(table, 'The confounds of run 2')
    assert str(caught.value).startswith(
        "The confounds of run 2: column 'b' holds text that is not a number at rows [1, 3] "
        "(index labels; for a file, 0-based data rows), such as 'high'"
    )
