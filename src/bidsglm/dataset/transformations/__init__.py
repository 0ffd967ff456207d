"""BIDS Stats Models transformations: ``pybids-transforms-v1`` (and bidspm's common part).

A node's ``Transformations`` turn the variables read from a run's files into the
variables its ``Model.X`` names: ``{"Transformer": "pybids-transforms-v1",
"Instructions": [{"Name": "Factor", "Input": ["trial_type"]}, ...]}``.

How to use it (what the model reader does)::

    spec = read_transformations(node['Transformations'])       # planning: refuse early
    run = collection_from_run(RunTiming(n_volumes, tr, start_time), events, confounds)
    run = apply_transformations(run, spec)                      # per run
    events = to_events(run, hrf_variables)      # convolved by the model's HRF
    columns = to_volumes(run, other_x_names)    # used as they are (Convolve output,
                                                # confounds)

At the Subject and Dataset levels, ``collection_from_table(participants)`` and
``to_table`` do the same with row variables.

Data model
----------
:class:`SparseVariable` (events: onset, duration, value per row),
:class:`DenseVariable` (one value per sample at ``sampling_rate`` from the start of
the run) and :class:`SimpleVariable` (one value per row, no timing) are frozen
records; a :class:`VariableCollection` holds them by name with the run's
:class:`RunTiming` and the ``Group`` names, and every instruction returns a new one.
Events columns keep all their rows, missing values included (pybids' graph does
the same); confounds are dense at ``1 / TR``.

Arguments common to every instruction
-------------------------------------
Keys are read as pybids reads them (CamelCase or snake_case). ``Input`` is a name
or a list; a ``Group`` name stands for its variables, a glob (``trial_type.*``)
for the names it matches (possibly none; a plain name must exist). Without
``Output`` an instruction replaces its inputs in place; ``Output`` gives one name
per input (or the one name of a joint instruction); ``OutputPrefix`` and
``OutputSuffix`` wrap the name. An instruction that makes several variables from
one input (``Factor``, ``Split``, ``Convolve`` with derivatives) gives ``Output`` to
the first and keeps the others' own names. A list-valued argument gives one value
per input, except for ``By``, ``Other``, ``Weights``, ``FirDelays`` and
``Replace``. ``Dense: true`` samples sparse inputs at ``RunTiming.sampling_rate``
(10 Hz) first. Unknown instructions, arguments and values are refused, naming
the instruction and what it takes, by :func:`read_transformations`, before data.

The instructions (pybids' semantics unless said)
------------------------------------------------
==============  ==============================================================
Factor          One indicator per distinct value, ``<name>.<value>``; every
                event kept (1 or 0, missing values 0); the input is removed.
                ``Constraint`` ``drop_one`` / ``mean_zero`` (reference rows at
                ``-1/(L-1)``), ``RefLevel``, ``Sep``.
Convolve        HRF ``Model`` (``spm``, ``glover``, ``fir``; ``Derivative``,
                ``Dispersion``, ``FirDelays`` in volumes) through bidsglm's HRF
                registry, sampled at the run's volumes; outputs ``x``,
                ``x_derivative``, ``x_dispersion``, ``x_<delay>``.
Scale           Demean and/or divide by the sample standard deviation (ddof 1)
                over present values; constant input refused unless
                ``ReplaceNa: after``; ``before``/``after`` fill missing with 0.
Demean          Subtract the mean.
Threshold       Keep values ``>=`` (``Above``) or ``<=`` a cut-off, others 0
                (missing 0); ``Signed: false`` compares absolute values;
                ``Binarize`` sets kept values to 1.
Replace         ``{"old": new}``, all pairs at once, on ``Attribute`` value,
                onset or duration.
Rename, Copy    New name (``Output`` required); Rename removes the input.
Select, Delete  Keep only / remove the named variables.
Split           One variable per combination of the values of ``By``:
                ``x.by[value]``; events of that combination (dense: zeros
                elsewhere).
Filter          Keep the events where ``Query`` holds (it may name the input
                and ``By``).
Sum, Product    Row-wise weighted sum / product of aligned inputs into
                ``Output``; missing values skipped (0 for Sum, 1 for Product).
And, Or, Not    Logical, 1.0 or 0.0; And skips missing values (counts them
                true), Or ignores them, Not of a missing value is 0.
Orthogonalize   ``y - X b`` after fitting ``[1, X]`` (``Other``) by least squares.
Lag             ``scipy.ndimage.shift`` by ``Shift`` samples (``Order``,
                ``Mode``, ``Constant``; ``Difference``).
Assign          Copy the input's value/onset/duration (``InputAttr``) onto the
                ``Target``'s (``TargetAttr``), event by event.
DropNA          Remove events whose value is missing.
Concatenate     Join aligned rows' values as text with ``_`` into ``Output``
                (not in pybids; bidspm's meaning, the spec's list names it).
Group           Name (``Output``) a list of variables for later ``Input``.
ToDense         Sample events as a boxcar at ``SamplingRate`` (10 Hz).
Resample        A dense variable at another ``SamplingRate``.
==============  ==============================================================

Where pybids surprises, and what we do instead
----------------------------------------------
- Convolve: pybids convolves at the collection's 10 Hz and the graph later
  low-pass filters and interpolates to the volumes; FIR delays count 0.1 s samples
  and Glover's undershoot is nilearn < 0.11's (0.35). We sample at the volumes
  (``k * TR + start_time``) with bidsglm's design numbers (``oversampling`` 50,
  ``min_onset`` -24 s, Glover 0.48, FIR delays in volumes), so a Convolve column
  equals bidsglm's own design column. With pybids' fine grid (``oversampling``
  from its rule and ``min_onset`` 0, see the tests) the SPM numbers are pybids'.
- Dense resampling (ToDense, Resample, Dense, to_volumes): pybids passes through a
  finer bin rate, low-pass filters and interpolates on sample indices (which
  stretches time); we sample the boxcar at the sample times and interpolate
  linearly in time. Both agree when events fall on samples.
- Threshold ``Signed: false``: pybids returns absolute values; we keep the sign
  of the kept values (the specification's "retained").
- Factor/Split labels: a whole float loses ``.0`` (``respnum.1`` whether or not
  the column has a missing value); pybids crashes on a missing text value, we
  leave those rows out of every level (Factor) or label them ``nan`` (Split).
- Replace: JSON keys are text, so pybids never matches numbers or onsets; we
  compare numerically, and ``"n/a"`` matches (or writes) a missing value.
  Replacing text by numbers gives a numeric variable.
- Refusals where pybids crashes or silently misbehaves: a single ``Output`` for
  several inputs (pybids names it ``"['x']_name"``), misaligned inputs of Sum,
  Product, And, Or, Orthogonalize, Filter, Split (we ask for ``Dense: true``),
  Filter or DropNA of a dense variable, missing values in Convolve, Lag,
  Orthogonalize, ``GroupBy``, unknown arguments.
- Group takes its name from ``Output`` (pybids' ``name`` argument collides with
  the instruction's ``Name``) and may not shadow any variable.
- Filter queries are evaluated by a small parser, never ``eval`` (pandas' query
  grammar: comparisons, ``in``, ``and``/``or``/``not``, ``&``/``|``/``~``).

``bidspm``: its instructions read an events table row by row; those whose
meaning coincides run here: Concatenate, Copy, Delete, DropNA, Rename, Select,
Scale (``ReplaceNa`` may be ``off``), Replace (text keys are regular expressions
matching a whole value, ``{"key": k, "value": v}`` objects accepted), Threshold
(strict ``>``/``<``), Sum and Product (``OmitNan``, default false: a missing value
makes the row missing), And, Or, Not (missing values are false). Its own
instructions run as bids-matlab computes them (``_bidspm``): Filter (missing
values where its ``Query`` fails), Add, Subtract, Multiply, Divide, Power (also on
``onset`` and ``duration``), Constant, LabelIdenticalRows and Factor
(``<input>_<level>`` names). A query naming a column the events lack is refused
(bids-matlab skips the instruction with a warning). Split and Assign, which
differ from pybids', and Mean, StdDev, MergeIdenticalRows are refused by name.
"""

from __future__ import annotations

from bidsglm.dataset.transformations._common import densify, resample
from bidsglm.dataset.transformations._engine import (
    Instruction,
    Transformations,
    apply_transformations,
    expand_inputs,
    read_transformations,
)
from bidsglm.dataset.transformations._export import to_events, to_table, to_volumes
from bidsglm.dataset.transformations._registry import REFUSED, TRANSFORMERS
from bidsglm.dataset.transformations._spec import InstructionSpec, Option
from bidsglm.dataset.transformations._variables import (
    DenseVariable,
    RunTiming,
    SimpleVariable,
    SparseVariable,
    Variable,
    VariableCollection,
    collection_from_run,
    collection_from_table,
    is_missing,
    is_numeric,
)

__all__ = [
    'REFUSED',
    'TRANSFORMERS',
    'DenseVariable',
    'Instruction',
    'InstructionSpec',
    'Option',
    'RunTiming',
    'SimpleVariable',
    'SparseVariable',
    'Transformations',
    'Variable',
    'VariableCollection',
    'apply_transformations',
    'collection_from_run',
    'collection_from_table',
    'densify',
    'expand_inputs',
    'is_missing',
    'is_numeric',
    'read_transformations',
    'resample',
    'to_events',
    'to_table',
    'to_volumes',
]
