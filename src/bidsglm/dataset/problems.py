"""Every problem of a plan at once: collected across runs, subjects and nodes, then raised.

Planning checks the model against the whole dataset. Stopping at the first problem
would make a user fix one subject, run again, and meet the next; instead each run,
subject and node is checked in a :meth:`Problems.collect` block, and
:meth:`Problems.raise_if_any` raises one error listing them all, the same problem
of several subjects on one line.
"""

from __future__ import annotations

import contextlib
import re
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
        self._first: dict[str, str] = {}

    def add(
        self, message: str, where: str = '', error: type[BidsGlmError] = InvalidParameterError
    ) -> None:
        """Record one problem (``where`` says whose it is: a subject, a node).

        A subject named in the message (not inside a path) is read as "this subject"
        when comparing problems, so the same problem of several subjects is listed
        once, in those words; a problem of one subject keeps its own words.

        Examples
        --------
        >>> problems = Problems()
        >>> problems.add('no run of sub-02 has x (sub-02/func/sub-02_events.tsv)', 'sub-02')
        >>> problems.add('no run of sub-03 has x (sub-03/func/sub-03_events.tsv)', 'sub-03')
        >>> len(problems)
        2
        >>> problems.add('no run of sub-04 has x', 'sub-04')
        >>> problems.add('no run of sub-05 has x', 'sub-05')
        >>> len(problems)
        3
        """
        key = _without_place(message, where)
        places = self._found.setdefault(key, [])
        if where and where not in places:
            places.append(where)
        self._errors.setdefault(key, error)
        self._first.setdefault(key, message)

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
        lines = [self._line(key, places) for key, places in self._found.items()]
        if len(lines) == 1:
            raise self._errors[next(iter(self._found))](lines[0])
        shown = [f'  {i}. {line}' for i, line in enumerate(lines[:MAX_SHOWN], 1)]
        if len(lines) > MAX_SHOWN:
            shown.append(f'  ... and {len(lines) - MAX_SHOWN} more.')
        msg = '\n'.join([f'The model does not fit the dataset: {len(lines)} problems.', *shown])
        raise InvalidParameterError(msg)

    def _line(self, key: str, places: list[str]) -> str:
        """One problem: its places, then its words (its own for a single place)."""
        if not places:
            return key
        message = self._first[key] if len(places) == 1 else key
        return f'({_places(places)}) {message}'


def _without_place(message: str, where: str) -> str:
    """Return the message with its subject (not inside a path) read as "this subject"."""
    if not where.startswith('sub-'):
        return message
    return re.sub(rf'(?<![\w/.-]){re.escape(where)}(?![\w/.-])', 'this subject', message)


def _places(places: list[str]) -> str:
    if len(places) <= 4:
        return ', '.join(places)
    return f'{", ".join(places[:3])} and {len(places) - 3} more'
