"""How a report is drawn, and nilearn's report keywords read into it.

nilearn 0.14.1's ``generate_report`` takes thirteen keywords, and its
``save_glm_to_bids`` forwards any of them to the report it writes. bidsglm accepts
the same names and values, checks them as nilearn does (a wrong type is a
``TypeError``, a wrong value a ``ValueError``; ours are both where nilearn's
entry points disagree), and reads them into :class:`ReportOptions`:

============================  =====================================================
keyword                       in bidsglm's report
============================  =====================================================
``title``                     the page's title and heading
``height_control``, ``alpha``  the height threshold: ``'fpr'`` (uncorrected p),
                              ``'fdr'``, ``'bonferroni'`` at ``alpha``, or ``None``
``threshold``                 the z threshold when ``height_control`` is None
                              (3.09 if None, as nilearn 0.14.1); ignored otherwise,
                              with a warning, as nilearn
``cluster_threshold``         clusters of fewer voxels are dropped
``two_sided``                 negative clusters too, two-sided p-values; bidsglm's
                              default when the keyword is not given is True (a t
                              contrast is read in both directions; F maps are
                              always one-sided), nilearn's is False. A
                              ``generate_report`` method passes nilearn's default
                              explicitly, and then the page says how many voxels
                              of negative z it leaves out
``min_distance``              the smallest distance (mm) between a cluster's peaks
``bg_img``                    an image drawn under the z maps; None draws none (the
                              mask's outline); nilearn's default
                              ``'MNI152TEMPLATE'`` draws bidsglm's default (the
                              mean of the data; else, for files in an MNI space,
                              the MNI template shipped with bidsglm; else the
                              mask: a template is aligned with the maps only in
                              MNI space)
``cut_coords``                with ``display_mode`` None or ``'z'``: the number of
                              axial slices, or their z (mm); with ``'ortho'`` or
                              ``'tiled'``: the (x, y, z) point of the three planes
``display_mode``              ``None``, ``'z'``, ``'ortho'`` and ``'tiled'`` are
                              drawn (every z map shows three planes and axial
                              slices); the others are accepted with a warning
``plot_type``                 ``'slice'`` is drawn; ``'glass'`` is accepted with a
                              warning (slices are drawn)
``report_dims``               the size of the frame a notebook shows; accepted with
                              a warning by ``save_glm_to_bids`` (a saved page has
                              the reader's window size)
============================  =====================================================

A name that is not one of nilearn's is an error that lists the accepted ones.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError
from nibabel.spatialimages import SpatialImage

from bidsglm.errors import (
    InputNotFoundError,
    InvalidParameterError,
    ParameterTypeError,
    warn_caller,
)
from bidsglm.report.clusters import HEIGHT_CONTROLS, Thresholding

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bidsglm.report.mesh import Mesh

__all__ = [
    'BIDSGLM_DEFAULTS',
    'NILEARN_REPORT_KEYWORDS',
    'Background',
    'Cuts',
    'ReportOptions',
    'report_options',
]

#: nilearn 0.14.1's report keywords (``generate_report`` besides ``contrasts`` and
#: ``first_level_contrast``), with its defaults.
NILEARN_REPORT_KEYWORDS: dict[str, object] = {
    'title': None,
    'bg_img': 'MNI152TEMPLATE',
    'threshold': None,
    'alpha': 0.001,
    'cluster_threshold': 0,
    'height_control': 'fpr',
    'two_sided': False,
    'min_distance': 8.0,
    'plot_type': 'slice',
    'cut_coords': None,
    'display_mode': None,
    'report_dims': (1600, 800),
}
#: Where bidsglm's default differs from nilearn's, for a keyword that is not given:
#: two-sided thresholds, so that a t contrast shows its negative effects too.
BIDSGLM_DEFAULTS: dict[str, object] = {'two_sided': True}
#: The z threshold nilearn 0.14.1 uses when ``height_control`` and ``threshold`` are None.
NILEARN_Z_THRESHOLD = 3.09
_DISPLAY_MODES = {
    'slice': ('mosaic', 'ortho', 'tiled', 'x', 'xz', 'y', 'yx', 'yz', 'z'),
    'glass': (
        'l',
        'lr',
        'lyr',
        'lyrz',
        'lzr',
        'lzry',
        'ortho',
        'r',
        'x',
        'xz',
        'y',
        'yx',
        'yz',
        'z',
    ),
}
#: The display modes drawn, and the view their ``cut_coords`` set.
_DRAWN_MODES: dict[str | None, Literal['axial', 'point']] = {
    None: 'axial',
    'z': 'axial',
    'ortho': 'point',
    'tiled': 'point',
}

#: What is drawn under the z maps: None for bidsglm's default (the mean of the data,
#: else the mask), False for no image (the mask's outline), or an image or its path.
Background = str | os.PathLike[str] | SpatialImage | Literal[False] | None


@dataclass(frozen=True)
class Cuts:
    """Where the z maps are cut.

    Parameters
    ----------
    point : (x, y, z) tuple of float, optional
        The point (mm) of the sagittal, coronal and axial planes; by default the
        strongest peak (the centre of the mask when nothing survives).
    axial : int or tuple of float, default=6
        The number of axial slices, spread over the mask, or their z (mm).
    """

    point: tuple[float, float, float] | None = None
    axial: int | tuple[float, ...] = 6


@dataclass(frozen=True)
class ReportOptions:
    """How a report is drawn.

    Parameters
    ----------
    thresholding : Thresholding, optional
        How the z maps are thresholded; by default uncorrected p < 0.001.
    background : path-like, nibabel image, False or None, optional
        Drawn under the z maps (see :data:`Background`).
    title : str, optional
        The page's title and heading; by default named after the model's entities.
    min_distance : float, default=8.0
        The smallest distance (mm) between two peaks of a cluster in the tables.
    cuts : Cuts, optional
        Where the z maps are cut.
    size : (int, int), default=(1600, 800)
        The width and height (pixels) of the frame a notebook shows the page in.
    meshes : dict of str to Mesh, optional
        A surface model's meshes, ``{'left': ..., 'right': ...}`` (see
        :func:`bidsglm.report.mesh.read_meshes`): its z maps are drawn on them.
    folder : str, optional
        The name of the folder the model is saved in: the title of a page whose
        files carry no entities (a save writes its report in a staging folder).
    mesh_note : str, optional
        Where the meshes were found, or where they were looked for in vain
        (:class:`bidsglm.report.mesh_search.MeshSearch`); said under the z maps.

    Examples
    --------
    >>> ReportOptions().thresholding.describe(3.29)
    'uncorrected p < 0.001, two-sided (|z| ≥ 3.29)'
    """

    thresholding: Thresholding = field(default_factory=Thresholding)
    background: Background = None
    title: str | None = None
    min_distance: float = 8.0
    cuts: Cuts = field(default_factory=Cuts)
    size: tuple[int, int] = (1600, 800)
    meshes: Mapping[str, Mesh] = field(default_factory=dict)
    mesh_note: str | None = None
    folder: str | None = None


# ------------------------------------------------------------------ checks
def _wrong_type(*, name: str, allowed: str, value: object) -> ParameterTypeError:
    msg = f'The {name!r} parameter of the report must be {allowed}. Got {value!r} instead.'
    return ParameterTypeError(msg)


def _wrong_value(*, name: str, allowed: str, value: object) -> InvalidParameterError:
    msg = f'The {name!r} parameter of the report must be {allowed}. Got {value!r} instead.'
    return InvalidParameterError(msg)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _real(value: object, name: str, allowed: str) -> float:
    if not _is_real(value):
        raise _wrong_type(name=name, allowed=allowed, value=value)
    return float(cast('float', value))


def _check_names(keywords: Mapping[str, object], caller: str) -> None:
    """Refuse a keyword that is not one of nilearn's report keywords."""
    unknown = sorted(set(keywords) - set(NILEARN_REPORT_KEYWORDS))
    if unknown:
        msg = (
            f'{caller} got unexpected report keywords {unknown}. The accepted report '
            f"keywords (nilearn 0.14.1's) are {sorted(NILEARN_REPORT_KEYWORDS)}."
        )
        raise InvalidParameterError(msg)


# ------------------------------------------------------------------ thresholds
def _height_control(value: object) -> str | None:
    if value is not None and value not in HEIGHT_CONTROLS:
        raise _wrong_value(
            name='height_control', allowed=f'one of {[*HEIGHT_CONTROLS, None]}', value=value
        )
    return cast('str | None', value)


def _z_threshold(threshold: object, height_control: str | None, two_sided: bool) -> float | None:
    """Return the z threshold of ``height_control=None``; one given with a rule is ignored."""
    if threshold is not None:
        threshold = _real(threshold, 'threshold', 'a number or None')
    if height_control is not None:
        if threshold is not None:
            warn_caller(
                f'threshold={threshold} is not used with height_control={height_control!r}: '
                "the threshold is computed from 'alpha'. Pass height_control=None to set it. "
                "'threshold' was set to 'None'."
            )
        return None
    z = NILEARN_Z_THRESHOLD if threshold is None else float(threshold)
    if z < 0:
        allowed = (
            'a number >= 0 with two_sided=True (|z| >= threshold survives)'
            if two_sided
            else 'a number >= 0 (for negative effects, pass two_sided=True or negate the contrast)'
        )
        raise _wrong_value(name='threshold', allowed=allowed, value=z)
    return z


def _cluster_extent(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _wrong_type(name='cluster_threshold', allowed='an integer (voxels)', value=value)
    if int(value) < 0:
        raise _wrong_value(
            name='cluster_threshold', allowed='an integer >= 0 (voxels)', value=value
        )
    return int(value)


def _thresholding(values: Mapping[str, object]) -> Thresholding:
    """Read ``height_control``, ``alpha``, ``threshold``, ``cluster_threshold``, ``two_sided``."""
    height_control = _height_control(values['height_control'])
    two_sided = values['two_sided']
    if not isinstance(two_sided, (bool, np.bool_)):
        raise _wrong_type(name='two_sided', allowed='True or False', value=two_sided)
    alpha = _real(values['alpha'], 'alpha', 'a float in (0, 1)')
    if not 0.0 < alpha < 1.0:
        raise _wrong_value(name='alpha', allowed='a float in (0, 1)', value=alpha)
    rule = Thresholding(
        height_control,
        alpha=alpha,
        cluster_extent=_cluster_extent(values['cluster_threshold']),
        two_sided=bool(two_sided),
    )
    z = _z_threshold(values['threshold'], height_control, rule.two_sided)
    return rule if z is None else dataclasses.replace(rule, z=z)


# ------------------------------------------------------------------ drawing
def _background(value: object) -> Background:
    """Read ``bg_img``: nilearn's template name means bidsglm's default, None no image."""
    if value is None:
        return False
    if isinstance(value, str) and value == NILEARN_REPORT_KEYWORDS['bg_img']:
        return None
    if isinstance(value, SpatialImage):
        return value
    if not isinstance(value, (str, os.PathLike)):
        raise _wrong_type(name='bg_img', allowed='a NIfTI image, its path, or None', value=value)
    path = Path(value)
    if not path.is_file():
        msg = f"The 'bg_img' file {str(path)!r} does not exist. Give an image, or bg_img=None."
        raise InputNotFoundError(msg)
    try:
        return cast('SpatialImage', nib.load(path))
    except ImageFileError as error:
        msg = f"The 'bg_img' file {str(path)!r} cannot be read as an image: {error}"
        raise InvalidParameterError(msg) from error


def _numbers(value: object, name: str, allowed: str) -> tuple[float, ...]:
    """Read a sequence of numbers."""
    if isinstance(value, (str, bytes)) or not hasattr(value, '__iter__'):
        raise _wrong_type(name=name, allowed=allowed, value=value)
    items = list(cast('list[object]', value))
    if not items or not all(_is_real(item) for item in items):
        raise _wrong_type(name=name, allowed=allowed, value=value)
    return tuple(float(cast('float', item)) for item in items)


def _cuts(cut_coords: object, view: Literal['axial', 'point'] | None) -> Cuts:
    """Read ``cut_coords`` for the view ``display_mode`` sets (None: not drawn)."""
    if cut_coords is None or view is None:
        return Cuts()
    if view == 'point':
        point = _numbers(cut_coords, 'cut_coords', 'three numbers (x, y, z) in mm')
        if len(point) != 3:
            raise _wrong_value(
                name='cut_coords', allowed='three numbers (x, y, z) in mm', value=cut_coords
            )
        return Cuts(point=(point[0], point[1], point[2]))
    if not isinstance(cut_coords, bool) and isinstance(cut_coords, numbers.Integral):
        if int(cut_coords) < 1:
            raise _wrong_value(
                name='cut_coords', allowed='a number of slices >= 1', value=cut_coords
            )
        return Cuts(axial=int(cut_coords))
    allowed = 'a number of axial slices, or their z coordinates (mm)'
    return Cuts(axial=_numbers(cut_coords, 'cut_coords', allowed))


def _view(plot_type: object, display_mode: object) -> Literal['axial', 'point'] | None:
    """Check ``plot_type`` and ``display_mode``; return the view the mode sets, if drawn."""
    if plot_type not in _DISPLAY_MODES:
        raise _wrong_value(
            name='plot_type', allowed=f'one of {sorted(_DISPLAY_MODES)}', value=plot_type
        )
    modes = _DISPLAY_MODES[cast('str', plot_type)]
    if display_mode is not None and display_mode not in modes:
        raise _wrong_value(
            name='display_mode', allowed=f'None or one of {list(modes)}', value=display_mode
        )
    return _DRAWN_MODES.get(cast('str | None', display_mode))


def _size(value: object) -> tuple[int, int]:
    allowed = 'a (width, height) pair of positive numbers of pixels'
    size = _numbers(value, 'report_dims', allowed)
    if len(size) != 2 or min(size) <= 0:
        raise _wrong_type(name='report_dims', allowed=allowed, value=value)  # as nilearn
    return int(size[0]), int(size[1])


def _title(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _wrong_type(name='title', allowed='a string or None', value=value)
    return value


# ------------------------------------------------------------------ unused keywords
def _not_applied(
    values: Mapping[str, object], given: Mapping[str, object], saving: bool
) -> list[str]:
    """Describe each keyword given that the report cannot apply."""
    unused = []
    if values['plot_type'] == 'glass':
        unused.append("plot_type='glass' (glass brains are not drawn; slices are)")
    if values['display_mode'] not in _DRAWN_MODES:
        ignored = " and its 'cut_coords'" if values['cut_coords'] is not None else ''
        unused.append(
            f'display_mode={values["display_mode"]!r}{ignored} (every z map shows three '
            "planes and axial slices: the modes drawn are None, 'z', 'ortho' and 'tiled')"
        )
    if saving and 'report_dims' in given:
        unused.append(
            f'report_dims={given["report_dims"]!r} (the size of a notebook frame; a saved '
            "page takes its reader's window: use generate_report(...).resize in a notebook)"
        )
    return unused


def report_options(
    keywords: Mapping[str, object], *, caller: str = 'generate_report'
) -> ReportOptions:
    """Read nilearn's report keywords into :class:`ReportOptions`.

    Parameters
    ----------
    keywords : mapping of str to object
        Some of :data:`NILEARN_REPORT_KEYWORDS`; the others take nilearn's defaults,
        except those of :data:`BIDSGLM_DEFAULTS` (two-sided thresholds).
    caller : {'generate_report', 'save_glm_to_bids'}, default='generate_report'
        Who passes them: ``save_glm_to_bids`` saves the page, so ``report_dims``
        (a notebook frame's size) does not apply to it.

    Returns
    -------
    ReportOptions
        The options.

    Raises
    ------
    InvalidParameterError
        For a keyword that is not one of nilearn's (the message lists them), or a
        value out of range (``alpha`` outside (0, 1), an unknown ``height_control``,
        ``plot_type`` or ``display_mode``, a negative threshold, cluster size or
        distance, ``cut_coords`` that do not fit the display mode).
    ParameterTypeError
        For a value of the wrong type (also a ``TypeError``, as nilearn's checks).
    InputNotFoundError
        For a ``bg_img`` path that does not exist.

    Warns
    -----
    UserWarning
        Naming the keywords given that the report does not apply, and a
        ``threshold`` ignored because ``height_control`` is not None.

    Examples
    --------
    >>> options = report_options({'height_control': 'fdr', 'alpha': 0.05, 'cut_coords': 4})
    >>> options.thresholding.describe(2.5), options.cuts.axial
    ('FDR (Benjamini-Hochberg) q < 0.05, two-sided (|z| ≥ 2.5)', 4)
    >>> report_options({'two_sided': False}).thresholding.two_sided
    False
    >>> report_options({'height_control': None}).thresholding.z
    3.09
    >>> report_options({'colour': 'red'})
    Traceback (most recent call last):
    ...
    bidsglm.errors.InvalidParameterError: generate_report got unexpected report keywords
    ['colour']. The accepted report keywords (nilearn 0.14.1's) are ['alpha', 'bg_img',
    'cluster_threshold', 'cut_coords', 'display_mode', 'height_control', 'min_distance',
    'plot_type', 'report_dims', 'threshold', 'title', 'two_sided'].
    """
    _check_names(keywords, caller)
    values = {**NILEARN_REPORT_KEYWORDS, **BIDSGLM_DEFAULTS, **keywords}
    view = _view(values['plot_type'], values['display_mode'])
    min_distance = _real(values['min_distance'], 'min_distance', 'a number >= 0 (mm)')
    if min_distance < 0:
        raise _wrong_value(name='min_distance', allowed='a number >= 0 (mm)', value=min_distance)
    options = ReportOptions(
        thresholding=_thresholding(values),
        background=_background(values['bg_img']),
        title=_title(values['title']),
        min_distance=min_distance,
        cuts=_cuts(values['cut_coords'], view),
        size=_size(values['report_dims']),
    )
    unused = _not_applied(values, keywords, saving=caller == 'save_glm_to_bids')
    if unused:
        warn_caller(f"{caller}: bidsglm's report does not apply " + '; '.join(unused) + '.')
    return options
