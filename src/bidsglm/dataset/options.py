"""The model that the command line's options mean, and its BIDS Stats Models file.

Without ``--model``, bidsglm runs two nodes: a Run node grouped by subject (each
run's design holds the events' conditions and the ``--confounds``; one model over
each subject's runs combines their contrasts by fixed effects, F-tests included,
saved in ``OUTPUT_DIR``), and a Dataset node, a one-sample t-test of each t
contrast. :func:`options_model` is that graph; :func:`options_first_level` is its
Run node for one subject (the conditions and confound columns are that subject's).
:func:`model_file` writes the same model as a BIDS Stats Models file
(``--write-model``): run with ``--model``, it computes the same numbers, its nodes
saved in their own folders.

The conditions are written as they are (``congruent``, bidsglm's shorthand for
``trial_type.congruent`` that keeps the events' ``modulation``), so that the
written model names its columns and contrasts as the run does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from bidsglm.dataset.design import DesignSpec
from bidsglm.dataset.participant import FirstLevel
from bidsglm.dataset.stats_models import DummyContrasts, StatsModel, read_stats_model
from bidsglm.design.contrasts import parse_contrast_expression
from bidsglm.errors import BidsGlmError, InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = [
    'NAMES_FROM_EVENTS',
    'NAMES_FROM_OPTIONS',
    'model_file',
    'options_first_level',
    'options_model',
]

NAMES_FROM_OPTIONS = "On the command line, the name is before '=' in --contrast NAME=EXPRESSION."
NAMES_FROM_EVENTS = (
    "The default contrasts are named after the events' trial_type values: name them "
    'yourself with --contrast NAME=EXPRESSION.'
)


def _nodes(run_model: Mapping[str, Any], run_extra: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            'Level': 'Run',
            'Name': 'subject',
            'GroupBy': ['subject'],
            'Model': dict(run_model),
            **run_extra,
        },
        {
            'Level': 'Dataset',
            'Name': 'dataset',
            'GroupBy': ['contrast'],
            'Model': {'Type': 'glm', 'X': [1]},
            'DummyContrasts': {'Test': 't'},
        },
    ]


def options_model() -> StatsModel:
    """Return the graph the options run: each subject's runs, then the group.

    Examples
    --------
    >>> [(node.level, node.group_by) for node in options_model().nodes]
    [('Run', ('sub',)), ('Dataset', ('contrast',))]
    """
    content = {
        'Name': 'bidsglm',
        'BIDSModelVersion': '1.0.0',
        'Nodes': _nodes({'Type': 'glm', 'X': [1]}, {}),
    }
    return read_stats_model(content)


def options_first_level(
    trial_types: Sequence[str],
    confounds: Sequence[str],
    contrasts: Sequence[tuple[str, str]],
    spec: DesignSpec,
) -> FirstLevel:
    """Return the Run node of the options for one subject.

    Parameters
    ----------
    trial_types : sequence of str
        The subject's conditions (``trial_type`` values).
    confounds : sequence of str
        Its confound columns.
    contrasts : sequence of (str, str)
        ``--contrast`` NAME, EXPRESSION pairs; none: one contrast per condition.
    spec : DesignSpec
        HRF, drifts and FIR delays (its ``x`` is replaced).

    Returns
    -------
    FirstLevel
        The design and contrasts.

    Examples
    --------
    >>> made = options_first_level(['a', 'b'], ['csf'], [], DesignSpec(x=()))
    >>> made.spec.x, made.dummy
    (('a', 'b', 'csf'), DummyContrasts(conditions=('a', 'b'), test='t'))
    """
    design = DesignSpec(
        x=(*trial_types, *confounds),
        hrf_model=spec.hrf_model,
        high_pass=spec.high_pass,
        fir_delays=spec.fir_delays,
    )
    if contrasts:
        return FirstLevel(
            design,
            expressions=tuple(contrasts),
            names_from=NAMES_FROM_OPTIONS,
            confounds=tuple(confounds),
        )
    dummy = DummyContrasts(tuple(trial_types), 't')
    return FirstLevel(
        design, dummy=dummy, names_from=NAMES_FROM_EVENTS, confounds=tuple(confounds)
    )


def _written_contrast(name: str, expression: str, x: Sequence[str]) -> dict[str, Any]:
    columns = [*x, 'constant']
    try:
        weights = np.atleast_2d(parse_contrast_expression(expression, columns))
    except BidsGlmError as error:
        msg = (
            f'--write-model: the contrast {name!r} ({expression}) cannot be written over the '
            f"model's X {list(x)} and 1: {error}"
        )
        raise InvalidParameterError(msg) from error
    used = [int(i) for i in np.flatnonzero(np.any(weights != 0, axis=0))]
    conditions: list[str | int] = [1 if columns[i] == 'constant' else columns[i] for i in used]
    rows = [[float(w) for w in row[used]] for row in weights]
    return {
        'Name': name,
        'ConditionList': conditions,
        'Weights': rows[0] if len(rows) == 1 else rows,
        'Test': 't' if len(rows) == 1 else 'F',
    }


def model_file(
    path: Path,
    *,
    trial_types: Sequence[str],
    confounds: Sequence[str],
    contrasts: Sequence[tuple[str, str]],
    spec: DesignSpec,
    software: Mapping[str, Any],
    selection: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """Write the options' model as a BIDS Stats Models file; return its content.

    Parameters
    ----------
    path : pathlib.Path
        The file to write.
    trial_types, confounds : sequence of str
        The conditions (of every subject) and the ``--confounds`` names or globs.
    contrasts : sequence of (str, str)
        ``--contrast`` NAME, EXPRESSION pairs; none: one per condition.
    spec : DesignSpec
        HRF, drift cut-off and FIR delays.
    software : mapping
        ``Software.bidsglm`` options (``NoiseModel``, ``SmoothingFWHM``).
    selection : mapping of str to sequence of str
        ``Input``: task, space, subjects.

    Returns
    -------
    dict
        The model written.

    Raises
    ------
    InvalidParameterError
        If a contrast weights columns a model cannot name (drifts).
    """
    x = [*trial_types, *confounds]
    hrf: dict[str, Any] = {'Variables': list(trial_types), 'Model': spec.hrf_model}
    if spec.hrf_model == 'fir':
        hrf['Parameters'] = {'fir_delays': list(spec.fir_delays)}
    run_model = {
        'Type': 'glm',
        'X': [*x, 1],
        'HRF': hrf,
        'Options': {'HighPassFilterCutoffHz': spec.high_pass},
        'Software': {'bidsglm': dict(software)},
    }
    if contrasts:
        extra: dict[str, Any] = {'Contrasts': [_written_contrast(n, e, x) for n, e in contrasts]}
    else:
        extra = {'DummyContrasts': {'Contrasts': list(trial_types), 'Test': 't'}}
    content = {
        'Name': 'bidsglm',
        'BIDSModelVersion': '1.0.0',
        'Description': "The model of bidsglm's command-line options (bidsglm --write-model).",
        'Input': {key: list(values) for key, values in selection.items() if values},
        'Nodes': _nodes(run_model, extra),
    }
    read_stats_model(content)  # what is written can be read back
    path.write_text(json.dumps(content, indent=2) + '\n', encoding='utf-8')
    return content
