"""The template drawn under the maps of a model in a standard space.

A first-level model is drawn over its own mean image. A group model has none: in an
MNI space (its files' ``space-`` label starts with ``MNI``) its maps are drawn over
the MNI ICBM152 2009a T1 template shipped with bidsglm (3 mm, openly licensed, see
``bidsglm/data/mni152/README.md``), resampled onto the maps' grid; in any other
space, over the mask.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bidsglm.bids.entities import parse_bids_name

__all__ = ['MNI_TEMPLATE_NAME', 'is_mni_space', 'template_for']

#: How the captions name the template.
MNI_TEMPLATE_NAME = 'the MNI ICBM152 template (2009a, 3 mm)'
_MNI_TEMPLATE = 'mni152/mni_icbm152_2009a_t1_3mm.nii.gz'


def is_mni_space(path: str | Path) -> bool:
    """Tell whether a saved file's ``space-`` label names an MNI space (starts with MNI).

    Parameters
    ----------
    path : str or pathlib.Path
        A file of the model (its ``statmap.json``).

    Returns
    -------
    bool
        True for ``space-MNI152NLin2009cAsym``, ``space-MNI152NLin6Asym``, ``space-MNI305``...

    Examples
    --------
    >>> is_mni_space('task-x_space-MNI152NLin6Asym_statmap.json')
    True
    >>> is_mni_space('task-x_space-T1w_statmap.json'), is_mni_space('task-x_statmap.json')
    (False, False)
    """
    space = parse_bids_name(path).entities.get('space', '')
    return space.upper().startswith('MNI')


def template_for(path: str | Path) -> Path | None:
    """Return the template to draw under a saved model's maps, from its ``space-`` entity.

    Parameters
    ----------
    path : str or pathlib.Path
        A file of the model (its ``statmap.json``).

    Returns
    -------
    pathlib.Path or None
        The shipped MNI template for an MNI space, else None.

    Examples
    --------
    >>> template_for('task-x_space-MNI152NLin6Asym_statmap.json').name
    'mni_icbm152_2009a_t1_3mm.nii.gz'
    >>> template_for('task-x_space-fsLR_statmap.json') is None
    True
    """
    if not is_mni_space(path):
        return None
    return Path(str(resources.files('bidsglm') / 'data' / _MNI_TEMPLATE))
