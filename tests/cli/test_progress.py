"""The command line draws the runs and group steps of its jobs on the progress line."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from bidsglm.cli import run
from bidsglm.cli.parser import parse_args

if TYPE_CHECKING:
    from pathlib import Path

    from ._fake_bids import FakeDataset

CONTRAST = ('--contrast', 'incMinusCon=incongruent - congruent')


def _last_line(text: str) -> str:
    """The progress line as a terminal shows it last: after the last carriage return."""
    return text.rstrip('\n').split('\r')[-1].replace('\x1b[K', '')


def _participant(ds: FakeDataset, out: Path, *extra: str) -> None:
    argv = [str(ds.bids_dir), str(out), 'participant', *CONTRAST, *extra]
    assert run.run(parse_args(argv), show_progress=True) == 0


@pytest.mark.parametrize('n_jobs', ['1', '2'])
def test_participant_runs_show_each_fitted_run(fake_dataset, tmp_path, capsys, n_jobs):
    _participant(fake_dataset, tmp_path / 'out', '--n-jobs', n_jobs)
    err = capsys.readouterr().err
    assert re.search(r'subjects \[#{24}\] 3/3 · runs 6/6 \d+s', _last_line(err))
    drawn = [_last_line(part) for part in err.split('\r') if part.startswith('subjects')]
    runs = [int(m.group(1)) for line in drawn if (m := re.search(r'runs (\d)/6', line))]
    assert runs == sorted(runs)  # counted up as runs ended, never back
    assert len(set(runs)) >= 2  # not only the final count


def test_group_shows_maps_read_and_blocks_fitted(fake_dataset, tmp_path, capsys):
    out = tmp_path / 'out'
    _participant(fake_dataset, out, '-q')
    argv = [str(fake_dataset.bids_dir), str(out), 'group']
    capsys.readouterr()
    assert run.run(parse_args(argv), show_progress=True) == 0
    line = _last_line(capsys.readouterr().err)
    assert re.fullmatch(r'contrasts \[#{24}\] 1/1 · maps 3/3 · blocks 1/1 \d+s', line)
