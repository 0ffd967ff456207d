"""Every problem of a plan at once: collected across runs, subjects and nodes, then raised.

Planning checks the model against the whole dataset. Stopping at the first problem
would make a user fix one subject, run again, and meet the next; instead each run,
subject and node is checked in a :meth:`Problems.collect` block, and
:meth:`Problems.raise_if_any` raises one error listing them all, the same problem
of several subjects on one line.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from bidsglm.errors import BidsGlmError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ['Problems']

#: At most this many problems are listed; the count of the others is given.
MAX_SHOWN = 20


class Problems:
    """The problems found so far, each with the subjects (or places) it concerns.

    Examples
    --------
    >>> problems = Problems()
    >>> for subject in ('01', '02'):
    ...     with problems.collect(f'sub-{subject}'):
    ...         raise InvalidParameterError("Model.X names 'tral_type.a', which is no variable.")
    >>> with problems.collect('node dataset'):
    ...     raise InvalidParameterError('participants.tsv has no column group.')
    >>> problems.raise_if_any()
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: The model does not fit the dataset: 2 problems.
      1. (sub-01, sub-02) Model.X names 'tral_type.a', which is no variable.
      2. (node dataset) participants.tsv has no column group.
    """

    def __init__(self) -> None:
        self._found: dict[str, list[str]] = {}
        self._errors: dict[str, type[BidsGlmError]] = {}

    def add(
        self, message: str, where: str = '', error: type[BidsGlmError] = InvalidParameterError
    ) -> None:
        """Record one problem (``where`` says whose it is: a subject, a node)."""
        places = self._found.setdefault(message, [])
        if where and where not in places:
            places.append(where)
        self._errors.setdefault(message, error)

    @contextlib.contextmanager
    def collect(self, where: str = '') -> Iterator[None]:
        """Run a block; record the :class:`BidsGlmError` it raises instead of raising it."""
        try:
            yield
        except BidsGlmError as error:
            self.add(str(error), where, type(error))

    def __len__(self) -> int:
        return len(self._found)

    def __bool__(self) -> bool:
        return bool(self._found)

    def raise_if_any(self) -> None:
        """Raise one error listing every problem; nothing when there is none.

        A single problem is raised as it was (same class, same message, its place
        in front); several make an :class:`InvalidParameterError` listing them.
        """
        if not self._found:
            return
        lines = [
            f'({_places(places)}) {message}' if places else message
            for message, places in self._found.items()
        ]
        if len(lines) == 1:
            message = next(iter(self._found))
            raise self._errors[message](lines[0])
        shown = [f'  {i}. {line}' for i, line in enumerate(lines[:MAX_SHOWN], 1)]
        if len(lines) > MAX_SHOWN:
            shown.append(f'  ... and {len(lines) - MAX_SHOWN} more.')
        msg = '\n'.join([f'The model does not fit the dataset: {len(lines)} problems.', *shown])
        raise InvalidParameterError(msg)


def _places(places: list[str]) -> str:
    if len(places) <= 4:
        return ', '.join(places)
    return f'{", ".join(places[:3])} and {len(places) - 3} more'
