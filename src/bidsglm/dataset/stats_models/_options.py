"""``Model.Options``: the high-pass cut-off and the mask; what cannot be done is refused.

=============================  ================================================
option                         what bidsglm does
=============================  ================================================
``HighPassFilterCutoffHz``     Run node: the cosine drifts' cut-off. Other nodes
                               (bidspm repeats it there): no meaning, noted
``LowPassFilterCutoffHz``      refused: a low-pass filter would smooth the data
                               and the design, which the AR(1) noise model
                               already accounts for; bidsglm (like SPM, nilearn
                               and FitLins) does not offer one
``Mask``                       entities selecting a mask file (``{"desc":
                               ["brain"], "suffix": ["mask"]}``, the brain mask
                               next to each run, is what is used anyway) or a
                               file path (see :func:`bidsglm.dataset.plan.plan_participant`)
``ReplaceVariables``           refused: voxel-wise regressors are not available
``Aggregate``                  refused: models are fitted voxel by voxel
=============================  ================================================
"""

from __future__ import annotations

from typing import Any

from bidsglm.dataset.stats_models._fields import check_keys, filters, reject
from bidsglm.dataset.stats_models._types import MaskSpec

__all__ = ['read_options']

_KEYS = frozenset(
    {
        'HighPassFilterCutoffHz',
        'LowPassFilterCutoffHz',
        'Mask',
        'ReplaceVariables',
        'Aggregate',
        'Description',
    }
)
_REFUSED = {
    'LowPassFilterCutoffHz': (
        'bidsglm does not low-pass filter: the AR(1) noise model accounts for the '
        'temporal autocorrelation that a low-pass filter would smooth (SPM, nilearn and '
        'FitLins offer none either)',
        'remove LowPassFilterCutoffHz (keep HighPassFilterCutoffHz)',
    ),
    'ReplaceVariables': (
        'voxel-wise regressors are not available',
        'remove ReplaceVariables',
    ),
    'Aggregate': (
        'models are fitted voxel by voxel, never on aggregated time series',
        'remove Aggregate',
    ),
}


def _cutoff(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        reject(where, f'expected a frequency > 0 in Hz, got {value!r}')
    return float(value)


def _mask(value: object, where: str) -> MaskSpec:
    if isinstance(value, str):
        return MaskSpec(path=value)
    entities = filters(value, where)
    if 'suffix' not in entities:
        entities['suffix'] = ('mask',)
    if entities['suffix'] != ('mask',):
        reject(
            f'{where}.suffix',
            f'the mask must be a binary mask file (suffix "mask"), not {list(entities["suffix"])}',
            'a probabilistic segmentation needs a threshold that bidsglm does not guess: '
            'threshold it into a *_mask.nii.gz file and select that one',
        )
    return MaskSpec(entities)


def read_options(obj: object, where: str, level: str) -> tuple[dict[str, Any], list[str]]:
    """Read ``Model.Options`` into node fields, and notes of what has no effect.

    Examples
    --------
    >>> read_options({'HighPassFilterCutoffHz': 0.008}, 'Options', 'Run')
    ({'high_pass': 0.008}, [])
    >>> read_options({'HighPassFilterCutoffHz': 0.008}, 'Options', 'Subject')
    ({}, ['Options.HighPassFilterCutoffHz has no meaning at the Subject level: not read'])
    """
    options = check_keys(obj, _KEYS, where, {})
    for key, (problem, advice) in _REFUSED.items():
        if key in options:
            reject(f'{where}.{key}', problem, advice)
    fields: dict[str, Any] = {}
    notes = []
    if 'HighPassFilterCutoffHz' in options:
        cutoff = _cutoff(options['HighPassFilterCutoffHz'], f'{where}.HighPassFilterCutoffHz')
        if level == 'Run':
            fields['high_pass'] = cutoff
        else:
            notes.append(
                f'{where}.HighPassFilterCutoffHz has no meaning at the {level} level: not read'
            )
    if 'Mask' in options:
        fields['mask'] = _mask(options['Mask'], f'{where}.Mask')
    return fields, notes
