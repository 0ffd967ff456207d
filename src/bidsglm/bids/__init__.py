"""BIDS: entities and file names, and the statistical-derivative writer and reader.

:func:`write_derivatives` writes a fitted model (bidsglm's or nilearn's) and its
contrasts as BIDS statistical derivatives (:func:`bidsglm.save_glm_to_bids` is it,
with the HTML report); :func:`load_glm_from_bids` reads them back. The naming
rules live in :mod:`bidsglm.bids.entities` (the one template) and
:mod:`bidsglm.bids.labels` (contrast names to labels).
"""

from __future__ import annotations

from bidsglm.bids.reader import LoadedContrast, LoadedGlm, load_glm_from_bids
from bidsglm.bids.writer import SavedGlm, write_derivatives

__all__ = ['LoadedContrast', 'LoadedGlm', 'SavedGlm', 'load_glm_from_bids', 'write_derivatives']
