"""Contrast names and the BIDS labels they become, by one deterministic rule.

A contrast is named by its user (a dict key, or the expression string itself); the
``contrast-<label>`` entity of its files needs ASCII letters and digits only. The
rule turning a name into a label keeps the user's case and fails loudly rather
than guessing:

1. The name is cut into words: runs of ASCII letters and digits are words, a
   decimal number is one word whose ``.`` becomes ``p`` (``0.5`` -> ``0p5``).
2. Spaces, tabs, ``_``, parentheses, brackets, ``:`` and a ``.`` between two
   letters or digits only separate words (BIDS Stats Models write
   ``trial_type.face``, formula columns ``C(group)[a]`` and interactions
   ``a:b``; FitLins labels them the same way). Any other ``.`` (``../x``,
   ``a..b``) is an error.
3. Operators become words: ``-`` Minus, ``+`` Plus, ``*`` Times, ``/`` Over,
   ``>`` Gt, ``<`` Lt, ``=`` Eq, ``,`` and ``&`` And.
4. The first word is kept as it is; every later word gets its first letter
   upper-cased, the rest unchanged (camelCase, never lower-cased).
5. Any other character (non-ASCII letters, ``!``, ``[``, ...) is an error naming
   it, and so is a name that gives no word at all.

======================================  ===================================
name                                    label
======================================  ===================================
``audio``                               ``audio``
``AudioLeft``                           ``AudioLeft``
``audio - visual``, ``audio-visual``    ``audioMinusVisual``
``audio_left``, ``audio left``          ``audioLeft``
``audio_left - audio_right``            ``audioLeftMinusAudioRight``
``effects of interest``                 ``effectsOfInterest``
``audio + visual``                      ``audioPlusVisual``
``audio > visual`` / ``audio < visual`` ``audioGtVisual`` / ``audioLtVisual``
``2*audio - visual``                    ``2TimesAudioMinusVisual``
``(audio + visual) / 2``                ``audioPlusVisualOver2``
``0.5*audio + 0.5*visual``              ``0p5TimesAudioPlus0p5TimesVisual``
``-audio``                              ``MinusAudio``
``x1 - x2``                             ``x1MinusX2``
``a, b``                                ``aAndB``
``trial_type.face``                     ``trialTypeFace``
``VisMot_&_VisStat``                    ``VisMotAndVisStat``
``group.A:age``                         ``groupAAge``
``C(group)[T.a]``                       ``CGroupTA``
``F``                                   ``F``
``café``, ``a!``, ``../x``, ``___``     error
======================================  ===================================

Two names giving the same label, or labels that differ only by case (they would
overwrite each other on the case-insensitive file systems of macOS and Windows),
are an error too: :func:`label_contrasts` checks a whole set of names at once and
reports every culprit.

An unnamed array of weights is named by :func:`name_from_weights`: its rows written
as expressions over the design columns, in column order (weight 1 is omitted,
other weights are written with up to 6 significant digits and ``*``), rows joined
by ``", "``. Over columns ``a, b, c``: ``[1, -1, 0]`` -> ``'a - b'`` (label
``aMinusB``), ``[0.5, 0.5, 0]`` -> ``'0.5*a + 0.5*b'``, ``[[1, 0, 0], [0, 1, 0]]``
-> ``'a, b'`` (label ``aAndB``).

Examples
--------
>>> for name in ['audio - visual', 'AudioLeft', 'audio_left', '(audio + visual) / 2',
...              'trial_type.face']:
...     print(contrast_label(name))
audioMinusVisual
AudioLeft
audioLeft
audioPlusVisualOver2
trialTypeFace
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from bidsglm.errors import BidsNameError, ContrastError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

__all__ = ['OPERATOR_WORDS', 'contrast_label', 'label_contrasts', 'name_from_weights']

#: The word each operator becomes in a label.
OPERATOR_WORDS: dict[str, str] = {
    '-': 'Minus',
    '+': 'Plus',
    '*': 'Times',
    '/': 'Over',
    '>': 'Gt',
    '<': 'Lt',
    '=': 'Eq',
    ',': 'And',
    '&': 'And',
}

_TOKEN = re.compile(
    r'(?P<number>[0-9]+\.[0-9]+)|(?P<word>[A-Za-z0-9]+)|(?P<operator>[-+*/<>=,&])'
    r'|(?P<separator>[ \t_():\[\]]|(?<=[A-Za-z0-9])\.(?=[A-Za-z0-9]))|(?P<other>.)',
    re.DOTALL,
)
_TOKEN_WORDS: dict[str, Callable[[str], str]] = {
    'number': lambda text: text.replace('.', 'p'),
    'word': lambda text: text,
    'operator': OPERATOR_WORDS.__getitem__,
    'separator': lambda _text: '',
}
_RULE = (
    'A label keeps ASCII letters and digits; spaces, _, parentheses, brackets, : and a . '
    'between letters or digits separate words; - + * / > < = , & become Minus Plus Times '
    'Over Gt Lt Eq And And. Rename the contrast (use a dict key as its name).'
)


def _label_or_culprits(name: str) -> tuple[str, list[str]]:
    """Apply the rule; return the label and the characters it could not use."""
    words: list[str] = []
    culprits: list[str] = []
    for match in _TOKEN.finditer(name):
        kind, text = match.lastgroup or 'other', match.group()
        if kind == 'other':
            culprits.append(text)
        elif word := _TOKEN_WORDS[kind](text):
            words.append(word)
    label = ''.join(words[:1] + [word[0].upper() + word[1:] for word in words[1:]])
    return label, list(dict.fromkeys(culprits))


def contrast_label(name: str) -> str:
    """Turn a contrast name into its BIDS label (see the module docstring).

    Parameters
    ----------
    name : str
        The contrast name.

    Returns
    -------
    str
        A non-empty string of ASCII letters and digits.

    Raises
    ------
    BidsNameError
        If the name holds characters the rule cannot use, or gives an empty label.

    Examples
    --------
    >>> contrast_label('0.5*audio + 0.5*visual')
    '0p5TimesAudioPlus0p5TimesVisual'
    >>> contrast_label('café')
    Traceback (most recent call last):
    ...
    bidsglm.errors.BidsNameError: The contrast name 'café' cannot become a BIDS label: ...
    """
    label, culprits = _label_or_culprits(name)
    if culprits:
        shown = ', '.join(map(repr, culprits))
        msg = f'The contrast name {name!r} cannot become a BIDS label: it holds {shown}. {_RULE}'
        raise BidsNameError(msg)
    if not label:
        msg = f'The contrast name {name!r} gives an empty BIDS label. {_RULE}'
        raise BidsNameError(msg)
    return label


def label_contrasts(names: Iterable[str]) -> dict[str, str]:
    """Label every name, and check the labels can share one folder.

    Parameters
    ----------
    names : iterable of str
        The contrast names, all distinct.

    Returns
    -------
    dict of str to str
        Each name and its label, in the given order.

    Raises
    ------
    BidsNameError
        Listing every name that cannot be labelled and every group of names whose
        labels are equal when case is ignored.

    Examples
    --------
    >>> label_contrasts(['audio', 'audio - visual'])
    {'audio': 'audio', 'audio - visual': 'audioMinusVisual'}
    >>> label_contrasts(['a - b', 'a-b'])
    Traceback (most recent call last):
    ...
    bidsglm.errors.BidsNameError: Contrast names collide: 'a - b' and 'a-b' give 'aMinusB'...
    """
    labels: dict[str, str] = {}
    problems: list[str] = []
    for name in names:
        try:
            labels[name] = contrast_label(name)
        except BidsNameError as error:
            problems.append(str(error))
    problems.extend(_collisions(labels))
    if problems:
        msg = ' | '.join(problems)
        raise BidsNameError(msg)
    return labels


def _collisions(labels: dict[str, str]) -> list[str]:
    """Describe each group of names whose labels are equal up to case."""
    groups: dict[str, list[str]] = {}
    for name, label in labels.items():
        groups.setdefault(label.casefold(), []).append(name)
    problems = []
    for names in groups.values():
        if len(names) > 1:
            shown = ' and '.join(repr(name) for name in names)
            given = ', '.join(dict.fromkeys(repr(labels[name]) for name in names))
            problems.append(
                f'Contrast names collide: {shown} give {given}, and files named by labels '
                'equal up to case overwrite each other. Rename all but one.'
            )
    return problems


def _format_weight(value: float) -> str:
    """Write a positive weight with up to 6 significant digits, no exponent."""
    return np.format_float_positional(value, precision=6, fractional=False, trim='-')


def _row_expression(row: np.ndarray, columns: Sequence[str]) -> str:
    """Write one row of weights as an expression over the columns."""
    text = ''
    for weight, column in zip(row.tolist(), columns, strict=True):
        if weight == 0:
            continue
        term = column if abs(weight) == 1 else f'{_format_weight(abs(weight))}*{column}'
        if not text:
            text = f'-{term}' if weight < 0 else term
        else:
            text += f' - {term}' if weight < 0 else f' + {term}'
    return text or '0'


def name_from_weights(weights: np.ndarray, columns: Sequence[str]) -> str:
    """Name an unnamed contrast from its weights over the design columns.

    Parameters
    ----------
    weights : (p,) or (q, p) array-like
        The weights, one column per design column.
    columns : sequence of str
        The names of the ``p`` design columns.

    Returns
    -------
    str
        The rows as expressions joined by ``', '`` (see the module docstring).

    Raises
    ------
    ContrastError
        If the width differs from the number of columns, or every weight is 0.

    Examples
    --------
    >>> name_from_weights([1, -1, 0], ['a', 'b', 'c'])
    'a - b'
    >>> name_from_weights([[0.5, 0.5, 0], [0, 0, -2]], ['a', 'b', 'c'])
    '0.5*a + 0.5*b, -2*c'
    """
    matrix = np.atleast_2d(np.asarray(weights, dtype=float))
    if matrix.shape[-1] != len(columns):
        msg = (
            f'The contrast {matrix.tolist()} has {matrix.shape[-1]} weights but the design '
            f'has {len(columns)} columns {list(columns)}. Give one weight per column.'
        )
        raise ContrastError(msg)
    if not np.any(matrix):
        msg = f'The contrast {matrix.tolist()} is null: every weight is 0.'
        raise ContrastError(msg)
    return ', '.join(_row_expression(row, columns) for row in matrix)
