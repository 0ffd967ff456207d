"""Ready-made designs and confounds given to ``fit``: read, and checked to be numbers.

Both estimators take a design (per run, or for the group) as a DataFrame or as the
path of a ``.tsv`` or ``.csv`` file, as nilearn does. A design is used as given
(column names and types kept), after a check that every cell is a number: text is a
:class:`~bidsglm.errors.ParameterTypeError` (nilearn fails on it with a
``TypeError``), a missing value an :class:`~bidsglm.errors.InvalidParameterError`
(nilearn would fit it into NaN maps).
"""

from __future__ import annotations

import os

import pandas as pd

from bidsglm.design import check_confounds
from bidsglm.design.tables import read_table
from bidsglm.errors import InvalidParameterError, ParameterTypeError

__all__ = ['numbers_only', 'read_design']


def numbers_only(table: pd.DataFrame, name: str, kind: str) -> pd.DataFrame:
    """Return ``table`` as float64, refusing text with a ``TypeError`` as nilearn does.

    Parameters
    ----------
    table : pandas.DataFrame
        A confounds table or a design.
    name : str
        How messages start: which table, from which file.
    kind : str
        What its columns are, for the message (``'confounds'``).

    Returns
    -------
    pandas.DataFrame
        The same columns and index, as float64 (missing values kept).

    Raises
    ------
    ParameterTypeError
        Naming the first column holding text, its row and the value.

    Examples
    --------
    >>> table = pd.DataFrame({'trans_x': [0.5, 'high']})
    >>> numbers_only(table, 'The confounds of run 2', 'confounds')
    Traceback (most recent call last):
    ...
    bidsglm.errors.ParameterTypeError: The confounds of run 2: column 'trans_x' holds text ...
    """
    try:
        return check_confounds(table, name, kind=kind)
    except InvalidParameterError as error:
        raise ParameterTypeError(str(error)) from None


def read_design(design: object, parameter: str, name: str) -> pd.DataFrame:
    """Read a ready-made design and check that it holds numbers only, none missing.

    Parameters
    ----------
    design : pandas.DataFrame or str or os.PathLike
        The design, or the path of a ``.tsv`` or ``.csv`` file (header row, no
        index column).
    parameter : str
        Whose parameter it is, for a message about its type.
    name : str
        Which design it is (``'The design matrix of run 2'``); the file is added.

    Returns
    -------
    pandas.DataFrame
        The design as given (a DataFrame itself, not a copy), or as read.

    Raises
    ------
    ParameterTypeError
        If ``design`` is neither a DataFrame nor a path, or holds text.
    InvalidParameterError
        If the file is not a ``.tsv`` or ``.csv`` file, or a cell is missing.
    InputNotFoundError
        If the file does not exist.

    Examples
    --------
    >>> design = pd.DataFrame({'intercept': [1.0, 1.0], 'age': [-1.0, None]})
    >>> read_design(design, "The 'design_matrix' parameter", 'The design')
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: The design holds missing values ... ['age']; ...
    """
    table = read_table(design, parameter=parameter, kind='design matrix')
    if isinstance(design, (str, os.PathLike)):
        name = f'{name} ({os.fspath(design)!r})'
    values = numbers_only(table, name, kind='design matrix columns')
    missing = values.isna().any()
    if missing.any():
        msg = (
            f'{name} holds missing values (NaN or n/a) in the columns '
            f'{[str(column) for column in values.columns[missing]]}; fill them or drop '
            'those columns.'
        )
        raise InvalidParameterError(msg)
    return table
