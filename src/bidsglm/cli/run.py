"""The participant and group levels: check everything, then fit, in parallel or not.

:func:`run` first plans the whole analysis (finds the inputs, reads the model, checks
the confound columns and every contrast against every run's design) and only then
fits. Any problem found while planning is a :class:`bidsglm.errors.BidsGlmError`,
which the command line turns into exit code 2 before anything is written.

Subjects are independent jobs (:mod:`bidsglm.cli._work`), run one after the other,
in a local process pool (``--n-jobs``) or on a Dask cluster (``--dask-scheduler``);
each job computes the same bytes wherever it runs. A failing subject is logged and
the others go on; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import multiprocessing
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bidsglm.bids.transaction import recover_stale_work
from bidsglm.cli._lifeline import Lifeline
from bidsglm.cli._progress import Progress
from bidsglm.cli._work import JobResult, fit_group, fit_subject, is_saved, stage_summary
from bidsglm.dataset.plan import Request, plan_group, plan_participant, write_model
from bidsglm.errors import BidsGlmError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ['execute', 'plan_group', 'plan_participant', 'request_of', 'run']

logger = logging.getLogger('bidsglm')

#: What the worker processes import before they fork (see ``_process_context``).
_PRELOAD = ('bidsglm.cli._work',)
#: How long to wait for a Dask scheduler before giving up.
DASK_TIMEOUT = '10s'


def _describe(values: Sequence[Any]) -> str:
    """Return a list for a log line, shortened after 8 items."""
    shown = [str(v) for v in values[:8]]
    return f'{shown} and {len(values) - 8} more' if len(values) > 8 else str(shown)


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


# -------------------------------------------------------------------- execution
def _dask_client(address: str) -> Any:  # noqa: ANN401 - distributed is optional
    """Connect to the Dask scheduler, or explain what is missing.

    ``address`` is the scheduler's address (``tcp://10.0.0.1:8786``) or the path of
    its scheduler file (``dask scheduler --scheduler-file``, dask-jobqueue's and
    dask-mpi's way to share it on a cluster's file system).
    """
    if importlib.util.find_spec('distributed') is None:
        msg = '--dask-scheduler needs dask.distributed: pip install "bidsglm[dask]".'
        raise InvalidParameterError(msg)
    from distributed import Client  # noqa: PLC0415 - optional dependency

    where = {'scheduler_file': address} if Path(address).is_file() else {'address': address}
    try:
        return Client(**where, timeout=DASK_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        msg = f'Cannot reach the Dask scheduler at {address!r} ({error}). Check the address.'
        raise InvalidParameterError(msg) from error


def _serial(
    jobs: Sequence[Any], work: Callable[[Any], JobResult], progress: Progress
) -> list[JobResult]:
    results = []
    for job in jobs:
        results.append(work(job))
        progress.advance()
    return results


def _process_context() -> multiprocessing.context.BaseContext:
    """Return a fork server that has imported the work once, else fresh processes.

    Workers forked from a server that already imported bidsglm start in
    milliseconds; spawned workers (Windows) import them each, about a second. Neither
    forks the main process, whose threads could hold locks.
    """
    if 'forkserver' not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context('spawn')
    context = multiprocessing.get_context('forkserver')
    context.set_forkserver_preload([*_PRELOAD, Lifeline.__module__])
    return context


def _start_fork_server(args: argparse.Namespace) -> None:
    """Start the workers' fork server at once, so it imports the work during the planning.

    Only for a local pool (``--n-jobs`` above 1 at the participant level) where fork
    servers exist; the pool forks its workers from it once the plan is made. Started
    when the pool is, the server's imports (a second or so) would come after the
    planning instead of beside it.
    """
    pool = args.analysis_level == 'participant' and getattr(args, 'n_jobs', 1) > 1
    if not pool or getattr(args, 'dask_scheduler', None):
        return
    if _process_context().get_start_method() == 'forkserver':
        from multiprocessing import forkserver  # noqa: PLC0415 - POSIX only

        forkserver.ensure_running()


def _pool(
    jobs: Sequence[Any], work: Callable[[Any], JobResult], n_jobs: int, progress: Progress
) -> list[JobResult]:
    """Run the jobs in worker processes that stop when this process ends or is interrupted.

    The workers hold a :class:`~bidsglm.cli._lifeline.Lifeline`: if this process is
    killed, they interrupt their job (its save cleans up) and exit. On an error
    here, Ctrl-C included, the jobs not begun are cancelled and the lifeline cut at
    once, so the pool stops rather than finishing every subject.
    """
    lifeline = Lifeline()
    pool = ProcessPoolExecutor(
        max_workers=min(n_jobs, len(jobs)),
        mp_context=_process_context(),
        initializer=lifeline.initializer,
        initargs=lifeline.initargs,
    )
    try:
        futures = [pool.submit(lifeline.guard(work), job) for job in jobs]
        for _ in as_completed(futures):
            progress.advance()
        return [future.result() for future in futures]
    except BaseException:
        lifeline.cut()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        lifeline.cut()


def _dask(
    jobs: Sequence[Any],
    work: Callable[[Any], JobResult],
    client: Any,  # noqa: ANN401 - a distributed.Client
    progress: Progress,
) -> list[JobResult]:
    from distributed import as_completed as dask_completed  # noqa: PLC0415

    futures = client.map(work, jobs, pure=False)
    for _ in dask_completed(futures):
        progress.advance()
    return list(client.gather(futures))


def execute(
    jobs: Sequence[Any],
    work: Callable[[Any], JobResult],
    *,
    n_jobs: int = 1,
    client: Any = None,  # noqa: ANN401 - a distributed.Client when given
    label: str = 'subjects',
    show_progress: bool | None = None,
) -> list[JobResult]:
    """Run ``work`` on every job: serially, in a process pool, or on Dask.

    Parameters
    ----------
    jobs : sequence
        The jobs (picklable).
    work : callable
        A module-level function taking a job and returning a :class:`JobResult`.
    n_jobs : int, default=1
        Local processes; 1 runs in this process.
    client : distributed.Client, optional
        Run on this Dask cluster instead.
    label : str, default='subjects'
        What the progress bar counts.
    show_progress : bool, optional
        Draw the progress bar (default: when stderr is a terminal).

    Returns
    -------
    list of JobResult
        In the order of ``jobs``.
    """
    with Progress(len(jobs), label, enabled=show_progress) as progress:
        if client is not None:
            return _dask(jobs, work, client, progress)
        if n_jobs > 1 and len(jobs) > 1:
            return _pool(jobs, work, n_jobs, progress)
        return _serial(jobs, work, progress)


def _report(results: Sequence[JobResult], seconds: float, out_dir: Path) -> int:
    """Log how every job went; return the exit code."""
    for result in results:
        for text in result.warnings:
            logger.warning('%s: %s', result.name, text)
        if result.ok:
            logger.info('%s done in %.1f s: %s.', result.name, result.seconds, result.message)
            logger.debug('%s stages: %s', result.name, stage_summary(result))
        else:
            logger.error('%s failed: %s', result.name, result.message)
    failed = [r.name for r in results if not r.ok]
    logger.info(
        '%d done, %d failed, in %.1f s. Results in %s',
        len(results) - len(failed),
        len(failed),
        seconds,
        out_dir,
    )
    if failed:
        logger.error('Failed: %s. The others are saved; fix and run again.', _describe(failed))
    logger.info('HTML reports: bidsglm report %s', out_dir)
    return 1 if failed else 0


def _finish_interrupted_saves(out_dir: Path) -> None:
    """Finish or undo what killed runs left, before deciding what is saved already.

    The output folder and each node's folder (``node-<label>``) are derivative
    datasets of their own, each with its own interrupted saves.
    """
    if not out_dir.is_dir():
        return
    for folder in [out_dir, *sorted(p for p in out_dir.glob('node-*') if p.is_dir())]:
        found = recover_stale_work(folder)
        if found:
            logger.info('Finished or undid %d interrupted save(s) in %s.', found, folder)


def _absolute(args: argparse.Namespace) -> argparse.Namespace:
    """Return a copy of the arguments with absolute paths, valid in every worker."""
    paths = ('bids_dir', 'output_dir', 'derivatives', 'model', 'write_model')
    absolute = {k: Path(getattr(args, k)).resolve() for k in paths if getattr(args, k, None)}
    return argparse.Namespace(**{**vars(args), **absolute})


def _logged_warnings(planning: Callable[[], Any]) -> Any:  # noqa: ANN401 - what planning returns
    """Run the planning, logging each distinct warning it raises once (not printing it)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            return planning()
        finally:
            for message in dict.fromkeys(str(w.message) for w in caught):
                logger.warning('%s', message)


def _plan(args: argparse.Namespace) -> tuple[Sequence[Any], Callable[[Any], JobResult]]:
    """Plan the level asked for; return its jobs and the work that runs one."""
    _finish_interrupted_saves(args.output_dir)
    request = request_of(args)
    if args.analysis_level == 'participant':
        return _logged_warnings(lambda: plan_participant(request, is_saved)), fit_subject
    return _logged_warnings(lambda: plan_group(request)), fit_group


def _folders(jobs: Sequence[Any]) -> list[Path]:
    """Return the folders the jobs save into (each node's, with a model file)."""
    folders = [save.out_dir for job in jobs for save in getattr(job, 'saves', ())] + [
        job.out_dir for job in jobs if hasattr(job, 'out_dir')
    ]
    return list(dict.fromkeys(folders))


def _write_model(args: argparse.Namespace) -> int:
    """Write the options' model (after checking it as a run would); fit nothing."""
    _logged_warnings(lambda: write_model(request_of(args), args.write_model))
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
    start = time.perf_counter()
    client = None
    args = _absolute(args)
    try:
        if getattr(args, 'write_model', None) is not None:
            return _write_model(args)
        _start_fork_server(args)
        jobs, work = _plan(args)
        if jobs and args.dask_scheduler:
            client = _dask_client(args.dask_scheduler)
        for folder in [args.output_dir, *_folders(jobs)] if jobs else []:
            folder.mkdir(parents=True, exist_ok=True)
    except (BidsGlmError, OSError, ValueError) as error:  # ValueError: unreadable tables
        logger.error('%s', error)
        return 2
    if not jobs:
        logger.info(
            'Nothing to do: every %s is saved already.',
            'subject' if work is fit_subject else 'contrast',
        )
        return 0
    try:
        n_jobs = args.n_jobs if args.analysis_level == 'participant' else 1
        results = execute(
            jobs,
            work,
            n_jobs=n_jobs,
            client=client,
            label='subjects' if work is fit_subject else 'contrasts',
            show_progress=show_progress,
        )
    finally:
        if client is not None:
            client.close()
    return _report(results, time.perf_counter() - start, args.output_dir)
