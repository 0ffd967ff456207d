"""One run's files, checked, and its design: what planning and fitting both read.

Planning calls :func:`checked_design` on every run before any fit, so a damaged
file, a malformed table or a design that cannot be fitted exits 2 with a message
naming the file; the worker that fits the run calls :func:`load_design`, the same
recipe without the checks, and gets the same design.
"""

from __future__ import annotations

import fnmatch
import warnings
from typing import TYPE_CHECKING, Any, cast

import nibabel as nib
import numpy as np

from bidsglm.bids.input_files import check_confounds_file, check_nifti_file
from bidsglm.dataset.design import RunDesign, read_bids_tsv, run_design
from bidsglm.dataset.discovery import read_tsv_header
from bidsglm.dataset.transformations import RunTiming
from bidsglm.design import check_events
from bidsglm.errors import (
    BidsGlmError,
    EventsError,
    ImageDimensionError,
    ShapeMismatchError,
)
from bidsglm.models.surface import surface_shape

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pandas as pd

    from bidsglm.dataset.design import DesignSpec
    from bidsglm.dataset.discovery import RunInputs

__all__ = [
    'checked_design',
    'load_design',
    'not_estimable',
    'run_timing',
    'surface_run_shape',
    'unusable_columns',
    'without_subject',
]


def without_subject(subject: str) -> str:
    """Say how to fit the others while one subject's inputs are being fixed."""
    return f'To fit the others without sub-{subject}, list them with --participant-label.'


def _with_hint(error: BidsGlmError, run: RunInputs) -> BidsGlmError:
    return type(error)(f'{error} {without_subject(run.subject)}')


def surface_run_shape(run: RunInputs) -> tuple[int, int]:
    """Check a surface run's files; return its time points and vertices.

    Raises
    ------
    BidsGlmError
        For hemispheres of different run lengths, a CIFTI-2 file whose axes are not
        a series then brain models, a GIFTI file without time points..., naming the
        run and how to fit the other subjects.
    """
    try:
        shape = surface_shape(run.image, f'The surface run {run.name}')
        if run.kind == 'CIFTI-2':
            _check_cifti_size(run.bold)
    except BidsGlmError as error:
        raise _with_hint(error, run) from error
    return shape


def _check_cifti_size(path: Path) -> None:
    """Refuse a CIFTI-2 file shorter than its header announces (its data are not read)."""
    proxy: Any = cast('nib.Cifti2Image', nib.load(path)).dataobj  # an ArrayProxy
    expected = int(proxy.offset) + int(np.prod(proxy.shape)) * np.dtype(proxy.dtype).itemsize
    stored = path.stat().st_size
    if stored < expected:
        msg = (
            f'The CIFTI-2 file {str(path)!r} is truncated: it holds {stored} bytes where '
            f'its header announces {expected} (shape {tuple(proxy.shape)}). Write it again.'
        )
        raise ImageDimensionError(msg)


def run_volumes(run: RunInputs) -> int:
    """Check the run's image files are whole (header and data); return its volumes."""
    if run.kind != 'volume':
        return surface_run_shape(run)[0]
    try:
        header = check_nifti_file(run.bold)
        if run.mask is not None:
            check_nifti_file(run.mask)
    except BidsGlmError as error:
        raise _with_hint(error, run) from error
    shape = header.get_data_shape()
    if len(shape) != 4:
        msg = (
            f'The preprocessed BOLD {str(run.bold)!r} has shape {shape}: a run must be '
            f'4D (x, y, z, time). {without_subject(run.subject)}'
        )
        raise ImageDimensionError(msg)
    return int(shape[3])


def run_timing(run: RunInputs, n_volumes: int) -> RunTiming:
    """Return the run's clock: its volumes, repetition time and ``StartTime``."""
    return RunTiming(n_volumes, run.repetition_time, run.start_time)


def _tables(run: RunInputs, spec: DesignSpec) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Read the run's events, and the confounds columns the node may use.

    Without transformations, only the columns ``X`` selects are read (none: no
    confounds table at all); transformations may use any column.
    """
    events = read_bids_tsv(run.events) if run.events is not None else None
    if run.confounds is None:
        return events, None
    if spec.transformations is not None:
        return events, read_bids_tsv(run.confounds)
    columns = _confound_columns(run, spec.x)
    return events, read_bids_tsv(run.confounds, columns) if columns else None


def _check_events(run: RunInputs) -> None:
    assert run.events is not None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # the fit warns about the events, once
            check_events(read_bids_tsv(run.events))
    except EventsError as error:
        msg = f'In the events file {str(run.events)!r}: {error}'
        raise EventsError(msg) from error


def _confound_columns(run: RunInputs, patterns: Sequence[str]) -> list[str]:
    """Return the confounds columns that names or globs of ``X`` select."""
    if run.confounds is None:
        return []
    header = read_tsv_header(run.confounds)
    return [c for c in header if any(c == p or fnmatch.fnmatchcase(c, p) for p in patterns)]


def checked_design(run: RunInputs, spec: DesignSpec) -> RunDesign:
    """Check the run's files and build its design, as planning does before any fit.

    The images must be whole NIfTI files (the BOLD 4D), the events valid, the
    confounds ``X`` selects numbers with one row per volume, and the design must
    have fewer columns than the run has volumes.

    Raises
    ------
    BidsGlmError
        Naming the file (and the column or the row) and the way out.
    """
    n_volumes = run_volumes(run)
    if run.events is not None:
        _check_events(run)
    columns = _confound_columns(run, spec.x)
    if columns:
        assert run.confounds is not None
        try:
            check_confounds_file(run.confounds, columns, n_volumes)
        except BidsGlmError as error:
            raise _with_hint(error, run) from error
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the fit warns about the designs, once
        made = load_design(run, spec, n_volumes)
    design = made.design
    if n_volumes <= design.shape[1]:
        shown = [str(c) for c in design.columns]
        listed = f'{shown[:8]} and {len(shown) - 8} more' if len(shown) > 8 else str(shown)
        msg = (
            f'The run {run.name} has {n_volumes} volumes but its design has '
            f'{design.shape[1]} columns {listed}: a GLM needs more volumes than columns. '
            'Check that the file holds the whole run, or model fewer confounds. '
            f'{without_subject(run.subject)}'
        )
        raise ShapeMismatchError(msg)
    return made


def load_design(run: RunInputs, spec: DesignSpec, n_volumes: int | None = None) -> RunDesign:
    """Read the run's events and confounds and build its design (no checks).

    Parameters
    ----------
    run : RunInputs
        The run's files and timing.
    spec : DesignSpec
        The node's recipe.
    n_volumes : int, optional
        The run's volumes (read from the BOLD header when not given).

    Returns
    -------
    RunDesign
        The design of :func:`bidsglm.dataset.design.run_design`.
    """
    if n_volumes is None and run.kind != 'volume':
        n_volumes = surface_shape(run.image, run.name)[0]
    if n_volumes is None:
        image = cast('nib.Nifti1Image', nib.load(run.bold))
        n_volumes = int(image.shape[3])
    events, confounds = _tables(run, spec)
    try:
        return run_design(events, confounds, run_timing(run, n_volumes), spec)
    except BidsGlmError as error:
        msg = f'{run.name}: {error}'
        raise type(error)(msg) from error


def unusable_columns(
    columns: Sequence[str], design: pd.DataFrame, confounds: Sequence[str] = ()
) -> set[str]:
    """Return the columns of a subject's designs that this run cannot estimate.

    Those it lacks (a condition without events in it: nilearn's design lacks it too)
    and the columns that are zero throughout it (events outside the run), but for
    confounds, which may be zero.
    """
    present = [str(c) for c in design.columns]
    values = np.abs(design.to_numpy(dtype=np.float64))
    top = values.max() if values.size else 0.0
    zero = values.max(axis=0) <= 1e-10 * top if values.size else np.zeros(0, dtype=bool)
    empty = {c for c, is_zero in zip(present, zero, strict=True) if is_zero}
    return (set(columns) - set(present)) | (empty - set(confounds))


def not_estimable(
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
