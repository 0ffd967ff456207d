"""Planning refuses bad input before any fit: exit 2, nothing written, the file named.

End to end through main([...]) on the small fMRIPrep-style dataset, one test per
kind of bad input (bidsglm.cli._checks).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm.cli import main

from ._fake_bids import SPACE, FakeDataset

CONTRAST = 'incMinusCon=incongruent - congruent'
ENTITIES = f'task-stroop_space-{SPACE}'


def _main(ds: FakeDataset, out: Path, level: str, *extra: str) -> int:
    return main([str(ds.bids_dir), str(out), level, *extra])


def _tree(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob('*') if p.is_file()}


def _data(path: Path) -> np.ndarray:
    return np.asanyarray(nib.load(path).dataobj)


# ------------------------------------------------------------------ contrast names
def _rename_trial_type(ds: FakeDataset) -> None:
    for events in (ds.bids_dir / 'sub-01' / 'func').glob('*_events.tsv'):
        events.write_text(events.read_text().replace('incongruent', 'café'))


ON_THE_COMMAND_LINE = "the name is before '=' in --contrast NAME=EXPRESSION"


@pytest.mark.parametrize(
    ('change', 'contrasts', 'messages'),
    [
        (
            None,
            ['café=incongruent - congruent'],
            [
                "The contrast name 'café' cannot become a BIDS label: it holds 'é'",
                ON_THE_COMMAND_LINE,
            ],
        ),
        (
            None,
            ['../x=incongruent - congruent'],
            [
                "The contrast name '../x' cannot become a BIDS label: it holds '.'",
                ON_THE_COMMAND_LINE,
            ],
        ),
        (
            None,
            [f'{"a" * 300}=incongruent - congruent'],
            [
                f"Cannot save the contrast '{'a' * 32}...{'a' * 13}': The file name",
                '(300 characters) makes it too long: rename the contrast so that its label '
                'has at most 172 characters',
                ON_THE_COMMAND_LINE,
            ],
        ),
        (
            None,
            ['AvsB=incongruent - congruent', 'avsb=congruent - incongruent'],
            ["Contrast names collide: 'AvsB' and 'avsb' give 'AvsB', 'avsb'", ON_THE_COMMAND_LINE],
        ),
        (
            None,
            ['x=incongruent', 'x=congruent'],
            ["The contrast name 'x' is given twice", ON_THE_COMMAND_LINE],
        ),
        (
            _rename_trial_type,
            [],
            ["'café' cannot become a BIDS label", "named after the events' trial_type values"],
        ),
    ],
)
def test_bad_contrast_names_exit_2_before_any_fit(
    fake_dataset, tmp_path, capsys, change, contrasts, messages
):
    if change is not None:
        change(fake_dataset)
    options = [option for contrast in contrasts for option in ('--contrast', contrast)]
    out = tmp_path / 'out'
    assert _main(fake_dataset, out, 'participant', *options) == 2
    err = capsys.readouterr().err
    assert [message for message in messages if message not in err] == []
    assert not out.exists()


def test_a_contrast_label_at_the_longest_allowed_length_is_saved(fake_dataset, tmp_path):
    name = 'a' * 172
    out = tmp_path / 'out'
    options = ('--participant-label', '01', '--contrast', f'{name}=incongruent - congruent')
    assert _main(fake_dataset, out, 'participant', *options) == 0
    longest = max(_tree(out), key=lambda path: len(Path(path).name))
    assert len(Path(longest).name) == 255
    assert f'contrast-{name}_stat-variance' in longest


# ------------------------------------------------------------------ damaged inputs
RUN_2 = f'sub-02_task-stroop_run-2_space-{SPACE}_desc-preproc_bold.nii.gz'
MASK_2 = f'sub-02_task-stroop_run-2_space-{SPACE}_desc-brain_mask.nii.gz'
CONFOUNDS_1 = 'sub-02_task-stroop_run-1_desc-confounds_timeseries.tsv'
EVENTS_2 = 'sub-02_task-stroop_run-2_events.tsv'
FIT_THE_OTHERS = 'To fit the others without sub-02, list them with --participant-label.'


def _func(ds: FakeDataset) -> Path:
    return ds.fmriprep / 'sub-02' / 'func'


def _cut(name: str, keep: float):
    def change(ds: FakeDataset) -> None:
        path = _func(ds) / name
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    return change


def _cut_header(ds: FakeDataset) -> None:
    path = _func(ds) / RUN_2
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:100]))


def _keep_volumes(n_volumes: int, confounds: bool = False):
    def change(ds: FakeDataset) -> None:
        path = _func(ds) / RUN_2
        image = nib.load(path)
        data = np.asanyarray(image.dataobj)[..., :n_volumes]
        nib.save(nib.Nifti1Image(data, image.affine, image.header), path)
        if confounds:
            table = _func(ds) / CONFOUNDS_1.replace('run-1', 'run-2')
            pd.read_csv(table, sep='\t').head(n_volumes).to_csv(
                table, sep='\t', index=False, na_rep='n/a'
            )

    return change


def _one_volume_3d(ds: FakeDataset) -> None:
    path = _func(ds) / RUN_2
    image = nib.load(path)
    nib.save(nib.Nifti1Image(np.asanyarray(image.dataobj)[..., 0], image.affine), path)


def _mask_on_another_grid(ds: FakeDataset) -> None:
    mask = np.ones((6, 7, 9), dtype=np.uint8)
    nib.save(nib.Nifti1Image(mask, np.diag([3.0, 3.0, 3.0, 1.0])), _func(ds) / MASK_2)


def _change_events(change):
    def write(ds: FakeDataset) -> None:
        path = ds.bids_dir / 'sub-02' / 'func' / EVENTS_2
        table = pd.read_csv(path, sep='\t')
        change(table).to_csv(path, sep='\t', index=False)

    return write


def _without_congruent(table: pd.DataFrame) -> pd.DataFrame:
    return table[table['trial_type'] != 'congruent']


def _congruent_after_the_run(table: pd.DataFrame) -> pd.DataFrame:
    table.loc[table['trial_type'] == 'congruent', 'onset'] += 100.0
    return table


def _text_onset(table: pd.DataFrame) -> pd.DataFrame:
    table['onset'] = table['onset'].astype(object)
    table.loc[2, 'onset'] = 'soon'
    return table


def _text_in_confounds(ds: FakeDataset) -> None:
    path = _func(ds) / CONFOUNDS_1
    table = pd.read_csv(path, sep='\t')
    table['trans_x'] = table['trans_x'].astype(object)
    table.loc[4, 'trans_x'] = 'oops'
    table.to_csv(path, sep='\t', index=False, na_rep='n/a')


def _empty_confounds(ds: FakeDataset) -> None:
    (_func(ds) / CONFOUNDS_1).write_text('\n')


@pytest.mark.parametrize(
    ('change', 'options', 'messages'),
    [
        (
            _empty_confounds,
            ['--confounds', 'trans_x'],
            [f"{CONFOUNDS_1}' is empty: a BIDS table starts with a row of column names."],
        ),
        (_cut(RUN_2, 0.5), [], [f"{RUN_2}' is truncated: Compressed file ended", FIT_THE_OTHERS]),
        (_cut(RUN_2, 0.0), [], [f"{RUN_2}' is empty (0 bytes)", FIT_THE_OTHERS]),
        (_cut_header, [], ['Cannot read the NIfTI header of', RUN_2, FIT_THE_OTHERS]),
        (_cut(MASK_2, 0.7), [], [f"{MASK_2}': the file is cut short", FIT_THE_OTHERS]),
        (_one_volume_3d, [], [f"{RUN_2}' has shape (6, 7, 8): a run must be 4D"]),
        (
            _mask_on_another_grid,
            [],
            [f"{MASK_2}' has shape (6, 7, 9) and affine [[3.0, 0.0, 0.0, 0.0], ", FIT_THE_OTHERS],
        ),
        (
            _keep_volumes(3),
            [],
            [
                f'The run {RUN_2} has 3 volumes but its design has 3 columns '
                "['congruent', 'incongruent', 'constant']: a GLM needs more volumes than "
                'columns.',
                FIT_THE_OTHERS,
            ],
        ),
        (
            _keep_volumes(8, confounds=True),
            ['--confounds', 'trans_*', 'rot_*'],
            [f'The run {RUN_2} has 8 volumes but its design has 9 columns', FIT_THE_OTHERS],
        ),
        (
            _keep_volumes(8),
            ['--confounds', 'trans_*'],
            [f"{CONFOUNDS_1.replace('run-1', 'run-2')}' has 30 rows but its run has 8 volumes"],
        ),
        (
            _change_events(_without_congruent),
            ['--contrast', CONTRAST],
            [
                f"Condition 'congruent' has no events in run 2 of sub-02 ({EVENTS_2}), so the "
                "contrast 'incMinusCon = incongruent - congruent', which weights it, cannot be "
                'estimated there. Leave it out of the contrast, or add its events to that run.',
                FIT_THE_OTHERS,
            ],
        ),
        (
            _change_events(_without_congruent),
            [],
            ["Condition 'congruent' has no events in run 2 of sub-02", "contrast 'congruent',"],
        ),
        (
            _change_events(_congruent_after_the_run),
            ['--contrast', CONTRAST],
            ["Condition 'congruent' has no events within the 60 s of run 2 of sub-02"],
        ),
        (
            _change_events(_text_onset),
            [],
            [f"{EVENTS_2}': The 'onset' column of the events holds text", 'In the events file'],
        ),
        (
            _text_in_confounds,
            ['--confounds', 'trans_x'],
            [
                f"{CONFOUNDS_1}': column 'trans_x' holds text that is not a number at rows [4] "
                "(index labels; for a file, 0-based data rows), such as 'oops'; confounds must "
                'be numbers.',
                FIT_THE_OTHERS,
            ],
        ),
    ],
)
def test_damaged_inputs_exit_2_before_any_fit_naming_the_file(
    fake_dataset, tmp_path, capsys, change, options, messages
):
    change(fake_dataset)
    out = tmp_path / 'out'
    assert _main(fake_dataset, out, 'participant', *options) == 2
    err = capsys.readouterr().err
    assert [message for message in messages if message not in err] == []
    assert not out.exists()


def test_a_condition_absent_from_one_run_leaves_the_other_contrasts_fitted(fake_dataset, tmp_path):
    _change_events(_without_congruent)(fake_dataset)
    out = tmp_path / 'out'
    options = ('--participant-label', '02', '--contrast', 'inc=incongruent')
    assert _main(fake_dataset, out, 'participant', *options) == 0
    design = out / 'sub-02' / 'func' / f'sub-02_task-stroop_run-2_space-{SPACE}_design.tsv'
    assert 'congruent' not in pd.read_csv(design, sep='\t').columns


# ------------------------------------------------------------------ group level
def _two_subjects(ds: FakeDataset, out: Path, *contrasts: str) -> Path:
    """Fit sub-01 and sub-02; return sub-01's func folder."""
    options = [option for contrast in contrasts for option in ('--contrast', contrast)]
    assert _main(ds, out, 'participant', '--participant-label', '01', '02', *options) == 0
    return out / 'sub-01' / 'func'


def _group_refused(ds: FakeDataset, out: Path, capsys) -> str:
    """Run the group level, check it exits 2 and writes nothing; return its messages."""
    before = _tree(out)
    capsys.readouterr()
    assert _main(ds, out, 'group') == 2
    assert _tree(out) == before
    return capsys.readouterr().err


def test_group_of_one_subject_exits_2_before_any_fit(fake_dataset, tmp_path, capsys):
    out = tmp_path / 'out'
    assert (
        _main(
            fake_dataset, out, 'participant', '--contrast', CONTRAST, '--participant-label', '01'
        )
        == 0
    )
    err = _group_refused(fake_dataset, out, capsys)
    assert (
        'a group model needs at least 2 input maps, but only sub-01 saved the contrast '
        "'incMinusCon'. Run the participant level for more subjects" in err
    )


def test_group_with_a_missing_effect_map_names_the_subject_and_file(
    fake_dataset, tmp_path, capsys
):
    out = tmp_path / 'out'
    func = _two_subjects(fake_dataset, out, CONTRAST)
    effect = func / f'sub-01_{ENTITIES}_contrast-incMinusCon_stat-effect_statmap.nii.gz'
    effect.unlink()
    err = _group_refused(fake_dataset, out, capsys)
    assert (
        "The first-level results of sub-01 lack the effect map of the contrast 'incMinusCon': "
        f"'{effect}' is missing. Fit sub-01 again (participant --participant-label 01 "
        '--overwrite' in err
    )


def test_group_of_maps_on_different_grids_names_both(fake_dataset, tmp_path, capsys):
    out = tmp_path / 'out'
    func = _two_subjects(fake_dataset, out, CONTRAST)
    effect = func / f'sub-01_{ENTITIES}_contrast-incMinusCon_stat-effect_statmap.nii.gz'
    nib.save(nib.Nifti1Image(np.zeros((6, 7, 9)), np.diag([2.0, 2.0, 2.0, 1.0])), effect)
    err = _group_refused(fake_dataset, out, capsys)
    other = str(effect).replace('sub-01', 'sub-02')
    assert 'The images are not on one voxel grid: ' in err
    assert f"'{effect}' has shape (6, 7, 9) and affine [[2.0, 0.0, 0.0, 0.0], " in err
    assert f"'{other}' has shape (6, 7, 8) and affine [[3.0, 0.0, 0.0, -10.0], " in err


def test_group_names_too_long_exit_2_naming_the_contrast(fake_dataset, tmp_path, capsys):
    out = tmp_path / 'out'
    name = 'x' * 100  # fits the subjects' names, not the group's (it is there twice)
    _two_subjects(fake_dataset, out, f'{name}=incongruent - congruent')
    err = _group_refused(fake_dataset, out, capsys)
    assert f"Cannot save the contrast '{'x' * 32}...{'x' * 13}': The file name" in err
    assert 'rename the contrast so that its label has at most 86 characters' in err
    assert 'rename that one (--contrast NAME=EXPRESSION)' in err


def test_group_ignores_a_users_roi_named_like_a_subjects_mask(fake_dataset, tmp_path):
    out = tmp_path / 'out'
    func = _two_subjects(fake_dataset, out, CONTRAST)
    mask = func / f'sub-01_{ENTITIES}_mask.nii.gz'
    roi = np.zeros(nib.load(mask).shape, dtype=np.uint8)
    roi[:2, :2, :2] = 1
    nib.save(
        nib.Nifti1Image(roi, nib.load(mask).affine),
        func / mask.name.replace('_mask', '_desc-myroi_mask'),
    )
    assert _main(fake_dataset, out, 'group') == 0
    masks = [
        _data(out / f'sub-{s}' / 'func' / f'sub-{s}_{ENTITIES}_mask.nii.gz') for s in ('01', '02')
    ]
    group_mask = _data(out / f'{ENTITIES}_desc-incMinusCon_mask.nii.gz')
    np.testing.assert_array_equal(group_mask != 0, np.logical_and(*(m != 0 for m in masks)))
