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
import shutil
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import nibabel as nib
import numpy as np
import pandas as pd

from bidsglm._save import COMPANIONS
from bidsglm.bids.description import (
    merge_bidsignore,
    merge_dataset_description,
    read_dataset_description,
)
from bidsglm.bids.discovery import (
    Query,
    RunInputs,
    close_matches,
    discover_runs,
    find_fmriprep,
    read_tsv_column,
    read_tsv_header,
)
from bidsglm.bids.entities import ENTITY_ORDER, parse_bids_name
from bidsglm.bids.labels import contrast_label
from bidsglm.bids.stats_models import (
    INTERCEPT,
    Contrast,
    StatsModel,
    expand_variables,
    read_stats_model,
)
from bidsglm.cli._lifeline import Lifeline
from bidsglm.cli._progress import Progress
from bidsglm.cli._work import (
    WORK_FOLDER,
    FirstLevelSettings,
    GroupJob,
    JobResult,
    SubjectJob,
    fit_group,
    fit_subject,
)
from bidsglm.design import check_events, make_first_level_design_matrix
from bidsglm.design.contrasts import parse_contrast_expression
from bidsglm.errors import BidsGlmError, InputNotFoundError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ['execute', 'plan_group', 'plan_participant', 'run']

logger = logging.getLogger('bidsglm')

_DEFAULTS = FirstLevelSettings()
#: Entities of the runs that the names of a saved model never carry.
_NOT_IN_MODEL = frozenset({'desc', 'contrast', 'stat'})
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


@dataclass(frozen=True)
class _FirstLevelPlan:
    """The design and contrasts of one subject."""

    trial_types: tuple[str, ...] | None
    confounds: tuple[str, ...]
    contrasts: tuple[tuple[str, str], ...]
    contrast_types: tuple[tuple[str, str], ...]


def _from_options(
    args: argparse.Namespace, variables: _Variables, runs: Sequence[RunInputs]
) -> _FirstLevelPlan:
    confounds = _resolve_confounds(args.confounds or [], variables, runs)
    if args.contrast:
        contrasts = tuple(args.contrast)
    else:
        contrasts = tuple((t, f'`{t}`') for t in variables.trial_types)
    if not contrasts:
        msg = (
            f'The events of sub-{runs[0].subject} have no trial_type, so there is no '
            "contrast to make by default. Give one, e.g. --contrast 'task=dummy'."
        )
        raise InvalidParameterError(msg)
    # no types: one row is a t-test, several rows ('a, b') an F-test
    return _FirstLevelPlan(None, tuple(confounds), contrasts, ())


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
    )


def _settings(args: argparse.Namespace, model: StatsModel | None) -> FirstLevelSettings:
    node = model.run if model else None
    hrf = (node.hrf_model if node else None) or args.hrf_model or _DEFAULTS.hrf_model
    high_pass = (node.high_pass if node else None) or args.high_pass or _DEFAULTS.high_pass
    delays = (node.fir_delays if node else None) or _DEFAULTS.fir_delays
    return FirstLevelSettings(hrf, delays, args.noise_model, high_pass, args.smoothing_fwhm)


def _check_designs(
    runs: Sequence[RunInputs], plan: _FirstLevelPlan, settings: FirstLevelSettings
) -> None:
    """Build each run's design (no image data is read) and parse every contrast on it."""
    for run in runs:
        assert run.events is not None
        n_scans = cast('nib.Nifti1Image', nib.load(run.bold)).shape[3]
        events = check_events(run.events)
        if plan.trial_types is not None:
            events = events[events['trial_type'].isin(plan.trial_types)]
        design = make_first_level_design_matrix(
            (np.arange(n_scans) + run.slice_time_ref) * run.repetition_time,
            events=events,
            hrf_model=settings.hrf_model,
            high_pass=settings.high_pass,
            fir_delays=settings.fir_delays,
            add_regs=np.zeros((n_scans, len(plan.confounds))) if plan.confounds else None,
            add_reg_names=list(plan.confounds) or None,
        )
        for name, expression in plan.contrasts:
            try:
                parse_contrast_expression(expression, list(design.columns))
            except BidsGlmError as error:
                msg = f'The contrast {name!r} does not fit the design of {run.name}: {error}'
                raise type(error)(msg) from error


def _model_entities(runs: Sequence[RunInputs]) -> dict[str, str]:
    """Return the entities the writer gives a model of these runs (those they share)."""
    first = runs[0].entities
    return {
        k: v
        for k, v in first.items()
        if k in ENTITY_ORDER
        and k not in _NOT_IN_MODEL
        and all(r.entities.get(k) == v for r in runs)
    }


def _is_saved(out_dir: Path, runs: Sequence[RunInputs], plan: _FirstLevelPlan) -> bool:
    """Tell whether the subject's model and every contrast's effect map already exist."""
    keys = _model_entities(runs)
    names = [parse_bids_name(p) for p in (out_dir / f'sub-{keys["sub"]}').rglob('*_statmap.*')]
    if not any(n.entities == keys and n.extension == '.json' for n in names):
        return False
    effects = {
        n.entities.get('contrast')
        for n in names
        if n.entities.get('stat') == 'effect'
        and all(n.entities.get(k) == v for k, v in keys.items())
    }
    return all(contrast_label(name) in effects for name, _ in plan.contrasts)


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
        if not args.overwrite and _is_saved(args.output_dir, subject_runs, plan):
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
    with warnings.catch_warnings(record=True):
        warnings.simplefilter('always')
        _check_designs(subject_runs, plan, settings)
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
        For anything that would make the work fail.
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
    x = [
        x for x in (model.dataset.x if model and model.dataset else (INTERCEPT,)) if x != INTERCEPT
    ]
    entities = parse_bids_name(saved[0][1].statmap).entities
    base = '_'.join(f'{k}-{entities[k]}' for k in ('task', 'space') if k in entities)
    jobs = []
    for label in labels:
        rows = [
            (s, glm.contrast(label))
            for s, glm in saved
            if label in {c.label for c in glm.contrasts}
        ]
        subjects = [s for s, _ in rows]
        covariates = _covariates(args.bids_dir, x, subjects)
        columns = [*([] if covariates is None else covariates.columns[1:]), INTERCEPT]
        contrasts = _group_contrasts(model, rows[0][1].name, columns)
        jobs.append(
            GroupJob(
                label=label,
                inputs=pd.DataFrame(
                    {
                        'subject_label': subjects,
                        'map_name': label,
                        'effects_map_path': [str(c.maps['effect']) for _, c in rows],
                    }
                ),
                masks=tuple(glm.mask for _, glm in saved if glm.mask is not None),
                covariates=covariates,
                contrasts=tuple((c.name, c.expression('intercept')) for c in contrasts),
                contrast_types=tuple((c.name, c.stat_type) for c in contrasts),
                out_dir=args.output_dir,
                prefix=f'{base}_desc-{label}' if base else f'desc-{label}',
            )
        )
    return jobs


# -------------------------------------------------------------------- execution
def _dask_client(address: str) -> Any:  # noqa: ANN401 - distributed is optional
    """Connect to the Dask scheduler, or explain what is missing."""
    if importlib.util.find_spec('distributed') is None:
        msg = '--dask-scheduler needs dask.distributed: pip install "bidsglm[dask]".'
        raise InvalidParameterError(msg)
    from distributed import Client  # noqa: PLC0415 - optional dependency

    try:
        return Client(address, timeout=DASK_TIMEOUT)
    except (OSError, TimeoutError) as error:
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


def _write_dataset_files(out_dir: Path) -> None:
    """Create or update the files every save shares, once, before the work.

    ``dataset_description.json`` and ``.bidsignore`` (merged with what is there); the
    subjects' saves leave them to this function (see :mod:`bidsglm.cli._work`).
    """
    from bidsglm.bids._files import write_json  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    description = out_dir / 'dataset_description.json'
    write_json(description, merge_dataset_description(read_dataset_description(description)))
    patterns = [pattern for companion in COMPANIONS for pattern in companion.ignore]
    if patterns:
        path = out_dir / '.bidsignore'
        existing = path.read_text(encoding='utf-8') if path.is_file() else None
        path.write_text(merge_bidsignore(existing, patterns), encoding='utf-8')


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
        jobs: Sequence[Any]
        work: Callable[[Any], JobResult]
        if args.analysis_level == 'participant':
            jobs, work = plan_participant(args), fit_subject
        else:
            jobs, work = plan_group(args), fit_group
        if args.dask_scheduler and args.analysis_level == 'participant':
            client = _dask_client(args.dask_scheduler)
        _write_dataset_files(args.output_dir)
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
        shutil.rmtree(args.output_dir / WORK_FOLDER, ignore_errors=True)
    return _report(results, time.perf_counter() - start, args.output_dir)
