"""Read a table given as a DataFrame or as the path of a TSV or CSV file.

Events, confounds and ready-made design matrices are accepted in either form, as
nilearn accepts them: a ``.tsv`` file is tab-separated (BIDS), a ``.csv`` file
comma-separated, whatever the case of the extension. The first row names the
columns, ``n/a`` cells are missing values, and no column is taken as the index, as
nilearn reads them (so a CSV written by pandas' default ``to_csv`` keeps its index
as a column named ``Unnamed: 0``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeAlias

import pandas as pd

from bidsglm.errors import InputNotFoundError, InvalidParameterError, ParameterTypeError

__all__ = ['SEPARATORS', 'TableLike', 'read_table']

TableLike: TypeAlias = pd.DataFrame | str | os.PathLike[str]

#: The column separator of each readable file extension.
SEPARATORS = {'.csv': ',', '.tsv': '\t'}


def read_table(table: object, *, parameter: str, kind: str) -> pd.DataFrame:
    r"""Return ``table`` itself if it is a DataFrame, else read the file it names.

    Parameters
    ----------
    table : pandas.DataFrame or str or os.PathLike
        The table, or the path of a ``.tsv`` or ``.csv`` file holding it.
    parameter : str
        Whose parameter it is, as messages name it, e.g.
        ``"The 'confounds' parameter of FirstLevelModel.fit"``.
    kind : str
        What the table holds, as messages name it (``'events'``, ``'confounds'``).

    Returns
    -------
    pandas.DataFrame
        ``table`` itself (not a copy), or the table read from the file.

    Raises
    ------
    ParameterTypeError
        If ``table`` is neither a DataFrame nor a path.
    InvalidParameterError
        If the file name does not end in ``.tsv`` or ``.csv``, or the file is empty.
    InputNotFoundError
        If the file does not exist.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / 'motion.csv').write_text('trans_x,trans_y\n0.1,n/a\n0.2,0.3\n')
    >>> print(read_table(folder / 'motion.csv', parameter='confounds', kind='confounds'))
       trans_x  trans_y
    0      0.1      NaN
    1      0.2      0.3
    >>> read_table(3, parameter="The 'confounds' parameter", kind='confounds')
    Traceback (most recent call last):
    ...
    bidsglm.errors.ParameterTypeError: The 'confounds' parameter must be a pandas DataFrame ...
    """
    if isinstance(table, pd.DataFrame):
        return table
    if not isinstance(table, (str, os.PathLike)):
        msg = (
            f'{parameter} must be a pandas DataFrame or the path of a .tsv or .csv '
            f'file. Got {type(table).__name__} instead.'
        )
        raise ParameterTypeError(msg)
    path = Path(table)
    separator = SEPARATORS.get(path.suffix.lower())
    if separator is None:
        msg = (
            f'Cannot read {kind} from {str(path)!r}: the file must end in one of '
            f'{sorted(SEPARATORS)} (tab- or comma-separated; BIDS tables are .tsv).'
        )
        raise InvalidParameterError(msg)
    if not path.is_file():
        msg = f'The {kind} file {str(path)!r} does not exist. Check the path.'
        raise InputNotFoundError(msg)
    try:
        return pd.read_csv(path, sep=separator)
    except pd.errors.EmptyDataError:
        msg = f'The {kind} file {str(path)!r} is empty: it needs a header row of column names.'
        raise InvalidParameterError(msg) from None
