"""nilearn's ``first_level_from_bids``, on bidsglm's own discovery of a dataset.

:func:`first_level_from_bids` has nilearn 0.14.1's parameters, defaults and return
value: one unfitted :class:`~bidsglm.FirstLevelModel` per subject (its
``subject_label`` set) and, for each, the list of its runs' images, events tables
and confounds tables, ready for ``models[i].fit(imgs[i], events[i], confounds[i])``.
The files are found by :func:`~bidsglm.dataset.discovery.discover_runs`, the walker
the command line uses, so a dataset gives the same runs here and there.

On an fMRIPrep-style dataset whose runs share one repetition time and ``StartTime``,
the subjects, runs, tables and model parameters are nilearn's, and so are the fitted
numbers (``tests/compat/test_first_level_from_bids.py``). Where we differ, on purpose:

* **Timing per subject.** nilearn reads one ``RepetitionTime`` and one ``StartTime``
  for the whole dataset; here each subject's runs give its own (a subject whose runs
  disagree is refused, naming it), and ``slice_time_ref = StartTime /
  RepetitionTime`` is checked to lie in [0, 1] rather than asserted.
* **Each subject's own mask.** With ``mask_img='derivatives'``, nilearn 0.14.1
  gives every subject after the first the first subject's mask (it rebinds the
  argument inside its loop); here each subject gets the voxels inside all of its
  runs' masks (nilearn keeps those inside more than half of them, which is the
  same for one or two runs).
* **Errors before any work, in the caller's words.** An unknown task, space or
  subject, a missing derivatives folder, a run without events: each is one
  :class:`~bidsglm.errors.BidsGlmError` naming what exists and the parameter to
  change. nilearn warns and drops an unknown entry of ``sub_labels``; we refuse it.
* **Which space.** Without ``space_label``, nilearn assumes
  ``MNI152NLin2009cAsym``; here that space is chosen when the data has it, and
  otherwise the data's only space (a dataset without ``space-`` entities works).
* **Tables read as BIDS says.** Only ``n/a`` and empty cells are missing values
  (pandas would also drop a condition named ``NULL`` or ``NA``).
* **Speed.** The dataset is listed once, not globbed per subject and per file kind,
  and only missing values are set in the confounds' first row: on 100 subjects of 2
  runs, 1.4 s against nilearn's 2.9 s (best of 3 on a busy 2-core machine; most of
  ours is pandas reading the 400 tables).

**Surface spaces.** ``space_label='fsaverage5'`` (or any space of GIFTI runs:
``fsaverage``, ``fsaverage6``, ``fsnative``) gives each run as its two
hemispheres' files, and ``space_label='fsLR'`` (``img_filters=[('den', '91k')]`` to
choose a density) its CIFTI-2 ``.dtseries.nii`` file, which nilearn cannot read:

* nilearn 0.14.1 reads GIFTI runs only for ``'fsaverage5'`` (and, through a
  substring test, for ``'fsaverage'``), and returns each run as a ``SurfaceImage``
  on its own fsaverage5 pial mesh, its data read into memory. bidsglm never imports
  nilearn: a run is ``{'left': path, 'right': path}``, the form
  :class:`~bidsglm.FirstLevelModel` fits, :func:`bidsglm.save_glm_to_bids` names its
  outputs from (``hemi-L``/``hemi-R``, ``space-fsaverage5``) and the report finds
  meshes beside (:mod:`bidsglm.report.mesh_search`). The subjects, events,
  confounds, timing and fitted numbers are nilearn's.
* ``mask_img='derivatives'`` gives surface runs no mask (fMRIPrep writes none for
  them, and nilearn leaves it None too): each model keeps the data's own, every
  vertex with data.

Not supported: nilearn's confound strategies (``confounds_strategy`` other than
None), refused with what to do instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bidsglm.dataset.design import read_bids_tsv
from bidsglm.dataset.discovery import OptionNames, Query, RunInputs, discover_runs
from bidsglm.dataset.masks import intersect_masks
from bidsglm.errors import (
    InputNotFoundError,
    InvalidParameterError,
    ParameterTypeError,
    warn_caller,
)
from bidsglm.models import FirstLevelModel

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pandas as pd

__all__ = ['first_level_from_bids']

#: nilearn's space when ``space_label`` is None.
NILEARN_SPACE = 'MNI152NLin2009cAsym'
#: The entities ``img_filters`` may select on (nilearn's raw and derivative entities
#: of functional files, less those chosen by their own parameter).
FILTER_ENTITIES = ('ses', 'acq', 'ce', 'rec', 'dir', 'run', 'echo', 'part', 'res', 'den', 'desc')
#: Entities that have their own parameter.
OWN_PARAMETER = {'sub': 'sub_labels', 'task': 'task_label', 'space': 'space_label'}
#: How this function's errors name the choices to change.
PARAMETER_NAMES = OptionNames(
    task='task_label',
    space='space_label',
    subjects='sub_labels (or exclude_subjects)',
    derivatives='derivatives_folder',
    resolution="space_label='{space}' with img_filters=[('res', '{res}')]",
)


# ---------------------------------------------------------------- arguments
def _label(value: object, name: str) -> str:
    """Return a BIDS label (letters and digits), or explain what is wrong with it."""
    if not isinstance(value, str):
        msg = f"The '{name}' parameter must be a str. Got {value!r} instead."
        raise ParameterTypeError(msg)
    if not value or not value.isalnum():
        msg = (
            f"The '{name}' parameter must be a BIDS label (letters and digits only, as in "
            f"the file names' '-<label>'). Got {value!r} instead."
        )
        raise InvalidParameterError(msg)
    return value


def _subject_labels(values: object, name: str) -> tuple[str, ...] | None:
    """Return subject labels without ``sub-`` (None stays None)."""
    if values is None:
        return None
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        msg = f"The '{name}' parameter must be a list of str, e.g. ['01', '02']. Got {values!r}."
        raise ParameterTypeError(msg)
    return tuple(_label(v.removeprefix('sub-') if isinstance(v, str) else v, name) for v in values)


def _filters(img_filters: object) -> dict[str, str]:
    """Return ``img_filters`` as ``{entity: label}``, refusing what cannot select runs."""
    if img_filters is None:
        return {}
    if not isinstance(img_filters, (list, tuple)):
        msg = f"'img_filters' must be a list of (entity, label) pairs. Got {img_filters!r}."
        raise ParameterTypeError(msg)
    chosen: dict[str, str] = {}
    for pair in img_filters:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            msg = f'Each filter of img_filters must be (str, str). Got {pair!r} instead.'
            raise ParameterTypeError(msg)
        entity, label = pair
        if entity in OWN_PARAMETER:
            msg = f'Give the {entity!r} label with {OWN_PARAMETER[entity]}, not img_filters.'
            raise InvalidParameterError(msg)
        if entity not in FILTER_ENTITIES or entity in chosen:
            why = (
                'is given twice' if entity in chosen else f'is not one of {list(FILTER_ENTITIES)}'
            )
            msg = f'The entity {entity!r} of img_filters {why}.'
            raise InvalidParameterError(msg)
        chosen[entity] = _label(label, f'img_filters {entity!r}')
    return chosen


def _loads_confounds(options: Mapping[str, Any]) -> bool:
    """Tell whether to return the confounds (nilearn's ``confounds_strategy=None``: no)."""
    unknown = sorted(k for k in options if not k.startswith('confounds_'))
    if unknown:
        msg = (
            f'Unknown keyword arguments {unknown}: besides the FirstLevelModel parameters, '
            "first_level_from_bids only takes nilearn's 'confounds_...' options."
        )
        raise ParameterTypeError(msg)
    if not options:
        return True
    if options.get('confounds_strategy', 'given') is None and len(options) == 1:
        return False
    msg = (
        f"nilearn's confound strategies ({sorted(options)}) are not supported. Get all "
        'the columns (no confounds_ option) and select some from each table, e.g. '
        "[[c[['trans_x', 'trans_y']] for c in runs] for runs in confounds]; or pass "
        'confounds_strategy=None for no confounds.'
    )
    raise InvalidParameterError(msg)


def _check_timing(t_r: float | None, slice_time_ref: float | None) -> None:
    if t_r is not None and not (isinstance(t_r, (int, float)) and t_r > 0):
        msg = f"The 't_r' parameter must be a float in (0, inf) or None. Got {t_r!r} instead."
        raise InvalidParameterError(msg)
    if slice_time_ref is not None and not (
        isinstance(slice_time_ref, (int, float)) and 0 <= slice_time_ref <= 1
    ):
        msg = (
            "The 'slice_time_ref' parameter must be a float in [0, 1] or None. Got "
            f'{slice_time_ref!r} instead.'
        )
        raise InvalidParameterError(msg)


def _derivatives(dataset_path: Path, derivatives_folder: str | os.PathLike[str]) -> Path:
    """Return the preprocessed data's folder: the one given, or the fMRIPrep folder in it.

    nilearn's default, ``'derivatives'``, holds the subjects only when the pipeline
    wrote there directly; a folder that holds no ``sub-*`` folder but one
    ``fmriprep*`` folder stands for that one.
    """
    if not dataset_path.is_dir():
        msg = f"The dataset folder {str(dataset_path)!r} does not exist. Check 'dataset_path'."
        raise InputNotFoundError(msg)
    folder = dataset_path / derivatives_folder
    if not folder.is_dir():
        msg = (
            f'No derivatives folder {str(folder)!r}. Give the folder of the preprocessed '
            "data, relative to dataset_path, as derivatives_folder (e.g. 'derivatives/fmriprep')."
        )
        raise InputNotFoundError(msg)
    pipelines = [p for p in folder.glob('fmriprep*') if p.is_dir()]
    if any(folder.glob('sub-*')) or len(pipelines) != 1:
        return folder
    return pipelines[0]


def _query(
    task_label: str,
    space_label: str | None,
    sub_labels: Sequence[str] | None,
    exclude_subjects: Sequence[str] | None,
    img_filters: object,
) -> Query:
    """Return what to look for, from nilearn's parameters."""
    filters = _filters(img_filters)
    space = None if space_label is None else _label(space_label, 'space_label')
    if 'res' in filters:
        space = f'{space or NILEARN_SPACE}:res-{filters.pop("res")}'
    return Query(
        task=_label(task_label, 'task_label'),
        space=space,
        subjects=_subject_labels(sub_labels, 'sub_labels'),
        excluded=_subject_labels(exclude_subjects, 'exclude_subjects') or (),
        filters={key: (label,) for key, label in filters.items() if key != 'desc'},
        desc=filters.get('desc', 'preproc'),
        default_space=NILEARN_SPACE,
        names=PARAMETER_NAMES,
    )


# ------------------------------------------------------------------- timing
def _warn_if_different(given: float | None, found: set[float], name: str, where: str) -> None:
    """Warn when a value given differs from what the data says (the given one is used)."""
    if given is not None and found != {given}:
        message = (
            f'{name}={given} is given, but {where} says {sorted(found)}: {given} is used. '
            'Check it, or leave it None to read it from the data.'
        )
        warn_caller(message, RuntimeWarning)


def _timing(
    runs: Sequence[RunInputs], t_r: float | None, slice_time_ref: float | None
) -> tuple[float, float]:
    """Return a subject's repetition time and slice timing reference (given ones win)."""
    used_t_r = runs[0].repetition_time if t_r is None else t_r
    if slice_time_ref is not None:
        return used_t_r, slice_time_ref
    found = runs[0].start_time / used_t_r
    if not 0 <= found <= 1:
        msg = (
            f'StartTime {runs[0].start_time} s lies outside the repetition time {used_t_r} s '
            f'given as t_r, for sub-{runs[0].subject}. Check t_r, or give slice_time_ref.'
        )
        raise InvalidParameterError(msg)
    return used_t_r, found


# ------------------------------------------------------------------- tables
def _events(runs: Sequence[RunInputs]) -> list[pd.DataFrame]:
    return [read_bids_tsv(run.events) for run in runs if run.events is not None]


def _confounds(runs: Sequence[RunInputs]) -> list[pd.DataFrame] | None:
    """Read every column of each run's confounds; None when no run has a table.

    Missing values in the first row (derivatives of motion) become 0, as nilearn does.
    """
    missing = [run.name for run in runs if run.confounds is None]
    if len(missing) == len(runs):
        return None
    if missing:
        msg = (
            f'No confounds table (*_desc-confounds_timeseries.tsv) for {missing}, while the '
            f'other runs of sub-{runs[0].subject} have one. Add it, or pass '
            'confounds_strategy=None to model without confounds.'
        )
        raise InputNotFoundError(msg)
    tables = [read_bids_tsv(run.confounds) for run in runs if run.confounds is not None]
    for table in tables:
        first_row_gaps = np.flatnonzero(table.iloc[0].isna().to_numpy())
        if first_row_gaps.size:
            table.iloc[0, first_row_gaps] = 0.0
    return tables


def _subject_mask(runs: Sequence[RunInputs]) -> Any:  # noqa: ANN401 - an image, a path or None
    """Return the voxels inside every run's ``desc-brain`` mask, warning about runs without."""
    no_mask = [run.name for run in runs if run.mask is None]
    if no_mask:
        warn_caller(
            f"mask_img='derivatives': no brain mask for {no_mask}; the mask of "
            f"sub-{runs[0].subject} is made of the other runs' masks (or computed from "
            'the data when none has one).'
        )
    return intersect_masks([run.mask for run in runs if run.mask is not None])


def _by_subject(runs: Sequence[RunInputs]) -> dict[str, list[RunInputs]]:
    found: dict[str, list[RunInputs]] = {}
    for run in runs:
        found.setdefault(run.subject, []).append(run)
    return dict(sorted(found.items()))


def _discover(
    dataset_path: Path, derivatives_folder: str | os.PathLike[str], query: Query
) -> tuple[RunInputs, ...]:
    """Return the runs to model, or explain why there are none."""
    derivatives = _derivatives(dataset_path, derivatives_folder)
    runs = discover_runs(dataset_path, derivatives, query)
    if not runs:
        msg = (
            f'exclude_subjects {list(query.excluded)} leaves no subject to model in '
            f'{str(derivatives)!r}. Exclude fewer.'
        )
        raise InputNotFoundError(msg)
    return runs


def _warn_if_given_differs(
    runs: Sequence[RunInputs], t_r: float | None, slice_time_ref: float | None
) -> None:
    """Warn once when a given ``t_r`` or ``slice_time_ref`` differs from the data's."""
    _warn_if_different(t_r, {r.repetition_time for r in runs}, 't_r', 'RepetitionTime')
    found = {r.start_time / (t_r or r.repetition_time) for r in runs}
    _warn_if_different(slice_time_ref, found, 'slice_time_ref', 'StartTime / t_r')


@dataclass(frozen=True)
class _ModelRecipe:
    """How each subject's model is made: given timing and mask, and the other parameters."""

    t_r: float | None
    slice_time_ref: float | None
    mask_img: Any
    parameters: dict[str, Any]

    def model(self, runs: Sequence[RunInputs]) -> FirstLevelModel:
        """Return the unfitted model of one subject's runs."""
        t_r, slice_time_ref = _timing(runs, self.t_r, self.slice_time_ref)
        derived = isinstance(self.mask_img, str) and self.mask_img == 'derivatives'
        mask_img = self.mask_img
        if derived:  # surface runs have no derivatives mask: the data's own is used
            mask_img = _subject_mask(runs) if runs[0].kind == 'volume' else None
        return FirstLevelModel(
            t_r=t_r,
            slice_time_ref=slice_time_ref,
            mask_img=mask_img,
            subject_label=runs[0].subject,
            **self.parameters,
        )


# ---------------------------------------------------------------- the entry
def first_level_from_bids(  # noqa: PLR0913, PLR0917 - nilearn's signature, name for name
    dataset_path: str | os.PathLike[str],
    task_label: str,
    space_label: str | None = None,
    sub_labels: Sequence[str] | None = None,
    exclude_subjects: Sequence[str] | None = None,
    img_filters: Sequence[tuple[str, str]] | None = None,
    t_r: float | None = None,
    slice_time_ref: float | None = None,
    hrf_model: str | None = 'glover',
    drift_model: str | None = 'cosine',
    high_pass: float = 0.01,
    drift_order: int = 1,
    fir_delays: Sequence[int] | None = None,
    min_onset: float = -24,
    mask_img: Any = None,  # noqa: ANN401 - what FirstLevelModel takes, or 'derivatives'
    target_affine: Any = None,  # noqa: ANN401 - forwarded to FirstLevelModel
    target_shape: tuple[int, int, int] | None = None,
    smoothing_fwhm: float | None = None,
    memory: Any = None,  # noqa: ANN401 - forwarded to FirstLevelModel
    memory_level: int = 1,
    standardize: bool | str | None = False,
    signal_scaling: int | tuple[int, int] | bool = 0,
    noise_model: str = 'ar1',
    verbose: int = 0,
    n_jobs: int = 1,
    minimize_memory: bool = True,
    derivatives_folder: str | os.PathLike[str] = 'derivatives',
    **kwargs: Any,  # noqa: ANN401 - nilearn's confounds_ options
) -> tuple[
    list[FirstLevelModel], list[list[str | dict[str, str]]], list[list[pd.DataFrame]], list[Any]
]:
    """Make one unfitted model per subject, and its runs' images, events and confounds.

    nilearn 0.14.1's function of the same name, parameter for parameter, on
    bidsglm's discovery (the command line's): the preprocessed BOLD runs
    (``*_desc-preproc_bold.nii[.gz]``, or in a surface space fMRIPrep's
    ``hemi-L``/``hemi-R`` ``*_bold.func.gii`` pairs and ``*_bold.dtseries.nii``) are
    read from ``derivatives_folder``, the events from the raw dataset (BIDS
    inheritance), the confounds beside the runs, ``RepetitionTime`` and
    ``StartTime`` from the sidecars.

    Parameters
    ----------
    dataset_path : str or path-like
        The raw BIDS dataset.
    task_label : str
        The task (``task-<label>`` in the file names).
    space_label : str, optional
        The runs' space (``space-<label>``). None: ``MNI152NLin2009cAsym`` when the
        data has it (nilearn's default), else the data's only space. A surface
        space gives GIFTI runs (``'fsaverage5'``, ``'fsaverage'``, ``'fsnative'``) or
        CIFTI-2 runs (``'fsLR'``).
    sub_labels : list of str, optional
        The subjects to model (``'01'`` or ``'sub-01'``); None: every subject with
        runs of the task.
    exclude_subjects : list of str, optional
        Subjects to leave out.
    img_filters : list of (str, str), optional
        More entities the runs must have, e.g. ``[('acq', 'mb4'), ('run', '2')]``;
        one of ``ses, acq, ce, rec, dir, run, echo, part, res, den, desc``.
        ``('desc', label)`` replaces the default ``preproc``.
    t_r : float, optional
        The repetition time in seconds; None: each subject's ``RepetitionTime``.
        A value that differs from the data's is used, with a warning.
    slice_time_ref : float, optional
        The slice timing reference, a fraction of the repetition time; None:
        ``StartTime / RepetitionTime`` of each subject's runs (0 without
        ``StartTime``). A value that differs from the data's is used.
    hrf_model, drift_model, high_pass, drift_order, fir_delays, min_onset : optional
        Passed to :class:`~bidsglm.FirstLevelModel`.
    mask_img : image, path, False, None or ``'derivatives'``, optional
        Passed to the models; ``'derivatives'``: each subject's mask is the voxels
        inside all of its runs' ``desc-brain`` masks (surface runs: None, the
        data's own).
    target_affine, target_shape, smoothing_fwhm, memory, memory_level : optional
        Passed to :class:`~bidsglm.FirstLevelModel`.
    standardize, signal_scaling, noise_model, verbose, n_jobs : optional
        Passed to :class:`~bidsglm.FirstLevelModel`.
    minimize_memory : bool, default=True
        Passed to :class:`~bidsglm.FirstLevelModel`.
    derivatives_folder : str, default='derivatives'
        The preprocessed data, relative to ``dataset_path``. When
        ``derivatives`` holds no ``sub-*`` folder, its only ``fmriprep*`` folder.
    **kwargs
        nilearn's ``confounds_*`` options: only ``confounds_strategy=None`` (no
        confounds) is supported; without any, every confound column is returned.

    Returns
    -------
    models : list of FirstLevelModel
        One per subject, sorted by label, unfitted, ``subject_label`` set.
    models_run_imgs : list of list of str or dict
        ``models_run_imgs[i][j]``: the path of subject ``i``'s run ``j`` (sorted by
        path: session, then run); for GIFTI runs ``{'left': path, 'right': path}``
        (nilearn gives a ``SurfaceImage``).
    models_events : list of list of pandas.DataFrame
        The events table of each of those runs.
    models_confounds : list of (list of pandas.DataFrame or None)
        Every column of each run's confounds table (missing values of the first row
        set to 0); None for a subject without confounds, or with
        ``confounds_strategy=None``.

    Raises
    ------
    InputNotFoundError
        No dataset or derivatives folder, no preprocessed run, a run without events.
    InvalidParameterError
        An unknown or ambiguous task, space or subject, a bad filter or value,
        runs of one subject with different timing.
    ParameterTypeError
        A parameter of the wrong type, an unknown keyword argument.

    Notes
    -----
    Differences from nilearn 0.14.1, on purpose (:mod:`bidsglm.dataset.from_bids`
    says why): the timing is read per subject, not once for the dataset; with
    ``mask_img='derivatives'`` each subject gets its own runs' masks (nilearn gives
    later subjects the first one's); unknown subjects are refused, not dropped with a
    warning; ``MNI152NLin2009cAsym`` is the default space only when the data has
    it; only ``n/a`` and empty cells are missing values in the tables; GIFTI runs
    are a dict of their hemispheres' paths rather than a ``SurfaceImage``, in any
    GIFTI space, and CIFTI-2 runs are read too. Confound strategies are not
    supported.

    Examples
    --------
    The Haxby et al. (2001) subject shipped with bidsglm:

    >>> from importlib.resources import files
    >>> haxby = files('bidsglm') / 'data' / 'haxby2001_sub1' / 'bids'
    >>> models, imgs, events, confounds = first_level_from_bids(
    ...     haxby, 'objectviewing', img_filters=[('acq', '25mm')],
    ...     derivatives_folder='derivatives/pymvpa')
    >>> models[0].subject_label, models[0].t_r, len(imgs[0])
    ('1', 2.5, 12)
    >>> sorted(events[0][0].trial_type.unique())[:3], confounds[0][0].shape
    (['bottle', 'cat', 'chair'], (121, 6))

    Then, as with nilearn: ``models[0].fit(imgs[0], events[0], confounds[0])``, and
    :func:`bidsglm.save_glm_to_bids` to save it.
    """
    _check_timing(t_r, slice_time_ref)
    loads_confounds = _loads_confounds(kwargs)
    query = _query(task_label, space_label, sub_labels, exclude_subjects, img_filters)
    runs = _discover(Path(dataset_path), derivatives_folder, query)
    _warn_if_given_differs(runs, t_r, slice_time_ref)
    recipe = _ModelRecipe(
        t_r,
        slice_time_ref,
        mask_img,
        {
            'hrf_model': hrf_model,
            'drift_model': drift_model,
            'high_pass': high_pass,
            'drift_order': drift_order,
            'fir_delays': fir_delays,
            'min_onset': min_onset,
            'target_affine': target_affine,
            'target_shape': target_shape,
            'smoothing_fwhm': smoothing_fwhm,
            'memory': memory,
            'memory_level': memory_level,
            'standardize': standardize,
            'signal_scaling': signal_scaling,
            'noise_model': noise_model,
            'verbose': verbose,
            'n_jobs': n_jobs,
            'minimize_memory': minimize_memory,
        },
    )
    subjects = _by_subject(runs).values()
    return (
        [recipe.model(subject_runs) for subject_runs in subjects],
        [[run.image for run in subject_runs] for subject_runs in subjects],
        [_events(subject_runs) for subject_runs in subjects],
        [_confounds(subject_runs) if loads_confounds else None for subject_runs in subjects],
    )
