"""Surface data: GIFTI hemispheres, CIFTI-2 dense files and nilearn's ``SurfaceImage``.

A surface run (or map) is given in one of three forms:

- a dict of GIFTI files or images, one per part, ``{'left': ..., 'right': ...}``
  (fMRIPrep's ``hemi-L``/``hemi-R`` ``.func.gii``), whose data arrays are the time
  points (or one 2D array, vertices by time points);
- a CIFTI-2 dense file (``.dtseries.nii`` for runs, ``.dscalar.nii`` for maps) or a
  ``nibabel.Cifti2Image``: samples along the first axis, grayordinates (cortical
  vertices and subcortical voxels together) along the second;
- nilearn's ``SurfaceImage``, recognised by its ``mesh`` and ``data.parts`` (nilearn is
  never imported).

Each becomes a :class:`SurfaceData`: a ``(n_samples, n_vertices)`` matrix, the
vertices of the parts one after the other, and a :class:`SurfaceLayout` that turns
per-vertex values back into an image of the input's own kind (a dict of GIFTI images,
a CIFTI-2 image with the input's brain models, or a ``SurfaceImage`` on the input's
mesh). The GLM itself does not know it runs on a surface: it sees the matrix.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import os
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from xml.etree import ElementTree

import nibabel as nib
import numpy as np
from isal import isal_zlib

from bidsglm.errors import (
    ImageDimensionError,
    InvalidParameterError,
    ParameterTypeError,
    ShapeMismatchError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import DTypeLike

__all__ = [
    'SurfaceData',
    'SurfaceLayout',
    'SurfaceMask',
    'SurfaceMasker',
    'compute_surface_mask',
    'is_surface_input',
    'model_indices',
    'place_kept',
    'read_on_layout',
    'read_surface',
    'read_surface_mask',
    'refuse_volume_parameters',
    'surface_shape',
]

#: File endings read as CIFTI-2 dense files.
CIFTI_SUFFIXES = ('.dtseries.nii', '.dscalar.nii')


def refuse_volume_parameters(model: Any, inputs: str) -> None:  # noqa: ANN401 - either model
    """Refuse a model's smoothing and resampling on surface inputs, with the way out.

    Smoothing is not defined on a surface here (smooth along the surface before the
    GLM) and resampling has no meaning.

    Parameters
    ----------
    model : FirstLevelModel or SecondLevelModel
        The model, with ``smoothing_fwhm``, ``target_affine`` and ``target_shape``.
    inputs : str
        What the inputs are, for the message (``'these runs are surface data'``).

    Raises
    ------
    InvalidParameterError
        If one of those parameters is set.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(smoothing_fwhm=6.0, target_affine=None, target_shape=None)
    >>> refuse_volume_parameters(model, 'these maps are on a surface')
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: smoothing_fwhm applies to volumes; these maps...
    """
    resampling = 'surface data need no resampling'
    volume_only = (
        ('smoothing_fwhm', model.smoothing_fwhm, 'smooth along the surface before the '
         "GLM (e.g. with Connectome Workbench's -cifti-smoothing) if needed"),
        ('target_affine', model.target_affine, resampling),
        ('target_shape', model.target_shape, resampling),
    )  # fmt: skip
    for name, value, hint in volume_only:
        if value is not None:
            msg = f'{name} applies to volumes; {inputs}. Leave {name} out: {hint}.'
            raise InvalidParameterError(msg)


@dataclass(frozen=True, eq=False)
class SurfaceLayout:
    """The parts of a surface dataset and how to rebuild images of its kind.

    Parameters
    ----------
    kind : {'gifti', 'cifti', 'surface_image'}
        The form the data came in, and the form outputs take.
    parts : tuple of (str, int)
        Each part's name and number of vertices, in order (``left``, ``right`` for
        GIFTI and ``SurfaceImage``; the brain structures of a CIFTI file).
    brain_models : nibabel.cifti2.Cifti2MatrixIndicesMap, optional
        The grayordinates of a CIFTI input (its brain-models index map, written back
        into the outputs as it is).
    series : nibabel.cifti2.Cifti2MatrixIndicesMap, optional
        The time axis of a CIFTI run (its start, step and unit are kept).
    template : object, optional
        A ``SurfaceImage`` input: outputs are built by its class on its mesh.
    signature : str
        CIFTI: a digest of the grayordinates, to tell two files apart.

    Examples
    --------
    >>> layout = SurfaceLayout('gifti', (('left', 3), ('right', 2)))
    >>> layout.n_vertices
    5
    >>> images = layout.make(np.arange(5.0))
    >>> images['right'].darrays[0].data.tolist()
    [3.0, 4.0]
    """

    kind: str
    parts: tuple[tuple[str, int], ...]
    brain_models: Any = None
    series: Any = None
    template: Any = None
    signature: str = ''

    @property
    def n_vertices(self) -> int:
        """The number of vertices (grayordinates) over all parts."""
        return sum(count for _name, count in self.parts)

    def describe(self) -> str:
        """Name the layout in words, for messages: ``'GIFTI (left 3, right 2)'``."""
        names = {'gifti': 'GIFTI', 'cifti': 'CIFTI-2', 'surface_image': 'SurfaceImage'}
        if self.kind == 'cifti':
            return f'CIFTI-2 ({self.n_vertices} grayordinates)'
        counts = ', '.join(f'{name} {count}' for name, count in self.parts)
        return f'{names[self.kind]} ({counts})'

    def matches(self, other: SurfaceLayout) -> bool:
        """Whether ``other`` holds the same vertices in the same order."""
        if self.kind != other.kind or self.parts != other.parts:
            return False
        if self.kind == 'cifti':
            return self.signature == other.signature
        return True

    def make(self, values: np.ndarray, names: list[str] | None = None) -> Any:  # noqa: ANN401
        """Build an image of the layout's kind from per-vertex values.

        Parameters
        ----------
        values : (n_vertices,) or (k, n_vertices) ndarray
            One map, or ``k`` samples (time points, or rows of an F-test effect).
        names : list of str, optional
            CIFTI only: the names of the ``k`` maps (a ``.dscalar.nii``); without
            names a 2D array is a series (a ``.dtseries.nii``) and a 1D one a single
            map.

        Returns
        -------
        dict of str to nibabel.gifti.GiftiImage, nibabel.Cifti2Image or SurfaceImage
        """
        values = np.asarray(values)
        if values.shape[-1] != self.n_vertices:
            msg = (
                f'{values.shape[-1]} values per sample were given for a surface of '
                f'{self.n_vertices} vertices ({self.describe()}).'
            )
            raise ShapeMismatchError(msg)
        if self.kind == 'cifti':
            return self._cifti(values, names)
        pieces = dict(zip(self._names(), self._split(values), strict=True))
        if self.kind == 'gifti':
            return {name: _gifti(piece) for name, piece in pieces.items()}
        data = {name: piece.T for name, piece in pieces.items()}
        return type(self.template)(mesh=self.template.mesh, data=data)

    def _names(self) -> list[str]:
        return [name for name, _count in self.parts]

    def _split(self, values: np.ndarray) -> list[np.ndarray]:
        edges = np.cumsum([count for _name, count in self.parts])[:-1]
        return np.split(values, edges, axis=-1)

    def _cifti(self, values: np.ndarray, names: list[str] | None) -> nib.Cifti2Image:
        rows = np.atleast_2d(values)
        if names is None and values.ndim == 1:
            names = ['map']
        first: nib.cifti2.ScalarAxis | nib.cifti2.SeriesAxis
        if names is not None:
            first = nib.cifti2.ScalarAxis(names)
        elif self.series is not None:
            first = nib.cifti2.SeriesAxis(
                float(self.series.series_start),
                float(self.series.series_step),
                rows.shape[0],
                str(self.series.series_unit),
            )
        else:
            first = nib.cifti2.SeriesAxis(0.0, 1.0, rows.shape[0])
        matrix = nib.cifti2.Cifti2Matrix()
        matrix.append(first.to_mapping(0))
        matrix.append(self.brain_models)
        return _cifti_image(rows, matrix)


def _cifti_image(rows: np.ndarray, matrix: nib.cifti2.Cifti2Matrix) -> nib.Cifti2Image:
    """Make a CIFTI-2 image of ``rows`` whose header holds ``matrix``, shared, not copied.

    Given a header, nibabel deep-copies it: seconds for the Python lists of 91k
    grayordinates, for every map. The image is made bare (nibabel warns that its
    empty header does not match the data, as its own examples do), then given the
    matrix.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='Dataobj shape', category=UserWarning)
        image = nib.Cifti2Image(rows)
    image.header.matrix = matrix
    image.update_headers()
    return image


def _gifti(values: np.ndarray) -> nib.gifti.GiftiImage:
    """One GIFTI image: a data array per sample (one for a single map), float32."""
    rows = np.atleast_2d(values).astype(np.float32)
    arrays = [nib.gifti.GiftiDataArray(row, datatype='NIFTI_TYPE_FLOAT32') for row in rows]
    return nib.gifti.GiftiImage(darrays=arrays)


@dataclass(frozen=True, eq=False)
class SurfaceData:
    """Surface samples as a matrix: ``data[sample, vertex]``.

    Parameters
    ----------
    data : (n_samples, n_vertices) ndarray
        The values, a row per time point (or per map).
    layout : SurfaceLayout
        What the columns are.
    source : str, optional
        The file the data came from (the first one for GIFTI parts).
    """

    data: np.ndarray
    layout: SurfaceLayout
    source: str | None = None

    @property
    def n_samples(self) -> int:
        """The number of time points (or maps)."""
        return int(self.data.shape[0])


def is_surface_input(value: object) -> bool:
    """Whether ``value`` is one of the surface forms this module reads.

    Examples
    --------
    >>> is_surface_input({'left': 'a.func.gii', 'right': 'b.func.gii'})
    True
    >>> is_surface_input('sub-01_task-x_space-fsLR_den-91k_bold.dtseries.nii')
    True
    >>> is_surface_input('sub-01_task-x_bold.nii.gz')
    False
    """
    if isinstance(value, (SurfaceData, nib.Cifti2Image, nib.gifti.GiftiImage, dict)):
        return True
    if isinstance(value, (str, os.PathLike)):
        name = os.fspath(value)
        return name.endswith(CIFTI_SUFFIXES) or name.endswith('.gii')
    return _is_surface_image(value)


def _is_surface_image(value: object) -> bool:
    """Tell nilearn's ``SurfaceImage`` by duck typing: a mesh, and data with parts."""
    return hasattr(value, 'mesh') and hasattr(getattr(value, 'data', None), 'parts')


def read_surface(value: object, name: str = 'image') -> SurfaceData:
    """Read a surface run or map in any of the module's forms into a matrix.

    Parameters
    ----------
    value : dict, path, nibabel.Cifti2Image, SurfaceImage or SurfaceData
        The data (see the module's notes).
    name : str
        How messages call it (``'run 2'``).

    Returns
    -------
    SurfaceData

    Raises
    ------
    ImageDimensionError
        A GIFTI file without data, a CIFTI file whose axes are not samples then
        brain models, or a single GIFTI file (a hemisphere alone).
    ShapeMismatchError
        Parts with different numbers of samples.

    Examples
    --------
    >>> import nibabel as nib
    >>> hemisphere = nib.gifti.GiftiImage(darrays=[
    ...     nib.gifti.GiftiDataArray(np.full(4, t, np.float32)) for t in range(3)])
    >>> run = read_surface({'left': hemisphere, 'right': hemisphere})
    >>> run.data.shape, run.layout.describe()
    ((3, 8), 'GIFTI (left 4, right 4)')
    """
    if isinstance(value, SurfaceData):
        return value
    if isinstance(value, dict):
        return _read_gifti_parts(value, name)
    if isinstance(value, nib.Cifti2Image):
        return _read_cifti(value, name, None)
    if isinstance(value, (str, os.PathLike)) and os.fspath(value).endswith(CIFTI_SUFFIXES):
        return _read_cifti_file(value, name)
    if _is_surface_image(value):
        return _read_surface_image(value, name)
    if isinstance(value, nib.gifti.GiftiImage) or (
        isinstance(value, (str, os.PathLike)) and os.fspath(value).endswith('.gii')
    ):
        msg = (
            f'{name} is a single GIFTI file: a surface run needs its hemispheres '
            "together, as a dict such as {'left': 'sub-01_hemi-L_bold.func.gii', "
            "'right': 'sub-01_hemi-R_bold.func.gii'}."
        )
        raise ImageDimensionError(msg)
    msg = (
        f'{name} is not surface data: give a dict of GIFTI hemispheres, a CIFTI-2 '
        f'.dtseries.nii/.dscalar.nii, or a nilearn SurfaceImage (got {type(value).__name__}).'
    )
    raise ParameterTypeError(msg)


def _load(path: str | os.PathLike[str], name: str) -> Any:  # noqa: ANN401
    if not os.path.exists(path):
        from bidsglm.errors import InputNotFoundError  # noqa: PLC0415 - errors only

        msg = f'{name}: no file at {os.fspath(path)!r}.'
        raise InputNotFoundError(msg)
    return nib.load(path)


def _read_gifti_parts(parts: Mapping[Any, Any], name: str) -> SurfaceData:
    if not parts or not all(isinstance(key, str) for key in parts):
        msg = (
            f'{name}: a dict of GIFTI hemispheres needs string keys, one per part, '
            "such as {'left': ..., 'right': ...}."
        )
        raise ParameterTypeError(msg)
    matrices = []
    for part, item in parts.items():
        rows = _plain_gifti_rows(item) if isinstance(item, (str, os.PathLike)) else None
        if rows is not None:
            matrices.append(_rows_matrix(rows, f'{name} ({part})'))
            continue
        image = _load(item, f'{name} ({part})') if isinstance(item, (str, os.PathLike)) else item
        matrices.append(_gifti_matrix(image, f'{name} ({part})'))
    _check_same_samples([m.shape[0] for m in matrices], list(parts), name)
    layout = SurfaceLayout(
        'gifti', tuple((part, m.shape[1]) for part, m in zip(parts, matrices, strict=True))
    )
    first = next(iter(parts.values()))
    source = os.fspath(first) if isinstance(first, (str, os.PathLike)) else None
    return SurfaceData(np.concatenate(matrices, axis=1), layout, source)


def _gifti_matrix(image: object, name: str) -> np.ndarray:
    """Return a GIFTI image's data as ``(n_samples, n_vertices)``."""
    if not isinstance(image, nib.gifti.GiftiImage):
        msg = f'{name} is not a GIFTI image (got {type(image).__name__}).'
        raise ParameterTypeError(msg)
    return _rows_matrix([np.asarray(array.data) for array in image.darrays], name)


def _rows_matrix(arrays: list[np.ndarray], name: str) -> np.ndarray:
    """Stack a GIFTI file's data arrays as ``(n_samples, n_vertices)``, or refuse them."""
    if not arrays:
        msg = f'{name} is a GIFTI file without data arrays: it holds no time point.'
        raise ImageDimensionError(msg)
    if len(arrays) == 1 and arrays[0].ndim == 2:
        return arrays[0].T
    if any(array.ndim != 1 for array in arrays) or len({a.shape for a in arrays}) > 1:
        msg = (
            f'{name}: its GIFTI data arrays must be one vector per time point, all of '
            'one length (or a single 2D array of vertices by time points).'
        )
        raise ImageDimensionError(msg)
    return np.stack(arrays)


#: The GIFTI data types, encodings and byte orders :func:`_plain_gifti_rows` reads.
_GIFTI_TYPES = {'NIFTI_TYPE_FLOAT32': 'f4', 'NIFTI_TYPE_INT32': 'i4', 'NIFTI_TYPE_UINT8': 'u1'}
_GIFTI_ENCODINGS = ('Base64Binary', 'GZipBase64Binary')
_GIFTI_ORDERS = {'LittleEndian': '<', 'BigEndian': '>'}
_ISAL_ERROR = cast('type[Exception]', isal_zlib.error)


def _plain_gifti_rows(path: str | os.PathLike[str]) -> list[np.ndarray] | None:
    """Read the data arrays of a plain GIFTI file: one vector each, base64 (of zlib data).

    nibabel's reader hands the text of every array through Python, piece by piece:
    twice the time it takes to decode the arrays. Here the XML is parsed by the
    standard library's C parser and each array decoded whole (inflated by
    python-isal). A file with anything else (external, ASCII or 2D arrays, other
    types) returns None and is read by nibabel, which also gives its errors.
    """
    if not os.path.isfile(path):
        return None
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError:
        return None
    rows = []
    for array in root.iter('DataArray'):
        dtype = _plain_gifti_dtype(array.attrib)
        text = array.findtext('Data')
        if dtype is None or text is None:
            return None
        try:
            raw = binascii.a2b_base64(text)
            if array.attrib['Encoding'] == 'GZipBase64Binary':
                raw = isal_zlib.decompress(raw)
        except (binascii.Error, _ISAL_ERROR):
            return None  # damaged: nibabel says how
        row = np.frombuffer(raw, dtype=dtype)
        if row.size != int(array.attrib['Dim0']):
            return None
        rows.append(row.astype(dtype.newbyteorder('='), copy=False))
    return rows


def _plain_gifti_dtype(attributes: Mapping[str, str]) -> np.dtype[Any] | None:
    """Return the type of a GIFTI data array this module reads itself, else None."""
    plain = (
        attributes.get('Encoding') in _GIFTI_ENCODINGS
        and attributes.get('Dimensionality') == '1'
        and not attributes.get('ExternalFileName')
        and attributes.get('DataType') in _GIFTI_TYPES
        and attributes.get('Endian') in _GIFTI_ORDERS
        and attributes.get('Dim0', '').isdigit()
    )
    if not plain:
        return None
    return np.dtype(_GIFTI_ORDERS[attributes['Endian']] + _GIFTI_TYPES[attributes['DataType']])


def _check_same_samples(counts: list[int], parts: list[Any], name: str) -> None:
    if len(set(counts)) > 1:
        described = ', '.join(f'{part} {count}' for part, count in zip(parts, counts, strict=True))
        msg = (
            f'{name}: its parts hold different numbers of time points ({described}); '
            'the hemispheres of one run must come from the same acquisition.'
        )
        raise ShapeMismatchError(msg)


def _read_cifti(image: object, name: str, source: str | None) -> SurfaceData:
    """Read a dense CIFTI-2 image from its header's index maps.

    nibabel's axis objects are not built: for 91k grayordinates they take seconds
    each way. The grayordinates' index map is kept as it is and written back into
    the outputs.
    """
    layout = _cifti_layout(image, name)
    return SurfaceData(np.asarray(cast('nib.Cifti2Image', image).dataobj), layout, source)


def _cifti_layout(image: object, name: str) -> SurfaceLayout:
    """Check a CIFTI-2 image's axes (samples, then brain models) and return its layout."""
    if not isinstance(image, nib.Cifti2Image):
        msg = f'{name} is not a CIFTI-2 image (got {type(image).__name__}).'
        raise ImageDimensionError(msg)
    brain_map = None
    if image.ndim == 2 and _map_kind(image.header.matrix, 1) == _BRAIN_MODELS:
        brain_map = image.header.matrix.get_index_map(1)
    known = _BrainModels.of(brain_map) if brain_map is not None else None
    return _matrix_layout(image.header.matrix, image.ndim, known, name)


def _matrix_layout(
    matrix: Any,  # noqa: ANN401 - nibabel's Cifti2Matrix
    ndim: int,
    brain_models: _BrainModels | None,
    name: str,
) -> SurfaceLayout:
    """Check the index maps of a CIFTI-2 matrix (samples, then brain models): its layout.

    ``brain_models`` is the brain-models map of dimension 1, read (None when there is
    none, which is refused).
    """
    kinds = [_map_kind(matrix, dimension) for dimension in range(ndim)]
    if brain_models is not None and ndim == 2:
        kinds[1] = _BRAIN_MODELS
    if ndim != 2 or kinds[0] not in _SAMPLE_MAPS or brain_models is None:
        described = ', '.join(kind.removeprefix('CIFTI_INDEX_TYPE_') for kind in kinds)
        msg = (
            f'{name} is a CIFTI-2 file with axes ({described}); bidsglm reads dense '
            'files: a series or scalar axis first, brain models second '
            '(.dtseries.nii or .dscalar.nii).'
        )
        raise ImageDimensionError(msg)
    samples = matrix.get_index_map(0)
    series = samples if kinds[0] == _SERIES else None
    return SurfaceLayout(
        'cifti',
        brain_models.parts,
        brain_models=brain_models.index_map,
        series=series,
        signature=brain_models.signature,
    )


@dataclass(frozen=True, eq=False)
class _BrainModels:
    """A CIFTI-2 brain-models index map, with its parts and its digest, computed once."""

    index_map: Any
    parts: tuple[tuple[str, int], ...]
    signature: str

    @classmethod
    def of(cls, index_map: Any) -> _BrainModels:  # noqa: ANN401 - nibabel's index map
        parts = tuple(
            (str(model.brain_structure), int(model.index_count))
            for model in index_map.brain_models
        )
        return cls(index_map, parts, _brain_signature(index_map))


_CIFTI_EXTENSION_CODE = 32
_BRAIN_MODELS_MARK = b'"CIFTI_INDEX_TYPE_BRAIN_MODELS"'
_MAP_END = b'</MatrixIndicesMap>'


def _read_cifti_file(path: str | os.PathLike[str], name: str) -> SurfaceData:
    """Read a CIFTI-2 dense file, parsing each distinct set of grayordinates once.

    nibabel's ``load`` parses the whole header's XML into Python objects and copies
    them, for each file: a second or two at 91k grayordinates, for a file whose data
    take a tenth of that to read. Here the header is read as NIfTI-2 and the
    brain-models map is cut out of the XML as bytes: equal bytes (the runs of one
    subject, a model's own maps) are parsed once (:func:`_parse_brain_models`), only
    the small rest of the XML every time. A file this does not recognise (not
    NIfTI-2, scaled data, a matrix with two brain-models maps...) is read by
    nibabel, which also gives its errors.
    """
    if not os.path.exists(path):
        _load(path, name)  # raises the error that names the missing file
    read = _read_plain_cifti(os.fspath(path))
    if read is None:
        return _read_cifti(_load(path, name), name, os.fspath(path))
    data, matrix, brain_models = read
    layout = _matrix_layout(matrix, data.ndim, brain_models, name)
    return SurfaceData(data, layout, os.fspath(path))


@dataclass(frozen=True)
class _PlainCifti:
    """What the header of a plain CIFTI-2 file says (see :func:`_plain_cifti`)."""

    header: Any
    shape: tuple[int, int]
    matrix: Any
    brain_models: _BrainModels


def _plain_cifti(stream: BinaryIO) -> _PlainCifti | None:
    """Read the header of a plain CIFTI-2 file: NIfTI-2, one brain-models map, unscaled.

    Its ``shape`` is (samples, grayordinates), its ``matrix`` the index maps less
    the brain models. Returns None for anything else (nibabel then reads the file).
    """
    try:
        header = nib.Nifti2Header.from_fileobj(stream)
    except (nib.spatialimages.HeaderDataError, nib.wrapstruct.WrapStructError, ValueError):
        return None
    shape = tuple(int(n) for n in header.get_data_shape())
    xml = [e.content for e in header.extensions if e.get_code() == _CIFTI_EXTENSION_CODE]
    pieces = _cut_brain_models(xml[0]) if len(xml) == 1 else None
    if pieces is None or len(shape) != 6 or shape[:4] != (1, 1, 1, 1) or _scaled(header):
        return None
    element, rest = pieces
    brain_models = _parse_brain_models(element)
    if brain_models is None:
        return None
    matrix = nib.cifti2.Cifti2Extension.from_bytes(rest).get_content().matrix
    return _PlainCifti(header, (shape[4], shape[5]), matrix, brain_models)


def _read_plain_cifti(path: str) -> tuple[np.ndarray, Any, _BrainModels] | None:
    """Read a plain CIFTI-2 file: data, the matrix less its brain models, the brain models.

    Returns None for anything else (nibabel then reads the file).
    """
    with open(path, 'rb') as stream:
        plain = _plain_cifti(stream)
        if plain is None:
            return None
        dtype = plain.header.get_data_dtype()
        stream.seek(int(plain.header.get_data_offset()))
        count = plain.shape[0] * plain.shape[1]
        flat = np.fromfile(stream, dtype=dtype, count=count)
    if flat.size != count:
        return None  # a truncated file: nibabel says so
    # NIfTI stores the samples of one grayordinate together (Fortran order).
    data = flat.astype(dtype.newbyteorder('='), copy=False).reshape(plain.shape[::-1]).T
    return data, plain.matrix, plain.brain_models


def _cifti_file_shape(path: str | os.PathLike[str], name: str) -> tuple[int, int]:
    """Check a CIFTI-2 file's header as :func:`read_surface` does; return its shape."""
    if os.path.exists(path):
        with open(path, 'rb') as stream:
            plain = _plain_cifti(stream)
        if plain is not None:
            layout = _matrix_layout(plain.matrix, 2, plain.brain_models, name)
            return plain.shape[0], layout.n_vertices
    image = _load(path, name)
    layout = _cifti_layout(image, name)
    return int(image.shape[0]), layout.n_vertices


def _scaled(header: Any) -> bool:  # noqa: ANN401 - nibabel's header
    """Whether a NIfTI header scales its data (a CIFTI-2 file never should)."""
    slope, inter = header.get_slope_inter()
    return (slope is not None and slope != 1) or (inter is not None and inter != 0)


def _cut_brain_models(xml: bytes) -> tuple[bytes, bytes] | None:
    """Cut the one brain-models index map out of a CIFTI-2 XML header.

    Returns the map's element and the header without it, or None when there is
    not exactly one such map.

    Examples
    --------
    >>> xml = (b'<CIFTI><Matrix><MatrixIndicesMap IndicesMapToDataType="SCALARS"/>'
    ...        b'<MatrixIndicesMap IndicesMapToDataType="CIFTI_INDEX_TYPE_BRAIN_MODELS">'
    ...        b'<BrainModel/></MatrixIndicesMap></Matrix></CIFTI>')
    >>> models, rest = _cut_brain_models(xml)
    >>> models
    b'<MatrixIndicesMap IndicesMapToDataType="CIFTI_INDEX_TYPE_BRAIN_MODELS"><BrainModel/></MatrixIndicesMap>'
    >>> rest
    b'<CIFTI><Matrix><MatrixIndicesMap IndicesMapToDataType="SCALARS"/></Matrix></CIFTI>'
    """  # noqa: E501 - a doctest's output line
    mark = xml.find(_BRAIN_MODELS_MARK)
    if mark < 0 or xml.find(_BRAIN_MODELS_MARK, mark + 1) >= 0:
        return None
    start = xml.rfind(b'<MatrixIndicesMap', 0, mark)
    end = xml.find(_MAP_END, mark)
    if start < 0 or end < 0:
        return None
    end += len(_MAP_END)
    return xml[start:end], xml[:start] + xml[end:]


@functools.lru_cache(maxsize=8)
def _parse_brain_models(element: bytes) -> _BrainModels | None:
    """Parse a brain-models index map (its XML element), once per distinct element.

    Returns None unless it is the map of the second dimension (the grayordinates).
    """
    xml = b'<CIFTI Version="2.0"><Matrix>' + element + b'</Matrix></CIFTI>'
    (index_map,) = nib.cifti2.Cifti2Extension.from_bytes(xml).get_content().matrix
    if list(index_map.applies_to_matrix_dimension) != [1]:
        return None
    return _BrainModels.of(index_map)


def surface_shape(value: object, name: str = 'image') -> tuple[int, int]:
    """Check a surface run (or map) as :func:`read_surface` does; return its shape.

    A CIFTI-2 file's data are not read: its header says the shape.

    Parameters
    ----------
    value : dict, path, nibabel.Cifti2Image, SurfaceImage or SurfaceData
        The data (see the module's notes).
    name : str
        How messages call it.

    Returns
    -------
    tuple of int
        ``(n_samples, n_vertices)``.

    Raises
    ------
    ImageDimensionError, ShapeMismatchError, ParameterTypeError
        As :func:`read_surface`.

    Examples
    --------
    >>> import nibabel as nib
    >>> hemisphere = nib.gifti.GiftiImage(darrays=[
    ...     nib.gifti.GiftiDataArray(np.zeros(4, np.float32)) for _ in range(3)])
    >>> surface_shape({'left': hemisphere, 'right': hemisphere})
    (3, 8)
    """
    if isinstance(value, (str, os.PathLike)) and os.fspath(value).endswith(CIFTI_SUFFIXES):
        return _cifti_file_shape(value, name)
    shape = read_surface(value, name).data.shape
    return int(shape[0]), int(shape[1])


_SERIES = 'CIFTI_INDEX_TYPE_SERIES'
_SAMPLE_MAPS = (_SERIES, 'CIFTI_INDEX_TYPE_SCALARS')
_BRAIN_MODELS = 'CIFTI_INDEX_TYPE_BRAIN_MODELS'


def _map_kind(matrix: Any, dimension: int) -> str:  # noqa: ANN401
    try:
        return str(matrix.get_index_map(dimension).indices_map_to_data_type)
    except nib.cifti2.Cifti2HeaderError:  # no map for that dimension
        return 'none'


@functools.lru_cache(maxsize=64)
def model_indices(model: Any) -> np.ndarray:  # noqa: ANN401 - nibabel's Cifti2BrainModel
    """Return a CIFTI-2 brain model's vertex indices, or its voxels' ``i, j, k`` rows.

    nibabel holds them as Python sequences read one item at a time; the array is
    made once per brain model (models are hashed by identity).

    Examples
    --------
    >>> axis = nib.cifti2.BrainModelAxis.from_mask(np.array([1, 0, 1]), 'CortexLeft')
    >>> (model,) = axis.to_mapping(1).brain_models
    >>> model_indices(model).tolist()
    [0, 2]
    """
    if model.vertex_indices is not None:
        indices = np.array(list(model.vertex_indices), dtype=np.int64)
    else:
        indices = np.array(list(model.voxel_indices_ijk), dtype=np.int64).reshape(-1, 3)
    indices.flags.writeable = False  # shared by every caller
    return indices


def _brain_signature(brain_map: Any) -> str:  # noqa: ANN401
    """Digest the grayordinates: structures, vertices, voxels and volume."""
    digest = hashlib.sha256()
    for model in brain_map.brain_models:
        digest.update(
            f'{model.brain_structure}|{model.model_type}|{model.index_offset}|'
            f'{model.index_count}|{model.surface_number_of_vertices}'.encode()
        )
        if model.vertex_indices is not None:
            digest.update(np.asarray(model.vertex_indices, dtype=np.int64).tobytes())
        if model.voxel_indices_ijk is not None:
            digest.update(np.asarray(model.voxel_indices_ijk, dtype=np.int64).tobytes())
    volume = brain_map.volume
    if volume is not None:
        digest.update(str(tuple(volume.volume_dimensions)).encode())
        digest.update(
            np.asarray(volume.transformation_matrix_voxel_indices_ijk_to_xyz.matrix).tobytes()
        )
    return digest.hexdigest()


def _read_surface_image(image: Any, name: str) -> SurfaceData:  # noqa: ANN401
    matrices = []
    for part, values in image.data.parts.items():
        array = np.asarray(values)
        if array.ndim not in {1, 2}:
            msg = f'{name}: the {part} part of the SurfaceImage is {array.ndim}D, not 1D or 2D.'
            raise ImageDimensionError(msg)
        matrices.append(array.reshape(array.shape[0], -1).T)
    parts = list(image.data.parts)
    _check_same_samples([m.shape[0] for m in matrices], parts, name)
    layout = SurfaceLayout(
        'surface_image',
        tuple((part, m.shape[1]) for part, m in zip(parts, matrices, strict=True)),
        template=image,
    )
    return SurfaceData(np.concatenate(matrices, axis=1), layout)


@dataclass(frozen=True, eq=False)
class SurfaceMask:
    """The vertices a surface model keeps.

    Parameters
    ----------
    inside : (n_vertices,) ndarray of bool
        True for the vertices kept.
    layout : SurfaceLayout
        The surface the vertices belong to.

    Examples
    --------
    >>> layout = SurfaceLayout('gifti', (('left', 2), ('right', 2)))
    >>> mask = SurfaceMask(np.array([True, False, True, True]), layout)
    >>> mask.n_elements
    3
    >>> mask.unmask(np.array([1.0, 2.0, 3.0]))['left'].darrays[0].data.tolist()
    [1.0, 0.0]
    """

    inside: np.ndarray
    layout: SurfaceLayout

    @property
    def n_elements(self) -> int:
        """The number of vertices kept."""
        return int(self.inside.sum())

    def apply(self, surface: SurfaceData) -> np.ndarray:
        """Return the kept columns of ``surface``, ``(n_samples, n_elements)``, float64.

        float64 whatever the stored type, as nilearn's surface masker gives them, so
        that the numbers are nilearn's (a vertex has few values: the cost is small).
        """
        if not self.layout.matches(surface.layout):
            msg = (
                f'The data ({surface.layout.describe()}) are not on the surface of the '
                f'mask ({self.layout.describe()}): give runs, maps and mask of one surface.'
            )
            raise ShapeMismatchError(msg)
        return surface.data[:, self.inside].astype(np.float64)

    def unmask(
        self,
        values: np.ndarray,
        dtype: DTypeLike | None = None,
        names: list[str] | None = None,
    ) -> Any:  # noqa: ANN401
        """Put kept-vertex values back on the whole surface, 0 elsewhere, as an image."""
        values = np.asarray(values)
        full = np.zeros((*values.shape[:-1], self.layout.n_vertices), dtype=dtype or np.float64)
        place_kept(full, values, self.inside)
        return self.layout.make(full, names)

    def image(self) -> Any:  # noqa: ANN401
        """Return the mask as an image of the layout's kind (1 inside, 0 outside)."""
        return self.layout.make(self.inside.astype(np.float32))


def place_kept(full: np.ndarray, values: np.ndarray, inside: np.ndarray) -> None:
    """Write ``values`` (..., kept) into ``full`` (..., all) at the ``inside`` elements.

    ``full`` is C-contiguous. A plain copy when every element is kept (CIFTI-2 maps
    keep all their grayordinates), else row by row through the kept indices: a
    boolean index on the last axis of a whole (300, 91282) series took 0.20 s, these
    0.03 s and 0.08 s. The values placed are the same.

    Examples
    --------
    >>> full = np.zeros((2, 4))
    >>> place_kept(full, np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([True, False, False, True]))
    >>> full
    array([[1., 0., 0., 2.],
           [3., 0., 0., 4.]])
    """
    if inside.all():
        full[...] = values
        return
    kept = np.flatnonzero(inside)
    rows = full.reshape(-1, full.shape[-1])  # a view: full is C-contiguous
    for row, row_values in zip(rows, values.reshape(-1, values.shape[-1]), strict=True):
        row[kept] = row_values


def compute_surface_mask(surfaces: list[SurfaceData]) -> SurfaceMask:
    """Keep the vertices whose samples are finite and not all zero in every run.

    Vertices that hold no data (the medial wall of fsaverage and fsLR files, written
    as zeros) or non-finite values are left out. nilearn keeps zero vertices (its
    mask leaves out only non-finite ones) and gives them maps of NaN or 0.

    Examples
    --------
    >>> layout = SurfaceLayout('gifti', (('left', 3),))
    >>> run = SurfaceData(np.array([[1.0, 0.0, np.nan], [2.0, 0.0, 1.0]]), layout)
    >>> compute_surface_mask([run]).inside.tolist()
    [True, False, False]
    """
    inside = np.ones(surfaces[0].layout.n_vertices, dtype=bool)
    for surface in surfaces:
        data = surface.data
        inside &= np.isfinite(data).all(axis=0) & (data != 0).any(axis=0)
    return SurfaceMask(inside, surfaces[0].layout)


class SurfaceMasker:
    """The fitted masker of a surface model, shaped like nilearn's ``SurfaceMasker``.

    Parameters
    ----------
    mask : SurfaceMask
        The vertices kept.

    Attributes
    ----------
    mask_img_ : dict of GIFTI images, nibabel.Cifti2Image or SurfaceImage
        The mask as an image of the data's kind (1 inside, 0 outside).
    n_elements_ : int
        The number of vertices kept.
    smoothing_fwhm : None
        Surfaces are not smoothed.

    Examples
    --------
    >>> layout = SurfaceLayout('gifti', (('left', 2), ('right', 1)))
    >>> masker = SurfaceMasker(SurfaceMask(np.array([True, True, False]), layout))
    >>> masker.transform_single_imgs(SurfaceData(np.ones((4, 3)), layout)).shape
    (4, 2)
    """

    smoothing_fwhm = None

    def __init__(self, mask: SurfaceMask) -> None:
        self.mask_ = mask
        self.mask_img_ = mask.image()
        self.n_elements_ = mask.n_elements

    def transform_single_imgs(self, imgs: object) -> np.ndarray:
        """Return the kept vertices of one run or map, ``(n_samples, n_elements_)``."""
        return self.mask_.apply(read_surface(imgs, 'imgs'))

    def transform(self, imgs: object) -> np.ndarray:
        """As :meth:`transform_single_imgs`, over a list of runs or maps (stacked)."""
        items = imgs if isinstance(imgs, (list, tuple)) else [imgs]
        return np.concatenate([self.transform_single_imgs(item) for item in items])

    def inverse_transform(self, X: np.ndarray) -> Any:  # noqa: ANN401
        """Put kept-vertex values back on the surface, as an image of the data's kind."""
        return self.mask_.unmask(np.asarray(X))


def read_surface_mask(mask_img: object, layout: SurfaceLayout) -> SurfaceMask:
    """Read a mask given for surface data: its non-zero vertices, on the data's surface.

    Raises
    ------
    ShapeMismatchError
        If the mask is not on the data's surface.
    """
    mask = read_surface(mask_img, 'mask_img')
    if not layout.matches(mask.layout):
        msg = (
            f'mask_img ({mask.layout.describe()}) is not on the surface of the runs '
            f'({layout.describe()}): give a mask of the same surface and parts.'
        )
        raise ShapeMismatchError(msg)
    return SurfaceMask(mask.data[0] != 0, layout)


def read_on_layout(image: object, layout: SurfaceLayout, name: str = 'image') -> np.ndarray:
    """Return the values of a surface image that must be on ``layout``, ``(k, n_vertices)``.

    A CIFTI-2 image made by ``layout`` (a model's own map, whose brain models are the
    layout's very object) is read as it is; any other image is read by
    :func:`read_surface` and its surface compared with ``layout``. Comparing 91k
    grayordinates takes about a second; a saved model reads every map this way.

    Parameters
    ----------
    image : dict of GIFTI images, nibabel.Cifti2Image, SurfaceImage or path
        The map or series.
    layout : SurfaceLayout
        The surface it must be on.
    name : str
        How messages call it.

    Returns
    -------
    (k, n_vertices) ndarray
        The values as stored.

    Raises
    ------
    ShapeMismatchError
        If the image is on another surface.

    Examples
    --------
    >>> layout = SurfaceLayout('gifti', (('left', 2), ('right', 1)))
    >>> read_on_layout(layout.make(np.array([1.0, 2.0, 3.0])), layout).tolist()
    [[1.0, 2.0, 3.0]]
    >>> read_on_layout(layout.make(np.zeros(3)), SurfaceLayout('gifti', (('left', 3),)))
    Traceback (most recent call last):
    ...
    bidsglm.errors.ShapeMismatchError: The image is on GIFTI (left 2, right 1), ...
    """
    if (
        layout.kind == 'cifti'
        and isinstance(image, nib.Cifti2Image)
        and image.header.matrix.get_index_map(1) is layout.brain_models
    ):
        return np.asarray(image.dataobj)
    data = read_surface(image, name)
    if not layout.matches(data.layout):
        msg = (
            f'The {name} is on {data.layout.describe()}, but the model is on '
            f'{layout.describe()}: give maps of one surface (a model made inconsistent '
            'cannot be saved; fit it again).'
        )
        raise ShapeMismatchError(msg)
    return data.data
