"""What planning checks before any work, so that bad input exits 2 and nothing is fitted.

The command line plans the whole analysis first (:mod:`bidsglm.cli.run`); these
checks are its part that reads the inputs: contrast names the writer would refuse,
each run's files, confounds, events and design, every contrast on every run, and,
at the group level, the saved maps. Every message names the file, the column, the
condition or the contrast, and the way out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bidsglm.bids.entities import parse_bids_name
from bidsglm.bids.input_files import check_confounds_file, check_nifti_file, check_same_grid
from bidsglm.bids.labels import label_contrasts
from bidsglm.bids.layout import check_output_names
from bidsglm.bids.sidecars import STAT_OF_OUTPUT, stat_label
from bidsglm.design import check_events, make_first_level_design_matrix
from bidsglm.design.contrasts import parse_contrast_expression
from bidsglm.errors import (
    BidsGlmError,
    BidsNameError,
    ContrastError,
    EventsError,
    ImageDimensionError,
    InputNotFoundError,
    InvalidParameterError,
    ShapeMismatchError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path, PurePosixPath

    import pandas as pd

    from bidsglm.bids.layout import Layout
    from bidsglm.bids.reader import LoadedContrast, LoadedGlm
    from bidsglm.cli._work import FirstLevelSettings
    from bidsglm.dataset.discovery import RunInputs

__all__ = [
    'RunsPlan',
    'check_contrast_names',
    'check_enough_maps',
    'check_runs',
    'collect_contrast_maps',
]


@dataclass(frozen=True)
class RunsPlan:
    """What a subject's model holds, as far as checking its runs needs.

    Parameters
    ----------
    trial_types : tuple of str or None
        The modelled conditions (None: every ``trial_type`` of the events).
    confounds : tuple of str
        The confound columns.
    contrasts : tuple of (str, str)
        Name and expression of each contrast.
    conditions : tuple of str
        Every condition of the subject's events that the model uses.
    """

    trial_types: tuple[str, ...] | None
    confounds: tuple[str, ...]
    contrasts: tuple[tuple[str, str], ...]
    conditions: tuple[str, ...]


def _short(name: str, limit: int = 48) -> str:
    """Return the repr of a name for a message, its middle cut when it is long."""
    if len(name) <= limit:
        return repr(name)
    return repr(f'{name[: limit - 16]}...{name[-13:]}')


def _describe(values: Sequence[object]) -> str:
    """Return a list for a message, shortened after 8 items."""
    shown = [str(v) for v in values[:8]]
    return f'{shown} and {len(values) - 8} more' if len(values) > 8 else str(shown)


# ---------------------------------------------------------------- first level
def _contrast_paths(layout: Layout, label: str, n_designs: int) -> list[PurePosixPath]:
    """Return the files the writer names after one contrast: maps, sidecars, figures."""
    stats = {stat_label(output, test) for output in STAT_OF_OUTPUT for test in ('t', 'F')}
    paths = [
        layout.model_path({'contrast': label, 'stat': stat}, 'statmap', extension)
        for stat in sorted(stats)
        for extension in ('.nii.gz', '.json')
    ]
    paths += [layout.run_path(i, {'contrast': label}, 'design', '.svg') for i in range(n_designs)]
    return paths


def check_contrast_names(
    names: Sequence[str], layout: Layout, n_designs: int, names_from: str
) -> None:
    """Refuse, before any fit, the contrast names the writer would refuse after it.

    The same rules as the writer's: each name becomes a label by
    :func:`bidsglm.bids.labels.contrast_label`, labels equal up to case collide, and
    no file name may exceed 255 bytes. Repeated names are refused too (one would
    silently replace the other).

    Parameters
    ----------
    names : sequence of str
        The contrast names, as the model or the options give them.
    layout : Layout
        The names of the model's files.
    n_designs : int
        Its number of designs (runs; 1 at the group level).
    names_from : str
        Where the names come from and how to change them, ending every message.

    Raises
    ------
    BidsNameError
        Naming the contrast and what to change.
    """
    repeated = sorted({name for name in names if list(names).count(name) > 1})
    if repeated:
        msg = (
            f'The contrast name {_short(repeated[0])} is given twice: one would '
            f'replace the other. Give each contrast its own name. {names_from}'
        )
        raise BidsNameError(msg)
    try:
        labels = label_contrasts(names)
    except BidsNameError as error:
        msg = f'{error} {names_from}'
        raise BidsNameError(msg) from None
    for name, label in labels.items():
        try:
            check_output_names(_contrast_paths(layout, label, n_designs))
        except BidsNameError as error:
            msg = f'Cannot save the contrast {_short(name)}: {error} {names_from}'
            raise BidsNameError(msg) from None


def _without_subject(subject: str) -> str:
    """Say how to fit the others while one subject's inputs are being fixed."""
    return f'To fit the others without sub-{subject}, list them with --participant-label.'


def _run_volumes(run: RunInputs) -> int:
    """Check the run's image files are whole (header and data); return its volumes."""
    try:
        header = check_nifti_file(run.bold)
        if run.mask is not None:
            check_nifti_file(run.mask)
    except BidsGlmError as error:
        msg = f'{error} {_without_subject(run.subject)}'
        raise type(error)(msg) from error
    shape = header.get_data_shape()
    if len(shape) != 4:
        msg = (
            f'The preprocessed BOLD {str(run.bold)!r} has shape {shape}: a run must be '
            f'4D (x, y, z, time). {_without_subject(run.subject)}'
        )
        raise ImageDimensionError(msg)
    return int(shape[3])


def _run_events(run: RunInputs, trial_types: Sequence[str] | None) -> pd.DataFrame:
    """Read and check the run's events (those of the modelled conditions)."""
    assert run.events is not None
    try:
        events = check_events(run.events)
    except EventsError as error:
        msg = f'In the events file {str(run.events)!r}: {error}'
        raise EventsError(msg) from error
    if trial_types is not None:
        events = events[events['trial_type'].isin(trial_types)]
    return events


def _run_design(
    run: RunInputs,
    settings: FirstLevelSettings,
    trial_types: Sequence[str] | None,
    confounds: Sequence[str],
) -> pd.DataFrame:
    """Check the run's files and build its design (confounds as zeros; no data read)."""
    n_scans = _run_volumes(run)
    if confounds:
        assert run.confounds is not None
        try:
            check_confounds_file(run.confounds, confounds, n_scans)
        except BidsGlmError as error:
            msg = f'{error} {_without_subject(run.subject)}'
            raise type(error)(msg) from error
    design = make_first_level_design_matrix(
        (np.arange(n_scans) + run.slice_time_ref) * run.repetition_time,
        events=_run_events(run, trial_types),
        hrf_model=settings.hrf_model,
        high_pass=settings.high_pass,
        fir_delays=settings.fir_delays,
        add_regs=np.zeros((n_scans, len(confounds))) if confounds else None,
        add_reg_names=list(confounds) or None,
    )
    if n_scans <= design.shape[1]:
        msg = (
            f'The run {run.name} has {n_scans} volumes but its design has '
            f'{design.shape[1]} columns {_describe(list(design.columns))}: a GLM needs more '
            'volumes than columns. Check that the file holds the whole run, or model '
            f'fewer confounds. {_without_subject(run.subject)}'
        )
        raise ShapeMismatchError(msg)
    return design


def _unusable_columns(
    columns: Sequence[str], design: pd.DataFrame, confounds: Sequence[str]
) -> set[str]:
    """Return the columns of the subject's designs that this run cannot estimate.

    Those it lacks (a condition without events in it: nilearn's design lacks it too)
    and the condition columns that are zero throughout it (events outside the run).
    The confounds are zeros while planning, so they are left out.
    """
    present = [str(c) for c in design.columns]
    values = np.abs(design.to_numpy(dtype=np.float64))
    zero = values.max(axis=0) <= 1e-10 * values.max()
    empty = {c for c, is_zero in zip(present, zero, strict=True) if is_zero}
    return (set(columns) - set(present)) | (empty - set(confounds))


def _not_estimable(
    column: str, run: RunInputs, index: int, design: pd.DataFrame, conditions: Sequence[str]
) -> str:
    """Say why a column of another run's design cannot be estimated in this run."""
    events = run.events.name if run.events else run.name
    where = f'run {index + 1} of sub-{run.subject} ({events})'
    seconds = design.shape[0] * run.repetition_time
    if column not in conditions:
        state = 'is zero throughout' if column in design.columns else 'is not a column of'
        return f'The design column {column!r} {state} {where}'
    if column in design.columns:
        return f'Condition {column!r} has no events within the {seconds:g} s of {where}'
    return f'Condition {column!r} has no events in {where}'


def _weighted_columns(
    name: str, expression: str, columns: Sequence[str], subject: str
) -> list[str]:
    """Parse a contrast over the columns of all the subject's runs; return those it weights."""
    try:
        weights = np.atleast_2d(parse_contrast_expression(expression, columns))
    except BidsGlmError as error:
        msg = f'The contrast {name!r} does not fit the designs of sub-{subject}: {error}'
        raise type(error)(msg) from error
    return [columns[int(i)] for i in np.flatnonzero(np.any(weights != 0, axis=0))]


def _check_contrasts(
    runs: Sequence[RunInputs],
    designs: Sequence[pd.DataFrame],
    plan: RunsPlan,
) -> None:
    """Parse every contrast; refuse one that weights a column some run cannot estimate."""
    columns = list(dict.fromkeys(str(c) for design in designs for c in design.columns))
    unusable = [_unusable_columns(columns, design, plan.confounds) for design in designs]
    for name, expression in plan.contrasts:
        weighted = _weighted_columns(name, expression, columns, runs[0].subject)
        for index, (run, design) in enumerate(zip(runs, designs, strict=True)):
            bad = [column for column in weighted if column in unusable[index]]
            if not bad:
                continue
            reason = _not_estimable(bad[0], run, index, design, plan.conditions)
            shown = name if expression.strip('`') == name else f'{name} = {expression}'
            msg = (
                f'{reason}, so the contrast {shown!r}, which weights it, cannot be '
                'estimated there. Leave it out of the contrast, or add its events to that '
                f'run. {_without_subject(run.subject)}'
            )
            raise ContrastError(msg)


def check_runs(runs: Sequence[RunInputs], plan: RunsPlan, settings: FirstLevelSettings) -> None:
    """Check one subject's runs before any fit: files, confounds, events, designs, contrasts.

    Each run's BOLD and mask must be whole NIfTI files, 4D for the BOLD, on one grid;
    its chosen confound columns numbers, one row per volume; its events valid; its
    design (built from the events, the confounds as zeros: no image data is read)
    must have fewer columns than the run has volumes; every contrast must parse over
    the subject's columns and weight none that a run cannot estimate.

    Parameters
    ----------
    runs : sequence of RunInputs
        The subject's runs.
    plan : RunsPlan
        What the model holds.
    settings : FirstLevelSettings
        The model's parameters.

    Raises
    ------
    BidsGlmError
        Naming the file (and the column, the condition or the run) and the way out.
    """
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the fit warns about the designs, once
        designs = [_run_design(run, settings, plan.trial_types, plan.confounds) for run in runs]
    try:
        check_same_grid([*(run.bold for run in runs), *(run.mask for run in runs if run.mask)])
    except BidsGlmError as error:
        msg = f'{error} {_without_subject(runs[0].subject)}'
        raise type(error)(msg) from error
    _check_contrasts(runs, designs, plan)


# ---------------------------------------------------------------- group level
def _missing_effect_map(contrast: LoadedContrast) -> Path:
    """Return where the effect map of a saved contrast should be, from its other maps."""
    some = next(iter(contrast.maps.values()))
    stat = parse_bids_name(some).entities['stat']
    return some.with_name(some.name.replace(f'_stat-{stat}_', '_stat-effect_', 1))


def collect_contrast_maps(
    label: str, saved: Sequence[tuple[str, LoadedGlm]]
) -> list[tuple[str, LoadedContrast]]:
    """Return each subject that saved this contrast, with its maps.

    Parameters
    ----------
    label : str
        The first-level contrast's label.
    saved : sequence of (str, LoadedGlm)
        Each subject and its saved model.

    Returns
    -------
    list of (str, LoadedContrast)
        The subjects that have the contrast.

    Raises
    ------
    InputNotFoundError
        If a subject's contrast lacks its effect map, naming the missing file.
    """
    rows = [
        (subject, glm.contrast(label))
        for subject, glm in saved
        if label in {c.label for c in glm.contrasts}
    ]
    for subject, contrast in rows:
        if 'effect' not in contrast.maps:
            msg = (
                f'The first-level results of sub-{subject} lack the effect map of the '
                f'contrast {label!r}: {str(_missing_effect_map(contrast))!r} is missing. '
                f'Fit sub-{subject} again (participant --participant-label {subject} '
                '--overwrite, with the same options).'
            )
            raise InputNotFoundError(msg)
    return rows


def check_enough_maps(rows_by_label: Mapping[str, Sequence[tuple[str, LoadedContrast]]]) -> None:
    """Refuse a group model of fewer than 2 maps: it has no degrees of freedom.

    Parameters
    ----------
    rows_by_label : mapping of str to sequence of (str, LoadedContrast)
        The subjects of each first-level contrast.

    Raises
    ------
    InvalidParameterError
        Naming a contrast with fewer than 2 subjects, and how many others.
    """
    few = {label: [s for s, _ in rows] for label, rows in rows_by_label.items() if len(rows) < 2}
    if few:
        label, subjects = next(iter(few.items()))
        n_others = len(few) - 1
        others = f' (and {n_others} other contrast{"s" if n_others > 1 else ""})'
        others = others if n_others else ''
        msg = (
            f'A group model needs at least 2 input maps, but only sub-{subjects[0]} saved '
            f'the contrast {label!r}{others}. Run the participant level for more subjects '
            'into this OUTPUT_DIR first.'
        )
        raise InvalidParameterError(msg)
