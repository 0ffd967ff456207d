"""The records a BIDS Stats Model is read into: frozen, checked, free of JSON spellings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bidsglm.dataset.transformations import Transformations

__all__ = [
    'INTERCEPT',
    'LEVELS',
    'Contrast',
    'DummyContrasts',
    'Edge',
    'Hrf',
    'MaskSpec',
    'Node',
    'NodeModel',
    'StatsModel',
]

#: The literal that stands for the intercept in ``X`` and ``ConditionList``.
INTERCEPT = '1'
#: The levels of the specification, from the lowest.
LEVELS = ('Run', 'Session', 'Subject', 'Dataset')


@dataclass(frozen=True)
class Contrast:
    """One contrast of a node.

    Parameters
    ----------
    name : str
        Its name, as the model writes it (its outputs' ``contrast`` entity is the
        label :func:`bidsglm.bids.labels.contrast_label` makes of it).
    conditions : tuple of str
        The variables weighted (``'1'`` is the intercept).
    weights : tuple of tuple of float
        One row per test row, one weight per condition.
    test : {'t', 'F', 'pass', 'FEMA'}
        The test; ``FEMA`` (FitLins' fixed-effects test) is computed as ``t``.

    Examples
    --------
    >>> c = Contrast('IvC', ('incongruent', 'congruent'), ((1.0, -1.0),), 't')
    >>> c.expression(), c.stat_type, c.passes_on
    ('1*`incongruent` - 1*`congruent`', 't', True)
    """

    name: str
    conditions: tuple[str, ...]
    weights: tuple[tuple[float, ...], ...]
    test: str

    @property
    def stat_type(self) -> str:
        """The test bidsglm computes: ``'F'``, or ``'t'`` (for ``t``, ``pass``, ``FEMA``)."""
        return 'F' if self.test == 'F' else 't'

    @property
    def passes_on(self) -> bool:
        """Whether the next node receives it (``F`` contrasts are terminal)."""
        return self.test != 'F'

    def expression(
        self, intercept: str = 'constant', columns: Mapping[str, str] | None = None
    ) -> str:
        """Write the contrast as an expression over design columns.

        Parameters
        ----------
        intercept : str, default='constant'
            The design column standing for ``1``.
        columns : mapping of str to str, optional
            The design column of a condition, when its name differs.

        Returns
        -------
        str
            Rows separated by ``', '``, each a sum of ``weight*`column```.

        Examples
        --------
        >>> Contrast('c', ('a', '1'), ((0.5, -2.0),), 't').expression('intercept')
        '0.5*`a` - 2*`intercept`'
        """
        names = dict(columns or {})
        names[INTERCEPT] = intercept
        return ', '.join(_row(row, self.conditions, names) for row in self.weights)

    def scaled(self, name: str, factor: float) -> Contrast:
        """Return this contrast renamed, its weights multiplied by ``factor``."""
        rows = tuple(tuple(w * factor for w in row) for row in self.weights)
        return Contrast(name, self.conditions, rows, self.test)


def _row(row: Sequence[float], conditions: Sequence[str], names: Mapping[str, str]) -> str:
    terms = []
    for weight, condition in zip(row, conditions, strict=True):
        if weight == 0:
            continue
        sign = '-' if weight < 0 else '+'
        terms.append(f'{sign} {abs(weight):.17g}*`{names.get(condition, condition)}`')
    text = ' '.join(terms)
    return text[2:] if text.startswith('+') else f'-{text[2:]}'


@dataclass(frozen=True)
class DummyContrasts:
    """One contrast per variable, named after it.

    Parameters
    ----------
    conditions : tuple of str or None
        The variables (or, at a node of intercept-only ``X``, the incoming contrasts
        to keep); None means every variable of ``X``.
    test : {'t', 'F', 'pass', 'FEMA'}
        The test of each.
    """

    conditions: tuple[str, ...] | None
    test: str


@dataclass(frozen=True)
class Hrf:
    """``Model.HRF``: which variables are convolved, and by which kernel.

    Parameters
    ----------
    model : str
        A name of :data:`bidsglm.design.HRF_MODELS` (see the HRF table of
        :mod:`bidsglm.dataset.stats_models`).
    variables : tuple of str or None
        ``Variables``: names or globs of ``X``; None (absent) convolves every events
        variable of ``X``, as without ``HRF``.
    fir_delays : tuple of int or None
        The FIR delays, in volumes (``fir`` only).
    written : str
        The model's name as the file writes it.
    """

    model: str
    variables: tuple[str, ...] | None
    fir_delays: tuple[int, ...] | None = None
    written: str = ''


@dataclass(frozen=True)
class ParametricModulation:
    """One of bidspm's ``Software.SPM.ParametricModulations``.

    Parameters
    ----------
    name : str
        ``Name``: the modulator's name in its regressors' names.
    conditions : tuple of str
        ``Conditions``: the convolved variables of ``X`` it modulates.
    value : str
        The one name of ``Values``: the events variable holding each event's amplitude.
    order : int, default=1
        ``PolynomialExpansion``: regressors for the amplitude to the powers 1 to ``order``.

    Examples
    --------
    >>> ParametricModulation('lag', ('trial_type.repeat',), 'lag', 2).regressor(
    ...     'trial_type.repeat', 2)
    'trial_type.repeatxlag^2'
    """

    name: str
    conditions: tuple[str, ...]
    value: str
    order: int = 1

    def regressor(self, condition: str, power: int) -> str:
        """Return the name of the regressor of ``condition`` for one power (SPM's spelling)."""
        return f'{condition}x{self.name}^{power}'


@dataclass(frozen=True)
class MaskSpec:
    """``Options.Mask``: entities selecting a mask file, or the path of one.

    Parameters
    ----------
    entities : dict of str to tuple of str
        Entity filters (short keys: ``desc``, ``suffix``, ``space``...); empty for a path.
    path : str or None
        A mask file, absolute or relative to the dataset's folder.

    Examples
    --------
    >>> MaskSpec({'desc': ('brain',), 'suffix': ('mask',)}).is_default
    True
    """

    entities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    path: str | None = None

    @property
    def is_default(self) -> bool:
        """Whether it selects the brain mask next to each run (what is used anyway)."""
        return self.path is None and dict(self.entities) == {
            'desc': ('brain',),
            'suffix': ('mask',),
        }


@dataclass(frozen=True)
class NodeModel:
    """``Model`` of a node, with the ``Options`` and ``Software`` settings read.

    Parameters
    ----------
    type : {'glm', 'meta'}
        ``Type``.
    x : tuple of str
        ``X``: names, globs and ``'1'``.
    formula : str or None
        ``Formula`` (Run and Dataset nodes).
    hrf : Hrf or None
        ``HRF`` (Run nodes).
    high_pass : float or None
        ``Options.HighPassFilterCutoffHz`` (Run nodes).
    mask : MaskSpec or None
        ``Options.Mask``.
    noise_model : {'ar1', 'ols'} or None
        From ``Software`` (``SPM.SerialCorrelation``, ``bidsglm.NoiseModel``).
    smoothing_fwhm : float or None
        From ``Software.bidsglm.SmoothingFWHM``.
    modulations : tuple of ParametricModulation
        From ``Software.SPM.ParametricModulations`` (bidspm; Run nodes).
    """

    type: str
    x: tuple[str, ...]
    formula: str | None = None
    hrf: Hrf | None = None
    high_pass: float | None = None
    mask: MaskSpec | None = None
    noise_model: str | None = None
    smoothing_fwhm: float | None = None
    modulations: tuple[ParametricModulation, ...] = ()

    @property
    def intercept_only(self) -> bool:
        """Whether ``X`` is ``[1]``."""
        return self.x == (INTERCEPT,) and self.formula is None


@dataclass(frozen=True)
class Node:
    """One node of the graph.

    Parameters
    ----------
    level : {'Run', 'Session', 'Subject', 'Dataset'}
        ``Level``.
    name : str
        ``Name``, unique in the model.
    group_by : tuple of str
        ``GroupBy``, as the model writes it (``sub``-style short keys for entities).
    model : NodeModel
        ``Model``.
    contrasts : tuple of Contrast, default=()
        ``Contrasts``.
    dummy : DummyContrasts or None, default=None
        ``DummyContrasts``.
    transformations : Transformations or None, default=None
        ``Transformations``, read and checked.
    """

    level: str
    name: str
    group_by: tuple[str, ...]
    model: NodeModel
    contrasts: tuple[Contrast, ...] = ()
    dummy: DummyContrasts | None = None
    transformations: Transformations | None = None

    @property
    def kind(self) -> str:
        """How bidsglm runs it: ``'run'``, ``'fixed'`` (within a subject) or ``'group'``."""
        if self.level == 'Run':
            return 'run'
        return 'group' if self.level == 'Dataset' else 'fixed'


@dataclass(frozen=True)
class Edge:
    """One edge: the outputs of ``source`` that ``destination`` receives.

    Parameters
    ----------
    source, destination : str
        Node names.
    filter : dict of str to tuple of str
        ``Filter``: the values each key (``contrast``, an entity or a
        ``participants.tsv`` column) must take; empty for none.
    """

    source: str
    destination: str
    filter: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class StatsModel:
    """A BIDS Stats Model that bidsglm can run.

    Parameters
    ----------
    name : str
        ``Name``.
    nodes : tuple of Node
        ``Nodes``, in order; the first is the Run node, the graph's root.
    edges : tuple of Edge
        ``Edges`` (made from the order of the nodes when the file has none).
    input : dict of str to tuple of str, default={}
        ``Input``: entity filters by short key (``task``, ``sub``, ``ses``, ``acq``,
        ``space``...); ``''`` means the entity is absent.
    description : str, default=''
        ``Description``.
    notes : tuple of str, default=()
        What was read but has no effect here (``Software`` options...), one line each.
    source : dict, default={}
        The model as read (modern spelling), for ``--write-model``.

    Examples
    --------
    >>> from bidsglm.dataset.stats_models import read_stats_model
    >>> model = read_stats_model({'Name': 'x', 'BIDSModelVersion': '1.0.0', 'Nodes': [
    ...     {'Level': 'Run', 'Name': 'run', 'GroupBy': ['run', 'subject'],
    ...      'Model': {'Type': 'glm', 'X': ['a', 1]}, 'DummyContrasts': {'Test': 't'}},
    ...     {'Level': 'Subject', 'Name': 'subject', 'GroupBy': ['subject', 'contrast'],
    ...      'Model': {'Type': 'meta', 'X': [1]}, 'DummyContrasts': {'Test': 't'}}]})
    >>> [node.kind for node in model.nodes], model.sources('subject')[0].source
    (['run', 'fixed'], 'run')
    """

    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    input: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    description: str = ''
    notes: tuple[str, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def run(self) -> Node:
        """The Run node (the root)."""
        return self.nodes[0]

    def node(self, name: str) -> Node:
        """Return the node of this name."""
        return next(node for node in self.nodes if node.name == name)

    def sources(self, name: str) -> list[Edge]:
        """Return the edges into a node."""
        return [edge for edge in self.edges if edge.destination == name]

    def children(self, name: str) -> list[Edge]:
        """Return the edges out of a node."""
        return [edge for edge in self.edges if edge.source == name]

    def nodes_of(self, *kinds: str) -> list[Node]:
        """Return the nodes of these kinds, in order."""
        return [node for node in self.nodes if node.kind in kinds]
