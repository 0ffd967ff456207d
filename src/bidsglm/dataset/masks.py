"""The mask of a model fitted on several inputs: the voxels inside all of their masks."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import nibabel as nib
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ['intersect_masks']


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
