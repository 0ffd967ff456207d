"""The offline demo, as ``python -m bidsglm.demo [OUTPUT_DIR]``: same as ``bidsglm demo``.

It fits the real data shipped with bidsglm: the Haxby et al. (2001) subject (12 runs,
first level) and 21 pain studies (second level), saves both as BIDS derivatives in
``OUTPUT_DIR`` (default ``./bidsglm-demo``) and prints where they are (see
:mod:`bidsglm.cli.demo`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ['main']


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bidsglm demo`` with these arguments; return the exit code.

    Examples
    --------
    >>> main(['--help'])  # doctest: +ELLIPSIS
    usage: bidsglm demo [-h] [-q] [OUTPUT_DIR]
    ...
    0
    """
    from bidsglm.cli import main as cli_main  # noqa: PLC0415

    return cli_main(['demo', *(sys.argv[1:] if argv is None else argv)])


if __name__ == '__main__':
    sys.exit(main())
