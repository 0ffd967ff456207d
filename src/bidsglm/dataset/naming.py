"""Where each node's outputs go, and the names planning checks before anything is fitted.

A model file's nodes each get their own derivative dataset, ``OUTPUT_DIR/node-<label>/``
(the label is made from the node's ``Name`` by the contrast-label rule of
:mod:`bidsglm.bids.labels`: ``run_level`` -> ``runLevel``), as FitLins does and as
BIDS allows for the steps of a pipeline: several nodes of one level, or branches,
never write into one another, and each folder passes the BIDS validator on its
own. Without a model file (the command line's options), each subject's model of
all its runs is saved in ``OUTPUT_DIR`` itself and the group results beside them,
as always.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bidsglm.bids.labels import contrast_label, label_contrasts
from bidsglm.bids.layout import check_output_names
from bidsglm.bids.sidecars import STAT_OF_OUTPUT, stat_label
from bidsglm.errors import BidsNameError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path, PurePosixPath

    from bidsglm.bids.layout import Layout
    from bidsglm.dataset.stats_models import Node, StatsModel

__all__ = [
    'check_contrast_names',
    'classic_placement',
    'node_folders',
    'node_label',
]


def node_label(name: str) -> str:
    """Return the label of a node's folder (``node-<label>``).

    Examples
    --------
    >>> node_label('run_level'), node_label('simple contrast'), node_label('F-test')
    ('runLevel', 'simpleContrast', 'FTest')
    """
    try:
        return contrast_label(name.replace('-', ' '))
    except BidsNameError as error:
        msg = str(error).replace('The contrast name', 'The node name', 1)
        raise BidsNameError(msg) from None


def node_folders(model: StatsModel, out_dir: Path) -> dict[str, Path]:
    """Return each node's folder, ``out_dir/node-<label>``.

    Raises
    ------
    BidsNameError
        If a name cannot be a label, or two names give labels equal up to case.
    """
    labels = {node.name: node_label(node.name) for node in model.nodes}
    seen: dict[str, str] = {}
    for name, label in labels.items():
        if label.casefold() in seen:
            msg = (
                f'The node names {seen[label.casefold()]!r} and {name!r} give the same folder '
                f'node-{label}: rename one.'
            )
            raise BidsNameError(msg)
        seen[label.casefold()] = name
    return {name: out_dir / f'node-{label}' for name, label in labels.items()}


def model_placement(model: StatsModel, out_dir: Path) -> Callable[[Node], Path | None]:
    """Return where each node of a model file saves: its own folder."""
    folders = node_folders(model, out_dir)
    return lambda node: folders[node.name]


def classic_placement(out_dir: Path) -> Callable[[Node], Path | None]:
    """Return where the options' model saves: everything in ``out_dir``."""
    return lambda _node: out_dir


def _contrast_paths(layout: Layout, label: str, n_designs: int) -> list[PurePosixPath]:
    """Return the files the writer names after one contrast: maps, sidecars, figures."""
    stats = {stat_label(output, test) for output in STAT_OF_OUTPUT for test in ('t', 'F')}
    paths = [
        layout.model_path({'contrast': label, 'stat': stat}, 'statmap', extension)
        for stat in sorted(stats)
        for extension in ('.nii.gz', '.json')
    ]
    paths += [layout.run_path(i, {'contrast': label}, 'design', '.svg') for i in range(n_designs)]
    return paths


def _short(name: str, limit: int = 48) -> str:
    """Return the repr of a name for a message, its middle cut when it is long."""
    if len(name) <= limit:
        return repr(name)
    return repr(f'{name[: limit - 16]}...{name[-13:]}')


def check_contrast_names(
    names: Sequence[str], layout: Layout, n_designs: int, names_from: str
) -> None:
    """Refuse, before any fit, the contrast names the writer would refuse after it.

    The same rules as the writer's: each name becomes a label by
    :func:`bidsglm.bids.labels.contrast_label`, labels equal up to case collide, and
    no file name may exceed 255 bytes. Repeated names are refused too (one would
    silently replace the other).

    Parameters
    ----------
    names : sequence of str
        The contrast names, as the model or the options give them.
    layout : Layout
        The names of the model's files.
    n_designs : int
        Its number of designs (runs; 1 at the group level).
    names_from : str
        Where the names come from and how to change them, ending every message.

    Raises
    ------
    BidsNameError
        Naming the contrast and what to change.
    """
    repeated = sorted({name for name in names if list(names).count(name) > 1})
    if repeated:
        msg = (
            f'The contrast name {_short(repeated[0])} is given twice: one would '
            f'replace the other. Give each contrast its own name. {names_from}'
        )
        raise BidsNameError(msg)
    try:
        labels = label_contrasts(names)
    except BidsNameError as error:
        msg = f'{error} {names_from}'
        raise BidsNameError(msg) from None
    for name, label in labels.items():
        try:
            check_output_names(_contrast_paths(layout, label, n_designs))
        except BidsNameError as error:
            msg = f'Cannot save the contrast {_short(name)}: {error} {names_from}'
            raise BidsNameError(msg) from None
