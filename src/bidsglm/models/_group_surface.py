"""Second-level inputs on a surface: the maps read once, their surface, their mask.

A group of surface maps comes as a list of single-map inputs in one of the forms of
:mod:`bidsglm.models.surface` (dicts of GIFTI hemispheres, CIFTI-2 ``.dscalar.nii``
files or images, nilearn ``SurfaceImage``), as one such input holding every map, or
as first-level models fitted on surface runs. :func:`read_surface_maps` reads the
maps one at a time into a :class:`~bidsglm.models._map_store.MapStore` (every vertex,
float64, as nilearn's surface masker gives them), checks that each lies on the
surface of the first (or of the mask), and keeps the vertices that are finite and
non-zero in every map: the default mask. The fit is then the volume's:
:class:`~bidsglm.models._group_fit.GroupFit` over the mask's columns of the store.

nibabel parses the CIFTI-2 XML header of each file it loads, 0.6 s for the 91k
grayordinates of fsLR files: most of the time of a group of ``.dscalar.nii`` files.
:class:`CiftiHeaders` parses each distinct header once (files of a group share it
but for their map names) and reads the other files' data only.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any

import nibabel as nib
import numpy as np
from nibabel.spatialimages import HeaderDataError
from nibabel.wrapstruct import WrapStructError

from bidsglm._steps import StepCounter
from bidsglm.errors import ImageDimensionError, InvalidParameterError, ShapeMismatchError
from bidsglm.models._ahead import ahead
from bidsglm.models._map_store import MapStore
from bidsglm.models.surface import (
    CIFTI_SUFFIXES,
    SurfaceData,
    SurfaceLayout,
    SurfaceMask,
    is_surface_input,
    read_surface,
)

__all__ = [
    'CiftiHeaders',
    'SurfaceMapReading',
    'check_not_mixed',
    'check_same_surface',
    'read_given_surface_mask',
    'read_surface_maps',
    'split_surface_maps',
    'surface_source',
]


@dataclass(frozen=True)
class SurfaceMapReading:
    """Surface maps, read once.

    Parameters
    ----------
    store : MapStore
        One row per map, a column per vertex of the surface (float64).
    layout : SurfaceLayout
        The surface of the maps.
    valid : (n_vertices,) ndarray of bool
        The vertices whose values are finite and non-zero in every map.
    """

    store: MapStore
    layout: SurfaceLayout
    valid: np.ndarray

    def mask(self) -> SurfaceMask:
        """Return the default mask: the vertices valid in every map.

        Raises
        ------
        ShapeMismatchError
            If no vertex is valid in every map.
        """
        if not self.valid.any():
            msg = (
                f'No vertex of the input maps ({self.layout.describe()}) is finite and '
                'non-zero in every map, so the default mask is empty. Check the maps, '
                'or give mask_img, a mask of the same surface.'
            )
            raise ShapeMismatchError(msg)
        return SurfaceMask(self.valid, self.layout)


def read_surface_maps(
    items: list[Any],
    names: list[str],
    layout: SurfaceLayout | None = None,
    reference: str = 'input map 1',
) -> SurfaceMapReading:
    """Read single-map surface inputs, one at a time, into a store of every vertex.

    The next map is read on a helper thread while one is stored.

    Parameters
    ----------
    items : list
        The maps, each in a form :func:`~bidsglm.models.surface.read_surface` reads,
        holding one map.
    names : list of str
        How messages call each map.
    layout : SurfaceLayout, optional
        The surface every map must lie on; by default the first map's.
    reference : str, default='input map 1'
        How messages call the owner of ``layout`` (``'mask_img'``).

    Returns
    -------
    SurfaceMapReading

    Raises
    ------
    ImageDimensionError
        If an input holds several maps.
    ShapeMismatchError
        If a map is not on the surface of the others (or of the mask).

    Examples
    --------
    >>> layout = SurfaceLayout('gifti', (('left', 2), ('right', 1)))
    >>> maps = [SurfaceData(np.array([[v, 0.0, 2.0]]), layout) for v in (1.0, np.nan)]
    >>> reading = read_surface_maps(maps, ['a', 'b'])
    >>> reading.store.shape, reading.valid.tolist()
    ((2, 3), [False, False, True])
    """
    headers = CiftiHeaders()
    surfaces = ahead(headers.read(item, name) for item, name in zip(items, names, strict=True))
    store: MapStore | None = None
    valid = np.ones(0, dtype=bool)
    read = StepCounter('maps', len(items))
    for surface, name in zip(surfaces, names, strict=True):
        if layout is None:
            layout, reference = surface.layout, name
        check_same_surface(surface.layout, name, layout, reference)
        row = _single_map(surface, name).astype(np.float64)
        if store is None:
            store, valid = MapStore(row.size, np.float64), np.ones(row.size, dtype=bool)
        store.append(row)
        valid &= np.isfinite(row) & (row != 0)
        read.advance()
    if layout is None or store is None:
        msg = 'read_surface_maps needs at least one map.'
        raise ValueError(msg)
    return SurfaceMapReading(store, layout, valid)


class CiftiHeaders:
    """Read surface inputs, parsing the header of CIFTI-2 files once per distinct header.

    A CIFTI-2 file is first opened as a plain NIfTI-2 image, which leaves its XML
    header unparsed (a millisecond). The XML, its map names taken out, is
    digested; a file whose digest was seen before gets the layout parsed then, and
    only its data are read. Any other file, or input, is read by
    :func:`~bidsglm.models.surface.read_surface`.

    Examples
    --------
    >>> import tempfile
    >>> models = nib.cifti2.BrainModelAxis.from_mask(np.ones(3, bool), 'CortexLeft')
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f'sub-{i}.dscalar.nii') for i in (1, 2)]
    >>> for index, path in enumerate(paths):
    ...     header = (nib.cifti2.ScalarAxis([f'subject {index}']), models)
    ...     nib.Cifti2Image(np.full((1, 3), index, np.float32), header=header).to_filename(path)
    >>> headers = CiftiHeaders()
    >>> [headers.read(path, 'map').data.tolist() for path in paths]
    [[[0.0, 0.0, 0.0]], [[1.0, 1.0, 1.0]]]
    >>> headers.n_parsed
    1
    """

    def __init__(self) -> None:
        self._layouts: dict[bytes, SurfaceLayout] = {}

    @property
    def n_parsed(self) -> int:
        """The number of distinct CIFTI-2 headers parsed so far."""
        return len(self._layouts)

    def read(self, item: object, name: str) -> SurfaceData:
        """Read one surface input as :func:`~bidsglm.models.surface.read_surface` does."""
        if not _is_cifti_file(item):
            return read_surface(item, name)
        path = os.fspath(item)  # type: ignore[call-overload]
        image = _as_plain_nifti2(path)
        key = None if image is None else _header_digest(image)
        layout = None if key is None else self._layouts.get(key)
        if image is None or layout is None:
            surface = read_surface(path, name)  # parses the header (or says what is wrong)
            if key is not None:
                self._layouts[key] = surface.layout
            return surface
        data = np.asarray(image.dataobj)
        return SurfaceData(data.reshape(-1, layout.n_vertices), layout, path)


def _as_plain_nifti2(path: str) -> nib.Nifti2Image | None:
    """Open a file as a NIfTI-2 image, its extensions unparsed; None if it is not one."""
    try:
        return nib.Nifti2Image.from_filename(path)
    except (WrapStructError, HeaderDataError):
        return None


def _is_cifti_file(item: object) -> bool:
    if not isinstance(item, (str, os.PathLike)):
        return False
    path = os.fspath(item)
    return isinstance(path, str) and path.endswith(CIFTI_SUFFIXES) and os.path.isfile(path)


#: A map's name in a CIFTI-2 header: the only part that may differ between files
#: whose data are read the same way.
_MAP_NAME = re.compile(rb'<MapName>.*?</MapName>', flags=re.DOTALL)


def _header_digest(image: nib.Nifti2Image) -> bytes | None:
    """Digest a CIFTI-2 file's XML header, map names left out; None if it has none."""
    extensions = [ext for ext in image.header.extensions if ext.get_code() == _CIFTI_CODE]
    if len(extensions) != 1:
        return None
    xml = _MAP_NAME.sub(b'', extensions[0].content)
    shape = str(image.shape).encode()
    return hashlib.sha256(shape + b'|' + xml).digest()


#: The NIfTI extension code of the CIFTI-2 header.
_CIFTI_CODE = 32


def _single_map(surface: SurfaceData, name: str) -> np.ndarray:
    """Return the one map of ``surface``, ``(n_vertices,)``; an error if it holds several."""
    if surface.n_samples != 1:
        msg = (
            f'{name} holds {surface.n_samples} maps; in a list of second-level inputs '
            'each item is one map (one data array per GIFTI hemisphere, one row of a '
            'CIFTI-2 .dscalar.nii, a 1D SurfaceImage). Pass a file of several maps on '
            'its own, not in a list, or split it.'
        )
        raise ImageDimensionError(msg)
    return np.asarray(surface.data[0])


def check_same_surface(
    layout: SurfaceLayout, name: str, expected: SurfaceLayout, reference: str
) -> None:
    """Refuse a map whose surface differs from ``expected``, naming both.

    Raises
    ------
    ShapeMismatchError
        If the kinds, parts (hemispheres, structures), vertex counts or CIFTI-2
        brain models differ.

    Examples
    --------
    >>> left = SurfaceLayout('gifti', (('left', 3),))
    >>> both = SurfaceLayout('gifti', (('left', 3), ('right', 3)))
    >>> check_same_surface(left, 'map 2', both, 'map 1')
    Traceback (most recent call last):
      ...
    bidsglm.errors.ShapeMismatchError: map 2 (GIFTI (left 3)) is not on the surface of map 1 (GIFTI (left 3, right 3)): ...
    """  # noqa: E501 - a doctest's output line
    if expected.matches(layout):
        return
    detail = ''
    if layout.kind == expected.kind == 'cifti' and layout.parts == expected.parts:
        detail = ' (their brain models hold the same structures but other vertices or voxels)'
    msg = (
        f'{name} ({layout.describe()}) is not on the surface of {reference} '
        f'({expected.describe()}){detail}: a second-level model needs every map, and its '
        'mask, on one surface, with the same hemispheres or brain models. Resample the '
        'maps to one surface first.'
    )
    raise ShapeMismatchError(msg)


def check_not_mixed(items: list[Any], what: str = 'input map') -> None:
    """Refuse a list that mixes surface inputs with others, naming the others.

    Raises
    ------
    ImageDimensionError
        If some, not all, of ``items`` are surface inputs.

    Examples
    --------
    >>> check_not_mixed([{'left': 'a.func.gii'}, 'b.nii.gz'])
    Traceback (most recent call last):
      ...
    bidsglm.errors.ImageDimensionError: The second-level inputs mix surface maps and others (input map 2: 'b.nii.gz'): ...
    """  # noqa: E501 - a doctest's output line
    others = [
        f'{what} {i + 1}: {_describe(item)}'
        for i, item in enumerate(items)
        if not is_surface_input(item)
    ]
    if others and len(others) < len(items):
        msg = (
            f'The second-level inputs mix surface maps and others ({"; ".join(others)}): '
            'one model fits one kind. Fit the surface maps and the volume maps (or '
            'first-level models) in separate models.'
        )
        raise ImageDimensionError(msg)


def _describe(item: object) -> str:
    """Name an input in a message: a path as it is, an object by its type."""
    if isinstance(item, (str, os.PathLike)):
        return repr(os.fspath(item))
    return f'a {type(item).__name__}'


def split_surface_maps(value: object) -> list[SurfaceData]:
    """Read one surface input holding several maps into one single-map input per map.

    Examples
    --------
    >>> layout = SurfaceLayout('gifti', (('left', 2),))
    >>> maps = split_surface_maps(SurfaceData(np.arange(6.0).reshape(3, 2), layout))
    >>> len(maps), maps[2].data.tolist()
    (3, [[4.0, 5.0]])
    """
    surface = read_surface(value, 'second_level_input')
    return [
        SurfaceData(surface.data[index : index + 1], surface.layout, surface.source)
        for index in range(surface.n_samples)
    ]


def surface_source(item: object) -> str | None:
    """Return the file a surface map comes from (a dict's first part), if any.

    Examples
    --------
    >>> surface_source({'left': 'sub-01_hemi-L.shape.gii', 'right': 'sub-01_hemi-R.shape.gii'})
    'sub-01_hemi-L.shape.gii'
    >>> surface_source(None) is None
    True
    """
    if isinstance(item, dict) and item:
        item = next(iter(item.values()))
    if isinstance(item, SurfaceData):
        return item.source
    return os.fspath(item) if isinstance(item, (str, os.PathLike)) else None


def read_given_surface_mask(mask_img: object, data_kind: str) -> SurfaceMask:
    """Read a mask given for surface maps: its non-zero vertices, on its own surface.

    Parameters
    ----------
    mask_img : object
        The ``mask_img`` parameter: a surface input, or a masker holding one
        (nilearn's ``SurfaceMasker``: its fitted ``mask_img_``, else ``mask_img``).
    data_kind : str
        The maps in words, for the message (``'surface maps'``).

    Raises
    ------
    InvalidParameterError
        If the mask is not surface data (a volume mask, a masker without a surface
        mask).

    Examples
    --------
    >>> layout = SurfaceLayout('gifti', (('left', 3),))
    >>> mask = read_given_surface_mask(SurfaceData(np.array([[1.0, 0.0, 1.0]]), layout), 'maps')
    >>> mask.inside.tolist()
    [True, False, True]
    """
    candidate = mask_img
    if not is_surface_input(candidate):  # a masker: its fitted mask, else its given one
        candidate = getattr(mask_img, 'mask_img_', None)
        if candidate is None:
            candidate = getattr(mask_img, 'mask_img', None)
    if candidate is None or not is_surface_input(candidate):
        msg = (
            f'mask_img is a {type(mask_img).__name__}, but the inputs are {data_kind}: give '
            'a mask of their form (a dict of GIFTI hemispheres, a CIFTI-2 .dscalar.nii or '
            'a SurfaceImage, or a masker holding one), or None to use the vertices '
            'finite and non-zero in every map.'
        )
        raise InvalidParameterError(msg)
    surface = read_surface(candidate, 'mask_img')
    inside = surface.data[0] != 0
    if not inside.any():
        msg = f'mask_img ({surface.layout.describe()}) keeps no vertex: every value is 0.'
        raise InvalidParameterError(msg)
    return SurfaceMask(inside, surface.layout)
