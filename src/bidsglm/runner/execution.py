"""Run jobs: one after the other, in a local process pool, or on a Dask cluster.

Each job is a picklable plan (:mod:`bidsglm.dataset`) and the work a module-level
function of :mod:`bidsglm.runner._work` that never raises, so the same job gives the
same bytes wherever it runs, and a failing job leaves the others going.
"""

from __future__ import annotations

import functools
import importlib.util
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpoolctl import threadpool_limits

from bidsglm._steps import listening
from bidsglm.errors import InvalidParameterError
from bidsglm.runner._lifeline import Lifeline, hold
from bidsglm.runner._progress import DASK_TOPIC, Progress, Relayed, relay_queue, send_steps_to

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from multiprocessing.connection import Connection
    from multiprocessing.queues import SimpleQueue

    from bidsglm.runner._work import JobResult

__all__ = [
    'DASK_TIMEOUT',
    'blas_threads_per_worker',
    'dask_client',
    'execute',
    'limit_blas_threads',
    'start_fork_server',
    'usable_cores',
]

#: What the worker processes import before they fork (see ``_process_context``).
_PRELOAD = ('bidsglm.runner._work',)
#: How long to wait for a Dask scheduler before giving up.
DASK_TIMEOUT = '10s'


def dask_client(address: str) -> Any:  # noqa: ANN401 - distributed is optional
    """Connect to the Dask scheduler, or explain what is missing.

    ``address`` is the scheduler's address (``tcp://10.0.0.1:8786``) or the path of
    its scheduler file (``dask scheduler --scheduler-file``, dask-jobqueue's and
    dask-mpi's way to share it on a cluster's file system).
    """
    if importlib.util.find_spec('distributed') is None:
        msg = 'A Dask scheduler needs dask.distributed: pip install "bidsglm[dask]".'
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
        with listening(functools.partial(progress.step, job.name)):
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


def start_fork_server() -> None:
    """Start the workers' fork server now, so that it imports the work meanwhile.

    The command line calls it before planning: the pool later forks its workers from
    the running server, whose imports (a second or so) then ran beside the planning
    rather than after it. Where there is no fork server (Windows), nothing happens.
    """
    if _process_context().get_start_method() == 'forkserver':
        from multiprocessing import forkserver  # noqa: PLC0415 - POSIX only

        forkserver.ensure_running()


def usable_cores() -> int:
    """Return the number of cores this process may run on (at least 1).

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    if hasattr(os, 'sched_getaffinity'):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def blas_threads_per_worker(n_workers: int, cores: int) -> int:
    """Return the BLAS threads each of ``n_workers`` processes may use on ``cores``.

    The cores are shared out: with as many workers as cores, one thread each, so
    that no BLAS thread spins waiting for a core another worker holds.

    Examples
    --------
    >>> blas_threads_per_worker(2, 2), blas_threads_per_worker(2, 8), blas_threads_per_worker(4, 2)
    (1, 4, 1)
    """
    return max(1, cores // max(1, n_workers))


def limit_blas_threads(threads: int) -> None:
    """Let the BLAS libraries loaded in this process use at most ``threads`` threads.

    Called in each worker of a pool: OpenBLAS starts as many threads as the machine
    has cores, in every process, and they spin while they wait; two workers on two
    cores each with two threads made the contrasts take twice the CPU.
    """
    threadpool_limits(limits=threads, user_api='blas')


def _start_worker(lifeline: Connection, steps: SimpleQueue[Any], blas_threads: int) -> None:
    """Initialize a pool's worker: hold the lifeline, send the steps of its jobs.

    Its BLAS threads are limited to its share of the cores (:func:`limit_blas_threads`).
    """
    hold(lifeline)
    send_steps_to(steps)
    limit_blas_threads(blas_threads)


def _pool(
    jobs: Sequence[Any], work: Callable[[Any], JobResult], n_jobs: int, progress: Progress
) -> list[JobResult]:
    """Run the jobs in worker processes that stop when this process ends or is interrupted.

    The workers hold a :class:`~bidsglm.runner._lifeline.Lifeline`: if this process is
    killed, they interrupt their job (its save cleans up) and exit. On an error
    here, Ctrl-C included, the jobs not begun are cancelled and the lifeline cut at
    once, so the pool stops rather than finishing every subject. The steps of the
    jobs come back through a queue, for the progress line.
    """
    lifeline = Lifeline()
    context = _process_context()
    steps: SimpleQueue[Any] = context.SimpleQueue()
    n_workers = min(n_jobs, len(jobs))
    pool = ProcessPoolExecutor(
        max_workers=n_workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(*lifeline.initargs, steps, blas_threads_per_worker(n_workers, usable_cores())),
    )
    try:
        with relay_queue(steps, progress):
            futures = [pool.submit(lifeline.guard(Relayed(work, 'queue')), job) for job in jobs]
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

    client.subscribe_topic(DASK_TOPIC, lambda event: progress.step(*event[1]))
    try:
        futures = client.map(Relayed(work, 'dask'), jobs, pure=False)
        for _ in dask_completed(futures):
            progress.advance()
        return list(client.gather(futures))
    finally:
        client.unsubscribe_topic(DASK_TOPIC)


def execute(
    jobs: Sequence[Any],
    work: Callable[[Any], JobResult],
    *,
    n_jobs: int = 1,
    client: Any = None,  # noqa: ANN401 - a distributed.Client when given
    label: str = 'subjects',
    show_progress: bool | None = None,
    expected_steps: Mapping[str, int] | None = None,
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
    expected_steps : mapping of str to int, optional
        The steps inside the jobs known in advance, by kind (``{'runs': 40}``).

    Returns
    -------
    list of JobResult
        In the order of ``jobs``.
    """
    with Progress(len(jobs), label, show_progress, expected=expected_steps) as progress:
        if client is not None:
            return _dask(jobs, work, client, progress)
        if n_jobs > 1 and len(jobs) > 1:
            return _pool(jobs, work, n_jobs, progress)
        return _serial(jobs, work, progress)
