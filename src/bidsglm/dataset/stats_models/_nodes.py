"""Read one node: its level, grouping, model, contrasts and transformations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bidsglm.dataset.stats_models._fields import (
    check_keys,
    entity_key,
    name_list,
    reject,
    test_of,
    weights,
)
from bidsglm.dataset.stats_models._formula import check_formula
from bidsglm.dataset.stats_models._hrf import add_derivatives, read_hrf
from bidsglm.dataset.stats_models._options import read_options
from bidsglm.dataset.stats_models._software import read_software
from bidsglm.dataset.stats_models._types import (
    LEVELS,
    Contrast,
    DummyContrasts,
    Node,
    NodeModel,
)
from bidsglm.dataset.transformations import Transformations, read_transformations
from bidsglm.errors import TransformationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ['read_node']

_NODE_KEYS = frozenset(
    {'Level', 'Name', 'GroupBy', 'Model', 'Contrasts', 'DummyContrasts', 'Transformations'}
    | {'Description'}
)
_MODEL_KEYS = frozenset({'Type', 'X', 'Formula', 'HRF', 'Options', 'Software', 'Description'})
_MODEL_ADVICE = {
    'VarianceComponents': 'mixed models (variance components) are not available: bidsglm '
    'fits fixed-effects and OLS models; remove VarianceComponents',
    'Error': 'bidsglm fits Gaussian models only; remove Error',
}
_CONTRAST_KEYS = frozenset({'Name', 'ConditionList', 'Weights', 'Test', 'Description'})
_DUMMY_KEYS = frozenset({'Contrasts', 'Test', 'Description'})


def _contrast(obj: object, where: str) -> Contrast:
    """Read one element of ``Contrasts``."""
    item = check_keys(obj, _CONTRAST_KEYS, where, {})
    for key in ('Name', 'ConditionList', 'Weights', 'Test'):
        if key not in item:
            reject(where, f'the contrast lacks {key!r}')
    name = item['Name']
    if not isinstance(name, str) or not name.strip():
        reject(f'{where}.Name', f'expected a non-empty name, got {name!r}')
    conditions = name_list(item['ConditionList'], f'{where}.ConditionList', intercept=True)
    test = test_of(item['Test'], f'{where}.Test')
    rows = weights(item['Weights'], len(conditions), test, f'{where}.Weights')
    return Contrast(name, conditions, rows, test)


def _contrasts(value: object, where: str) -> tuple[Contrast, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        reject(where, f'expected a list of contrasts, got {value!r}')
    contrasts = tuple(_contrast(c, f'{where}[{i}]') for i, c in enumerate(value))
    names = [c.name for c in contrasts]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        reject(where, f'the contrast name {repeated[0]!r} is given twice', 'rename one')
    return contrasts


def _dummy(value: object, where: str) -> DummyContrasts | None:
    if value is None:
        return None
    item = check_keys(value, _DUMMY_KEYS, where, {})
    names = item.get('Contrasts')
    conditions = None if names is None else name_list(names, f'{where}.Contrasts', intercept=True)
    return DummyContrasts(conditions, test_of(item.get('Test'), f'{where}.Test'))


def _transformations(value: object, where: str) -> Transformations | None:
    if value is None:
        return None
    try:
        return read_transformations(value)  # type: ignore[arg-type]
    except TransformationError as error:
        reject(where, str(error).rstrip('.'))


def _model_type(model: Mapping[str, Any], where: str) -> str:
    value = model.get('Type')
    if value not in ('glm', 'meta'):
        reject(f'{where}.Type', f'expected "glm" or "meta", got {value!r}')
    return str(value)


def _model(obj: object, where: str, level: str) -> tuple[NodeModel, list[str]]:
    """Read ``Model``, its ``Options`` and ``Software``."""
    model = check_keys(obj, _MODEL_KEYS, where, _MODEL_ADVICE)
    notes: list[str] = []
    fields: dict[str, Any] = {
        'type': _model_type(model, where),
        'x': name_list(model.get('X'), f'{where}.X', intercept=True),
    }
    if 'Formula' in model:
        fields['formula'] = check_formula(model['Formula'], f'{where}.Formula', level)
    if 'HRF' in model and level == 'Run':
        fields['hrf'] = read_hrf(model['HRF'], f'{where}.HRF')
    elif 'HRF' in model:
        notes.append(f'{where}.HRF has no meaning at the {level} level: not read')
    if 'Options' in model:
        options, more = read_options(model['Options'], f'{where}.Options', level)
        fields.update(options)
        notes += more
    if 'Software' in model:
        settings, more = read_software(model['Software'], f'{where}.Software', level)
        notes += more
        for key in ('noise_model', 'smoothing_fwhm', 'modulations'):
            if key in settings:
                fields[key] = settings[key]
        if 'hrf_derivatives' in settings:
            value, place = settings['hrf_derivatives']
            if 'hrf' not in fields:
                reject(place, 'HRF derivatives need a Model.HRF to add them to')
            fields['hrf'] = add_derivatives(fields['hrf'], value, place)
    return NodeModel(**fields), notes


def _group_by(value: object, where: str) -> tuple[str, ...]:
    keys = name_list(value, where, empty=True)
    short = tuple(entity_key(key) for key in keys)
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        reject(where, f'{repeated[0]!r} is given twice')
    return short


def read_node(obj: object, where: str) -> tuple[Node, list[str]]:
    """Read one node (written in the modern spelling).

    Returns
    -------
    node : Node
        The node.
    notes : list of str
        What was read but has no effect here.

    Examples
    --------
    >>> node, notes = read_node({'Level': 'Run', 'Name': 'run', 'GroupBy': ['run', 'subject'],
    ...                          'Model': {'Type': 'glm', 'X': ['a', 1]}}, 'Nodes[0]')
    >>> node.group_by, node.model.x, notes
    (('run', 'sub'), ('a', '1'), [])
    """
    node = check_keys(obj, _NODE_KEYS, where, {})
    level = node.get('Level')
    if level not in LEVELS:
        reject(f'{where}.Level', f'expected one of {list(LEVELS)}, got {level!r}')
    name = node.get('Name')
    if not isinstance(name, str) or not name.strip():
        reject(f'{where}.Name', f'expected a name, got {name!r}')
    if 'Model' not in node:
        reject(where, 'the node lacks "Model"', 'give it one, e.g. {"Type": "glm", "X": [1]}')
    model, notes = _model(node['Model'], f'{where}.Model', str(level))
    return Node(
        level=str(level),
        name=name,
        group_by=_group_by(node.get('GroupBy'), f'{where}.GroupBy'),
        model=model,
        contrasts=_contrasts(node.get('Contrasts'), f'{where}.Contrasts'),
        dummy=_dummy(node.get('DummyContrasts'), f'{where}.DummyContrasts'),
        transformations=_transformations(node.get('Transformations'), f'{where}.Transformations'),
    ), notes
