"""The row conditions of ``Filter``, evaluated without ``eval``.

pybids hands the query to :meth:`pandas.DataFrame.query`, after replacing in it
every variable name by the name with each run of characters other than letters,
digits and ``_`` turned into ``_`` (``trial_type.face`` -> ``trial_type_face``).
We do the same replacement, parse the query with :mod:`ast` and evaluate only
this grammar, row by row:

- comparisons ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` (chained ones too), and
  ``in`` / ``not in`` a list;
- ``and``, ``or``, ``not`` and their pandas spellings ``&``, ``|``, ``~``;
- variable names, numbers, quoted text, ``True`` / ``False``, lists, parentheses.

A missing value compares unequal to everything.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from bidsglm.dataset.transformations._common import fail

__all__ = ['evaluate_query', 'identifier']

_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_LOGIC: dict[type[ast.AST], Callable[[Any, Any], Any]] = {
    ast.And: np.logical_and,
    ast.Or: np.logical_or,
    ast.BitAnd: np.logical_and,
    ast.BitOr: np.logical_or,
}


def identifier(name: str) -> str:
    """Return the identifier pybids puts in a query for a variable name.

    Examples
    --------
    >>> identifier('trial_type.face'), identifier('parametric gain')
    ('trial_type_face', 'parametric_gain')
    """
    return re.sub(r'[^A-Za-z0-9_]+', '_', name)


def evaluate_query(query: str, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Return the rows of ``columns`` where ``query`` holds.

    Parameters
    ----------
    query : str
        A condition such as ``"RT > 0.5 and trial_type == 'go'"``.
    columns : mapping of str to (n_rows,) ndarray
        The variables the query may name, by their names.

    Returns
    -------
    rows : (n_rows,) ndarray of bool
        Where the condition holds.

    Raises
    ------
    TransformationError
        If the query is not in the grammar or names an unknown variable.

    Examples
    --------
    >>> rt = np.array([0.3, 0.6, np.nan])
    >>> kind = np.array(['go', 'go', 'stop'], dtype=object)
    >>> evaluate_query("RT > 0.5 or kind == 'stop'", {'RT': rt, 'kind': kind}).tolist()
    [False, True, True]
    """
    namespace = {identifier(name): np.asarray(values) for name, values in columns.items()}
    text = query
    for name in sorted(columns, key=len, reverse=True):
        if identifier(name) != name:
            text = text.replace(name, identifier(name))
    try:
        tree = ast.parse(text.strip(), mode='eval')
    except SyntaxError as error:
        fail(f'The Filter query {query!r} cannot be read: {error.msg}.')
    rows = len(next(iter(namespace.values())))
    result = np.broadcast_to(_evaluate(tree.body, namespace, query), (rows,))
    return np.array(result, dtype=bool)


def _evaluate(node: ast.AST, namespace: Mapping[str, np.ndarray], query: str) -> Any:  # noqa: ANN401
    """Evaluate one node of the query's tree."""
    handler = _HANDLERS.get(type(node))
    if handler is None:
        fail(
            f'The Filter query {query!r} uses {ast.unparse(node)!r}, which is not a '
            'comparison, a logical operator, a variable name or a value.'
        )
    return handler(node, namespace, query)


def _name(node: ast.AST, namespace: Mapping[str, np.ndarray], query: str) -> Any:  # noqa: ANN401
    assert isinstance(node, ast.Name)
    if node.id in namespace:
        return namespace[node.id]
    if node.id in ('True', 'False'):
        return node.id == 'True'
    return fail(
        f'The Filter query {query!r} names {node.id!r}, which is not one of the '
        f'variables it may use {sorted(namespace)}; put text values in quotes '
        f"(trial_type == 'go') and list other variables in By."
    )


def _constant(node: ast.AST, namespace: Mapping[str, np.ndarray], query: str) -> Any:  # noqa: ANN401
    assert isinstance(node, ast.Constant)
    return node.value


def _sequence(node: ast.AST, namespace: Mapping[str, np.ndarray], query: str) -> Any:  # noqa: ANN401
    assert isinstance(node, (ast.List, ast.Tuple, ast.Set))
    return [_evaluate(item, namespace, query) for item in node.elts]


def _unary(node: ast.AST, namespace: Mapping[str, np.ndarray], query: str) -> Any:  # noqa: ANN401
    assert isinstance(node, ast.UnaryOp)
    value = _evaluate(node.operand, namespace, query)
    if isinstance(node.op, (ast.Not, ast.Invert)):
        return np.logical_not(value)
    if isinstance(node.op, ast.USub):
        return -value
    return value


def _logic(node: ast.AST, namespace: Mapping[str, np.ndarray], query: str) -> Any:  # noqa: ANN401
    if isinstance(node, ast.BoolOp):
        combine, operands = _LOGIC[type(node.op)], node.values
    else:
        assert isinstance(node, ast.BinOp)
        if type(node.op) not in _LOGIC:
            fail(f'The Filter query {query!r} computes {ast.unparse(node)!r}; only compare.')
        combine, operands = _LOGIC[type(node.op)], [node.left, node.right]
    values = [_evaluate(operand, namespace, query) for operand in operands]
    result = values[0]
    for value in values[1:]:
        result = combine(result, value)
    return result


def _compare(node: ast.AST, namespace: Mapping[str, np.ndarray], query: str) -> Any:  # noqa: ANN401
    assert isinstance(node, ast.Compare)
    left = _evaluate(node.left, namespace, query)
    result: Any = True
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = _evaluate(right_node, namespace, query)
        result = np.logical_and(result, _one_comparison(op, left, right, query))
        left = right
    return result


def _one_comparison(op: ast.cmpop, left: Any, right: Any, query: str) -> Any:  # noqa: ANN401
    """Compare two operands row by row (``in`` takes a list on its right)."""
    if isinstance(op, (ast.In, ast.NotIn)):
        inside = np.isin(np.asarray(left, dtype=object), np.asarray(right, dtype=object))
        return inside if isinstance(op, ast.In) else ~inside
    if type(op) not in _COMPARISONS:
        fail(f'The Filter query {query!r} uses a comparison that is not supported.')
    try:
        with np.errstate(invalid='ignore'):
            return _COMPARISONS[type(op)](left, right)
    except TypeError:
        return fail(f'The Filter query {query!r} compares text with numbers.')


_HANDLERS: dict[type[ast.AST], Callable[[ast.AST, Mapping[str, np.ndarray], str], Any]] = {
    ast.Name: _name,
    ast.Constant: _constant,
    ast.List: _sequence,
    ast.Tuple: _sequence,
    ast.Set: _sequence,
    ast.UnaryOp: _unary,
    ast.BoolOp: _logic,
    ast.BinOp: _logic,
    ast.Compare: _compare,
}
