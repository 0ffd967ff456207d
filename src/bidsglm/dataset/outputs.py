"""What a subject's nodes output: contrasts over design columns, and the runs they combine.

Every output of a Run node or of a Session or Subject node is the same kind of
object, an :class:`Output`: weights over the columns of the runs' designs and the
runs they are combined over by fixed effects. A Run node's output of one run is
that run's contrast; a fixed-effects node's output is the fixed effects, over the
union of its inputs' runs, of the same weights (or of their combination, for a
contrast that weights incoming contrasts). Fixed effects weight each run by its
precision, so combining the runs of each session and then the sessions gives the
same numbers as combining all the runs at once: every fixed-effects output is
bidsglm's first-level fixed effects over its runs, and is saved as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bidsglm.dataset.stats_models import INTERCEPT

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bidsglm.dataset.stats_models import Contrast

__all__ = ['Output', 'Weights', 'combine', 'weights_of']

#: One row per test row: (design column, weight) pairs.
Weights = tuple[tuple[tuple[str, float], ...], ...]


def weights_of(contrast: Contrast, columns: Mapping[str, str]) -> Weights:
    """Return a contrast's weights over design columns (``1`` is ``constant``).

    Examples
    --------
    >>> from bidsglm.dataset.stats_models import Contrast
    >>> c = Contrast('c', ('face', '1'), ((1.0, -0.5),), 't')
    >>> weights_of(c, {'face': 'trial_type.face'})
    ((('trial_type.face', 1.0), ('constant', -0.5)),)
    """
    names = {INTERCEPT: 'constant', **columns}
    return tuple(
        tuple(
            (names.get(condition, condition), weight)
            for condition, weight in zip(contrast.conditions, row, strict=True)
            if weight != 0
        )
        for row in contrast.weights
    )


def combine(parts: Sequence[tuple[Weights, float]]) -> Weights:
    """Return the sum of one-row weights, each multiplied by its factor.

    Examples
    --------
    >>> a = ((('x', 1.0),),)
    >>> b = ((('x', 0.5), ('y', 1.0)),)
    >>> combine([(a, 1.0), (b, -2.0)])
    ((('y', -2.0),),)
    """
    total: dict[str, float] = {}
    for weights, factor in parts:
        for column, weight in weights[0]:
            total[column] = total.get(column, 0.0) + weight * factor
    return (tuple((c, w) for c, w in total.items() if w != 0),)


def _term(weight: float, column: str) -> str:
    sign = '-' if weight < 0 else '+'
    return f'{sign} {abs(weight):.17g}*`{column}`'


@dataclass(frozen=True)
class Output:
    """One output contrast of a node, for one subject.

    Parameters
    ----------
    node : str
        The node's name.
    name : str
        The contrast's name (its files' ``contrast`` label is made from it).
    weights : Weights
        Over the design columns.
    test : str
        ``t``, ``F``, ``pass`` or ``FEMA``.
    runs : tuple of int
        The subject's runs (indices) it combines.
    entities : tuple of (str, str)
        Entities common to its runs (``sub``, ``ses``, ``task``, ``run``...), for
        grouping at the next node.
    """

    node: str
    name: str
    weights: Weights
    test: str
    runs: tuple[int, ...]
    entities: tuple[tuple[str, str], ...]

    @property
    def stat_type(self) -> str:
        """``'F'`` or ``'t'``."""
        return 'F' if self.test == 'F' else 't'

    @property
    def passes_on(self) -> bool:
        """Whether the next node receives it (``F`` contrasts are terminal)."""
        return self.test != 'F'

    @property
    def columns(self) -> set[str]:
        """The design columns it weights."""
        return {column for row in self.weights for column, _ in row}

    def entity(self, key: str) -> str | None:
        """Return an entity's label, or None (``contrast`` is the name)."""
        if key == 'contrast':
            return self.name
        return dict(self.entities).get(key)

    def expression(self) -> str:
        """Write the weights as an expression (rows joined by ``', '``).

        Examples
        --------
        >>> Output('n', 'c', ((('a', 1.0), ('b', -1.0)),), 't', (0,), ()).expression()
        '1*`a` - 1*`b`'
        """
        rows = []
        for row in self.weights:
            text = ' '.join(_term(weight, column) for column, weight in row)
            rows.append(text[2:] if text.startswith('+') else f'-{text[2:]}')
        return ', '.join(rows)
