"""Turn a user's contrast definition into weights over the design columns.

A contrast is written either as numbers (one weight per design column, or one row
of weights per F-test row) or as a string such as ``'audio - visual'``. Strings are
read by a small parser of linear expressions; nothing is ever passed to ``eval``.

The expression language
-----------------------
- **Whole-string column name.** If the whole string is exactly a column name, the
  contrast is that column alone, whatever characters the name holds
  (``'trial type'``, ``'drift-1'``).
- **Column names inside expressions.** A bare name starts with a letter or ``_``
  and continues with letters, digits, ``_`` or ``.`` (``audio``, ``drift_1``,
  ``x1``, ``cond.a``). Any other column name is written between backquotes, as in
  pandas::

      `trial type` - audio

  A name must be a design column: there are no functions, attributes or keywords.
- **Numbers.** ``2``, ``0.5``, ``.5``, ``1e-3``, ``2.5E+2``.
- **Operators.** Unary ``+`` and ``-``; binary ``+``, ``-``, ``*`` and ``/`` with the
  usual precedence; parentheses. A product or quotient needs a constant on one side
  (the divisor must be the constant), so the result stays linear in the columns.
- **Several rows.** Expressions separated by commas (``'audio - visual, motor'``)
  make the rows of an F contrast.

The result of every expression must weight at least one column and carry no
constant term (``'audio + 1'`` is refused).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bidsglm.errors import ContrastError, ContrastTypeError

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike, NDArray

__all__ = [
    'check_estimable',
    'contrast_to_matrix',
    'is_estimable',
    'parse_contrast_expression',
]

_ACCEPTED_FORMS = (
    'a string expression over the design columns (rows separated by commas), '
    'a 1D sequence or array of numbers with one weight per design column, '
    'or a 2D array of numbers with one row per F-test row'
)

_TOKEN_PATTERN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    | (?P<name>[^\W\d][\w.]*)
    | (?P<quoted>`[^`]+`)
    | (?P<operator>[-+*/(),])
    """,
    re.VERBOSE,
)

_REJECTED_KINDS = {
    'b': 'booleans (convert a column mask to weights with .astype(float))',
    'c': 'complex numbers',
    'U': 'strings (join expressions with commas in one string for an F contrast)',
    'S': 'bytes',
    'O': 'objects that are not numbers, or rows of different lengths',
    'M': 'dates',
    'm': 'time differences',
    'V': 'raw bytes',
}


@dataclass(frozen=True)
class _Token:
    """One piece of an expression: its kind, its text and where it starts."""

    kind: str
    text: str
    position: int


@dataclass(frozen=True)
class _Linear:
    """A linear form ``weights . columns + constant`` built while parsing."""

    weights: NDArray[np.float64]
    constant: float
    has_columns: bool


def _caret(expression: str, position: int) -> str:
    """Show the expression (blanks made plain spaces) with a caret under ``position``."""
    shown = ''.join(' ' if char.isspace() else char for char in expression)
    return f'\n    {shown}\n    {" " * position}^'


def _invalid(expression: str, position: int, reason: str) -> ContrastError:
    """Build the error for a problem at ``position`` of ``expression``."""
    msg = f'The contrast expression {expression!r} is not valid: {reason}.'
    msg += _caret(expression, position)
    return ContrastError(msg)


def _tokenize(expression: str) -> list[_Token]:
    """Split ``expression`` into tokens, ending with an ``end`` token."""
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        match = _TOKEN_PATTERN.match(expression, position)
        if match is None:
            char = expression[position]
            reason = (
                'a backquoted column name is not closed'
                if char == '`'
                else f'unexpected character {char!r} at position {position}'
            )
            raise _invalid(expression, position, reason)
        kind = match.lastgroup or 'space'
        if kind != 'space':
            tokens.append(_Token(kind, match.group(), position))
        position = match.end()
    tokens.append(_Token('end', '', len(expression)))
    return tokens


def _scale(form: _Linear, factor: float) -> _Linear:
    """Multiply a linear form by a constant."""
    return _Linear(form.weights * factor, form.constant * factor, form.has_columns)


def _add(left: _Linear, right: _Linear) -> _Linear:
    """Add two linear forms."""
    has_columns = left.has_columns or right.has_columns
    return _Linear(left.weights + right.weights, left.constant + right.constant, has_columns)


def _subtract(left: _Linear, right: _Linear) -> _Linear:
    """Subtract one linear form from another."""
    has_columns = left.has_columns or right.has_columns
    return _Linear(left.weights - right.weights, left.constant - right.constant, has_columns)


def _multiply(left: _Linear, right: _Linear) -> _Linear | str:
    """Multiply two forms, or say why the product is not linear."""
    if left.has_columns and right.has_columns:
        return 'it multiplies columns together, so the expression is not linear'
    if left.has_columns:
        return _scale(left, right.constant)
    return _scale(right, left.constant)


def _divide(left: _Linear, right: _Linear) -> _Linear | str:
    """Divide a form by a constant, or say why that is impossible."""
    if right.has_columns:
        return 'it divides by a column, so the expression is not linear'
    if right.constant == 0:
        return 'division by zero'
    weights = left.weights / right.constant
    return _Linear(weights, left.constant / right.constant, left.has_columns)


_BINARY: dict[str, Callable[[_Linear, _Linear], _Linear | str]] = {
    '+': _add,
    '-': _subtract,
    '*': _multiply,
    '/': _divide,
}


class _Parser:
    """Recursive-descent parser of linear expressions over named columns.

    Grammar (``rows`` is the start)::

        rows    := sum (',' sum)* end
        sum     := product (('+' | '-') product)*
        product := unary (('*' | '/') unary)*
        unary   := ('+' | '-') unary | primary
        primary := number | name | quoted | '(' sum ')'
    """

    def __init__(self, expression: str, columns: list[str]) -> None:
        self.expression = expression
        self.columns = columns
        self.index_of = {column: i for i, column in enumerate(columns)}
        self.tokens = _tokenize(expression)
        self.cursor = 0

    def peek(self) -> _Token:
        """Return the current token without consuming it."""
        return self.tokens[self.cursor]

    def take(self) -> _Token:
        """Consume and return the current token."""
        token = self.tokens[self.cursor]
        self.cursor += 1
        return token

    def fail(self, token: _Token, expected: str) -> ContrastError:
        """Build the error for an unexpected ``token``."""
        found = 'the end of the expression' if token.kind == 'end' else repr(token.text)
        reason = f'expected {expected} but found {found} (position {token.position})'
        return _invalid(self.expression, token.position, reason)

    def rows(self) -> list[tuple[_Linear, int]]:
        """Parse comma-separated expressions; pair each with its start position."""
        start = self.peek().position
        parsed = [(self.sum(), start)]
        while self.peek().text == ',':
            self.take()
            start = self.peek().position
            parsed.append((self.sum(), start))
        if self.peek().kind != 'end':
            raise self.fail(self.peek(), "an operator (+ - * /), ',' or the end")
        return parsed

    def sum(self) -> _Linear:
        """Parse terms joined by ``+`` and ``-``."""
        return self.binary(self.product, '+-')

    def product(self) -> _Linear:
        """Parse factors joined by ``*`` and ``/``."""
        return self.binary(self.unary, '*/')

    def binary(self, operand: Callable[[], _Linear], operators: str) -> _Linear:
        """Parse ``operand (op operand)*`` for the operators given, left to right."""
        left = operand()
        while self.peek().kind == 'operator' and self.peek().text in operators:
            operator = self.take()
            result = _BINARY[operator.text](left, operand())
            if isinstance(result, str):
                raise _invalid(self.expression, operator.position, result)
            left = result
        return left

    def unary(self) -> _Linear:
        """Parse an optional sign followed by a factor."""
        if self.peek().text in ('+', '-'):
            sign = self.take().text
            operand = self.unary()
            return _scale(operand, -1.0) if sign == '-' else operand
        return self.primary()

    def primary(self) -> _Linear:
        """Parse a number, a column name or a parenthesised expression."""
        token = self.take()
        if token.kind == 'number':
            return self.number(token)
        if token.kind in ('name', 'quoted'):
            return self.column(token)
        if token.text == '(':
            inner = self.sum()
            if self.peek().text != ')':
                raise self.fail(self.peek(), f"')' to close the '(' at position {token.position}")
            self.take()
            return inner
        raise self.fail(token, "a number, a column name or '('")

    def number(self, token: _Token) -> _Linear:
        """Return the constant form of a number token."""
        value = float(token.text)
        if not np.isfinite(value):
            reason = f'the number {token.text} is too large for a float'
            raise _invalid(self.expression, token.position, reason)
        return _Linear(np.zeros(len(self.columns)), value, has_columns=False)

    def column(self, token: _Token) -> _Linear:
        """Return the one-hot form of the column named by ``token``."""
        name = token.text.strip('`') if token.kind == 'quoted' else token.text
        if name not in self.index_of:
            raise _unknown_name(self.expression, token.position, name, self.columns)
        weights = np.zeros(len(self.columns))
        weights[self.index_of[name]] = 1.0
        return _Linear(weights, 0.0, has_columns=True)


def _unknown_name(expression: str, position: int, name: str, columns: list[str]) -> ContrastError:
    """Build the error for a name that is not a design column."""
    close = difflib.get_close_matches(name, columns, n=3, cutoff=0.6)
    hint = f' Did you mean {" or ".join(repr(c) for c in close)}?' if close else ''
    msg = (
        f'The contrast expression {expression!r} refers to {name!r}, which is not a design '
        f'column.{hint} Available columns are: {columns}. Write names that are not plain '
        f'identifiers between backquotes, e.g. `trial type`.{_caret(expression, position)}'
    )
    return ContrastError(msg)


def _finish_row(expression: str, form: _Linear, position: int) -> NDArray[np.float64]:
    """Check that a parsed row is a pure, finite weighting of columns."""
    if not form.has_columns:
        reason = 'it does not refer to any design column'
        raise _invalid(expression, position, reason)
    if not (np.all(np.isfinite(form.weights)) and np.isfinite(form.constant)):
        reason = 'a weight overflows (it is not a finite number)'
        raise _invalid(expression, position, reason)
    if form.constant != 0:
        reason = (
            f'it adds the constant {form.constant:g}; a contrast only weights columns, '
            'so remove the constant term'
        )
        raise _invalid(expression, position, reason)
    return form.weights


def _unique_columns(columns: Sequence[Any]) -> list[str]:
    """Return the column names as strings, refusing duplicates."""
    names = [str(column) for column in columns]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        msg = (
            f'The design columns must have unique names to parse a contrast expression. '
            f'Got duplicates {duplicates} in {names}.'
        )
        raise ContrastError(msg)
    return names


def parse_contrast_expression(expression: str, columns: Sequence[str]) -> NDArray[np.float64]:
    """Read a linear expression over design columns into contrast weights.

    The language is described in the module docstring: column names (bare
    identifiers, or any name between backquotes), numbers, unary and binary ``+ - * /`` and
    parentheses, with commas between the rows of an F contrast. A string that is
    exactly a column name is that column's one-hot vector. Nothing is evaluated.

    Parameters
    ----------
    expression : str
        For example ``'audio - visual'``, ``'(a + b)/2 - c'`` or ``'a - b, c'``.
    columns : sequence of str
        The design's column names, in order; they must be unique.

    Returns
    -------
    weights : (n_columns,) or (n_rows, n_columns) ndarray of float64
        1D for a single expression, 2D (one row per expression) when the
        expression holds commas.

    Raises
    ------
    ContrastError
        For a syntax error (the message points at the position), a name that is not
        a column (with close matches and the list of columns), a product of two
        columns or a division by a column (not linear), a division by zero, a
        constant term, an expression without any column, or duplicate columns.

    Examples
    --------
    >>> parse_contrast_expression('audio - visual/2', ['audio', 'visual', 'constant'])
    array([ 1. , -0.5,  0. ])
    >>> parse_contrast_expression('audio - visual, constant', ['audio', 'visual', 'constant'])
    array([[ 1., -1.,  0.],
           [ 0.,  0.,  1.]])
    """
    names = _unique_columns(columns)
    if expression in names:
        weights = np.zeros(len(names))
        weights[names.index(expression)] = 1.0
        return weights
    if not expression.strip():
        msg = (
            f'The contrast expression is empty. Give a column name or an expression such '
            f"as 'a - b'. Available columns are: {names}."
        )
        raise ContrastError(msg)
    with np.errstate(over='ignore', invalid='ignore'):
        parsed = _Parser(expression, names).rows()
    with np.errstate(over='ignore', invalid='ignore'):
        parsed = _Parser(expression, names).rows()
    rows = [_finish_row(expression, form, start) for form, start in parsed]
    return rows[0] if len(rows) == 1 else np.vstack(rows)


def _describe(name: str | None) -> str:
    """Say 'The contrast' or 'The contrast <name>' at the start of a message."""
    return 'The contrast' if name is None else f'The contrast {name!r}'


def _reject_type(definition: object, label: str) -> ContrastTypeError:
    """Build the error for a definition of a form we do not accept."""
    msg = f'{label} must be {_ACCEPTED_FORMS}. Got {type(definition).__name__} instead.'
    return ContrastTypeError(msg)


def _as_array(definition: object, label: str) -> NDArray[Any]:
    """Convert a non-string definition to an array, refusing the wrong forms."""
    if definition is None or isinstance(definition, (Mapping, bytes, set, frozenset)):
        raise _reject_type(definition, label)
    try:
        array = np.asarray(definition)
    except (ValueError, TypeError) as error:
        msg = f'{label} must be {_ACCEPTED_FORMS}. Its rows have different lengths: {error}'
        raise ContrastTypeError(msg) from error
    if array.ndim == 0:
        raise _reject_type(definition, label)
    return array


def _weights_from_numbers(definition: object, label: str) -> NDArray[np.float64]:
    """Return the float64 weights held by a numeric sequence or array."""
    array = _as_array(definition, label)
    if array.dtype.kind in _REJECTED_KINDS:
        msg = (
            f'{label} must be {_ACCEPTED_FORMS}. Got an array of '
            f'{_REJECTED_KINDS[array.dtype.kind]} (dtype {array.dtype}) instead.'
        )
        raise ContrastTypeError(msg)
    if array.ndim > 2:
        msg = (
            f'{label} must be {_ACCEPTED_FORMS}. Got a {array.ndim}D array of shape {array.shape}.'
        )
        raise ContrastTypeError(msg)
    return np.array(array, dtype=np.float64)


def _check_width(weights: NDArray[np.float64], columns: list[str], label: str) -> None:
    """Require one weight per design column (and at least one row)."""
    if weights.ndim == 2 and weights.shape[0] == 0:
        msg = f'{label} has no rows. Give at least one row of {len(columns)} weights.'
        raise ContrastError(msg)
    width = weights.shape[-1]
    if width != len(columns):
        what = 'weights' if weights.ndim == 1 else 'weights per row'
        msg = (
            f'{label} has {width} {what} but the design has {len(columns)} columns: '
            f'{columns}. Give one weight per design column, in this order (short '
            'contrasts are not padded with zeros).'
        )
        raise ContrastError(msg)


def _check_values(
    weights: NDArray[np.float64], columns: list[str], label: str, allow_null: bool
) -> None:
    """Refuse non-finite weights, an all-zero contrast (unless allowed), all-zero F rows."""
    bad = np.argwhere(~np.isfinite(np.atleast_2d(weights)))
    if bad.size:
        row, col = bad[0]
        msg = (
            f'{label} has a non-finite weight ({np.atleast_2d(weights)[row, col]}) on '
            f'column {columns[col]!r}. Every weight must be a finite number.'
        )
        raise ContrastError(msg)
    if not np.any(weights):
        if allow_null:
            return
        msg = f'{label} is all zeros, so it tests nothing. Give a non-zero weight to a column.'
        raise ContrastError(msg)
    zero_rows = np.flatnonzero(~np.any(np.atleast_2d(weights), axis=1))
    if zero_rows.size:
        msg = (
            f'{label} has all-zero rows {(zero_rows + 1).tolist()} (counting from 1). '
            'Every row of an F contrast must weight at least one column; drop those rows.'
        )
        raise ContrastError(msg)


def contrast_to_matrix(
    definition: str | ArrayLike,
    columns: Sequence[str],
    *,
    name: str | None = None,
    allow_null: bool = False,
) -> NDArray[np.float64]:
    """Turn a contrast definition into float64 weights over the design columns.

    The result keeps the natural number of dimensions of the definition, which
    later decides the default test: 1D (a t contrast) for a string without commas
    and for a flat sequence of numbers; 2D (rows of an F contrast) for a string with
    commas, a list of lists and a 2D array, even with a single row.

    Parameters
    ----------
    definition : str or array-like of numbers
        A string expression (see :func:`parse_contrast_expression`), a list, tuple
        or 1D array of numbers with one weight per column, or a list of lists or 2D
        array with one row per F-test row. Booleans are refused (a column mask is
        not a weighting; convert it with ``.astype(float)``), as are strings inside
        lists (join expressions with commas in one string instead).
    columns : sequence of str
        The design's column names, in order.
    name : str or None, optional
        The contrast's name, used in error messages.
    allow_null : bool, default=False
        Return an all-zero contrast instead of refusing it: one run of several
        may be left out of the fixed effects that way, as in nilearn.

    Returns
    -------
    weights : (n_columns,) or (n_rows, n_columns) ndarray of float64
        A new array (never a view of the input).

    Raises
    ------
    ContrastTypeError
        For an unaccepted form (``None``, a dict, a scalar, booleans, strings in a
        list, ragged rows, more than 2 dimensions); also a ``TypeError``, as
        nilearn's ``SecondLevelModel`` raises.
    ContrastError
        For a wrong number of weights (no zero padding), non-finite weights, an
        all-zero contrast (unless ``allow_null``) or an all-zero row of a contrast
        that is not all zeros, and every error of :func:`parse_contrast_expression`.

    Examples
    --------
    >>> contrast_to_matrix('audio - visual', ['audio', 'visual', 'constant'])
    array([ 1., -1.,  0.])
    >>> contrast_to_matrix([[1, 0, 0], [0, 1, 0]], ['audio', 'visual', 'constant'])
    array([[1., 0., 0.],
           [0., 1., 0.]])
    >>> contrast_to_matrix('0 * audio', ['audio', 'visual', 'constant'], allow_null=True)
    array([0., 0., 0.])
    """
    label = _describe(name)
    names = [str(column) for column in columns]
    if isinstance(definition, str):
        weights = _parse_for(definition, columns, name)
    else:
        weights = _weights_from_numbers(definition, label)
    _check_width(weights, names, label)
    _check_values(weights, names, label, allow_null)
    return weights


def _parse_for(expression: str, columns: Sequence[str], name: str | None) -> NDArray[np.float64]:
    """Parse ``expression``, naming the contrast in any error."""
    try:
        return parse_contrast_expression(expression, columns)
    except ContrastError as error:
        if name is None:
            raise
        msg = f'In contrast {name!r}: {error}'
        raise ContrastError(msg) from error


def _design_array(design: ArrayLike) -> NDArray[np.float64]:
    """Return the design as a 2D float64 array."""
    array = np.asarray(design, dtype=np.float64)
    if array.ndim != 2:
        msg = f'The design must be a 2D array (scans x columns). Got shape {array.shape}.'
        raise ContrastError(msg)
    return array


def _non_estimable_residuals(
    matrix: ArrayLike, design: ArrayLike, tol: float
) -> dict[int, NDArray[np.float64]]:
    """Map each non-estimable row index to its part outside the design's row space."""
    rows = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    array = _design_array(design)
    if rows.shape[-1] != array.shape[1]:
        msg = (
            f'The contrast has {rows.shape[-1]} weights per row but the design has '
            f'{array.shape[1]} columns. Give one weight per design column.'
        )
        raise ContrastError(msg)
    _, singular, right = np.linalg.svd(array, full_matrices=False)
    threshold = singular.max(initial=0.0) * max(array.shape) * np.finfo(np.float64).eps
    basis = right[singular > threshold]
    residuals = rows - (rows @ basis.T) @ basis
    sizes = np.linalg.norm(residuals, axis=1)
    limits = tol * np.linalg.norm(rows, axis=1)
    return {int(i): residuals[i] for i in np.flatnonzero(sizes > limits)}


def is_estimable(matrix: ArrayLike, design: ArrayLike, tol: float = 1e-6) -> bool:
    """Tell whether every contrast row lies in the row space of the design.

    A row ``c`` is estimable when ``c = c @ pinv(X) @ X``: only then does ``c @ beta``
    not depend on which of the equally good solutions of a rank-deficient design the
    fit picked. The row space is spanned by the right singular vectors whose singular
    values pass the threshold of :func:`numpy.linalg.matrix_rank`, the rank that
    also sets the degrees of freedom.

    Parameters
    ----------
    matrix : (n_columns,) or (n_rows, n_columns) array-like
        The contrast weights.
    design : (n_scans, n_columns) array-like
        The design matrix.
    tol : float, optional
        A row is estimable when the norm of its part outside the row space is at
        most ``tol`` times the norm of the row.

    Returns
    -------
    bool
        True when every row is estimable (all-zero rows count as estimable).

    Raises
    ------
    ContrastError
        When the design is not 2D or the widths of contrast and design differ.

    Examples
    --------
    >>> design = np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 1.0], [0.0, 0.0, 1.0]])
    >>> is_estimable([1, 1, 0], design), is_estimable([1, -1, 0], design)
    (True, False)
    """
    return not _non_estimable_residuals(matrix, design, tol)


def check_estimable(
    matrix: ArrayLike,
    design: ArrayLike,
    columns: Sequence[str],
    name: str | None = None,
    tol: float = 1e-6,
) -> None:
    """Raise an explanatory error unless every contrast row is estimable.

    Parameters
    ----------
    matrix : (n_columns,) or (n_rows, n_columns) array-like
        The contrast weights.
    design : (n_scans, n_columns) array-like
        The design matrix.
    columns : sequence of str
        The design's column names, used in the message.
    name : str or None, optional
        The contrast's name, used in the message.
    tol : float, optional
        Relative tolerance, as in :func:`is_estimable`.

    Raises
    ------
    ContrastError
        Naming the contrast, the first non-estimable row and the collinear columns
        it weights unevenly, with advice on how to fix it.

    Examples
    --------
    >>> design = np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 1.0], [0.0, 0.0, 1.0]])
    >>> check_estimable([1, 1, 0], design, ['a', 'b', 'c'], name='sum') is None
    True
    >>> check_estimable([1, -1, 0], design, ['a', 'b', 'c'], name='a_vs_b')
    Traceback (most recent call last):
    ...
    bidsglm.errors.ContrastError: The contrast 'a_vs_b' is not estimable ... ['a', 'b'], ...
    """
    names = [str(column) for column in columns]
    width = _design_array(design).shape[1]
    if len(names) != width:
        msg = f'The design has {width} columns but {len(names)} column names: {names}.'
        raise ContrastError(msg)
    residuals = _non_estimable_residuals(matrix, design, tol)
    if not residuals:
        return
    row, residual = next(iter(residuals.items()))
    involved = np.flatnonzero(np.abs(residual) > tol * np.abs(residual).max())
    where = f' (row {row + 1})' if np.ndim(matrix) == 2 else ''
    reason = _why_not_estimable(_design_array(design), involved, names)
    msg = f'{_describe(name)} is not estimable on this design{where}: {reason}'
    raise ContrastError(msg)


def _why_not_estimable(
    design: NDArray[np.float64], involved: NDArray[Any], names: list[str]
) -> str:
    """Explain why the weights on the ``involved`` columns cannot be estimated.

    In order: columns that are zero (a condition with no event in the run), fewer
    rows than columns (a run too short for its design), columns that are linear
    combinations of others (collinear).
    """
    size = np.abs(design).max(axis=0, initial=0.0)
    zero = [names[i] for i in involved if size[i] <= 1e-10 * size.max(initial=0.0)]
    if zero:
        return (
            f'it weights the columns {zero}, which are zero in every row (a condition '
            'with no event within the run?), so the data say nothing about them. Leave '
            'them out of the contrast, or fit only runs where they occur.'
        )
    n_rows, n_columns = design.shape
    if n_rows < n_columns:
        return (
            f'the design has {n_rows} rows (scans or maps) but {n_columns} columns, so '
            f'only {n_rows} combinations of its columns can be estimated. Fit more scans '
            'than design columns (is the run whole?), or model fewer regressors.'
        )
    return (
        f'it weights the columns {[names[i] for i in involved]}, which are linear '
        'combinations of other design columns (collinear), in a way the data cannot '
        "tell apart. Weight collinear columns together (for two identical columns 'a' "
        "and 'b', use 'a + b', not 'a' or 'a - b') or remove the redundant column from "
        'the design.'
    )
