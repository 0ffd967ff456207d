"""The files of one map of a surface model: GIFTI per hemisphere, or one CIFTI-2 file.

A volume model writes each map as one NIfTI file. A surface model writes it in the
form its data came in (see :mod:`bidsglm.models.surface`):

- GIFTI runs (a dict of hemispheres) and nilearn's ``SurfaceImage``: one
  ``.func.gii`` file per hemisphere, told apart by the ``hemi-L`` / ``hemi-R``
  entity; the parts must be named ``'left'`` and ``'right'``. Each file records its
  hemisphere as GIFTI metadata (``AnatomicalStructurePrimary``: ``CortexLeft`` or
  ``CortexRight``, as Connectome Workbench writes it), each data array its name
  and, for t, F, p, z and effect maps, its NIfTI intent. A time series
  (``stat-errorts``) has one data array per time point, with the repetition time in
  milliseconds as ``TimeStep``, stored as plain base64 (maps are base64 of gzip).
- CIFTI-2 runs: one file keeping the run's brain models (its grayordinates, surface
  vertices and subcortical voxels): ``.dscalar.nii`` with a scalar axis naming the
  map (one name per row of an F-test's effect), or ``.dtseries.nii`` for a time
  series, with a series axis whose step is the repetition time.

GIFTI stores float32 (its data types are uint8, int32 and float32): the maps of a
GIFTI model are float32 already and are saved as they are; those of a
``SurfaceImage`` model (float64) are rounded to float32 (relative error below 6e-8).
CIFTI-2 maps keep the model's type (float64, as volume maps), the residuals are
float32 in every form, as in volumes. Outside the mask every vertex is 0, as every
voxel outside the mask of a volume map. The mask itself is a map of 1 inside and 0
outside (float32).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

import nibabel as nib
import numpy as np

from bidsglm.errors import InvalidParameterError
from bidsglm.models.surface import SurfaceLayout

__all__ = [
    'HEMISPHERES',
    'CiftiFile',
    'SurfaceMap',
    'check_hemispheres',
    'density_text',
    'surface_file_names',
    'surface_files',
]

#: The ``hemi-`` label and the GIFTI structure of each part of a GIFTI or
#: ``SurfaceImage`` model.
HEMISPHERES: dict[str, tuple[str, str]] = {
    'left': ('L', 'CortexLeft'),
    'right': ('R', 'CortexRight'),
}
_GIFTI_INTENTS = {
    'effect': 'NIFTI_INTENT_ESTIMATE',
    't': 'NIFTI_INTENT_TTEST',
    'F': 'NIFTI_INTENT_FTEST',
    'p': 'NIFTI_INTENT_PVAL',
    'z': 'NIFTI_INTENT_ZSCORE',
    'errorts': 'NIFTI_INTENT_TIME_SERIES',
}
_GIFTI_EXTENSION = '.func.gii'
#: Maps are base64 of gzip (GIFTI's usual encoding); time series are base64 alone:
#: nibabel deflates each scan at zlib's default level, most of a save's time for
#: noisy residuals that it shrinks by a few percent.
_MAP_ENCODING = 'GIFTI_ENCODING_B64GZ'
_SERIES_ENCODING = 'GIFTI_ENCODING_B64BIN'
_CIFTI_EXTENSIONS = {False: '.dscalar.nii', True: '.dtseries.nii'}


@dataclass(frozen=True)
class SurfaceMap:
    """One map to write on a surface.

    Parameters
    ----------
    values : (k, n_vertices) ndarray
        The values of every vertex of the surface, one row per sample (a time point,
        or a row of an F-test's effect); 0 outside the mask.
    stat : str
        What the map is (``'z'``, ``'errorts'``, ``'mask'``...): sets the GIFTI intent.
    names : tuple of str
        The name of each row (data-array names in GIFTI, the scalar axis in CIFTI).
    t_r : float or None
        For a time series: the repetition time in seconds, when known.
    series : bool
        Whether the rows are time points (``stat-errorts``).
    """

    values: np.ndarray
    stat: str
    names: tuple[str, ...]
    t_r: float | None = None
    series: bool = False


def check_hemispheres(layout: SurfaceLayout) -> None:
    """Refuse a GIFTI or ``SurfaceImage`` layout whose parts are not hemispheres.

    Raises
    ------
    InvalidParameterError
        If a part is not named ``'left'`` or ``'right'``: its files could not get a
        ``hemi-`` entity.

    Examples
    --------
    >>> check_hemispheres(SurfaceLayout('gifti', (('left', 2), ('right', 2))))
    >>> check_hemispheres(SurfaceLayout('gifti', (('lh', 2),)))
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: The surface parts ['lh'] cannot be saved: ...
    """
    if layout.kind == 'cifti':
        return
    unknown = [name for name, _count in layout.parts if name not in HEMISPHERES]
    if unknown:
        msg = (
            f'The surface parts {unknown} cannot be saved: each part becomes a file '
            "with a hemi-L or hemi-R entity, so the parts must be named 'left' and "
            "'right'. Fit the model with runs given as {'left': ..., 'right': ...}."
        )
        raise InvalidParameterError(msg)


def surface_file_names(layout: SurfaceLayout, *, series: bool) -> list[tuple[dict[str, str], str]]:
    """Return the extra entities and extension of each file of one map.

    Parameters
    ----------
    layout : SurfaceLayout
        The model's surface.
    series : bool
        Whether the map is a time series (CIFTI: ``.dtseries.nii``).

    Returns
    -------
    list of (dict, str)
        One ``({'hemi': 'L'}, '.func.gii')`` per hemisphere for GIFTI and
        ``SurfaceImage`` models, one ``({}, '.dscalar.nii')`` (or ``.dtseries.nii``)
        for CIFTI models.

    Examples
    --------
    >>> surface_file_names(SurfaceLayout('gifti', (('left', 2), ('right', 2))), series=False)
    [({'hemi': 'L'}, '.func.gii'), ({'hemi': 'R'}, '.func.gii')]
    """
    if layout.kind == 'cifti':
        return [({}, _CIFTI_EXTENSIONS[series])]
    return [({'hemi': HEMISPHERES[name][0]}, _GIFTI_EXTENSION) for name, _count in layout.parts]


def surface_files(layout: SurfaceLayout, surface_map: SurfaceMap) -> list[Any]:
    """Build the images of one map, in the order of :func:`surface_file_names`.

    Parameters
    ----------
    layout : SurfaceLayout
        The model's surface.
    surface_map : SurfaceMap
        The map.

    Returns
    -------
    list of nibabel.gifti.GiftiImage, or of one CiftiFile
        Each with ``to_filename(path)``.

    Examples
    --------
    >>> layout = SurfaceLayout('gifti', (('left', 2), ('right', 1)))
    >>> left, right = surface_files(layout, SurfaceMap(np.array([[1.0, 2.0, 3.0]]), 'z', ('z',)))
    >>> right.meta['AnatomicalStructurePrimary'], right.darrays[0].data.tolist()
    ('CortexRight', [3.0])
    """
    if layout.kind == 'cifti':
        return [_cifti(layout, surface_map)]
    edges = np.cumsum([count for _name, count in layout.parts])[:-1]
    pieces = np.split(surface_map.values, edges, axis=1)
    return [
        _gifti(piece, HEMISPHERES[name][1], surface_map)
        for (name, _count), piece in zip(layout.parts, pieces, strict=True)
    ]


def _gifti(values: np.ndarray, structure: str, surface_map: SurfaceMap) -> nib.gifti.GiftiImage:
    """Build one hemisphere's GIFTI image: a data array per row, named, with its intent."""
    intent = _GIFTI_INTENTS.get(surface_map.stat, 'NIFTI_INTENT_NONE')
    encoding = _SERIES_ENCODING if surface_map.series else _MAP_ENCODING
    arrays = []
    for row, name in zip(values, surface_map.names, strict=True):
        meta = {'Name': name}
        if surface_map.series and surface_map.t_r is not None:
            meta['TimeStep'] = f'{1000.0 * surface_map.t_r:g}'
        data = np.ascontiguousarray(row, dtype=np.float32)
        array = nib.gifti.GiftiDataArray(
            data, intent, 'NIFTI_TYPE_FLOAT32', encoding=encoding, meta=meta
        )
        arrays.append(array)
    meta = {'AnatomicalStructurePrimary': structure}
    return nib.gifti.GiftiImage(meta=nib.gifti.GiftiMetaData(meta), darrays=arrays)


@dataclass(frozen=True)
class CiftiFile:
    """A CIFTI-2 file ready to be written: its values and its header's XML.

    nibabel's ``Cifti2Image.to_filename`` rebuilds the axes of the header and
    serialises the grayordinates again for every file: seconds each at 91k
    grayordinates. Here the brain models are serialised once per surface
    (:func:`_brain_models_xml`) and each file's XML is the same bytes nibabel
    writes, put together.

    Parameters
    ----------
    values : (k, n_grayordinates) ndarray
        The rows of the file.
    xml : bytes
        The CIFTI-2 header (``<CIFTI Version="2.0">...``).
    intent : str
        The NIfTI-2 intent: ``'ConnDenseScalar'`` or ``'ConnDenseSeries'``.
    """

    values: np.ndarray
    xml: bytes
    intent: str

    def to_filename(self, path: str | os.PathLike[str]) -> None:
        """Write the file (NIfTI-2 with the CIFTI-2 extension, as nibabel writes it)."""
        shape = (1, 1, 1, 1, *self.values.shape)
        header = nib.Nifti2Header()
        header.set_data_dtype(self.values.dtype)
        header.set_data_shape(shape)
        header.set_intent(self.intent)
        header['pixdim'][:4] = 1
        header.extensions.append(nib.nifti1.Nifti1Extension(_CIFTI_EXTENSION_CODE, self.xml))
        nib.Nifti2Image(self.values.reshape(shape), None, header).to_filename(path)


_CIFTI_EXTENSION_CODE = 32


@functools.lru_cache(maxsize=4)
def _brain_models_xml(layout: SurfaceLayout) -> bytes:
    """Serialise the brain models of a CIFTI surface once (the layout is hashed by identity)."""
    return bytes(layout.brain_models.to_xml())


def _cifti(layout: SurfaceLayout, surface_map: SurfaceMap) -> CiftiFile:
    """Build the CIFTI-2 file of a map (dense scalars) or a series (dense data series)."""
    first: nib.cifti2.ScalarAxis | nib.cifti2.SeriesAxis
    if surface_map.series:
        first = nib.cifti2.SeriesAxis(0.0, float(surface_map.t_r or 1.0), len(surface_map.values))
        intent = 'ConnDenseSeries'
    else:
        first = nib.cifti2.ScalarAxis(list(surface_map.names))
        intent = 'ConnDenseScalar'
    samples = bytes(first.to_mapping(0).to_xml())
    xml = b'<CIFTI Version="2.0"><Matrix>' + samples + _brain_models_xml(layout)
    return CiftiFile(surface_map.values, xml + b'</Matrix></CIFTI>', intent)


def density_text(layout: SurfaceLayout) -> str:
    """Describe the density of a surface from its own vertex counts, for ``Density``.

    Parameters
    ----------
    layout : SurfaceLayout
        The model's surface.

    Returns
    -------
    str

    Examples
    --------
    >>> density_text(SurfaceLayout('gifti', (('left', 10242), ('right', 10242))))
    '10242 vertices per hemisphere (left 10242, right 10242), as in the input files'
    """
    if layout.kind == 'cifti':
        return f'{layout.n_vertices} grayordinates, as in the input files'
    counts = {count for _name, count in layout.parts}
    parts = ', '.join(f'{name} {count}' for name, count in layout.parts)
    each = f'{counts.pop()} vertices per hemisphere' if len(counts) == 1 else 'vertices'
    return f'{each} ({parts}), as in the input files'
