"""Real model files written by others: how many bidsglm accepts, and why it refuses the rest.

The corpus (``tests/data/stats_models``, its README names every source and licence)
holds the model files of the specification, the model zoo, FitLins, bidspm, pybids
and bids-matlab. A file is accepted when :func:`read_stats_model` reads it; a
refusal must be one of our errors and name the feature it refuses (the place in the
file, such as ``Nodes[0].Model.Software``). ``python tools/stats_models_corpus.py``
prints the table.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from bidsglm.dataset.stats_models import read_stats_model
from bidsglm.errors import BidsGlmError

CORPUS = Path(__file__).parents[1] / 'data' / 'stats_models'
FILES = sorted(CORPUS.rglob('*.json'))
#: How many files of the corpus are accepted today (update it when it changes).
ACCEPTED = 73
#: A refusal names where in the file the refused feature is.
_NAMES_A_FEATURE = re.compile(r'^BIDS Stats Model, [^:]*[A-Za-z]+[^:]*: ')


def _outcome(path: Path) -> str | None:
    """Return None when the file is accepted, else the refusal's message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', UserWarning)  # earlier spellings, read with one
            read_stats_model(path)
    except BidsGlmError as error:
        return str(error)
    return None


def test_corpus_holds_more_than_80_files():
    assert len(FILES) >= 80


@pytest.mark.parametrize('path', FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_each_file_is_accepted_or_refused_by_name(path):
    message = _outcome(path)
    if message is not None:
        assert _NAMES_A_FEATURE.match(message), message


def test_accepted_count():
    accepted = [path for path in FILES if _outcome(path) is None]
    assert len(accepted) == ACCEPTED, [str(p.relative_to(CORPUS)) for p in accepted]
