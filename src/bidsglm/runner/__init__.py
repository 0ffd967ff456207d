"""Run a whole dataset: plan it, fit and save every job, say where everything went.

:func:`~bidsglm.runner.dataset_run.run_dataset` is what ``bidsglm BIDS_DIR
OUTPUT_DIR {participant,group}`` runs, callable from Python (``bidsglm.run_dataset``);
the command line only parses its arguments and turns the outcome into an exit code.
:mod:`~bidsglm.runner.execution` runs the planned jobs (:mod:`~bidsglm.runner._work`)
one after the other, in a local process pool or on a Dask cluster.

Nothing is imported here, so that the command line's parser can read
:mod:`~bidsglm.runner.options` without numpy.
"""
