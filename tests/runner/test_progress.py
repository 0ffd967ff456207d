"""The progress line: jobs and the steps inside them on one line, log lines kept apart."""

from __future__ import annotations

import io
import logging
import re

from bidsglm.runner._progress import Progress


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
