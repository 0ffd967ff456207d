"""The participant and group levels of a dataset: check everything, then fit, then report.

:func:`run_dataset` is the command line's ``bidsglm BIDS_DIR OUTPUT_DIR LEVEL``
called from Python, and the command line calls it: it first plans the whole
analysis (finds the inputs, reads the model, checks the confound columns and every
contrast against every run's design), raising one
:class:`~bidsglm.errors.BidsGlmError` before anything is written; then runs every
job (:func:`~bidsglm.runner.execution.execute`) and returns a :class:`DatasetRun`:
how each job went and the files it saved. A failing subject does not stop the
others: it is logged and marked in the result.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bidsglm.bids.transaction import recover_stale_work
from bidsglm.dataset.plan import Request, plan_group, plan_participant
from bidsglm.errors import InvalidParameterError
from bidsglm.runner._work import JobResult, fit_group, fit_subject, is_saved, stage_summary
from bidsglm.runner.execution import dask_client, execute, start_fork_server

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence

    from bidsglm.dataset.group import GroupJob
    from bidsglm.dataset.participant import SubjectJob

__all__ = ['DatasetRun', 'JobOutcome', 'run_dataset', 'run_request']

logger = logging.getLogger('bidsglm')

LEVELS = ('participant', 'group')


@dataclass(frozen=True)
class JobOutcome:
    """How one job (a subject, or a group contrast) went, and what it saved.

    Parameters
    ----------
    name : str
        The job (``'sub-01'``, ``'contrast-faces'``).
    ok : bool
        Whether it finished.
    message : str
        What was done, or why it failed.
    seconds : float
        Wall time.
    warnings : tuple of str
        Warnings raised while fitting.
    statmaps : tuple of pathlib.Path
        The ``statmap.json`` of each model the job saves (one per node and set of
        runs); :func:`bidsglm.load_glm_from_bids` reads each folder back.
    stages : tuple of (str, float)
        Seconds spent in each stage of the job (``design``, ``read``, ``fit``,
        ``contrasts``, ``write``, ``report``), in the order they began.
    """

    name: str
    ok: bool
    message: str
    seconds: float
    warnings: tuple[str, ...]
    statmaps: tuple[Path, ...]
    stages: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class DatasetRun:
    """What :func:`run_dataset` did.

    Parameters
    ----------
    analysis_level : str
        ``'participant'`` or ``'group'``.
    output_dir : pathlib.Path
        The results' folder (absolute).
    jobs : tuple of JobOutcome
        Every job run, in the plan's order; empty when everything was saved already.
    seconds : float
        Wall time, planning included.
    """

    analysis_level: str
    output_dir: Path
    jobs: tuple[JobOutcome, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        """Whether every job finished."""
        return all(job.ok for job in self.jobs)

    @property
    def failed(self) -> list[str]:
        """The jobs that failed."""
        return [job.name for job in self.jobs if not job.ok]

    @property
    def statmaps(self) -> dict[str, tuple[Path, ...]]:
        """The ``statmap.json`` files saved, by job (``{'sub-01': (...), ...}``)."""
        return {job.name: job.statmaps for job in self.jobs if job.ok}


# ------------------------------------------------------------------ planning
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


def logged_warnings(planning: Callable[[], Any]) -> Any:  # noqa: ANN401 - what planning returns
    """Run the planning, logging each distinct warning it raises once (not printing it).

    Examples
    --------
    >>> logged_warnings(lambda: 3)
    3
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            return planning()
        finally:
            for message in dict.fromkeys(str(w.message) for w in caught):
                logger.warning('%s', message)


def _plan(request: Request, level: str) -> tuple[Sequence[Any], Callable[[Any], JobResult]]:
    """Plan the level asked for; return its jobs and the work that runs one."""
    _finish_interrupted_saves(request.output_dir)
    if level == 'participant':
        return logged_warnings(lambda: plan_participant(request, is_saved)), fit_subject
    return logged_warnings(lambda: plan_group(request)), fit_group


def _statmaps(job: SubjectJob | GroupJob) -> tuple[Path, ...]:
    """Return the ``statmap.json`` of each model the job saves."""
    if hasattr(job, 'saves'):
        return tuple(save.out_dir / save.statmap for save in job.saves)
    return (job.out_dir / f'{job.prefix}_statmap.json',)


def _folders(jobs: Sequence[Any]) -> list[Path]:
    """Return the folders the jobs save into (each node's, with a model file)."""
    folders = [save.out_dir for job in jobs for save in getattr(job, 'saves', ())] + [
        job.out_dir for job in jobs if hasattr(job, 'out_dir')
    ]
    return list(dict.fromkeys(folders))


# ----------------------------------------------------------------- reporting
def _describe(values: Sequence[Any]) -> str:
    """Return a list for a log line, shortened after 8 items."""
    shown = [str(v) for v in values[:8]]
    return f'{shown} and {len(values) - 8} more' if len(values) > 8 else str(shown)


def _log(run: DatasetRun) -> None:
    """Log how every job went."""
    for job in run.jobs:
        for text in job.warnings:
            logger.warning('%s: %s', job.name, text)
        if job.ok:
            logger.info('%s done in %.1f s: %s.', job.name, job.seconds, job.message)
            logger.debug('%s stages: %s', job.name, stage_summary(job.stages, job.seconds))
        else:
            logger.error('%s failed: %s', job.name, job.message)
    logger.info(
        '%d done, %d failed, in %.1f s. Results in %s',
        len(run.jobs) - len(run.failed),
        len(run.failed),
        run.seconds,
        run.output_dir,
    )
    if run.failed:
        logger.error('Failed: %s. The others are saved; fix and run again.', _describe(run.failed))
    logger.info('HTML reports: bidsglm report %s', run.output_dir)


# ------------------------------------------------------------------- running
def run_request(
    request: Request,
    analysis_level: str,
    *,
    n_jobs: int = 1,
    dask_scheduler: str | None = None,
    show_progress: bool | None = None,
) -> DatasetRun:
    """Plan and run one level of a :class:`~bidsglm.dataset.plan.Request` (paths absolute).

    What :func:`run_dataset` and the command line both call; the arguments are
    theirs (``n_jobs`` applies to the participant level only).

    Raises
    ------
    BidsGlmError
        For any problem found while planning, before anything is written.
    """
    start = time.perf_counter()
    if analysis_level == 'participant' and n_jobs > 1 and not dask_scheduler:
        start_fork_server()  # its imports run beside the planning
    jobs, work = _plan(request, analysis_level)
    if not jobs:
        what = 'subject' if work is fit_subject else 'contrast'
        logger.info('Nothing to do: every %s is saved already.', what)
        return DatasetRun(analysis_level, request.output_dir, (), time.perf_counter() - start)
    client = dask_client(dask_scheduler) if dask_scheduler else None
    for folder in [request.output_dir, *_folders(jobs)]:
        folder.mkdir(parents=True, exist_ok=True)
    try:
        results = execute(
            jobs,
            work,
            n_jobs=n_jobs if analysis_level == 'participant' else 1,
            client=client,
            label='subjects' if work is fit_subject else 'contrasts',
            show_progress=show_progress,
            expected_steps={'runs': sum(len(job.runs) for job in jobs)}
            if work is fit_subject
            else None,
        )
    finally:
        if client is not None:
            client.close()
    outcomes = tuple(
        JobOutcome(r.name, r.ok, r.message, r.seconds, r.warnings, _statmaps(job), r.stages)
        for r, job in zip(results, jobs, strict=True)
    )
    done = DatasetRun(analysis_level, request.output_dir, outcomes, time.perf_counter() - start)
    _log(done)
    return done


def _check_level(analysis_level: str, n_jobs: int, dask_scheduler: str | None) -> None:
    if analysis_level not in LEVELS:
        msg = f"analysis_level must be 'participant' or 'group'. Got {analysis_level!r} instead."
        raise InvalidParameterError(msg)
    if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        msg = f"The 'n_jobs' parameter must be an int >= 1, or -1 for every core. Got {n_jobs!r}."
        raise InvalidParameterError(msg)
    if dask_scheduler is not None and n_jobs != 1:
        msg = 'Give n_jobs or dask_scheduler, not both (Dask sets its own workers).'
        raise InvalidParameterError(msg)


def _check_output_dir(bids_dir: Path, output_dir: Path) -> None:
    """Refuse to write into the raw dataset, as the command line does."""
    derivatives = bids_dir / 'derivatives'
    inside_raw = output_dir == bids_dir or bids_dir in output_dir.parents
    if output_dir == derivatives or (inside_raw and derivatives not in output_dir.parents):
        msg = (
            f'output_dir {str(output_dir)!r} would write into the raw dataset {str(bids_dir)!r}. '
            f'Use {str(derivatives / "bidsglm")!r} instead.'
        )
        raise InvalidParameterError(msg)


def _check_model_or_options(request: Request) -> None:
    options = ('contrasts', 'confounds', 'hrf_model', 'high_pass', 'noise_model', 'smoothing_fwhm')
    given = [name for name in options if getattr(request, name)]
    if request.model is not None and given:
        msg = f'model sets the design and contrasts itself; remove {given} or write them into it.'
        raise InvalidParameterError(msg)


def run_dataset(  # noqa: PLR0913 - the command line's options, one for one
    bids_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    analysis_level: str = 'participant',
    *,
    derivatives: str | os.PathLike[str] | None = None,
    model: str | os.PathLike[str] | None = None,
    task: str | None = None,
    space: str | None = None,
    participant_label: Sequence[str] | None = None,
    contrasts: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    confounds: Sequence[str] | None = None,
    hrf_model: str | None = None,
    high_pass: float | None = None,
    noise_model: str | None = None,
    smoothing_fwhm: float | None = None,
    overwrite: bool = False,
    n_jobs: int = 1,
    dask_scheduler: str | None = None,
    show_progress: bool | None = False,
) -> DatasetRun:
    """Run a whole dataset exactly as ``bidsglm BIDS_DIR OUTPUT_DIR LEVEL`` does.

    The command line calls this function: the same planning, the same jobs, the
    same files. Each keyword is the command-line option of the same name
    (``--participant-label`` is ``participant_label``, ``--contrast NAME=EXPR``
    is ``contrasts={'NAME': 'EXPR'}``). Progress and results are logged to the
    ``'bidsglm'`` logger.

    Parameters
    ----------
    bids_dir : path-like
        The raw BIDS dataset.
    output_dir : path-like
        Where the results go (not inside ``bids_dir``, except under its
        ``derivatives``).
    analysis_level : {'participant', 'group'}, default='participant'
        Fit each subject's runs, or the group models of the saved subjects.
    derivatives : path-like, optional
        The fMRIPrep-style folder (default: ``bids_dir/derivatives/fmriprep*``).
    model : path-like, optional
        A BIDS Stats Models file; then the model options below must stay None.
    task, space : str, optional
        Needed when the data has several.
    participant_label : list of str, optional
        The subjects to model (with or without ``sub-``); default: all.
    contrasts : dict of str to str, or list of (str, str), optional
        First-level contrasts by name (default: one per trial type).
    confounds : list of str, optional
        Confound columns or globs (``'trans_*'``); default: none.
    hrf_model, high_pass, noise_model, smoothing_fwhm : optional
        The other model options (default: ``'glover'``, 0.01 Hz, ``'ar1'``, none).
    overwrite : bool, default=False
        Fit again what is saved already (kept otherwise).
    n_jobs : int, default=1
        Subjects fitted in parallel processes (participant level; -1: all cores).
    dask_scheduler : str, optional
        Run the jobs on this Dask cluster (address or scheduler file).
    show_progress : bool or None, default=False
        Draw a progress bar on stderr (None: when stderr is a terminal).

    Returns
    -------
    DatasetRun
        Each job's outcome and saved ``statmap.json`` files; ``.ok`` tells whether
        all finished, ``.failed`` names the others.

    Raises
    ------
    BidsGlmError
        For bad options or inputs, before anything is written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> run_dataset(tempfile.mkdtemp(), Path(tempfile.mkdtemp()) / 'out', 'subject')
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: analysis_level must be 'participant' or ...
    """
    _check_level(analysis_level, n_jobs, dask_scheduler)
    labels = None if participant_label is None else [str(s) for s in participant_label]
    request = Request(
        bids_dir=Path(bids_dir).resolve(),
        output_dir=Path(output_dir).resolve(),
        derivatives=None if derivatives is None else Path(derivatives).resolve(),
        model=None if model is None else Path(model).resolve(),
        task=task,
        space=space,
        participant_label=None
        if labels is None
        else tuple(sorted({s.removeprefix('sub-') for s in labels})),
        contrasts=tuple(contrasts.items() if isinstance(contrasts, Mapping) else contrasts or ()),
        confounds=tuple(confounds or ()),
        hrf_model=hrf_model,
        high_pass=high_pass,
        noise_model=noise_model,
        smoothing_fwhm=smoothing_fwhm,
        overwrite=overwrite,
    )
    _check_output_dir(request.bids_dir, request.output_dir)
    _check_model_or_options(request)
    return run_request(
        request,
        analysis_level,
        n_jobs=(os.cpu_count() or 1) if n_jobs == -1 else n_jobs,
        dask_scheduler=dask_scheduler,
        show_progress=show_progress,
    )
