"""The mask of a model fitted on several inputs: the voxels (or vertices) in all their masks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import nibabel as nib
import numpy as np

from bidsglm.models.surface import read_surface

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from bidsglm.bids.reader import SavedMap

__all__ = ['intersect_masks', 'intersect_surface_masks']


def intersect_masks(paths: Sequence[Path]) -> nib.Nifti1Image | str | None:
    """Return the voxels inside every mask (the path itself when there is one).

    Parameters
    ----------
    paths : sequence of pathlib.Path
        Mask files on one grid (non-zero inside).

    Returns
    -------
    nibabel.Nifti1Image or str or None
        A ``uint8`` image of the voxels inside all of them; the path when there is
        one mask; None when there is none (the model computes its own).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name, inside in (('a', [1, 1, 0]), ('b', [0, 1, 1])):
    ...     image = nib.Nifti1Image(np.array(inside, np.uint8).reshape(3, 1, 1), np.eye(4))
    ...     nib.save(image, folder / f'{name}.nii.gz')
    >>> intersect_masks([folder / 'a.nii.gz', folder / 'b.nii.gz']).get_fdata().ravel()
    array([0., 1., 0.])
    """
    if not paths:
        return None
    if len(paths) == 1:
        return str(paths[0])
    images = [cast('nib.Nifti1Image', nib.load(path)) for path in paths]
    inside = np.ones(images[0].shape[:3], dtype=np.bool_)
    for image in images:
        inside &= np.asanyarray(image.dataobj).reshape(inside.shape) != 0
    return nib.Nifti1Image(inside.astype(np.uint8), images[0].affine)


def intersect_surface_masks(masks: Sequence[SavedMap]) -> Any:  # noqa: ANN401
    """Return the vertices inside every surface mask (the mask itself when there is one).

    Parameters
    ----------
    masks : sequence of pathlib.Path or dict of str to pathlib.Path
        Saved surface masks on one surface: ``.dscalar.nii`` files, or a ``.func.gii``
        file per hemisphere (non-zero inside).

    Returns
    -------
    str, dict of str to str, a surface image, or None
        The mask of the vertices inside all of them, in the masks' form; None when
        there is none (the model keeps the vertices with data in every map).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> masks = []
    >>> for name, inside in (('a', [1, 1, 0]), ('b', [0, 1, 1])):
    ...     parts = {}
    ...     for part in ('left', 'right'):
    ...         image = nib.gifti.GiftiImage(darrays=[
    ...             nib.gifti.GiftiDataArray(np.array(inside, np.float32))])
    ...         parts[part] = folder / f'{name}_{part}.func.gii'
    ...         nib.save(image, parts[part])
    ...     masks.append(parts)
    >>> both = intersect_surface_masks(masks)
    >>> both['left'].darrays[0].data
    array([0., 1., 0.], dtype=float32)
    """
    if not masks:
        return None
    if len(masks) == 1:
        only = masks[0]
        return {k: str(v) for k, v in only.items()} if isinstance(only, dict) else str(only)
    read = [read_surface(_as_input(mask), f'the mask {mask}') for mask in masks]
    inside = np.ones(read[0].data.shape[1], dtype=np.bool_)
    for surface in read:
        inside &= surface.data[0] != 0
    return read[0].layout.make(inside.astype(np.float32))


def _as_input(mask: SavedMap) -> str | dict[str, str]:
    return {k: str(v) for k, v in mask.items()} if isinstance(mask, dict) else str(mask)
