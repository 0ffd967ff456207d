"""Check a confounds table: extra regressors of a design, one column each, numbers only.

Confounds (motion, physiological noise...) enter the design as they are, so every
cell must be a number; so must every cell of a ready-made design matrix. A column
holding text, often a spreadsheet's note or a shifted column, is refused with the
column, the row and the value named, rather than with numpy's bare "could not
convert string to float".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bidsglm.design.events import _rows
from bidsglm.errors import InvalidParameterError

__all__ = ['check_confounds']


def check_confounds(
    table: pd.DataFrame, name: str = 'The confounds table', kind: str = 'confounds'
) -> pd.DataFrame:
    """Return the confounds as float64, refusing a column that holds text.

    Missing values (NaN) are kept: they are text of no kind, and what to do with
    them is the caller's choice.

    Parameters
    ----------
    table : pandas.DataFrame
        One column per regressor, one row per volume.
    name : str, default='The confounds table'
        How messages start: what the table is and where it came from.
    kind : str, default='confounds'
        What the columns are, as the message says they must be numbers
        (``'design matrix columns'`` for a design).

    Returns
    -------
    pandas.DataFrame
        The same columns and index, as float64.

    Raises
    ------
    InvalidParameterError
        Naming the first column that holds text, its row and the value.

    Examples
    --------
    >>> table = pd.DataFrame({'trans_x': [0.1, 0.2], 'csf': ['3', 'high']})
    >>> check_confounds(table[['trans_x']]).dtypes.tolist()
    [dtype('float64')]
    >>> check_confounds(table)
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: The confounds table: column 'csf' holds text ... [1] ...
    """
    values = {}
    for column in table.columns:
        raw = table[column]
        numbers = pd.to_numeric(raw, errors='coerce')
        text = numbers.isna() & raw.notna()
        if text.any():
            first = raw[text].iloc[0]
            msg = (
                f'{name}: column {str(column)!r} holds text that is not a number at '
                f'{_rows(table, text)}, such as {first!r}; {kind} must be numbers. Fix '
                'the values, or leave the column out.'
            )
            raise InvalidParameterError(msg)
        values[column] = numbers.astype(np.float64)
    return pd.DataFrame(values, index=table.index, columns=table.columns)
