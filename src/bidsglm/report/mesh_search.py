"""Meshes found beside a surface model's data, for its report when none is given.

A model fitted on GIFTI or CIFTI-2 files carries no mesh, but the pipelines that
wrote those files usually wrote meshes too. :func:`find_meshes` looks for the
mesh of each hemisphere, in this order of places:

1. for a first-level model, the folder of each run;
2. then the subject's ``anat`` folders of the same dataset (``sub-01/anat``, and
   ``sub-01/ses-1/anat`` for a run of a session), as fMRIPrep writes them, and an
   HCP subject's ``MNINonLinear/fsaverage_LR32k`` (or ``59k``);
3. TemplateFlow's copy of the template, when the data are on one (``fsaverage`` at
   some density, ``fsLR``): ``$TEMPLATEFLOW_HOME/tpl-fsaverage`` or
   ``tpl-fsLR`` (``~/.cache/templateflow`` when the variable is not set). Nothing is
   downloaded: a template set not on the disk is not used. A group model looks
   only here, since a subject's meshes would not be every subject's.

A mesh file is a ``*.surf.gii`` named either as BIDS names it (fMRIPrep's
``sub-01_hemi-L_space-fsLR_den-32k_midthickness.surf.gii``, the subject's own
``sub-01_hemi-L_inflated.surf.gii``, TemplateFlow's
``tpl-fsLR_hemi-L_den-32k_midthickness.surf.gii``) or as the HCP pipelines name it
(``100307.L.midthickness.32k_fs_LR.surf.gii``). It must be of the data's space and
density: ``space-fsaverage5`` data take ``fsaverage`` meshes of ``den-10k`` (4: 3k,
6: 41k; ``space-fsaverage`` without ``den-``: 164k), CIFTI-2 ``den-91k`` data
``den-32k`` meshes (``170k``: ``59k``); GIFTI data without ``space-`` (``fsnative``)
the meshes without it, CIFTI-2 data without it (as the HCP pipelines name them)
``fsLR`` meshes of any density. In each place the
**inflated** surface is preferred (the whole cortex is seen, sulci included), then
**midthickness**, **pial** and **white**. A candidate whose number of vertices does
not match the data is skipped, with a log message saying why (it was not given by
the user: no error); the first that matches is drawn.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from xml.parsers.expat import ExpatError

from nibabel.filebasedimages import ImageFileError

from bidsglm.bids.entities import parse_bids_name
from bidsglm.bids.provenance import find_dataset_root
from bidsglm.errors import BidsGlmError
from bidsglm.models.surface import SurfaceLayout
from bidsglm.report.mesh import HEMISPHERES, Mesh, expected_vertices, model_meshes, read_mesh

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = [
    'SURFACE_PREFERENCE',
    'MeshSearch',
    'default_meshes',
    'find_meshes',
    'find_model_meshes',
    'mesh_surface',
    'shown_path',
]

logger = logging.getLogger('bidsglm')

#: The surfaces drawn on, the preferred first.
SURFACE_PREFERENCE = ('inflated', 'midthickness', 'pial', 'white')
#: The density of the fsaverage meshes FreeSurfer names by number (fMRIPrep's spaces).
_FSAVERAGE = {'fsaverage4': '3k', 'fsaverage5': '10k', 'fsaverage6': '41k'}
#: The density of the meshes of a CIFTI-2 grayordinate set.
_CIFTI_MESH = {'91k': '32k', '170k': '59k'}
_HEMI = {'left': 'L', 'right': 'R'}
_HCP_NAME = re.compile(
    r'^[^.]+\.(?P<hemi>[LR])\.(?P<kind>[a-z]+)\.(?P<den>\d+k)_fs_LR\.surf\.gii$'
)
_TEMPLATES = ('fsaverage', 'fsLR')
#: What reading a damaged or foreign ``.surf.gii`` raises.
_UNREADABLE = (BidsGlmError, OSError, ValueError, ImageFileError, ExpatError)


@dataclass(frozen=True)
class MeshSearch:
    """What :func:`find_meshes` found, and where it looked.

    Parameters
    ----------
    meshes : dict of str to Mesh
        The mesh of each hemisphere found (its ``source`` is its file).
    looked_in : tuple of pathlib.Path
        The folders searched, in order.
    skipped : tuple of str
        Why each candidate not drawn was skipped.
    surface : tuple of (str or None, str or None)
        The space and density looked for.
    """

    meshes: dict[str, Mesh] = field(default_factory=dict)
    looked_in: tuple[Path, ...] = ()
    skipped: tuple[str, ...] = ()
    surface: tuple[str | None, str | None] = (None, None)

    def describe(self) -> str:
        """Say which mesh files are drawn, or that none was found and where it looked.

        Examples
        --------
        >>> MeshSearch(looked_in=(Path('sub-01/anat'),)).describe()
        'No mesh of this surface was found (looked in sub-01/anat). Give one with meshes=.'
        """
        if self.meshes:
            found = ', '.join(
                f'{part}: {shown_path(Path(str(mesh.source)))}'
                for part, mesh in sorted(self.meshes.items())
            )
            return f'Meshes found beside the data: {found}.'
        places = '; '.join(map(shown_path, self.looked_in)) or 'no folder to look in'
        skipped = f' Skipped: {"; ".join(self.skipped)}.' if self.skipped else ''
        return (
            f'No mesh of this surface was found (looked in {places}).{skipped} '
            'Give one with meshes=.'
        )


def _templateflow_home() -> Path:
    """Return TemplateFlow's folder: ``$TEMPLATEFLOW_HOME``, else its default."""
    home = os.environ.get('TEMPLATEFLOW_HOME')
    return Path(home) if home else Path.home() / '.cache' / 'templateflow'


def shown_path(path: Path) -> str:
    """Name a file or folder for a page, without the machine's folders above its dataset.

    A path inside TemplateFlow's folder is named from it (``TemplateFlow tpl-fsLR/...``),
    one inside a BIDS dataset from the dataset's folder (``fmriprep/sub-01/anat/...``);
    any other path is shown whole.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()) / 'fmriprep'
    >>> (root / 'sub-01' / 'anat').mkdir(parents=True)
    >>> _ = (root / 'dataset_description.json').write_text('{}')
    >>> shown_path(root / 'sub-01' / 'anat')
    'fmriprep/sub-01/anat'
    """
    home = _templateflow_home()
    if path.is_relative_to(home):
        return f'TemplateFlow {path.relative_to(home).as_posix()}'
    root = find_dataset_root(path / 'any' if path.is_dir() else path)
    if root is None:
        return str(path)
    return (Path(root.name) / path.relative_to(root)).as_posix()


def mesh_surface(source: str | os.PathLike[str], kind: str) -> tuple[str | None, str | None]:
    """Return the space and density of the meshes that fit data named ``source``.

    Parameters
    ----------
    source : path-like
        An input file, named as fMRIPrep names it.
    kind : {'gifti', 'cifti'}
        Its form: a CIFTI-2 density counts grayordinates, not mesh vertices.

    Returns
    -------
    (str or None, str or None)
        The space (None for the subject's own, ``fsnative``) and the density (None
        when unknown).

    Examples
    --------
    >>> mesh_surface('sub-01_task-x_hemi-L_space-fsaverage5_bold.func.gii', 'gifti')
    ('fsaverage', '10k')
    >>> mesh_surface('sub-01_task-x_hemi-L_space-fsaverage_bold.func.gii', 'gifti')
    ('fsaverage', '164k')
    >>> mesh_surface('sub-01_task-x_space-fsLR_den-91k_bold.dtseries.nii', 'cifti')
    ('fsLR', '32k')
    >>> mesh_surface('sub-01_task-x_hemi-L_bold.func.gii', 'gifti')
    (None, None)
    >>> mesh_surface('tfMRI_WM_LR_Atlas.dtseries.nii', 'cifti')
    ('fsLR', None)
    """
    entities = parse_bids_name(source).entities
    space, density = entities.get('space'), entities.get('den')
    if space is None and kind == 'cifti':
        space = 'fsLR'  # the HCP pipelines name no space: their CIFTI-2 files are fsLR
    if space == 'fsnative':
        space = None
    if space in _FSAVERAGE:
        return 'fsaverage', _FSAVERAGE[space]
    if space == 'fsaverage' and density is None:
        return space, '164k'  # fMRIPrep's name of the full fsaverage
    if kind == 'cifti' and density is not None:
        density = _CIFTI_MESH.get(density)
    return space, density


def _describe_mesh_name(name: str) -> tuple[str, str | None, str | None, str] | None:
    """Return the hemisphere, space, density and surface a mesh file name says."""
    hcp = _HCP_NAME.match(name)
    if hcp:
        return hcp['hemi'], 'fsLR', hcp['den'], hcp['kind']
    parsed = parse_bids_name(name)
    if parsed.extension != '.surf.gii' or 'hemi' not in parsed.entities:
        return None
    entities = parsed.entities
    space = entities.get('space', entities.get('tpl'))
    if space in _FSAVERAGE:
        return entities['hemi'], 'fsaverage', _FSAVERAGE[space], parsed.suffix
    return entities['hemi'], space, entities.get('den'), parsed.suffix


def _candidates(folder: Path, hemi: str, surface: tuple[str | None, str | None]) -> list[Path]:
    """Return the mesh files of one hemisphere of ``surface`` in a folder, preferred first."""
    space, density = surface
    found = []
    for path in sorted(folder.glob('*.surf.gii')):
        described = _describe_mesh_name(path.name)
        if described is None or described[3] not in SURFACE_PREFERENCE:
            continue
        its_hemi, its_space, its_density, kind = described
        fits = its_hemi == hemi and its_space == space
        if fits and (density is None or its_density in (None, density)):
            found.append((SURFACE_PREFERENCE.index(kind), path))
    return [path for _rank, path in sorted(found)]


def _subject_folders(source: Path) -> Iterator[Path]:
    """Yield the folders of a run's subject that may hold its meshes."""
    parts = source.parent.parts
    subjects = [i for i, part in enumerate(parts) if part.startswith('sub-')]
    if subjects:
        subject = Path(*parts[: subjects[-1] + 1])
        if subjects[-1] + 1 < len(parts) and parts[subjects[-1] + 1].startswith('ses-'):
            yield subject / parts[subjects[-1] + 1] / 'anat'
        yield subject / 'anat'
    if 'MNINonLinear' in parts:
        hcp = Path(*parts[: parts.index('MNINonLinear') + 1])
        yield hcp / 'fsaverage_LR32k'
        yield hcp / 'fsaverage_LR59k'


def _templateflow_folder(space: str | None) -> list[Path]:
    """Return TemplateFlow's folder of the template ``space``, if it is one."""
    if space not in _TEMPLATES:
        return []
    return [_templateflow_home() / f'tpl-{space}']


def _places(sources: Sequence[Path], space: str | None, first_level: bool) -> list[Path]:
    """Return the folders to search, in order, each once, those that exist."""
    places: list[Path] = []
    if first_level:
        places += [source.parent for source in sources]
        places += [folder for source in sources for folder in _subject_folders(source)]
    places += _templateflow_folder(space)
    return [place for place in dict.fromkeys(places) if place.is_dir()]


def _first_fitting(
    paths: Sequence[Path], part: str, n_vertices: int, skipped: list[str]
) -> Mesh | None:
    """Return the first mesh of ``paths`` with ``n_vertices``, noting each skipped."""
    for path in paths:
        try:
            mesh = read_mesh(path, part)
        except _UNREADABLE as error:
            reason = f'{path} cannot be read as a mesh ({error})'
        else:
            if mesh.n_vertices == n_vertices:
                return mesh
            reason = (
                f'{path} has {mesh.n_vertices} vertices, the {part} hemisphere of the '
                f'data {n_vertices}'
            )
        logger.info('Mesh skipped: %s.', reason)
        skipped.append(reason)
    return None


def find_meshes(
    sources: Sequence[str | os.PathLike[str] | None],
    layout: SurfaceLayout,
    *,
    first_level: bool = True,
) -> MeshSearch:
    """Look for the mesh of each hemisphere of a model's data (see the module docstring).

    Parameters
    ----------
    sources : sequence of path-like or None
        The model's input files (None for data given in memory, which is skipped).
    layout : SurfaceLayout
        The model's surface: its hemispheres and their vertex counts.
    first_level : bool, default=True
        Whether the inputs are a subject's runs: their subject's folders are then
        searched too; a group model's maps look only for template meshes.

    Returns
    -------
    MeshSearch
        The meshes found (none for data of another form, or of mixed spaces).

    Examples
    --------
    >>> import tempfile, nibabel as nib, numpy as np
    >>> from bidsglm.models.surface import SurfaceLayout
    >>> folder = Path(tempfile.mkdtemp())
    >>> for hemi in 'LR':
    ...     arrays = [nib.gifti.GiftiDataArray(np.eye(3, dtype=np.float32),
    ...                                        intent='NIFTI_INTENT_POINTSET'),
    ...               nib.gifti.GiftiDataArray(np.array([[0, 1, 2]], dtype=np.int32),
    ...                                        intent='NIFTI_INTENT_TRIANGLE')]
    ...     name = f'sub-01_hemi-{hemi}_space-fsaverage_den-10k_pial.surf.gii'
    ...     nib.GiftiImage(darrays=arrays).to_filename(folder / name)
    >>> run = folder / 'sub-01_task-x_hemi-L_space-fsaverage5_bold.func.gii'
    >>> search = find_meshes([run], SurfaceLayout('gifti', (('left', 3), ('right', 3))))
    >>> Path(search.meshes['right'].source).name
    'sub-01_hemi-R_space-fsaverage_den-10k_pial.surf.gii'
    """
    files = [Path(source) for source in sources if source is not None]
    if layout.kind not in ('gifti', 'cifti') or not files:
        return MeshSearch()
    surfaces = {mesh_surface(path, layout.kind) for path in files}
    if len(surfaces) != 1:
        return MeshSearch()
    surface = surfaces.pop()
    places = _places(files, surface[0], first_level)
    meshes: dict[str, Mesh] = {}
    skipped: list[str] = []
    for part, n_vertices in sorted(expected_vertices(layout).items()):
        if part not in HEMISPHERES:
            continue
        paths = [path for place in places for path in _candidates(place, _HEMI[part], surface)]
        mesh = _first_fitting(paths, part, n_vertices, skipped)
        if mesh is not None:
            meshes[part] = mesh
    return MeshSearch(meshes, tuple(places), tuple(skipped), surface)


def find_model_meshes(model: object) -> MeshSearch | None:
    """Look for the meshes of a fitted model's surface beside the files it was fitted on.

    Parameters
    ----------
    model : object
        A fitted bidsglm model (``masker_`` and ``run_sources_`` or
        ``input_sources_``).

    Returns
    -------
    MeshSearch or None
        None for a model not fitted on GIFTI or CIFTI-2 data (a volume model, or
        one on a ``SurfaceImage``, which brings its own mesh).

    Examples
    --------
    >>> find_model_meshes(object()) is None
    True
    """
    layout = getattr(getattr(getattr(model, 'masker_', None), 'mask_', None), 'layout', None)
    if not isinstance(layout, SurfaceLayout) or layout.kind not in ('gifti', 'cifti'):
        return None
    run_sources = getattr(model, 'run_sources_', None)
    sources = run_sources if run_sources is not None else getattr(model, 'input_sources_', [])
    return find_meshes(list(sources or []), layout, first_level=run_sources is not None)


def default_meshes(model: object) -> tuple[dict[str, Mesh], str | None]:
    """Return the meshes a model's report draws on when none is given, and a note.

    A ``SurfaceImage``'s own mesh (:func:`~bidsglm.report.mesh.model_meshes`), else
    those found beside the model's GIFTI or CIFTI-2 files (:func:`find_model_meshes`),
    with :meth:`MeshSearch.describe` as the note; a volume model has neither.

    Parameters
    ----------
    model : object
        A fitted bidsglm model.

    Returns
    -------
    meshes : dict of str to Mesh
        By hemisphere; empty when none is found.
    note : str or None
        Where the meshes were found or looked for; None when no search was made.

    Examples
    --------
    >>> default_meshes(object())
    ({}, None)
    """
    own = model_meshes(model)
    if own:
        return own, None
    search = find_model_meshes(model)
    if search is None:
        return {}, None
    return search.meshes, search.describe()
