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
import fnmatch
import importlib.util
import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bidsglm.bids.discovery import (
    Query,
    RunInputs,
    close_matches,
    discover_runs,
    find_fmriprep,
    read_tsv_column,
    read_tsv_header,
)
from bidsglm.bids.entities import parse_bids_name
from bidsglm.bids.input_files import check_same_grid
from bidsglm.bids.layout import plan_layout
from bidsglm.bids.stats_models import (
    INTERCEPT,
    Contrast,
    StatsModel,
    expand_variables,
    read_stats_model,
)
from bidsglm.bids.transaction import recover_stale_work
from bidsglm.cli._checks import (
    RunsPlan,
    check_contrast_names,
    check_enough_maps,
    check_runs,
    collect_contrast_maps,
)
from bidsglm.cli._lifeline import Lifeline
from bidsglm.cli._progress import Progress
from bidsglm.cli._work import (
    FirstLevelSettings,
    GroupJob,
    JobResult,
    SubjectJob,
    fit_group,
    fit_subject,
    is_saved,
)
from bidsglm.errors import (
    BidsGlmError,
    InputNotFoundError,
    InvalidParameterError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from bidsglm.bids.reader import LoadedContrast, LoadedGlm

__all__ = ['execute', 'plan_group', 'plan_participant', 'run']

logger = logging.getLogger('bidsglm')

_DEFAULTS = FirstLevelSettings()
#: What the worker processes import before they fork (see ``_process_context``).
_PRELOAD = ('bidsglm.cli._work',)
#: How long to wait for a Dask scheduler before giving up.
DASK_TIMEOUT = '10s'


def _describe(values: Sequence[Any]) -> str:
    """Return a list for a log line, shortened after 8 items."""
    shown = [str(v) for v in values[:8]]
    return f'{shown} and {len(values) - 8} more' if len(values) > 8 else str(shown)


# ---------------------------------------------------------------------- inputs
def _query(args: argparse.Namespace, model: StatsModel | None) -> Query:
    """Combine the options and the model's Input (the options win when both are set)."""
    given = model.input if model else {}
    task = args.task or _single(given.get('task'), 'task')
    space = args.space or _single(given.get('space'), 'space')
    subjects = args.participant_label or given.get('subject')
    filters = {
        {'session': 'ses'}.get(k, k): v for k, v in given.items() if k in ('session', 'run')
    }
    return Query(task=task, space=space, subjects=subjects, filters=filters)


def _single(values: tuple[str, ...] | None, key: str) -> str | None:
    if values is None:
        return None
    if len(values) > 1:
        msg = (
            f"The model's Input lists several {key}s {list(values)}; bidsglm fits one at "
            f'a time. Choose one with --{key}.'
        )
        raise InvalidParameterError(msg)
    return values[0]


def _group_runs(runs: Sequence[RunInputs]) -> dict[str, list[RunInputs]]:
    by_subject: dict[str, list[RunInputs]] = {}
    for run in runs:
        by_subject.setdefault(run.subject, []).append(run)
    return by_subject


def _log_timing(by_subject: dict[str, list[RunInputs]]) -> None:
    """Say which TR and slice-time reference were chosen, and from where."""
    timings = {
        (r.repetition_time, r.start_time, r.timing_source)
        for runs in by_subject.values()
        for r in runs
    }
    for t_r, start, source in sorted(timings):
        logger.info(
            'Repetition time %g s (from the %s); StartTime %g s, so slice_time_ref = %.4g%s',
            t_r,
            source,
            start,
            start / t_r,
            '' if start else ' (no StartTime in the derivative sidecars)',
        )
    no_mask = sorted({s for s, runs in by_subject.items() for r in runs if r.mask is None})
    if no_mask:
        logger.warning(
            'No brain mask for %s: a mask is computed from their runs.', _describe(no_mask)
        )


# ------------------------------------------------------------------- variables
@dataclass(frozen=True)
class _Variables:
    """What one subject's runs offer: conditions and confound columns."""

    trial_types: list[str]
    confounds: list[str]


def _subject_variables(runs: Sequence[RunInputs]) -> _Variables:
    """Read the conditions of the events and the confound columns every run has."""
    types: list[str] = []
    for run in runs:
        assert run.events is not None
        types += [t for t in read_tsv_column(run.events, 'trial_type') if t not in ('', 'n/a')]
    headers = [read_tsv_header(run.confounds) if run.confounds else [] for run in runs]
    common = [c for c in headers[0] if all(c in h for h in headers[1:])]
    return _Variables(sorted(set(types)), common)


def _resolve_confounds(
    patterns: Sequence[str], variables: _Variables, runs: Sequence[RunInputs]
) -> list[str]:
    """Resolve ``--confounds`` names and globs against the columns of every run."""
    if not patterns:
        return []
    no_file = [run.name for run in runs if run.confounds is None]
    if no_file:
        msg = (
            f'No confounds file (*_desc-confounds_timeseries.tsv) for {no_file[0]}, so '
            '--confounds cannot be used for it. Leave that subject out with '
            '--participant-label, or drop --confounds.'
        )
        raise InputNotFoundError(msg)
    missing = [p for p in patterns if not fnmatch.filter(variables.confounds, p)]
    if missing:
        msg = (
            f'The confound column(s) {missing} do not exist for sub-{runs[0].subject}'
            f'{close_matches(missing[0], variables.confounds)}. The columns every run '
            f'has: {_describe(variables.confounds)}. Fix --confounds.'
        )
        raise InvalidParameterError(msg)
    return [c for c in expand_variables(patterns, variables.confounds) if c != INTERCEPT]


_NAMES_FROM_OPTIONS = "On the command line, the name is before '=' in --contrast NAME=EXPRESSION."
_NAMES_FROM_EVENTS = (
    "The default contrasts are named after the events' trial_type values: name them "
    'yourself with --contrast NAME=EXPRESSION.'
)
_NAMES_FROM_MODEL = (
    'The names come from the model file: the Name of each contrast, or the condition '
    'of a dummy contrast.'
)


@dataclass(frozen=True)
class _FirstLevelPlan:
    """The design and contrasts of one subject."""

    trial_types: tuple[str, ...] | None
    confounds: tuple[str, ...]
    contrasts: tuple[tuple[str, str], ...]
    contrast_types: tuple[tuple[str, str], ...]
    #: Where the contrast names come from, and how to change them (for messages).
    names_from: str = _NAMES_FROM_OPTIONS


def _from_options(
    args: argparse.Namespace, variables: _Variables, runs: Sequence[RunInputs]
) -> _FirstLevelPlan:
    confounds = _resolve_confounds(args.confounds or [], variables, runs)
    if args.contrast:
        contrasts, names_from = tuple(args.contrast), _NAMES_FROM_OPTIONS
    else:
        contrasts = tuple((t, f'`{t}`') for t in variables.trial_types)
        names_from = _NAMES_FROM_EVENTS
    if not contrasts:
        msg = (
            f'The events of sub-{runs[0].subject} have no trial_type, so there is no '
            "contrast to make by default. Give one, e.g. --contrast 'task=dummy'."
        )
        raise InvalidParameterError(msg)
    # no types: one row is a t-test, several rows ('a, b') an F-test
    return _FirstLevelPlan(None, tuple(confounds), contrasts, (), names_from)


def _from_model(model: StatsModel, variables: _Variables) -> _FirstLevelPlan:
    available = [
        *variables.trial_types,
        *[c for c in variables.confounds if c not in variables.trial_types],
    ]
    resolved = expand_variables(model.run.x, available)
    trial_types = [v for v in resolved if v in variables.trial_types]
    confounds = [v for v in resolved if v in variables.confounds and v not in trial_types]
    hrf = model.run.hrf_variables
    convolved = {v for pattern in hrf or () for v in fnmatch.filter(resolved, pattern)}
    if hrf is not None and convolved != set(trial_types):
        msg = (
            f'BIDS Stats Model: HRF.Variables {list(hrf)} must be exactly the event '
            f'conditions in X {trial_types}: bidsglm convolves the events and adds the '
            'confounds as they are.'
        )
        raise InvalidParameterError(msg)
    contrasts = model.first_level_contrasts(resolved)
    return _FirstLevelPlan(
        tuple(trial_types),
        tuple(confounds),
        tuple((c.name, c.expression('constant')) for c in contrasts),
        tuple((c.name, c.stat_type) for c in contrasts),
        _NAMES_FROM_MODEL,
    )


def _settings(args: argparse.Namespace, model: StatsModel | None) -> FirstLevelSettings:
    node = model.run if model else None
    hrf = (node.hrf_model if node else None) or args.hrf_model or _DEFAULTS.hrf_model
    high_pass = (node.high_pass if node else None) or args.high_pass or _DEFAULTS.high_pass
    delays = (node.fir_delays if node else None) or _DEFAULTS.fir_delays
    return FirstLevelSettings(hrf, delays, args.noise_model, high_pass, args.smoothing_fwhm)


def _model_statmap(runs: Sequence[RunInputs]) -> PurePosixPath:
    """Return where the subject's model will be saved: the writer's own naming rule."""
    sources = [str(run.bold) for run in runs]
    layout = plan_layout('first', sources, None, subject_label=runs[0].subject)
    return layout.statmap_path()


def plan_participant(args: argparse.Namespace) -> list[SubjectJob]:
    """Check the inputs and plan one job per subject still to fit.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    list of SubjectJob
        The subjects to fit (those already saved are left out unless ``overwrite``).

    Raises
    ------
    BidsGlmError
        For anything that would make the work fail (the message says what to do).
    """
    model = read_stats_model(args.model) if args.model else None
    derivatives = args.derivatives or find_fmriprep(args.bids_dir)
    logger.info('Preprocessed data: %s', derivatives)
    runs = discover_runs(args.bids_dir, derivatives, _query(args, model))
    by_subject = _group_runs(runs)
    _log_found(runs, by_subject)
    settings = _settings(args, model)
    jobs = []
    for index, (subject, subject_runs) in enumerate(by_subject.items()):
        plan = _plan_subject(args, model, subject_runs, settings, log=index == 0)
        statmap = _model_statmap(subject_runs)
        names = [name for name, _ in plan.contrasts]
        if not args.overwrite and is_saved(args.output_dir, statmap, names):
            logger.info(
                'sub-%s is already saved: skipped (use --overwrite to fit it again).', subject
            )
            continue
        jobs.append(
            SubjectJob(
                subject,
                tuple(subject_runs),
                plan.trial_types,
                plan.confounds,
                plan.contrasts,
                plan.contrast_types,
                settings,
                args.output_dir,
                statmap,
                args.overwrite,
            )
        )
    return jobs


def _log_found(runs: Sequence[RunInputs], by_subject: dict[str, list[RunInputs]]) -> None:
    """Say what discovery found: every run's files, then a summary and the timing."""
    for found in runs:
        logger.debug(
            '%s: mask %s, confounds %s, events %s',
            found.bold,
            found.mask,
            found.confounds,
            found.events,
        )
    first = runs[0].entities
    logger.info(
        'Found %d runs of %d subjects (task %s, space %s).',
        len(runs),
        len(by_subject),
        first.get('task'),
        first.get('space', 'none'),
    )
    _log_timing(by_subject)


def _plan_subject(
    args: argparse.Namespace,
    model: StatsModel | None,
    subject_runs: list[RunInputs],
    settings: FirstLevelSettings,
    *,
    log: bool,
) -> _FirstLevelPlan:
    """Plan one subject's model from the options or the model file, and check it."""
    variables = _subject_variables(subject_runs)
    if model is None:
        plan = _from_options(args, variables, subject_runs)
    else:
        plan = _from_model(model, variables)
    bolds = [str(run.bold) for run in subject_runs]
    layout = plan_layout('first', bolds, None, subject_label=subject_runs[0].subject)
    names = [name for name, _ in plan.contrasts]
    check_contrast_names(names, layout, len(subject_runs), plan.names_from)
    conditions = plan.trial_types or tuple(variables.trial_types)
    checked = RunsPlan(plan.trial_types, plan.confounds, plan.contrasts, conditions)
    check_runs(subject_runs, checked, settings)
    if log:
        _log_plan(plan, settings)
    return plan


def _log_plan(plan: _FirstLevelPlan, settings: FirstLevelSettings) -> None:
    logger.info(
        'Model: HRF %s, %s noise, cosine drifts above %g Hz, smoothing %s.',
        settings.hrf_model,
        settings.noise_model,
        settings.high_pass,
        f'{settings.smoothing_fwhm} mm' if settings.smoothing_fwhm else 'none',
    )
    logger.info('Confound columns: %s.', _describe(plan.confounds) if plan.confounds else 'none')
    logger.info('Contrasts: %s.', _describe([f'{n} = {e}' for n, e in plan.contrasts]))


# ------------------------------------------------------------------------ group
def _find_saved(out_dir: Path, query: Query) -> list[tuple[str, Path]]:
    """Return (subject, statmap.json) of the saved first-level models matching the query."""
    found = []
    for statmap in sorted(out_dir.glob('sub-*/**/sub-*_statmap.json')):
        entities = parse_bids_name(statmap).entities
        if 'stat' in entities or 'contrast' in entities:
            continue
        if query.task and entities.get('task') != query.task:
            continue
        if query.space and not _in_space(entities, query.space):
            continue
        if query.subjects and entities['sub'] not in query.subjects:
            continue
        found.append((entities['sub'], statmap))
    if not found:
        msg = (
            f'No participant results in {str(out_dir)!r} for task {query.task or "(any)"}'
            f'{" and space " + query.space if query.space else ""}. Run the participant '
            'level first, with the same OUTPUT_DIR.'
        )
        raise InputNotFoundError(msg)
    keys = {_task_and_space(parse_bids_name(p).entities) for _, p in found}
    if len(keys) > 1:
        msg = (
            f'OUTPUT_DIR holds results of several tasks and spaces {sorted(keys)}; choose '
            'with --task and --space.'
        )
        raise InvalidParameterError(msg)
    return found


def _in_space(entities: Mapping[str, str], space: str) -> bool:
    """Tell whether a saved model is in ``space`` (``'MNI152NLin6Asym[:res-2]'``)."""
    name, _, resolution = space.partition(':')
    if entities.get('space') != name:
        return False
    return not resolution or resolution == f'res-{entities.get("res")}'


def _task_and_space(entities: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Return the task and the space of a saved model, with its resolution if it has one."""
    space = entities.get('space')
    if space is not None and 'res' in entities:
        space = f'{space}:res-{entities["res"]}'
    return entities.get('task'), space


def _covariates(
    bids_dir: Path, names: Sequence[str], subjects: Sequence[str]
) -> pd.DataFrame | None:
    """Read the model's covariates from participants.tsv, checked for every subject."""
    if not names:
        return None
    path = bids_dir / 'participants.tsv'
    if not path.is_file():
        msg = f'The model asks for covariates {list(names)} but {str(path)!r} does not exist.'
        raise InputNotFoundError(msg)
    table = pd.read_csv(path, sep='\t', na_values=['n/a'], dtype={'participant_id': str})
    table['subject_label'] = table['participant_id'].str.removeprefix('sub-')
    columns = [c for c in table.columns if c not in ('participant_id', 'subject_label')]
    resolved = [c for c in expand_variables(names, columns) if c != INTERCEPT]
    rows = table.set_index('subject_label').reindex(subjects)
    for column in resolved:
        values = pd.to_numeric(rows[column], errors='coerce')
        bad = [s for s, v in zip(subjects, values, strict=True) if not np.isfinite(v)]
        if bad:
            msg = (
                f'The covariate {column!r} of participants.tsv is missing or not a number '
                f'for sub-{bad[0]} ({len(bad)} subjects). Fix participants.tsv or leave '
                'the covariate out of the model.'
            )
            raise InvalidParameterError(msg)
    logger.info('Covariates from participants.tsv, as they are (not demeaned): %s.', resolved)
    return pd.DataFrame(
        {
            'subject_label': list(subjects),
            **{c: pd.to_numeric(rows[c]).to_numpy() for c in resolved},
        }
    )


def _group_contrasts(
    model: StatsModel | None, first: str, columns: Sequence[str]
) -> list[Contrast]:
    """Return the group contrasts of one first-level contrast (the intercept takes its name)."""
    if model is None or model.dataset is None:
        return [Contrast(first, (INTERCEPT,), ((1.0,),), 't')]
    contrasts = model.dataset.contrasts_for(columns)
    return [
        Contrast(first, c.conditions, c.weights, c.test)
        if c.conditions == (INTERCEPT,) and c.name == INTERCEPT
        else c
        for c in contrasts
    ]


_NAMES_FROM_FIRST_LEVEL = (
    'The group contrast is named after the first-level contrast: rename that one '
    '(--contrast NAME=EXPRESSION) and run the participant level again.'
)


def _group_job(
    args: argparse.Namespace,
    model: StatsModel | None,
    saved: Sequence[tuple[str, LoadedGlm]],
    label: str,
    rows: Sequence[tuple[str, LoadedContrast]],
) -> GroupJob:
    """Plan the group model of one first-level contrast, and check its inputs."""
    x = [
        x for x in (model.dataset.x if model and model.dataset else (INTERCEPT,)) if x != INTERCEPT
    ]
    subjects = [s for s, _ in rows]
    covariates = _covariates(args.bids_dir, x, subjects)
    columns = [*([] if covariates is None else covariates.columns[1:]), INTERCEPT]
    contrasts = _group_contrasts(model, rows[0][1].name, columns)
    entities = parse_bids_name(saved[0][1].statmap).entities
    base = '_'.join(f'{k}-{entities[k]}' for k in ('task', 'space') if k in entities)
    prefix = f'{base}_desc-{label}' if base else f'desc-{label}'
    names_from = _NAMES_FROM_MODEL if model else _NAMES_FROM_FIRST_LEVEL
    names = [c.name for c in contrasts]
    check_contrast_names(names, plan_layout('second', [], prefix), 1, names_from)
    effects = [contrast.maps['effect'] for _, contrast in rows]
    masks = tuple(glm.mask for _, glm in saved if glm.mask is not None)
    check_same_grid([*effects, *masks])
    return GroupJob(
        label=label,
        inputs=pd.DataFrame(
            {
                'subject_label': subjects,
                'map_name': label,
                'effects_map_path': list(map(str, effects)),
            }
        ),
        masks=masks,
        covariates=covariates,
        contrasts=tuple((c.name, c.expression('intercept')) for c in contrasts),
        contrast_types=tuple((c.name, c.stat_type) for c in contrasts),
        out_dir=args.output_dir,
        prefix=prefix,
    )


def plan_group(args: argparse.Namespace) -> list[GroupJob]:
    """Find the participant results and plan one group model per first-level contrast.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    list of GroupJob
        The contrasts to fit.

    Raises
    ------
    BidsGlmError
        For anything that would make the work fail: a missing effect map, a contrast
        of fewer than 2 subjects, maps on different grids, names too long...
    """
    from bidsglm.bids import load_glm_from_bids  # noqa: PLC0415 - group level only

    model = read_stats_model(args.model) if args.model else None
    if model is not None and model.dataset is None:
        msg = 'The model has no Dataset node: add one to fit the group level.'
        raise InvalidParameterError(msg)
    query = _query(args, model)
    saved = [(s, load_glm_from_bids(p)) for s, p in _find_saved(args.output_dir, query)]
    logger.info('Found the participant results of %d subjects.', len(saved))
    labels = sorted({c.label for _, glm in saved for c in glm.contrasts if c.stat_type == 't'})
    rows = {label: collect_contrast_maps(label, saved) for label in labels}
    check_enough_maps(rows)
    return [_group_job(args, model, saved, label, rows[label]) for label in labels]


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
    """Finish or undo what killed runs left, before deciding what is saved already."""
    if not out_dir.is_dir():
        return
    found = recover_stale_work(out_dir)
    if found:
        logger.info('Finished or undid %d interrupted save(s) in %s.', found, out_dir)


def _absolute(args: argparse.Namespace) -> argparse.Namespace:
    """Return a copy of the arguments with absolute paths, valid in every worker."""
    paths = ('bids_dir', 'output_dir', 'derivatives', 'model')
    absolute = {k: Path(getattr(args, k)).resolve() for k in paths if getattr(args, k, None)}
    return argparse.Namespace(**{**vars(args), **absolute})


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
        _finish_interrupted_saves(args.output_dir)
        jobs: Sequence[Any]
        work: Callable[[Any], JobResult]
        if args.analysis_level == 'participant':
            jobs, work = plan_participant(args), fit_subject
        else:
            jobs, work = plan_group(args), fit_group
        if jobs and args.dask_scheduler:
            client = _dask_client(args.dask_scheduler)
        if jobs:
            args.output_dir.mkdir(parents=True, exist_ok=True)
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
