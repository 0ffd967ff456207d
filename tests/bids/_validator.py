"""Run the real BIDS validator with the schema extended for statistical maps.

The stock schema (bidsschematools ``bst export``) knows neither the ``contrast`` and
``stat`` entities nor the ``statmap`` and ``design`` suffixes of the draft BEP041.
:func:`build_extended_schema` adds them, as in REFERENCE-bids.md section 3: two
label entities placed just before ``desc``, two suffixes, and two file rules for
``func`` derivatives (``statmap``: NIfTI, GIFTI, CIFTI dense scalars or series, or
JSON; ``design``: TSV, JSON or SVG) with every usual entity optional, ``hemi`` too.
BIDS 1.11 has masks in NIfTI only: a third rule accepts the mask of a surface model
(``mask`` in GIFTI or CIFTI dense scalars), as the draft accepts surface statmaps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_BIN = Path(sys.executable).parent
_OPTIONAL = (
    'subject', 'session', 'task', 'acquisition', 'ceagent', 'reconstruction', 'direction',
    'run', 'echo', 'part', 'hemisphere', 'space', 'resolution', 'density', 'contrast',
    'stat', 'description',
)  # fmt: skip
_DERIVATIVE = ["dataset.dataset_description.DatasetType == 'derivative'"]


def _entity(name: str, display: str) -> dict[str, str]:
    return {
        'name': name,
        'display_name': display,
        'description': f'{display} (draft BEP041).',
        'type': 'string',
        'format': 'label',
    }


def _rule(suffix: str, extensions: list[str]) -> dict[str, object]:
    return {
        'entities': dict.fromkeys(_OPTIONAL, 'optional'),
        'suffixes': [suffix],
        'extensions': extensions,
        'datatypes': ['func'],
        'selectors': _DERIVATIVE,
    }


def build_extended_schema(folder: Path) -> Path:
    """Export the stock schema with bst and extend it; return the JSON file."""
    base = folder / 'schema_base.json'
    subprocess.run(
        [sys.executable, '-m', 'bidsschematools', 'export', '--output', str(base)],
        check=True,
        capture_output=True,
    )
    schema = json.loads(base.read_text())
    schema['objects']['entities']['contrast'] = _entity('contrast', 'Contrast')
    schema['objects']['entities']['stat'] = _entity('stat', 'Statistic')
    order = schema['rules']['entities']
    at = order.index('description')
    order[at:at] = ['contrast', 'stat']
    for suffix, display in (('statmap', 'Statistical map'), ('design', 'Design matrix')):
        schema['objects']['suffixes'][suffix] = {
            'value': suffix,
            'display_name': display,
            'description': f'{display} (draft BEP041).',
        }
    rules = schema['rules']['files']['deriv']['imaging']
    rules['func_statmap'] = _rule(
        'statmap', ['.nii.gz', '.nii', '.func.gii', '.dscalar.nii', '.dtseries.nii', '.json']
    )
    rules['func_design'] = _rule('design', ['.tsv', '.json', '.svg'])
    rules['func_surface_mask'] = _rule('mask', ['.func.gii', '.dscalar.nii', '.json'])
    extended = folder / 'schema_ext.json'
    extended.write_text(json.dumps(schema))
    return extended


@dataclass(frozen=True)
class Validation:
    """The validator's exit code and its issues as (severity, code, location)."""

    exit_code: int
    issues: tuple[tuple[str, str, str], ...]

    @property
    def errors(self) -> list[tuple[str, str, str]]:
        return [issue for issue in self.issues if issue[0] == 'error']


def run_validator(dataset: Path, schema: Path) -> Validation:
    """Validate ``dataset`` with the extended ``schema``, offline."""
    command = [
        str(_BIN / 'bids-validator-deno'),
        '--schema',
        schema.resolve().as_uri(),
        '--format',
        'json',
        str(dataset),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    report = json.loads(done.stdout)
    issues = tuple(
        (issue['severity'], issue['code'], issue.get('location', ''))
        for issue in report['issues']['issues']
    )
    return Validation(done.returncode, issues)
