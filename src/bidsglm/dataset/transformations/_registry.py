"""The instruction sets, by transformer name: what each instruction name runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from types import MappingProxyType
from typing import Any

from bidsglm.dataset.transformations import _bidspm as bidspm
from bidsglm.dataset.transformations import _compute as compute
from bidsglm.dataset.transformations import _munge as munge
from bidsglm.dataset.transformations._convolve import convolve
from bidsglm.dataset.transformations._spec import (
    InstructionSpec,
    Option,
    is_bool,
    is_names,
    is_number,
    is_numbers,
    is_positive,
    is_replacements,
    is_scalar,
    is_text,
    is_whole,
    one_of,
)

_BOOL = 'true or false'


def _flag(default: bool, per_input: bool = True) -> Option:
    return Option(default, is_bool, _BOOL, per_input=per_input)


def _names(required: bool = True) -> Option:
    return Option(None, is_names, 'a variable name or a list of them', required, per_input=False)


def _fir_delays(value: object) -> bool:
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(is_whole(i) and float(i) >= 0 for i in items)  # type: ignore[arg-type]


_SAMPLING_RATE = {'sampling_rate': Option(10, is_positive, 'a number of Hz > 0')}
_SCALE = {
    'demean': _flag(True),
    'rescale': _flag(True),
    'replace_na': Option(None, one_of(None, 'before', 'after'), "null, 'before' or 'after'"),
}
_THRESHOLD = {
    'threshold': Option(0.0, is_number, 'a number'),
    'binarize': _flag(False),
    'above': _flag(True),
    'signed': _flag(True),
}
_REPLACE = {
    'replace': Option(None, is_replacements, 'an object of old: new values', True, False),
    'attribute': Option('value', one_of(*munge.ATTRIBUTES), f'one of {list(munge.ATTRIBUTES)}'),
}


def _joint(function: Callable[..., Any], summary: str, **options: Option) -> InstructionSpec:
    """Describe an instruction of several inputs that makes one variable, ``Output``."""
    return InstructionSpec('joint', function, summary, options, output_required=True)


#: pybids' instruction set (``bids.modeling.transformations``), with bidsglm's semantics
#: where the module docstring says so.
PYBIDS: MappingProxyType[str, InstructionSpec] = MappingProxyType(
    {
        'And': _joint(compute.and_, '1 where every input is non-zero'),
        'Assign': InstructionSpec(
            'each',
            munge.assign,
            "copy an input's value, onset or duration onto a target's",
            {
                'target': Option(None, is_text, 'a variable name', required=True),
                'input_attr': Option(
                    'amplitude', one_of(*munge.ATTRIBUTES), str(munge.ATTRIBUTES)
                ),
                'target_attr': Option(
                    'amplitude', one_of(*munge.ATTRIBUTES), str(munge.ATTRIBUTES)
                ),
            },
            text_inputs=True,
        ),
        'Concatenate': InstructionSpec(
            'joint',
            munge.concatenate,
            "join the rows' values as text with '_'",
            output_required=True,
            text_inputs=True,
        ),
        'Convolve': InstructionSpec(
            'each',
            convolve,
            'convolve with an HRF, sampled at the volumes',
            {
                'model': Option('spm', is_text, 'an HRF name', per_input=False),
                'derivative': _flag(False, per_input=False),
                'dispersion': _flag(False, per_input=False),
                'fir_delays': Option(
                    None, _fir_delays, 'whole numbers of volumes >= 0', per_input=False
                ),
            },
        ),
        'Copy': InstructionSpec(
            'each', munge.keep, 'copy under a new name', output_required=True, text_inputs=True
        ),
        'Delete': InstructionSpec('names', munge.delete, 'remove variables'),
        'Demean': InstructionSpec('each', compute.demean, 'subtract the mean'),
        'DropNA': InstructionSpec(
            'each', munge.drop_na, 'remove events with a missing value', text_inputs=True
        ),
        'Factor': InstructionSpec(
            'each',
            munge.factor,
            'one indicator per distinct value',
            {
                'constraint': Option(
                    'none', one_of(*munge.CONSTRAINTS), str(list(munge.CONSTRAINTS))
                ),
                'ref_level': Option(None, is_scalar, 'a value of the input'),
                'sep': Option('.', is_text, 'a string'),
            },
            text_inputs=True,
            drops_input=True,
        ),
        'Filter': InstructionSpec(
            'each',
            munge.filter_,
            'keep the events where a query holds',
            {'query': Option(None, is_text, 'a query string', required=True), 'by': _names(False)},
            text_inputs=True,
        ),
        'Group': InstructionSpec(
            'names', munge.group, 'name a list of variables', output_required=True
        ),
        'Lag': InstructionSpec(
            'each',
            compute.lag,
            'shift by samples',
            {
                'shift': Option(1, is_number, 'a number of samples'),
                'order': Option(3, one_of(0, 1, 2, 3, 4, 5), 'a whole number from 0 to 5'),
                'mode': Option(
                    'nearest', one_of(*compute.LAG_MODES), str(list(compute.LAG_MODES))
                ),
                'constant': Option(0.0, is_number, 'a number'),
                'difference': _flag(False),
            },
        ),
        'Not': InstructionSpec('each', compute.not_, '1 where the input is 0'),
        'Or': _joint(compute.or_, '1 where an input is non-zero'),
        'Orthogonalize': InstructionSpec(
            'each', compute.orthogonalize, 'remove the fit on other variables', {'other': _names()}
        ),
        'Product': _joint(compute.product, 'row product'),
        'Rename': InstructionSpec(
            'each',
            munge.keep,
            'give a new name',
            output_required=True,
            text_inputs=True,
            drops_input=True,
        ),
        'Replace': InstructionSpec(
            'each', munge.replace_values, 'replace values', _REPLACE, text_inputs=True
        ),
        'Resample': InstructionSpec(
            'each', munge.resample_, 'resample a dense variable', _SAMPLING_RATE
        ),
        'Scale': InstructionSpec('each', compute.scale, 'centre and scale', _SCALE),
        'Select': InstructionSpec('names', munge.select, 'keep only these variables'),
        'Split': InstructionSpec(
            'each', munge.split, 'one variable per value of others', {'by': _names()}
        ),
        'Sum': _joint(
            compute.sum_,
            'weighted row sum',
            weights=Option(None, is_numbers, 'one number per input', per_input=False),
        ),
        'Threshold': InstructionSpec(
            'each', compute.threshold, 'zero values past a cut-off', _THRESHOLD
        ),
        'ToDense': InstructionSpec(
            'each', munge.to_dense_, 'sample events as a boxcar', _SAMPLING_RATE
        ),
    }
)

_OMIT_NAN = {'omit_nan': _flag(False, per_input=False)}

_QUERY = Option(None, is_text, 'a query such as "trial_type==face.*"', per_input=False)
_VALUE = Option(None, is_scalar, 'a number (or a text holding one)', True, per_input=False)
#: bidspm's own instructions, which read the events as one table (``_bidspm``).
_BIDSPM_TABLE = {
    **{
        name: InstructionSpec(
            'table',
            partial(bidspm.arithmetic, operation=name),
            f'{name.lower()} a value, on the rows a query selects',
            {'value': _VALUE, 'query': _QUERY},
        )
        for name in bidspm.ARITHMETIC
    },
    'Constant': InstructionSpec(
        'table',
        bidspm.constant,
        'a new column of one value',
        {'value': Option(1, is_scalar, 'a number or a text', per_input=False)},
        output_required=True,
        needs_input=False,
    ),
    'Factor': InstructionSpec(
        'table', bidspm.factor, 'bids-matlab dummy coding', text_inputs=True
    ),
    'Filter': InstructionSpec(
        'table',
        bidspm.filter_rows,
        'missing values where a query fails',
        {'query': replace(_QUERY, required=True)},
        text_inputs=True,
    ),
    'LabelIdenticalRows': InstructionSpec(
        'table',
        bidspm.label_rows,
        'number identical rows',
        {'cumulative': _flag(False, per_input=False)},
        text_inputs=True,
    ),
}

#: bidspm's instructions whose semantics coincide with pybids' (bidspm reads an events
#: table row by row; see the module docstring for the differences it keeps).
BIDSPM: MappingProxyType[str, InstructionSpec] = MappingProxyType(
    {
        **{
            name: PYBIDS[name]
            for name in ('Concatenate', 'Copy', 'Delete', 'DropNA', 'Rename', 'Select')
        },
        'And': _joint(partial(compute.and_, missing=False), '1 where every input is non-zero'),
        'Not': InstructionSpec(
            'each', partial(compute.not_, missing=False), '1 where the input is 0'
        ),
        'Or': _joint(compute.or_, '1 where an input is non-zero'),
        'Product': _joint(compute.product, 'row product', **_OMIT_NAN),
        'Replace': InstructionSpec(
            'each',
            partial(munge.replace_values, regex=True),
            'replace values',
            _REPLACE,
            text_inputs=True,
        ),
        'Scale': InstructionSpec(
            'each',
            compute.scale,
            'centre and scale',
            {
                **_SCALE,
                'replace_na': Option(
                    None, one_of(None, 'off', 'before', 'after'), "'off', 'before' or 'after'"
                ),
            },
        ),
        'Sum': _joint(
            compute.sum_,
            'weighted row sum',
            weights=Option(None, is_numbers, 'one number per input', per_input=False),
            **_OMIT_NAN,
        ),
        'Threshold': InstructionSpec(
            'each',
            partial(compute.threshold, inclusive=False),
            'zero values past a cut-off',
            _THRESHOLD,
        ),
        **_BIDSPM_TABLE,
    }
)

#: bidspm instructions that bidsglm refuses, and why.
BIDSPM_REFUSED = MappingProxyType(
    {
        **dict.fromkeys(
            ('Split', 'Assign'),
            "bidspm's {name} differs from pybids' (its output names, or its query syntax); "
            'write the instruction for "Transformer": "pybids-transforms-v1"',
        ),
        **dict.fromkeys(
            ('Mean', 'StdDev', 'MergeIdenticalRows'),
            '{name} is a bidspm extension that bidsglm does not implement; prepare the events '
            'file instead, or use the pybids-transforms-v1 instructions',
        ),
    }
)


#: The instruction sets, by ``Transformer`` name.
TRANSFORMERS: MappingProxyType[str, MappingProxyType[str, InstructionSpec]] = MappingProxyType(
    {
        'pybids-transforms-v1': PYBIDS,
        'bidspm': BIDSPM,
    }
)
#: Instructions that a transformer knows but bidsglm refuses, with the reason.
REFUSED: MappingProxyType[str, MappingProxyType[str, str]] = MappingProxyType(
    {
        'pybids-transforms-v1': MappingProxyType({}),
        'bidspm': BIDSPM_REFUSED,
    }
)
