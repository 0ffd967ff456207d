"""Imports point down, as DESIGN.md draws them: no layer reaches up, even lazily."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bidsglm

PACKAGE = Path(bidsglm.__file__).parent
SHARED = {'errors', '_version', '_hooks', '_stages', '_steps'}
#: What each layer may import from bidsglm, besides itself and SHARED.
ALLOWED = {
    'stats': set(),
    'design': {'stats'},
    'models': {'design', 'stats'},
    '_drawing': set(),
    'bids': {'models', 'design', 'stats', '_drawing'},
    'dataset': {'bids', 'models', 'design', 'stats'},
    'report': {'bids', 'models', 'design', 'stats', '_drawing'},
    '_save': {'bids', 'report'},
    'runner': {'dataset', '_save', 'bids', 'models', 'design', 'stats'},
}


def bidsglm_imports(path: Path) -> set[str]:
    """The top-level parts of bidsglm a module imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split('.')[1] for name in names if name.startswith('bidsglm.')}
    return found


def layer_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


MODULES = sorted(p for p in PACKAGE.rglob('*.py') if layer_of(p) in ALLOWED)


@pytest.mark.parametrize('path', MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_the_layers_below_it(path):
    layer = layer_of(path)
    upward = bidsglm_imports(path) - ALLOWED[layer] - SHARED - {layer}
    assert not upward, f'{layer} may not import {sorted(upward)}'


def test_only_the_entry_points_are_unrestricted():
    layers = {layer_of(p) for p in PACKAGE.rglob('*.py')}
    assert layers - set(ALLOWED) - SHARED == {'__init__', '__main__', 'cli', 'demo'}
