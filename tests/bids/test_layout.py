from __future__ import annotations

import pytest

from bidsglm.bids.layout import check_output_names, plan_layout
from bidsglm.errors import BidsNameError, InvalidParameterError

RUNS = [
    'in/sub-01_task-x_run-1_space-MNI_desc-preproc_bold.nii.gz',
    'in/sub-01_task-x_run-2_space-MNI_desc-preproc_bold.nii.gz',
]


def test_plan_layout_infers_run_entities_and_common_entities_from_bids_inputs():
    layout = plan_layout('first', RUNS, None)
    assert layout.common == {'sub': '01', 'task': 'x', 'space': 'MNI'}
    assert layout.runs[1] == {'sub': '01', 'task': 'x', 'run': '2', 'space': 'MNI'}
    assert str(layout.run_path(0, {'stat': 'errorts'}, 'statmap', '.nii.gz')) == (
        'sub-01/func/sub-01_task-x_run-1_space-MNI_stat-errorts_statmap.nii.gz'
    )
    assert str(layout.model_path({'contrast': 'a', 'stat': 't'}, 'statmap', '.nii.gz')) == (
        'sub-01/func/sub-01_task-x_space-MNI_contrast-a_stat-t_statmap.nii.gz'
    )
    assert str(layout.statmap_path()) == 'sub-01/sub-01_task-x_space-MNI_statmap.json'


def test_plan_layout_puts_each_run_in_its_session_folder():
    runs = [r.replace('run-', 'ses-1_run-') for r in RUNS[:1]] + [
        RUNS[1].replace('run-', 'ses-2_run-')
    ]
    layout = plan_layout('first', runs, None)
    assert 'ses' not in layout.common
    assert str(layout.run_path(1, {}, 'design', '.tsv')).startswith('sub-01/ses-2/func/')
    assert str(layout.statmap_path()) == 'sub-01/sub-01_task-x_space-MNI_statmap.json'


def test_plan_layout_puts_a_common_session_in_the_statmap_folder():
    runs = [r.replace('task-', 'ses-1_task-') for r in RUNS]
    assert str(plan_layout('first', runs, None).statmap_path()).startswith('sub-01/ses-1/sub-01')


def test_plan_layout_numbers_runs_without_names():
    layout = plan_layout('first', [None, None], None)
    assert (layout.common, layout.runs) == ({}, ({'run': '1'}, {'run': '2'}))
    assert str(layout.statmap_path()) == 'statmap.json'
    assert plan_layout('first', [None], None).runs == ({},)


def test_plan_layout_numbers_runs_whose_names_do_not_tell_them_apart():
    layout = plan_layout('first', ['a/sub-01_task-x_bold.nii', 'b/sub-01_task-x_bold.nii'], None)
    assert layout.runs == (
        {'sub': '01', 'task': 'x', 'run': '1'},
        {'sub': '01', 'task': 'x', 'run': '2'},
    )


def test_plan_layout_uses_the_subject_label_when_nothing_else_names_the_subject():
    layout = plan_layout('first', [None], None, subject_label='sub-07')
    assert layout.common == {'sub': '07'}
    with pytest.raises(BidsNameError, match='subject_label'):
        plan_layout('first', [None], None, subject_label='07_a')


def test_plan_layout_skips_invalid_labels_of_inputs():
    layout = plan_layout('first', ['sub-01_task-x_run-one_bold.nii.gz'], None)
    assert layout.common == {'sub': '01', 'task': 'x'}


def test_plan_layout_of_a_group_keeps_shared_entities_and_the_first_level_contrast():
    maps = [
        f'sub-0{i}_task-x_space-MNI_contrast-aMinusB_stat-effect_statmap.nii.gz' for i in (1, 2)
    ]
    layout = plan_layout('second', maps, None)
    assert layout.common == {'task': 'x', 'space': 'MNI', 'desc': 'aMinusB'}
    assert str(
        layout.model_path({'contrast': 'intercept', 'stat': 't'}, 'statmap', '.nii.gz')
    ) == ('task-x_space-MNI_contrast-intercept_stat-t_desc-aMinusB_statmap.nii.gz')
    assert plan_layout('second', [maps[0], None], None).common == {}


def test_plan_layout_reads_a_bids_prefix_as_entities():
    layout = plan_layout('first', RUNS, 'sub-02_ses-a_task-y_', n_designs=2)
    assert layout.prefix == ''
    assert layout.common == {'sub': '02', 'ses': 'a', 'task': 'y'}
    assert layout.runs[0] == {'sub': '02', 'ses': 'a', 'task': 'y', 'run': '1'}


def test_plan_layout_keeps_a_free_prefix_as_text_and_stays_flat():
    layout = plan_layout('first', RUNS, 'myprefix')
    assert (layout.prefix, layout.common) == ('myprefix_', {})
    assert str(layout.run_path(0, {}, 'design', '.tsv')) == 'myprefix_run-1_design.tsv'
    assert plan_layout('first', RUNS, '').runs == ({'run': '1'}, {'run': '2'})


@pytest.mark.parametrize(
    ('prefix', 'error', 'match'),
    [
        ('sub-01_run-1', BidsNameError, "\\['run'\\]"),
        ('sub-01_contrast-a', BidsNameError, "\\['contrast'\\]"),
        ('../x', BidsNameError, 'output folder'),
        ('sub-01/func', BidsNameError, 'output folder'),
        (3, InvalidParameterError, "'prefix' parameter"),
    ],
)
def test_plan_layout_refuses_bad_prefixes(prefix, error, match):
    with pytest.raises(error, match=match):
        plan_layout('first', RUNS, prefix)


def test_check_output_names_accepts_255_bytes_and_names_the_label_beyond():
    folder, stem = 'sub-01/func/', 'sub-01_task-x_contrast-'
    tail = '_stat-variance_statmap.nii.gz'
    room = 255 - len(stem) - len(tail)
    check_output_names([f'{folder}{stem}{"a" * room}{tail}'])
    with pytest.raises(BidsNameError, match=rf'256 bytes long.*at most {room} characters'):
        check_output_names(['design.tsv', f'{folder}{stem}{"a" * (room + 1)}{tail}'])


def test_check_output_names_blames_the_prefix_when_the_label_is_not_enough():
    with pytest.raises(BidsNameError, match='prefix and entities alone') as caught:
        check_output_names([f'{"p" * 250}_contrast-ab_stat-t_statmap.nii.gz'])
    assert 'a shorter contrast name' in str(caught.value)
    with pytest.raises(BidsNameError, match='give a shorter prefix \\(without'):
        check_output_names([f'{"p" * 250}_statmap.json'])


def test_check_output_names_counts_bytes_not_characters():
    with pytest.raises(BidsNameError, match='256 bytes'):
        check_output_names(['\u00e9' * 128])


def test_check_output_names_reports_the_longest_name_so_the_advice_fits_all():
    names = [f'contrast-{"a" * 250}_stat-{stat}_statmap.nii.gz' for stat in ('F', 'variance')]
    with pytest.raises(BidsNameError, match=r'variance_statmap.*at most 217 characters'):
        check_output_names(names)
    check_output_names([name.replace('a' * 250, 'a' * 217) for name in names])
