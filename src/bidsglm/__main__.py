"""``python -m bidsglm``: the ``bidsglm`` command line."""

from __future__ import annotations

import sys

from bidsglm.cli import main

if __name__ == '__main__':
    sys.exit(main())
