"""Earlier spellings that pybids still reads: rewritten to the modern ones, with one warning.

==================================================  ===================================
written                                             read as
==================================================  ===================================
no ``BIDSModelVersion``                             ``"1.0.0"``
no ``Name`` (model or node)                         ``"unnamed"`` / the level in lower case
``"Level": "run"`` (any case)                       ``"Run"``
no ``GroupBy``; ``""`` in ``GroupBy``               the level's usual grouping; dropped
no ``Model.Type``                                   ``"glm"`` (pybids' default)
contrast ``"Type"``; its keys in another case       ``"Test"``; ``Name``, ``ConditionList``,
(``weights``, ``Condition_list``)                   ``Weights``
``DummyContrasts``: ``true`` / ``"Type"`` or        ``{"Test": "t"}`` / ``"Test"`` /
``"type"`` / ``"Conditions"`` / no ``Test``         ``"Contrasts"`` / ``"t"``
``Transformations`` as a list                       ``{"Transformer": "pybids-transforms-v1",
                                                    "Instructions": [...]}``
``"Transformer"``: ``cpp_spm``,                     ``"bidspm"`` (its former names)
``bids-matlab_v0.1.0dev``
bidspm's template ``{"Transformer": "",             no transformations
"Instructions": [{"Name": ""}]}``
``"Mask": ""``                                      no mask option
``"Options": []``, ``"Software": []`` (MATLAB)      ``{}``
a node whose ``X``, ``Contrasts`` and               left out with its edges; a Run
``DummyContrasts`` are blank placeholders only      node so is refused (nothing to fit)
(bidspm's templates never filled in)
bidspm's blank placeholders ``""`` (never filled)   dropped: from ``X``; ``HRF.Variables``,
in ``X``, ``HRF.Variables``, ``DummyContrasts``     ``DummyContrasts.Contrasts`` of blanks
and a contrast's ``ConditionList``; ``Input.task``  only are absent; such a contrast is
                                                    left out
==================================================  ===================================

``Steps`` is the pre-1.0 name of ``Nodes`` (FitLins' first examples). pybids 0.22
no longer reads it; bidsglm reads it as ``Nodes`` chained in order (the draft had no
``Edges``), with the rules above and these of the draft:

==================================================  ===================================
written in a ``Steps`` file                         read as
==================================================  ===================================
a step above the Run level without ``Model``        ``{"Type": "glm", "X": [1]}`` (the
                                                    draft's implicit intercept)
``"Type": "T"``                                     ``"Test": "t"``
==================================================  ===================================
"""

from __future__ import annotations

from typing import Any

from bidsglm.dataset.stats_models._fields import reject
from bidsglm.errors import warn_caller

__all__ = ['DEFAULT_GROUP_BY', 'modernize']

#: The grouping of each level when a node gives none (pybids' usual ones).
DEFAULT_GROUP_BY = {
    'Run': ['run', 'session', 'subject'],
    'Session': ['session', 'subject', 'contrast'],
    'Subject': ['subject', 'contrast'],
    'Dataset': ['contrast'],
}
#: Former names of bidspm's transformer.
TRANSFORMER_ALIASES = {'cpp_spm': 'bidspm', 'bids-matlab_v0.1.0dev': 'bidspm'}
_LEVELS = {level.lower(): level for level in DEFAULT_GROUP_BY}


#: A contrast's keys in another case (the draft's lower case, snake_case), to their
#: modern spelling: pybids reads keys in any of these.
_CONTRAST_KEYS = {
    'name': 'Name',
    'conditionlist': 'ConditionList',
    'condition_list': 'ConditionList',
    'weights': 'Weights',
    'type': 'Test',
    'test': 'Test',
}


def _draft_keys(item: object, spelling: dict[str, str], where: str, notes: list[str]) -> None:
    """Give an object's keys written in another case their modern ``spelling``."""
    if not isinstance(item, dict):
        return
    for key in [k for k in item if k not in spelling.values()]:
        modern = spelling.get(key.lower())
        if modern is not None and modern not in item:
            item[modern] = item.pop(key)
            notes.append(f'{where}.{key}: read as {modern}')


def _draft_step(step: object, where: str, notes: list[str]) -> None:
    """Read one step of the draft: the implicit model above the Run level."""
    if not isinstance(step, dict):
        return
    if 'Model' not in step and str(step.get('Level', '')).lower() != 'run':
        step['Model'] = {'Type': 'glm', 'X': [1]}
        notes.append(f"{where} has no Model: read as X [1] (the draft's implicit intercept)")


def _steps(model: dict[str, Any], notes: list[str]) -> None:
    """Read the draft's ``Steps`` as ``Nodes`` chained in order."""
    if 'Steps' not in model:
        return
    if 'Nodes' in model:
        reject('Steps', 'the file gives both "Steps" and "Nodes"', 'keep "Nodes" only')
    model['Nodes'] = model.pop('Steps')
    notes.append('Steps (the pre-1.0 name of Nodes): read as Nodes, chained in order')
    steps = model['Nodes']
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        _draft_step(step, f'Nodes[{index}]', notes)


def _top(model: dict[str, Any], notes: list[str]) -> None:
    _steps(model, notes)
    if 'BIDSModelVersion' not in model:
        model['BIDSModelVersion'] = '1.0.0'
        notes.append('no BIDSModelVersion: read as "1.0.0"')
    if 'Name' not in model:
        model['Name'] = 'unnamed'
        notes.append('no Name: named "unnamed"')
    given = model.get('Input')
    if isinstance(given, dict) and _blanks_only(given.get('task')):
        del given['task']  # every BOLD has a task: "" is a template never filled in
        notes.append('Input.task holds blank placeholders only: read as absent')


def _level(node: dict[str, Any], where: str, notes: list[str]) -> None:
    level = node.get('Level')
    if isinstance(level, str) and level not in DEFAULT_GROUP_BY and level.lower() in _LEVELS:
        node['Level'] = _LEVELS[level.lower()]
        notes.append(f'{where}.Level {level!r}: read as {node["Level"]!r}')
    if 'Name' not in node and node.get('Level') in DEFAULT_GROUP_BY:
        node['Name'] = node['Level'].lower()
        notes.append(f'{where} has no Name: named {node["Name"]!r}')


def _group_by(node: dict[str, Any], where: str, notes: list[str]) -> None:
    level = node.get('Level')
    if 'GroupBy' not in node and level in DEFAULT_GROUP_BY:
        node['GroupBy'] = list(DEFAULT_GROUP_BY[level])
        notes.append(f'{where} has no GroupBy: grouped by {node["GroupBy"]}')
    group_by = node.get('GroupBy')
    if isinstance(group_by, list) and '' in group_by:
        node['GroupBy'] = [key for key in group_by if key != '']
        notes.append(f'{where}.GroupBy holds "": dropped')


def _model(node: dict[str, Any], where: str, notes: list[str]) -> None:
    model = node.get('Model')
    if not isinstance(model, dict):
        return
    if 'Type' not in model:
        model['Type'] = 'glm'
        notes.append(f'{where}.Model has no Type: read as "glm"')
    for key in ('Options', 'Software'):
        if model.get(key) == []:
            model[key] = {}
            notes.append(f'{where}.Model.{key} is [] (an empty MATLAB structure): read as {{}}')
    options = model.get('Options')
    if isinstance(options, dict) and options.get('Mask') == '':
        del options['Mask']
        notes.append(f'{where}.Model.Options.Mask is "": no mask option')


def _contrasts(node: dict[str, Any], where: str, notes: list[str]) -> None:
    contrasts = node.get('Contrasts')
    for index, contrast in enumerate(contrasts if isinstance(contrasts, list) else []):
        _draft_keys(contrast, _CONTRAST_KEYS, f'{where}.Contrasts[{index}]', notes)
        if isinstance(contrast, dict) and contrast.get('Test') == 'T':
            contrast['Test'] = 't'
            notes.append(f'{where}.Contrasts[{index}].Test "T": read as "t"')


def _dummy(node: dict[str, Any], where: str, notes: list[str]) -> None:
    dummy = node.get('DummyContrasts')
    if isinstance(dummy, bool):
        if dummy:
            node['DummyContrasts'] = {'Test': 't'}
        else:
            del node['DummyContrasts']
        notes.append(f'{where}.DummyContrasts {dummy!r}: read as {node.get("DummyContrasts")}')
        return
    if not isinstance(dummy, dict):
        return
    for old, new in (
        ('Type', 'Test'),
        ('type', 'Test'),
        ('Conditions', 'Contrasts'),
        ('ConditionList', 'Contrasts'),
    ):
        if old in dummy and new not in dummy:
            dummy[new] = dummy.pop(old)
            notes.append(f'{where}.DummyContrasts.{old}: read as {new}')
    if 'Test' not in dummy:
        dummy['Test'] = 't'
        notes.append(f'{where}.DummyContrasts has no Test: read as "t"')


def _is_template(spec: dict[str, Any]) -> bool:
    """Tell whether Transformations are bidspm's empty template (nothing to do)."""
    instructions = spec.get('Instructions')
    return (
        spec.get('Transformer') == ''
        and isinstance(instructions, list)
        and all(isinstance(i, dict) and not i.get('Name') for i in instructions)
    )


def _transformations(node: dict[str, Any], where: str, notes: list[str]) -> None:
    spec = node.get('Transformations')
    where = f'{where}.Transformations'
    if isinstance(spec, list):
        node['Transformations'] = {'Transformer': 'pybids-transforms-v1', 'Instructions': spec}
        notes.append(f'{where} as a list: read as the Instructions of pybids-transforms-v1')
        return
    if not isinstance(spec, dict):
        return
    if _is_template(spec):
        del node['Transformations']
        notes.append(f'{where} is the empty template (no Transformer, no instruction): none')
        return
    name = spec.get('Transformer')
    if name in TRANSFORMER_ALIASES:
        spec['Transformer'] = TRANSFORMER_ALIASES[name]
        notes.append(f'{where}.Transformer {name!r}: read as {spec["Transformer"]!r}')


def _is_blank(value: object) -> bool:
    """Tell whether a value is one of bidspm's unfilled placeholders (``""``, ``" "``)."""
    return isinstance(value, str) and not value.strip()


def _blanks_only(value: object) -> bool:
    """Tell whether a value is a list of placeholders only (``[""]``)."""
    return isinstance(value, list) and bool(value) and all(_is_blank(v) for v in value)


def _without_blanks(owner: dict[str, Any], key: str, where: str, notes: list[str]) -> None:
    """Drop the blank names of ``owner[key]``; a list of blanks only becomes absent."""
    names = owner.get(key)
    if not isinstance(names, list) or not any(_is_blank(name) for name in names):
        return
    kept = [name for name in names if not _is_blank(name)]
    if kept or key == 'X':
        owner[key] = kept
        notes.append(f'{where}.{key} holds blank placeholders: dropped')
    else:
        del owner[key]
        notes.append(f'{where}.{key} holds blank placeholders only: read as absent')


def _unfilled(contrast: object) -> bool:
    """Tell whether a contrast is a template never filled in (its conditions all blank)."""
    if not isinstance(contrast, dict):
        return False
    conditions = contrast.get('ConditionList')
    return isinstance(conditions, list) and all(_is_blank(c) for c in conditions)


def _blanks(node: dict[str, Any], where: str, notes: list[str]) -> None:
    model = node.get('Model')
    if isinstance(model, dict):
        _without_blanks(model, 'X', f'{where}.Model', notes)
        if isinstance(model.get('HRF'), dict):
            _without_blanks(model['HRF'], 'Variables', f'{where}.Model.HRF', notes)
    if isinstance(node.get('DummyContrasts'), dict):
        _without_blanks(node['DummyContrasts'], 'Contrasts', f'{where}.DummyContrasts', notes)
    contrasts = node.get('Contrasts')
    if isinstance(contrasts, list) and any(_unfilled(c) for c in contrasts):
        node['Contrasts'] = [c for c in contrasts if not _unfilled(c)]
        notes.append(f'{where}.Contrasts: a contrast never filled in (blank conditions) left out')


_NODE_RULES = (_level, _group_by, _model, _blanks, _contrasts, _dummy, _transformations)


def _never_filled(node: object) -> bool:
    """Tell whether a node is a template never filled in: blank X, no real contrast."""
    if not isinstance(node, dict) or not isinstance(node.get('Model'), dict):
        return False
    dummy = node.get('DummyContrasts')
    dummy_names = dummy.get('Contrasts', ['']) if isinstance(dummy, dict) else ['']
    contrasts = node.get('Contrasts') or []
    return (
        _blanks_only(node['Model'].get('X'))
        and isinstance(contrasts, list)
        and all(_unfilled(c) for c in contrasts)
        and _blanks_only(dummy_names)
    )


def _templates(model: dict[str, Any], notes: list[str]) -> None:
    """Leave out nodes never filled in (bidspm's templates); refuse a Run node left blank."""
    nodes = model.get('Nodes')
    if not isinstance(nodes, list):
        return
    blank = [(i, node) for i, node in enumerate(nodes) if _never_filled(node)]
    for index, node in blank:
        if str(node.get('Level', '')).lower() == 'run':
            reject(
                f'Nodes[{index}]',
                'the Run node is a template never filled in (X holds blank placeholders only, '
                'and no contrast is written): there is nothing to fit',
                'fill in X with the variables to model, and the contrasts',
            )
    names = {node.get('Name') for _, node in blank}
    model['Nodes'] = [node for node in nodes if not any(node is b for _, b in blank)]
    edges = model.get('Edges')
    if isinstance(edges, list):
        model['Edges'] = [
            e
            for e in edges
            if not isinstance(e, dict) or not {e.get('Source'), e.get('Destination')} & names
        ]
    notes += [
        f'Nodes[{index}] is a template never filled in (blank X and contrasts): left out'
        for index, _ in blank
    ]


def modernize(model: dict[str, Any]) -> list[str]:
    """Rewrite earlier spellings in place; warn once, listing them; return the notes.

    Parameters
    ----------
    model : dict
        The model's JSON object (modified).

    Returns
    -------
    list of str
        What was rewritten, one line each (empty for a modern file).

    Raises
    ------
    InvalidParameterError
        For ``Steps``, with the way to rewrite the file.

    Warns
    -----
    UserWarning
        One warning listing every rewrite, when there is any.

    Examples
    --------
    >>> import warnings
    >>> model = {'Name': 'x', 'Nodes': [{'Level': 'run', 'Name': 'r', 'GroupBy': ['run'],
    ...          'Model': {'Type': 'glm', 'X': ['a']},
    ...          'Contrasts': [{'Name': 'a', 'ConditionList': ['a'], 'Weights': [1],
    ...                         'Type': 't'}]}]}
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter('always')
    ...     modernize(model)
    ['no BIDSModelVersion: read as "1.0.0"', "Nodes[0].Level 'run': read as 'Run'",
     'Nodes[0].Contrasts[0].Type: read as Test']
    """
    notes: list[str] = []
    _top(model, notes)
    _templates(model, notes)
    nodes = model.get('Nodes')
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        if isinstance(node, dict):
            for rule in _NODE_RULES:
                rule(node, f'Nodes[{index}]', notes)
    if notes:
        msg = (
            'This BIDS Stats Model uses earlier spellings, read with their modern '
            f'meaning (write them so to silence this): {"; ".join(notes)}.'
        )
        warn_caller(msg, UserWarning)
    return notes
