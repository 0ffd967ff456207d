"""The derivative writer behind ``save_glm_to_bids``: a fitted model in, BIDS files out.

The writer checks everything first (model fitted, names, contrasts), computes every
contrast through the model, plans every file name from one template
(:mod:`bidsglm.bids.layout`), and only then writes, all or nothing
(:mod:`bidsglm.bids.transaction`). It computes no statistic itself.

Files of a first-level model of two runs fitted on in-memory images, with one
contrast ``'a - b'`` (label ``aMinusB``), in ``out_dir``::

    dataset_description.json
    statmap.json                                model-level metadata, inherited
    mask.nii.gz, mask.json                      the mask the model used
    run-<i>_design.tsv, .json, .svg             each run's design
    run-<i>_stat-errorts_statmap.nii.gz         residuals, 4D, one volume per scan
    run-<i>_stat-rSquare_statmap.nii.gz         r-squared
    run-<i>_contrast-aMinusB_design.svg         the weights over that run's design
    contrast-aMinusB_stat-<s>_statmap.nii.gz    s in effect, variance, t (or F), p, z,
    contrast-aMinusB_stat-<s>_statmap.json      each with its sidecar

With a subject (``prefix='sub-01_task-x'``, or inferred from BIDS-named inputs)
every name starts with the entities (``sub-01_task-x_[run-1_]...``), the maps go to
``sub-01/func/`` and ``statmap.json`` to ``sub-01/``. A second-level model has one
design and so no ``run-`` entity; its names carry the entities shared by its input
maps (and ``desc-<first-level contrast>``, see :mod:`bidsglm.bids.layout`).

Data types: contrast maps and r-squared keep the model's dtype (float64 for
bidsglm and nilearn, so they equal ``compute_contrast`` exactly); the residuals are
stored as float32 (half the size and time of the largest file; the relative
rounding is below 1e-7); the mask as uint8. Every header has units (mm, s), the
model's sform and, for t, F, p, z and effect maps, the NIfTI intent (with the
degrees of freedom for t and F); the residuals' time step is the repetition time.

Surface models write every map in the form of their runs
(:mod:`bidsglm.bids.surface_files`): a ``.func.gii`` file per hemisphere, named with
``hemi-L`` / ``hemi-R``, each with its own sidecar, or one CIFTI-2 file
(``.dscalar.nii``; the residuals ``.dtseries.nii``). Everything else (names,
sidecars, designs, figures, the all-or-nothing move) is the volumes'; a sidecar
named with ``den-`` gets the ``Density`` BIDS requires.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

import nibabel as nib
import numpy as np

from bidsglm._stages import timed
from bidsglm.bids._files import (
    json_bytes,
    nifti_image,
    write_json,
    write_nifti,
    write_nifti_volumes,
    write_tsv,
)
from bidsglm.bids.contrast_specs import normalize_contrasts
from bidsglm.bids.description import (
    merge_bidsignore,
    merge_dataset_description,
    parse_dataset_description,
    read_dataset_description,
)
from bidsglm.bids.entities import parse_bids_entities
from bidsglm.bids.figures import contrast_svg, design_svg
from bidsglm.bids.labels import contrast_label
from bidsglm.bids.layout import Layout, check_output_names, plan_layout
from bidsglm.bids.model_view import ContrastMaps, ModelView, view_model
from bidsglm.bids.sidecars import (
    STAT_OF_OUTPUT,
    contrast_sidecar,
    design_sidecar,
    mask_sidecar,
    model_map_sidecar,
    stat_label,
    statmap_sidecar,
)
from bidsglm.bids.spatial_reference import spatial_reference
from bidsglm.bids.surface_files import (
    StagedSurface,
    SurfaceMap,
    density_text,
    staged_surface,
    surface_file_names,
    surface_files,
)
from bidsglm.bids.transaction import OutputTransaction
from bidsglm.errors import BidsNameError, InvalidParameterError
from bidsglm.models._images import fortran_index, unmask
from bidsglm.models.surface import SurfaceMask, read_on_layout
from bidsglm.stats.series import SeriesSd

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bidsglm.bids.contrast_specs import ContrastSpec

__all__ = [
    'Companion',
    'CompanionWriter',
    'PendingSeries',
    'SavedGlm',
    'StagedImage',
    'StreamedSeries',
    'preview_derivatives',
    'write_derivatives',
]

_DESCRIPTION = PurePosixPath('dataset_description.json')
_BIDSIGNORE = PurePosixPath('.bidsignore')
_NIFTI_INTENTS: dict[str, Callable[[ContrastMaps], tuple[str, list[float]]]] = {
    'effect': lambda maps: ('estimate', []),
    't': lambda maps: ('t test', [maps.dof]),
    'F': lambda maps: ('f test', [maps.effect_dof, maps.dof]),
    'p': lambda maps: ('p value', []),
    'z': lambda maps: ('z score', []),
}

Computed = list[tuple['ContrastSpec', ContrastMaps]]


@dataclass(frozen=True)
class StreamedSeries:
    """A 4D file written block by block: not in memory, but its summary is.

    Companions get it in place of the image of a file too large to hold (the
    second level's ``stat-errorts``); the file itself is complete on disk.

    Parameters
    ----------
    sd : (x, y, z) ndarray
        The standard deviation (``ddof=0``) of each voxel over the volumes, of the
        values as written (float32), summed in float64.
    affine : (4, 4) ndarray
        The file's affine.
    n_volumes : int
        The number of volumes written.
    """

    sd: np.ndarray
    affine: np.ndarray
    n_volumes: int


@dataclass(frozen=True)
class PendingSeries:
    """A file still being streamed on the writer's thread: its summary, when it is done.

    Companions get it during a save, so that the report is drawn while the
    residual series (``stat-errorts``) are written; only what needs a file's
    summary waits for it.

    Parameters
    ----------
    future : concurrent.futures.Future of StreamedSeries
        The writing of the file.

    Examples
    --------
    >>> from concurrent.futures import Future
    >>> future = Future()
    >>> future.set_result(StreamedSeries(np.zeros((1, 1, 1)), np.eye(4), 3))
    >>> PendingSeries(future).wait().n_volumes
    3
    """

    future: Future[StreamedSeries]

    def wait(self) -> StreamedSeries:
        """Return the summary once the file is complete; raise the writer's error."""
        return self.future.result()


#: What companions find, by staged path: an image in memory, or a streamed file's
#: summary (:class:`PendingSeries` while it is being written).
StagedImage = nib.spatialimages.SpatialImage | StreamedSeries | PendingSeries | StagedSurface


class CompanionWriter(Protocol):
    """Writes files derived from a save, before anything is moved into place.

    It reads the staged model through ``staged_statmap`` (its ``statmap.json`` in
    the staging folder; ``statmap`` is the same file relative to ``out_dir``) and
    writes each new file at the path ``stage(relative_path)`` returns, so that the
    file is part of the all-or-nothing move. ``images`` holds every NIfTI file just
    staged, by staged path, still in memory, and every surface file as a
    :class:`~bidsglm.bids.surface_files.StagedSurface` (the whole map, under the path
    of each of its files): read them from there, not from disk, where the largest
    may still be being written (every staged file is listed).
    """

    def __call__(
        self,
        staged_statmap: Path,
        statmap: PurePosixPath,
        stage: Callable[[PurePosixPath], Path],
        images: Mapping[Path, StagedImage],
    ) -> None:
        """Write the derived files of the staged model."""


@dataclass(frozen=True)
class Companion:
    """Something written with every save, such as the HTML report.

    Parameters
    ----------
    write : CompanionWriter
        Writes the files.
    ignore : tuple of str
        ``.bidsignore`` patterns matching those files (the validator knows them not).
    """

    write: CompanionWriter
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class SavedGlm:
    """What :func:`save_glm_to_bids` wrote.

    Parameters
    ----------
    out_dir : pathlib.Path
        The output folder.
    statmap : pathlib.Path
        The model-level ``statmap.json``; give it to :func:`load_glm_from_bids`.
    files : tuple of pathlib.Path
        Every file written, in the order written.
    """

    out_dir: Path
    statmap: Path
    files: tuple[Path, ...]


@dataclass(frozen=True)
class _Output:
    """One file to write: its relative path and how to make it.

    A NIfTI file gives ``image``, which makes the image to write (companions then
    read it from memory); a NIfTI file too large to hold gives ``stream``, which
    writes it block by block (companions read it from disk); any other file gives
    ``write``, which writes it, and a surface file also ``staged``, which gives its
    map to companions. A ``background`` file (a surface model's residual series) is
    written on the save's worker thread, as the largest NIfTI files are.
    """

    path: PurePosixPath
    write: Callable[[Path], None] | None = None
    staged: Callable[[], StagedSurface] | None = None
    background: bool = False
    image: Callable[[], nib.Nifti1Image] | None = None
    stream: Callable[[Path], StreamedSeries] | None = None
    content: dict[str, Any] | None = None


def _json_output(path: PurePosixPath, content: dict[str, Any]) -> _Output:
    return _Output(path, functools.partial(write_json, content=content), content=content)


def _bytes_output(path: PurePosixPath, make: Callable[[], bytes]) -> _Output:
    def write(target: Path) -> None:
        target.write_bytes(make())

    return _Output(path, write)


def _uri(path: PurePosixPath) -> str:
    """Return the BIDS URI of a file of this dataset."""
    return f'bids::{path}'


#: ``path_of(extra_entities, extension)``: the path of one file of a map.
PathOf = Callable[[Mapping[str, str], str], PurePosixPath]


def _write_surface_file(images: Callable[[], list[Any]], index: int, target: Path) -> None:
    """Write the ``index``-th file of a surface map (GIFTI or CIFTI-2)."""
    images()[index].to_filename(target)


def _map_outputs(
    view: ModelView,
    path_of: PathOf,
    volume: Callable[[], nib.Nifti1Image],
    surface: Callable[[], SurfaceMap],
    sidecar: dict[str, Any] | None = None,
    *,
    series: bool = False,
) -> list[_Output]:
    """Plan the files of one map, and its sidecar beside each when given.

    A volume model writes one NIfTI file made by ``volume``; a surface model the
    files of :mod:`bidsglm.bids.surface_files` (a GIFTI file per hemisphere, or one
    CIFTI-2 file) made from ``surface``, once for all of them.
    """
    layout = view.surface
    files: list[tuple[dict[str, str], str]]
    if layout is None:
        files = [({}, '.nii.gz')]
        outputs = [_Output(path_of({}, '.nii.gz'), image=volume)]
    else:
        files = surface_file_names(layout, series=series)
        made = functools.cache(surface)
        images = functools.cache(lambda: surface_files(layout, made()))
        staged = functools.cache(lambda: staged_surface(layout, made()))
        outputs = [
            _Output(
                path_of(extra, extension),
                functools.partial(_write_surface_file, images, i),
                staged=staged,
                background=series,
            )
            for i, (extra, extension) in enumerate(files)
        ]
    if sidecar is not None:
        outputs += [_json_output(path_of(extra, '.json'), sidecar) for extra, _ext in files]
    return outputs


def _model_path_of(layout: Layout, entities: Mapping[str, str], suffix: str) -> PathOf:
    """Return ``path_of`` for a model-level or contrast file with these entities."""
    return lambda extra, extension: layout.model_path({**entities, **extra}, suffix, extension)


def _run_path_of(layout: Layout, index: int, entities: Mapping[str, str]) -> PathOf:
    """Return ``path_of`` for a statmap of design ``index`` with these entities."""
    return lambda extra, extension: layout.run_path(
        index, {**entities, **extra}, 'statmap', extension
    )


def _surface_map(
    view: ModelView,
    image: object,
    stat: str,
    name: str,
    *,
    dtype: type | None = None,
    t_r: float | None = None,
    series: bool = False,
) -> SurfaceMap:
    """Read a surface image of the model as a :class:`SurfaceMap`, checking its surface.

    ``dtype`` casts the values; ``series`` says the rows are scans, ``t_r`` their step.
    """
    layout = view.surface
    assert layout is not None
    stored = read_on_layout(image, layout, f'{name} map')
    values = stored if dtype is None else stored.astype(dtype, copy=False)
    names = _row_names(name, len(values), series=series)
    return SurfaceMap(values, stat, names, t_r=t_r, series=series)


def _check_surface_maps(view: ModelView, computed: Computed) -> None:
    """Refuse, before anything is written, surface maps that are not on the mask's surface.

    The contrast maps and the mean image are read now (they are in memory); the
    residuals and r-squared, computed when written, are checked then.
    """
    if view.surface is None:
        return
    images = [(f'stat-{stat_label(output, maps.stat_type)}', maps.images[output])
              for _spec, maps in computed for output in STAT_OF_OUTPUT]  # fmt: skip
    if view.mean_img is not None:
        images.append(('stat-mean', view.mean_img))
    for name, image in images:
        _surface_map(view, image, name, name)


def _row_names(name: str, n_rows: int, *, series: bool) -> tuple[str, ...]:
    """Name the rows of a surface map: the map itself, its rows, or its scans."""
    if series:
        return tuple(f'scan {i + 1}' for i in range(n_rows))
    if n_rows == 1:
        return (name,)
    return tuple(f'{name} row {i + 1}' for i in range(n_rows))


# ------------------------------------------------------------------ the model level
def _volume_mask(view: ModelView) -> nib.Nifti1Image:
    """Return the mask image of a volume model."""
    assert not isinstance(view.mask_img, SurfaceMask)
    return view.mask_img


def _mask_image(view: ModelView) -> nib.Nifti1Image:
    """Return the mask as uint8 0/1, with units."""
    mask_img = _volume_mask(view)
    inside = np.asanyarray(mask_img.dataobj) != 0
    return nifti_image(nib.Nifti1Image(inside.astype(np.uint8), mask_img.affine))


def _surface_mask_map(view: ModelView) -> SurfaceMap:
    """Return the mask of a surface model as a map: 1 inside, 0 outside, float32."""
    assert isinstance(view.mask_img, SurfaceMask)
    inside = view.mask_img.inside.astype(np.float32)[None]
    return SurfaceMap(inside, 'mask', ('mask',))


def _model_outputs(view: ModelView, layout: Layout) -> list[_Output]:
    """statmap.json, the mask and, when the model keeps it, the mean image (``stat-mean``)."""
    outputs = [
        _json_output(layout.statmap_path(), statmap_sidecar(view)),
        *_map_outputs(
            view,
            _model_path_of(layout, {}, 'mask'),
            functools.partial(_mask_image, view),
            functools.partial(_surface_mask_map, view),
            mask_sidecar(),
        ),
    ]
    if view.mean_img is not None:
        mean_img = view.mean_img
        entities = {'stat': 'mean'}
        beside = _statmap_beside_maps(layout)
        outputs += _map_outputs(
            view,
            _model_path_of(layout, entities, 'statmap'),
            lambda: nifti_image(mean_img),
            lambda: _surface_map(view, mean_img, 'mean', 'stat-mean'),
            None if beside else model_map_sidecar(view, 'mean', 0, []),
        )
    return outputs


# ------------------------------------------------------------------ per design
def _residual_image(
    residuals: Callable[[], tuple[nib.Nifti1Image, ...]], t_r: float | None, index: int
) -> nib.Nifti1Image:
    """Return the residuals of design ``index`` as float32, the time step being the TR."""
    return nifti_image(residuals()[index], dtype=np.float32, t_step=float(t_r or 1.0))


#: The threads that deflate a group's ``stat-errorts``, by far its largest file: on a
#: quiet machine the G200 save took 0.97 to 1.10 s with two, 1.15 to 1.34 s with one.
#: A subject's residuals keep one (the command line's workers already fill the cores,
#: and the report is drawn meanwhile), which keeps their bytes those of a whole write.
GROUP_DEFLATE_THREADS = 2


def _streamed_residuals(
    view: ModelView, index: int, t_r: float | None, target: Path
) -> StreamedSeries:
    """Write the residuals of design ``index`` volume by volume, as a 4D image would be.

    The header is that of the same image written whole (:func:`_residual_image`):
    float32, the time step the TR (1 without one). The standard deviation of each
    voxel over the volumes is summed on the way, as the report sums a file
    (:mod:`bidsglm.stats.series`): the same numbers, bit for bit.
    """
    rows = view.residual_rows
    assert rows is not None
    mask_img = _volume_mask(view)
    mask = np.asanyarray(mask_img.dataobj) != 0
    positions = fortran_index(mask)
    n_volumes = len(view.designs[index])
    template = unmask(np.zeros((1, positions.size), np.float32), mask_img)
    header = nifti_image(template, dtype=np.float32, t_step=float(t_r or 1.0)).header
    header.set_data_shape((*mask.shape, n_volumes))
    volume = np.zeros(mask.size, dtype=np.float32)  # outside the mask stays 0
    sums = SeriesSd(positions.size)

    def volumes() -> Iterator[np.ndarray]:
        for row in rows(index):
            values = np.asarray(row, dtype=np.float32)
            volume[positions] = values
            sums.add(values)
            yield volume

    threads = GROUP_DEFLATE_THREADS if view.level == 'second' else 1
    write_nifti_volumes(target, header, volumes(), deflate_threads=threads)
    flat_sd = np.zeros(mask.size)
    flat_sd[positions] = sums.sd()
    sd = flat_sd.reshape(mask.shape, order='F')
    return StreamedSeries(sd, np.asarray(mask_img.affine, dtype=float), n_volumes)


def _statmap_beside_maps(layout: Layout) -> bool:
    """Tell whether ``statmap.json`` sits in the folder of the maps (the flat layout).

    There, the validator pairs it with the model maps (``stat-errorts``,
    ``stat-rSquare``, ``stat-mean``) as their sidecar; were they given their own, it
    would describe no file (``SIDECAR_WITHOUT_DATAFILE``, an error). In the subject
    layout it sits one folder above, inherited by every map, and each model map has
    its own sidecar too.
    """
    return layout.statmap_path().parent == layout.model_path({}, 'mask', '.nii.gz').parent


def _model_map(
    view: ModelView,
    layout: Layout,
    index: int,
    stat: str,
    make: Callable[[], nib.Nifti1Image] | None = None,
    stream: Callable[[Path], StreamedSeries] | None = None,
    surface: Callable[[], SurfaceMap] | None = None,
) -> list[_Output]:
    """Plan a model map of design ``index`` (``stat-errorts``, ``stat-rSquare``), its sidecar.

    The map is made whole by ``make``, or written block by block by ``stream``
    (volumes), or made by ``surface`` (surface models).
    """
    path_of = _run_path_of(layout, index, {'stat': stat})
    sidecar = None
    if not _statmap_beside_maps(layout):
        sources = [
            _uri(layout.run_path(index, {}, 'design', '.tsv')),
            *_mask_uris(view, layout),
        ]
        sidecar = model_map_sidecar(view, stat, index, sources)
    if surface is not None:
        series = stat == 'errorts'
        return _map_outputs(view, path_of, _no_volume, surface, sidecar, series=series)
    outputs = [_Output(path_of({}, '.nii.gz'), image=make, stream=stream)]
    if sidecar is not None:
        outputs.append(_json_output(path_of({}, '.json'), sidecar))
    return outputs


def _no_volume() -> nib.Nifti1Image:  # pragma: no cover - surface models make no NIfTI
    msg = 'A surface model has no NIfTI map.'
    raise AssertionError(msg)


def _mask_paths(view: ModelView, layout: Layout) -> dict[str | None, PurePosixPath]:
    """Return the mask files: one NIfTI or CIFTI (under None), or a GIFTI by ``hemi-``."""
    surface = view.surface
    files = [({}, '.nii.gz')] if surface is None else surface_file_names(surface, series=False)
    return {
        extra.get('hemi'): layout.model_path(extra, 'mask', extension)
        for extra, extension in files
    }


def _mask_uris(view: ModelView, layout: Layout) -> list[str]:
    """Return the BIDS URIs of the mask files: one NIfTI, a GIFTI per hemisphere, a CIFTI."""
    return [_uri(path) for path in _mask_paths(view, layout).values()]


def _surface_model_maps(view: ModelView, layout: Layout, index: int) -> list[_Output]:
    """Plan the residuals and r-squared of design ``index`` of a surface model."""
    residuals, r_square = view.residuals, view.r_square
    outputs = []
    if residuals is not None:
        t_r = view.parameters.get('t_r')
        errorts = functools.partial(
            _surface_errorts, view, residuals, index, None if t_r is None else float(t_r)
        )
        outputs += _model_map(view, layout, index, 'errorts', surface=errorts)
    if r_square is not None:
        r_square_map = functools.partial(_surface_r_square, view, r_square, index)
        outputs += _model_map(view, layout, index, 'rSquare', surface=r_square_map)
    return outputs


def _surface_errorts(
    view: ModelView,
    residuals: Callable[[], tuple[Any, ...]],
    index: int,
    t_r: float | None,
) -> SurfaceMap:
    """Return the residuals of design ``index`` of a surface model, float32, by scan."""
    image = residuals()[index]
    return _surface_map(
        view, image, 'errorts', 'stat-errorts', dtype=np.float32, t_r=t_r, series=True
    )


def _surface_r_square(
    view: ModelView, r_square: Callable[[], tuple[Any, ...]], index: int
) -> SurfaceMap:
    """Return the r-squared of design ``index`` of a surface model."""
    return _surface_map(view, r_square()[index], 'rSquare', 'stat-rSquare')


def _model_maps(view: ModelView, layout: Layout, index: int) -> list[_Output]:
    """Plan the residuals and r-squared of design ``index``, when the model kept them."""
    if view.surface is not None:
        return _surface_model_maps(view, layout, index)
    residuals, r_square = view.residuals, view.r_square
    outputs = []
    t_r = view.parameters.get('t_r') if view.level == 'first' else None
    if view.residual_rows is not None:
        stream = functools.partial(_streamed_residuals, view, index, t_r)
        outputs += _model_map(view, layout, index, 'errorts', stream=stream)
    elif residuals is not None:
        make = functools.partial(_residual_image, residuals, t_r, index)
        outputs += _model_map(view, layout, index, 'errorts', make)
    if r_square is not None:
        outputs += _model_map(
            view, layout, index, 'rSquare', lambda: nifti_image(r_square()[index])
        )
    return outputs


def _design_outputs(view: ModelView, layout: Layout, index: int) -> list[_Output]:
    """Plan the design of run ``index`` as TSV, JSON and SVG."""
    design = view.designs[index]
    title = f'run {index + 1}' if view.level == 'first' else 'group design'
    return [
        _Output(
            layout.run_path(index, {}, 'design', '.tsv'),
            functools.partial(write_tsv, table=design),
        ),
        _json_output(layout.run_path(index, {}, 'design', '.json'), design_sidecar(view, index)),
        _bytes_output(
            layout.run_path(index, {}, 'design', '.svg'),
            functools.partial(design_svg, design, title, rows=view.rows),
        ),
    ]


def _run_outputs(view: ModelView, layout: Layout, computed: Computed) -> list[_Output]:
    """Per design: the design files, model maps and contrast figures."""
    cached = dataclasses.replace(  # each is computed once, for all designs
        view,
        residuals=view.residuals and functools.cache(view.residuals),
        r_square=view.r_square and functools.cache(view.r_square),
    )
    outputs: list[_Output] = []
    for index in range(len(view.designs)):
        outputs += _design_outputs(view, layout, index)
        outputs += _model_maps(cached, layout, index)
        for spec, maps in computed:
            path = layout.run_path(index, {'contrast': spec.label}, 'design', '.svg')
            make = functools.partial(
                contrast_svg, maps.weights[index], maps.columns[index], spec.name
            )
            outputs.append(_bytes_output(path, make))
    return outputs


# ------------------------------------------------------------------ per contrast
def _contrast_image(image: nib.Nifti1Image, stat: str, maps: ContrastMaps) -> nib.Nifti1Image:
    """Return a contrast map with its NIfTI intent."""
    intent = _NIFTI_INTENTS[stat](maps) if stat in _NIFTI_INTENTS else None
    return nifti_image(image, intent=intent)


def _contrast_outputs(
    view: ModelView,
    layout: Layout,
    computed: Computed,
    sources: list[str],
) -> list[_Output]:
    """Plan the five maps of every contrast, each with its sidecar."""
    designs = [_uri(layout.run_path(i, {}, 'design', '.tsv')) for i in range(len(view.designs))]
    outputs = []
    for spec, maps in computed:
        for output in STAT_OF_OUTPUT:
            stat = stat_label(output, maps.stat_type)
            entities = {'contrast': spec.label, 'stat': stat}
            image = maps.images[output]
            sidecar = contrast_sidecar(
                spec, maps, stat, sources, view.first_level_contrast, designs=designs
            )
            outputs += _map_outputs(
                view,
                _model_path_of(layout, entities, 'statmap'),
                functools.partial(_contrast_image, image, stat, maps),
                functools.partial(
                    _surface_map, view, image, stat, f'contrast-{spec.label}_stat-{stat}'
                ),
                sidecar,
            )
    return outputs


# ------------------------------------------------------------------ the entry point
def _output_folder(out_dir: object) -> Path:
    """Check ``out_dir``: a path to a folder (it may not exist yet)."""
    if not isinstance(out_dir, (str, os.PathLike)):
        msg = (
            "The 'out_dir' parameter of save_glm_to_bids must be a path. "
            f'Got {type(out_dir).__name__} instead.'
        )
        raise InvalidParameterError(msg)
    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        msg = f"The 'out_dir' {str(root)!r} is a file; give a folder (it may not exist yet)."
        raise InvalidParameterError(msg)
    return root


def _check_unique(outputs: Sequence[_Output]) -> None:
    """Refuse two outputs with one name (case-insensitively) or too long a name."""
    check_output_names(output.path for output in outputs)
    seen: dict[str, PurePosixPath] = {}
    for output in outputs:
        key = str(output.path).casefold()
        if key in seen:
            msg = f'Two outputs would be named {str(seen[key])!r} and {str(output.path)!r}.'
            raise BidsNameError(msg)
        seen[key] = output.path


def _shared_files(
    companions: Sequence[Companion],
) -> dict[PurePosixPath, Callable[[bytes | None], bytes]]:
    """How to merge the files every save shares into what the folder holds at commit."""

    def description(current: bytes | None) -> bytes:
        existing = parse_dataset_description(current, str(_DESCRIPTION))
        return json_bytes(merge_dataset_description(existing))

    shared: dict[PurePosixPath, Callable[[bytes | None], bytes]] = {_DESCRIPTION: description}
    patterns = [pattern for companion in companions for pattern in companion.ignore]
    if patterns:

        def bidsignore(current: bytes | None) -> bytes:
            text = current.decode('utf-8') if current is not None else None
            return merge_bidsignore(text, patterns).encode('utf-8')

        shared[_BIDSIGNORE] = bidsignore
    return shared


def _plan(
    view: ModelView,
    layout: Layout,
    computed: Computed,
    shared: Mapping[PurePosixPath, object],
) -> list[_Output]:
    """Plan every file of the model to write, in order (the shared files apart)."""
    designs = [_uri(layout.run_path(i, {}, 'design', '.tsv')) for i in range(len(view.designs))]
    sources = [*designs, *_mask_uris(view, layout)]
    outputs = [
        *_model_outputs(view, layout),
        *_run_outputs(view, layout, computed),
        *_contrast_outputs(view, layout, computed, sources),
    ]
    masks = {hemi: str(path) for hemi, path in _mask_paths(view, layout).items()}
    outputs = [_with_space_fields(output, view, masks) for output in outputs]
    _check_unique([*(_Output(path) for path in shared), *outputs])
    return outputs


def _with_space_fields(
    output: _Output, view: ModelView, masks: Mapping[str | None, str]
) -> _Output:
    """Add the space fields BIDS requires to a sidecar: ``Density``, ``SpatialReference``.

    ``Density`` goes to a file named with ``den-`` of a surface model, described from
    the surface's own vertex counts (a volume model has no such description);
    ``SpatialReference`` to a file whose ``space-`` is not a standard template (see
    :mod:`bidsglm.bids.spatial_reference`).
    """
    if output.content is None:
        return output
    entities = parse_bids_entities(output.path)
    extra: dict[str, Any] = {}
    density = entities.get('den')
    if density is not None and view.surface is not None:
        extra['Density'] = {density: density_text(view.surface)}
    reference = spatial_reference(entities, masks)
    if reference is not None:
        extra['SpatialReference'] = reference
    if not extra:
        return output
    return _json_output(output.path, {**output.content, **extra})


def _first_level_label(first_level_contrast: object) -> str | None:
    """Return the label of a first-level contrast given by name (None for weights)."""
    if isinstance(first_level_contrast, str):
        return contrast_label(first_level_contrast)
    return None


def _layout(view: ModelView, prefix: str | None, first_level_contrast: object) -> Layout:
    """Plan the names of every file of the model."""
    layout = plan_layout(
        view.level,
        view.sources,
        prefix,
        n_designs=len(view.designs),
        subject_label=view.parameters.get('subject_label'),
        first_level_label=_first_level_label(first_level_contrast),
    )
    if view.surface is not None and view.surface.kind != 'cifti' and 'hemi' in layout.common:
        msg = (
            f'The prefix {prefix!r} sets hemi, which the writer sets itself for the GIFTI '
            'file of each hemisphere. Remove it from the prefix.'
        )
        raise BidsNameError(msg)
    return layout


def write_derivatives(
    model: object,
    contrasts: object,
    contrast_types: Mapping[str, str] | None = None,
    out_dir: str | os.PathLike[str] = '.',
    prefix: str | None = None,
    *,
    companions: Sequence[Companion] = (),
    first_level_contrast: str | np.ndarray | None = None,
) -> SavedGlm:
    """Write a fitted GLM and its contrasts as BIDS statistical derivatives.

    This is :func:`bidsglm.save_glm_to_bids` (see it for the parameters, the
    errors and an example) with the files derived from the save, such as the HTML
    report, given as ``companions`` rather than fixed.

    Parameters
    ----------
    model, contrasts, contrast_types, out_dir, prefix
        As for :func:`bidsglm.save_glm_to_bids`.
    companions : sequence of Companion, default=()
        Run in order after the derivatives are staged, inside the same
        all-or-nothing move; their ``ignore`` patterns are merged into
        ``.bidsignore``.
    first_level_contrast : str or array, optional
        As for :func:`bidsglm.save_glm_to_bids`.

    Returns
    -------
    SavedGlm
        The output folder, the ``statmap.json`` and every file written.

    Examples
    --------
    >>> import tempfile, nibabel as nib, numpy as np
    >>> from bidsglm.models import SecondLevelModel
    >>> maps = [nib.Nifti1Image(np.full((2, 2, 2), v), np.eye(4)) for v in (1., 2., 4.)]
    >>> mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))
    >>> saved = write_derivatives(SecondLevelModel(mask_img=mask).fit(maps), 'intercept',
    ...                           out_dir=tempfile.mkdtemp(), prefix='task-x')
    >>> sorted(p.name for p in saved.files if 'stat-t_' in p.name)
    ['task-x_contrast-intercept_stat-t_statmap.json',
     'task-x_contrast-intercept_stat-t_statmap.nii.gz']
    """
    root = _output_folder(out_dir)
    view = view_model(model, first_level_contrast)
    layout = _layout(view, prefix, first_level_contrast)
    specs = normalize_contrasts(contrasts, view.columns, contrast_types)
    merge_dataset_description(read_dataset_description(root / _DESCRIPTION))  # fail early
    with timed('contrasts'):
        computed = [(spec, view.compute(spec)) for spec in specs]
    _check_surface_maps(view, computed)
    shared = _shared_files(companions)
    outputs = _plan(view, layout, computed, shared)
    statmap = layout.statmap_path()
    transaction = OutputTransaction(root, model=statmap, shared=shared)
    with transaction, _NiftiWriter() as nifti_writer:
        images = _write_outputs(
            outputs,
            transaction.stage,
            nifti_writer.write,
            nifti_writer.stream,
            nifti_writer.later,
        )
        images.update(nifti_writer.pending_streams())  # drawn while they are written
        for companion in companions:
            staged_statmap = transaction.staged_path(statmap)
            with timed('report'):
                companion.write(staged_statmap, statmap, transaction.stage, images)
        nifti_writer.finish()
    written = [*shared, *transaction.staged]
    return SavedGlm(root, root / statmap, tuple(root / path for path in written))


def _scratch(root: Path) -> Callable[[PurePosixPath], Path]:
    """Return ``stage`` for a scratch folder: the path of a file in it, folders made."""

    def stage(relative: PurePosixPath) -> Path:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    return stage


def _stream_now(
    streams: dict[Path, StreamedSeries],
) -> Callable[[Path, Callable[[Path], StreamedSeries]], None]:
    """Return ``write_stream`` that writes a streamed file at once, into ``streams``."""

    def write(target: Path, stream: Callable[[Path], StreamedSeries]) -> None:
        streams[target] = stream(target)

    return write


def _placeholder(target: Path, image: nib.Nifti1Image) -> None:
    """List a NIfTI file without writing it: its image stays in memory."""
    del image
    target.touch()


def preview_derivatives(
    model: object,
    contrasts: object,
    companion: CompanionWriter,
    *,
    first_level_contrast: str | np.ndarray | None = None,
) -> None:
    """Hand a model's derivatives to a companion without saving them.

    Everything :func:`write_derivatives` would write is planned and computed the
    same way (names inferred from the inputs), then staged in a scratch folder of
    the system's temporary directory that is removed on return: the small files
    (sidecars, designs, figures) are written, each NIfTI file is an empty
    placeholder and its image is handed over in memory. This is how a fitted model
    draws its HTML report (``generate_report``) without writing its maps.

    Parameters
    ----------
    model, contrasts
        As for :func:`bidsglm.save_glm_to_bids`.
    companion : CompanionWriter
        Called once on the staged model, as by a save; what it stages is removed
        with the scratch folder, so it keeps what it needs.
    first_level_contrast : str or array, optional
        As for :func:`bidsglm.save_glm_to_bids`.

    Examples
    --------
    >>> import nibabel as nib, numpy as np
    >>> from bidsglm.models import SecondLevelModel
    >>> maps = [nib.Nifti1Image(np.full((2, 2, 2), v), np.eye(4)) for v in (1., 2., 4.)]
    >>> mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))
    >>> seen = []
    >>> def look(staged_statmap, statmap, stage, images):
    ...     seen.extend(sorted(path.name for path in images if 'stat-t' in path.name))
    >>> preview_derivatives(SecondLevelModel(mask_img=mask).fit(maps), 'intercept', look)
    >>> seen
    ['contrast-intercept_stat-t_statmap.nii.gz']
    """
    view = view_model(model, first_level_contrast)
    if view.level == 'first':  # its residuals are in memory: handed over, not written
        view = dataclasses.replace(view, residual_rows=None)
    try:
        layout = _layout(view, None, first_level_contrast)
    except BidsNameError:  # the model's subject label cannot name files: a preview needs none
        layout = _layout(view, '', first_level_contrast)
    specs = normalize_contrasts(contrasts, view.columns)
    computed = [(spec, view.compute(spec)) for spec in specs]
    outputs = _plan(view, layout, computed, {})
    statmap = layout.statmap_path()
    with tempfile.TemporaryDirectory(prefix='bidsglm-preview-') as scratch:
        stage = _scratch(Path(scratch))
        streams: dict[Path, StreamedSeries] = {}
        images = _write_outputs(outputs, stage, _placeholder, _stream_now(streams))
        companion(stage(statmap), statmap, stage, {**images, **streams})


class _NiftiWriter:
    """Write NIfTI files: the large ones on a worker thread, the others at once.

    isal compresses without holding the GIL, so the largest file (the residuals)
    is written while the rest is written and the report drawn. :meth:`finish`
    waits for every file and raises the first error. Leaving the ``with`` block
    on an error cancels the files not begun and waits for the one being written,
    so nothing writes into the staging folder once it is being removed.
    """

    #: Images of at least this many bytes are written on the worker thread.
    background_bytes = 8 * 2**20

    def __enter__(self) -> _NiftiWriter:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix='bidsglm-write')
        self._pending: list[Future[None]] = []
        self._streams: dict[Path, Future[StreamedSeries]] = {}
        return self

    def stream(self, target: Path, write: Callable[[Path], StreamedSeries]) -> None:
        """Have ``write(target)`` write a file block by block on the worker thread."""
        target.touch()  # the file is listed from now on, as if written
        self._streams[target] = self._pool.submit(write, target)

    def pending_streams(self) -> dict[Path, PendingSeries]:
        """Return the streamed files being written, by target, to wait for when needed."""
        return {target: PendingSeries(future) for target, future in self._streams.items()}

    def later(self, target: Path, write: Callable[[Path], None]) -> None:
        """Have ``write(target)`` write a file on the worker thread."""
        target.touch()  # the file is listed from now on, as if written
        self._pending.append(self._pool.submit(write, target))

    def write(self, target: Path, image: nib.Nifti1Image) -> None:
        """Write ``image`` to ``target``, now or on the worker thread."""
        if np.asanyarray(image.dataobj).nbytes < self.background_bytes:
            write_nifti(target, image)
            return
        target.touch()  # the file is listed from now on, as if written
        self._pending.append(self._pool.submit(write_nifti, target, image))

    def finish(self) -> None:
        """Wait for every file; raise the first error of the worker."""
        for future in self._futures():
            future.result()

    def _futures(self) -> list[Future[Any]]:
        return [*self._streams.values(), *self._pending]

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            for future in self._futures():
                future.cancel()
        self._pool.shutdown(wait=True)


def _write_outputs(
    outputs: Sequence[_Output],
    stage: Callable[[PurePosixPath], Path],
    write_image: Callable[[Path, nib.Nifti1Image], None],
    write_stream: Callable[[Path, Callable[[Path], StreamedSeries]], None],
    write_later: Callable[[Path, Callable[[Path], None]], None] | None = None,
) -> dict[Path, StagedImage]:
    """Write every output at its staged path; return the images, by staged path.

    Streamed files are begun first (on the worker thread of a save), so that the
    largest file is written while the others are; ``background`` files go to
    ``write_later`` (the worker thread) after their map is made here, or are written
    at once without it.
    """
    images: dict[Path, StagedImage] = {}
    for output in sorted(outputs, key=lambda output: output.stream is None):
        target = stage(output.path)
        if output.image is not None:
            image = output.image()
            images[target] = image
            write_image(target, image)
        elif output.stream is not None:
            write_stream(target, output.stream)
        elif output.write is not None:
            if output.staged is not None:  # first: the map is made on this thread
                images[target] = output.staged()
            if output.background and write_later is not None:
                write_later(target, output.write)
            else:
                output.write(target)
    return images
