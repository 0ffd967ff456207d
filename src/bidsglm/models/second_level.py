"""The second-level model: one map per subject (or study), one GLM across them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import nibabel as nib
import numpy as np
import pandas as pd

from bidsglm.design import make_second_level_design_matrix
from bidsglm.design.contrasts import check_estimable, contrast_to_matrix
from bidsglm.errors import (
    ContrastError,
    InvalidParameterError,
    ParameterTypeError,
    ShapeMismatchError,
    warn_caller,
)
from bidsglm.models._base import BaseGLM
from bidsglm.models._group_fit import GroupFit, MapReading, read_maps
from bidsglm.models._group_inputs import GroupInput, GroupMaps, read_group_input
from bidsglm.models._group_surface import (
    SurfaceMapReading,
    check_same_surface,
    read_given_surface_mask,
    read_surface_maps,
)
from bidsglm.models._images import check_same_grid, fortran_index, load_mask, unmask
from bidsglm.models._map_store import MapStore
from bidsglm.models._param_types import check_parameter_types
from bidsglm.models._resampling import Target, image_grid, resample_and_mask
from bidsglm.models._tables import read_design
from bidsglm.models.masker import VolumeMasker, is_masker, read_masker
from bidsglm.models.masking import compute_background_mask
from bidsglm.models.regression import RegressionResults, run_labels, run_results
from bidsglm.models.results import ContrastResult, MapName
from bidsglm.models.surface import (
    SurfaceMask,
    SurfaceMasker,
    is_surface_input,
    refuse_volume_parameters,
)
from bidsglm.stats import GLMFit, compute_contrast_stats

__all__ = ['SecondLevelModel']

ImageLike = str | os.PathLike[str] | nib.spatialimages.SpatialImage


class SecondLevelModel(BaseGLM):
    """A GLM across subjects: one-sample by default, covariates on request.

    Unlike nilearn's, ``fit`` fits the regression when the maps are known at fit
    time (images, a 4D image, or a table with one map name). When the maps depend
    on a first-level contrast (fitted :class:`FirstLevelModel` inputs, or a table
    with several map names), the fit of each first-level contrast is made, once, by
    :meth:`compute_contrast`.

    The maps may be surface maps: a list of dicts of GIFTI hemispheres, of CIFTI-2
    ``.dscalar.nii`` files or images, or of nilearn ``SurfaceImage``, one map each
    (or one input holding every map), or first-level models fitted on surface runs.
    They are fitted as volumes are, a block of vertices at a time, and the maps come
    back in the inputs' form (see :mod:`bidsglm.models.surface`).

    Parameters
    ----------
    mask_img : image, path, masker or None, default=None
        The mask. None computes it from the input maps as nilearn does (background
        strategy on their mean). A masker (a nilearn ``NiftiMasker``, fitted or not,
        or another model's ``masker_``) gives its fitted ``mask_img_``, else its
        ``mask_img``, else a mask computed by its ``mask_strategy``
        ('background' or 'epi', with its ``mask_args``) from the mean input map;
        its ``smoothing_fwhm``, ``target_affine`` and ``target_shape`` replace this
        model's, as in nilearn (with a warning when both are set and differ).
        ``standardize``, ``detrend``, filters, ``dtype`` and ``clean_args``, which
        nilearn would apply across the input maps, must be at their defaults;
        ``t_r``, ``runs``, ``memory`` and reporting options are not used.
        For surface maps, None keeps the vertices finite and non-zero in every map
        (for surface first-level models, the vertices inside every model's mask),
        and a given mask is a surface input on the maps' surface (or a masker
        holding one, such as nilearn's ``SurfaceMasker``), whose non-zero vertices
        are kept.
    target_affine : (4, 4) or (3, 3) array-like, optional
        Resample the mask (nearest neighbour) and the input maps (cubic splines)
        onto this grid, as nilearn does (nilearn's ``resample_img``; see
        :mod:`bidsglm.stats.resampling`). A 3x3 affine gives the axes only: the
        offset and shape are chosen to hold the mask's grid. Refused for surface
        maps.
    target_shape : 3 ints, optional
        The shape of that grid, with a 4x4 ``target_affine``; by default the shape
        that holds the mask's grid.
    smoothing_fwhm : float, optional
        Full width at half maximum, in mm, of a Gaussian smoothing of the maps.
        Refused for surface maps (smooth them along the surface before).
    memory, memory_level, verbose, n_jobs, minimize_memory, reports
        Accepted for compatibility; they change nothing (:meth:`generate_report`
        draws the page from the fitted model whatever ``reports``).

    Attributes
    ----------
    design_matrix_ : pandas.DataFrame
        The design, one row per input map.
    second_level_input_ : list, DataFrame or Series
        The input as nilearn keeps it: a table sorted by ``subject_label``, a 4D
        image as its 3D volumes, anything else as given.
    confounds_ : pandas.DataFrame or None
        The ``confounds`` given to :meth:`fit`.
    memory_ : joblib.Memory
        nilearn's cache object, made from ``memory``; bidsglm caches nothing.
    mask_img_ : nibabel.Nifti1Image, or a surface image of the inputs' form
        The mask used (uint8, 0 and 1; for surface maps 1 inside, 0 outside).
    n_elements_ : int
        The number of voxels (or vertices) in the mask.
    masker_ : bidsglm.models.masker.VolumeMasker or bidsglm.models.surface.SurfaceMasker
        The mask and smoothing the maps are read with, as a fitted masker shaped
        like nilearn's ``NiftiMasker`` (or ``SurfaceMasker``).
    fit_ : bidsglm.stats.GLMFit or None
        The fit, when the maps were known at fit time.
    input_sources_ : list of str or None
        The file of each input map (None for images in memory); for first-level
        models, the file of each model's first run.
    residuals_ : nibabel.Nifti1Image
        4D, one volume per input map (for surface maps, a surface image of their
        form, one sample per map; on CIFTI-2, maps named ``map 1``, ...). For
        inputs whose maps depend on a first-level contrast (first-level models),
        those of the last contrast computed, as in nilearn.
    predicted_ : nibabel.Nifti1Image
        The fitted values, 4D, as ``residuals_``.
    r_square_ : nibabel.Nifti1Image
        3D (nilearn's is 4D with one volume), as ``residuals_``.
    labels_, results_ : ndarray and dict, or None
        nilearn's view of the fit: ``0.0`` for every voxel, and
        ``{0.0: RegressionResults}``; as ``residuals_`` for first-level inputs, but
        None (as nilearn's) until a contrast is computed.

    Notes
    -----
    Memory does not grow with the number of maps: ``fit`` reads each map once into
    an unnamed temporary file of the system's temporary folder (``TMPDIR``; removed
    with the model), then fits a block of voxels at a time, and ``save_glm_to_bids``
    writes ``stat-errorts`` a volume at a time. The file takes the maps' bytes per
    voxel (4 for float32) for the mask's voxels when the mask is given; when it is
    computed from the maps, for the voxels non-zero in that map or an earlier one
    (every bit counts: -0.0 is non-zero): about 0.9 GB for 1,000 float32 maps on the
    MNI 2 mm grid with zeros outside a 21% brain, 4.3 GB were no voxel 0 in every
    map. Surface maps are kept in float64 for every vertex, as
    nilearn's surface masker reads them (0.7 GB for 1,000 maps of 91,282
    grayordinates). Attributes that are whole 4D arrays (``residuals_``,
    ``predicted_``, ``results_``, ``fit_``) are computed when read.

    On surfaces the numbers are nilearn 0.14.1's surface GLM's (its second level
    rounds float64 ``SurfaceImage`` maps to float32, so they differ from ours by
    about 1e-8 relative), and on CIFTI-2 maps those of the volume engine on the
    same matrix. nilearn 0.14.1 fails on surface first-level models; bidsglm takes
    their effect maps. Surface maps must share their parts (hemispheres, CIFTI-2
    structures), vertex counts and CIFTI-2 brain models; the coordinates of a
    ``SurfaceImage``'s mesh are not compared (a pial and an inflated mesh hold the
    same vertices), where nilearn refuses meshes that differ.

    Examples
    --------
    >>> import nibabel as nib
    >>> rng = np.random.default_rng(0)
    >>> maps = [nib.Nifti1Image(1 + rng.standard_normal((3, 3, 3)), np.eye(4))
    ...         for _ in range(10)]
    >>> model = SecondLevelModel(mask_img=nib.Nifti1Image(
    ...     np.ones((3, 3, 3), np.uint8), np.eye(4))).fit(maps)
    >>> list(model.design_matrix_.columns)
    ['intercept']
    >>> model.compute_contrast(output_type='stat').shape
    (3, 3, 3)

    Surface maps, here two hemispheres of 3 and 2 vertices as GIFTI images; the
    maps come back as GIFTI images:

    >>> def hemispheres(values):
    ...     arrays = {'left': values[:3], 'right': values[3:]}
    ...     return {part: nib.gifti.GiftiImage(darrays=[nib.gifti.GiftiDataArray(
    ...         array.astype(np.float32))]) for part, array in arrays.items()}
    >>> surface_maps = [hemispheres(2 + rng.standard_normal(5)) for _ in range(8)]
    >>> model = SecondLevelModel().fit(surface_maps)
    >>> model.n_elements_
    5
    >>> z_map = model.compute_contrast(output_type='z_score')
    >>> sorted(z_map), [round(float(z), 2) for z in z_map['right'].darrays[0].data]
    (['left', 'right'], [1.8, 2.68])
    """

    def __init__(  # noqa: PLR0913, PLR0917
        self,
        mask_img: ImageLike | None = None,
        target_affine: np.ndarray | None = None,
        target_shape: tuple[int, int, int] | None = None,
        smoothing_fwhm: float | None = None,
        memory: Any = None,  # noqa: ANN401
        memory_level: int = 1,
        verbose: int = 0,
        n_jobs: int = 1,
        minimize_memory: bool = True,
        reports: bool = True,
    ) -> None:
        self.mask_img = mask_img
        self.target_affine = target_affine
        self.target_shape = target_shape
        self.smoothing_fwhm = smoothing_fwhm
        self.memory = memory
        self.memory_level = memory_level
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.minimize_memory = minimize_memory
        self.reports = reports

    # ----------------------------------------------------------------- fitting
    def fit(
        self,
        second_level_input: Any,  # noqa: ANN401
        confounds: pd.DataFrame | None = None,
        design_matrix: pd.DataFrame | str | os.PathLike[str] | None = None,
    ) -> SecondLevelModel:
        """Fit the group model.

        Parameters
        ----------
        second_level_input : list of 3D maps, a 4D image, list of FirstLevelModel, or DataFrame
            The maps, one per subject: images or paths (in a list or a pandas
            Series); the volumes of a 4D image; fitted first-level models (their
            contrast is chosen at contrast time); or a table with
            ``subject_label``, ``map_name`` and ``effects_map_path``. Surface
            maps: a list of single-map inputs, each a dict of GIFTI hemispheres
            (``{'left': ..., 'right': ...}``, files or images), a CIFTI-2
            ``.dscalar.nii`` (path or image) or a nilearn ``SurfaceImage``, all on
            one surface; one such input holding every map; or first-level models
            fitted on surface runs. Tables name volume maps only.
        confounds : DataFrame, optional
            Covariates with a ``subject_label`` column (the input must name
            subjects). Ignored, with a warning, when ``design_matrix`` is given.
        design_matrix : DataFrame or path, optional
            A ready-made design, one row per map, or the path of a ``.tsv`` or
            ``.csv`` file holding it (header row, no index column).

        Returns
        -------
        SecondLevelModel
            The fitted model (``self``).

        Raises
        ------
        ParameterTypeError
            If the input is of no accepted form or holds fewer than 2 maps, or a
            parameter or the design is of a wrong type (also a ``TypeError``, as
            nilearn raises).
        ImageDimensionError
            If a single input image is not 4D, or a map is not 3D; if surface and
            volume inputs are mixed (maps or first-level models), or an item of a
            list of surface maps holds several maps.
        ShapeMismatchError
            If surface maps (or their mask) lie on different surfaces: other
            hemispheres, vertex counts or CIFTI-2 brain models, naming the first
            map that differs; if no vertex is finite and non-zero in every map.
        InvalidParameterError
            For a mask of the other kind (a volume mask for surface maps, or the
            reverse), or ``smoothing_fwhm`` or ``target_affine`` with surface maps.

        Warns
        -----
        UserWarning
            When ``design_matrix`` and ``confounds`` are both given: the confounds
            are ignored.
        """
        check_parameter_types(self)
        self._check_grid_and_smoothing()
        group = read_group_input(second_level_input)
        if group.n_maps < 2:
            msg = (
                'A second-level model needs at least 2 input maps (one per subject or '
                f'study), as in nilearn; second_level_input holds {group.n_maps}. With one '
                'map there is no variation across maps to test an effect against.'
            )
            raise ParameterTypeError(msg)  # nilearn's TypeError, for a list of one
        design = self._make_design(group, confounds, design_matrix)
        masker, reading = self._make_masker(group)
        self._group = group
        self._fits: dict[Any, GroupFit] = {}
        self.design_matrix_ = design
        self.masker_ = masker
        self.mask_img_ = masker.mask_img_
        self.n_elements_ = masker.n_elements_
        self.second_level_input_ = _input_as_kept(second_level_input)
        self.confounds_ = confounds
        self._memory_object = None  # memory_ is made when read
        self._fixed_fit: GroupFit | None = None
        self._last_fit: GroupFit | None = None
        self.input_sources_: list[str | None] = group.sources
        if not group.needs_contrast:
            maps = group.maps_for(None)
            self._fixed_fit = self._fit_maps(None, maps, reading)
            self.input_sources_ = maps.sources
        return self

    def _make_masker(
        self, group: GroupInput
    ) -> tuple[VolumeMasker | SurfaceMasker, MapReading | SurfaceMapReading | None]:
        """Return the fitted masker, and the maps if they were read to make it."""
        if group.on_surface:
            return self._make_surface_masker(group)
        plan = self._mask_plan()
        reading = self._read_once(group, plan)
        masker = plan.masker(group.sample_map if reading is None else reading.sample)
        return masker, reading

    def _make_surface_masker(
        self, group: GroupInput
    ) -> tuple[SurfaceMasker, SurfaceMapReading | None]:
        """Return the masker of surface inputs: the given mask, or the data's own.

        The data's own mask is the vertices finite and non-zero in every map, found
        while the maps are read (once), or for first-level models the vertices
        inside every model's mask. A given mask is read first, so that every map is
        checked against its surface as it is read.
        """
        refuse_volume_parameters(self, 'these second-level inputs are surface maps')
        given = None
        if self.mask_img is not None:
            given = read_given_surface_mask(self.mask_img, 'surface maps')
        if group.surface_mask is not None:  # first-level models: maps come with a contrast
            if given is None:
                return SurfaceMasker(group.surface_mask), None
            layout = group.surface_mask.layout
            check_same_surface(given.layout, 'mask_img', layout, 'the first-level models')
            return SurfaceMasker(given), None
        maps = group.maps_for(None)
        if given is None:
            reading = read_surface_maps(maps.images, _map_names(maps))
            return SurfaceMasker(reading.mask()), reading
        reading = read_surface_maps(maps.images, _map_names(maps), given.layout, 'mask_img')
        return SurfaceMasker(given), reading

    def _read_once(self, group: GroupInput, plan: _MaskPlan) -> MapReading | None:
        """Read the maps and their mean in one pass, when the mask is computed from it.

        The mean gives the mask, and the maps are kept whole (every voxel) until it
        is known. Otherwise (a given mask, a resampling target, maps that depend on
        a first-level contrast, a mask from one map) return None: the maps are read
        once the mask is known, with its voxels only.
        """
        if group.needs_contrast or not group.sample_is_mean:
            return None
        if plan.mask is not None or plan.target.given:
            return None
        maps = group.maps_for(None)
        check_same_grid(maps.images, _map_names(maps))
        return read_maps(maps.images, None, smoothing_fwhm=plan.smoothing_fwhm, keep_mean=True)

    def _make_design(
        self,
        group: GroupInput,
        confounds: pd.DataFrame | None,
        design_matrix: pd.DataFrame | str | os.PathLike[str] | None,
    ) -> pd.DataFrame:
        if design_matrix is not None:
            if confounds is not None:
                msg = (
                    'SecondLevelModel.fit was given design_matrix and confounds: the design '
                    'is used as it is and the confounds are ignored (nilearn ignores them '
                    'too, silently). To model them, add their columns to the design, or pass '
                    'confounds without design_matrix.'
                )
                warn_caller(msg, UserWarning)
            parameter = "The 'design_matrix' parameter of SecondLevelModel.fit"
            design = read_design(design_matrix, parameter, 'The design matrix')
        elif confounds is not None:
            if group.labels is None:
                msg = (
                    'Confounds are matched to maps by subject label, which this input '
                    'does not give. Pass a DataFrame with subject_label, map_name and '
                    'effects_map_path (or first-level models with subject_label set), or '
                    'build the design yourself and pass design_matrix.'
                )
                raise InvalidParameterError(msg)
            design = make_second_level_design_matrix(group.labels, confounds)
        else:
            design = pd.DataFrame({'intercept': np.ones(group.n_maps)})
        if len(design) != group.n_maps:
            msg = (
                f'The design has {len(design)} rows but there are {group.n_maps} input '
                'maps; give one design row per map.'
            )
            raise ShapeMismatchError(msg)
        return design

    def _mask_plan(self) -> _MaskPlan:
        """Read where the mask comes from: given, a masker's, or computed from a sample.

        A masker given as ``mask_img`` brings its mask (or computes it by its
        ``mask_strategy`` from the mean input map) and its ``smoothing_fwhm``, which
        replaces the model's, as nilearn copies such a masker's parameters.
        """
        if is_surface_input(self.mask_img):
            msg = (
                'mask_img is a surface mask, but the second-level inputs are volumes: give '
                'a volume mask (a 3D image or path), or None to compute it from the maps.'
            )
            raise InvalidParameterError(msg)
        if not is_masker(self.mask_img):
            given = None if self.mask_img is None else self._load_mask_img(self.mask_img)
            target = Target(self.target_affine, self.target_shape)
            return _MaskPlan(given, compute_background_mask, self.smoothing_fwhm, target)
        settings = read_masker(
            self.mask_img,
            'SecondLevelModel',
            smoothing_fwhm=self.smoothing_fwhm,
            target=Target(self.target_affine, self.target_shape),
        )
        given = None if settings.mask_img is None else self._load_mask_img(settings.mask_img)
        return _MaskPlan(given, settings.compute_mask, settings.smoothing_fwhm, settings.target)

    def _fit_maps(
        self,
        key: Any,  # noqa: ANN401
        maps: GroupMaps,
        reading: MapReading | SurfaceMapReading | None = None,
    ) -> GroupFit:
        """Fit the design to ``maps`` (already read, every voxel, when ``reading``)."""
        if len(maps.images) != len(self.design_matrix_):
            msg = (
                f'The design has {len(self.design_matrix_)} rows but there are '
                f'{len(maps.images)} input maps; give one design row per map.'
            )
            raise ShapeMismatchError(msg)
        store, columns = self._stored_maps(maps, reading)
        design = self.design_matrix_.to_numpy(dtype=np.float64)
        fit = GroupFit.fit(store, columns, design)
        self._fits[key] = fit
        return fit

    def _stored_maps(
        self, maps: GroupMaps, reading: MapReading | SurfaceMapReading | None
    ) -> tuple[MapStore, np.ndarray]:
        """Return the maps' store and the column of each voxel (or vertex) of the mask.

        Maps not read yet are read now: the mask's voxels of volumes, every vertex
        of surfaces (on the mask's surface).
        """
        masker = self.masker_
        if isinstance(masker, SurfaceMasker):
            mask = masker.mask_
            if reading is None:
                names = _map_names(maps)
                reading = read_surface_maps(maps.images, names, mask.layout, 'the mask')
            return reading.store, np.flatnonzero(mask.inside)
        if not isinstance(reading, MapReading):
            store = self._read_masked(maps, masker)
            return store, np.arange(store.shape[1])
        return reading.store, reading.columns_of(fortran_index(load_mask(self.mask_img_)))

    def _read_masked(self, maps: GroupMaps, masker: VolumeMasker) -> MapStore:
        """Read the maps' in-mask values, one row per map; resampled if the masker says.

        With a resampling target, the maps (on one grid) are resampled together, so
        that one clip range applies to all of them, as nilearn resamples them.
        """
        names = _map_names(maps)
        smoothing = masker.smoothing_fwhm
        mask_grid = image_grid(self.mask_img_)
        on_mask_grid = all(image_grid(image).same_as(mask_grid) for image in maps.images)
        if masker.target_affine is None or on_mask_grid:
            check_same_grid([*maps.images, self.mask_img_], [*names, 'mask'])
            voxels = load_mask(self.mask_img_)
            return read_maps(maps.images, voxels, smoothing_fwhm=smoothing).store
        check_same_grid(maps.images, names)
        resampled = resample_and_mask(maps.images, self.mask_img_, smoothing_fwhm=smoothing)
        return MapStore.from_rows(resampled)

    def _fit_for(self, first_level_contrast: Any) -> GroupFit:  # noqa: ANN401
        key = _cache_key(first_level_contrast)
        if key not in self._fits:
            self._fit_maps(key, self._group.maps_for(first_level_contrast))
        return self._fits[key]

    # ---------------------------------------------------------------- outputs
    @property
    def fit_(self) -> GLMFit | None:
        """The fit, when the maps were known at fit time, with its residuals.

        The residuals are computed from the maps (kept on disk) each time this is
        read: they are as large as the input.
        """
        self._check_fitted()
        return None if self._fixed_fit is None else self._fixed_fit.with_residuals()

    @property
    def residuals_(self) -> Any:  # noqa: ANN401 - a volume or a surface image
        """The residuals, 4D, one volume per input map (computed when read).

        For surface maps, a surface image of their form with one sample per map.
        """
        return self._unmask(self._known_fit().residuals())

    @property
    def r_square_(self) -> Any:  # noqa: ANN401 - a volume or a surface image
        """The r-squared of the model, 3D (a single surface map for surface maps)."""
        return self._unmask(self._known_fit().glm.r_square)

    @property
    def predicted_(self) -> Any:  # noqa: ANN401 - a volume or a surface image
        """The fitted values (design times estimates), 4D, one volume per input map."""
        fit = self._known_fit()
        return self._unmask(fit.design @ fit.glm.beta)

    def _maps_mask(self) -> nib.Nifti1Image | SurfaceMask:
        """Return the mask that in-mask values are put back with (volume or surface)."""
        if isinstance(self.masker_, SurfaceMasker):
            return self.masker_.mask_
        return self.mask_img_

    def _unmask(self, values: np.ndarray) -> Any:  # noqa: ANN401
        """Put in-mask values back into an image of the inputs' kind, 0 outside the mask.

        On a CIFTI-2 surface, rows (one per input map) become named maps of a
        ``.dscalar.nii``.
        """
        mask = self._maps_mask()
        if isinstance(mask, SurfaceMask):
            names = None if values.ndim == 1 else [f'map {i + 1}' for i in range(len(values))]
            return mask.unmask(values, names=names)
        return unmask(values, mask)

    @property
    def labels_(self) -> np.ndarray | None:
        """The noise group of each voxel: ``0.0`` everywhere (OLS), as in nilearn.

        None while the maps depend on a first-level contrast and none was computed
        yet (nilearn's is None until a contrast is computed).
        """
        fit = self._fit_so_far()
        return None if fit is None else run_labels(fit.glm, 'ols')

    @property
    def results_(self) -> dict[str | float, RegressionResults] | None:
        """The regression results, ``{0.0: RegressionResults}``, as nilearn's.

        None when :attr:`labels_` is. The residuals are computed from the maps (kept
        on disk) each time this is read; the other arrays when first read.
        """
        fit = self._fit_so_far()
        if fit is None:
            return None
        return run_results(fit.with_residuals(), fit.design, 'ols')

    def iter_residuals(self) -> Iterator[np.ndarray]:
        """Yield the residuals one input map at a time, without holding them all.

        Each is float32, one value per voxel of the mask (in the order of
        :attr:`masker_`'s ``transform``); ``stat-errorts`` is written from them, a
        volume at a time. For first-level-model inputs, those of the last contrast
        computed, as :attr:`residuals_`.

        Examples
        --------
        >>> import nibabel as nib
        >>> maps = [nib.Nifti1Image(np.full((2, 1, 1), v), np.eye(4)) for v in (1.0, 3.0)]
        >>> mask = nib.Nifti1Image(np.ones((2, 1, 1), np.uint8), np.eye(4))
        >>> model = SecondLevelModel(mask_img=mask).fit(maps)
        >>> [row.tolist() for row in model.iter_residuals()]
        [[-1.0, -1.0], [1.0, 1.0]]
        """
        return self._known_fit().residual_rows()

    def _fit_so_far(self) -> GroupFit | None:
        self._check_fitted()
        return self._fixed_fit if self._fixed_fit is not None else self._last_fit

    def _known_fit(self) -> GroupFit:
        fit = self._fit_so_far()
        if fit is None:
            msg = (
                'This SecondLevelModel was fitted on inputs whose maps depend on a '
                'first-level contrast, and no contrast was computed yet. Call '
                "compute_contrast(first_level_contrast='...') first: the residuals are "
                "then that contrast's."
            )
            raise ContrastError(msg)
        return fit

    # --------------------------------------------------------------- contrasts
    @overload
    def compute_contrast(
        self,
        second_level_contrast: str | np.ndarray | Sequence[float] | None = ...,
        first_level_contrast: str | np.ndarray | None = ...,
        second_level_stat_type: str | None = ...,
        *,
        output_type: Literal['all'],
    ) -> dict[str, nib.Nifti1Image]: ...

    @overload
    def compute_contrast(
        self,
        second_level_contrast: str | np.ndarray | Sequence[float] | None = ...,
        first_level_contrast: str | np.ndarray | None = ...,
        second_level_stat_type: str | None = ...,
        output_type: MapName = ...,
    ) -> nib.Nifti1Image: ...

    def compute_contrast(
        self,
        second_level_contrast: str | np.ndarray | Sequence[float] | None = None,
        first_level_contrast: str | np.ndarray | None = None,
        second_level_stat_type: str | None = None,
        output_type: str = 'z_score',
    ) -> nib.Nifti1Image | dict[str, nib.Nifti1Image]:
        """Estimate and test a contrast of the group design.

        Parameters
        ----------
        second_level_contrast : str, array or None
            Over the design columns; None tests the only column of a one-column
            design.
        first_level_contrast : str or array, optional
            Which first-level contrast (for FirstLevelModel inputs) or map name (for
            a DataFrame input) to take the maps of.
        second_level_stat_type : {'t', 'F'}, optional
            The test; by default t for one row, F for several.
        output_type : str, default='z_score'
            One of 'z_score', 'stat', 'p_value', 'effect_size', 'effect_variance',
            or 'all'.

        Returns
        -------
        nibabel.Nifti1Image or dict of them
            For surface maps, images of the inputs' form: a dict of GIFTI images,
            a CIFTI-2 ``.dscalar.nii`` image, or a ``SurfaceImage``.
        """
        self._check_fitted()
        self._check_output_type(output_type)
        result = self.compute_contrast_result(
            second_level_contrast, first_level_contrast, second_level_stat_type
        )
        return self._select_output(result, output_type)

    def compute_contrast_result(
        self,
        second_level_contrast: str | np.ndarray | Sequence[float] | None = None,
        first_level_contrast: str | np.ndarray | None = None,
        second_level_stat_type: str | None = None,
    ) -> ContrastResult:
        """Like :meth:`compute_contrast`, but return the full :class:`ContrastResult`."""
        self._check_fitted()
        columns = [str(column) for column in self.design_matrix_.columns]
        weights = self._second_level_weights(second_level_contrast, columns)
        stat_type = self._resolve_stat_type(second_level_stat_type, weights)
        fit = (
            self._fixed_fit
            if first_level_contrast is None and self._fixed_fit is not None
            else self._fit_for(first_level_contrast)
        )
        self._last_fit = fit
        stats = compute_contrast_stats(fit.glm, weights, stat_type)
        return ContrastResult.from_stats(stats, [weights], [columns], self._maps_mask())

    def _second_level_weights(self, contrast: Any, columns: list[str]) -> np.ndarray:  # noqa: ANN401
        if contrast is None:
            if len(columns) != 1:
                msg = (
                    f'The design has {len(columns)} columns {columns}; say which to test, '
                    "e.g. second_level_contrast='intercept'."
                )
                raise ContrastError(msg)
            contrast = np.ones(1)
        weights = contrast_to_matrix(contrast, columns)
        check_estimable(weights, self.design_matrix_.to_numpy(dtype=np.float64), columns)
        return weights


# --------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class _MaskPlan:
    """Where a model's mask comes from, and how its maps are read.

    Parameters
    ----------
    mask : nibabel.Nifti1Image or None
        The mask given (by ``mask_img`` or a masker's); None: computed.
    compute : callable
        Computes the mask from a sample map (the mean of the maps, or nilearn's
        choice for other inputs).
    smoothing_fwhm : float, sequence, 'fast' or None
        The smoothing of the maps.
    target : Target
        The grid the mask and maps are resampled onto, if any.
    """

    mask: nib.Nifti1Image | None
    compute: Callable[[nib.Nifti1Image], nib.Nifti1Image]
    smoothing_fwhm: Any
    target: Target

    def masker(self, sample: Callable[[], nib.Nifti1Image]) -> VolumeMasker:
        """Return the fitted masker, computing the mask from ``sample()`` if not given."""
        mask = self.mask if self.mask is not None else self.compute(sample())
        return VolumeMasker(
            mask,
            smoothing_fwhm=self.smoothing_fwhm,
            target_affine=self.target.affine,
            target_shape=self.target.shape,
        ).fit()


def _input_as_kept(second_level_input: Any) -> Any:  # noqa: ANN401
    """Return ``second_level_input_`` as nilearn keeps it.

    A table is sorted by ``subject_label`` (stably, index reset), a 4D image split
    into its 3D volumes; any other input is kept as given.
    """
    if isinstance(second_level_input, pd.DataFrame):
        ordered = second_level_input.sort_values('subject_label', kind='stable')
        return ordered.reset_index(drop=True)
    if isinstance(second_level_input, nib.Nifti1Image) and second_level_input.ndim == 4:
        return nib.four_to_three(second_level_input)
    return second_level_input


def _cache_key(first_level_contrast: Any) -> Any:  # noqa: ANN401
    if isinstance(first_level_contrast, np.ndarray):
        return (first_level_contrast.shape, first_level_contrast.tobytes())
    if isinstance(first_level_contrast, list):
        return repr(first_level_contrast)
    return first_level_contrast


def _map_names(maps: GroupMaps) -> list[str]:
    return [source or f'input map {i + 1}' for i, source in enumerate(maps.sources)]
