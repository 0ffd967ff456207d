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
  milliseconds as ``TimeStep``, stored as plain base64 (maps are base64 of
  zlib-deflated data, GIFTI's ``GZipBase64Binary``).
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

import binascii
import functools
import io
import os
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import nibabel as nib
import numpy as np

from bidsglm.bids._files import zlib_compress
from bidsglm.errors import InvalidParameterError
from bidsglm.models.surface import SurfaceLayout

__all__ = [
    'HEMISPHERES',
    'CiftiFile',
    'GiftiFile',
    'StagedSurface',
    'SurfaceMap',
    'check_hemispheres',
    'density_text',
    'staged_surface',
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
#: Maps are base64 of deflated data (GIFTI's usual encoding); time series are base64
#: alone: deflating each scan would cost most of a save's time for noisy residuals
#: that it shrinks by a few percent.
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
    list of GiftiFile, or of one CiftiFile
        Each with ``to_filename(path)``.

    Examples
    --------
    >>> layout = SurfaceLayout('gifti', (('left', 2), ('right', 1)))
    >>> left, right = surface_files(layout, SurfaceMap(np.array([[1.0, 2.0, 3.0]]), 'z', ('z',)))
    >>> right.structure, right.values.tolist()
    ('CortexRight', [[3.0]])
    """
    if layout.kind == 'cifti':
        return [_cifti(layout, surface_map)]
    edges = np.cumsum([count for _name, count in layout.parts])[:-1]
    pieces = np.split(surface_map.values, edges, axis=1)
    return [
        _gifti(piece, HEMISPHERES[name][1], surface_map)
        for (name, _count), piece in zip(layout.parts, pieces, strict=True)
    ]


def _gifti(values: np.ndarray, structure: str, surface_map: SurfaceMap) -> GiftiFile:
    """Describe one hemisphere's GIFTI file: a data array per row, named, with its intent."""
    time_step = None
    if surface_map.series and surface_map.t_r is not None:
        time_step = f'{1000.0 * surface_map.t_r:g}'
    return GiftiFile(
        np.ascontiguousarray(values, dtype='<f4'),
        structure,
        _GIFTI_INTENTS.get(surface_map.stat, 'NIFTI_INTENT_NONE'),
        surface_map.names,
        time_step,
        series=surface_map.series,
    )


@dataclass(frozen=True)
class GiftiFile:
    """A hemisphere's GIFTI file ready to be written: one float32 data array per row.

    nibabel writes a GIFTI file through an XML tree of Python objects and deflates
    each array with zlib at its default level: a second or more for a map's files.
    :meth:`to_filename` writes the XML nibabel writes for the same image (same
    elements, attributes and order), each array deflated with python-isal at level
    1 (the level of every bidsglm ``.nii.gz``): a valid zlib stream that any
    reader inflates to the same values, not the same bytes as zlib's.

    Parameters
    ----------
    values : (k, n_vertices) ndarray of little-endian float32
        The rows.
    structure : str
        ``CortexLeft`` or ``CortexRight`` (``AnatomicalStructurePrimary``).
    intent : str
        Every array's NIfTI intent (``NIFTI_INTENT_ZSCORE``...).
    names : tuple of str
        Each array's ``Name``.
    time_step : str, optional
        A series' repetition time in milliseconds (every array's ``TimeStep``).
    series : bool, default=False
        A time series is stored as base64 alone, a map as base64 of deflated data.

    Examples
    --------
    >>> import tempfile
    >>> path = tempfile.mkdtemp() + '/z.func.gii'
    >>> values = np.array([[1.5, -2.0, 0.0]], dtype='<f4')
    >>> GiftiFile(values, 'CortexLeft', 'NIFTI_INTENT_ZSCORE', ('z',), None).to_filename(path)
    >>> image = nib.load(path)
    >>> image.darrays[0].data.tolist(), image.darrays[0].meta['Name']
    ([1.5, -2.0, 0.0], 'z')
    """

    values: np.ndarray
    structure: str
    intent: str
    names: tuple[str, ...]
    time_step: str | None
    series: bool = False

    def to_filename(self, path: str | os.PathLike[str]) -> None:
        """Write the file."""
        with open(path, 'wb') as stream:
            stream.write(self._opening())
            for row, name in zip(self.values, self.names, strict=True):
                stream.write(self._array_opening(name))
                stream.write(self._encoded(row))
                stream.write(b'</Data></DataArray>')
            stream.write(b'</GIFTI>')

    def image(self) -> nib.gifti.GiftiImage:
        """Return the same file as a nibabel image (what nibabel would write, zlib aside)."""
        encoding = _SERIES_ENCODING if self.series else _MAP_ENCODING
        arrays = [
            nib.gifti.GiftiDataArray(
                row, self.intent, 'NIFTI_TYPE_FLOAT32', encoding=encoding, meta=self._meta(name)
            )
            for row, name in zip(self.values, self.names, strict=True)
        ]
        meta = nib.gifti.GiftiMetaData({'AnatomicalStructurePrimary': self.structure})
        return nib.gifti.GiftiImage(meta=meta, darrays=arrays)

    def _meta(self, name: str) -> dict[str, str]:
        meta = {'Name': name}
        if self.time_step is not None:
            meta['TimeStep'] = self.time_step
        return meta

    def _opening(self) -> bytes:
        structure = _metadata_xml({'AnatomicalStructurePrimary': self.structure})
        return (
            f'{_GIFTI_PROLOGUE}<GIFTI Version="1.0" NumberOfDataArrays="{len(self.values)}">'
            f'{structure}<LabelTable />'
        ).encode()

    def _array_opening(self, name: str) -> bytes:
        encoding = 'Base64Binary' if self.series else 'GZipBase64Binary'
        return (
            f'<DataArray Intent="{self.intent}" DataType="NIFTI_TYPE_FLOAT32" '
            'ArrayIndexingOrder="RowMajorOrder" Dimensionality="1" '
            f'Encoding="{encoding}" Endian="LittleEndian" ExternalFileName="" '
            f'ExternalFileOffset="0" Dim0="{self.values.shape[1]}">'
            f'{_metadata_xml(self._meta(name))}{_IDENTITY_XML}<Data>'
        ).encode()

    def _encoded(self, row: np.ndarray) -> bytes:
        data = row.data if self.series else zlib_compress(row.data)
        return binascii.b2a_base64(data, newline=False)


_GIFTI_PROLOGUE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE GIFTI SYSTEM "http://www.nitrc.org/frs/download.php/115/gifti.dtd">\n'
)
#: The coordinate system nibabel writes for a data array without one.
_IDENTITY_XML = (
    '<CoordinateSystemTransformMatrix><DataSpace>NIFTI_XFORM_UNKNOWN</DataSpace>'
    '<TransformedSpace>NIFTI_XFORM_UNKNOWN</TransformedSpace><MatrixData>'
    + '\n'.join(' '.join(f'{value:10.6f}' for value in row) for row in np.eye(4))
    + '</MatrixData></CoordinateSystemTransformMatrix>'
)


def _metadata_xml(meta: dict[str, str]) -> str:
    """Return a GIFTI ``MetaData`` element, its names and values escaped as XML text."""
    items = ''.join(
        f'<MD><Name>{escape(name)}</Name><Value>{escape(value)}</Value></MD>'
        for name, value in meta.items()
    )
    return f'<MetaData>{items}</MetaData>'


@dataclass(frozen=True, eq=False)
class StagedSurface:
    """A surface map as its files hold it, for what reads a save from memory.

    Parameters
    ----------
    values : (k, n_vertices) ndarray
        The rows, of the type the files store (float32 in GIFTI).
    layout : SurfaceLayout
        The model's surface.

    Examples
    --------
    >>> layout = SurfaceLayout('gifti', (('left', 2), ('right', 1)))
    >>> staged = staged_surface(layout, SurfaceMap(np.array([[0.1, 2.0, 3.0]]), 'z', ('z',)))
    >>> staged.values.dtype, staged.values.shape
    (dtype('float32'), (1, 3))
    """

    values: np.ndarray
    layout: SurfaceLayout


def staged_surface(layout: SurfaceLayout, surface_map: SurfaceMap) -> StagedSurface:
    """Return a map's values as :func:`surface_files` writes them, with the surface."""
    values = surface_map.values
    if layout.kind != 'cifti':
        values = np.asarray(values, dtype=np.float32)  # GIFTI stores float32
    return StagedSurface(values, layout)


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
        """Write the file: NIfTI-2 with the CIFTI-2 extension, the bytes nibabel writes.

        nibabel writes the header; the data are written here, in blocks of
        grayordinates: nibabel writes a NIfTI file's data one row of its Fortran
        order at a time, here one write per grayordinate (91k writes for a series).
        """
        values = self.values.astype(self.values.dtype.newbyteorder('='), copy=False)
        with open(path, 'wb') as stream:
            stream.write(self._header_bytes())
            # Fortran order: the samples of each grayordinate together.
            for start in range(0, values.shape[1], _BLOCK_COLUMNS):
                block = values[:, start : start + _BLOCK_COLUMNS]
                stream.write(np.ascontiguousarray(block.T).data)

    def _header_bytes(self) -> bytes:
        """Return the NIfTI-2 header, its CIFTI-2 extension and the padding up to the data."""
        shape = (1, 1, 1, 1, *self.values.shape)
        header = nib.Nifti2Header()
        header.set_data_dtype(self.values.dtype)
        header.set_data_shape(shape)
        header.set_intent(self.intent)
        header['pixdim'][:4] = 1
        header.extensions.append(nib.nifti1.Nifti1Extension(_CIFTI_EXTENSION_CODE, self.xml))
        header.set_slope_inter(1.0, 0.0)  # as nibabel sets it for float data, unscaled
        block = io.BytesIO()
        header.write_to(block)  # sets the data offset after the extension
        padding = int(header.get_data_offset()) - block.tell()
        return block.getvalue() + bytes(padding)


#: Grayordinates per block of a CIFTI-2 file's data (16 MB of a float64 series of 300).
_BLOCK_COLUMNS = 2**13


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
