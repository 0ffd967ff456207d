"""The ``bidsglm`` command line (also ``python -m bidsglm``).

::

    bidsglm BIDS_DIR OUTPUT_DIR {participant,group} [options]
    bidsglm demo [OUTPUT_DIR]
    bidsglm report OUTPUT_DIR

:func:`main` parses the arguments with the standard library only, and imports the
library (numpy, nibabel, the models) only once they are valid, so ``--help`` and
``--version`` answer at once. It returns the exit code: 0 done, 1 some subject or
contrast failed, 2 bad arguments or inputs (found before any work starts).
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ['configure_logging', 'console_main', 'main']

_HANDLER_NAME = 'bidsglm-cli'


def configure_logging(verbose: int = 0, quiet: int = 0) -> None:
    """Send bidsglm's log to stderr: INFO by default, DEBUG with -v, WARNING with -q.

    Parameters
    ----------
    verbose, quiet : int
        How many times ``-v`` and ``-q`` were given.

    Examples
    --------
    >>> configure_logging(quiet=1)
    >>> logging.getLogger('bidsglm').level == logging.WARNING
    True
    """
    level = logging.INFO + 10 * (quiet - verbose)
    logger = logging.getLogger('bidsglm')
    for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter('bidsglm %(levelname)s: %(message)s'))
    logger.addHandler(handler)
    logger.setLevel(min(max(level, logging.DEBUG), logging.CRITICAL))


def _parse(
    parse: Callable[[Sequence[str]], argparse.Namespace], argv: Sequence[str]
) -> argparse.Namespace | int:
    """Parse, turning argparse's exits (``--help``, errors) into exit codes."""
    try:
        return parse(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2


def _demo(argv: Sequence[str]) -> int:
    from bidsglm.cli.parser import build_demo_parser  # noqa: PLC0415

    args = _parse(build_demo_parser().parse_args, argv)
    if isinstance(args, int):
        return args
    configure_logging(quiet=args.quiet)
    from bidsglm.cli.demo import run_demo  # noqa: PLC0415 - heavy: after parsing

    return run_demo(args.output_dir, quiet=bool(args.quiet))


def _report(argv: Sequence[str]) -> int:
    from bidsglm.cli.parser import build_report_parser  # noqa: PLC0415

    args = _parse(build_report_parser().parse_args, argv)
    if isinstance(args, int):
        return args
    configure_logging()
    from bidsglm.errors import BidsGlmError  # noqa: PLC0415 - heavy: after parsing
    from bidsglm.report import write_index  # noqa: PLC0415

    try:
        index = write_index(args.output_dir, rebuild=True)
    except BidsGlmError as error:
        logging.getLogger('bidsglm').error('%s', error)
        return 2
    sys.stdout.write(f'Report: {index.resolve()}\n')
    return 0


_COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {'demo': _demo, 'report': _report}


def _fits_in_a_pool(args: argparse.Namespace) -> bool:
    """Tell whether the arguments fit subjects in local worker processes."""
    return (
        args.analysis_level == 'participant'
        and args.n_jobs != 1
        and args.dask_scheduler is None
        and getattr(args, 'write_model', None) is None
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 done, 1 some subject or contrast failed, 2 bad arguments or inputs.

    Examples
    --------
    >>> main(['--version'])
    bidsglm ...
    0
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in _COMMANDS:
        return _COMMANDS[arguments[0]](arguments[1:])
    from bidsglm.cli.parser import parse_args  # noqa: PLC0415

    args = _parse(parse_args, arguments)
    if isinstance(args, int):
        return args
    configure_logging(args.verbose, args.quiet)
    if _fits_in_a_pool(args):
        from bidsglm.runner.execution import start_fork_server  # noqa: PLC0415

        start_fork_server()  # the workers import while this process imports and plans
    from bidsglm.cli.run import run  # noqa: PLC0415 - heavy: after parsing

    return run(args, show_progress=False if args.quiet else None)


def console_main() -> NoReturn:
    """Run the command line as the ``bidsglm`` script and ``python -m bidsglm`` do, then exit.

    Before exiting, every object is hidden from the garbage collector
    (:func:`gc.freeze`): the interpreter's teardown then skips collecting the
    objects of numpy, pandas and scipy again and again, about 0.15 s of every run.
    """
    code = main()
    gc.freeze()
    sys.exit(code)
