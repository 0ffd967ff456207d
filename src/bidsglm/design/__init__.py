"""Design matrices: events, HRF kernels, drifts, first- and second-level designs.

The registries :data:`HRF_MODELS` and :data:`DRIFT_MODELS` list the accepted
``hrf_model`` and ``drift_model`` names; every number matches nilearn 0.14.1.
"""

from __future__ import annotations

from bidsglm.design.confounds import check_confounds
from bidsglm.design.drift import DRIFT_MODELS
from bidsglm.design.events import check_events
from bidsglm.design.first_level import make_first_level_design_matrix
from bidsglm.design.hrf import HRF_MODELS
from bidsglm.design.second_level import make_second_level_design_matrix

__all__ = [
    'DRIFT_MODELS',
    'HRF_MODELS',
    'check_confounds',
    'check_events',
    'make_first_level_design_matrix',
    'make_second_level_design_matrix',
]
