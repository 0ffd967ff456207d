"""Writing bytes to disk: NIfTI maps (gzip), JSON sidecars, TSV tables.

Every writer is deterministic, so saving twice gives byte-identical files: gzip
streams carry no time stamp, JSON keeps insertion order, TSV floats use pandas'
shortest round-trip form. Compression goes through :func:`gzip_stream` only: python-isal
(``isal.igzip``, several times faster than zlib) when installed, else the standard
library's gzip, at level 1; images are streamed into it, never copied whole.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import json
import math
import os
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO

import nibabel as nib
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pandas as pd
    from numpy.typing import DTypeLike


def _gzip_module() -> ModuleType:
    """Return python-isal's gzip module when installed, else the standard library's."""
    try:
        return importlib.import_module('isal.igzip')
    except ImportError:  # pragma: no cover - isal is a dependency, gzip the fallback
        return gzip


_GZIP = _gzip_module()

__all__ = [
    'gzip_stream',
    'json_bytes',
    'json_safe',
    'nifti_image',
    'sync_folder',
    'write_durably',
    'write_json',
    'write_nifti',
    'write_tsv',
]

_LEVEL = 1


def gzip_stream(raw: BinaryIO) -> Any:  # noqa: ANN401 - isal's or gzip's GzipFile
    """Open a fast, deterministic gzip writer over a binary file.

    Parameters
    ----------
    raw : binary file object
        Where the compressed bytes go.

    Returns
    -------
    file object
        A gzip writer at level 1, with no time stamp and no file name in its header
        (so the same content always gives the same bytes); close it before ``raw``.

    Examples
    --------
    >>> import io
    >>> raw = io.BytesIO()
    >>> with gzip_stream(raw) as stream:
    ...     _ = stream.write(b'bidsglm')
    >>> gzip.decompress(raw.getvalue())
    b'bidsglm'
    """
    return _GZIP.GzipFile(filename='', mode='wb', compresslevel=_LEVEL, fileobj=raw, mtime=0)


def nifti_image(
    img: nib.spatialimages.SpatialImage,
    *,
    dtype: DTypeLike | None = None,
    intent: tuple[str, Sequence[float]] | None = None,
    t_step: float = 1.0,
) -> nib.Nifti1Image:
    """Copy an image into a fresh NIfTI-1 image with units, codes and intent.

    Parameters
    ----------
    img : nibabel spatial image
        The map; its data and affine are kept.
    dtype : numpy dtype, optional
        Store the data with this type (default: as they are).
    intent : (str, sequence of float), optional
        A NIfTI intent name and its parameters, e.g. ``('t test', (24.0,))``.
    t_step : float, default=1.0
        The step of the 4th axis (the repetition time for a time series).

    Returns
    -------
    nibabel.Nifti1Image
        With xyzt units ``('mm', 'sec')``, the sform of ``img`` (code 2, aligned,
        when it had none) and no qform.

    Examples
    --------
    >>> out = nifti_image(nib.Nifti1Image(np.zeros((2, 2, 2, 3)), np.eye(4)), t_step=2.0)
    >>> out.header.get_xyzt_units(), float(out.header.get_zooms()[3])
    (('mm', 'sec'), 2.0)
    """
    data = np.asanyarray(img.dataobj)
    if dtype is not None:
        data = data.astype(dtype, copy=False)
    header = getattr(img, 'header', None)
    code = int(header['sform_code']) if isinstance(header, nib.Nifti1Header) else 0
    out = nib.Nifti1Image(data, img.affine)
    out.set_sform(img.affine, code=code or 2)
    out.set_qform(None, code=0)
    out.header.set_xyzt_units('mm', 'sec')
    if data.ndim == 4:
        out.header.set_zooms((*out.header.get_zooms()[:3], t_step))
    if intent is not None:
        out.header.set_intent(intent[0], tuple(intent[1]))
    return out


def write_nifti(path: Path, img: nib.Nifti1Image) -> None:
    """Stream ``img`` to ``path`` (``.nii.gz``) through :func:`gzip_stream`."""
    with path.open('wb') as raw, gzip_stream(raw) as stream:
        img.to_stream(stream)


def json_safe(value: Any) -> Any:  # noqa: ANN401, PLR0911 - one return per kind of value
    """Turn numpy values, tuples and odd objects into plain JSON values.

    Parameters
    ----------
    value : object
        Anything found in a model's parameters.

    Returns
    -------
    object
        Built from dict, list, str, int, float, bool and None only; NaN and
        infinities become None, callables their name, other objects their ``str``.

    Examples
    --------
    >>> json_safe({'a': np.float64(2.0), 'b': (1, np.nan), 'c': np.eye(2)})
    {'a': 2.0, 'b': [1, None], 'c': [[1.0, 0.0], [0.0, 1.0]]}
    """
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if callable(value):
        return getattr(value, '__name__', type(value).__name__)
    return str(value)


def json_bytes(content: dict[str, Any]) -> bytes:
    r"""Return ``content`` as indented JSON, keys in insertion order, final newline.

    Examples
    --------
    >>> json_bytes({'Name': 'x', 'Value': np.float32(0.5)})
    b'{\n  "Name": "x",\n  "Value": 0.5\n}\n'
    """
    return (json.dumps(json_safe(content), indent=2, allow_nan=False) + '\n').encode('utf-8')


def write_json(path: Path, content: dict[str, Any]) -> None:
    """Write ``content`` as :func:`json_bytes` does."""
    path.write_bytes(json_bytes(content))


def write_tsv(path: Path, table: pd.DataFrame) -> None:
    """Write a table as BIDS TSV: header row, no index, newline line ends."""
    table.to_csv(path, sep='\t', index=False, lineterminator='\n', na_rep='n/a')


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file and make it reach the disk before returning.

    Parameters
    ----------
    path : pathlib.Path
        The file (created, or truncated).
    data : bytes
        Its content.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / 'x.json'
    >>> write_durably(path, b'{}')
    >>> path.read_bytes()
    b'{}'
    """
    with path.open('wb') as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def sync_folder(folder: Path) -> None:
    """Make the entries of ``folder`` (names created, renamed, removed) reach the disk.

    Where folders cannot be opened (Windows), this does nothing.
    """
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open folders
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on folders
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
