"""Tests of bidsglm.design.events: reading and checking events tables."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level.experimental_paradigm import (
    check_events as nilearn_check_events,
)
from nilearn.glm.first_level.experimental_paradigm import (
    handle_modulation_of_duplicate_events,
)

from bidsglm.design import check_events
from bidsglm.design.events import EVENT_COLUMNS
from bidsglm.errors import EventsError, InputNotFoundError, InvalidParameterError


def _events(**columns: object) -> pd.DataFrame:
    base: dict[str, object] = {
        'onset': [0.0, 10.0, 20.0],
        'duration': [5.0, 5.0, 5.0],
        'trial_type': ['a', 'b', 'a'],
    }
    base.update(columns)
    return pd.DataFrame({name: value for name, value in base.items() if value is not None})


def test_check_events_returns_the_four_columns_as_floats() -> None:
    checked = check_events(_events(onset=[0, 10, 20], duration=[5, 5, 5]))
    assert list(checked.columns) == list(EVENT_COLUMNS)
    assert checked['onset'].tolist() == [0.0, 10.0, 20.0]
    assert checked['onset'].dtype == np.float64
    assert checked['duration'].dtype == np.float64
    assert checked['modulation'].tolist() == [1.0, 1.0, 1.0]
    assert checked.index.tolist() == [0, 1, 2]


def test_check_events_keeps_the_given_modulation() -> None:
    checked = check_events(_events(modulation=[2.0, -1.0, 0.5]))
    assert checked['modulation'].tolist() == [2.0, -1.0, 0.5]


def test_check_events_does_not_modify_its_input() -> None:
    table = _events()
    check_events(table)
    assert list(table.columns) == ['onset', 'duration', 'trial_type']


def test_check_events_casts_numeric_text() -> None:
    checked = check_events(_events(onset=['0', '1.5', '3']))
    assert checked['onset'].tolist() == [0.0, 1.5, 3.0]


@pytest.mark.parametrize(('suffix', 'sep'), [('.tsv', '\t'), ('.csv', ',')])
def test_check_events_reads_a_file(tmp_path, suffix, sep) -> None:
    path = tmp_path / f'events{suffix}'
    _events().to_csv(path, sep=sep, index=False)
    for given in (path, str(path)):
        checked = check_events(given)
        assert checked['trial_type'].tolist() == ['a', 'b', 'a']
        assert checked['duration'].tolist() == [5.0, 5.0, 5.0]


def test_check_events_reads_bids_na_as_missing(tmp_path) -> None:
    path = tmp_path / 'sub-01_events.tsv'
    path.write_text('onset\tduration\ttrial_type\n0\t5\ta\n10\tn/a\tb\n')
    with pytest.raises(EventsError, match=r"'duration'.*missing.*rows \[1\]"):
        check_events(path)


def test_check_events_missing_file_is_input_not_found(tmp_path) -> None:
    with pytest.raises(InputNotFoundError, match='does not exist') as caught:
        check_events(tmp_path / 'nothing_events.tsv')
    assert isinstance(caught.value, FileNotFoundError)


def test_check_events_unknown_file_type_lists_the_readable_ones(tmp_path) -> None:
    path = tmp_path / 'events.json'
    path.write_text('{}')
    with pytest.raises(InvalidParameterError, match=r"\['\.csv', '\.tsv'\]"):
        check_events(path)


def test_check_events_refuses_other_types() -> None:
    with pytest.raises(InvalidParameterError, match=r"'events' parameter.*Got list"):
        check_events([[0, 1]])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"'events' parameter.*Got int"):
        check_events(3)  # type: ignore[arg-type]


@pytest.mark.parametrize('column', ['onset', 'duration'])
def test_check_events_missing_required_column_lists_present_ones(column) -> None:
    table = _events().drop(columns=column)
    with pytest.raises(EventsError, match=f"no '{column}' column") as caught:
        check_events(table)
    present = [name for name in ('onset', 'duration', 'trial_type') if name != column]
    assert str(present) in str(caught.value)


def test_check_events_nan_duration_names_the_rows() -> None:
    with pytest.raises(EventsError, match=r"'duration'.*missing.*rows \[0, 2\]"):
        check_events(_events(duration=[np.nan, 5.0, np.nan]))


def test_check_events_nan_onset_names_the_rows() -> None:
    with pytest.raises(EventsError, match=r"'onset'.*missing.*rows \[1\]"):
        check_events(_events(onset=[0.0, np.nan, 3.0]))


def test_check_events_negative_duration_names_the_rows() -> None:
    with pytest.raises(EventsError, match=r'negative.*rows \[1\].*>= 0'):
        check_events(_events(duration=[5.0, -1.0, 5.0]))


def test_check_events_text_onset_is_refused() -> None:
    with pytest.raises(EventsError, match=r"'onset'.*not a number.*rows \[2\]"):
        check_events(_events(onset=['0', '1', 'soon']))


@pytest.mark.parametrize('column', ['onset', 'duration', 'modulation'])
def test_check_events_text_for_numbers_is_also_a_type_error(column) -> None:
    with pytest.raises(TypeError, match=rf"'{column}'.*not a number.*rows \[1\]"):
        check_events(_events(**{column: [1.0, 'high', 2.0]}))


def test_check_events_missing_values_are_not_a_type_error() -> None:
    with pytest.raises(EventsError) as caught:
        check_events(_events(onset=[0.0, np.nan, 3.0]))
    assert not isinstance(caught.value, TypeError)


def test_check_events_infinite_onset_is_refused() -> None:
    with pytest.raises(EventsError, match=r"'onset'.*infinite.*rows \[0\]"):
        check_events(_events(onset=[np.inf, 1.0, 2.0]))


def test_check_events_integer_columns_become_float_seconds() -> None:
    checked = check_events(_events(onset=[0, 4, 8], duration=[2, 2, 2], modulation=[1, 2, 3]))
    assert checked[['onset', 'duration', 'modulation']].dtypes.tolist() == [np.float64] * 3
    assert checked['onset'].tolist() == [0.0, 4.0, 8.0]
    assert checked['modulation'].tolist() == [1.0, 2.0, 3.0]


def test_check_events_negative_infinite_duration_is_refused() -> None:
    with pytest.raises(EventsError, match=r"'duration'.*infinite.*rows \[1\]"):
        check_events(_events(duration=[1.0, -np.inf, 1.0]))


def test_check_events_nan_modulation_is_refused() -> None:
    with pytest.raises(EventsError, match=r"'modulation'.*missing.*rows \[2\]"):
        check_events(_events(modulation=[1.0, 1.0, np.nan]))


def test_check_events_long_row_lists_are_abbreviated() -> None:
    table = pd.DataFrame({'onset': np.arange(15.0), 'duration': -np.ones(15)})
    with pytest.raises(EventsError, match=r'rows \[0, 1, .*, 9 and 5 more\]'):
        check_events(table)


def test_check_events_missing_trial_type_becomes_dummy() -> None:
    with pytest.warns(UserWarning, match="no 'trial_type' column.*'dummy'"):
        checked = check_events(_events(trial_type=None))
    assert checked['trial_type'].tolist() == ['dummy', 'dummy', 'dummy']


def test_check_events_missing_trial_type_values_are_dropped() -> None:
    with pytest.warns(UserWarning, match=r"missing 'trial_type' at rows \[1\]"):
        checked = check_events(_events(trial_type=['a', None, 'a']))
    assert checked['onset'].tolist() == [0.0, 20.0]


def test_check_events_duplicates_are_merged_with_summed_modulation() -> None:
    table = _events(
        onset=[0.0, 0.0, 10.0, 0.0],
        duration=[5.0, 5.0, 5.0, 5.0],
        trial_type=['a', 'a', 'a', 'b'],
        modulation=[1.0, 2.5, 1.0, 4.0],
    )
    with pytest.warns(UserWarning, match='1 events repeat.*sum'):
        checked = check_events(table)
    assert checked['trial_type'].tolist() == ['a', 'a', 'b']
    assert checked['onset'].tolist() == [0.0, 10.0, 0.0]
    assert checked['modulation'].tolist() == [3.5, 1.0, 4.0]


def test_check_events_zero_duration_warns_per_condition() -> None:
    with pytest.warns(UserWarning, match=r"duration 0.*\['a'\]"):
        checked = check_events(_events(duration=[0.0, 5.0, 0.0]))
    assert checked['duration'].tolist() == [0.0, 5.0, 0.0]


def test_check_events_drops_other_columns_quietly() -> None:
    # BIDS events files routinely carry response_time, stim_file, ...: no warning.
    table = _events(response_time=[0.4, 0.5, 0.6], stim_file=['x', 'y', 'z'])
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        checked = check_events(table)
    assert list(checked.columns) == list(EVENT_COLUMNS)


@pytest.mark.oracle
def test_check_events_matches_nilearn_on_duplicates() -> None:
    table = pd.DataFrame(
        {
            'onset': [0.0, 0.0, 10.0, 30.0, 10.0, 0.0],
            'duration': [5.0, 5.0, 2.0, 5.0, 2.0, 5.0],
            'trial_type': ['b', 'b', 'a', 'a', 'a', 'a'],
            'modulation': [1.0, 0.5, 2.0, 1.0, -3.0, 1.5],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        expected = handle_modulation_of_duplicate_events(nilearn_check_events(table))
    with pytest.warns(UserWarning, match='2 events repeat'):
        checked = check_events(table)
    pd.testing.assert_frame_equal(
        checked, expected[list(EVENT_COLUMNS)].astype({'modulation': float})
    )
