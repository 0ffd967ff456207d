"""Instructions that compute values.

Per variable: Scale, Demean, Threshold, Lag, Not, Orthogonalize; over several
variables row by row: Sum, Product, And, Or.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from bidsglm.dataset.transformations._common import (
    common_dense,
    fail,
    lookup,
    numbers,
    refuse_missing,
    refuse_text,
    require_aligned,
    run_timing,
    with_values,
)
from bidsglm.dataset.transformations._variables import (
    DenseVariable,
    Variable,
    VariableCollection,
)

#: The ways Lag may extend a series past its ends (scipy.ndimage.shift modes).
LAG_MODES = ('nearest', 'reflect', 'constant', 'mirror', 'wrap')
#: When Scale replaces missing values by 0 (None: never).
REPLACE_NA = (None, 'before', 'after')


def _mean(values: np.ndarray) -> float:
    """Mean of the present values (NaN when there is none)."""
    present = values[~np.isnan(values)]
    return float(present.mean()) if present.size else float('nan')


def _std(values: np.ndarray) -> float:
    """Sample standard deviation (ddof 1) of the present values (NaN below 2 values)."""
    present = values[~np.isnan(values)]
    return float(present.std(ddof=1)) if present.size > 1 else float('nan')


def scale(
    variable: Variable,
    collection: VariableCollection,
    demean: bool = True,
    rescale: bool = True,
    replace_na: str | None = None,
) -> Variable:
    """Centre and/or divide by the standard deviation (ddof 1), over the present values.

    A constant variable is refused unless missing values are replaced ``'after'``
    (then it becomes all zeros; bidspm's ``'off'`` does not check). ``'before'``
    fills missing values with 0 before scaling, ``'after'`` fills what is missing
    after (including 0/0).
    """
    values = numbers(variable)
    missing = np.isnan(values)
    distinct = np.unique(values[~missing])
    if distinct.size == 1 and replace_na not in ('after', 'off'):
        fail(
            f'Scale cannot scale {variable.name!r}: all its values are {distinct[0]:g}. '
            'Set "ReplaceNa": "after" to get zeros, or leave it out of Scale.'
        )
    if replace_na == 'before':
        values[missing] = 0.0
    with np.errstate(divide='ignore', invalid='ignore'):
        if demean:
            values -= _mean(values)
        if rescale:
            values /= _std(values)
    if replace_na == 'after':
        values[np.isnan(values)] = 0.0
    return with_values(variable, values)


def demean(variable: Variable, collection: VariableCollection) -> Variable:
    """Subtract the mean of the present values."""
    values = numbers(variable)
    return with_values(variable, values - _mean(values))


def threshold(
    variable: Variable,
    collection: VariableCollection,
    threshold: float = 0.0,
    binarize: bool = False,
    above: bool = True,
    signed: bool = True,
    inclusive: bool = True,
) -> Variable:
    """Keep the values at or above (or at or below) a cut-off; the rest become 0.

    Not ``inclusive`` (bidspm), a value equal to the cut-off becomes 0. Unsigned:
    the absolute values are compared with the absolute cut-off, and the kept values
    keep their sign. Missing values become 0. Binarized: kept values
    become 1.
    """
    values = numbers(variable)
    compared = values if signed else np.abs(values)
    limit = threshold if signed else abs(threshold)
    with np.errstate(invalid='ignore'):
        if inclusive:
            keep = compared >= limit if above else compared <= limit
        else:
            keep = compared > limit if above else compared < limit
    result = np.where(keep, 1.0 if binarize else values, 0.0)
    return with_values(variable, result)


def lag(
    variable: Variable,
    collection: VariableCollection,
    shift: float = 1,
    order: int = 3,
    mode: str = 'nearest',
    constant: float = 0.0,
    difference: bool = False,
) -> Variable:
    """Shift the values by ``shift`` samples (spline of ``order`` between samples).

    With ``difference``, return ``x - shifted`` for a shift >= 0 and
    ``shifted - x`` otherwise.
    """
    refuse_missing(variable, 'Lag')
    values = numbers(variable)
    shifted = ndimage.shift(values, shift, order=int(order), mode=mode, cval=constant)
    if not difference:
        return with_values(variable, shifted)
    return with_values(variable, values - shifted if shift >= 0 else shifted - values)


def _truth(values: np.ndarray, missing: bool) -> np.ndarray:
    """Return where values are non-zero, missing values counting as ``missing``."""
    return np.where(np.isnan(values), missing, values != 0)


def not_(variable: Variable, collection: VariableCollection, missing: bool = True) -> Variable:
    """Return 1 where the value is 0, else 0; a missing value counts as ``missing``.

    pybids counts it as true (so Not gives 0), bidspm as false (Not gives 1).
    """
    truth = _truth(numbers(variable), missing)
    return with_values(variable, (~truth).astype(np.float64))


def orthogonalize(
    variable: Variable, collection: VariableCollection, other: str | list[str]
) -> Variable:
    """Remove from a variable its least-squares fit on others (an intercept is fitted too).

    The intercept's part is kept: the result is ``y - X b`` where ``[1, X]`` was
    fitted. Sparse variables must share their events; when any is dense, all are
    made dense at the first dense rate (else at the run's ``sampling_rate``).
    """
    names = [other] if isinstance(other, str) else list(other)
    others = [lookup(collection, name, 'Orthogonalize (Other)') for name in names]
    for item in (variable, *others):
        refuse_text(item, 'Orthogonalize')
        refuse_missing(item, 'Orthogonalize')
    group: list[Variable] = [variable, *others]
    if any(isinstance(v, DenseVariable) for v in group):
        group = common_dense(group, run_timing(collection, 'Orthogonalize'))
    require_aligned(group, 'Orthogonalize')
    target = numbers(group[0])
    design = np.column_stack([np.ones(target.size), *(numbers(v) for v in group[1:])])
    coefficients = np.linalg.lstsq(design, target, rcond=None)[0]
    return with_values(group[0], target - design[:, 1:] @ coefficients[1:])


def _matrix(variables: Sequence[Variable]) -> np.ndarray:
    """Stack aligned variables' values as columns."""
    return np.column_stack([numbers(v) for v in variables])


def sum_(
    variables: Sequence[Variable],
    weights: float | list[float] | None = None,
    omit_nan: bool = True,
) -> Variable:
    """Weighted row sum; missing values count as 0 (pybids: pandas skips them).

    Without ``omit_nan`` (bidspm's default) a row with a missing value is missing.
    """
    matrix = _matrix(variables)
    scale_by = np.ones(matrix.shape[1]) if weights is None else np.ravel(weights).astype(float)
    if scale_by.size != matrix.shape[1]:
        fail(
            f'Sum has {scale_by.size} weights for {matrix.shape[1]} inputs '
            f'{[v.name for v in variables]}; give one weight per input.'
        )
    weighted = matrix * scale_by
    total = np.nansum(weighted, axis=1) if omit_nan else np.sum(weighted, axis=1)
    return with_values(variables[0], np.asarray(total))


def product(variables: Sequence[Variable], omit_nan: bool = True) -> Variable:
    """Row product; missing values count as 1 (pybids), or make the row missing."""
    matrix = _matrix(variables)
    result = np.nanprod(matrix, axis=1) if omit_nan else np.prod(matrix, axis=1)
    return with_values(variables[0], np.asarray(result))


def and_(variables: Sequence[Variable], missing: bool = True) -> Variable:
    """1 where every value of the row is non-zero, else 0.

    pybids skips missing values (they count as true); bidspm counts them as false.
    """
    truth = _truth(_matrix(variables), missing)
    return with_values(variables[0], np.asarray(truth.all(axis=1), dtype=np.float64))


def or_(variables: Sequence[Variable]) -> Variable:
    """1 where a present value of the row is non-zero, else 0."""
    truth = _truth(_matrix(variables), missing=False)
    return with_values(variables[0], np.asarray(truth.any(axis=1), dtype=np.float64))
