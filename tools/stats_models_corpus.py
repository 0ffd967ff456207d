"""Print what bidsglm does with each model file of the test corpus.

Usage: ``python tools/stats_models_corpus.py [--refused] [--pybids]``. One line per
file: ``accepted`` or ``refused`` and the message; then the counts. ``--pybids``
also builds pybids' graph of each file (``BIDSStatsModelsGraph`` without a
dataset: the model read, its nodes and edges made) and counts the files each
reads.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from bidsglm.dataset.stats_models import read_stats_model
from bidsglm.errors import BidsGlmError

CORPUS = Path(__file__).parents[1] / 'tests' / 'data' / 'stats_models'


def _bidsglm_reads(path: Path) -> str | None:
    """Return None when bidsglm reads the file, else its message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', UserWarning)  # earlier spellings: read
            read_stats_model(path)
    except BidsGlmError as error:
        return str(error)
    return None


def _pybids_reads(path: Path) -> bool:
    """Tell whether pybids builds the file's graph (nodes and edges, no data)."""
    from bids.modeling.statsmodels import BIDSStatsModelsGraph as Graph  # noqa: PLC0415

    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            model = Graph._load_model(str(path))  # a private step: no dataset needed
            Graph._load_edges(model, Graph._load_nodes(model))
    except Exception:  # any failure of pybids is a refusal here
        return False
    return True


def main(argv: list[str]) -> int:
    """Read every file and print the outcome; return 0."""
    only_refused = '--refused' in argv
    with_pybids = '--pybids' in argv
    files = sorted(CORPUS.rglob('*.json'))
    ours = {path for path in files if _bidsglm_reads(path) is None}
    for path in files:
        name = path.relative_to(CORPUS)
        if path not in ours:
            print(f'refused   {name}: {_bidsglm_reads(path)}')  # noqa: T201
        elif not only_refused:
            print(f'accepted  {name}')  # noqa: T201
    print(f'{len(ours)} of {len(files)} accepted')  # noqa: T201
    if with_pybids:
        theirs = {path for path in files if _pybids_reads(path)}
        print(  # noqa: T201
            f'pybids builds the graph of {len(theirs)}; both {len(ours & theirs)}, '
            f'bidsglm only {len(ours - theirs)}, pybids only {len(theirs - ours)}, '
            f'neither {len(files) - len(ours | theirs)}'
        )
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
