"""bidsglm: GLMs for task fMRI, saved as BIDS statistical derivatives.

The public API is exactly ``__all__``::

    from bidsglm import FirstLevelModel, save_glm_to_bids

    model = FirstLevelModel(t_r=2.0).fit(run_imgs, events=events)
    save_glm_to_bids(model, 'audio - visual', out_dir='derivatives/bidsglm')

The names are imported on first use (PEP 562), so that ``import bidsglm`` and the
command line's ``--help`` do not pay for numpy, scipy and pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bidsglm import _hooks
from bidsglm._version import __version__

if TYPE_CHECKING:
    from bidsglm._save import save_glm_to_bids
    from bidsglm.bids import load_glm_from_bids
    from bidsglm.dataset.from_bids import first_level_from_bids
    from bidsglm.design import make_first_level_design_matrix, make_second_level_design_matrix
    from bidsglm.models import FirstLevelModel, SecondLevelModel
    from bidsglm.runner.dataset_run import run_dataset

__all__ = [
    'FirstLevelModel',
    'SecondLevelModel',
    '__version__',
    'first_level_from_bids',
    'load_glm_from_bids',
    'make_first_level_design_matrix',
    'make_second_level_design_matrix',
    'run_dataset',
    'save_glm_to_bids',
]

#: The module each public name lives in.
_HOMES = {
    'FirstLevelModel': 'bidsglm.models',
    'SecondLevelModel': 'bidsglm.models',
    'first_level_from_bids': 'bidsglm.dataset.from_bids',
    'load_glm_from_bids': 'bidsglm.bids',
    'make_first_level_design_matrix': 'bidsglm.design',
    'make_second_level_design_matrix': 'bidsglm.design',
    'run_dataset': 'bidsglm.runner.dataset_run',
    'save_glm_to_bids': 'bidsglm._save',
}


def _generate_report(model: object, **keywords: Any) -> _hooks.HtmlDocument:  # noqa: ANN401
    """Draw a fitted model's report: ``models`` declares the method, ``report`` draws it."""
    fitted = importlib.import_module('bidsglm.report.fitted')
    return fitted.generate_report(model, **keywords)


_hooks.GENERATE_REPORT.supply(_generate_report)


def __getattr__(name: str) -> Any:  # noqa: ANN401
    """Import a public name on first use (PEP 562)."""
    if name not in _HOMES:
        msg = f'module {__name__!r} has no attribute {name!r}'
        raise AttributeError(msg)
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
