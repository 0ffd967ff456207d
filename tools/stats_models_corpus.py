"""Print what bidsglm does with each model file of the test corpus.

Usage: ``python tools/stats_models_corpus.py [--refused]``. One line per file:
``accepted`` or ``refused`` and the message; then the counts.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from bidsglm.dataset.stats_models import read_stats_model
from bidsglm.errors import BidsGlmError

CORPUS = Path(__file__).parents[1] / 'tests' / 'data' / 'stats_models'


def main(argv: list[str]) -> int:
    """Read every file and print the outcome; return 0."""
    only_refused = '--refused' in argv
    accepted = 0
    files = sorted(CORPUS.rglob('*.json'))
    for path in files:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', UserWarning)  # earlier spellings: read
                read_stats_model(path)
        except BidsGlmError as error:
            print(f'refused   {path.relative_to(CORPUS)}: {error}')  # noqa: T201
            continue
        accepted += 1
        if not only_refused:
            print(f'accepted  {path.relative_to(CORPUS)}')  # noqa: T201
    print(f'{accepted} of {len(files)} accepted')  # noqa: T201
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
