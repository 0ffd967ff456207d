"""bidsglm: GLMs for task fMRI, saved as BIDS statistical derivatives.

The public API is exactly ``__all__``::

    from bidsglm import FirstLevelModel, save_glm_to_bids

    model = FirstLevelModel(t_r=2.0).fit(run_imgs, events=events)
    save_glm_to_bids(model, 'audio - visual', out_dir='derivatives/bidsglm')
"""

from bidsglm._version import __version__
from bidsglm.bids import load_glm_from_bids, save_glm_to_bids
from bidsglm.design import make_first_level_design_matrix, make_second_level_design_matrix
from bidsglm.models import FirstLevelModel, SecondLevelModel
from bidsglm.report import write_report  # noqa: F401  (registers the report with every save)

__all__ = [
    'FirstLevelModel',
    'SecondLevelModel',
    '__version__',
    'load_glm_from_bids',
    'make_first_level_design_matrix',
    'make_second_level_design_matrix',
    'save_glm_to_bids',
]
