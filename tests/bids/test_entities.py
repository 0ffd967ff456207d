from __future__ import annotations

import pytest

from bidsglm.bids.entities import (
    ENTITY_ORDER,
    check_name_length,
    format_bids_name,
    normalize_prefix,
    parse_bids_entities,
    parse_bids_name,
    validate_label,
)
from bidsglm.errors import BidsNameError


def test_entity_order_puts_contrast_and_stat_before_desc():
    assert ENTITY_ORDER[-3:] == ('contrast', 'stat', 'desc')
    assert ENTITY_ORDER.index('run') < ENTITY_ORDER.index('space')


def test_hemi_sits_between_part_and_space_as_in_the_bids_entity_table():
    entities = {'den': '10k', 'space': 'fsaverage', 'hemi': 'L', 'run': '1', 'sub': '01'}
    name = format_bids_name({**entities, 'stat': 'z'}, 'statmap', '.func.gii')
    assert name == 'sub-01_run-1_hemi-L_space-fsaverage_den-10k_stat-z_statmap.func.gii'
    order = [ENTITY_ORDER.index(key) for key in ('part', 'hemi', 'space', 'res', 'den')]
    assert order == sorted(order)


def test_format_bids_name_orders_entities_whatever_the_mapping_order():
    entities = {'desc': 'smooth', 'stat': 'z', 'space': 'MNI', 'contrast': 'aMinusB', 'sub': '01'}
    name = format_bids_name(entities, 'statmap', '.nii.gz')
    assert name == 'sub-01_space-MNI_contrast-aMinusB_stat-z_desc-smooth_statmap.nii.gz'


def test_format_and_parse_round_trip():
    entities = {'sub': '01', 'ses': '2', 'task': 'nback', 'run': '3', 'contrast': 'a', 'stat': 'F'}
    name = format_bids_name(entities, 'statmap', '.json')
    parsed = parse_bids_name(name)
    assert parsed.entities == entities
    assert (parsed.suffix, parsed.extension, parsed.others) == ('statmap', '.json', ())


def test_format_bids_name_puts_the_prefix_first_with_one_underscore():
    assert format_bids_name({'run': '1'}, 'design', '.tsv', 'pre_') == 'pre_run-1_design.tsv'
    assert format_bids_name({}, 'statmap', '.json', 'pre') == 'pre_statmap.json'


@pytest.mark.parametrize(
    ('entities', 'suffix', 'extension', 'match'),
    [
        ({'chunk': '1'}, 'statmap', '.nii.gz', 'Unknown BIDS entities'),
        ({'run': 'a'}, 'design', '.tsv', "'run' entity must be a BIDS index"),
        ({'contrast': 'a_b'}, 'statmap', '.nii.gz', "'contrast' entity must be a BIDS label"),
        ({'contrast': 'a/b'}, 'statmap', '.nii.gz', "'contrast' entity"),
        ({'contrast': ''}, 'statmap', '.nii.gz', "'contrast' entity"),
        ({}, 'stat_map', '.nii.gz', 'suffix'),
        ({}, 'statmap', 'nii', 'extension'),
    ],
)
def test_format_bids_name_rejects_bad_parts(entities, suffix, extension, match):
    with pytest.raises(BidsNameError, match=match):
        format_bids_name(entities, suffix, extension)


def test_parse_bids_entities_reads_only_the_file_name():
    path = 'derivatives/sub-99/func/sub-01_task-x_desc-preproc_bold.nii.gz'
    assert parse_bids_entities(path) == {'sub': '01', 'task': 'x', 'desc': 'preproc'}


def test_parse_bids_name_keeps_free_parts_and_never_fails():
    parsed = parse_bids_name('nonbids_name.nii.gz')
    assert (parsed.entities, parsed.suffix, parsed.others) == ({}, 'name', ('nonbids',))
    assert parse_bids_name('sub-01_task-x.nii').suffix == ''


@pytest.mark.parametrize('prefix', ['../up', 'a/b', 'a\\b', '/abs', 'sub-01..', 'é', 'a b'])
def test_normalize_prefix_rejects_anything_that_could_leave_the_folder(prefix):
    with pytest.raises(BidsNameError, match='cannot name files inside the output folder'):
        normalize_prefix(prefix)


@pytest.mark.parametrize(
    ('prefix', 'expected'), [(None, ''), ('', ''), ('x', 'x_'), ('x__', 'x_'), ('a-b_c', 'a-b_c_')]
)
def test_normalize_prefix_ends_with_one_underscore(prefix, expected):
    assert normalize_prefix(prefix) == expected


def test_validate_label_accepts_plus_but_not_other_punctuation():
    assert validate_label('a+b', 'acq') == 'a+b'
    assert validate_label('007', 'run') == '007'
    with pytest.raises(BidsNameError):
        validate_label('1.5', 'run')


def test_check_name_length_counts_a_label_that_is_also_the_desc_twice():
    entities = {'task': 'x', 'contrast': 'a' * 120, 'stat': 'variance', 'desc': 'a' * 120}
    name = format_bids_name(entities, 'statmap', '.nii.gz')
    with pytest.raises(BidsNameError, match='label has at most 102 characters'):
        check_name_length(name)
    shorter = name.replace('a' * 120, 'a' * 102)
    assert len(shorter) == 255
    assert check_name_length(shorter) == shorter


def test_check_name_length_takes_255_bytes_and_refuses_256():
    name = format_bids_name({'sub': '01', 'contrast': 'a' * 226}, 'statmap', '.json')
    assert len(name) == 255
    assert check_name_length(name) == name
    longer = name.replace('contrast-a', 'contrast-aa')
    with pytest.raises(BidsNameError, match=r'256 bytes long.*label has at most 226 characters'):
        check_name_length(longer)
