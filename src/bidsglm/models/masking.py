"""Brain masks computed from the data, voxel for voxel as nilearn 0.14.1 computes them.

Three recipes, all on the voxel-wise mean over volumes:

- :func:`compute_epi_mask` (one run) and :func:`compute_multi_epi_mask` (the runs of a
  first-level model): threshold the mean EPI at the widest gap of its sorted values,
  then clean the mask up with erosion, the largest connected component, dilation and
  erosion (see :func:`compute_epi_mask` for each step).
- :func:`compute_background_mask` (the second level, on the mean of the input maps):
  everything that differs from the background value found on the border.

Masks are returned as uint8 0/1 :class:`nibabel.Nifti1Image` on the input's grid.
An empty result is an error, with advice, rather than nilearn's warning followed by a
failure later on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import nibabel as nib
import numpy as np
from scipy import ndimage

from bidsglm.errors import ImageDimensionError, InvalidParameterError
from bidsglm.models._images import (
    check_same_grid,
    load_image,
    smooth_array,
)
from bidsglm.models._resampling import Target, resample_mean

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from bidsglm.models._images import ImageLike

__all__ = [
    'compute_background_mask',
    'compute_epi_mask',
    'compute_multi_epi_mask',
]

#: FWHM (in voxels) of the smoothing applied to the mean EPI before thresholding.
EPI_SMOOTHING_FWHM = 1.0


# --------------------------------------------------------------------------- checks
def _check_fraction(value: float, name: str, function: str) -> float:
    """Return ``value`` as a float after checking it lies in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        ok = False
    else:
        ok = 0.0 <= float(value) <= 1.0
    if not ok:
        msg = (
            f"The '{name}' parameter of {function} must be a float in [0, 1]. "
            f'Got {value!r} instead.'
        )
        raise InvalidParameterError(msg)
    return float(value)


def _check_cutoffs(lower_cutoff: float, upper_cutoff: float, function: str) -> None:
    """Check both histogram cutoffs and their order."""
    lower = _check_fraction(lower_cutoff, 'lower_cutoff', function)
    upper = _check_fraction(upper_cutoff, 'upper_cutoff', function)
    if lower >= upper:
        msg = (
            f"The 'lower_cutoff' parameter of {function} must be smaller than "
            f"'upper_cutoff'. Got lower_cutoff={lower_cutoff!r} and "
            f'upper_cutoff={upper_cutoff!r} instead.'
        )
        raise InvalidParameterError(msg)


def _check_count(value: int | bool, name: str, function: str, minimum: int) -> int:
    """Return ``value`` as an int after checking it is an int (or bool) >= minimum."""
    if not isinstance(value, (int, np.integer)) or int(value) < minimum:
        allowed = 'an int in [0, inf) or False' if minimum == 0 else f'an int in [{minimum}, inf)'
        msg = f"The '{name}' parameter of {function} must be {allowed}. Got {value!r} instead."
        raise InvalidParameterError(msg)
    return int(value)


def _raise_if_empty(mask: np.ndarray, function: str, advice: str) -> None:
    """Raise when a computed mask holds no voxel."""
    if not mask.any():
        msg = f'{function} computed an empty mask: no voxel was kept. {advice}'
        raise InvalidParameterError(msg)


# --------------------------------------------------------------------------- steps
def _mean_volume(
    image: nib.Nifti1Image, *, smooth: bool, target: Target | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return the voxel-wise mean over volumes, and its affine.

    As nilearn's ``compute_mean``: resampled onto the target grid when there is one,
    then, when asked, smoothed by 1 voxel FWHM with an identity affine (one voxel on
    every axis, whatever the voxel size), NaN voxels staying NaN.
    """
    data = np.asanyarray(image.dataobj)
    if data.ndim not in (3, 4):
        msg = (
            f'Masks are computed from 3D or 4D images. Got a {data.ndim}D image of '
            f'shape {data.shape} instead.'
        )
        raise ImageDimensionError(msg)
    mean = np.array(data.mean(axis=-1) if data.ndim == 4 else data)
    affine = np.asarray(image.affine)
    if target is not None and target.given:
        mean, affine = resample_mean(mean, affine, target)
    if smooth:
        missing = np.isnan(mean)
        mean = smooth_array(mean, np.eye(4), EPI_SMOOTHING_FWHM)
        mean[missing] = np.nan
    return mean, affine


def _widest_gap_threshold(
    mean: np.ndarray, lower_cutoff: float, upper_cutoff: float, *, exclude_zeros: bool
) -> np.generic:
    """Return the midpoint of the widest gap between sorted values within the cutoffs."""
    values = np.sort(mean, axis=None)
    if exclude_zeros:
        values = values[values != 0]
    first = int(np.floor(lower_cutoff * values.size))
    last = min(int(np.floor(upper_cutoff * values.size)), values.size - 1)
    if last <= first:
        msg = (
            f'The cutoffs keep no pair of neighbouring values among the {values.size} '
            'voxels of the mean image. Widen lower_cutoff/upper_cutoff or pass mask_img.'
        )
        raise InvalidParameterError(msg)
    gaps = values[first + 1 : last + 1] - values[first:last]
    at = first + int(gaps.argmax())
    return 0.5 * (values[at] + values[at + 1])


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """Keep the largest 6-connected component (the first one on a tie)."""
    labels, count = ndimage.label(mask)
    if count <= 1:
        return mask.astype(bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == sizes.argmax()


def _clean_mask(mask: np.ndarray, opening: int, *, connected: bool) -> np.ndarray:
    """Erode ``opening`` times, keep the largest component, dilate twice as much, erode.

    The structuring element is the 6-neighbour cross and voxels outside the image
    count as background, as in nilearn's ``_post_process_mask``.
    """
    if opening:
        mask = ndimage.binary_erosion(mask, iterations=opening)
    if connected and mask.any():
        mask = _largest_component(mask)
    if opening:
        mask = ndimage.binary_dilation(mask, iterations=2 * opening)
        mask = ndimage.binary_erosion(mask, iterations=opening)
    return mask


def _epi_mask_array(
    image: nib.Nifti1Image,
    lower_cutoff: float,
    upper_cutoff: float,
    opening: int,
    *,
    connected: bool,
    exclude_zeros: bool,
    ensure_finite: bool,
    target: Target | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Compute one run's EPI mask as a boolean array (possibly empty), and its affine."""
    mean, affine = _mean_volume(image, smooth=opening > 0, target=target)
    if ensure_finite:
        mean[~np.isfinite(mean)] = 0
    threshold = _widest_gap_threshold(
        mean, lower_cutoff, upper_cutoff, exclude_zeros=exclude_zeros
    )
    return _clean_mask(mean >= threshold, opening, connected=connected), affine


def _mask_image(
    mask: np.ndarray, reference: nib.Nifti1Image, affine: np.ndarray | None = None
) -> nib.Nifti1Image:
    """Wrap a boolean mask as a uint8 0/1 image, on the reference's grid by default."""
    image = nib.Nifti1Image(mask.astype(np.uint8), reference.affine if affine is None else affine)
    image.header.set_xyzt_units(xyz=reference.header.get_xyzt_units()[0])
    return image


_EPI_ADVICE = (
    'Check that the input is raw or preprocessed EPI (not detrended or demeaned), '
    'raise lower_cutoff, or pass an explicit mask_img.'
)


# --------------------------------------------------------------------------- public
def compute_epi_mask(  # noqa: PLR0913 (nilearn's parameters)
    img: ImageLike,
    lower_cutoff: float = 0.2,
    upper_cutoff: float = 0.85,
    connected: bool = True,
    opening: int | bool = 2,
    exclude_zeros: bool = False,
    ensure_finite: bool = True,
    *,
    target_affine: ArrayLike | None = None,
    target_shape: ArrayLike | None = None,
) -> nib.Nifti1Image:
    """Compute a brain mask from one EPI run, as nilearn's ``compute_epi_mask``.

    Steps: the mean over volumes (resampled onto the target grid when
    ``target_affine`` is given), smoothed with a Gaussian of FWHM one voxel when
    ``opening`` is set; its values sorted; between the ``lower_cutoff`` and
    ``upper_cutoff`` fractions of them, the widest gap between neighbours, whose
    midpoint is the threshold (voxels >= threshold are kept); then ``opening``
    erosions, the largest 6-connected component (when ``connected``),
    ``2 * opening`` dilations and ``opening`` erosions.

    Parameters
    ----------
    img : str, os.PathLike or nibabel.spatialimages.SpatialImage
        A 4D run, or a 3D (mean) volume.
    lower_cutoff, upper_cutoff : float, default=0.2 and 0.85
        Fractions in [0, 1] of the sorted mean values between which the gap is sought.
    connected : bool, default=True
        Keep only the largest connected component.
    opening : int or bool, default=2
        Number of erosions of the opening (0 or False: no opening and no smoothing).
    exclude_zeros : bool, default=False
        Leave voxels whose mean is exactly 0 out of the sorted values (useful for
        images padded with zeros).
    ensure_finite : bool, default=True
        Treat non-finite means (NaN, inf) as 0.
    target_affine, target_shape : optional
        Compute the mask on this grid, as nilearn's ``resample_img`` defines it (see
        :mod:`bidsglm.stats.resampling`): the mean is resampled there first.

    Returns
    -------
    nibabel.Nifti1Image
        uint8 0/1 3D mask with the input's affine, or the target grid's.

    Raises
    ------
    InvalidParameterError
        If a parameter is out of range, or the mask comes out empty.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> x, y, z = np.ogrid[:12, :14, :10]
    >>> brain = ((x - 5.5) / 4.5) ** 2 + ((y - 6.5) / 5.5) ** 2 + ((z - 4.5) / 4) ** 2 < 1
    >>> noise = np.random.default_rng(0).normal(size=(12, 14, 10, 5))
    >>> run = nib.Nifti1Image(100 * brain[..., None] + noise, np.eye(4))
    >>> mask = compute_epi_mask(run).get_fdata() > 0
    >>> int(mask.sum()), int(brain.sum()), bool((mask & ~brain).any())
    (320, 408, False)
    """
    _check_cutoffs(lower_cutoff, upper_cutoff, 'compute_epi_mask')
    n_open = _check_count(opening, 'opening', 'compute_epi_mask', 0)
    image = load_image(img, name='img')
    mask, affine = _epi_mask_array(
        image,
        lower_cutoff,
        upper_cutoff,
        n_open,
        connected=connected,
        exclude_zeros=exclude_zeros,
        ensure_finite=ensure_finite,
        target=Target(target_affine, target_shape),
    )
    _raise_if_empty(mask, 'compute_epi_mask', _EPI_ADVICE)
    return _mask_image(mask, image, affine)


def _keep_frequent(
    masks: Sequence[np.ndarray], threshold: float, *, connected: bool
) -> np.ndarray:
    """Keep voxels found in more than ``threshold`` of the masks, then one component."""
    counts = np.sum(masks, axis=0)
    kept = counts > min(threshold, 1 - 1e-7) * len(masks)
    if connected and kept.any():
        kept = _largest_component(kept)
    return kept


def compute_multi_epi_mask(  # noqa: PLR0913 (nilearn's parameters)
    imgs: Sequence[ImageLike],
    threshold: float = 0.5,
    lower_cutoff: float = 0.2,
    upper_cutoff: float = 0.85,
    connected: bool = True,
    opening: int | bool = 2,
    exclude_zeros: bool = False,
    *,
    target_affine: ArrayLike | None = None,
    target_shape: ArrayLike | None = None,
) -> nib.Nifti1Image:
    """Compute one brain mask for several runs, as nilearn's ``compute_multi_epi_mask``.

    Each run gets its EPI mask (:func:`compute_epi_mask` with the same parameters);
    a voxel is kept when it is in more than ``threshold`` of them (``threshold=1``
    keeps voxels in every run mask, 0 the union); then, when ``connected``, only the
    largest connected component. nilearn's first-level model runs this even for a
    single run, which can differ from :func:`compute_epi_mask` by that last step.

    Parameters
    ----------
    imgs : sequence of str, os.PathLike or nibabel.spatialimages.SpatialImage
        The runs (4D, or 3D mean volumes), all on one grid.
    threshold : float, default=0.5
        Fraction in [0, 1] of the run masks a voxel must be in (strictly more than).
    lower_cutoff, upper_cutoff : float, default=0.2 and 0.85
        As in :func:`compute_epi_mask`.
    connected : bool, default=True
        Keep only the largest connected component, per run and at the end.
    opening : int or bool, default=2
        As in :func:`compute_epi_mask`.
    exclude_zeros : bool, default=False
        As in :func:`compute_epi_mask`.
    target_affine, target_shape : optional
        As in :func:`compute_epi_mask`: every run's mean is resampled there.

    Returns
    -------
    nibabel.Nifti1Image
        uint8 0/1 3D mask with the first run's affine, or the target grid's.

    Raises
    ------
    InvalidParameterError
        If no run is given, a parameter is out of range, or the mask comes out empty.
    ShapeMismatchError
        If the runs are not all on the same grid.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> x, y, z = np.ogrid[:12, :14, :10]
    >>> brain = ((x - 5.5) / 4.5) ** 2 + ((y - 6.5) / 5.5) ** 2 + ((z - 4.5) / 4) ** 2 < 1
    >>> rng = np.random.default_rng(0)
    >>> runs = [
    ...     nib.Nifti1Image(100 * brain[..., None] + rng.normal(size=(12, 14, 10, 5)), np.eye(4))
    ...     for _ in range(2)
    ... ]
    >>> int(compute_multi_epi_mask(runs).get_fdata().sum())
    320
    """
    if isinstance(imgs, (str, bytes)) or len(imgs) == 0:
        msg = (
            "The 'imgs' parameter of compute_multi_epi_mask must be a non-empty "
            f'sequence of images. Got {imgs!r} instead.'
        )
        raise InvalidParameterError(msg)
    share = _check_fraction(threshold, 'threshold', 'compute_multi_epi_mask')
    _check_cutoffs(lower_cutoff, upper_cutoff, 'compute_multi_epi_mask')
    n_open = _check_count(opening, 'opening', 'compute_multi_epi_mask', 0)
    names = [f'imgs[{i}]' for i in range(len(imgs))]
    images = [load_image(img, name=name) for img, name in zip(imgs, names, strict=True)]
    check_same_grid(images, names)
    target = Target(target_affine, target_shape)
    masks = [
        _epi_mask_array(
            image,
            lower_cutoff,
            upper_cutoff,
            n_open,
            connected=connected,
            exclude_zeros=exclude_zeros,
            ensure_finite=True,
            target=target,
        )
        for image in images
    ]
    mask = _keep_frequent([mask for mask, _ in masks], share, connected=connected)
    _raise_if_empty(mask, 'compute_multi_epi_mask', _EPI_ADVICE)
    return _mask_image(mask, images[0], masks[0][1])


def _border_values(volume: np.ndarray, border_size: int) -> np.ndarray:
    """Return the values within ``border_size`` voxels of the volume's six faces."""
    faces = []
    for axis in range(3):
        faces.append(np.take(volume, np.arange(min(border_size, volume.shape[axis])), axis))
        faces.append(np.take(volume, np.arange(-min(border_size, volume.shape[axis]), 0), axis))
    return np.concatenate([face.ravel() for face in faces])


def compute_background_mask(
    img: ImageLike,
    border_size: int = 2,
    connected: bool = False,
    opening: int | bool = False,
) -> nib.Nifti1Image:
    """Compute a mask of everything that is not background, as nilearn does.

    On the mean over volumes (a 3D image is used as is): the background value is the
    median of the voxels within ``border_size`` of the image's faces, and the mask is
    every voxel different from it; if any border voxel is NaN, the background is NaN
    and the mask is every non-NaN voxel. ``opening`` and ``connected`` then clean the
    mask as in :func:`compute_epi_mask` (both off by default). nilearn's second-level
    model applies this to the mean of its input maps.

    Parameters
    ----------
    img : str, os.PathLike or nibabel.spatialimages.SpatialImage
        A 3D map (e.g. the mean of the input maps) or a 4D image.
    border_size : int, default=2
        Thickness in voxels of the border that defines the background.
    connected : bool, default=False
        Keep only the largest connected component.
    opening : int or bool, default=False
        Number of erosions of the opening (0 or False: none).

    Returns
    -------
    nibabel.Nifti1Image
        uint8 0/1 3D mask with the input's affine.

    Raises
    ------
    InvalidParameterError
        If a parameter is out of range, or the mask comes out empty.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> data = np.zeros((8, 8, 8))
    >>> data[2:6, 3:6, 2:7] = 1.5
    >>> int(compute_background_mask(nib.Nifti1Image(data, np.eye(4))).get_fdata().sum())
    60
    """
    size = _check_count(border_size, 'border_size', 'compute_background_mask', 1)
    n_open = _check_count(opening, 'opening', 'compute_background_mask', 0)
    image = load_image(img, name='img')
    mean, _ = _mean_volume(image, smooth=False)
    border = _border_values(mean, size)
    nan_background = bool(np.isnan(border).any())  # SPM writes NaN outside the brain
    mask = ~np.isnan(mean) if nan_background else mean != np.median(border)
    mask = _clean_mask(mask, n_open, connected=connected)
    advice = (
        'Every voxel equals the background value found on the border. Check that the '
        'maps are not constant, or pass an explicit mask_img.'
    )
    _raise_if_empty(mask, 'compute_background_mask', advice)
    return _mask_image(mask, image)
