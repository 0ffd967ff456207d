"""``Model.Formula``: a Wilkinson formula over ``X``, read by formulaic (an optional dependency).

bidsglm does not write a formula parser: formulaic (the library pybids uses for the
same purpose) reads and materialises it, so a formula means what it means in pybids
and FitLins. It is only needed by models that have a ``Formula``, so it is an
optional dependency: ``pip install "bidsglm[formula]"``.

Where it acts, as pybids (``GLMMSpec.from_df``) has it: on the columns of ``X``
once they are made. At a Dataset node, on the inputs' variables; at the Run node,
on the design columns of ``X``'s variables, one row per volume (events convolved
by the node's HRF, confounds as they are), so ``0 + rt * gain`` adds the
product of the two regressors. The design's own ``constant`` stays;
formulaic's ``Intercept`` column, the same ones, is left out.
"""

from __future__ import annotations

import importlib.util

import pandas as pd

from bidsglm.dataset.stats_models._fields import reject
from bidsglm.errors import InvalidParameterError

__all__ = ['check_formula', 'formula_columns']

_INSTALL = 'install formulaic with pip install "bidsglm[formula]"'


def _formulaic_missing() -> bool:
    return importlib.util.find_spec('formulaic') is None


def check_formula(formula: object, where: str, level: str) -> str:
    """Read a ``Formula``: a string formulaic can parse, at a Run or Dataset node.

    Examples
    --------
    >>> check_formula('0 + C(group)', 'Model.Formula', 'Dataset')
    '0 + C(group)'
    """
    if not isinstance(formula, str) or not formula.strip():
        reject(where, f'expected a formula such as "0 + C(group)", got {formula!r}')
    if level not in ('Run', 'Dataset'):
        reject(
            where,
            f'a Formula at the {level} level is not supported (a {level} node combines the '
            'contrasts it receives by fixed effects)',
            'remove it',
        )
    if _formulaic_missing():
        reject(where, 'reading a Formula needs the formulaic library', _INSTALL)
    from formulaic import Formula  # noqa: PLC0415 - optional dependency
    from formulaic.errors import FormulaicError  # noqa: PLC0415

    try:
        Formula(formula)
    except FormulaicError as error:
        reject(where, f'formulaic cannot read {formula!r}: {error}'.replace('\n', ' '))
    return formula


def formula_columns(formula: str, table: pd.DataFrame) -> pd.DataFrame:
    """Materialise a formula over a table of variables (one row per input map).

    Returns
    -------
    pandas.DataFrame
        The design columns as formulaic names them (``Intercept``,
        ``C(group)[a]``...), one row per row of ``table``.

    Raises
    ------
    InvalidParameterError
        If formulaic cannot build the columns from the table.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({'group': ['a', 'b', 'a']})
    >>> formula_columns('0 + C(group)', table).columns.tolist()
    ['C(group)[a]', 'C(group)[b]']
    """
    from formulaic import model_matrix  # noqa: PLC0415 - optional dependency
    from formulaic.errors import FormulaicError  # noqa: PLC0415

    try:
        matrix = model_matrix(formula, table)
    except (FormulaicError, KeyError, ValueError, NameError) as error:
        msg = (
            f'The Formula {formula!r} cannot be built from the variables '
            f'{list(table.columns)}: {error}. Check its names (write a name holding '
            '"." between backticks).'
        )
        raise InvalidParameterError(msg) from error
    return pd.DataFrame(
        matrix.to_numpy(dtype=float), columns=[str(c) for c in matrix.columns], index=table.index
    )
