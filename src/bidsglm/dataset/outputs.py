"""What a subject's nodes output: contrasts over design columns, and the runs they combine.

Every output of a Run node or of a Session or Subject node is the same kind of
object, an :class:`Output`: weights over the columns of the runs' designs and the
runs they are combined over by fixed effects. A Run node's output of one run is
that run's contrast; a fixed-effects node's output is the fixed effects, over the
union of its inputs' runs, of the same weights (or of their combination, for a
contrast that weights incoming contrasts). So a Subject node after a Session node
gives the fixed effects of all the subject's runs at once (the mean of the runs'
contrasts, nilearn's and bidsglm's first-level fixed effects), not a mean of the
sessions' means: every fixed-effects output is bidsglm's first-level fixed effects
over its runs, and is saved as such.

A Session or Subject node whose ``X`` holds entities (bidspm's
``"X": ["session", 1]``) weights its inputs by a contrast over them: its output
then gives each run its own factor (:attr:`Output.run_factors`; the difference of
two sessions weights one session's runs ``+1/k`` and the other's ``-1/k``), saved as
one expression per run.
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
    run_factors : tuple of float or None, default=None
        The factor of each run of ``runs`` (the output is the sum over runs of the
        factor times the run's contrast); None: the fixed effects, ``1/k`` each.
    """

    node: str
    name: str
    weights: Weights
    test: str
    runs: tuple[int, ...]
    entities: tuple[tuple[str, str], ...]
    run_factors: tuple[float, ...] | None = None

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

    def factors(self) -> tuple[float, ...]:
        """Return the factor of each run (``1/k`` each for the fixed effects).

        Examples
        --------
        >>> Output('n', 'c', ((('a', 1.0),),), 't', (0, 1), ()).factors()
        (0.5, 0.5)
        """
        if self.run_factors is not None:
            return self.run_factors
        return (1.0 / len(self.runs),) * len(self.runs)

    def definition(self) -> str | tuple[str, ...]:
        """Return what the saved model computes: one expression, or one per run.

        With one expression per run, bidsglm's fixed effects average the runs whose
        weights are not all zero, so each run's weights are its factor times their
        number.

        Examples
        --------
        >>> weights = ((('a', 1.0),),)
        >>> Output('n', 'c', weights, 't', (0, 1), ()).definition()
        '1*`a`'
        >>> Output('n', 'c', weights, 't', (0, 1), (), (-0.5, 0.5)).definition()
        ('-1*`a`', '1*`a`')
        """
        if self.run_factors is None:
            return self.expression()
        used = sum(factor != 0 for factor in self.run_factors)
        return tuple(self.expression(factor * used) for factor in self.run_factors)

    def expression(self, scale: float = 1.0) -> str:
        """Write the weights as an expression (rows joined by ``', '``).

        Examples
        --------
        >>> Output('n', 'c', ((('a', 1.0), ('b', -1.0)),), 't', (0,), ()).expression()
        '1*`a` - 1*`b`'
        """
        rows = []
        for row in self.weights:
            text = ' '.join(_term(weight * scale, column) for column, weight in row)
            rows.append(text[2:] if text.startswith('+') else f'-{text[2:]}')
        return ', '.join(rows)
