"""Names the Run node uses that its ``X`` does not hold: left out, as pybids and bidspm do.

A variable outside ``Model.X`` is never a column of the design, so what names it
cannot be computed. The tools that wrote the files read such names so:

- pybids builds a node's contrasts with ``invalid_contrasts='drop'`` by default: a
  contrast (or dummy contrast) naming a variable missing from the design is
  dropped, the other contrasts kept;
- FitLins and bidspm convolve the variables of ``HRF.Variables`` that are in the
  design; bidspm's own tests (``model-vismotionWithExtraVariable``,
  ``model-vismotionNoCondition``) expect a warning and a design without them.

bidsglm does the same when it reads the model, and says so in one warning naming
each name left out (a typo shows there, with the names ``X`` holds). With a
``Formula``, contrasts name its columns (``rt:gain``), known only from the data:
they are checked when the work is planned.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bidsglm.dataset.stats_models._graph import is_covered
from bidsglm.dataset.stats_models._types import INTERCEPT, DummyContrasts, Hrf, Node

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ['leave_out_names_outside_x']


def _outside(names: Iterable[str], x: tuple[str, ...]) -> list[str]:
    """Return the names ``X`` does not hold (``1``, the intercept, is always available)."""
    return [name for name in names if name != INTERCEPT and not is_covered(name, x)]


def _hrf(hrf: Hrf | None, x: tuple[str, ...], notes: list[str]) -> Hrf | None:
    if hrf is None or hrf.variables is None:
        return hrf
    outside = _outside(hrf.variables, x)
    if not outside:
        return hrf
    notes.append(f'HRF.Variables {outside} (not convolved)')
    kept = tuple(name for name in hrf.variables if name not in outside)
    return dataclasses.replace(hrf, variables=kept)


def _dummy(
    dummy: DummyContrasts | None, x: tuple[str, ...], notes: list[str]
) -> DummyContrasts | None:
    if dummy is None or dummy.conditions is None:
        return dummy
    outside = _outside(dummy.conditions, x)
    if not outside:
        return dummy
    kept = tuple(name for name in dummy.conditions if name not in outside)
    notes.append(f'the dummy contrasts {outside}{"" if kept else " (none left)"}')
    return DummyContrasts(kept, dummy.test) if kept else None


def leave_out_names_outside_x(node: Node) -> tuple[Node, list[str]]:
    """Return the Run node without what names variables outside its ``X``, and what was left out.

    Parameters
    ----------
    node : Node
        The Run node, as written.

    Returns
    -------
    node : Node
        The same node, without the ``HRF.Variables`` names, contrasts and dummy
        contrasts that name a variable ``X`` does not hold.
    left_out : list of str
        One line for each kind of thing left out (empty when nothing was).

    Examples
    --------
    >>> from bidsglm.dataset.stats_models._types import Contrast, NodeModel
    >>> a, b = 'trial_type.a', 'trial_type.b'
    >>> node = Node('Run', 'run', ('run', 'sub'),
    ...             NodeModel('glm', (a, 'trans_?'), hrf=Hrf('spm', (a, b))),
    ...             contrasts=(Contrast('aMinusB', (a, b), ((1, -1),), 't'),
    ...                        Contrast('a', (a,), ((1,),), 't')))
    >>> kept, left_out = leave_out_names_outside_x(node)
    >>> kept.model.hrf.variables, [c.name for c in kept.contrasts]
    (('trial_type.a',), ['a'])
    >>> for line in left_out:
    ...     print(line)
    HRF.Variables ['trial_type.b'] (not convolved)
    the contrasts ['aMinusB'] (they name ['trial_type.b'])
    """
    x = node.model.x
    notes: list[str] = []
    hrf = _hrf(node.model.hrf, x, notes)
    if node.model.formula is not None:  # contrasts name the formula's columns
        x = (*x, '*')
    dropped = [c for c in node.contrasts if _outside(c.conditions, x)]
    if dropped:
        names = sorted({n for c in dropped for n in _outside(c.conditions, x)})
        notes.append(f'the contrasts {[c.name for c in dropped]} (they name {names})')
    dummy = _dummy(node.dummy, x, notes)
    if not notes:
        return node, notes
    return dataclasses.replace(
        node,
        model=dataclasses.replace(node.model, hrf=hrf),
        contrasts=tuple(c for c in node.contrasts if c not in dropped),
        dummy=dummy,
    ), notes
