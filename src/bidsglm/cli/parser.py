"""The command line's arguments: ``bidsglm BIDS_DIR OUTPUT_DIR {participant,group}``.

Only the standard library is imported here, so ``--help`` and ``--version`` answer
at once. Every value is checked while parsing (argparse types), and so are the
combinations (:func:`parse_args`): a bad argument exits with code 2 and a message
that says what to do, before any work starts.

Two more commands share the program name: ``bidsglm demo [OUTPUT_DIR]`` and
``bidsglm report OUTPUT_DIR``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from bidsglm._version import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    'HRF_NAMES',
    'build_demo_parser',
    'build_parser',
    'build_report_parser',
    'parse_args',
    'parse_participant_labels',
]

#: The ``--hrf-model`` choices: the names of :data:`bidsglm.design.HRF_MODELS`
#: (a test checks they agree; importing the registry here would slow ``--help``).
HRF_NAMES = (
    'glover',
    'spm',
    'glover + derivative',
    'spm + derivative',
    'glover + derivative + dispersion',
    'spm + derivative + dispersion',
    'fir',
)
NOISE_MODELS = ('ar1', 'ols')
#: Options that a ``--model`` file sets itself, so they cannot be given with it.
MODEL_OPTIONS = ('contrast', 'confounds', 'hrf_model', 'high_pass')

_DESCRIPTION = """\
Fit general linear models to task fMRI preprocessed by fMRIPrep, and save them as
BIDS statistical derivatives.

  participant  fits each subject's runs (one model over all runs, fixed effects)
  group        reads the participant outputs in OUTPUT_DIR and fits the group

Other commands:
  bidsglm demo [OUTPUT_DIR]   run both levels on real data shipped with bidsglm
  bidsglm report OUTPUT_DIR   write the HTML report of saved results
"""
_EPILOG = """\
examples:
  bidsglm ds001 ds001/derivatives/bidsglm participant --task stroop \\
      --contrast 'incongruentMinusCongruent=incongruent - congruent' \\
      --confounds 'trans_*' 'rot_*' --n-jobs 4
  bidsglm ds001 ds001/derivatives/bidsglm group --task stroop
  bidsglm ds001 ds001/derivatives/bidsglm participant --model model-stroop_smdl.json
  bidsglm ds001 ds001/derivatives/bidsglm participant --task stroop \\
      --confounds 'trans_*' --write-model model-stroop_smdl.json

exit codes: 0 done, 1 some subject or contrast failed, 2 bad arguments or inputs.
"""


def _existing_folder(value: str) -> Path:
    """Argparse type: a folder that exists."""
    path = Path(value)
    if not path.is_dir():
        msg = f'{value!r} is not an existing folder. Check the path.'
        raise argparse.ArgumentTypeError(msg)
    return path


def _existing_file(value: str) -> Path:
    """Argparse type: a file that exists."""
    path = Path(value)
    if not path.is_file():
        msg = f'{value!r} is not an existing file. Check the path.'
        raise argparse.ArgumentTypeError(msg)
    return path


def _positive_float(value: str) -> float:
    """Argparse type: a float > 0."""
    try:
        number = float(value)
    except ValueError:
        number = float('nan')
    if not number > 0 or number == float('inf'):
        msg = f'expected a number > 0, got {value!r}.'
        raise argparse.ArgumentTypeError(msg)
    return number


def _non_negative_float(value: str) -> float:
    """Argparse type: a float >= 0."""
    if value in ('0', '0.0'):
        return 0.0
    return _positive_float(value)


def _n_jobs(value: str) -> int:
    """Argparse type: a number of processes >= 1, or -1 for every core."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number == -1:
        return os.cpu_count() or 1
    if number < 1:
        msg = f'expected a number of processes >= 1 (or -1 for all cores), got {value!r}.'
        raise argparse.ArgumentTypeError(msg)
    return number


def _contrast(value: str) -> tuple[str, str]:
    """Argparse type: ``NAME=EXPRESSION``."""
    name, sep, expression = value.partition('=')
    if not sep or not name.strip() or not expression.strip():
        msg = f"expected NAME=EXPRESSION, e.g. 'faceMinusHouse=face - house', got {value!r}."
        raise argparse.ArgumentTypeError(msg)
    return name.strip(), expression.strip()


def parse_participant_labels(labels: Sequence[str] | None) -> tuple[str, ...] | None:
    """Strip ``sub-``, drop duplicates and sort.

    Parameters
    ----------
    labels : sequence of str or None
        As given on the command line.

    Returns
    -------
    tuple of str or None
        The labels, or None when none were given.

    Examples
    --------
    >>> parse_participant_labels(['sub-02', '01', '02'])
    ('01', '02')
    """
    if not labels:
        return None
    return tuple(sorted({label.removeprefix('sub-') for label in labels}))


def _add_inputs(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group('selecting the inputs')
    group.add_argument(
        '--derivatives',
        type=_existing_folder,
        metavar='PATH',
        help='the fMRIPrep-style folder (default: BIDS_DIR/derivatives/fmriprep*)',
    )
    group.add_argument('--task', help='the task to model (needed if there are several)')
    group.add_argument(
        '--space',
        help='the output space, optionally with a resolution or a density, e.g. '
        'MNI152NLin6Asym:res-2, or a surface space: fsaverage (GIFTI hemispheres), '
        'fsLR:den-91k (CIFTI-2) (needed if there are several)',
    )
    group.add_argument(
        '--participant-label',
        '--participant_label',
        dest='participant_label',
        nargs='+',
        metavar='LABEL',
        help='the subjects to model, with or without "sub-" (default: all)',
    )


def _add_model(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        'the model', 'Give a BIDS Stats Models file, or the options below (not both).'
    )
    group.add_argument(
        '--model', type=_existing_file, metavar='FILE', help='a BIDS Stats Models JSON file'
    )
    group.add_argument(
        '--contrast',
        type=_contrast,
        action='append',
        metavar='NAME=EXPRESSION',
        help="a first-level contrast, e.g. 'faceMinusHouse=face - house'; repeatable "
        '(default: one per trial type)',
    )
    group.add_argument(
        '--confounds',
        nargs='+',
        metavar='COLUMN',
        help="confound columns or globs, e.g. 'trans_*' 'rot_*' (default: none)",
    )
    group.add_argument(
        '--hrf-model',
        choices=HRF_NAMES,
        metavar='NAME',
        help=f'one of {", ".join(HRF_NAMES)} (default: glover)',
    )
    group.add_argument(
        '--noise-model',
        choices=NOISE_MODELS,
        help="ar1 or ols (default: the model file's Software options, else ar1)",
    )
    group.add_argument(
        '--high-pass',
        type=_positive_float,
        metavar='HZ',
        help='cut-off of the cosine drifts, in Hz (default: 0.01)',
    )
    group.add_argument(
        '--smoothing-fwhm',
        type=_non_negative_float,
        metavar='MM',
        help='Gaussian smoothing of the runs, FWHM in mm (default: none)',
    )
    group.add_argument(
        '--write-model',
        type=Path,
        metavar='FILE',
        help='write the model these options mean as a BIDS Stats Models file and stop '
        '(everything is checked, nothing is fitted); run it later with --model FILE',
    )


def _add_other(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group('performance')
    group.add_argument(
        '--n-jobs',
        '--n_jobs',
        dest='n_jobs',
        type=_n_jobs,
        default=1,
        metavar='N',
        help='subjects fitted in parallel on this machine (-1: all cores; default: 1)',
    )
    group.add_argument(
        '--dask-scheduler',
        metavar='ADDRESS|FILE',
        help=(
            'run the jobs (subjects, or group contrasts) on a Dask cluster: its address, '
            'e.g. tcp://10.0.0.1:8786, or its scheduler file (needs bidsglm[dask])'
        ),
    )
    other = parser.add_argument_group('other')
    other.add_argument('--overwrite', action='store_true', help='fit again subjects already saved')
    other.add_argument('-v', '--verbose', action='count', default=0, help='say more (repeatable)')
    other.add_argument('-q', '--quiet', action='count', default=0, help='say less')
    other.add_argument('--version', action='version', version=f'bidsglm {__version__}')


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``bidsglm BIDS_DIR OUTPUT_DIR {participant,group}``.

    Returns
    -------
    argparse.ArgumentParser
        The parser; :func:`parse_args` adds the checks across arguments.

    Examples
    --------
    >>> args = build_parser().parse_args(['.', 'out', 'group', '--n-jobs', '2'])
    >>> args.analysis_level, args.n_jobs
    ('group', 2)
    """
    parser = argparse.ArgumentParser(
        prog='bidsglm',
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        'bids_dir',
        type=_existing_folder,
        metavar='BIDS_DIR',
        help='the raw BIDS dataset (events, sidecars)',
    )
    parser.add_argument('output_dir', type=Path, metavar='OUTPUT_DIR', help='where the results go')
    parser.add_argument(
        'analysis_level', choices=('participant', 'group'), help='participant or group'
    )
    _add_inputs(parser)
    _add_model(parser)
    _add_other(parser)
    return parser


def _inside(path: Path, folder: Path) -> bool:
    """Tell whether ``path`` is ``folder`` or inside it (after resolving links)."""
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def _check_combinations(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse combinations of arguments that cannot work, with what to do instead."""
    output, bids = args.output_dir, args.bids_dir
    derivatives_root = (bids / 'derivatives').resolve()
    if _inside(output, bids) and not _inside(output, derivatives_root):
        parser.error(
            f'OUTPUT_DIR {str(output)!r} is inside BIDS_DIR, which must stay a raw '
            f'dataset. Use {str(bids / "derivatives" / "bidsglm")!r} instead.'
        )
    if _inside(output, derivatives_root) and output.resolve() == derivatives_root:
        parser.error(
            f'OUTPUT_DIR cannot be the derivatives folder itself. Use '
            f'{str(bids / "derivatives" / "bidsglm")!r}.'
        )
    if args.model is not None:
        given = [f'--{n.replace("_", "-")}' for n in MODEL_OPTIONS if getattr(args, n) is not None]
        if given:
            parser.error(
                f'--model sets the design and contrasts itself; remove {", ".join(given)} '
                'or write them into the model file.'
            )
    if args.write_model is not None and (
        args.model is not None or args.analysis_level != 'participant'
    ):
        parser.error(
            '--write-model writes the model of the options at the participant level: give '
            'it with participant, without --model.'
        )
    if args.dask_scheduler is not None and args.n_jobs > 1:
        parser.error('Give --n-jobs or --dask-scheduler, not both (Dask sets its own workers).')
    if args.verbose and args.quiet:
        parser.error('Give -v or -q, not both.')


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse and check the arguments of a participant or group run.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
        The arguments, ``participant_label`` normalised by
        :func:`parse_participant_labels`.

    Raises
    ------
    SystemExit
        With code 2 for a bad argument (0 for ``--help`` and ``--version``).

    Examples
    --------
    >>> import tempfile
    >>> bids = tempfile.mkdtemp()
    >>> args = parse_args([bids, bids + '/derivatives/bidsglm', 'participant',
    ...                    '--participant-label', 'sub-01', '02'])
    >>> args.participant_label
    ('01', '02')
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    args.participant_label = parse_participant_labels(args.participant_label)
    _check_combinations(parser, args)
    return args


def build_demo_parser() -> argparse.ArgumentParser:
    """Return the parser of ``bidsglm demo [OUTPUT_DIR]``.

    Examples
    --------
    >>> build_demo_parser().parse_args([]).output_dir
    PosixPath('bidsglm-demo')
    """
    parser = argparse.ArgumentParser(
        prog='bidsglm demo',
        description='Fit both levels on real data shipped with bidsglm, offline: the '
        'Haxby et al. (2001) subject (12 runs, first level) and 21 pain studies '
        '(second level). Prints where the results are.',
    )
    parser.add_argument(
        'output_dir',
        nargs='?',
        metavar='OUTPUT_DIR',
        type=Path,
        default=Path('bidsglm-demo'),
        help='where the results go (default: ./bidsglm-demo)',
    )
    parser.add_argument('-q', '--quiet', action='count', default=0, help='say less')
    return parser


def build_report_parser() -> argparse.ArgumentParser:
    """Return the parser of ``bidsglm report OUTPUT_DIR``.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> build_report_parser().parse_args([folder]).output_dir.is_dir()
    True
    """
    parser = argparse.ArgumentParser(
        prog='bidsglm report',
        description='Write the HTML report of the results saved in OUTPUT_DIR.',
    )
    parser.add_argument('output_dir', type=_existing_folder, help='a folder written by bidsglm')
    return parser
