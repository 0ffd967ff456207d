"""The work of one subject and of one group contrast: what runs in a worker.

A :class:`SubjectJob` holds everything a worker needs (paths, settings, contrasts) and
nothing it must share, so the same job gives the same bytes whether it runs in the
main process, in a local process pool or on a Dask worker. :func:`fit_subject` never
raises: failures, and the warnings raised while fitting, come back in the
:class:`JobResult` for the main process to log.

A subject is saved straight into the output folder by :func:`bidsglm.save_glm_to_bids`,
whose transaction makes it complete or absent, whatever kills the process, and
merges the shared files (``dataset_description.json``, ``.bidsignore``) under a lock:
any number of processes may save different subjects into one folder. The job holds
its model's lock from the check "already saved?" to the end of the save, so two runs
of one subject take turns: the second finds the subject saved (and keeps it) or,
with ``--overwrite``, replaces it whole.
"""

from __future__ import annotations

import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import nibabel as nib
import numpy as np
import pandas as pd

from bidsglm._save import save_glm_to_bids
from bidsglm.bids.entities import parse_bids_name
from bidsglm.bids.labels import contrast_label
from bidsglm.bids.manifest import complete_model_files
from bidsglm.bids.transaction import model_lock
from bidsglm.models import FirstLevelModel, SecondLevelModel

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import PurePosixPath

    from bidsglm.dataset.discovery import RunInputs

__all__ = [
    'FirstLevelSettings',
    'GroupJob',
    'JobResult',
    'SubjectJob',
    'fit_group',
    'fit_subject',
    'intersect_masks',
    'is_saved',
    'read_confounds',
    'read_events',
]


@dataclass(frozen=True)
class FirstLevelSettings:
    """The first-level model's parameters chosen from the options or the model file."""

    hrf_model: str = 'glover'
    fir_delays: tuple[int, ...] = (0,)
    noise_model: str = 'ar1'
    high_pass: float = 0.01
    smoothing_fwhm: float | None = None


@dataclass(frozen=True)
class SubjectJob:
    """One subject to fit and save.

    Parameters
    ----------
    subject : str
        The label.
    runs : tuple of RunInputs
        Its runs.
    trial_types : tuple of str or None
        The conditions to model (None: every ``trial_type`` of the events).
    confounds : tuple of str
        The confound columns to add.
    contrasts : tuple of (str, str)
        Name and expression of each contrast.
    contrast_types : tuple of (str, str)
        Name and test (``'t'`` or ``'F'``).
    settings : FirstLevelSettings
        The model's parameters.
    out_dir : pathlib.Path
        The output folder.
    statmap : PurePosixPath
        Where the model's ``statmap.json`` goes, relative to ``out_dir`` (the key of
        its lock and manifest).
    overwrite : bool
        Fit and save the subject even when its model is saved already.
    """

    subject: str
    runs: tuple[RunInputs, ...]
    trial_types: tuple[str, ...] | None
    confounds: tuple[str, ...]
    contrasts: tuple[tuple[str, str], ...]
    contrast_types: tuple[tuple[str, str], ...]
    settings: FirstLevelSettings
    out_dir: Path
    statmap: PurePosixPath
    overwrite: bool = False

    @property
    def name(self) -> str:
        """``sub-<label>``."""
        return f'sub-{self.subject}'


@dataclass(frozen=True)
class GroupJob:
    """One first-level contrast to fit across subjects and save.

    Parameters
    ----------
    label : str
        The first-level contrast's label.
    inputs : pandas.DataFrame
        ``subject_label``, ``map_name`` and ``effects_map_path``, one row per subject.
    masks : tuple of pathlib.Path
        The subjects' masks; the group mask is where all of them are.
    covariates : pandas.DataFrame or None
        ``subject_label`` and one column per covariate.
    contrasts : tuple of (str, str)
        Name and expression over the group design's columns.
    contrast_types : tuple of (str, str)
        Name and test.
    out_dir : pathlib.Path
        The output folder.
    prefix : str
        The entities of every file name (``task-x_space-y_desc-<label>``).
    """

    label: str
    inputs: pd.DataFrame = field(repr=False)
    masks: tuple[Path, ...]
    covariates: pd.DataFrame | None = field(repr=False)
    contrasts: tuple[tuple[str, str], ...]
    contrast_types: tuple[tuple[str, str], ...]
    out_dir: Path
    prefix: str

    @property
    def name(self) -> str:
        """``contrast-<label>``."""
        return f'contrast-{self.label}'


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
    """

    name: str
    ok: bool
    message: str
    seconds: float
    warnings: tuple[str, ...] = ()


def read_events(path: Path, trial_types: Sequence[str] | None) -> pd.DataFrame | str:
    """Return the events path, or the table restricted to ``trial_types``."""
    if trial_types is None:
        return str(path)
    table = pd.read_csv(path, sep='\t', na_values=['n/a'], keep_default_na=False)
    if 'trial_type' not in table:
        return table
    return table[table['trial_type'].astype(str).isin(trial_types)].reset_index(drop=True)


def read_confounds(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """Read the chosen confound columns; a missing first row becomes 0, as in nilearn.

    fMRIPrep leaves the first row of derivatives (``framewise_displacement``,
    ``*_derivative1``) empty; missing values anywhere else are an error.
    """
    table = pd.read_csv(path, sep='\t', na_values=['n/a'], usecols=list(columns))
    table = table[list(columns)].astype(np.float64)
    table.iloc[0] = table.iloc[0].fillna(0.0)
    missing = table.columns[table.isna().any()].tolist()
    if missing:
        msg = (
            f'The confound columns {missing} of {path.name} have missing values after '
            'the first row. Choose other columns.'
        )
        raise ValueError(msg)
    return table


def intersect_masks(paths: Sequence[Path]) -> nib.Nifti1Image | str | None:
    """Return the voxels inside every mask (the path itself when there is one)."""
    if not paths:
        return None
    if len(paths) == 1:
        return str(paths[0])
    images = [cast('nib.Nifti1Image', nib.load(path)) for path in paths]
    inside = np.ones(images[0].shape[:3], dtype=np.bool_)
    for image in images:
        inside &= np.asanyarray(image.dataobj).reshape(inside.shape) != 0
    return nib.Nifti1Image(inside.astype(np.uint8), images[0].affine)


def _subject_model(job: SubjectJob) -> FirstLevelModel:
    """Fit the subject's runs."""
    runs = job.runs
    masks = [run.mask for run in runs if run.mask is not None]
    settings = job.settings
    model = FirstLevelModel(
        t_r=runs[0].repetition_time,
        slice_time_ref=runs[0].slice_time_ref,
        hrf_model=settings.hrf_model,
        fir_delays=settings.fir_delays,
        high_pass=settings.high_pass,
        noise_model=settings.noise_model,
        smoothing_fwhm=settings.smoothing_fwhm,
        mask_img=intersect_masks(masks) if len(masks) == len(runs) else None,
        subject_label=job.subject,
    )
    events = [read_events(run.events, job.trial_types) for run in runs if run.events]
    confounds = (
        [read_confounds(run.confounds, job.confounds) for run in runs if run.confounds]
        if job.confounds
        else None
    )
    return model.fit([str(run.bold) for run in runs], events=events, confounds=confounds)


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


def _save_subject(job: SubjectJob) -> str:
    """Fit and save the subject unless another run saved it meanwhile; say what was done."""
    with model_lock(job.out_dir, job.statmap):
        names = [name for name, _ in job.contrasts]
        if not job.overwrite and is_saved(job.out_dir, job.statmap, names):
            return 'saved meanwhile by another bidsglm run: kept (--overwrite fits it again)'
        model = _subject_model(job)
        saved = save_glm_to_bids(
            model, dict(job.contrasts), dict(job.contrast_types), out_dir=job.out_dir
        )
    n_files = sum(len(f.relative_to(job.out_dir).parts) > 1 for f in saved.files)
    return f'{len(job.runs)} runs, {len(job.contrasts)} contrasts, {n_files} files'


def _run_job(name: str, work: Callable[[], str]) -> JobResult:
    """Run ``work``, timing it and recording its warnings; never raise."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            message = work()
            ok = True
        except Exception as error:  # one failure must not stop the others
            last = traceback.extract_tb(error.__traceback__)[-1]
            where = f' ({Path(last.filename).name}:{last.lineno})'
            message, ok = f'{type(error).__name__}: {error}{where}', False
    seen = tuple(dict.fromkeys(str(w.message) for w in caught))
    return JobResult(name, ok, message, time.perf_counter() - start, seen)


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
    mask = intersect_masks(job.masks)
    model = SecondLevelModel(mask_img=mask)
    return model.fit(job.inputs, confounds=job.covariates)


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
        saved = save_glm_to_bids(
            model,
            dict(job.contrasts),
            dict(job.contrast_types),
            out_dir=job.out_dir,
            prefix=job.prefix,
        )
        return f'{len(job.inputs)} subjects, {len(saved.files)} files'

    return _run_job(job.name, work)


def describe(value: Any) -> str:  # noqa: ANN401 - any value a log line shows
    """Return a short text for a log line (lists shortened)."""
    if isinstance(value, (list, tuple)) and len(value) > 8:
        return f'{list(value[:8])} and {len(value) - 8} more'
    return str(list(value) if isinstance(value, tuple) else value)
