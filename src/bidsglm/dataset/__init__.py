"""A dataset becomes work: its inputs, the BIDS Stats Model to run, and the plan.

:mod:`~bidsglm.dataset.discovery` finds each run's files and timing,
:mod:`~bidsglm.dataset.stats_models` reads a BIDS Stats Models file and
:mod:`~bidsglm.dataset.transformations` runs its variable transformations. The
command line (:mod:`bidsglm.cli`) plans and runs its jobs with them; this layer
reads files but never writes results (:func:`bidsglm.save_glm_to_bids` does).
"""
