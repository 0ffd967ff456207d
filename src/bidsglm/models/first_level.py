"""The first-level model: one subject's runs, each fitted, combined by fixed effects."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

import nibabel as nib
import numpy as np
import pandas as pd

from bidsglm._stages import timed
from bidsglm._steps import StepCounter
from bidsglm.design import check_events, make_first_level_design_matrix
from bidsglm.design.contrasts import check_estimable, contrast_to_matrix
from bidsglm.design.tables import read_table
from bidsglm.errors import (
    ContrastError,
    ImageDimensionError,
    InvalidParameterError,
    NotFittedError,
    ParameterTypeError,
    ShapeMismatchError,
    warn_caller,
)
from bidsglm.models._base import BaseGLM
from bidsglm.models._images import check_4d, check_same_grid, load_image, unmask
from bidsglm.models._param_types import check_parameter_types
from bidsglm.models._resampling import Target
from bidsglm.models._sample_masks import read_sample_masks
from bidsglm.models._tables import numbers_only, read_design
from bidsglm.models.masker import VolumeMasker, is_masker, read_masker
from bidsglm.models.masking import compute_multi_epi_mask
from bidsglm.models.regression import RegressionResults, run_labels, run_results
from bidsglm.models.results import ContrastResult, MapName
from bidsglm.models.surface import (
    SurfaceData,
    SurfaceMask,
    SurfaceMasker,
    compute_surface_mask,
    is_surface_input,
    read_surface,
    read_surface_mask,
    refuse_volume_parameters,
)
from bidsglm.stats import (
    compute_contrast_stats,
    fit_glm,
    fixed_effects,
    scale_signal,
)
from bidsglm.stats.autoregression import whiten_ar
from bidsglm.stats.clustering import spread_random_state
from bidsglm.stats.regression import check_noise_model

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from bidsglm.stats import GLMFit
    from bidsglm.stats.clustering import RandomState

__all__ = ['FirstLevelModel', 'select_runs']

ImageLike = str | os.PathLike[str] | nib.spatialimages.SpatialImage
TableLike = pd.DataFrame | str | os.PathLike[str]
ConfoundsLike = TableLike | np.ndarray

#: Column names of confounds given as an array, as nilearn's FirstLevelModel names them.
ARRAY_CONFOUND_NAME = 'confound_{}'

_SIGNAL_SCALINGS = (False, 0, 1, (0, 1))
#: The ``standardize`` methods nilearn 0.14.1's FirstLevelModel accepts (besides True,
#: False and None); it refuses 'zscore', which its signal cleaning dropped in 0.14.
_STANDARDIZE_METHODS = ('zscore_sample', 'psc')


class FirstLevelModel(BaseGLM):
    """A GLM of one subject's task fMRI runs, with nilearn's parameters and numbers.

    Each run is masked, scaled to percent signal change, fitted with OLS or AR(p)
    prewhitening, and contrasts are combined over runs by fixed effects. Unlike
    nilearn's, the residuals and r-squared that :func:`bidsglm.save_glm_to_bids`
    writes are always kept, so the default parameters are enough to save a model.

    Parameters
    ----------
    t_r : float, optional
        Repetition time in seconds; needed to build designs from events.
    slice_time_ref : float or None, default=0.0
        Where in the repetition (0 to 1) the slices were referenced to; frame times
        are ``(arange(n) + slice_time_ref) * t_r``. None only with ready-made
        designs, as in nilearn.
    hrf_model : str or None, default='glover'
        A name of :data:`bidsglm.design.HRF_MODELS`.
    drift_model : {'cosine', 'polynomial', None}, default='cosine'
        The slow drift regressors.
    high_pass : float, default=0.01
        Cut-off frequency (Hz) of the cosine drifts.
    drift_order : int, default=1
        Order of the polynomial drifts.
    fir_delays : sequence of int or None, default=None
        Delays, in scans, of the FIR model (None: ``[0]``).
    min_onset : float, default=-24
        Earliest event onset, in seconds, that the design accounts for.
    mask_img : image, path, masker, False or None, default=None
        The brain mask. None computes one from the runs as nilearn does (EPI
        strategy); False uses every voxel. A masker (a nilearn ``NiftiMasker`` or
        another model's ``masker_``) gives its fitted ``mask_img_``, else its
        ``mask_img``, and its ``smoothing_fwhm``, ``target_affine`` and
        ``target_shape``, which replace this model's (with a warning when both are
        set and differ). Its ``standardize`` does not matter (``signal_scaling``
        applies), nor do ``t_r``, ``runs``, ``standardize_confounds``, ``memory`` or
        reporting options; ``detrend``, filters, ``dtype`` and ``clean_args`` must be
        at their defaults. A masker with no mask at all is refused, as nilearn
        refuses an unfitted masker; unlike nilearn, an unfitted masker that has a
        ``mask_img`` is accepted (a ``sklearn.base.clone`` of the model unfits it).
    target_affine : (4, 4) or (3, 3) array-like, optional
        Resample the runs (cubic splines) and the mask (nearest neighbour) onto
        this grid, as nilearn does (its ``resample_img``; see
        :mod:`bidsglm.stats.resampling`): a mask computed from the runs is computed
        there from their resampled means; the runs are resampled one volume at a
        time, onto the mask's bounding box, then smoothed and masked. A 3x3 affine
        gives the axes only: the offset and shape are chosen to hold the runs' (or
        the mask's) grid. The runs need not be on the mask's grid.
    target_shape : 3 ints, optional
        The shape of that grid, with a 4x4 ``target_affine``; by default the shape
        that holds the runs' (or the mask's) grid.
    smoothing_fwhm : float, optional
        Full width at half maximum, in mm, of a Gaussian smoothing of the runs.
    memory, memory_level : optional
        Accepted for compatibility; bidsglm caches nothing on disk.
    standardize : {False, True, None, 'zscore_sample', 'psc'}, default=False
        nilearn 0.14.1's values, all accepted, none applied, as in nilearn 0.14.1:
        its ``fit`` sets ``standardize_`` to None whatever ``signal_scaling`` is
        (its test ``signal_scaling in [0, 1, (0, 1)]`` also holds for False), so its
        numbers never depend on ``standardize``, and bidsglm's neither. A value that
        asks for standardizing (True, ``'zscore_sample'``, ``'psc'``) warns that it
        is not applied; ``'zscore'`` and other values are refused, as nilearn 0.14.1
        refuses them.
    signal_scaling : {0, 1, (0, 1), False}, default=0
        0 scales each voxel to percent signal change around its temporal mean.
    noise_model : str, default='ar1'
        The temporal noise model: ``'ols'``, or ``'ar<p>'`` for AR(p) prewhitening
        (``'ar1'``, ``'ar2'``, ...) as nilearn fits it: Yule-Walker coefficients per
        voxel, grouped (AR(1): truncated to steps of ``1 / bins``; AR(p > 1):
        clustered by k-means into at most ``bins`` groups), one whitened refit per
        group.
    verbose : int, default=0
        Accepted for compatibility; nothing is printed.
    n_jobs : int, default=1
        How many runs are read and fitted at once, on threads (reading and the matrix
        products release the interpreter lock). -1 means one per core, -2 all
        cores but one. The results do not depend on it.
    minimize_memory : bool, default=True
        Accepted for compatibility. The residuals (float32) and r-squared are always
        kept, as saving needs them; predictions are computed on demand.
    subject_label : str, optional
        The subject, used by second-level models and for file names.
    random_state : int, numpy Generator or RandomState, or None
        The seed of scikit-learn's k-means clustering of AR(p > 1) coefficients,
        given to every run as nilearn gives it: an int gives nilearn's numbers.
        Unlike nilearn's None, which draws other clusters at every fit, None is seed
        0, so a refit gives the same numbers; a generator gives each run a seed drawn
        from it in run order, whatever ``n_jobs``.
    reports : bool, default=True
        Accepted for compatibility. nilearn skips gathering report data at fit time
        when it is False; bidsglm gathers none at fit time, and
        :meth:`generate_report` draws the page from the fitted model either way.

    Attributes
    ----------
    design_matrices_ : list of pandas.DataFrame
        The design of each run (its kept rows, under ``sample_masks``).
    mask_img_ : nibabel.Nifti1Image
        The mask used (uint8, 0 and 1); for surface runs, a surface image of their
        form with 1 at the vertices kept.
    standardize_ : None
        The standardization applied to the runs: none, as nilearn 0.14.1's.
    fir_delays_ : list of int
        The FIR delays used: ``fir_delays``, or ``[0]`` when it is None.
    memory_ : joblib.Memory
        nilearn's cache object, made from ``memory`` for code that reads it;
        bidsglm caches nothing.
    n_elements_ : int
        The number of voxels in the mask.
    masker_ : bidsglm.models.masker.VolumeMasker or bidsglm.models.surface.SurfaceMasker
        The mask and smoothing the runs were read with, as a fitted masker shaped
        like nilearn's ``NiftiMasker`` (``transform``, ``inverse_transform``,
        ``mask_img_``, ``n_elements_``). Always bidsglm's own, even when a nilearn
        masker was given as ``mask_img`` (nilearn keeps that object, and changes its
        ``standardize``).
    labels_ : list of ndarray
        Per run, the noise group of each voxel, labelled as nilearn does: ``0.0``
        under OLS, the AR(1) coefficient as text (``'0.07'``) under AR(1), the
        group's coefficients rounded to 2 decimals and joined by ``'_'``
        (``'0.35_-0.12'``) under AR(p > 1).
    results_ : list of dict
        Per run, each group's :class:`~bidsglm.models.regression.RegressionResults`
        (``theta``, ``residuals``, ``predicted``, ``r_square``, ``MSE``, ``SSE``, ...),
        keyed by label. Unlike nilearn's with ``minimize_memory=True``, they are
        always complete. ``labels_`` and ``results_`` are computed when read, so
        fitting costs no more.
    fits_ : list of bidsglm.stats.GLMFit
        The voxel-wise fit of each run.
    run_sources_ : list of str or None
        The file each run was read from, or None for an image in memory.
    mean_img_ : nibabel.Nifti1Image (or a surface image of the runs' form)
        The data averaged over time (the kept volumes, before scaling) inside the
        mask, then over the runs; 0 outside. Saved as ``stat-mean``; the report
        draws the maps over it.
    residuals_, predicted_, r_square_ : list of nibabel.Nifti1Image
        Per run: the residuals (4D, whitened under AR(p)), the fitted values (4D)
        and r-squared (3D).

    Examples
    --------
    >>> import nibabel as nib
    >>> rng = np.random.default_rng(0)
    >>> run = nib.Nifti1Image(100 + rng.standard_normal((2, 2, 2, 30)), np.eye(4))
    >>> events = pd.DataFrame({'onset': [10.0, 40.0], 'duration': [5.0, 5.0],
    ...                        'trial_type': ['go', 'go']})
    >>> model = FirstLevelModel(t_r=2.0, mask_img=False).fit(run, events=events)
    >>> list(model.design_matrices_[0].columns)
    ['go', 'drift_1', 'constant']
    >>> model.compute_contrast('go', output_type='stat').shape
    (2, 2, 2)
    """

    def __init__(  # noqa: PLR0913, PLR0917
        self,
        t_r: float | None = None,
        slice_time_ref: float = 0.0,
        hrf_model: str | None = 'glover',
        drift_model: str | None = 'cosine',
        high_pass: float = 0.01,
        drift_order: int = 1,
        fir_delays: Sequence[int] | None = None,
        min_onset: float = -24,
        mask_img: ImageLike | bool | None = None,
        target_affine: np.ndarray | None = None,
        target_shape: tuple[int, int, int] | None = None,
        smoothing_fwhm: float | None = None,
        memory: Any = None,  # noqa: ANN401
        memory_level: int = 1,
        standardize: bool | str | None = False,
        signal_scaling: int | tuple[int, int] | bool = 0,
        noise_model: str = 'ar1',
        verbose: int = 0,
        n_jobs: int = 1,
        minimize_memory: bool = True,
        subject_label: str | None = None,
        random_state: Any = None,  # noqa: ANN401
        reports: bool = True,
    ) -> None:
        self.t_r = t_r
        self.slice_time_ref = slice_time_ref
        self.hrf_model = hrf_model
        self.drift_model = drift_model
        self.high_pass = high_pass
        self.drift_order = drift_order
        self.fir_delays = fir_delays
        self.min_onset = min_onset
        self.mask_img = mask_img
        self.target_affine = target_affine
        self.target_shape = target_shape
        self.smoothing_fwhm = smoothing_fwhm
        self.memory = memory
        self.memory_level = memory_level
        self.standardize = standardize
        self.signal_scaling = signal_scaling
        self.noise_model = noise_model
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.minimize_memory = minimize_memory
        self.subject_label = subject_label
        self.random_state = random_state
        self.reports = reports

    # ----------------------------------------------------------------- fitting
    def fit(
        self,
        run_imgs: ImageLike | Sequence[ImageLike],
        events: TableLike | Sequence[TableLike] | None = None,
        confounds: ConfoundsLike | Sequence[ConfoundsLike] | None = None,
        sample_masks: ArrayLike | Sequence[ArrayLike | None] | None = None,
        design_matrices: TableLike | Sequence[TableLike] | None = None,
        bins: int = 100,
    ) -> FirstLevelModel:
        """Fit the model to one or several runs.

        Parameters
        ----------
        run_imgs : image or path, or a list of them
            The 4D runs, all on the same grid.
        events : DataFrame or path, or a list with one per run, optional
            Events with ``onset``, ``duration`` and optionally ``trial_type`` and
            ``modulation``; a path names a ``.tsv`` (tab-separated) or ``.csv``
            (comma-separated) file. Needs ``t_r``. Events or design matrices must be
            given.
        confounds : DataFrame, array or path, or a list with one per run, optional
            Extra regressors, one row per scan. A DataFrame's column names are
            kept as they are; an array's columns are named ``confound_0``,
            ``confound_1``, ... (as nilearn names them); a path names a ``.tsv`` or
            ``.csv`` file.
        sample_masks : array, or a list with one per run, optional
            The volumes kept in each run (scrubbing), as nilearn takes them: the
            indices of the volumes kept, or a boolean array with one value per volume
            (True for those kept); a list holds one per run (None keeps every volume
            of that run), a single array is the mask of a single run. The design is
            made from every volume, then the design and the data keep those rows (so
            ``design_matrices_`` have one row per kept volume); the mask is computed
            from every volume.
        design_matrices : DataFrame or path, or a list with one per run, optional
            Ready-made designs, one row per scan; a path names a ``.tsv`` or
            ``.csv`` file (header row, no index column). Events and confounds given
            too are ignored, with a warning, as nilearn does.
        bins : int, default=100
            AR(1) coefficients are truncated to multiples of ``1 / bins``; AR(p > 1)
            coefficient vectors are clustered into at most ``bins`` groups.

        Returns
        -------
        FirstLevelModel
            The fitted model (``self``).

        Raises
        ------
        ParameterTypeError
            If a parameter is of a type nilearn refuses too (``t_r='2'``,
            ``n_jobs=1.5``, ...), if a run is not an image or a path, if a table is
            neither a DataFrame nor a path (confounds: nor an array), or holds text
            (also a ``TypeError``, as nilearn raises).
        ImageDimensionError
            If a run is not 4D (also a ``TypeError``, as nilearn's
            ``DimensionError``).
        InputNotFoundError
            If a run or table file does not exist (also a ``ValueError``).
        ShapeMismatchError
            If the number of tables or sample masks is not one per run, a table has
            not one row per volume, or a sample mask names a volume the run has not.

        Warns
        -----
        UserWarning
            When ``design_matrices`` is given with events or confounds, which are
            then ignored.
        """
        self._check_parameters()
        _check_bins(bins)
        runs, sources = _load_runs(run_imgs)
        volumes = read_sample_masks(sample_masks, [_n_scans(run) for run in runs])
        if len(runs) == 1 and self.mask_img is None and not _on_surface(runs):
            runs = [_in_memory(runs[0])]  # the mask and the fit read it once
        designs = self._make_designs(runs, events, confounds, design_matrices)
        designs = [
            design if kept is None else design.iloc[kept]
            for design, kept in zip(designs, volumes, strict=True)
        ]
        masker = self._make_masker(runs)
        fitted = self._fit_runs(runs, designs, masker, _RunSettings(bins, volumes))
        self.design_matrices_ = designs
        self.run_sources_ = sources
        self.fits_ = [fit for fit, _mean in fitted]
        self.masker_ = masker
        self.standardize_ = None  # never applied, as in nilearn 0.14.1 (see standardize)
        self.fir_delays_ = [0] if self.fir_delays is None else self.fir_delays
        self._memory_object = None  # memory_ is made when read
        self.mask_img_ = masker.mask_img_
        self.n_elements_ = masker.n_elements_
        self._run_means = [run_mean for _fit, run_mean in fitted]
        self.mean_img_ = self._unmask(np.mean(self._run_means, axis=0), dtype=np.float32)
        return self

    def _check_parameters(self) -> None:
        check_parameter_types(self)
        if not self.n_jobs:
            raise self._invalid(
                name='n_jobs', allowed='a non-zero int (-1 for every core)', value=self.n_jobs
            )
        if self.t_r is not None and not self.t_r > 0:
            raise self._invalid(name='t_r', allowed='a float in (0, inf) or None', value=self.t_r)
        if self.slice_time_ref is not None and not 0 <= self.slice_time_ref <= 1:
            raise self._invalid(
                name='slice_time_ref', allowed='a float in [0, 1]', value=self.slice_time_ref
            )
        try:
            check_noise_model(self.noise_model)
        except InvalidParameterError:
            raise self._invalid(
                name='noise_model',
                allowed="'ols' or 'ar<p>' with an order p >= 1 ('ar1', 'ar2', ...)",
                value=self.noise_model,
            ) from None
        if not any(_same_scaling(self.signal_scaling, s) for s in _SIGNAL_SCALINGS):
            raise self._invalid(
                name='signal_scaling',
                allowed='one of 0, 1, (0, 1) or False',
                value=self.signal_scaling,
            )
        self._check_standardize()
        self._check_grid_and_smoothing()

    def _check_standardize(self) -> None:
        """Accept nilearn 0.14.1's values of ``standardize``; warn that none applies."""
        value = self.standardize
        if isinstance(value, str):
            accepted = value in _STANDARDIZE_METHODS
        else:
            integral = isinstance(value, (int, np.integer, np.bool_))
            accepted = value is None or (integral and value in (0, 1))
        if not accepted:
            raise self._invalid(
                name='standardize',
                allowed=(
                    "one of 'zscore_sample', 'psc', True, False or None, as in nilearn "
                    "0.14.1 ('zscore' is gone there: 'zscore_sample' replaces it)"
                ),
                value=value,
            )
        if value is None or not value:
            return
        msg = (
            f'FirstLevelModel(standardize={value!r}) is not applied: nilearn 0.14.1 never '
            'applies it on the first level (its standardize_ is always None), and bidsglm '
            'gives the same numbers. The runs are scaled by signal_scaling (0: percent '
            "signal change of each voxel, as 'psc'); to z-score them, clean the runs before "
            'fitting. Leave standardize=False to silence this.'
        )
        warn_caller(msg, UserWarning)

    def _make_designs(
        self,
        runs: list[nib.Nifti1Image],
        events: TableLike | Sequence[TableLike] | None,
        confounds: ConfoundsLike | Sequence[ConfoundsLike] | None,
        design_matrices: TableLike | Sequence[TableLike] | None,
    ) -> list[pd.DataFrame]:
        n_scans = [_n_scans(run) for run in runs]
        if design_matrices is not None:
            _warn_ignored(events, confounds)
            designs = _per_run(design_matrices, len(runs), 'design_matrices')
            return [
                _read_design(design, n, index)
                for index, (design, n) in enumerate(zip(designs, n_scans, strict=True))
            ]
        if events is None:
            msg = (
                'FirstLevelModel.fit needs events or design_matrices, as in nilearn: give '
                'the events of each run, or build the designs (e.g. with '
                'make_first_level_design_matrix) and pass them as design_matrices.'
            )
            raise InvalidParameterError(msg)
        if self.t_r is None:
            msg = (
                "The 't_r' parameter of FirstLevelModel is needed to build designs from "
                'events. Give the repetition time in seconds, e.g. FirstLevelModel(t_r=2.0), '
                'or pass design_matrices.'
            )
            raise InvalidParameterError(msg)
        events_per_run = _per_run(events, len(runs), 'events')
        confounds_per_run = _per_run(confounds, len(runs), 'confounds')
        return [
            self._design_of_run(n, run_events, run_confounds, index)
            for index, (n, run_events, run_confounds) in enumerate(
                zip(n_scans, events_per_run, confounds_per_run, strict=True)
            )
        ]

    def _design_of_run(
        self, n_scans: int, events: TableLike | None, confounds: ConfoundsLike | None, index: int
    ) -> pd.DataFrame:
        assert self.t_r is not None
        if self.slice_time_ref is None:
            raise self._invalid(
                name='slice_time_ref',
                allowed='a float in [0, 1] to build designs from events',
                value=None,
            )
        frame_times = (np.arange(n_scans) + self.slice_time_ref) * self.t_r
        table = None if confounds is None else _read_confounds(confounds, n_scans, index)
        return make_first_level_design_matrix(
            frame_times,
            events=None if events is None else check_events(events),
            hrf_model=self.hrf_model,
            drift_model=self.drift_model,
            high_pass=self.high_pass,
            drift_order=self.drift_order,
            fir_delays=self.fir_delays,
            add_regs=None if table is None else table.to_numpy(dtype=np.float64),
            add_reg_names=None if table is None else list(table.columns),
            min_onset=self.min_onset,
        )

    def _maps_mask(self) -> nib.Nifti1Image | SurfaceMask:
        """Return the mask that in-mask values are put back with (volume or surface)."""
        if isinstance(self.masker_, SurfaceMasker):
            return self.masker_.mask_
        return self.mask_img_

    def _unmask(self, values: np.ndarray, dtype: Any = None) -> Any:  # noqa: ANN401
        """Put in-mask values back into an image of the runs' kind, 0 outside the mask."""
        mask = self._maps_mask()
        if isinstance(mask, SurfaceMask):
            return mask.unmask(values, dtype)
        return unmask(values, mask, dtype=dtype)

    def _make_masker(self, runs: list[Any]) -> VolumeMasker | SurfaceMasker:
        """Build the fitted masker: the mask (given, computed, or a masker's) and smoothing.

        Surface runs get a :class:`SurfaceMasker`. A masker given as ``mask_img``
        brings its mask and its ``smoothing_fwhm``, which replaces the model's, as
        nilearn uses such a masker as it is; its ``standardize`` does not matter (the
        model's applies).
        """
        if _on_surface(runs):
            return self._make_surface_masker(runs)
        target = Target(self.target_affine, self.target_shape)
        if not is_masker(self.mask_img):
            return VolumeMasker(
                self._make_mask(runs, target),
                smoothing_fwhm=self.smoothing_fwhm,
                target_affine=self.target_affine,
                target_shape=self.target_shape,
            ).fit()
        settings = read_masker(
            self.mask_img,
            'FirstLevelModel',
            ignored=('standardize',),
            smoothing_fwhm=self.smoothing_fwhm,
            target=target,
        )
        if settings.mask_img is None:
            msg = (
                f'The {type(self.mask_img).__name__} given as mask_img is not fitted and '
                'has no mask_img, so it holds no mask (nilearn refuses it too). Fit it '
                'first, e.g. masker.fit(run_imgs), or give it a mask_img.'
            )
            raise NotFittedError(msg)
        mask = self._load_mask_img(settings.mask_img)
        if not settings.target.given:
            check_same_grid([runs[0], mask], ['run 1', 'mask_img'])
        return VolumeMasker(
            mask,
            smoothing_fwhm=settings.smoothing_fwhm,
            target_affine=settings.target.affine,
            target_shape=settings.target.shape,
        ).fit()

    def _make_surface_masker(self, runs: list[SurfaceData]) -> SurfaceMasker:
        """Return the masker of surface runs: the data's own mask, all vertices, or the given one.

        Volume-only parameters are refused: smoothing is not defined on a surface here
        (smooth along the surface before the GLM) and resampling has no meaning.
        """
        refuse_volume_parameters(
            self, f'these runs are surface data ({runs[0].layout.describe()})'
        )
        layout = runs[0].layout
        if self.mask_img is None:
            return SurfaceMasker(compute_surface_mask(runs))
        if self.mask_img is False:
            return SurfaceMasker(SurfaceMask(np.ones(layout.n_vertices, dtype=bool), layout))
        if not is_surface_input(self.mask_img):
            msg = (
                f'mask_img is a {type(self.mask_img).__name__}, but the runs are surface '
                f'data ({layout.describe()}): give a mask of the same form (a dict of GIFTI '
                'hemispheres, a CIFTI-2 .dscalar.nii or a SurfaceImage), or None.'
            )
            raise InvalidParameterError(msg)
        return SurfaceMasker(read_surface_mask(self.mask_img, layout))

    def _make_mask(self, runs: list[nib.Nifti1Image], target: Target) -> nib.Nifti1Image:
        """Return the mask: computed on the target grid, or on its own (resampled later)."""
        if self.mask_img is None:
            return compute_multi_epi_mask(
                runs, target_affine=target.affine, target_shape=target.shape
            )
        if self.mask_img is False:
            shape = runs[0].shape[:3]
            return nib.Nifti1Image(np.ones(shape, dtype=np.uint8), runs[0].affine)
        mask = self._load_mask_img(self.mask_img)
        if not target.given:
            check_same_grid([runs[0], mask], ['run 1', 'mask_img'])
        return mask

    def _fit_runs(
        self,
        runs: list[nib.Nifti1Image],
        designs: list[pd.DataFrame],
        masker: VolumeMasker | SurfaceMasker,
        settings: _RunSettings,
    ) -> list[tuple[GLMFit, np.ndarray]]:
        """Fit every run, ``n_jobs`` at a time, in the order of ``runs``.

        Under AR(p > 1), each run's clustering gets its ``random_state`` here, in run
        order, so that the fits do not depend on ``n_jobs``.
        """
        workers = min(_job_count(self.n_jobs), len(runs))
        uses_random = check_noise_model(self.noise_model) > 1
        states = spread_random_state(self.random_state if uses_random else None, len(runs))
        jobs = [
            _RunJob(design, kept, settings.bins, state)
            for design, kept, state in zip(designs, settings.volumes, states, strict=True)
        ]
        fitted_runs = StepCounter('runs', len(runs))

        def fit_one(run: nib.Nifti1Image | SurfaceData, job: _RunJob) -> tuple[GLMFit, np.ndarray]:
            fitted = self._fit_run(run, job, masker)
            fitted_runs.advance()
            return fitted

        if workers == 1:
            # Each run leaves the list as it is fitted, so an image read into memory
            # is freed as soon as it is masked (see _fit_run).
            return [fit_one(runs.pop(0), job) for job in jobs]
        with ThreadPoolExecutor(workers, thread_name_prefix='bidsglm-fit') as pool:
            futures = [pool.submit(fit_one, run, job) for run, job in zip(runs, jobs, strict=True)]
            return [future.result() for future in futures]

    def _fit_run(
        self,
        run: nib.Nifti1Image | SurfaceData,
        job: _RunJob,
        masker: VolumeMasker | SurfaceMasker,
    ) -> tuple[GLMFit, np.ndarray]:
        """Fit one run; return the fit and the mean over its kept volumes, in the mask."""
        with timed('read'):
            if isinstance(run, SurfaceData):
                assert isinstance(masker, SurfaceMasker)
                masked = masker.transform_single_imgs(run)
            else:
                assert isinstance(masker, VolumeMasker)
                masked = masker.transform_single_imgs(run)
        del run  # the last reference to a run read into memory: its 4D data go now
        if job.volumes is not None:
            masked = masked[job.volumes]
        mean = masked.mean(axis=0, dtype=np.float64)
        signal = scale_signal(masked, self.signal_scaling, copy=False)  # a fresh array
        design = job.design.to_numpy(dtype=np.float64)
        fit = fit_glm(signal, design, self.noise_model, job.bins, job.random_state)
        return fit, mean

    # ---------------------------------------------------------------- outputs
    @property
    def residuals_(self) -> list[nib.Nifti1Image]:
        """The residuals of each run, float32, in percent signal change.

        4D images for volume runs; for surface runs, images of the runs' own form
        (see :mod:`bidsglm.models.surface`), one sample per time point.
        """
        self._check_fitted()
        return [self._unmask(fit.residuals, dtype=fit.residuals.dtype) for fit in self.fits_]

    def iter_residuals(self, run: int = 0) -> Iterator[np.ndarray]:
        """Yield the residuals of one run a scan at a time, without a 4D image.

        Each is float32, one value per voxel of the mask (in the order of
        :attr:`masker_`'s ``transform``); ``stat-errorts`` is written from them, a
        volume at a time. :attr:`residuals_` holds the same values as images.

        Parameters
        ----------
        run : int, default=0
            The run, in the order the runs were fitted.

        Examples
        --------
        >>> import nibabel as nib, pandas as pd
        >>> data = np.random.default_rng(0).normal(size=(2, 1, 1, 6)).astype(np.float32)
        >>> mask = nib.Nifti1Image(np.ones((2, 1, 1), np.uint8), np.eye(4))
        >>> model = FirstLevelModel(mask_img=mask, signal_scaling=False, noise_model='ols')
        >>> model = model.fit(nib.Nifti1Image(data, np.eye(4)),
        ...                   design_matrices=pd.DataFrame({'c': np.ones(6)}))
        >>> rows = np.array(list(model.iter_residuals()))
        >>> centred = data - data.mean(axis=3, keepdims=True)
        >>> rows.shape, bool(np.allclose(rows, centred[:, 0, 0].T))
        ((6, 2), True)
        """
        self._check_fitted()
        return iter(self.fits_[run].residuals)

    @property
    def r_square_(self) -> list[nib.Nifti1Image]:
        """The r-squared of each run: 3D images, or surface maps for surface runs."""
        self._check_fitted()
        return [self._unmask(fit.r_square) for fit in self.fits_]

    @property
    def predicted_(self) -> list[nib.Nifti1Image]:
        """The fitted values of each run (whitened design times beta), as the residuals."""
        self._check_fitted()
        return [
            self._unmask(_predicted(fit, design.to_numpy(dtype=np.float64)))
            for fit, design in zip(self.fits_, self.design_matrices_, strict=True)
        ]

    @property
    def labels_(self) -> list[np.ndarray]:
        """The noise group of each voxel, per run, labelled as nilearn labels them.

        Under OLS, ``0.0`` for every voxel; under AR(1), the text of the voxel's
        coefficient (``'0.07'``); under AR(p > 1), the group's coefficients rounded
        to 2 decimals and joined by ``'_'``. Computed when read, from ``fits_``.
        """
        self._check_fitted()
        return [run_labels(fit, self.noise_model) for fit in self.fits_]

    @property
    def results_(self) -> list[dict[str | float, RegressionResults]]:
        """Per run, each noise group's :class:`~bidsglm.models.regression.RegressionResults`.

        Keyed by the labels of :attr:`labels_`, as nilearn's. The results compute
        their arrays when first read; see their notes for which ones are rebuilt
        from the float32 residuals.
        """
        self._check_fitted()
        return [
            run_results(fit, design.to_numpy(dtype=np.float64), self.noise_model)
            for fit, design in zip(self.fits_, self.design_matrices_, strict=True)
        ]

    # --------------------------------------------------------------- contrasts
    @overload
    def compute_contrast(
        self,
        contrast_def: str | np.ndarray | Sequence[Any],
        stat_type: str | None = ...,
        *,
        output_type: Literal['all'],
    ) -> dict[str, nib.Nifti1Image]: ...

    @overload
    def compute_contrast(
        self,
        contrast_def: str | np.ndarray | Sequence[Any],
        stat_type: str | None = ...,
        output_type: MapName = ...,
    ) -> nib.Nifti1Image: ...

    def compute_contrast(
        self,
        contrast_def: str | np.ndarray | Sequence[Any],
        stat_type: str | None = None,
        output_type: str = 'z_score',
    ) -> nib.Nifti1Image | dict[str, nib.Nifti1Image]:
        """Estimate and test a contrast, combined over runs by fixed effects.

        Parameters
        ----------
        contrast_def : str, array, or a list with one per run
            An expression over the design columns (``'2*audio - visual'``), a 1D
            array (t-test) or a 2D array (F-test) of weights over the columns. A
            list of strings or arrays holds one definition per run; a run whose
            weights are all zeros is left out of the fixed effects, with a warning.
        stat_type : {'t', 'F'}, optional
            The test; by default t for one row and F for several. 'F' on one row
            gives F = t squared.
        output_type : str, default='z_score'
            One of 'z_score', 'stat', 'p_value', 'effect_size', 'effect_variance',
            or 'all' for a dict of the five.

        Returns
        -------
        nibabel.Nifti1Image or dict of them

        Warns
        -----
        RuntimeWarning
            When one definition given as weights (or a list of one) is used for
            several runs, as nilearn warns: weights mean the same in each run only if
            the runs' designs have the same columns in the same order. A string
            expression is read against each run's own columns, so it does not warn
            (nilearn warns for it too).
        UserWarning
            For each run left out because its weights are all zeros.
        """
        self._check_fitted()
        self._check_output_type(output_type)
        n_runs = len(self.design_matrices_)
        if n_runs > 1 and _reused_weights(contrast_def):
            msg = (
                f'The same contrast weights are used for all {n_runs} runs (as nilearn '
                'does, with this warning). They mean the same in each run only if the '
                'designs have the same columns in the same order: otherwise write the '
                'contrast as an expression of column names, which is read against each '
                "run's own columns, or give one definition per run in a list."
            )
            warn_caller(msg, RuntimeWarning)
        return self._select_output(
            self.compute_contrast_result(contrast_def, stat_type), output_type
        )

    def compute_contrast_result(
        self, contrast_def: str | np.ndarray | Sequence[Any], stat_type: str | None = None
    ) -> ContrastResult:
        """Like :meth:`compute_contrast`, but return the full :class:`ContrastResult`.

        The result also holds the weights over each run's columns and the degrees of
        freedom, which the writer records next to the maps.
        """
        self._check_fitted()
        weights = self._weights_per_run(contrast_def)
        included = _included_runs(weights)
        stat_type = self._resolve_stat_type(stat_type, weights[included[0]])
        per_run = [
            compute_contrast_stats(self.fits_[index], weights[index], stat_type)
            for index in included
        ]
        columns = [list(design.columns) for design in self.design_matrices_]
        return ContrastResult.from_stats(
            fixed_effects(per_run), weights, columns, self._maps_mask()
        )

    def _weights_per_run(self, contrast_def: Any) -> list[np.ndarray]:  # noqa: ANN401
        """Return each run's weights; all zeros for a run to leave out (several runs)."""
        n_runs = len(self.design_matrices_)
        definitions = _per_run_contrast(contrast_def, n_runs)
        weights = []
        for index, (definition, design) in enumerate(
            zip(definitions, self.design_matrices_, strict=True)
        ):
            try:
                weights.append(_run_weights(definition, design, allow_null=n_runs > 1))
            except ContrastError as error:
                if n_runs == 1:
                    raise
                msg = f'In run {index + 1} of {n_runs}: {error}'
                raise type(error)(msg) from error
        return weights


def select_runs(model: FirstLevelModel, runs: Sequence[int]) -> FirstLevelModel:
    """Return a fitted model of some of a fitted model's runs, without fitting again.

    Each run is fitted on its own; a model of several runs only combines their
    contrasts by fixed effects. The view shares the runs' fits, designs and the
    mask (so its numbers are those the whole model gives for these runs), and
    averages only these runs' means into its ``mean_img_``.

    Parameters
    ----------
    model : FirstLevelModel
        A fitted model.
    runs : sequence of int
        The runs to keep (0-based), in the order wanted.

    Returns
    -------
    FirstLevelModel
        A fitted model with the same parameters over those runs.

    Raises
    ------
    NotFittedError
        If ``model`` is not fitted.
    InvalidParameterError
        If ``runs`` is empty or names a run the model does not have.

    Examples
    --------
    >>> import nibabel as nib
    >>> rng = np.random.default_rng(0)
    >>> runs = [nib.Nifti1Image(100 + rng.standard_normal((2, 2, 2, 30)), np.eye(4))
    ...         for _ in range(2)]
    >>> events = pd.DataFrame({'onset': [10.0, 40.0], 'duration': [5.0, 5.0],
    ...                        'trial_type': ['go', 'go']})
    >>> model = FirstLevelModel(t_r=2.0, mask_img=False).fit(runs, events=[events, events])
    >>> len(select_runs(model, [1]).design_matrices_)
    1
    """
    model._check_fitted()
    count = len(model.design_matrices_)
    chosen = [int(i) for i in runs]
    if not chosen or any(not 0 <= i < count for i in chosen):
        msg = f'select_runs needs runs among 0..{count - 1} of the model; got {list(runs)}.'
        raise InvalidParameterError(msg)
    view = FirstLevelModel(**model.get_params())
    view.design_matrices_ = [model.design_matrices_[i] for i in chosen]
    view.run_sources_ = [model.run_sources_[i] for i in chosen]
    view.fits_ = [model.fits_[i] for i in chosen]
    view.masker_ = model.masker_
    view.standardize_ = model.standardize_
    view.fir_delays_ = model.fir_delays_
    view.memory_ = model.memory_
    view.mask_img_ = model.mask_img_
    view.n_elements_ = model.n_elements_
    view._run_means = [model._run_means[i] for i in chosen]
    view.mean_img_ = view._unmask(np.mean(view._run_means, axis=0), dtype=np.float32)
    return view


# --------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class _RunSettings:
    """What ``fit`` passes to every run's fit: AR ``bins`` and each run's kept volumes."""

    bins: int
    volumes: list[np.ndarray | None]


@dataclass(frozen=True)
class _RunJob:
    """One run's fit: its design (kept rows), kept volumes, AR bins and random state."""

    design: pd.DataFrame
    volumes: np.ndarray | None
    bins: int
    random_state: RandomState


def _run_weights(definition: Any, design: pd.DataFrame, allow_null: bool) -> np.ndarray:  # noqa: ANN401
    """Return a contrast's weights over one run's columns, checked estimable there."""
    columns = [str(column) for column in design.columns]
    name = definition if isinstance(definition, str) else None
    weights = contrast_to_matrix(definition, columns, name=name, allow_null=allow_null)
    check_estimable(weights, design.to_numpy(dtype=np.float64), columns, name)
    return weights


def _included_runs(weights: list[np.ndarray]) -> list[int]:
    """Return the runs whose weights are not all zeros; warn about the others.

    nilearn leaves such a run out of the fixed effects (``[c, zeros]`` tests ``c`` on
    run 1 alone); a contrast that is all zeros in every run tests nothing.
    """
    included = [index for index, run_weights in enumerate(weights) if np.any(run_weights)]
    if not included:
        msg = (
            f'The contrast is all zeros in each of the {len(weights)} runs, so it tests '
            'nothing. Give a non-zero weight to a column in at least one run.'
        )
        raise ContrastError(msg)
    left_out = [index + 1 for index in range(len(weights)) if index not in included]
    if left_out:
        msg = (
            f'The contrast is all zeros for run(s) {left_out} of {len(weights)}: they are '
            'left out of the fixed effects (as nilearn does), which combine the other '
            'runs only.'
        )
        warn_caller(msg, UserWarning)
    return included


def _check_bins(bins: object) -> None:
    """Refuse a number of AR(1) bins that is not an int >= 1."""
    msg = f"The 'bins' parameter of FirstLevelModel.fit must be an int >= 1. Got {bins!r}."
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool):
        raise ParameterTypeError(msg)
    if bins < 1:
        raise InvalidParameterError(msg)


def _same_scaling(value: object, allowed: object) -> bool:
    if isinstance(value, bool) or isinstance(allowed, bool):
        return value is allowed
    if isinstance(value, (tuple, list)) and isinstance(allowed, tuple):
        return tuple(value) == allowed
    return isinstance(value, int) and value == allowed


def _load_runs(
    run_imgs: ImageLike | Sequence[ImageLike],
) -> tuple[list[nib.Nifti1Image], list[str | None]]:
    """Load the runs lazily, check they are 4D and on one grid; remember their files."""
    items: list[ImageLike] = (
        list(run_imgs) if isinstance(run_imgs, (list, tuple)) else [run_imgs]  # type: ignore[list-item]
    )
    if not items:
        msg = 'No run was given: pass a 4D image or a list of them as run_imgs.'
        raise ShapeMismatchError(msg)
    names = [f'run {i + 1}' for i in range(len(items))]
    if any(is_surface_input(item) for item in items):
        return _load_surface_runs(items, names)
    runs = [
        check_4d(load_image(item, name=name), name=name)
        for item, name in zip(items, names, strict=True)
    ]
    check_same_grid(runs, names)
    sources = [os.fspath(item) if isinstance(item, (str, os.PathLike)) else None for item in items]
    return runs, sources


def _load_surface_runs(items: list[Any], names: list[str]) -> tuple[list[Any], list[str | None]]:
    """Read surface runs; all must be surface data of one surface."""
    volumes = [name for item, name in zip(items, names, strict=True) if not is_surface_input(item)]
    if volumes:
        msg = (
            f'The runs mix surface and volume data ({", ".join(volumes)} are volumes): '
            'one model fits one kind. Fit the surface runs and the volume runs in '
            'separate models.'
        )
        raise ImageDimensionError(msg)
    with timed('read'):  # a surface run is read whole here; a volume run as it is masked
        runs = [read_surface(item, name) for item, name in zip(items, names, strict=True)]
    for run, name in zip(runs[1:], names[1:], strict=True):
        if not runs[0].layout.matches(run.layout):
            msg = (
                f'{name} ({run.layout.describe()}) is not on the surface of run 1 '
                f'({runs[0].layout.describe()}): every run of a model must be on one surface.'
            )
            raise ShapeMismatchError(msg)
    sources = [run.source for run in runs]
    return runs, sources


def _on_surface(runs: list[Any]) -> bool:
    """Whether the runs are surface data (read by :func:`_load_surface_runs`)."""
    return bool(runs) and isinstance(runs[0], SurfaceData)


def _n_scans(run: Any) -> int:  # noqa: ANN401
    """Return the number of time points of a volume or surface run."""
    return run.n_samples if isinstance(run, SurfaceData) else int(run.shape[3])


def _job_count(n_jobs: int) -> int:
    """Turn ``n_jobs`` into a number of workers: -1 is every core, -2 all but one."""
    cores = os.cpu_count() or 1
    return n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)


def _in_memory(run: nib.Nifti1Image) -> nib.Nifti1Image:
    """Return the run with its data read into memory (the file is read once)."""
    return nib.Nifti1Image(np.asanyarray(run.dataobj), run.affine, run.header)


def _per_run(values: Any, n_runs: int, name: str) -> list[Any]:  # noqa: ANN401
    """Spread one value per run; a single value is allowed for a single run."""
    if values is None:
        return [None] * n_runs
    items = list(values) if isinstance(values, (list, tuple)) else [values]
    if len(items) != n_runs:
        msg = f'{len(items)} {name} were given for {n_runs} runs; give one per run.'
        raise ShapeMismatchError(msg)
    return items


def _is_per_run(contrast_def: object) -> bool:
    """Whether a definition is a list of definitions, one per run (strings or arrays)."""
    return (
        isinstance(contrast_def, (list, tuple))
        and len(contrast_def) > 0
        and all(isinstance(item, (str, np.ndarray)) for item in contrast_def)
    )


def _reused_weights(contrast_def: object) -> bool:
    """Whether one definition given as weights is used for every run.

    Alone or in a list of one; a string expression is read against each run's
    columns, so it is never "the same weights".
    """
    if _is_per_run(contrast_def) and isinstance(contrast_def, (list, tuple)):
        if len(contrast_def) > 1:
            return False
        contrast_def = contrast_def[0]
    return not isinstance(contrast_def, str)


def _per_run_contrast(contrast_def: Any, n_runs: int) -> list[Any]:  # noqa: ANN401
    """Return one definition per run: a list of strings or arrays is per run.

    A single definition, or a list of one, is used for every run, as in nilearn.
    """
    if not _is_per_run(contrast_def):
        return [contrast_def] * n_runs
    if len(contrast_def) == 1:
        return list(contrast_def) * n_runs
    if len(contrast_def) != n_runs:
        msg = (
            f'{len(contrast_def)} contrast definitions were given for {n_runs} runs; give '
            'one definition for all runs, or exactly one per run.'
        )
        raise ShapeMismatchError(msg)
    return list(contrast_def)


def _warn_ignored(events: object, confounds: object) -> None:
    """Warn, as nilearn does, that ready-made designs leave events and confounds unused."""
    given_with = {'events': events, 'confounds': confounds}
    ignored = [name for name, value in given_with.items() if value is not None]
    if ignored:
        given = ' and '.join(ignored)
        msg = (
            f'FirstLevelModel.fit was given design_matrices and {given}: the designs are '
            f'used as they are and the {given} are ignored (as nilearn does). To model '
            f'them, add their columns to the designs, or pass {given} without '
            'design_matrices.'
        )
        warn_caller(msg, UserWarning)


def _read_design(design: object, n_scans: int, index: int) -> pd.DataFrame:
    """Read one run's ready-made design: one row per volume, numbers only."""
    parameter = "The 'design_matrices' parameter of FirstLevelModel.fit"
    table = read_design(design, parameter, f'The design matrix of run {index + 1}')
    return _check_rows(table, n_scans, index, 'design matrix')


def _read_confounds(confounds: ConfoundsLike, n_scans: int, index: int) -> pd.DataFrame:
    """Read one run's confounds: one row per volume, numbers only (as float64)."""
    if isinstance(confounds, np.ndarray):
        table = _array_confounds(confounds)
    else:
        parameter = "The 'confounds' parameter of FirstLevelModel.fit"
        table = read_table(confounds, parameter=parameter, kind='confounds')
    table = _check_rows(table, n_scans, index, 'confounds table')
    where = f' ({os.fspath(confounds)!r})' if isinstance(confounds, (str, os.PathLike)) else ''
    return numbers_only(table, f'The confounds of run {index + 1}{where}', kind='confounds')


def _array_confounds(confounds: np.ndarray) -> pd.DataFrame:
    """Name the columns of confounds given as an array (a 1D array is one column)."""
    if confounds.ndim not in (1, 2):
        msg = (
            "The 'confounds' parameter of FirstLevelModel.fit must be a 2D array (one row "
            f'per volume, one column per confound); got {confounds.ndim} dimensions.'
        )
        raise ParameterTypeError(msg)
    columns = confounds.reshape(confounds.shape[0], -1)
    names = [ARRAY_CONFOUND_NAME.format(i) for i in range(columns.shape[1])]
    return pd.DataFrame(columns, columns=names)


def _check_rows(table: pd.DataFrame, n_scans: int, index: int, what: str) -> pd.DataFrame:
    if len(table) != n_scans:
        msg = (
            f'The {what} of run {index + 1} has {len(table)} rows but the run has '
            f'{n_scans} volumes; give one row per volume.'
        )
        raise ShapeMismatchError(msg)
    return table


def _predicted(fit: GLMFit, design: np.ndarray) -> np.ndarray:
    """Whitened design times beta, group by group (AR(1) or AR(p) coefficients)."""
    predicted = np.empty(fit.residuals.shape)
    for group, rho in enumerate(fit.rho):
        voxels = fit.labels == group
        predicted[:, voxels] = whiten_ar(design, rho) @ fit.beta[:, voxels]
    return predicted
