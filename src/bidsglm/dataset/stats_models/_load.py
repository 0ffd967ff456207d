"""Read a model file as a JSON object, refusing what no model can be."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bidsglm.dataset.stats_models._fields import reject
from bidsglm.errors import InputNotFoundError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ['MAX_DEPTH', 'load_model']

#: The deepest nesting a model may have; real models stay under 10 levels.
MAX_DEPTH = 64


def _depth(content: object) -> int:
    """Return how deeply lists and objects nest in ``content`` (without recursion)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(content, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _parse(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        msg = f'The model file {str(path)!r} is not valid JSON: {error}. Fix it and run again.'
        raise InvalidParameterError(msg) from error
    except RecursionError:
        msg = (
            f'The model file {str(path)!r} nests lists or objects too deeply to be read '
            f'(a model nests fewer than {MAX_DEPTH} levels). Check the file.'
        )
        raise InvalidParameterError(msg) from None


def load_model(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Return the model as a fresh JSON object (a deep copy when given a mapping).

    Parameters
    ----------
    source : path-like or mapping
        The ``_smdl.json`` file, or its content.

    Returns
    -------
    dict
        The top-level object.

    Raises
    ------
    InputNotFoundError
        If the file does not exist.
    InvalidParameterError
        If it is not JSON, not an object, or nests deeper than :data:`MAX_DEPTH`.

    Examples
    --------
    >>> load_model({'Name': 'x'})
    {'Name': 'x'}
    >>> nested = {'Name': 'x'}
    >>> for _ in range(100):
    ...     nested = {'a': nested}
    >>> load_model(nested)
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: BIDS Stats Model, the top level: it nests ...
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            msg = f'The model file {str(path)!r} does not exist. Check the --model path.'
            raise InputNotFoundError(msg)
        content = _parse(path)
    else:
        content = source
    if not isinstance(content, dict):
        reject('the top level', f'expected a JSON object, got {type(content).__name__}')
    if _depth(content) > MAX_DEPTH:
        reject(
            'the top level',
            f'it nests lists or objects more than {MAX_DEPTH} levels deep',
            'a model nests a few levels: check the file',
        )
    return copy.deepcopy(dict(content))
