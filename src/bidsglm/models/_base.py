"""What the two estimators share: parameters, the fitted check, contrast outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import nibabel as nib
import numpy as np

from bidsglm._hooks import GENERATE_REPORT
from bidsglm.errors import InvalidParameterError, NotFittedError, warn_caller
from bidsglm.models._images import load_image, load_mask
from bidsglm.models._params import ParamsMixin
from bidsglm.models.results import OUTPUT_TYPES, StatType
from bidsglm.stats.resampling import check_target

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from nibabel.spatialimages import SpatialImage

    from bidsglm._hooks import HtmlDocument
    from bidsglm.models.results import ContrastResult

__all__ = ['BaseGLM', 'joblib_memory']


def joblib_memory(memory: Any) -> Any:  # noqa: ANN401
    """Return the ``memory_`` that nilearn's models hold: a ``joblib.Memory``.

    bidsglm caches nothing; the object is made for code written for nilearn that
    reads it. None or a folder gives a ``Memory`` there (None: caching nothing), and
    an object with a ``cache`` method is kept.

    Examples
    --------
    >>> joblib_memory(None).location is None
    True
    """
    if hasattr(memory, 'cache'):
        return memory
    from joblib import Memory  # noqa: PLC0415 - scikit-learn's dependency, for this only

    return Memory(location=memory, verbose=0)


class BaseGLM(ParamsMixin):
    """Parameters as in scikit-learn: stored by ``__init__``, read by ``fit``.

    Subclasses store their constructor arguments unchanged under the same names;
    ``get_params``, ``set_params``, ``repr`` and scikit-learn's tags come from the
    signature (:class:`~bidsglm.models._params.ParamsMixin`), so that
    ``sklearn.base.clone`` and ``check_is_fitted`` work on the models.
    """

    memory: Any  # every subclass takes nilearn's ``memory`` parameter

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, 'mask_img_')

    @property
    def memory_(self) -> Any:  # noqa: ANN401 - a joblib.Memory, or the object given
        """The ``joblib.Memory`` of ``memory``, as nilearn's fitted models hold it.

        Made when first read, after a fit (importing joblib takes about 50 ms, which
        a fit that never reads it need not pay); absent before a fit, as in nilearn.
        """
        if not self.__sklearn_is_fitted__():
            msg = f'{type(self).__name__}.memory_ exists once the model is fitted.'
            raise AttributeError(msg)
        if getattr(self, '_memory_object', None) is None:
            self._memory_object = joblib_memory(self.memory)
        return self._memory_object

    @memory_.setter
    def memory_(self, value: Any) -> None:  # noqa: ANN401
        self._memory_object = value

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

    def generate_report(  # noqa: PLR0913, PLR0917 - nilearn 0.14.1's signature
        self,
        contrasts: Any = None,  # noqa: ANN401 - every form save_glm_to_bids takes
        first_level_contrast: str | np.ndarray | None = None,
        title: str | None = None,
        bg_img: str | os.PathLike[str] | SpatialImage | None = 'MNI152TEMPLATE',
        threshold: float | None = None,
        alpha: float = 0.001,
        cluster_threshold: int = 0,
        height_control: str | None = 'fpr',
        two_sided: bool = False,
        min_distance: float = 8.0,
        plot_type: str = 'slice',
        cut_coords: int | Sequence[float] | None = None,
        display_mode: str | None = None,
        report_dims: Sequence[int] = (1600, 800),
    ) -> HtmlDocument:
        """Draw the HTML report of the fitted model, as nilearn's ``generate_report``.

        The page is the one :func:`bidsglm.save_glm_to_bids` writes beside a saved
        model (its parameters, designs and their correlations, each contrast's
        weights, thresholded z map and table of clusters and peaks, r-squared and
        residual maps), drawn from memory: nothing is saved. nilearn's keywords
        are accepted; those the report cannot apply are named in a warning.

        Parameters
        ----------
        contrasts : str, list, dict or array, optional
            The contrasts to show, in any form ``save_glm_to_bids`` takes; None
            shows the model alone, with a warning (as nilearn).
        first_level_contrast : str or array, optional
            For a SecondLevelModel fitted on first-level models: the first-level
            contrast whose maps it tests. Ignored with a warning by a
            FirstLevelModel (as nilearn).
        title : str, optional
            The page's title and heading; by default named after the entities of
            the input files (``GLM report: sub-01 task-x``), or the model's class.
        bg_img : image, path, None or 'MNI152TEMPLATE', default='MNI152TEMPLATE'
            Drawn under the z maps, resampled to their grid. None draws no image
            (the mask's outline). nilearn's default, the template's name, draws
            bidsglm's default: the mean of the data (first level), else for maps
            in an MNI space (``space-MNI...``) the MNI template shipped with
            bidsglm, else the mask.
        threshold : float, optional
            The z threshold when ``height_control`` is None (3.09 if None, as
            nilearn 0.14.1); ignored with a warning otherwise.
        alpha : float, default=0.001
            The p-value (``'fpr'``, ``'bonferroni'``) or q-value (``'fdr'``).
        cluster_threshold : int, default=0
            Clusters of fewer voxels (face-connected) are not shown.
        height_control : {'fpr', 'fdr', 'bonferroni'} or None, default='fpr'
            How ``alpha`` becomes the z threshold: uncorrected, false discovery
            rate, Bonferroni; None uses ``threshold``.
        two_sided : bool, default=False
            Show negative clusters too, with two-sided p-values.
        min_distance : float, default=8.0
            The smallest distance (mm) between two peaks of a cluster in the tables.
        plot_type : {'slice', 'glass'}, default='slice'
            Slices are drawn; ``'glass'`` is accepted with a warning.
        cut_coords : int or sequence of float, optional
            With ``display_mode`` None or ``'z'``: the number of axial slices, or
            their z (mm). With ``'ortho'`` or ``'tiled'``: the (x, y, z) point of the
            three planes (by default the strongest peak).
        display_mode : str, optional
            nilearn's modes are accepted; None, ``'z'``, ``'ortho'`` and ``'tiled'``
            are drawn (every z map shows three planes and axial slices), the others
            with a warning.
        report_dims : (int, int), default=(1600, 800)
            The width and height (pixels) of the frame a notebook shows.

        Returns
        -------
        HTMLReport
            The page: ``save_as_html(path)``, ``open_in_browser()``, and shown
            inline when it is the last value of a notebook cell.

        Raises
        ------
        NotFittedError
            If the model is not fitted.
        ContrastError
            For a contrast that cannot be read or tested on the model's design
            (a ``ContrastTypeError``, also a ``TypeError``, for a form not accepted).
        InvalidParameterError
            For a keyword out of range (a ``ParameterTypeError``, also a
            ``TypeError``, for one of the wrong type).

        Examples
        --------
        >>> import nibabel as nib, numpy as np
        >>> from bidsglm import SecondLevelModel
        >>> maps = [nib.Nifti1Image(np.full((2, 2, 2), v), np.eye(4)) for v in (1., 2., 4.)]
        >>> mask = nib.Nifti1Image(np.ones((2, 2, 2), np.uint8), np.eye(4))
        >>> model = SecondLevelModel(mask_img=mask).fit(maps)
        >>> report = model.generate_report('intercept', height_control=None, threshold=2.0)
        >>> 'Contrast: intercept' in report._repr_html_(), report.width, report.height
        (True, 1600, 800)
        """
        self._check_fitted()
        return GENERATE_REPORT.function(
            self,
            contrasts=contrasts,
            first_level_contrast=first_level_contrast,
            title=title,
            bg_img=bg_img,
            threshold=threshold,
            alpha=alpha,
            cluster_threshold=cluster_threshold,
            height_control=height_control,
            two_sided=two_sided,
            min_distance=min_distance,
            plot_type=plot_type,
            cut_coords=cut_coords,
            display_mode=display_mode,
            report_dims=report_dims,
        )
