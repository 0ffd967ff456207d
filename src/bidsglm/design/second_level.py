"""The design matrix of a group (second-level) analysis.

One row per input map (subject), in the order of ``subjects_label``; one column
per covariate taken from a ``confounds`` table (matched on its ``subject_label``
column), then the ``intercept``. This is nilearn 0.14.1's layout and its
warning rule for badly conditioned designs.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from bidsglm.errors import InvalidParameterError, ParameterTypeError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ['make_second_level_design_matrix', 'warn_if_ill_conditioned']

_OWNER = 'make_second_level_design_matrix'


def make_second_level_design_matrix(
    subjects_label: Sequence[str], confounds: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Build a group design: subject covariates and an intercept.

    Parameters
    ----------
    subjects_label : sequence of str
        The subject of each input map, in the order of the maps. Each must
        appear once in ``confounds`` when it is given.
    confounds : pandas.DataFrame or None, default=None
        Covariates: a ``subject_label`` column and one numeric column per
        covariate, one row per subject. Rows of subjects not in
        ``subjects_label`` are ignored.

    Returns
    -------
    design_matrix : pandas.DataFrame
        One row per label (index ``0..n-1``) with the covariate columns, in the
        order of ``confounds``, then ``intercept`` (all ones), as floats.

    Raises
    ------
    InvalidParameterError
        If there are no labels, if ``confounds`` has no ``subject_label`` column,
        lacks a subject, lists one several times, holds missing values for a
        listed subject, or has a column named ``intercept``.
    ParameterTypeError
        If ``subjects_label`` is not a list, ``confounds`` not a DataFrame, or a
        covariate holds text (also a ``TypeError``, as nilearn raises).

    Warns
    -----
    UserWarning
        If the design's condition number exceeds its number of cells (nilearn's
        rule): the design is singular or badly scaled.

    Examples
    --------
    >>> import pandas as pd
    >>> covariates = pd.DataFrame({'subject_label': ['01', '02', '03'],
    ...                            'age': [-1.0, 0.5, 0.5]})
    >>> print(make_second_level_design_matrix(['01', '02', '03'], covariates))
       age  intercept
    0 -1.0        1.0
    1  0.5        1.0
    2  0.5        1.0
    """
    labels = _check_labels(subjects_label)
    covariates = pd.DataFrame(index=pd.RangeIndex(len(labels)))
    if confounds is not None:
        covariates = _subject_covariates(labels, confounds)
    design = covariates.assign(intercept=1.0)
    warn_if_ill_conditioned(design.to_numpy())
    return design


def _check_labels(subjects_label: object) -> list[object]:
    """Return the subject labels as a non-empty list."""
    if isinstance(subjects_label, str) or not hasattr(subjects_label, '__iter__'):
        msg = (
            f"The 'subjects_label' parameter of {_OWNER} must be a list of subject "
            f'labels. Got {subjects_label!r} instead.'
        )
        raise ParameterTypeError(msg)
    labels = list(subjects_label)
    if not labels:
        msg = f"The 'subjects_label' parameter of {_OWNER} is empty; give one label per map."
        raise InvalidParameterError(msg)
    return labels


def _subject_covariates(labels: list[object], confounds: pd.DataFrame) -> pd.DataFrame:
    """Return the covariates of ``labels``, in their order, as float columns."""
    names = _covariate_names(confounds)
    counts = confounds['subject_label'].value_counts()
    missing = [label for label in labels if counts.get(label, 0) == 0]
    repeated = [label for label in labels if counts.get(label, 0) > 1]
    if missing or repeated:
        msg = (
            f"The 'confounds' parameter of {_OWNER} must have exactly one row per "
            f'subject. No row for {missing}; several rows for {repeated}. Labels are '
            "compared exactly ('sub-01' is not '01')."
        )
        raise InvalidParameterError(msg)
    by_subject = confounds.drop_duplicates('subject_label', keep=False)
    rows = by_subject.set_index('subject_label').loc[labels, names]
    values = rows.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        holes = sorted({str(labels[i]) for i in np.flatnonzero(np.isnan(values).any(axis=1))})
        msg = f"The 'confounds' parameter of {_OWNER} has missing values for subjects {holes}."
        raise InvalidParameterError(msg)
    return pd.DataFrame(values, columns=names, index=pd.RangeIndex(len(labels)))


def _covariate_names(confounds: object) -> list[str]:
    """Return the covariate columns of ``confounds``, checking its layout."""
    if not isinstance(confounds, pd.DataFrame) or 'subject_label' not in confounds:
        got = list(confounds.columns) if isinstance(confounds, pd.DataFrame) else confounds
        msg = (
            f"The 'confounds' parameter of {_OWNER} must be a DataFrame with a "
            f"'subject_label' column and one column per covariate. Got {got!r} instead."
        )
        is_table = isinstance(confounds, pd.DataFrame)
        raise (InvalidParameterError if is_table else ParameterTypeError)(msg)
    names = [name for name in confounds.columns if name != 'subject_label']
    text = [str(name) for name in names if not is_numeric_dtype(confounds[name])]
    if text or 'intercept' in names:
        msg = (
            f"The 'confounds' parameter of {_OWNER} must hold numeric covariates not "
            f"named 'intercept'; non-numeric columns: {text}."
        )
        raise (ParameterTypeError if text else InvalidParameterError)(msg)
    return names


def warn_if_ill_conditioned(matrix: np.ndarray) -> None:
    """Warn as nilearn does when the condition number exceeds the number of cells.

    Parameters
    ----------
    matrix : (n, p) ndarray
        A design.

    Warns
    -----
    UserWarning
        When the design is singular or badly conditioned.

    Examples
    --------
    >>> warn_if_ill_conditioned(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    """
    singular = np.linalg.svd(matrix, compute_uv=False)
    condition = singular[0] / singular[-1] if singular[-1] > 0 else np.inf
    if condition > matrix.size:
        warnings.warn(
            f'The second-level design is singular or badly conditioned (condition '
            f'number {condition:.3g} > {matrix.size}, its number of cells): estimates '
            'may be unreliable. Centre and scale the covariates, and check that none '
            'repeats another or the intercept.',
            UserWarning,
            stacklevel=2,
        )
