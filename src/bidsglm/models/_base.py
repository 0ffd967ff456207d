"""What the two estimators share: parameters, the fitted check, contrast outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import nibabel as nib
import numpy as np

from bidsglm.errors import InvalidParameterError, NotFittedError, warn_caller
from bidsglm.models._images import load_image, load_mask
from bidsglm.models._params import ParamsMixin
from bidsglm.models.results import OUTPUT_TYPES, StatType
from bidsglm.stats.resampling import check_target

if TYPE_CHECKING:
    from bidsglm.models.results import ContrastResult

__all__ = ['BaseGLM']


class BaseGLM(ParamsMixin):
    """Parameters as in scikit-learn: stored by ``__init__``, read by ``fit``.

    Subclasses store their constructor arguments unchanged under the same names;
    ``get_params``, ``set_params``, ``repr`` and scikit-learn's tags come from the
    signature (:class:`~bidsglm.models._params.ParamsMixin`), so that
    ``sklearn.base.clone`` and ``check_is_fitted`` work on the models.
    """

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, 'mask_img_')

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            msg = (
                f'This {type(self).__name__} is not fitted yet. Call fit(...) with '
                'your data before using it.'
            )
            raise NotFittedError(msg)

    @property
    def residuals(self) -> Any:  # noqa: ANN401
        """Deprecated name of ``residuals_``, kept as nilearn 0.14 keeps it."""
        return self._renamed('residuals')

    @property
    def predicted(self) -> Any:  # noqa: ANN401
        """Deprecated name of ``predicted_``, kept as nilearn 0.14 keeps it."""
        return self._renamed('predicted')

    @property
    def r_square(self) -> Any:  # noqa: ANN401
        """Deprecated name of ``r_square_``, kept as nilearn 0.14 keeps it."""
        return self._renamed('r_square')

    def _renamed(self, name: str) -> Any:  # noqa: ANN401
        self._check_fitted()
        msg = (
            f"'{name}' is deprecated, as in nilearn (which removes it in 0.16): use "
            f"'{name}_' instead."
        )
        warn_caller(msg, FutureWarning)
        return getattr(self, f'{name}_')

    def _invalid(self, name: str, allowed: str, value: object) -> InvalidParameterError:
        msg = (
            f'The {name!r} parameter of {type(self).__name__} must be {allowed}. '
            f'Got {value!r} instead.'
        )
        return InvalidParameterError(msg)

    def _check_grid_and_smoothing(self) -> None:
        """Refuse a resampling target nilearn refuses, and a negative smoothing."""
        check_target(getattr(self, 'target_affine', None), getattr(self, 'target_shape', None))
        smoothing_fwhm = getattr(self, 'smoothing_fwhm', None)
        if smoothing_fwhm is not None and not smoothing_fwhm >= 0:
            raise self._invalid(
                name='smoothing_fwhm', allowed='a float in [0, inf) or None', value=smoothing_fwhm
            )

    @staticmethod
    def _load_mask_img(mask_img: Any) -> nib.Nifti1Image:  # noqa: ANN401
        """Read a user's mask as a uint8 image of 0 and 1."""
        image = load_image(mask_img, name='mask_img')
        inside = load_mask(image, name='mask_img')
        return nib.Nifti1Image(inside.astype(np.uint8), image.affine)

    def _check_output_type(self, output_type: str) -> None:
        if output_type not in (*OUTPUT_TYPES, 'all'):
            raise self._invalid(
                name='output_type', allowed=f'one of {[*OUTPUT_TYPES, "all"]}', value=output_type
            )

    def _resolve_stat_type(self, stat_type: str | None, weights: np.ndarray) -> StatType:
        """Default: t for one row, F for several (as nilearn)."""
        if stat_type is None:
            return 't' if weights.ndim == 1 or weights.shape[0] == 1 else 'F'
        if stat_type not in ('t', 'F'):
            raise self._invalid(name='stat_type', allowed="'t', 'F' or None", value=stat_type)
        return 't' if stat_type == 't' else 'F'

    @staticmethod
    def _select_output(
        result: ContrastResult, output_type: str
    ) -> nib.Nifti1Image | dict[str, nib.Nifti1Image]:
        """Return one map of a result, or all of them for ``output_type='all'``."""
        images = result.to_images()
        return images if output_type == 'all' else images[output_type]
