"""``load_glm_from_bids``: read back a model saved by ``save_glm_to_bids``.

A saved model is found through its model-level ``statmap.json``. Its files are those
its manifest lists (:mod:`bidsglm.bids.manifest`), so a file of the user's that
carries the model's entities is never taken for one of its maps. A folder without a
manifest (saved by an older version, or copied without hidden files) is read by the
BIDS inheritance principle: the files in that folder and below whose names carry all
of the ``statmap.json``'s entities (and free-form prefix parts); when several models
share a folder, each file goes to the most specific one. Maps are
returned as paths (nibabel loads them lazily), designs as DataFrames, sidecars as
dicts, so a second level can start from saved first-level results. A surface
model's maps come back in the form its runs were given, as paths: a CIFTI-2 file
(``.dscalar.nii``, ``.dtseries.nii``), or a dict of GIFTI files by hemisphere,
``{'left': ..._hemi-L_...func.gii, 'right': ..._hemi-R_...func.gii}`` (for a
model fitted on nilearn's ``SurfaceImage`` too: it is saved as GIFTI), which
bidsglm's models take as input and :func:`bidsglm.models.surface.read_surface`
reads::

    subjects = [load_glm_from_bids(out_dir / f'sub-{s}') for s in ('01', '02', '03')]
    effects = [glm.contrast('aMinusB').maps['effect'] for glm in subjects]
    group = SecondLevelModel().fit(effects)
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from bidsglm.bids.entities import BidsName, parse_bids_name
from bidsglm.bids.manifest import read_manifest
from bidsglm.errors import InputNotFoundError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ['LoadedContrast', 'LoadedGlm', 'SavedMap', 'load_glm_from_bids', 'volume_file']

_MAP_EXTENSIONS = ('.nii.gz', '.nii', '.func.gii', '.dscalar.nii', '.dtseries.nii')
#: The part of a GIFTI model each ``hemi-`` label stands for.
_PARTS = {'L': 'left', 'R': 'right'}

#: A saved map: one file, or a GIFTI file per hemisphere (``{'left': ..., 'right': ...}``).
SavedMap = Path | dict[str, Path]


@dataclass(frozen=True)
class LoadedContrast:
    """The saved maps of one contrast.

    Parameters
    ----------
    name : str
        The contrast's name (from its sidecar; the label if none was recorded).
    label : str
        Its ``contrast-`` label.
    stat_type : {'t', 'F'}
        Its test.
    maps : dict of str to pathlib.Path or dict
        The map files, keyed by ``stat-`` label: ``effect``, ``variance``, ``t`` or
        ``F``, ``p``, ``z``; for a GIFTI model, each a dict of a file per hemisphere.
    metadata : dict
        The sidecar of the test-statistic map (weights, degrees of freedom...).
    """

    name: str
    label: str
    stat_type: Literal['t', 'F']
    maps: dict[str, SavedMap]
    metadata: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class LoadedGlm:
    """A saved model, read back.

    Parameters
    ----------
    statmap : pathlib.Path
        The model-level ``statmap.json``.
    metadata : dict
        Its content (level, estimator, parameters...).
    designs : tuple of pandas.DataFrame
        One design per run (one for a second level), in run order.
    design_metadata : tuple of dict
        The ``design.json`` of each design (``{}`` when absent).
    mask : pathlib.Path, dict or None
        The mask file (a dict of a file per hemisphere for a GIFTI model).
    mean : pathlib.Path, dict or None
        The data averaged over time (``stat-mean``), when the model kept it.
    residuals, r_square : tuple of pathlib.Path or dict
        The ``stat-errorts`` and ``stat-rSquare`` maps, one per design.
    contrasts : tuple of LoadedContrast
        The contrasts, sorted by label.
    files : tuple of pathlib.Path
        Every file of the model, sorted.
    """

    statmap: Path
    metadata: dict[str, Any] = field(repr=False)
    designs: tuple[pd.DataFrame, ...] = field(repr=False, compare=False)
    design_metadata: tuple[dict[str, Any], ...] = field(repr=False)
    mask: SavedMap | None
    mean: SavedMap | None
    residuals: tuple[SavedMap, ...]
    r_square: tuple[SavedMap, ...]
    contrasts: tuple[LoadedContrast, ...]
    files: tuple[Path, ...] = field(repr=False)

    @property
    def surface_format(self) -> str | None:
        """``'GIFTI'`` or ``'CIFTI-2'`` for a surface model, None for a volume model."""
        surface = self.metadata.get('Surface')
        return str(surface.get('Format')) if isinstance(surface, dict) else None

    @property
    def level(self) -> str:
        """``'first'`` or ``'second'``, as recorded in ``statmap.json``."""
        return str(self.metadata.get('Level', ''))

    def contrast(self, key: str) -> LoadedContrast:
        """Return the contrast of this name or label.

        Parameters
        ----------
        key : str
            A contrast name or label.

        Returns
        -------
        LoadedContrast
            The contrast.

        Raises
        ------
        InvalidParameterError
            If no contrast has this name or label.
        """
        for contrast in self.contrasts:
            if key in (contrast.name, contrast.label):
                return contrast
        known = [contrast.label for contrast in self.contrasts]
        msg = f'No saved contrast is named {key!r}. Saved contrast labels: {known}.'
        raise InvalidParameterError(msg)


# ------------------------------------------------------------------ finding files
def _is_model_statmap(name: BidsName) -> bool:
    """Tell whether a parsed name is a model-level statmap.json."""
    return (
        name.suffix == 'statmap'
        and name.extension == '.json'
        and 'stat' not in name.entities
        and 'contrast' not in name.entities
    )


def _files_under(folder: Path) -> list[Path]:
    """Every visible file under ``folder`` (hidden folders, like staging, skipped)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
        found += [Path(dirpath) / f for f in sorted(filenames) if not f.startswith('.')]
    return found


def _find_statmap(path: Path) -> Path:
    """Return the model-level statmap.json at ``path``, or the only one below it."""
    if not path.exists():
        msg = f'{str(path)!r} does not exist. Give the folder save_glm_to_bids wrote to.'
        raise InputNotFoundError(msg)
    if path.is_file():
        if not _is_model_statmap(parse_bids_name(path)):
            msg = f"{str(path)!r} is not a model's statmap.json. Give it, or its folder."
            raise InvalidParameterError(msg)
        return path
    found = [f for f in _files_under(path) if _is_model_statmap(parse_bids_name(f))]
    if not found:
        msg = f'No statmap.json was found under {str(path)!r}; is it a bidsglm output?'
        raise InputNotFoundError(msg)
    if len(found) > 1:
        shown = ', '.join(str(f) for f in found)
        msg = f'{str(path)!r} holds several saved models ({shown}). Give one of those files.'
        raise InvalidParameterError(msg)
    return found[0]


def _covers(model: BidsName, name: BidsName) -> bool:
    """Tell whether a file name carries every entity and prefix part of a model."""
    entities_match = all(name.entities.get(k) == v for k, v in model.entities.items())
    return entities_match and set(model.others) <= set(name.others)


def _is_model_level(name: BidsName, model: BidsName, **extra: str) -> bool:
    """Tell whether a file is the model's own: its entities exactly, plus ``extra``.

    A file with one more entity (a user's ``desc-myroi_mask.nii.gz`` beside the
    model) carries the model's entities too, but is not the model's mask.
    """
    return name.entities == {**model.entities, **extra} and set(name.others) == set(model.others)


def _specificity(model: BidsName) -> int:
    return len(model.entities) + len(model.others)


def _listed_files(statmap: Path) -> list[tuple[Path, BidsName]] | None:
    """Return the files the model's manifest lists, or None without a manifest."""
    listed = read_manifest(statmap.parent, PurePosixPath(statmap.name))
    if listed is None:
        return None
    files = [statmap.parent / f for f in listed]
    return [(f, parse_bids_name(f)) for f in files if f.is_file() and f != statmap]


def _model_files(statmap: Path) -> list[tuple[Path, BidsName]]:
    """Return the files of the model of ``statmap``.

    Those its manifest lists when it has one (bidsglm wrote them); else the files
    that carry its entities, the most specific model winning.
    """
    listed = _listed_files(statmap)
    if listed is not None:
        return listed
    parsed = [(f, parse_bids_name(f)) for f in _files_under(statmap.parent)]
    models = {f: name for f, name in parsed if _is_model_statmap(name)}
    mine = models[statmap]
    owned = []
    for file, name in parsed:
        if file in models or file.name == 'dataset_description.json':
            continue
        owners = [m for m in models.values() if _covers(m, name)]
        if owners and max(owners, key=_specificity) is mine:
            owned.append((file, name))
    return owned


# ------------------------------------------------------------------ reading them
def _read_json(path: Path) -> dict[str, Any]:
    """Read a JSON object; ``{}`` if the file is missing."""
    if not path.is_file():
        return {}
    content = json.loads(path.read_text(encoding='utf-8'))
    return content if isinstance(content, dict) else {}


def _natural_key(path: Path) -> list[Any]:
    """Sort ``run-2`` before ``run-10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', path.name)]


def _sidecar(path: Path) -> Path:
    """Return the JSON sidecar path beside a data file."""
    stem = path.name.split('.', 1)[0]
    return path.with_name(stem + '.json')


def _pair_hemispheres(files: list[tuple[Path, BidsName]]) -> list[tuple[SavedMap, BidsName]]:
    """Join the GIFTI files of one map, one per hemisphere, into one entry.

    A file with a ``hemi-L`` or ``hemi-R`` entity becomes part of a dict keyed
    ``'left'`` / ``'right'``, named by its entities without ``hemi``; other files
    are kept as they are.
    """
    paired: list[tuple[SavedMap, BidsName]] = []
    groups: dict[tuple[Any, ...], dict[str, Path]] = {}
    for file, name in files:
        part = _PARTS.get(name.entities.get('hemi', ''))
        if part is None:
            paired.append((file, name))
            continue
        entities = {k: v for k, v in name.entities.items() if k != 'hemi'}
        joined = BidsName(entities, name.suffix, name.extension, name.others)
        key = (tuple(entities.items()), name.suffix, name.extension, name.others)
        if key not in groups:
            groups[key] = {}
            paired.append((groups[key], joined))
        groups[key][part] = file
    return paired


def volume_file(saved: SavedMap, what: str = 'This map') -> Path:
    """Return the file of a saved volume map, refusing a surface map.

    Parameters
    ----------
    saved : pathlib.Path or dict
        A map as :class:`LoadedGlm` gives it.
    what : str
        How the message names it.

    Returns
    -------
    pathlib.Path
        The map's NIfTI file.

    Raises
    ------
    InvalidParameterError
        For the map of a surface model (GIFTI by hemisphere, or CIFTI-2), which
        what asked for it does not read.

    Examples
    --------
    >>> volume_file(Path('sub-01_stat-z_statmap.nii.gz')).name
    'sub-01_stat-z_statmap.nii.gz'
    >>> volume_file({'left': Path('a.func.gii')})
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: This map is a surface map ...
    """
    if (
        isinstance(saved, Path)
        and saved.name.endswith(('.nii.gz', '.nii'))
        and not (saved.name.endswith(('.dscalar.nii', '.dtseries.nii')))
    ):
        return saved
    shown = str(saved) if isinstance(saved, Path) else ', '.join(map(str, saved.values()))
    msg = (
        f'{what} is a surface map ({shown}); only volume (NIfTI) maps are read here. '
        'Surface models are saved, read back (load_glm_from_bids), reported and taken to '
        'the group level by the command line.'
    )
    raise InvalidParameterError(msg)


def _first_file(saved: SavedMap) -> Path:
    """Return the file of a map, or its first hemisphere's."""
    return saved if isinstance(saved, Path) else next(iter(saved.values()))


def _per_design(
    designs: list[tuple[Path, BidsName]], maps: Iterable[tuple[SavedMap, BidsName]], stat: str
) -> tuple[SavedMap, ...]:
    """Return the map of each design, matched by the design's entities plus ``stat``."""
    by_entities = {
        tuple(sorted(name.entities.items())): file
        for file, name in maps
        if name.entities.get('stat') == stat
    }
    found = []
    for _file, name in designs:
        key = tuple(sorted({**name.entities, 'stat': stat}.items()))
        if key in by_entities:
            found.append(by_entities[key])
    return tuple(found)


def _contrasts(maps: list[tuple[SavedMap, BidsName]]) -> tuple[LoadedContrast, ...]:
    """Group the contrast maps by label."""
    grouped: dict[str, dict[str, SavedMap]] = {}
    for file, name in maps:
        grouped.setdefault(name.entities['contrast'], {})[name.entities['stat']] = file
    contrasts = []
    for label in sorted(grouped):
        files = grouped[label]
        stat_type: Literal['t', 'F'] = 'F' if 'F' in files else 't'
        metadata = (
            _read_json(_sidecar(_first_file(files[stat_type]))) if stat_type in files else {}
        )
        name = metadata.get('Contrast', {}).get('Name', label)
        contrasts.append(LoadedContrast(str(name), label, stat_type, files, metadata))
    return tuple(contrasts)


def load_glm_from_bids(path: str | os.PathLike[str]) -> LoadedGlm:
    """Read back a model written by :func:`bidsglm.save_glm_to_bids`.

    Parameters
    ----------
    path : path-like
        A model's ``statmap.json``, or a folder holding exactly one (the output
        folder of a single save, or a subject's folder ``sub-<label>``).

    Returns
    -------
    LoadedGlm
        Its metadata, designs, mask, model-level maps and contrasts.

    Raises
    ------
    InputNotFoundError
        If ``path`` does not exist or holds no saved model.
    InvalidParameterError
        If ``path`` holds several models, or is a file but not a ``statmap.json``.

    Examples
    --------
    >>> import tempfile, nibabel as nib, numpy as np
    >>> from bidsglm import save_glm_to_bids
    >>> from bidsglm.models import SecondLevelModel
    >>> maps = [nib.Nifti1Image(np.full((2, 2, 2), v), np.eye(4)) for v in (1., 2., 4.)]
    >>> mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))
    >>> model = SecondLevelModel(mask_img=mask).fit(maps)
    >>> out = tempfile.mkdtemp()
    >>> _ = save_glm_to_bids(model, 'intercept', out_dir=out)
    >>> glm = load_glm_from_bids(out)
    >>> glm.level, glm.contrast('intercept').stat_type, list(glm.designs[0].columns)
    ('second', 't', ['intercept'])
    """
    statmap = _find_statmap(Path(path))
    files = _model_files(statmap)
    designs = sorted(
        ((f, n) for f, n in files if n.suffix == 'design' and n.extension == '.tsv'),
        key=lambda item: _natural_key(item[0]),
    )
    maps = _pair_hemispheres(
        [(f, n) for f, n in files if n.suffix == 'statmap' and n.extension in _MAP_EXTENSIONS]
    )
    model = parse_bids_name(statmap)
    masks = [
        f
        for f, n in _pair_hemispheres(files)
        if n.suffix == 'mask' and n.extension in _MAP_EXTENSIONS and _is_model_level(n, model)
    ]
    means = [f for f, n in maps if _is_model_level(n, model, stat='mean')]
    return LoadedGlm(
        statmap=statmap,
        metadata=_read_json(statmap),
        designs=tuple(pd.read_csv(f, sep='\t') for f, _name in designs),
        design_metadata=tuple(_read_json(_sidecar(f)) for f, _name in designs),
        mask=masks[0] if masks else None,
        mean=means[0] if means else None,
        residuals=_per_design(designs, maps, 'errorts'),
        r_square=_per_design(designs, maps, 'rSquare'),
        contrasts=_contrasts([(f, n) for f, n in maps if {'contrast', 'stat'} <= set(n.entities)]),
        files=tuple(sorted(f for f, _name in files)),
    )
