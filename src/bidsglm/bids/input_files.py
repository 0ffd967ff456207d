"""Checks of a dataset's input files, made while planning, before any fit.

A fit reads every volume of every run; a run cut short, a header cut off or a
confounds column of text would otherwise stop it after the other subjects were
fitted, often with a message naming no file. These checks read little and name
the file, the column and the way out.

:func:`check_nifti_file` reads a NIfTI header and checks that the file holds all
the data the header announces, without inflating a good file: a gzip file ends
with ISIZE, its uncompressed size modulo 2**32, which must equal the header's
``vox_offset`` plus the data's size. Only when the two disagree (a truncated
file, but also a multi-member file such as bgzip's, whose ISIZE counts only its
last member, or a file with extra bytes after the data) is the file inflated to
tell them apart. An uncompressed file is checked by its size. Damage that keeps
the length (flipped bits inside the compressed data) is not looked for here: the
fit finds it when it reads the data, and names the file.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import nibabel as nib
import numpy as np
import pandas as pd
from isal import igzip, isal_zlib

from bidsglm.design import check_confounds
from bidsglm.errors import InvalidParameterError, ShapeMismatchError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ['check_confounds_file', 'check_nifti_file', 'check_same_grid']

#: isal's exception class (its stubs declare an instance).
_ISAL_ERROR = cast('type[Exception]', isal_zlib.error)
#: What reading a damaged gzip file raises: cut short, bad CRC or bad data.
_GZIP_ERRORS = (EOFError, OSError, _ISAL_ERROR, zlib.error)
#: What nibabel raises for a file it cannot read a header from.
_HEADER_ERRORS = (nib.filebasedimages.ImageFileError, EOFError, OSError, ValueError, zlib.error)
_CHUNK = 1 << 20
_REWRITE = 'Write or copy the file again.'


def _expected_size(image: nib.Nifti1Image) -> int:
    """Return the bytes the header announces: where the data start, plus the data."""
    header = image.header
    offset = int(cast('Any', image.dataobj).offset)  # the header copy's vox_offset is 0
    itemsize = header.get_data_dtype().itemsize
    return offset + int(np.prod(header.get_data_shape(), dtype=np.int64)) * itemsize


def _gzip_isize(path: Path) -> int:
    """Return the last 4 bytes of a gzip file, its uncompressed size modulo 2**32."""
    with path.open('rb') as stream:
        stream.seek(-4, 2)
        return int.from_bytes(stream.read(4), 'little')


def _inflated_size(path: Path) -> int:
    """Inflate the whole file (every gzip member) and return its uncompressed size."""
    total = 0
    try:
        with igzip.open(path, 'rb') as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
    except _GZIP_ERRORS as error:
        what = 'truncated' if isinstance(error, EOFError) else 'damaged'
        msg = f'The image file {str(path)!r} is {what}: {error}. {_REWRITE}'
        raise InvalidParameterError(msg) from error
    return total


def _stored_size(path: Path, expected: int) -> int:
    """Return the uncompressed size of the file when it may be short of ``expected``."""
    if not path.name.endswith('.gz'):
        return path.stat().st_size
    if _gzip_isize(path) == expected % 2**32:
        return expected
    return _inflated_size(path)


def _read_header(path: Path) -> nib.Nifti1Image:
    """Read the header of a NIfTI file (the image, lazily), naming the file on errors."""
    if path.stat().st_size == 0:
        msg = f'The image file {str(path)!r} is empty (0 bytes). {_REWRITE}'
        raise InvalidParameterError(msg)
    try:
        image = nib.load(path)
    except _HEADER_ERRORS as error:
        # nibabel's own messages repeat the path; others say what went wrong
        detail = '' if isinstance(error, nib.filebasedimages.ImageFileError) else f' ({error})'
        msg = (
            f'Cannot read the NIfTI header of {str(path)!r}{detail}: the file is cut '
            f'short, damaged or not a NIfTI image. {_REWRITE}'
        )
        raise InvalidParameterError(msg) from error
    if not isinstance(image, nib.Nifti1Image):  # Nifti2Image derives from Nifti1Image
        msg = f'{str(path)!r} is a {type(image).__name__}, not a NIfTI image.'
        raise InvalidParameterError(msg)
    return image


def check_nifti_file(path: str | Path) -> nib.Nifti1Header:
    """Read a NIfTI file's header and check the file holds all the data it announces.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.nii`` or ``.nii.gz`` file.

    Returns
    -------
    nibabel.Nifti1Header
        Its header (shape, data type, zooms...).

    Raises
    ------
    InvalidParameterError
        Naming the file, when it is empty, its header cannot be read, it is shorter
        than its header says or its compressed data are damaged.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / 'run.nii.gz'
    >>> data = np.random.default_rng(0).random((4, 4, 4, 20), np.float32)
    >>> nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    >>> check_nifti_file(path).get_data_shape()
    (4, 4, 4, 20)
    >>> _ = path.write_bytes(path.read_bytes()[:2000])
    >>> check_nifti_file(path)
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: The image file '...run.nii.gz' is truncated: ...
    """
    path = Path(path)
    image = _read_header(path)
    header = cast('nib.Nifti1Header', image.header)
    expected = _expected_size(image)
    stored = _stored_size(path, expected)
    if stored < expected:
        msg = (
            f'The image file {str(path)!r} is truncated: it holds {stored} bytes where '
            f'its header announces {expected} (shape {header.get_data_shape()}, '
            f'{header.get_data_dtype()}). {_REWRITE}'
        )
        raise InvalidParameterError(msg)
    return header


def check_confounds_file(path: str | Path, columns: Sequence[str], n_scans: int) -> None:
    r"""Check the chosen columns of a confounds file: numbers, one row per volume.

    Missing values are left to the fit, which fills the first row of fMRIPrep's
    derivative columns and refuses others.

    Parameters
    ----------
    path : str or pathlib.Path
        A confounds TSV file (``n/a`` is a missing value).
    columns : sequence of str
        The columns the model uses.
    n_scans : int
        The number of volumes of the run.

    Raises
    ------
    InvalidParameterError
        Naming the file, the column and the first cell that is not a number.
    ShapeMismatchError
        When the file has not one row per volume.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / 'confounds.tsv'
    >>> _ = path.write_text('trans_x\tcsf\n0.1\t3\n0.2\thigh\n')
    >>> check_confounds_file(path, ['trans_x'], 2)
    >>> check_confounds_file(path, ['trans_x', 'csf'], 2)
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: The confounds file '...': column 'csf' holds text ...
    """
    path = Path(path)
    table = pd.read_csv(path, sep='\t', na_values=['n/a'], usecols=list(columns))
    if len(table) != n_scans:
        msg = (
            f'The confounds file {str(path)!r} has {len(table)} rows but its run has '
            f'{n_scans} volumes; it needs one row per volume. Check that it belongs to '
            'this run, or write it again.'
        )
        raise ShapeMismatchError(msg)
    check_confounds(table[list(columns)], f'The confounds file {str(path)!r}')


def _grid(path: Path) -> tuple[tuple[int, ...], np.ndarray]:
    """Return the spatial shape and the affine of an image file (its header only)."""
    image = _read_header(path)
    return tuple(int(n) for n in image.shape[:3]), np.asarray(image.affine)


def _affine_text(affine: np.ndarray) -> str:
    """Write an affine on one line, rounded to 4 decimals."""
    return str(np.round(affine, 4).tolist())


def check_same_grid(paths: Sequence[str | Path]) -> None:
    """Check that image files share one voxel grid (shape and affine), from headers.

    Affines are compared with :func:`numpy.allclose` at its default tolerances, as
    the models compare them.

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        The images (3D, or 4D: only the spatial axes are compared).

    Raises
    ------
    ShapeMismatchError
        Naming the first file whose grid differs from the first file's, both shapes
        and both affines.
    InvalidParameterError
        If a header cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name, shape in (('a', (2, 2, 2)), ('b', (2, 2, 2)), ('c', (2, 2, 3))):
    ...     nib.save(nib.Nifti1Image(np.zeros(shape), np.eye(4)), folder / f'{name}.nii')
    >>> check_same_grid([folder / 'a.nii', folder / 'b.nii'])
    >>> check_same_grid([folder / 'a.nii', folder / 'c.nii'])
    Traceback (most recent call last):
    ...
    bidsglm.errors.ShapeMismatchError: The images are not on one voxel grid: '...c.nii' has ...
    """
    if not paths:
        return
    first = Path(paths[0])
    shape, affine = _grid(first)
    for other in map(Path, paths[1:]):
        other_shape, other_affine = _grid(other)
        if other_shape == shape and np.allclose(other_affine, affine):
            continue
        msg = (
            f'The images are not on one voxel grid: {str(other)!r} has shape {other_shape} '
            f'and affine {_affine_text(other_affine)}, but {str(first)!r} has shape '
            f'{shape} and affine {_affine_text(affine)}. Fit every subject in one space '
            'and resolution, or resample the images to one grid.'
        )
        raise ShapeMismatchError(msg)
