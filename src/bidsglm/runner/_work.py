"""The work of one subject and of one group model: what runs in a worker.

A :class:`~bidsglm.dataset.participant.SubjectJob` (planned by
:mod:`bidsglm.dataset`) holds everything a worker needs (paths, the design recipe,
settings, what to save) and nothing it must share, so the same job gives the same
bytes whether it runs in the main process, in a local process pool or on a Dask
worker. :func:`fit_subject` never raises: failures, and the warnings raised while
fitting, come back in the :class:`JobResult` for the main process to log.

A subject's runs are fitted once; each planned save (a node's outputs over some of
the runs: one run, a session, all of them) is a view of that fit
(:func:`bidsglm.models.select_runs`) saved by :func:`bidsglm.save_glm_to_bids`,
whose transaction makes it complete or absent, whatever kills the process, and
merges the shared files (``dataset_description.json``, ``.bidsignore``) under a lock:
any number of processes may save different subjects into one folder. Each save
holds its model's lock from the check "already saved?" to its end, so two runs of
one subject take turns: the second finds each model saved (and keeps it) or, with
``--overwrite``, replaces it whole.
"""

from __future__ import annotations

import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bidsglm._save import save_glm_to_bids
from bidsglm._stages import recording, timed
from bidsglm.bids.entities import parse_bids_name
from bidsglm.bids.labels import contrast_label
from bidsglm.bids.manifest import complete_model_files
from bidsglm.bids.transaction import model_lock
from bidsglm.dataset.masks import intersect_masks, intersect_surface_masks
from bidsglm.dataset.runs import load_design
from bidsglm.design.second_level import warn_if_ill_conditioned
from bidsglm.models import FirstLevelModel, SecondLevelModel, select_runs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import PurePosixPath

    from bidsglm.dataset.group import GroupJob
    from bidsglm.dataset.participant import PlannedSave, SubjectJob

__all__ = [
    'JobResult',
    'fit_group',
    'fit_subject',
    'is_saved',
    'stage_summary',
]


@dataclass(frozen=True)
class JobResult:
    """How one job went.

    Parameters
    ----------
    name : str
        The job (``sub-01``, ``contrast-x``).
    ok : bool
        Whether it finished.
    message : str
        What was done, or why it failed.
    seconds : float
        Wall time.
    warnings : tuple of str
        Warnings raised while fitting.
    stages : tuple of (str, float)
        Seconds spent in each stage of the job (``design``, ``read``, ``fit``,
        ``contrasts``, ``write``, ``report``; see :mod:`bidsglm._stages`), in the
        order they began; their sum is at most ``seconds``.
    """

    name: str
    ok: bool
    message: str
    seconds: float
    warnings: tuple[str, ...] = ()
    stages: tuple[tuple[str, float], ...] = ()


def _subject_model(job: SubjectJob) -> FirstLevelModel:
    """Fit the subject's runs on the designs the plan checked."""
    runs = job.runs
    settings = job.settings
    with timed('design'):
        designs = [load_design(run, job.spec).design for run in runs]
    with timed('read'):
        mask = intersect_masks(job.masks) if len(job.masks) == len(runs) else None
    model = FirstLevelModel(
        t_r=runs[0].repetition_time,
        slice_time_ref=runs[0].slice_time_ref,
        hrf_model=settings.hrf_model,
        fir_delays=settings.fir_delays,
        high_pass=settings.high_pass,
        noise_model=settings.noise_model,
        smoothing_fwhm=settings.smoothing_fwhm,
        mask_img=mask,
        subject_label=job.subject,
    )
    images: list[Any] = [run.image for run in runs]  # paths, or a path per hemisphere
    with timed('fit'):
        return model.fit(images, design_matrices=designs)


def is_saved(out_dir: Path, statmap: PurePosixPath, contrasts: Iterable[str]) -> bool:
    """Tell whether a model is saved complete, with the maps of every named contrast.

    Parameters
    ----------
    out_dir : pathlib.Path
        The output folder.
    statmap : PurePosixPath
        The model's ``statmap.json``, relative to ``out_dir``.
    contrasts : iterable of str
        Contrast names (their labels must all be saved).

    Returns
    -------
    bool
        True when the model's manifest and every file it lists exist, and they hold
        an effect map of every contrast.
    """
    files = complete_model_files(out_dir, statmap)
    if files is None:
        return False
    names = [parse_bids_name(f).entities for f in files]
    effects = {n.get('contrast') for n in names if n.get('stat') == 'effect'}
    return all(contrast_label(name) in effects for name in contrasts)


def _pending(job: SubjectJob) -> list[PlannedSave]:
    """Return the saves not done yet (all of them with ``overwrite``)."""
    if job.overwrite:
        return list(job.saves)
    return [
        save
        for save in job.saves
        if not is_saved(save.out_dir, save.statmap, [name for name, _ in save.contrasts])
    ]


def _save_one(model: FirstLevelModel, save: PlannedSave, overwrite: bool) -> int:
    """Save one view of the fit unless another run saved it meanwhile; return its files."""
    with model_lock(save.out_dir, save.statmap):
        names = [name for name, _ in save.contrasts]
        if not overwrite and is_saved(save.out_dir, save.statmap, names):
            return 0
        view = (
            model
            if len(save.runs) == len(model.design_matrices_)
            else select_runs(model, save.runs)
        )
        with timed('write'):
            saved = save_glm_to_bids(
                view, dict(save.contrasts), dict(save.contrast_types), out_dir=save.out_dir
            )
    return sum(len(f.relative_to(save.out_dir).parts) > 1 for f in saved.files)


def _save_subject(job: SubjectJob) -> str:
    """Fit the subject once and save each planned view of it; say what was done."""
    pending = _pending(job)
    if not pending:
        return 'saved meanwhile by another bidsglm run: kept (--overwrite fits it again)'
    model = _subject_model(job)
    n_files = sum(_save_one(model, save, job.overwrite) for save in pending)
    n_contrasts = len({name for save in pending for name, _ in save.contrasts})
    models = f', {len(pending)} models' if len(pending) > 1 else ''
    return f'{len(job.runs)} runs, {n_contrasts} contrasts{models}, {n_files} files'


def _run_job(name: str, work: Callable[[], str]) -> JobResult:
    """Run ``work``, timing it and recording its warnings; never raise."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught, recording() as clock:
        warnings.simplefilter('always')
        try:
            message = work()
            ok = True
        except Exception as error:  # one failure must not stop the others
            last = traceback.extract_tb(error.__traceback__)[-1]
            where = f' ({Path(last.filename).name}:{last.lineno})'
            message, ok = f'{type(error).__name__}: {error}{where}', False
    seen = tuple(dict.fromkeys(str(w.message) for w in caught))
    seconds = time.perf_counter() - start
    return JobResult(name, ok, message, seconds, seen, tuple(clock.seconds.items()))


def fit_subject(job: SubjectJob) -> JobResult:
    """Fit and save one subject; report how it went (never raises).

    Parameters
    ----------
    job : SubjectJob
        What to fit.

    Returns
    -------
    JobResult
        Success and the number of files written, or the error.
    """
    return _run_job(job.name, lambda: _save_subject(job))


def _group_model(job: GroupJob) -> SecondLevelModel:
    warn_if_ill_conditioned(job.design.to_numpy(dtype=np.float64))
    if job.on_surface:
        mask = intersect_surface_masks(job.masks)
    else:
        mask = intersect_masks([Path(m) for m in job.masks if not isinstance(m, dict)])
    model = SecondLevelModel(mask_img=mask)
    maps: list[Any] = list(job.inputs)  # paths, or a path per hemisphere
    with timed('fit'):
        return model.fit(maps, design_matrix=job.design)


def fit_group(job: GroupJob) -> JobResult:
    """Fit and save the group model of one first-level contrast (never raises).

    Parameters
    ----------
    job : GroupJob
        What to fit.

    Returns
    -------
    JobResult
        Success and the number of files written, or the error.
    """

    def work() -> str:
        model = _group_model(job)
        with timed('write'):
            saved = save_glm_to_bids(
                model,
                dict(job.contrasts),
                dict(job.contrast_types),
                out_dir=job.out_dir,
                prefix=job.prefix,
            )
        return f'{len(job.inputs)} maps, {len(saved.files)} files'

    return _run_job(job.name, work)


def stage_summary(stages: Sequence[tuple[str, float]], seconds: float) -> str:
    """Return a job's time by stage, for a log line (what ``-v`` shows per subject).

    Parameters
    ----------
    stages : sequence of (str, float)
        Seconds by stage (:attr:`JobResult.stages`).
    seconds : float
        The job's whole time.

    Examples
    --------
    >>> stage_summary([('read', 1.25), ('fit', 2.5)], 4.0)
    'read 1.25 s, fit 2.50 s, other 0.25 s; total 4.00 s'
    """
    counted = sum(value for _, value in stages)
    parts = [f'{name} {value:.2f} s' for name, value in stages]
    parts.append(f'other {max(seconds - counted, 0.0):.2f} s')
    return f'{", ".join(parts)}; total {seconds:.2f} s'


def describe(value: Any) -> str:  # noqa: ANN401 - any value a log line shows
    """Return a short text for a log line (lists shortened)."""
    if isinstance(value, (list, tuple)) and len(value) > 8:
        return f'{list(value[:8])} and {len(value) - 8} more'
    return str(list(value) if isinstance(value, tuple) else value)
