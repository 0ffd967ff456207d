"""``bidsglm BIDS_DIR OUTPUT_DIR {participant,group}``: the arguments in, an exit code out.

The work is :func:`bidsglm.run_dataset` (:mod:`bidsglm.runner.dataset_run`), which
Python users call too: it plans the whole analysis before fitting anything, then
runs the jobs (one after the other, in a local process pool with ``--n-jobs`` or on
a Dask cluster with ``--dask-scheduler``) and logs how each went. Here, a problem
found while planning becomes exit code 2 before anything is written; a failed job,
exit code 1 (the others are saved).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bidsglm.dataset.plan import Request, write_model
from bidsglm.errors import BidsGlmError
from bidsglm.runner.dataset_run import logged_warnings, run_dataset

__all__ = ['request_of', 'run']

logger = logging.getLogger('bidsglm')


def request_of(args: argparse.Namespace) -> Request:
    """Return what the parsed command line asks the planner for.

    Examples
    --------
    >>> from bidsglm.cli.parser import build_parser
    >>> args = build_parser().parse_args(['.', 'out', 'participant', '--task', 'x'])
    >>> request_of(args).task, request_of(args).contrasts
    ('x', ())
    """
    return Request(
        bids_dir=Path(args.bids_dir),
        output_dir=Path(args.output_dir),
        derivatives=args.derivatives,
        model=args.model,
        task=args.task,
        space=args.space,
        participant_label=args.participant_label,
        contrasts=tuple(args.contrast or ()),
        confounds=tuple(args.confounds or ()),
        hrf_model=args.hrf_model,
        high_pass=args.high_pass,
        noise_model=args.noise_model,
        smoothing_fwhm=args.smoothing_fwhm,
        overwrite=args.overwrite,
    )


def _absolute(args: argparse.Namespace) -> argparse.Namespace:
    """Return a copy of the arguments with absolute paths."""
    paths = ('bids_dir', 'output_dir', 'derivatives', 'model', 'write_model')
    absolute = {k: Path(getattr(args, k)).resolve() for k in paths if getattr(args, k, None)}
    return argparse.Namespace(**{**vars(args), **absolute})


def _write_model(args: argparse.Namespace) -> int:
    """Write the options' model (after checking it as a run would); fit nothing."""
    args = _absolute(args)
    logged_warnings(lambda: write_model(request_of(args), args.write_model))
    logger.info(
        'Wrote the model of these options to %s (nothing fitted): run it with --model %s.',
        args.write_model,
        args.write_model,
    )
    return 0


def run(args: argparse.Namespace, show_progress: bool | None = None) -> int:
    """Run the participant or group level; return the exit code (0, 1 or 2).

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`bidsglm.cli.parser.parse_args`.
    show_progress : bool, optional
        Draw progress bars (default: when stderr is a terminal and not ``-q``).

    Returns
    -------
    int
        0 when everything was saved, 1 when some job failed, 2 for bad inputs.
    """
    try:
        if getattr(args, 'write_model', None) is not None:
            return _write_model(args)
        done = run_dataset(
            args.bids_dir,
            args.output_dir,
            args.analysis_level,
            derivatives=args.derivatives,
            model=args.model,
            task=args.task,
            space=args.space,
            participant_label=args.participant_label,
            contrasts=args.contrast,
            confounds=args.confounds,
            hrf_model=args.hrf_model,
            high_pass=args.high_pass,
            noise_model=args.noise_model,
            smoothing_fwhm=args.smoothing_fwhm,
            overwrite=args.overwrite,
            n_jobs=args.n_jobs,
            dask_scheduler=args.dask_scheduler,
            show_progress=show_progress,
        )
    except (BidsGlmError, OSError, ValueError) as error:  # ValueError: unreadable tables
        logger.error('%s', error)
        return 2
    return 0 if done.ok else 1
