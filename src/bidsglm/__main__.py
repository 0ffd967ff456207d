"""``python -m bidsglm``: the ``bidsglm`` command line."""

from __future__ import annotations

from bidsglm.cli import console_main

if __name__ == '__main__':
    console_main()
