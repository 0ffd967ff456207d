"""``SpatialReference``: what BIDS requires of a map whose space is not a standard template.

BIDS recommends ``SpatialReference`` for a file named with ``space-`` and requires it
when the label is not one of its standard template identifiers (``fsaverage``,
``fsLR``, ``MNI152NLin2009cAsym``, ...; :data:`STANDARD_SPACES`). fMRIPrep names
outputs in several such spaces: ``T1w`` (the subject's anatomy), ``fsnative`` (the
subject's own surfaces), and ``fsaverage5`` / ``fsaverage6`` (older fMRIPrep's names
of the fsaverage meshes at 10k and 41k vertices per hemisphere; newer versions write
``space-fsaverage_den-10k``). The validator reports an error for each of their maps
without the field. bidsglm writes it so:

- ``fsaverage4``, ``fsaverage5``, ``fsaverage6``: the TemplateFlow URI of the
  fsaverage pial mesh at that density
  (``https://templateflow.s3.amazonaws.com/tpl-fsaverage/tpl-fsaverage_hemi-L_den-10k_pial.surf.gii``):
  a public, versioned file with exactly the vertices of the map;
- any other non-standard space (``T1w``, ``fsnative``, a custom label): the path,
  relative to the output dataset, of the model's own mask in that space
  (``sub-01/func/sub-01_task-x_space-T1w_mask.nii.gz``). It is on the very grid
  (or surface) of every map of the model; the files it came from are listed in
  ``statmap.json`` (``InputFiles``). bidsglm does not guess a subject's anatomical
  file in another dataset, which a path of this dataset could not name anyway.

A file of one hemisphere (``hemi-L``) gets one string; a file of both (a design, the
model's ``statmap.json`` level files, a CIFTI-2 map) gets an object by CIFTI-2
structure (``CIFTI_STRUCTURE_CORTEX_LEFT``, ``CIFTI_STRUCTURE_CORTEX_RIGHT``), as BIDS
asks for images with several references. Standard spaces get nothing (BIDS only
recommends the field there, and the template is named by the label).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    'FSAVERAGE_DENSITIES',
    'STANDARD_SPACES',
    'TEMPLATEFLOW_URL',
    'needs_spatial_reference',
    'spatial_reference',
]

#: BIDS's standard template identifiers (the schema's ``_StandardTemplateCoordSys``,
#: BIDS 1.10): maps in these spaces need no ``SpatialReference``.
STANDARD_SPACES = frozenset({
    'ICBM452AirSpace', 'ICBM452Warp5Space', 'IXI549Space', 'fsaverage', 'fsaverageSym',
    'fsLR', 'MNIColin27', 'MNI152Lin', 'MNI152NLin2009aSym', 'MNI152NLin2009bSym',
    'MNI152NLin2009cSym', 'MNI152NLin2009aAsym', 'MNI152NLin2009bAsym',
    'MNI152NLin2009cAsym', 'MNI152NLin6Sym', 'MNI152NLin6Asym', 'MNI305', 'NIHPD',
    'OASIS30AntsOASISAnts', 'OASIS30Atropos', 'Talairach', 'UNCInfant',
})  # fmt: skip
#: FreeSurfer's names of the fsaverage meshes, and TemplateFlow's density of each.
FSAVERAGE_DENSITIES = {'fsaverage4': '3k', 'fsaverage5': '10k', 'fsaverage6': '41k'}
#: Where TemplateFlow's files are served.
TEMPLATEFLOW_URL = 'https://templateflow.s3.amazonaws.com'
#: The CIFTI-2 structure of each ``hemi-`` label, the keys of a two-hemisphere reference.
_STRUCTURES = {'L': 'CIFTI_STRUCTURE_CORTEX_LEFT', 'R': 'CIFTI_STRUCTURE_CORTEX_RIGHT'}


def needs_spatial_reference(space: str | None) -> bool:
    """Tell whether BIDS requires ``SpatialReference`` of a file named ``space-<space>``.

    Examples
    --------
    >>> needs_spatial_reference('fsaverage5'), needs_spatial_reference('T1w')
    (True, True)
    >>> needs_spatial_reference('fsLR'), needs_spatial_reference(None)
    (False, False)
    """
    return space is not None and space not in STANDARD_SPACES


def _template_mesh(space: str, hemi: str) -> str:
    """Return the TemplateFlow URI of an fsaverage density's pial mesh, one hemisphere."""
    density = FSAVERAGE_DENSITIES[space]
    name = f'tpl-fsaverage_hemi-{hemi}_den-{density}_pial.surf.gii'
    return f'{TEMPLATEFLOW_URL}/tpl-fsaverage/{name}'


def spatial_reference(
    entities: Mapping[str, str], masks: Mapping[str | None, str]
) -> str | dict[str, str] | None:
    """Return the ``SpatialReference`` of a file from its entities, or None if not needed.

    Parameters
    ----------
    entities : mapping of str to str
        The file's BIDS entities (``space``, ``hemi``, ...).
    masks : mapping of str or None to str
        The model's mask files, relative to the output dataset: by ``hemi-`` label
        (``'L'``, ``'R'``) for a GIFTI model, under None for a volume or CIFTI-2 one.

    Returns
    -------
    str, dict of str to str, or None
        One reference, one per hemisphere (keyed by CIFTI-2 structure) for a file of
        both hemispheres, or None for a standard space or a file without ``space-``.

    Examples
    --------
    >>> spatial_reference({'space': 'fsaverage5', 'hemi': 'L'}, {})
    'https://templateflow.s3.amazonaws.com/tpl-fsaverage/tpl-fsaverage_hemi-L_den-10k_pial.surf.gii'
    >>> spatial_reference({'space': 'T1w'}, {None: 'sub-01/func/sub-01_space-T1w_mask.nii.gz'})
    'sub-01/func/sub-01_space-T1w_mask.nii.gz'
    >>> masks = {'L': 'hemi-L_space-fsnative_mask.func.gii',
    ...          'R': 'hemi-R_space-fsnative_mask.func.gii'}
    >>> spatial_reference({'space': 'fsnative'}, masks)['CIFTI_STRUCTURE_CORTEX_RIGHT']
    'hemi-R_space-fsnative_mask.func.gii'
    >>> spatial_reference({'space': 'fsLR', 'den': '91k'}, {}) is None
    True
    """
    space = entities.get('space')
    if space is None or not needs_spatial_reference(space):
        return None
    hemispheres = [entities['hemi']] if 'hemi' in entities else [h for h in masks if h]
    if space in FSAVERAGE_DENSITIES:
        by_hemi = {hemi: _template_mesh(space, hemi) for hemi in hemispheres or _STRUCTURES}
    elif None in masks:
        return masks[None]
    else:
        by_hemi = {hemi: masks[hemi] for hemi in hemispheres if hemi in masks}
    if not by_hemi:
        return None
    if len(by_hemi) == 1:
        return next(iter(by_hemi.values()))
    return {_STRUCTURES[hemi]: reference for hemi, reference in by_hemi.items()}
