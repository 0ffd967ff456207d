"""The progress line: jobs and the steps inside them, one line, apart from log lines."""

from __future__ import annotations

import io
import logging
import re
from typing import TYPE_CHECKING

import pytest

from bidsglm.cli import run
from bidsglm.cli.parser import parse_args
from bidsglm.runner._progress import Progress

if TYPE_CHECKING:
    from pathlib import Path

    from ._fake_bids import FakeDataset

CONTRAST = ('--contrast', 'incMinusCon=incongruent - congruent')


def _last_line(text: str) -> str:
    """The progress line as a terminal shows it last: after the last carriage return."""
    return text.rstrip('\n').split('\r')[-1].replace('\x1b[K', '')


def test_steps_of_several_jobs_add_up_against_the_expected_total():
    stream = io.StringIO()
    with Progress(3, 'subjects', True, stream, expected={'runs': 6}) as progress:
        progress.step('sub-01', 'runs', 1, 2)
        progress.step('sub-02', 'runs', 2, 2)
        progress.step('sub-01', 'runs', 2, 2)  # a job's later count replaces its earlier
        progress.advance(2)
    assert re.fullmatch(
        r'subjects \[#{16} {8}\] 2/3 · runs 4/6 \d+s', _last_line(stream.getvalue())
    )


def test_kinds_without_an_expected_total_count_what_the_jobs_announced():
    progress = Progress(2, 'contrasts')
    progress.step('a', 'maps', 3, 10)
    progress.step('b', 'maps', 10, 10)
    progress.step('b', 'blocks', 4, 8)
    assert progress.steps_text() == ' · maps 13/20 · blocks 4/8'


def test_a_disabled_line_draws_nothing():
    stream = io.StringIO()
    with Progress(1, 'subjects', False, stream) as progress:
        progress.step('sub-01', 'runs', 1, 1)
        progress.advance()
    assert stream.getvalue() == ''


def test_log_lines_are_written_apart_from_the_line_which_is_drawn_again_below():
    stream = io.StringIO()
    logger = logging.getLogger('bidsglm')
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter('LOG %(message)s'))
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with Progress(2, 'subjects', True, stream) as progress:
            logger.info('hello')
            progress.advance()
        logger.info('after')  # the line is gone: nothing is cleared or drawn any more
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    text = stream.getvalue()
    assert '\r\x1b[KLOG hello\n\rsubjects [' in text  # cleared, logged, drawn again
    assert text.endswith('\nLOG after\n')
    assert len(logger.handlers) == len([h for h in logger.handlers if h is not handler])


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
