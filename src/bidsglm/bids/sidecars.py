"""The content of every JSON file the writer produces (except dataset_description).

- ``statmap.json``, one per model: the model-level facts every map inherits
  (``SkullStripped``, level, estimator, noise model, HRF, drift, scaling, smoothing,
  timing, counts, units, the input files relative to their dataset with the
  datasets and software versions (:mod:`bidsglm.bids.provenance`) and the raw
  parameters; for a surface model ``Surface``, its format and the vertices of each
  part (:func:`surface_record`); at the second
  level ``DesignRows``, what one row of the design is: ``'input map'``, or the
  caller's word, the name of the design's index). Every map inherits it.
- one sidecar per model map (``stat-errorts``, ``stat-rSquare``, ``stat-mean``):
  ``Description``, ``SkullStripped`` and ``Sources`` (the design and mask), so that
  every NIfTI file written has its own sidecar. In the flat layout (no subject
  folder) ``statmap.json`` sits beside the maps and the validator pairs it with
  these maps as their sidecar: there they have no other (one more would leave
  ``statmap.json`` describing no file, ``SIDECAR_WITHOUT_DATAFILE``);
- one sidecar per contrast map: ``Description``, ``SkullStripped`` (false: bidsglm
  does not know it), ``Sources`` (BIDS URIs of the design(s) and mask inside this
  dataset), ``StatisticType``, the contrast as a BIDS Stats Models object
  (``Name``, ``ConditionList``, ``Weights``, ``Test``), its weights over every
  design's actual columns (``ContrastWeights``: each distinct set of weights once,
  with the ``Designs`` that use it), ``DegreesOfFreedom`` (t:
  ``[dof]``, F: ``[rows, dof]``) and, for p and z maps, the ``Tail`` of the test;
- ``design.json`` beside each design: ``RepetitionTime`` and ``StartTime`` (first
  level, when the repetition time is known);
- ``mask.json``: ``Description`` and ``Type``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bidsglm.bids._files import json_safe
from bidsglm.bids.provenance import describe_inputs

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bidsglm.bids.contrast_specs import ContrastSpec
    from bidsglm.bids.model_view import ContrastMaps, ModelView
    from bidsglm.models.surface import SurfaceLayout

__all__ = [
    'STAT_OF_OUTPUT',
    'contrast_sidecar',
    'design_sidecar',
    'mask_sidecar',
    'model_map_sidecar',
    'stat_label',
    'statmap_sidecar',
    'surface_record',
]

#: The ``stat-`` label of each map ``compute_contrast(output_type='all')`` returns;
#: ``None`` stands for the test statistic (``t`` or ``F``).
STAT_OF_OUTPUT: dict[str, str | None] = {
    'effect_size': 'effect',
    'effect_variance': 'variance',
    'stat': None,
    'p_value': 'p',
    'z_score': 'z',
}

_TAIL = 'one-sided greater'
_UNITS = {  # keyed by the repr of signal_scaling
    '0': 'percent signal change',
    '1': 'signal divided by the mean of its volume',
    '(0, 1)': 'percent signal change of the signal divided by the mean of its volume',
    'False': 'units of the input images',
}
_DRIFT_DETAILS = {
    'cosine': ('HighPassFilterCutoffHz', 'high_pass'),
    'polynomial': ('Order', 'drift_order'),
}


def stat_label(output: str, stat_type: str) -> str:
    """Return the ``stat-`` label of a contrast output (``'stat'`` -> ``t`` or ``F``).

    Parameters
    ----------
    output : str
        A key of :data:`STAT_OF_OUTPUT`.
    stat_type : {'t', 'F'}
        The test of the contrast.

    Returns
    -------
    str
        The label.

    Examples
    --------
    >>> stat_label('stat', 'F'), stat_label('z_score', 'F')
    ('F', 'z')
    """
    return STAT_OF_OUTPUT[output] or stat_type


def _describe(stat: str, spec: ContrastSpec) -> str:
    """Say in a sentence what a contrast map holds."""
    name = repr(spec.name)
    test = f'{spec.stat_type} statistic'
    texts = {
        'effect': (
            f'Estimate of the contrast {name}'
            if spec.stat_type == 't'
            else f'Estimates of the rows of the F contrast {name}, whitened by their '
            'covariance (one volume per row)'
        ),
        'variance': (
            f'Variance of the estimate of the contrast {name}'
            if spec.stat_type == 't'
            else f'Residual variance of the model, the denominator of the F-test {name}'
        ),
        spec.stat_type: f'{test} of the contrast {name}',
        'p': f'One-sided (upper tail) p-value of the {test} of the contrast {name}',
        'z': f'z-score (standard normal quantile) of the p-value of the contrast {name}',
    }
    return texts[stat]


def _weights_object(spec: ContrastSpec, maps: ContrastMaps) -> dict[str, Any]:
    """Write the contrast as a BIDS Stats Models object, over the first design."""
    weights = maps.weights[0]
    return {
        'Name': spec.name,
        'ConditionList': list(maps.columns[0]),
        'Weights': weights[0].tolist() if spec.stat_type == 't' else weights.tolist(),
        'Test': spec.stat_type,
    }


def distinct_weights(
    maps: ContrastMaps, designs: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Return each distinct set of weights once, with the designs that use it.

    Runs of one design share their weights: a contrast over 12 such runs is written
    once, with the 12 designs it applies to, rather than 12 times.

    Parameters
    ----------
    maps : ContrastMaps
        The computed contrast: its weights and columns, one entry per design.
    designs : sequence of str, optional
        The BIDS URI of each design (its ``design.tsv``); by default the design
        numbers, from 1.

    Returns
    -------
    list of dict
        ``{'Columns': [...], 'Weights': [[...]], 'Designs': [...]}``, in the order
        of the first design that uses each set.
    """
    names: Sequence[object] = (
        list(designs) if designs is not None else list(range(1, len(maps.weights) + 1))
    )
    groups: dict[str, dict[str, Any]] = {}
    for columns, weights, design in zip(maps.columns, maps.weights, names, strict=True):
        entry = {'Columns': list(columns), 'Weights': weights.tolist()}
        key = repr(entry)
        groups.setdefault(key, {**entry, 'Designs': []})['Designs'].append(design)
    return list(groups.values())


def contrast_sidecar(
    spec: ContrastSpec,
    maps: ContrastMaps,
    stat: str,
    sources: Sequence[str],
    first_level_contrast: object = None,
    designs: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Return the sidecar of one contrast map.

    Parameters
    ----------
    spec : ContrastSpec
        The contrast.
    maps : ContrastMaps
        Its computed maps, weights and degrees of freedom.
    stat : str
        The ``stat-`` label of the map (``effect``, ``variance``, ``t``, ``F``,
        ``p``, ``z``).
    sources : sequence of str
        BIDS URIs of the files the map was computed from.
    first_level_contrast : str or array, optional
        For a group model of first-level models, the first-level contrast it tests
        (recorded as ``FirstLevelContrast``).
    designs : sequence of str, optional
        The BIDS URI of each design, which ``ContrastWeights`` refers to (see
        :func:`distinct_weights`).

    Returns
    -------
    dict
        The JSON content.
    """
    dof = [maps.dof] if maps.stat_type == 't' else [maps.effect_dof, maps.dof]
    content: dict[str, Any] = {
        'Description': _describe(stat, spec),
        'SkullStripped': False,
        'Sources': list(sources),
        'StatisticType': stat,
        'Contrast': _weights_object(spec, maps),
        'ContrastWeights': distinct_weights(maps, designs),
        'DegreesOfFreedom': dof,
    }
    if stat in ('p', 'z'):
        content['Tail'] = _TAIL
    if first_level_contrast is not None:
        content['FirstLevelContrast'] = json_safe(first_level_contrast)
    return content


def _drift(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Describe the drift model and its one parameter."""
    kind = parameters.get('drift_model')
    drift: dict[str, Any] = {'Type': kind}
    if kind in _DRIFT_DETAILS:
        key, parameter = _DRIFT_DETAILS[kind]
        drift[key] = parameters.get(parameter)
    return drift


def _hrf(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Describe the HRF model, with the FIR delays when it is 'fir'."""
    hrf: dict[str, Any] = {'Model': json_safe(parameters.get('hrf_model'))}
    if parameters.get('hrf_model') == 'fir':
        delays = parameters.get('fir_delays')
        hrf['FIRDelays'] = [0] if delays is None else delays
    return hrf


def _units(parameters: Mapping[str, Any]) -> str:
    """Name the unit of the effect maps, from the signal scaling."""
    scaling = json_safe(parameters.get('signal_scaling', 0))
    key = repr(tuple(scaling)) if isinstance(scaling, list) else repr(scaling)
    return _UNITS.get(key, 'see SignalScaling')


def _first_level(view: ModelView) -> dict[str, Any]:
    """Collect the model-level fields of a first-level model."""
    parameters = view.parameters
    return {
        'NoiseModel': parameters.get('noise_model'),
        'HRF': _hrf(parameters),
        'DriftModel': _drift(parameters),
        'SignalScaling': parameters.get('signal_scaling'),
        'SmoothingFWHM': parameters.get('smoothing_fwhm'),
        'RepetitionTime': parameters.get('t_r'),
        'SliceTimeRef': parameters.get('slice_time_ref'),
        'NumberOfRuns': len(view.designs),
        'NumberOfVolumes': [len(design) for design in view.designs],
        'Units': _units(parameters),
    }


def _second_level(view: ModelView) -> dict[str, Any]:
    """Collect the model-level fields of a second-level model."""
    content = {
        'NoiseModel': 'ols',
        'SmoothingFWHM': view.parameters.get('smoothing_fwhm'),
        'NumberOfSubjects': len(view.designs[0]),
        'DesignRows': view.rows,
        'Units': 'units of the input maps',
    }
    if view.first_level_contrast is not None:
        content['FirstLevelContrast'] = json_safe(view.first_level_contrast)
    return content


_LEVEL_FIELDS = {'first': _first_level, 'second': _second_level}


def statmap_sidecar(view: ModelView) -> dict[str, Any]:
    """Return the model-level ``statmap.json`` content.

    Parameters
    ----------
    view : ModelView
        The model.

    Returns
    -------
    dict
        The JSON content (see the module docstring).
    """
    content = {
        'SkullStripped': False,
        'Level': view.level,
        'Estimator': view.estimator,
        **_LEVEL_FIELDS[view.level](view),
        **describe_inputs(view.sources),
        'ModelParameters': json_safe(view.parameters),
    }
    if view.surface is not None:
        content['Surface'] = surface_record(view.surface)
    return content


def surface_record(layout: SurfaceLayout) -> dict[str, Any]:
    """Describe the surface of a surface model, as ``statmap.json`` records it.

    Parameters
    ----------
    layout : SurfaceLayout
        The model's surface.

    Returns
    -------
    dict
        ``Format`` (``'GIFTI'`` for GIFTI and ``SurfaceImage`` models, which are
        saved as GIFTI, or ``'CIFTI-2'``) and ``Parts``, the number of vertices
        (grayordinates) of each part, in order.

    Examples
    --------
    >>> from bidsglm.models.surface import SurfaceLayout
    >>> surface_record(SurfaceLayout('gifti', (('left', 3), ('right', 2))))
    {'Format': 'GIFTI', 'Parts': {'left': 3, 'right': 2}}
    """
    kind = 'CIFTI-2' if layout.kind == 'cifti' else 'GIFTI'
    return {'Format': kind, 'Parts': dict(layout.parts)}


def design_sidecar(view: ModelView, index: int) -> dict[str, Any]:
    """Return the ``design.json`` content of design ``index``.

    Parameters
    ----------
    view : ModelView
        The model.
    index : int
        The design (run), from 0.

    Returns
    -------
    dict
        ``Description``, and at the first level ``RepetitionTime`` and ``StartTime``
        (the time of the first row, ``slice_time_ref * t_r``) when ``t_r`` is known.
    """
    rows = view.rows
    what = f'run {index + 1}' if view.level == 'first' else 'the group model'
    content: dict[str, Any] = {
        'Description': f'Design matrix of {what}: one row per {rows}, one column per regressor.'
    }
    t_r = view.parameters.get('t_r')
    if view.level == 'first' and t_r is not None:
        content['RepetitionTime'] = t_r
        content['StartTime'] = float(view.parameters.get('slice_time_ref') or 0.0) * t_r
    return content


def _model_map_description(view: ModelView, stat: str, index: int) -> str:
    """Say in a sentence what a model map (residuals, r-squared, mean) holds."""
    what = f'run {index + 1}' if view.level == 'first' else 'the group model'
    texts = {
        'errorts': (
            f'Residuals of {what}: the data minus the fitted model, one volume per '
            f'{view.rows} (4D).'
        ),
        'rSquare': (
            f"r-squared of {what}: the share of each voxel's variance around its mean "
            'that the design explains (0 by construction for an intercept-only design).'
        ),
        'mean': 'The data averaged over time and runs, in the grid of the maps.',
    }
    return texts[stat]


def model_map_sidecar(
    view: ModelView, stat: str, index: int, sources: Sequence[str]
) -> dict[str, Any]:
    """Return the sidecar of a model map: ``stat-errorts``, ``stat-rSquare`` or ``stat-mean``.

    Parameters
    ----------
    view : ModelView
        The model.
    stat : {'errorts', 'rSquare', 'mean'}
        The map.
    index : int
        Its design (run), from 0 (``stat-mean`` is one map for all runs).
    sources : sequence of str
        BIDS URIs of the files of this dataset it was computed with.

    Returns
    -------
    dict
        ``Description``, ``SkullStripped`` and ``Sources`` (left out when empty:
        the mean image comes from input files outside this dataset); the residuals
        of a first-level run also give ``RepetitionTime`` when it is known.
    """
    content: dict[str, Any] = {
        'Description': _model_map_description(view, stat, index),
        'SkullStripped': False,
    }
    if sources:
        content['Sources'] = list(sources)
    t_r = view.parameters.get('t_r')
    if stat == 'errorts' and view.level == 'first' and t_r is not None:
        content['RepetitionTime'] = t_r
    return content


def mask_sidecar() -> dict[str, Any]:
    """Return the ``mask.json`` content.

    The input files it was made from are listed in ``statmap.json`` (``InputFiles``);
    they are not BIDS URIs of this dataset, so they are not ``Sources`` here.

    Returns
    -------
    dict
        ``Description`` and ``Type``.

    Examples
    --------
    >>> mask_sidecar()['Type']
    'Brain'
    """
    return {
        'Description': 'The mask the model was fitted in: 1 inside, 0 outside.',
        'Type': 'Brain',
    }
