"""Plan the participant and group levels of a model over a dataset, checking everything first.

:func:`plan_participant` and :func:`plan_group` take a :class:`Request` (what the
command line was asked) and return the jobs, or raise one error listing every
problem found (:class:`~bidsglm.dataset.problems.Problems`): the model's tasks,
entities and masks against the files, each subject's designs, variables and
contrasts, each Dataset node's participants and groups. Nothing is fitted or
written while planning.

Without a model file, the command line's options make the model
(:mod:`bidsglm.dataset.options`); its outputs go where they always went. With one,
each node saves in its own folder (:mod:`bidsglm.dataset.naming`).
"""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bidsglm.bids.entities import parse_bids_name
from bidsglm.bids.input_files import check_same_grid
from bidsglm.dataset.design import DEFAULT_HIGH_PASS, DEFAULT_HRF, DesignSpec
from bidsglm.dataset.discovery import (
    Query,
    RunInputs,
    close_matches,
    discover_runs,
    find_fmriprep,
    read_tsv_column,
    read_tsv_header,
)
from bidsglm.dataset.group import GroupJob, plan_node, read_participants, saved_inputs
from bidsglm.dataset.naming import classic_placement, model_placement
from bidsglm.dataset.options import model_file, options_first_level, options_model
from bidsglm.dataset.participant import (
    NAMES_FROM_MODEL,
    FirstLevel,
    FirstLevelSettings,
    SubjectJob,
    plan_subject,
)
from bidsglm.dataset.problems import Problems
from bidsglm.dataset.runs import surface_run_shape, without_subject
from bidsglm.dataset.stats_models import INTERCEPT, MaskSpec, Node, StatsModel, read_stats_model
from bidsglm.errors import (
    BidsGlmError,
    InputNotFoundError,
    InvalidParameterError,
    ShapeMismatchError,
)
from bidsglm.models.surface import surface_shape

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from bidsglm.bids.reader import LoadedGlm

__all__ = ['Request', 'find_saved', 'plan_group', 'plan_participant', 'write_model']

logger = logging.getLogger('bidsglm')

NAMES_FROM_FIRST_LEVEL = (
    'The group contrast is named after the first-level contrast: rename that one '
    '(--contrast NAME=EXPRESSION) and run the participant level again.'
)


@dataclass(frozen=True)
class Request:
    """What the command line asks for (paths absolute).

    Parameters
    ----------
    bids_dir, output_dir : pathlib.Path
        The raw dataset and the results' folder.
    derivatives : pathlib.Path or None
        The fMRIPrep-style folder (found under ``bids_dir/derivatives`` when None).
    model : pathlib.Path or None
        A BIDS Stats Models file; None: the options make the model.
    task, space : str or None
        ``--task``, ``--space`` (they win over the model's ``Input``).
    participant_label : tuple of str or None
        ``--participant-label``.
    contrasts : tuple of (str, str)
        ``--contrast`` NAME, EXPRESSION pairs.
    confounds : tuple of str
        ``--confounds`` names and globs.
    hrf_model, high_pass, noise_model, smoothing_fwhm : optional
        The other model options (None: the model's, else bidsglm's default).
    overwrite : bool
        Plan even what is saved already.
    """

    bids_dir: Path
    output_dir: Path
    derivatives: Path | None = None
    model: Path | None = None
    task: str | None = None
    space: str | None = None
    participant_label: tuple[str, ...] | None = None
    contrasts: tuple[tuple[str, str], ...] = ()
    confounds: tuple[str, ...] = ()
    hrf_model: str | None = None
    high_pass: float | None = None
    noise_model: str | None = None
    smoothing_fwhm: float | None = None
    overwrite: bool = False


def _describe(values: Sequence[Any]) -> str:
    """Return a list for a log line, shortened after 8 items."""
    shown = [str(v) for v in values[:8]]
    return f'{shown} and {len(values) - 8} more' if len(values) > 8 else str(shown)


def load_model(request: Request) -> StatsModel:
    """Read the model file, logging what has no effect; or make the options' model."""
    if request.model is None:
        return options_model()
    model = read_stats_model(request.model)
    for note in model.notes:
        logger.info('Model %r: %s.', model.name, note)
    return model


# ------------------------------------------------------------------- inputs
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


def _mask_entities(model: StatsModel) -> dict[str, tuple[str, ...]] | None:
    mask = model.run.model.mask
    if mask is None or mask.is_default or mask.path is not None:
        return None
    return {k: v for k, v in mask.entities.items() if k != 'suffix'}


def query_of(request: Request, model: StatsModel) -> Query:
    """Combine the options and the model's ``Input`` (the options win when both are set)."""
    given = dict(model.input)
    tasks = None if request.task or len(given.get('task', ())) < 2 else given['task']
    desc = _single(given.pop('desc', None), 'description') or 'preproc'
    subjects = request.participant_label or given.get('sub')
    filters = {k: v for k, v in given.items() if k not in ('task', 'space', 'sub')}
    return Query(
        task=request.task or (None if tasks else _single(given.get('task'), 'task')),
        space=request.space or _single(given.get('space'), 'space'),
        subjects=subjects,
        filters=filters,
        tasks=tasks,
        desc=desc,
        mask=_mask_entities(model),
    )


def _by_subject(runs: Sequence[RunInputs]) -> dict[str, list[RunInputs]]:
    by_subject: dict[str, list[RunInputs]] = {}
    for run in runs:
        by_subject.setdefault(run.subject, []).append(run)
    return by_subject


def _space_of(entities: Mapping[str, str]) -> str:
    """Return a run's space as ``--space`` writes it (``'fsLR:den-91k'``; ``'none'``)."""
    _task, space = _task_and_space(entities)
    return space or 'none'


def _log_found(runs: Sequence[RunInputs], by_subject: Mapping[str, list[RunInputs]]) -> None:
    """Say what discovery found: every run's files, then a summary and the timing."""
    for found in runs:
        logger.debug(
            '%s: mask %s, confounds %s, events %s',
            found.bold,
            found.mask,
            found.confounds,
            found.events,
        )
    tasks = sorted({run.entities.get('task', '') for run in runs})
    logger.info(
        'Found %d runs of %d subjects (task %s, space %s).',
        len(runs),
        len(by_subject),
        ', '.join(tasks),
        _space_of(runs[0].entities),
    )
    timings = {(r.repetition_time, r.start_time, r.timing_source) for r in runs}
    for t_r, start, source in sorted(timings):
        logger.info(
            'Repetition time %g s (from the %s); StartTime %g s, so slice_time_ref = %.4g%s',
            t_r,
            source,
            start,
            start / t_r,
            '' if start else ' (no StartTime in the derivative sidecars)',
        )
    no_mask = sorted({r.subject for r in runs if r.mask is None and r.kind == 'volume'})
    if no_mask:
        logger.warning(
            'No brain mask for %s: a mask is computed from their runs.', _describe(no_mask)
        )


# ------------------------------------------------------------ the Run node
def _settings(request: Request, model: StatsModel, spec: DesignSpec) -> FirstLevelSettings:
    node = model.run.model
    return FirstLevelSettings(
        hrf_model=spec.hrf_model,
        fir_delays=spec.fir_delays,
        noise_model=request.noise_model or node.noise_model or 'ar1',
        high_pass=spec.high_pass,
        smoothing_fwhm=request.smoothing_fwhm
        if request.smoothing_fwhm is not None
        else node.smoothing_fwhm,
    )


def _model_spec(request: Request, model: StatsModel) -> DesignSpec:
    """Return the Run node's design recipe (the options' HRF and cut-off without a model)."""
    node = model.run
    hrf = node.model.hrf
    if request.model is None:
        return DesignSpec(
            x=(),
            hrf_model=request.hrf_model or DEFAULT_HRF,
            high_pass=request.high_pass or DEFAULT_HIGH_PASS,
        )
    return DesignSpec(
        x=node.model.x,
        hrf_model=hrf.model if hrf else DEFAULT_HRF,
        convolved=hrf.variables if hrf else None,
        high_pass=node.model.high_pass or DEFAULT_HIGH_PASS,
        fir_delays=(hrf.fir_delays or (0,)) if hrf else (0,),
        transformations=node.transformations,
        modulations=node.model.modulations,
        formula=node.model.formula,
    )


def _trial_types(runs: Sequence[RunInputs]) -> list[str]:
    """Return the conditions of a subject's events (``n/a`` and empty cells are none)."""
    types: list[str] = []
    for run in runs:
        assert run.events is not None
        types += [t for t in read_tsv_column(run.events, 'trial_type') if t not in ('', 'n/a')]
    return sorted(set(types))


def _confounds(patterns: Sequence[str], runs: Sequence[RunInputs]) -> list[str]:
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
    headers = [read_tsv_header(run.confounds) for run in runs if run.confounds]
    common = [c for c in headers[0] if all(c in h for h in headers[1:])]
    missing = [p for p in patterns if not fnmatch.filter(common, p)]
    if missing:
        msg = (
            f'The confound column(s) {missing} do not exist for sub-{runs[0].subject}'
            f'{close_matches(missing[0], common)}. The columns every run has: '
            f'{_describe(common)}. Fix --confounds.'
        )
        raise InvalidParameterError(msg)
    return [c for p in patterns for c in fnmatch.filter(common, p) if c != INTERCEPT]


def _first_level(
    request: Request, model: StatsModel, spec: DesignSpec, runs: Sequence[RunInputs]
) -> FirstLevel:
    """Return what the Run node means for one subject: the model's, or the options'."""
    if request.model is not None:
        node = model.run
        return FirstLevel(spec, contrasts=node.contrasts, dummy=node.dummy)
    types = _trial_types(runs)
    if not types and not request.contrasts:
        msg = (
            f'The events of sub-{runs[0].subject} have no trial_type, so there is no '
            "contrast to make by default. Give one, e.g. --contrast 'task=dummy'."
        )
        raise InvalidParameterError(msg)
    confounds = list(dict.fromkeys(_confounds(request.confounds, runs)))
    return options_first_level(types, confounds, request.contrasts, spec)


def _run_masks(model: StatsModel, request: Request, runs: Sequence[RunInputs]) -> tuple[Path, ...]:
    """Each run's mask: the model's mask file, or the one found beside (or for) each run."""
    mask = model.run.model.mask
    if mask is not None and mask.path is not None:
        path = Path(mask.path)
        path = path if path.is_absolute() else request.bids_dir / path
        if not path.is_file():
            msg = f"The model's Options.Mask {mask.path!r} is not a file ({str(path)!r})."
            raise InputNotFoundError(msg)
        return tuple(path for _ in runs)
    return tuple(run.mask for run in runs if run.mask is not None)


def _check_surface(runs: Sequence[RunInputs]) -> None:
    """Refuse a subject whose surface runs have different vertices (or time points per part)."""
    shapes = {run.name: surface_run_shape(run)[1] for run in runs}
    if len(set(shapes.values())) > 1:
        shown = ', '.join(f'{name}: {count}' for name, count in shapes.items())
        msg = (
            f'The surface runs of sub-{runs[0].subject} have different numbers of vertices '
            f'({shown}): one model needs one surface. Select runs of one space and '
            f'density. {without_subject(runs[0].subject)}'
        )
        raise ShapeMismatchError(msg)


def _check_grid(runs: Sequence[RunInputs], masks: Sequence[Path]) -> None:
    """Refuse a subject whose runs and masks are not on one voxel grid (or one surface)."""
    if runs[0].kind != 'volume':
        _check_surface(runs)
        return
    try:
        check_same_grid([*(run.bold for run in runs), *dict.fromkeys(masks)])
    except BidsGlmError as error:
        msg = f'{error} {without_subject(runs[0].subject)}'
        raise type(error)(msg) from error


def _is_saved_all(job_saves: Sequence[Any], is_saved: Callable[..., bool]) -> bool:
    return all(is_saved(s.out_dir, s.statmap, [n for n, _ in s.contrasts]) for s in job_saves)


def _log_first(
    request: Request, first_level: FirstLevel, settings: FirstLevelSettings, saves: Sequence[Any]
) -> None:
    """Say, for the first subject, what the model holds."""
    logger.info(
        'Model: HRF %s, %s noise, cosine drifts above %g Hz, smoothing %s.',
        settings.hrf_model,
        settings.noise_model,
        settings.high_pass,
        f'{settings.smoothing_fwhm} mm' if settings.smoothing_fwhm else 'none',
    )
    if request.model is None:
        confounds = list(first_level.confounds)
        logger.info('Confound columns: %s.', _describe(confounds) if confounds else 'none')
    else:
        logger.info('Run node X: %s.', _describe(list(first_level.spec.x)))
    contrasts = dict.fromkeys(
        f'{n} = {e if isinstance(e, str) else " | ".join(e)}'
        for save in saves
        for n, e in save.contrasts
    )
    logger.info('Contrasts: %s.', _describe(list(contrasts)))


def _check_smoothing(run: RunInputs, settings: FirstLevelSettings) -> None:
    """Refuse smoothing on surface runs, before any fit (the model refuses it too)."""
    if run.kind != 'volume' and settings.smoothing_fwhm:
        msg = (
            f'Smoothing ({settings.smoothing_fwhm} mm) is for volume runs; these are '
            f'{run.kind} surface runs ({run.name}). Smooth along the surface before the '
            'GLM, and drop --smoothing-fwhm (or SmoothingFWHM in the model).'
        )
        raise InvalidParameterError(msg)


def plan_participant(request: Request, is_saved: Callable[..., bool]) -> list[SubjectJob]:
    """Check the inputs and plan one job per subject still to fit.

    Parameters
    ----------
    request : Request
        What the command line asks for.
    is_saved : callable
        ``is_saved(out_dir, statmap, contrast_names)``: whether a model is saved.

    Returns
    -------
    list of SubjectJob
        The subjects to fit (those whose models are all saved are left out unless
        ``overwrite``).

    Raises
    ------
    BidsGlmError
        Listing every problem that would make the work fail.
    """
    model = load_model(request)
    derivatives = request.derivatives or find_fmriprep(request.bids_dir)
    logger.info('Preprocessed data: %s', derivatives)
    runs = discover_runs(request.bids_dir, derivatives, query_of(request, model))
    by_subject = _by_subject(runs)
    _log_found(runs, by_subject)
    placement = (
        model_placement(model, request.output_dir)
        if request.model
        else classic_placement(request.output_dir)
    )
    spec = _model_spec(request, model)
    settings = _settings(request, model, spec)
    _check_smoothing(runs[0], settings)
    problems = Problems()
    jobs = []
    for index, (subject, subject_runs) in enumerate(by_subject.items()):
        with problems.collect(f'sub-{subject}'):
            first_level = _first_level(request, model, spec, subject_runs)
            saves = plan_subject(model, subject_runs, first_level, placement)
            if index == 0:
                _log_first(request, first_level, settings, saves)
            if not request.overwrite and _is_saved_all(saves, is_saved):
                logger.info(
                    'sub-%s is already saved: skipped (use --overwrite to fit it again).', subject
                )
                continue
            masks = _run_masks(model, request, subject_runs)
            _check_grid(subject_runs, masks)
            jobs.append(
                SubjectJob(
                    subject,
                    tuple(subject_runs),
                    first_level.spec,
                    settings,
                    masks,
                    tuple(saves),
                    request.overwrite,
                )
            )
    problems.raise_if_any()
    return jobs


# ------------------------------------------------------------------ group
def _in_space(entities: Mapping[str, str], space: str) -> bool:
    """Whether a saved model is in ``space`` (``'MNI152NLin6Asym:res-2'``, ``'fsLR:den-91k'``)."""
    name, _, resolution = space.partition(':')
    if entities.get('space') != name:
        return False
    key, _, label = resolution.partition('-')
    return not resolution or entities.get(key) == label


def _task_and_space(entities: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Return the task and the space of a saved model, with its resolution or density."""
    space = entities.get('space')
    for key in ('res', 'den'):
        if space is not None and key in entities:
            space = f'{space}:{key}-{entities[key]}'
            break
    return entities.get('task'), space


def _matches(entities: Mapping[str, str], query: Query) -> bool:
    tasks = query.tasks or ((query.task,) if query.task else None)
    if tasks and entities.get('task') not in tasks:
        return False
    if query.space and not _in_space(entities, query.space):
        return False
    return not (query.subjects and entities['sub'] not in query.subjects)


def find_saved(out_dir: Path, query: Query) -> list[tuple[str, Path]]:
    """Return (subject, statmap.json) of the saved models in a folder that match the query.

    Raises
    ------
    InputNotFoundError
        If there is none.
    InvalidParameterError
        If they are of several tasks or spaces that the query does not choose between.
    """
    found = []
    for statmap in sorted(out_dir.glob('sub-*/**/sub-*_statmap.json')):
        entities = parse_bids_name(statmap).entities
        if 'stat' in entities or 'contrast' in entities or not _matches(entities, query):
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
    if len({space for _, space in keys}) > 1 or (query.tasks is None and len(keys) > 1):
        msg = (
            f'OUTPUT_DIR holds results of several tasks and spaces {sorted(keys)}; choose '
            'with --task and --space.'
        )
        raise InvalidParameterError(msg)
    return found


def _group_mask(node: Node, request: Request) -> tuple[Path, ...] | None:
    """Return a Dataset node's own mask file, if its Options.Mask gives one."""
    mask: MaskSpec | None = node.model.mask
    if mask is None or mask.is_default:
        return None
    if mask.path is None:
        msg = (
            f'Node {node.name!r}: Options.Mask {dict(mask.entities)} at the Dataset level '
            'selects no file bidsglm can find; give the path of a mask file, or leave the '
            "default (the inputs' brain masks)."
        )
        raise InvalidParameterError(msg)
    path = Path(mask.path)
    path = path if path.is_absolute() else request.bids_dir / path
    if not path.is_file():
        msg = f'Node {node.name!r}: Options.Mask {mask.path!r} is not a file ({str(path)!r}).'
        raise InputNotFoundError(msg)
    return (path,)


def _node_jobs(
    node: Node, model: StatsModel, request: Request, saved: Sequence[LoadedGlm], out_dir: Path
) -> list[GroupJob]:
    edge = model.sources(node.name)[0]
    inputs = saved_inputs(saved)
    participants = read_participants(request.bids_dir, sorted({row.subject for row in inputs}))
    names_from = NAMES_FROM_MODEL if request.model else NAMES_FROM_FIRST_LEVEL
    jobs = plan_node(node, edge, inputs, participants, out_dir, names_from)
    own = _group_mask(node, request)
    checked = []
    for job in jobs:
        if job.on_surface:
            _check_surface_group(node, job, own)
        else:
            job = replace(job, masks=own) if own is not None else job  # noqa: PLW2901
            volumes = [*job.inputs, *job.masks]  # no dict: those are surface maps
            check_same_grid([m for m in volumes if not isinstance(m, dict)])
        checked.append(job)
    return checked


def _check_surface_group(node: Node, job: GroupJob, own: tuple[Path, ...] | None) -> None:
    """Refuse a Dataset node's mask image, or maps of one group on different surfaces."""
    if own is not None:
        msg = (
            f'Node {node.name!r}: Options.Mask {str(own[0])!r} is a mask image, but the '
            'group maps are surface maps, which use their own masks. Remove Options.Mask.'
        )
        raise InvalidParameterError(msg)
    shapes = [(surface_shape(m, f'The map {m}')[1], m) for m in job.inputs]
    odd = [(count, m) for count, m in shapes if count != shapes[0][0]]
    if odd:
        msg = (
            f'{job.label}: the surface maps lie on surfaces of different sizes '
            f'({shapes[0][1]} has {shapes[0][0]} vertices, {odd[0][1]} {odd[0][0]}). Fit '
            'every subject in one space and density (--space) into this OUTPUT_DIR.'
        )
        raise ShapeMismatchError(msg)


def plan_group(request: Request) -> list[GroupJob]:
    """Find the saved participant results and plan every Dataset node's groups.

    Raises
    ------
    BidsGlmError
        Listing every problem: a missing effect map or variable, a group of fewer
        than 2 maps, maps on different grids, names that cannot be saved...
    """
    from bidsglm.bids import load_glm_from_bids  # noqa: PLC0415 - group level only

    model = load_model(request)
    nodes = model.nodes_of('group')
    if not nodes:
        msg = 'The model has no Dataset node: add one to fit the group level.'
        raise InvalidParameterError(msg)
    query = query_of(request, model)
    placement = (
        model_placement(model, request.output_dir)
        if request.model
        else classic_placement(request.output_dir)
    )
    problems = Problems()
    jobs: list[GroupJob] = []
    loaded: dict[Path, list[LoadedGlm]] = {}
    for node in nodes:
        with problems.collect(f'node {node.name}'):
            source = model.node(model.sources(node.name)[0].source)
            folder = placement(source)
            assert folder is not None
            if folder not in loaded:
                loaded[folder] = [load_glm_from_bids(p) for _, p in find_saved(folder, query)]
                logger.info('Found the results of %d models in %s.', len(loaded[folder]), folder)
            out_dir = placement(node)
            assert out_dir is not None
            jobs += _node_jobs(node, model, request, loaded[folder], out_dir)
    problems.raise_if_any()
    return jobs


# ----------------------------------------------------------- --write-model
def write_model(request: Request, path: Path) -> dict[str, Any]:
    """Plan the participant level from the options and write their model to ``path``.

    Everything is checked as for a run (the written model is what the run would
    do); nothing is fitted.

    Raises
    ------
    BidsGlmError
        For any problem planning finds, or a contrast a model file cannot write.
    """
    if request.model is not None:
        msg = '--write-model writes the model of the options: give it without --model.'
        raise InvalidParameterError(msg)
    plan_participant(replace(request, overwrite=True), lambda *_: False)
    model = options_model()
    derivatives = request.derivatives or find_fmriprep(request.bids_dir)
    runs = discover_runs(request.bids_dir, derivatives, query_of(request, model))
    by_subject = _by_subject(runs)
    types = sorted({t for subject_runs in by_subject.values() for t in _trial_types(subject_runs)})
    spec = _model_spec(request, model)
    software: dict[str, Any] = {'NoiseModel': request.noise_model or 'ar1'}
    if request.smoothing_fwhm:
        software['SmoothingFWHM'] = request.smoothing_fwhm
    selection = {
        'task': sorted({r.entities['task'] for r in runs if 'task' in r.entities}),
        'space': [request.space] if request.space else [],
        'subject': list(request.participant_label or ()),
    }
    return model_file(
        path,
        trial_types=types,
        confounds=request.confounds,
        contrasts=request.contrasts,
        spec=spec,
        software=software,
        selection=selection,
    )
