"""The masker of a fitted model, and the reading of a masker given as ``mask_img``.

nilearn's estimators keep a ``masker_`` (a ``NiftiMasker``) that users call to move
between images and ``(volumes, voxels)`` arrays. :class:`VolumeMasker` is bidsglm's:
the same ``mask_img_``, ``n_elements_``, ``affine_``, ``transform``,
``fit_transform`` and ``inverse_transform``, with the model's mask, smoothing and
resampling target, and nothing else (no signal cleaning).

Both models also accept a masker as ``mask_img``, as nilearn's do: any object with
``transform`` and ``mask_img`` (a nilearn ``NiftiMasker``, fitted or not, or another
model's ``masker_``). :func:`read_masker` takes from it what bidsglm uses, the mask,
``smoothing_fwhm``, ``target_affine`` and ``target_shape``, and refuses parameters
that would change the data in ways bidsglm does not reproduce.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

import nibabel as nib
import numpy as np

from bidsglm.errors import InvalidParameterError, NotFittedError, warn_caller
from bidsglm.models._images import apply_mask, load_image, load_mask, unmask
from bidsglm.models._params import ParamsMixin
from bidsglm.models._resampling import Target, image_grid, resample_and_mask, resample_mask
from bidsglm.models.masking import compute_background_mask, compute_epi_mask

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TypeAlias

    from numpy.typing import ArrayLike

    from bidsglm.models._images import ImageLike

    Images: TypeAlias = ImageLike | Sequence[ImageLike]

__all__ = ['MaskerSettings', 'VolumeMasker', 'is_masker', 'read_masker']


class VolumeMasker(ParamsMixin):
    """Turn volumes into ``(volumes, voxels)`` arrays inside a mask, and back.

    The masker a fitted bidsglm model keeps as ``masker_``, shaped like nilearn's
    ``NiftiMasker``: ``transform`` gives the same numbers as a ``NiftiMasker`` with
    the same mask, ``smoothing_fwhm``, ``target_affine`` and ``target_shape`` (and
    its default ``standardize=False``, ``detrend=False``, no filtering).

    Parameters
    ----------
    mask_img : image, path or None, default=None
        The mask. None computes one at :meth:`fit` from the images given there, as
        ``NiftiMasker``'s default ``mask_strategy='background'`` does.
    smoothing_fwhm : float, sequence of 3 floats or None, default=None
        Full width at half maximum, in mm, of the Gaussian smoothing applied by
        :meth:`transform` before masking.
    target_affine : (4, 4) or (3, 3) array-like, optional
        Resample the mask onto this grid at :meth:`fit` (nearest neighbour), and
        images that are not on the mask's grid at :meth:`transform` (cubic splines,
        as nilearn's ``resample_img``; see :mod:`bidsglm.stats.resampling`).
    target_shape : 3 ints, optional
        The shape of that grid (with a 4x4 ``target_affine``).

    Attributes
    ----------
    mask_img_ : nibabel.Nifti1Image
        The mask, uint8, 0 and 1.
    affine_ : (4, 4) ndarray
        The mask's affine, that of every image :meth:`inverse_transform` makes.
    n_elements_ : int
        The number of voxels in the mask.

    Examples
    --------
    >>> mask = np.zeros((2, 2, 2), np.uint8)
    >>> mask[0, :, 1] = 1
    >>> masker = VolumeMasker(mask_img=nib.Nifti1Image(mask, np.eye(4))).fit()
    >>> masker.n_elements_
    2
    >>> run = nib.Nifti1Image(np.arange(24.0).reshape(2, 2, 2, 3), np.eye(4))
    >>> masker.transform(run)
    array([[ 3.,  9.],
           [ 4., 10.],
           [ 5., 11.]])
    >>> masker.inverse_transform(np.array([1.0, 2.0])).get_fdata()[0]
    array([[0., 1.],
           [0., 2.]])
    """

    #: How :meth:`fit` computes a mask when there is no ``mask_img`` (as nilearn's
    #: ``NiftiMasker`` by default).
    mask_strategy: ClassVar[str] = 'background'

    def __init__(
        self,
        mask_img: ImageLike | None = None,
        smoothing_fwhm: float | Sequence[float] | None = None,
        target_affine: ArrayLike | None = None,
        target_shape: ArrayLike | None = None,
    ) -> None:
        self.mask_img = mask_img
        self.smoothing_fwhm = smoothing_fwhm
        self.target_affine = target_affine
        self.target_shape = target_shape

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, 'mask_img_')

    def fit(self, imgs: Images | None = None, y: object = None) -> VolumeMasker:
        """Read the mask, or compute it from ``imgs`` when ``mask_img`` is None.

        Parameters
        ----------
        imgs : image, path or list of them, optional
            Used only without ``mask_img``: the mask keeps every voxel that differs
            from the background value on the border of their mean.
        y : None
            Ignored; scikit-learn's signature.

        Returns
        -------
        VolumeMasker
            The fitted masker (``self``).
        """
        if self.mask_img is not None:
            inside = load_mask(self.mask_img, name='mask_img')
            affine = load_image(self.mask_img, name='mask_img').affine
            mask = nib.Nifti1Image(inside.astype(np.uint8), affine)
        elif imgs is not None:
            mask = compute_background_mask(_as_one_image(imgs))
        else:
            msg = (
                'VolumeMasker.fit needs images to compute a mask from when mask_img is '
                'None. Pass the images, e.g. masker.fit(run), or give mask_img.'
            )
            raise InvalidParameterError(msg)
        target = Target(self.target_affine, self.target_shape)
        if target.given:
            mask = resample_mask(mask, target)
        self.mask_img_ = mask
        self.affine_ = mask.affine
        self.n_elements_ = int(np.count_nonzero(mask.dataobj))
        return self

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            msg = (
                'This VolumeMasker is not fitted yet. Call fit() first (with images when '
                'it has no mask_img).'
            )
            raise NotFittedError(msg)

    def transform(
        self,
        imgs: Images,
        confounds: object = None,
        sample_mask: ArrayLike | None = None,
    ) -> np.ndarray:
        """Extract the in-mask voxels, smoothed first when ``smoothing_fwhm`` is set.

        Parameters
        ----------
        imgs : image, path, or a list of them
            A 3D image gives a 1D array (one value per voxel); a 4D image, or a list
            of images, a 2D array with one row per volume.
        confounds : None
            Not supported (this masker does not clean signals): give confounds to
            ``FirstLevelModel.fit`` instead, where they enter the design.
        sample_mask : array-like of int or bool, optional
            The volumes to keep (indices, or True for kept volumes).

        Returns
        -------
        ndarray
            ``(n_elements_,)`` or ``(n_volumes, n_elements_)``; floating data keep their
            type, other data become float32.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        InvalidParameterError
            If confounds are given.
        ShapeMismatchError
            If an image is not on the mask's grid.
        """
        self._check_fitted()
        if confounds is not None:
            msg = (
                "bidsglm's VolumeMasker does not clean signals, so it takes no "
                'confounds. Give them to FirstLevelModel.fit(confounds=...), where they '
                'enter the design, or clean the data with nilearn first.'
            )
            raise InvalidParameterError(msg)
        images = _load_all(imgs)
        series = np.concatenate([self.transform_single_imgs(image) for image in images])
        if not isinstance(imgs, (list, tuple)) and len(images[0].shape) == 3:
            return series[0]
        return series if sample_mask is None else series[np.asarray(sample_mask)]

    def transform_single_imgs(self, imgs: ImageLike) -> np.ndarray:
        """Extract the in-mask voxels of one 3D or 4D image, ``(volumes, n_elements_)``.

        The image is resampled onto the mask's grid first when the masker has a
        ``target_affine`` and the image is on another grid (nilearn's name and
        order: resample, smooth, mask).
        """
        self._check_fitted()
        image = load_image(imgs, name='imgs')
        resampled = self.target_affine is not None
        if resampled and not image_grid(image).same_as(image_grid(self.mask_img_)):
            return resample_and_mask([image], self.mask_img_, smoothing_fwhm=self.smoothing_fwhm)
        return apply_mask(image, self.mask_img_, smoothing_fwhm=self.smoothing_fwhm)

    def fit_transform(
        self,
        imgs: Images,
        y: object = None,
        confounds: object = None,
        sample_mask: ArrayLike | None = None,
    ) -> np.ndarray:
        """Fit, then transform ``imgs`` (see :meth:`fit` and :meth:`transform`)."""
        return self.fit(imgs, y).transform(imgs, confounds=confounds, sample_mask=sample_mask)

    def inverse_transform(self, X: ArrayLike) -> nib.Nifti1Image:
        """Put in-mask values back into an image, with zeros outside the mask.

        Parameters
        ----------
        X : (n_elements_,) or (k, n_elements_) array-like
            One value per voxel (a 3D image), or ``k`` rows (a 4D image with ``k``
            volumes, one volume for ``k = 1``). A DataFrame is read as its values.

        Returns
        -------
        nibabel.Nifti1Image
            On the mask's grid, of the array's data type (booleans become int32).
        """
        self._check_fitted()
        values = np.asarray(X.to_numpy() if hasattr(X, 'to_numpy') else X)
        values = np.atleast_1d(values)
        dtype = np.int32 if values.dtype == bool else values.dtype
        return unmask(values.astype(dtype, copy=False), self.mask_img_, dtype=dtype)


def _load_all(imgs: Images) -> list[nib.Nifti1Image]:
    """Load an image, a path, or each of a list of them."""
    items = list(imgs) if isinstance(imgs, (list, tuple)) else [cast('ImageLike', imgs)]
    return [load_image(item, name='imgs') for item in items]


def _as_one_image(imgs: Images) -> nib.Nifti1Image:
    """Return one image from an image, a path or a list of 3D or 4D images."""
    images = _load_all(imgs)
    if not isinstance(imgs, (list, tuple)):
        return images[0]
    return nib.funcs.concat_images(images, axis=3 if len(images[0].shape) == 4 else None)


# ---------------------------------------------------------------- masker as mask_img
#: Parameters of a nilearn NiftiMasker that change the data in ways bidsglm does not
#: reproduce; each must be at its default ("off": None, False, 0 or empty).
UNSUPPORTED_PARAMETERS = (
    'clean_args',
    'detrend',
    'dtype',
    'high_pass',
    'high_variance_confounds',
    'low_pass',
    'standardize',
)

#: Mask strategies of a NiftiMasker without a mask, and bidsglm's functions for them.
MASK_STRATEGIES: dict[str, Callable[..., nib.Nifti1Image]] = {
    'background': compute_background_mask,
    'epi': compute_epi_mask,
}


@dataclass(frozen=True)
class MaskerSettings:
    """What bidsglm takes from a masker given as ``mask_img``.

    Parameters
    ----------
    mask_img : image, path or None
        The fitted mask (``mask_img_``), else the masker's ``mask_img``; None when
        the masker has neither and the mask is to be computed.
    smoothing_fwhm : float, sequence or None
        The masker's smoothing, which replaces the model's (as in nilearn).
    mask_strategy : str or None
        How to compute a mask when ``mask_img`` is None; None when the masker does
        not say (a nilearn ``SurfaceMasker``, say), and then it cannot be computed.
    mask_args : dict
        Keywords for that computation.
    target : Target
        The masker's ``target_affine`` and ``target_shape``, which replace the
        model's (as in nilearn).
    """

    mask_img: ImageLike | None
    smoothing_fwhm: float | Sequence[float] | None
    mask_strategy: str | None
    mask_args: dict[str, Any]
    target: Target = field(default_factory=lambda: Target(None, None))

    def compute_mask(self, sample: nib.Nifti1Image) -> nib.Nifti1Image:
        """Compute the mask of a masker that has none, by its strategy, from ``sample``.

        Raises
        ------
        InvalidParameterError
            For a strategy or a ``mask_args`` keyword bidsglm does not have.
        """
        strategy = self.mask_strategy
        function = None if strategy is None else MASK_STRATEGIES.get(strategy)
        if function is None:
            said = 'no mask_strategy' if strategy is None else f'mask_strategy={strategy!r}'
            msg = (
                f'The masker given as mask_img holds no mask and has {said}; bidsglm '
                f'computes masks with {sorted(MASK_STRATEGIES)} only. Fit the masker '
                'first (masker.fit(imgs)) so that it holds its mask, or give it a mask_img.'
            )
            raise InvalidParameterError(msg)
        accepted = set(inspect.signature(function).parameters) - {'img'}
        unknown = sorted(set(self.mask_args) - accepted)
        if unknown:
            msg = (
                f'The mask_args {unknown} of the masker given as mask_img are not '
                f'parameters of bidsglm.models.masking.{function.__name__} '
                f'({sorted(accepted)}). Leave them out, or fit the masker first.'
            )
            raise InvalidParameterError(msg)
        return function(sample, **self.mask_args)


_IMAGE_TYPES = (nib.spatialimages.SpatialImage,)


def is_masker(value: object) -> bool:
    """Whether ``mask_img`` holds a masker (duck-typed: ``transform`` and ``mask_img``).

    Examples
    --------
    >>> is_masker(VolumeMasker()), is_masker('mask.nii.gz'), is_masker(None)
    (True, False, False)
    """
    if value is None or isinstance(value, (str, os.PathLike, bool, *_IMAGE_TYPES)):
        return False
    return callable(getattr(value, 'transform', None)) and hasattr(value, 'mask_img')


def _is_off(value: object) -> bool:
    """Whether a masker parameter is at a neutral default (None, False, 0, empty)."""
    if value is None or value is False:
        return True
    if isinstance(value, (dict, list, tuple)):
        return not value
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


def read_masker(
    masker: object,
    owner: str,
    *,
    ignored: Sequence[str] = (),
    smoothing_fwhm: object = None,
    target: Target | None = None,
) -> MaskerSettings:
    """Read what bidsglm uses of a masker given as the ``mask_img`` of a model.

    Parameters
    ----------
    masker : object
        A nilearn ``NiftiMasker`` (fitted or not) or anything with ``transform`` and
        ``mask_img`` (and optionally ``mask_img_``, ``smoothing_fwhm``, ...).
    owner : str
        The model's class name, for messages.
    ignored : sequence of str, default=()
        Parameters the model overrides, so the masker's value does not matter
        (``FirstLevelModel`` sets its own ``standardize``, as nilearn's does).
    smoothing_fwhm : float or None
        The model's own ``smoothing_fwhm``: when set and different from the
        masker's, a warning says that the masker's is used.
    target : Target, optional
        The model's own ``target_affine`` and ``target_shape``: when set and
        different from the masker's, a warning says that the masker's are used.

    Returns
    -------
    MaskerSettings

    Raises
    ------
    InvalidParameterError
        If the masker sets a parameter bidsglm does not apply (detrending,
        filtering, standardizing, a dtype, clean_args), or its mask is not a
        volume.

    Examples
    --------
    >>> mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))
    >>> read_masker(VolumeMasker(mask, smoothing_fwhm=4.0), 'FirstLevelModel').smoothing_fwhm
    4.0
    """
    active = [
        f'{name}={getattr(masker, name)!r}'
        for name in UNSUPPORTED_PARAMETERS
        if name not in ignored and not _is_off(getattr(masker, name, None))
    ]
    if active:
        msg = (
            f'The {type(masker).__name__} given as the mask_img of {owner} sets '
            f'{", ".join(active)}, which bidsglm does not apply. Set '
            f'{"them" if len(active) > 1 else "it"} back to the default, or preprocess '
            'the images first and give the masker only the mask and smoothing_fwhm.'
        )
        raise InvalidParameterError(msg)
    settings = MaskerSettings(
        mask_img=_masker_mask(masker, owner),
        smoothing_fwhm=getattr(masker, 'smoothing_fwhm', None),
        mask_strategy=getattr(masker, 'mask_strategy', None),
        mask_args=dict(getattr(masker, 'mask_args', None) or {}),
        target=Target(
            getattr(masker, 'target_affine', None), getattr(masker, 'target_shape', None)
        ),
    )
    _warn_if_overridden(owner, masker, smoothing_fwhm, settings.smoothing_fwhm)
    if target is not None:
        _warn_if_target_overridden(owner, masker, target, settings.target)
    return settings


def _masker_mask(masker: object, owner: str) -> ImageLike | None:
    """Return the masker's fitted mask, else its ``mask_img``; check it is a volume."""
    fitted = getattr(masker, 'mask_img_', None)
    mask = fitted if fitted is not None else getattr(masker, 'mask_img', None)
    if mask is not None and not isinstance(mask, (str, os.PathLike, *_IMAGE_TYPES)):
        msg = (
            f'The {type(masker).__name__} given as the mask_img of {owner} holds a '
            f'{type(mask).__name__} mask; bidsglm fits volume (NIfTI) data only. Give a '
            'NiftiMasker or a 3D mask image.'
        )
        raise InvalidParameterError(msg)
    return mask


def _same_target(ours: Target, theirs: Target) -> bool:
    """Whether two targets are equal (affines and shapes, element by element)."""
    return all(
        (mine is None) == (other is None)
        and (mine is None or np.array_equal(np.asarray(mine), np.asarray(other)))
        for mine, other in ((ours.affine, theirs.affine), (ours.shape, theirs.shape))
    )


def _warn_if_target_overridden(owner: str, masker: object, ours: Target, theirs: Target) -> None:
    """Warn when the model's target_affine and target_shape give way to the masker's."""
    if (ours.affine is None and ours.shape is None) or _same_target(ours, theirs):
        return
    msg = (
        f"{owner}'s target_affine and target_shape are overridden by those of the "
        f'{type(masker).__name__} given as mask_img ({theirs.affine!r:.60}, '
        f'{theirs.shape!r}), as in nilearn. Set the target on the masker (or leave the '
        "model's at None) to silence this."
    )
    warn_caller(msg)


def _warn_if_overridden(owner: str, masker: object, ours: object, theirs: object) -> None:
    """Warn when the model's smoothing_fwhm gives way to the masker's."""
    if ours is None or repr(ours) == repr(theirs):
        return
    msg = (
        f'{owner}(smoothing_fwhm={ours!r}) is overridden by the smoothing_fwhm={theirs!r} '
        f'of the {type(masker).__name__} given as mask_img, as in nilearn. Set the '
        "smoothing on the masker (or leave the model's at None) to silence this."
    )
    warn_caller(msg)
