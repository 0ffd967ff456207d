from __future__ import annotations

import json
import tempfile
import threading

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bidsglm import load_glm_from_bids, save_glm_to_bids
from bidsglm.bids import writer as writer_module
from bidsglm.errors import (
    BidsNameError,
    ContrastError,
    InvalidParameterError,
    NotFittedError,
    ShapeMismatchError,
)
from bidsglm.models import FirstLevelModel, SecondLevelModel

from ._validator import run_validator
from .conftest import N_SCANS, N_SUBJECTS, SPACE, T_R, make_run, snapshot

N_COLUMNS = 5  # audio, motor, visual, drift_1, constant
CONTRASTS = {'audio - visual': 'audio - visual', 'effects of interest': np.eye(3, N_COLUMNS)}
LABELS = {'audio - visual': 'audioMinusVisual', 'effects of interest': 'effectsOfInterest'}
STATS = {'audio - visual': 't', 'effects of interest': 'F'}
OUTPUTS = {'effect_size': 'effect', 'effect_variance': 'variance', 'p_value': 'p', 'z_score': 'z'}


def first_level_files(common: str, runs: list[str], folder: str, model_folder: str) -> set[str]:
    """The files of CONTRASTS saved from a first-level model, as the issue lists them."""
    join = (lambda p: f'{common}_{p}') if common else (lambda p: p)
    files = {'dataset_description.json', f'{model_folder}{join("statmap.json")}'}
    files |= {'.bidsignore', f'{model_folder}{join("report.html")}'}  # the report companion
    files |= {f'{folder}{join("mask.nii.gz")}', f'{folder}{join("mask.json")}'}
    files.add(f'{folder}{join("stat-mean_statmap.nii.gz")}')  # the data's mean, drawn under maps
    if model_folder:  # in the flat layout, statmap.json beside them is their sidecar
        files.add(f'{folder}{join("stat-mean_statmap.json")}')
    for run in runs:
        per_run = ['design.tsv', 'design.json', 'design.svg']
        per_run += ['stat-errorts_statmap.nii.gz', 'stat-rSquare_statmap.nii.gz']
        if model_folder:
            per_run += ['stat-errorts_statmap.json', 'stat-rSquare_statmap.json']
        per_run += [f'contrast-{label}_design.svg' for label in LABELS.values()]
        files |= {f'{folder}{run}_{name}' for name in per_run}
    for name, label in LABELS.items():
        for stat in ('effect', 'variance', STATS[name], 'p', 'z'):
            for extension in ('.nii.gz', '.json'):
                files.add(f'{folder}{join(f"contrast-{label}_stat-{stat}_statmap{extension}")}')
    return files


def relative(saved, out_dir) -> set[str]:
    return {str(path.relative_to(out_dir)) for path in saved.files}


def test_save_glm_to_bids_writes_every_file_of_a_two_run_default_first_level(first_level, out_dir):
    saved = save_glm_to_bids(first_level, CONTRASTS, out_dir=out_dir)
    common = f'sub-01_task-x_space-{SPACE}'
    runs = [f'sub-01_task-x_run-{i}_space-{SPACE}' for i in (1, 2)]
    expected = first_level_files(common, runs, 'sub-01/func/', 'sub-01/')
    assert relative(saved, out_dir) == expected
    manifest = f'sub-01/.{common}_statmap.manifest.json'
    assert {k for k, v in snapshot(out_dir).items() if v is not None} == {*expected, manifest}
    assert saved.statmap == out_dir / 'sub-01' / f'{common}_statmap.json'
    listed = json.loads((out_dir / manifest).read_text())['Files']
    shared = {'dataset_description.json', '.bidsignore'}
    assert {f'sub-01/{name}' for name in listed} == expected - shared


def test_save_glm_to_bids_maps_equal_what_compute_contrast_returns(first_level, out_dir):
    save_glm_to_bids(first_level, CONTRASTS, out_dir=out_dir)
    folder = out_dir / 'sub-01' / 'func'
    for name, label in LABELS.items():
        per_run = [CONTRASTS[name]] * 2  # one per run: no warning about reused weights
        maps = first_level.compute_contrast(per_run, stat_type=STATS[name], output_type='all')
        for output, stat in {**OUTPUTS, 'stat': STATS[name]}.items():
            path = (
                folder / f'sub-01_task-x_space-{SPACE}_contrast-{label}_stat-{stat}_statmap.nii.gz'
            )
            saved = nib.load(path)
            assert saved.get_data_dtype() == np.float64
            np.testing.assert_array_equal(saved.get_fdata(), maps[output].get_fdata())
            assert saved.header.get_xyzt_units() == ('mm', 'sec')
    effect = nib.load(next(folder.glob('*effectsOfInterest_stat-effect_statmap.nii.gz')))
    assert effect.shape == (7, 8, 9, 3)


def test_save_glm_to_bids_writes_the_model_level_maps_of_each_run(first_level, out_dir):
    save_glm_to_bids(first_level, 'audio', out_dir=out_dir)
    folder = out_dir / 'sub-01' / 'func'
    for index, (residuals, r_square) in enumerate(
        zip(first_level.residuals_, first_level.r_square_, strict=True)
    ):
        run = f'sub-01_task-x_run-{index + 1}_space-{SPACE}'
        errorts = nib.load(folder / f'{run}_stat-errorts_statmap.nii.gz')
        assert errorts.shape == (7, 8, 9, N_SCANS)
        assert errorts.get_data_dtype() == np.float32
        assert errorts.header.get_zooms()[3] == 2.0
        np.testing.assert_allclose(
            errorts.get_fdata(), residuals.get_fdata(), rtol=1e-6, atol=1e-12
        )
        saved_r2 = nib.load(folder / f'{run}_stat-rSquare_statmap.nii.gz').get_fdata()
        np.testing.assert_array_equal(saved_r2, r_square.get_fdata())
        design = pd.read_csv(folder / f'{run}_design.tsv', sep='\t')
        expected = first_level.design_matrices_[index].reset_index(drop=True)
        pd.testing.assert_frame_equal(design, expected, check_exact=True)
        timing = json.loads((folder / f'{run}_design.json').read_text())
        assert (timing['RepetitionTime'], timing['StartTime']) == (2.0, 0.0)
    mask = nib.load(folder / f'sub-01_task-x_space-{SPACE}_mask.nii.gz')
    assert mask.get_data_dtype() == np.uint8
    np.testing.assert_array_equal(mask.get_fdata(), first_level.mask_img_.get_fdata())


def test_save_glm_to_bids_writes_the_mean_image_of_the_data(first_level, out_dir):
    save_glm_to_bids(first_level, 'audio', out_dir=out_dir)
    (saved,) = (out_dir / 'sub-01' / 'func').glob('*_stat-mean_statmap.nii.gz')
    np.testing.assert_array_equal(nib.load(saved).get_fdata(), first_level.mean_img_.get_fdata())
    assert nib.load(saved).header.get_xyzt_units() == ('mm', 'sec')
    assert load_glm_from_bids(out_dir / 'sub-01').mean == saved


def test_save_glm_to_bids_writes_sidecars_with_weights_dof_and_tail(first_level, out_dir):
    save_glm_to_bids(first_level, CONTRASTS, out_dir=out_dir)
    folder = out_dir / 'sub-01' / 'func'
    prefix = f'sub-01_task-x_space-{SPACE}'
    t_map = json.loads(
        (folder / f'{prefix}_contrast-audioMinusVisual_stat-t_statmap.json').read_text()
    )
    dof = 2 * (N_SCANS - N_COLUMNS)
    assert t_map['DegreesOfFreedom'] == [dof]
    assert t_map['Contrast']['Weights'] == [1.0, 0.0, -1.0, 0.0, 0.0]
    assert t_map['Contrast']['ConditionList'] == list(first_level.design_matrices_[0].columns)
    assert t_map['Sources'][-1] == f'bids::sub-01/func/{prefix}_mask.nii.gz'
    f_p = json.loads(
        (folder / f'{prefix}_contrast-effectsOfInterest_stat-p_statmap.json').read_text()
    )
    assert (f_p['DegreesOfFreedom'], f_p['Tail']) == ([3, dof], 'one-sided greater')
    model = json.loads((out_dir / 'sub-01' / f'{prefix}_statmap.json').read_text())
    assert (model['Level'], model['SkullStripped'], model['NumberOfRuns']) == ('first', False, 2)
    t_image = nib.load(folder / f'{prefix}_contrast-audioMinusVisual_stat-t_statmap.nii.gz')
    assert t_image.header.get_intent() == ('t test', (float(dof),), '')


def test_save_glm_to_bids_first_level_passes_the_bids_validator(
    first_level, out_dir, extended_schema
):
    save_glm_to_bids(first_level, CONTRASTS, out_dir=out_dir)
    validation = run_validator(out_dir, extended_schema)
    assert validation.errors == []
    assert validation.exit_code == 0


def test_save_glm_to_bids_flat_layout_for_images_in_memory(
    first_level_in_memory, out_dir, extended_schema
):
    saved = save_glm_to_bids(first_level_in_memory, CONTRASTS, out_dir=out_dir)
    assert relative(saved, out_dir) == first_level_files('', ['run-1', 'run-2'], '', '')
    validation = run_validator(out_dir, extended_schema)
    assert (validation.exit_code, validation.errors) == (0, [])


def test_save_glm_to_bids_uses_a_prefix_of_entities(first_level_in_memory, out_dir):
    saved = save_glm_to_bids(
        first_level_in_memory, 'audio', out_dir=out_dir, prefix='sub-02_task-y'
    )
    names = relative(saved, out_dir)
    assert 'sub-02/sub-02_task-y_statmap.json' in names
    assert 'sub-02/func/sub-02_task-y_run-2_design.tsv' in names
    assert 'sub-02/func/sub-02_task-y_contrast-audio_stat-z_statmap.nii.gz' in names


def test_save_glm_to_bids_second_level(second_level, out_dir, extended_schema):
    saved = save_glm_to_bids(second_level, ['intercept'], out_dir=out_dir)
    common = f'task-x_space-{SPACE}'
    expected = {'dataset_description.json', f'{common}_desc-audio_statmap.json'}
    expected |= {'.bidsignore', f'{common}_desc-audio_report.html'}
    expected |= {f'{common}_desc-audio_{n}' for n in ('mask.nii.gz', 'mask.json', 'design.tsv')}
    expected |= {f'{common}_desc-audio_{n}' for n in ('design.json', 'design.svg')}
    expected |= {f'{common}_stat-{s}_desc-audio_statmap.nii.gz' for s in ('errorts', 'rSquare')}
    expected.add(f'{common}_contrast-intercept_desc-audio_design.svg')
    for stat in ('effect', 'variance', 't', 'p', 'z'):
        for extension in ('.nii.gz', '.json'):
            expected.add(f'{common}_contrast-intercept_stat-{stat}_desc-audio_statmap{extension}')
    assert relative(saved, out_dir) == expected
    maps = second_level.compute_contrast('intercept', output_type='all')
    for output, stat in {**OUTPUTS, 'stat': 't'}.items():
        path = out_dir / f'{common}_contrast-intercept_stat-{stat}_desc-audio_statmap.nii.gz'
        np.testing.assert_array_equal(nib.load(path).get_fdata(), maps[output].get_fdata())
    errorts = nib.load(out_dir / f'{common}_stat-errorts_desc-audio_statmap.nii.gz')
    assert errorts.shape == (7, 8, 9, N_SUBJECTS)
    validation = run_validator(out_dir, extended_schema)
    assert (validation.exit_code, validation.errors) == (0, [])


def test_save_glm_to_bids_accepts_every_form_of_contrasts(first_level, out_dir):
    contrasts = {
        'expression': 'audio - visual',
        'weights': [1, 0, 0, 0, 0],
        'rows': [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0]],
        'vector': np.eye(N_COLUMNS)[2],
        'matrix': np.eye(N_COLUMNS)[:2],
    }
    forms = [
        ('audio', {'audio'}),
        (['audio', 'visual - motor'], {'audio', 'visualMinusMotor'}),
        (contrasts, {'expression', 'weights', 'rows', 'vector', 'matrix'}),
        (np.array([1, -1, 0, 0, 0]), {'audioMinusMotor'}),
        ([np.eye(N_COLUMNS)[:2], np.eye(N_COLUMNS)[2]], {'audioAndMotor', 'visual'}),
    ]
    for contrast, labels in forms:
        saved = save_glm_to_bids(first_level, contrast, out_dir=out_dir / str(len(labels)))
        found = {
            p.name.split('contrast-')[1].split('_')[0] for p in saved.files if 'stat-z' in p.name
        }
        assert found == labels


@pytest.mark.parametrize('level', ['first', 'second'])
def test_save_glm_to_bids_contrast_types_decides_the_test(
    level, run_files, events_pair, second_level, out_dir
):
    if level == 'first':  # one run: fixed effects over runs would approximate F
        model = FirstLevelModel(t_r=2.0).fit(str(run_files[0]), events=events_pair[0])
        contrast, label, dof = 'audio - visual', 'audioMinusVisual', N_SCANS - N_COLUMNS
    else:
        model, contrast, label, dof = second_level, 'intercept', 'intercept', N_SUBJECTS - 1
    save_glm_to_bids(model, contrast, out_dir=out_dir / 't', prefix='')
    save_glm_to_bids(model, contrast, {contrast: 'F'}, out_dir=out_dir / 'F', prefix='')

    def load(kind: str, stat: str) -> np.ndarray:
        path = out_dir / kind / f'contrast-{label}_stat-{stat}_statmap.nii.gz'
        return nib.load(path).get_fdata()

    t, f = load('t', 't'), load('F', 'F')
    np.testing.assert_allclose(f, t**2, rtol=1e-10, atol=1e-12)
    inside = model.mask_img_.get_fdata() > 0
    np.testing.assert_allclose(load('F', 'p')[inside], 2 * stats.t.sf(np.abs(t[inside]), dof))
    assert not list((out_dir / 'F').glob('*_stat-t_*'))
    assert json.loads((out_dir / 'F' / f'contrast-{label}_stat-F_statmap.json').read_text())[
        'DegreesOfFreedom'
    ] == [1, dof]


def test_save_glm_to_bids_twice_gives_the_same_bytes(first_level, out_dir):
    save_glm_to_bids(first_level, CONTRASTS, out_dir=out_dir)
    first = snapshot(out_dir)
    save_glm_to_bids(first_level, CONTRASTS, out_dir=out_dir)
    assert snapshot(out_dir) == first


def test_save_glm_to_bids_merges_an_older_dataset_description(first_level_in_memory, out_dir):
    out_dir.mkdir(parents=True)
    old = {'Name': 'old', 'GeneratedBy': {'Name': 'nilearn', 'Version': '0.9.2'}}
    (out_dir / 'dataset_description.json').write_text(json.dumps(old))
    save_glm_to_bids(first_level_in_memory, 'audio', out_dir=out_dir)
    merged = json.loads((out_dir / 'dataset_description.json').read_text())
    assert merged['Name'] == 'old'
    assert [entry['Name'] for entry in merged['GeneratedBy']] == ['nilearn', 'bidsglm']


@pytest.mark.parametrize('content', [b'', b'  \n'])
def test_save_glm_to_bids_writes_an_empty_dataset_description_anew(
    first_level_in_memory, out_dir, content, caplog
):
    out_dir.mkdir(parents=True)
    (out_dir / 'dataset_description.json').write_bytes(content)
    save_glm_to_bids(first_level_in_memory, 'audio', out_dir=out_dir)
    written = json.loads((out_dir / 'dataset_description.json').read_text())
    assert written['DatasetType'] == 'derivative'
    assert 'dataset_description.json is empty: it is written anew' in caplog.text


def test_save_glm_to_bids_keeps_the_model_of_another_prefix(first_level_in_memory, out_dir):
    save_glm_to_bids(first_level_in_memory, 'audio', out_dir=out_dir, prefix='task-a')
    first = snapshot(out_dir)
    save_glm_to_bids(first_level_in_memory, 'visual', out_dir=out_dir, prefix='task-b')
    after = snapshot(out_dir)
    assert {k: v for k, v in after.items() if k in first and 'task-a' in k} == {
        k: v for k, v in first.items() if 'task-a' in k
    }


def test_save_glm_to_bids_again_replaces_the_model_whole(first_level_in_memory, out_dir):
    save_glm_to_bids(first_level_in_memory, ['audio', 'visual'], out_dir=out_dir)
    (out_dir / 'contrast-audio_desc-mine_mask.nii.gz').write_bytes(b"the user's")
    save_glm_to_bids(first_level_in_memory, 'visual', out_dir=out_dir)
    names = set(snapshot(out_dir))
    assert not {n for n in names if 'contrast-audio_stat' in n or 'contrast-audio_design' in n}
    assert 'contrast-visual_stat-z_statmap.nii.gz' in names
    assert 'contrast-audio_desc-mine_mask.nii.gz' in names


@pytest.fixture
def existing(first_level_in_memory, out_dir):
    """An output folder holding an earlier save and an older dataset_description."""
    save_glm_to_bids(first_level_in_memory, 'audio', out_dir=out_dir)
    old = {'Name': 'old', 'BIDSVersion': '1.4.0', 'GeneratedBy': {'Name': 'nilearn'}}
    (out_dir / 'dataset_description.json').write_text(json.dumps(old))
    return snapshot(out_dir)


@pytest.mark.parametrize(
    ('contrasts', 'kwargs', 'error', 'match'),
    [
        ({'a - b': 'audio', 'a-b': 'visual'}, {}, BidsNameError, 'collide'),
        ({'Audio': 'audio', 'audio': 'visual'}, {}, BidsNameError, 'collide'),
        ({'___': 'audio'}, {}, BidsNameError, 'empty'),
        ({'café': 'audio'}, {}, BidsNameError, "'é'"),
        ({'../../evil': 'audio'}, {}, BidsNameError, "'.'"),
        ({'a' * 300: 'audio'}, {}, BidsNameError, r"label 'a+\.\.\.a+' \(300 characters\)"),
        ('audio', {'prefix': 'x' * 250}, BidsNameError, 'give a shorter prefix'),
        ('audio - nothing', {}, ContrastError, 'nothing'),
        ({'short': [1, -1]}, {}, ContrastError, '2 weights'),
        ('audio', {'contrast_types': {'visual': 'F'}}, ContrastError, 'names no contrast'),
        ('audio', {'contrast_types': {'audio': 'chi2'}}, ContrastError, 'one of'),
        (
            {'two rows': np.eye(N_COLUMNS)[:2]},
            {'contrast_types': {'two rows': 't'}},
            ContrastError,
            'one row',
        ),
        ('audio', {'prefix': '../up'}, BidsNameError, 'output folder'),
        ('audio', {'prefix': 'sub-01/func'}, BidsNameError, 'output folder'),
        ('audio', {'prefix': 'a\\b'}, BidsNameError, 'output folder'),
        ('audio', {'prefix': '/tmp/abs'}, BidsNameError, 'output folder'),
        ('audio', {'prefix': 'sub-01_run-1'}, BidsNameError, 'run'),
    ],
)
def test_save_glm_to_bids_refuses_bad_input_and_leaves_out_dir_untouched(
    first_level_in_memory, out_dir, existing, contrasts, kwargs, error, match
):
    with pytest.raises(error, match=match):
        save_glm_to_bids(first_level_in_memory, contrasts, out_dir=out_dir, **kwargs)
    assert snapshot(out_dir) == existing


@pytest.mark.parametrize('model', [FirstLevelModel(t_r=2.0), SecondLevelModel()])
def test_save_glm_to_bids_refuses_an_unfitted_model(model, out_dir):
    with pytest.raises(NotFittedError):
        save_glm_to_bids(model, 'audio', out_dir=out_dir)
    assert not out_dir.exists()


def test_save_glm_to_bids_refuses_a_file_as_out_dir(first_level_in_memory, tmp_path):
    (tmp_path / 'file').write_text('x')
    with pytest.raises(InvalidParameterError, match='is a file'):
        save_glm_to_bids(first_level_in_memory, 'audio', out_dir=tmp_path / 'file')


@pytest.mark.parametrize('failure', [KeyboardInterrupt(), OSError(28, 'No space left on device')])
def test_save_glm_to_bids_interrupted_midway_leaves_out_dir_unchanged(
    first_level_in_memory, out_dir, existing, monkeypatch, failure
):
    calls = []

    def failing_write(path, image):
        calls.append(path)
        if len(calls) == 4:
            raise failure
        path.write_bytes(b'partial')

    monkeypatch.setattr(writer_module, 'write_nifti', failing_write)
    with pytest.raises(type(failure)):
        save_glm_to_bids(first_level_in_memory, CONTRASTS, out_dir=out_dir)
    assert len(calls) == 4
    assert snapshot(out_dir) == existing


def test_save_glm_to_bids_large_maps_written_on_a_thread_are_the_same_files(
    first_level_in_memory, tmp_path, monkeypatch, contents_of
):
    inline, threaded = tmp_path / 'inline' / 'out', tmp_path / 'threaded' / 'out'  # one title
    save_glm_to_bids(first_level_in_memory, CONTRASTS, out_dir=inline)
    monkeypatch.setattr(writer_module._NiftiWriter, 'background_bytes', 0)  # every map
    save_glm_to_bids(first_level_in_memory, CONTRASTS, out_dir=threaded)
    assert contents_of(threaded) == contents_of(inline)  # maps by data


@pytest.mark.parametrize('failure', [KeyboardInterrupt(), OSError(28, 'No space left on device')])
def test_save_glm_to_bids_failing_thread_write_leaves_out_dir_unchanged(
    first_level_in_memory, out_dir, existing, monkeypatch, failure
):
    calls = []

    def failing_write(path, image):
        calls.append(path)
        if len(calls) == 3:
            raise failure
        path.write_bytes(b'partial')

    monkeypatch.setattr(writer_module._NiftiWriter, 'background_bytes', 0)
    monkeypatch.setattr(writer_module, 'write_nifti', failing_write)
    with pytest.raises(type(failure)):
        save_glm_to_bids(first_level_in_memory, CONTRASTS, out_dir=out_dir)
    assert snapshot(out_dir) == existing


def test_save_glm_to_bids_output_is_read_back(first_level, out_dir):
    save_glm_to_bids(first_level, CONTRASTS, out_dir=out_dir)
    glm = load_glm_from_bids(out_dir / 'sub-01')
    assert glm.level == 'first'
    assert [c.label for c in glm.contrasts] == ['audioMinusVisual', 'effectsOfInterest']
    assert glm.contrast('effects of interest').stat_type == 'F'
    for design, loaded in zip(first_level.design_matrices_, glm.designs, strict=True):
        pd.testing.assert_frame_equal(loaded, design.reset_index(drop=True), check_exact=True)
    assert len(glm.residuals) == len(glm.r_square) == 2
    assert glm.design_metadata[1]['RepetitionTime'] == 2.0


def test_write_derivatives_without_companions_writes_no_report(first_level, out_dir):
    saved = writer_module.write_derivatives(first_level, CONTRASTS, out_dir=out_dir)
    common = f'sub-01_task-x_space-{SPACE}'
    runs = [f'sub-01_task-x_run-{i}_space-{SPACE}' for i in (1, 2)]
    expected = first_level_files(common, runs, 'sub-01/func/', 'sub-01/')
    expected -= {'.bidsignore', f'sub-01/{common}_report.html'}
    assert relative(saved, out_dir) == expected


def test_write_derivatives_hands_companions_the_staged_images(first_level_in_memory, out_dir):
    seen = {}

    def count_images(staged_statmap, statmap, stage, images):
        seen.update(images)
        stage(statmap.parent / 'note.txt').write_text(f'{len(images)} images')

    companion = writer_module.Companion(count_images, ignore=('note.txt',))
    saved = writer_module.write_derivatives(
        first_level_in_memory, 'audio', out_dir=out_dir, companions=[companion]
    )
    # 1 mask + 1 mean + 2 runs x (errorts, rSquare) + 5 maps of the contrast.
    assert (out_dir / 'note.txt').read_text() == '11 images'
    assert (out_dir / '.bidsignore').read_text().splitlines()[-1] == 'note.txt'
    z_name = 'contrast-audio_stat-z_statmap.nii.gz'
    (staged_z,) = (path for path in seen if path.name == z_name)
    assert staged_z.parent != out_dir  # the companion ran before the move
    expected = first_level_in_memory.compute_contrast('audio', output_type='z_score')
    np.testing.assert_array_equal(seen[staged_z].get_fdata(), expected.get_fdata())
    assert out_dir / z_name in saved.files


def test_preview_derivatives_hands_the_maps_over_in_memory_and_keeps_nothing(
    first_level, tmp_path, monkeypatch
):
    scratch = tmp_path / 'tmp'
    scratch.mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(scratch))
    seen = {}

    def look(staged_statmap, statmap, stage, images):
        staged = {p.relative_to(scratch).parts[1:]: p for p in scratch.rglob('*') if p.is_file()}
        seen.update(statmap=statmap, staged=staged, images=images)
        seen['sizes'] = {path.name: path.stat().st_size for path in staged.values()}
        assert staged_statmap.is_file()

    writer_module.preview_derivatives(first_level, 'audio', look)
    assert list(scratch.iterdir()) == []  # the scratch folder is gone
    common = f'sub-01_task-x_space-{SPACE}'
    assert seen['statmap'].as_posix() == f'sub-01/{common}_statmap.json'  # names as a save's
    images = {path.name: image for path, image in seen['images'].items()}
    z_name = f'{common}_contrast-audio_stat-z_statmap.nii.gz'
    expected = first_level.compute_contrast('audio', output_type='z_score')
    np.testing.assert_array_equal(images[z_name].get_fdata(), expected.get_fdata())
    for name in images:  # each NIfTI file is listed, empty: its image is in memory
        assert seen['sizes'][name] == 0
    assert seen['sizes'][f'{common}_contrast-audio_stat-z_statmap.json'] > 0


def test_preview_derivatives_needs_no_valid_subject_label(first_level_in_memory, out_dir):
    first_level_in_memory.subject_label = 'not a label!'
    with pytest.raises(BidsNameError, match='subject_label'):  # a save needs one
        save_glm_to_bids(first_level_in_memory, 'audio', out_dir=out_dir)
    names = []
    writer_module.preview_derivatives(
        first_level_in_memory,
        'audio',
        lambda staged, statmap, stage, images: names.append(statmap),
    )
    assert [name.as_posix() for name in names] == ['statmap.json']


def _group_model(seed: int = 3) -> SecondLevelModel:
    rng = np.random.default_rng(seed)
    maps = [
        nib.Nifti1Image(rng.standard_normal((6, 5, 4)).astype(np.float32), np.eye(4))
        for _ in range(9)
    ]
    return SecondLevelModel().fit(maps)


def test_a_second_level_errorts_is_streamed_with_its_sd_for_companions(tmp_path):
    from bidsglm.bids.writer import Companion, PendingSeries, write_derivatives
    from bidsglm.report._maps import residual_sd

    seen = {}

    def look(staged_statmap, statmap, stage, images):
        for path, image in images.items():
            if 'stat-errorts' in path.name:
                seen['pending'] = image
                seen['summary'] = image.wait()
                seen['sd'] = residual_sd(path)[0]  # complete on disk once waited for

    model = _group_model()
    write_derivatives(model, 'intercept', out_dir=tmp_path, companions=[Companion(look)])
    assert isinstance(seen['pending'], PendingSeries)
    summary = seen['summary']
    assert summary.n_volumes == 9
    np.testing.assert_allclose(summary.sd, seen['sd'], rtol=1e-10, atol=1e-12)
    expected = model.residuals_.get_fdata().astype(np.float32).std(axis=3, dtype=np.float64)
    np.testing.assert_allclose(summary.sd, expected, rtol=1e-6, atol=1e-12)


def test_a_failed_errorts_stream_fails_the_save_and_writes_nothing(tmp_path, monkeypatch):
    from bidsglm import save_glm_to_bids
    from bidsglm.bids import writer

    def broken(target, header, volumes, **options):
        msg = 'disk full'
        raise OSError(msg)

    monkeypatch.setattr(writer, 'write_nifti_volumes', broken)
    with pytest.raises(OSError, match='disk full'):
        save_glm_to_bids(_group_model(), 'intercept', out_dir=tmp_path / 'out')  # the report waits
    assert not any((tmp_path / 'out').rglob('*.*'))


def test_a_preview_streams_the_errorts_into_its_scratch_folder():
    from bidsglm.bids.writer import StreamedSeries, preview_derivatives

    seen = []

    def look(staged_statmap, statmap, stage, images):
        seen.extend(
            (path.stat().st_size, type(image)) for path, image in images.items()
            if 'stat-errorts' in path.name
        )  # fmt: skip

    preview_derivatives(_group_model(), 'intercept', look)
    assert len(seen) == 1
    assert seen[0][0] > 0
    assert seen[0][1] is StreamedSeries


def sidecar_of(image, saved):
    """The closest sidecar of a saved map: its own, else the model's statmap.json beside it."""
    own = image.with_name(image.name.removesuffix('.nii.gz') + '.json')
    return own if own in saved.files else saved.statmap


def test_every_saved_nifti_file_has_a_sidecar(
    first_level, second_level, first_level_in_memory, tmp_path
):
    models = ((first_level, CONTRASTS), (second_level, ['intercept']))
    for number, (model, contrasts) in enumerate((*models, (first_level_in_memory, CONTRASTS))):
        out = tmp_path / f'out-{number}'
        saved = save_glm_to_bids(model, contrasts, out_dir=out)
        images = [p for p in saved.files if p.name.endswith('.nii.gz')]
        assert len(images) >= 8
        flat = saved.statmap.parent == images[0].parent
        for image in images:
            sidecar = sidecar_of(image, saved)
            assert sidecar.is_file(), sidecar.name
            if not flat:  # the subject layout: each map has its own
                assert sidecar != saved.statmap, image.name
                assert json.loads(sidecar.read_text())['Description']
    folder = tmp_path / 'out-0' / 'sub-01' / 'func'
    prefix = f'sub-01_task-x_run-2_space-{SPACE}'
    errorts = json.loads((folder / f'{prefix}_stat-errorts_statmap.json').read_text())
    assert errorts['Sources'] == [
        f'bids::sub-01/func/{prefix}_design.tsv',
        f'bids::sub-01/func/sub-01_task-x_space-{SPACE}_mask.nii.gz',
    ]
    assert errorts['RepetitionTime'] == 2.0
    assert errorts['Description'].startswith('Residuals of run 2')


# ------------------------------------------------------------------ surface models
def gifti_files_of(common: str, runs: list[str], contrasts: dict[str, str]) -> set[str]:
    """The files of a GIFTI first level in sub-01/: every map a file per hemisphere."""
    folder = 'sub-01/func/'

    def hemispheres(name: str) -> set[str]:
        entities, _, rest = name.partition('|')
        found = set()
        for hemi in ('L', 'R'):
            head = f'{entities}_hemi-{hemi}' if entities else f'hemi-{hemi}'
            found |= {f'{folder}{head}_{rest}.func.gii', f'{folder}{head}_{rest}.json'}
        return found

    sub, _, space = common.partition('|')
    files = {'dataset_description.json', '.bidsignore', f'sub-01/{sub}_{space}_statmap.json'}
    files.add(f'sub-01/{sub}_{space}_report.html')
    files |= hemispheres(f'{sub}|{space}_mask') | hemispheres(f'{sub}|{space}_stat-mean_statmap')
    for run in runs:
        run_entities, _, _ = run.partition('|')
        files |= {f'{folder}{run_entities}_{space}_design.{ext}' for ext in ('tsv', 'json', 'svg')}
        files |= {f'{folder}{run_entities}_{space}_contrast-{label}_design.svg'
                  for label in contrasts}  # fmt: skip
        for stat in ('errorts', 'rSquare'):
            files |= hemispheres(f'{run_entities}|{space}_stat-{stat}_statmap')
    for label, test in contrasts.items():
        for stat in ('effect', 'variance', test, 'p', 'z'):
            files |= hemispheres(f'{sub}|{space}_contrast-{label}_stat-{stat}_statmap')
    return files


def test_a_gifti_first_level_writes_every_map_per_hemisphere(gifti_model, out_dir):
    saved = save_glm_to_bids(gifti_model, 'task', out_dir=out_dir)
    runs = [f'sub-01_task-x_run-{i}|' for i in (1, 2)]
    expected = gifti_files_of('sub-01_task-x|space-fsaverage_den-10k', runs, {'task': 't'})
    assert relative(saved, out_dir) == expected
    statmap = json.loads(saved.statmap.read_text())
    assert statmap['Surface'] == {'Format': 'GIFTI', 'Parts': {'left': 5, 'right': 4}}
    assert statmap['Density'] == {'10k': 'vertices (left 5, right 4), as in the input files'}


def test_gifti_maps_equal_compute_contrast_with_hemisphere_metadata(gifti_model, out_dir):
    save_glm_to_bids(gifti_model, 'task', out_dir=out_dir)
    folder = out_dir / 'sub-01' / 'func'
    expected = gifti_model.compute_contrast('task', output_type='all')
    for hemi, part, structure in (('L', 'left', 'CortexLeft'), ('R', 'right', 'CortexRight')):
        name = f'sub-01_task-x_hemi-{hemi}_space-fsaverage_den-10k_contrast-task_stat-z_statmap'
        image = nib.load(folder / f'{name}.func.gii')
        assert image.meta['AnatomicalStructurePrimary'] == structure
        assert image.darrays[0].intent == nib.nifti1.intent_codes['NIFTI_INTENT_ZSCORE']
        assert image.darrays[0].meta['Name'] == 'contrast-task_stat-z'
        reference = expected['z_score'][part].darrays[0].data
        np.testing.assert_array_equal(image.darrays[0].data, reference)
        sidecar = json.loads((folder / f'{name}.json').read_text())
        assert sidecar['StatisticType'] == 'z'
        assert (
            sidecar['Density']
            == json.loads(next((out_dir / 'sub-01').glob('*statmap.json')).read_text())['Density']
        )
    right = nib.load(next(folder.glob('*hemi-R*contrast-task_stat-z_statmap.func.gii')))
    assert right.darrays[0].data[2] == 0.0  # vertex 7 holds no data: outside the mask, 0
    left = nib.load(next(folder.glob('*hemi-L*contrast-task_stat-z_statmap.func.gii')))
    assert (left.darrays[0].data[:3] > 3).all()  # the planted response


def test_gifti_residuals_are_one_array_per_scan_with_the_time_step(gifti_model, out_dir):
    save_glm_to_bids(gifti_model, 'task', out_dir=out_dir)
    folder = out_dir / 'sub-01' / 'func'
    name = 'sub-01_task-x_run-2_hemi-L_space-fsaverage_den-10k_stat-errorts_statmap'
    errorts = nib.load(folder / f'{name}.func.gii')
    assert len(errorts.darrays) == 30
    assert errorts.darrays[0].meta['TimeStep'] == '2000'
    assert errorts.darrays[0].data.dtype == np.float32
    residuals = np.stack([array.data for array in gifti_model.residuals_[1]['left'].darrays])
    np.testing.assert_array_equal(np.stack([a.data for a in errorts.darrays]), residuals)
    mask = nib.load(next(folder.glob('*hemi-R*_mask.func.gii')))
    assert mask.darrays[0].data.tolist() == [1.0, 1.0, 0.0, 1.0]
    sidecar = json.loads((folder / f'{name}.json').read_text())
    assert sidecar['Sources'][-2:] == [
        'bids::sub-01/func/sub-01_task-x_hemi-L_space-fsaverage_den-10k_mask.func.gii',
        'bids::sub-01/func/sub-01_task-x_hemi-R_space-fsaverage_den-10k_mask.func.gii',
    ]


def test_a_cifti_first_level_writes_dense_scalars_with_the_runs_brain_models(
    cifti_model, out_dir, surfaces
):
    contrasts = {'task': 'task', 'f': np.eye(2, 3)}
    saved = save_glm_to_bids(cifti_model, contrasts, out_dir=out_dir)
    folder = out_dir / 'sub-02' / 'func'
    names = {p.name for p in saved.files if p.parent == folder}
    prefix = 'sub-02_task-x_space-fsLR_den-91k'
    assert f'{prefix}_contrast-task_stat-t_statmap.dscalar.nii' in names
    assert f'{prefix}_contrast-f_stat-F_statmap.dscalar.nii' in names
    assert f'{prefix}_stat-errorts_statmap.dtseries.nii' in names
    assert f'{prefix}_mask.dscalar.nii' in names
    assert not [name for name in names if name.endswith(('.nii.gz', '.gii'))]
    z_map = nib.load(folder / f'{prefix}_contrast-task_stat-z_statmap.dscalar.nii')
    assert z_map.header.get_axis(1) == surfaces.brain_models()
    assert list(z_map.header.get_axis(0).name) == ['contrast-task_stat-z']
    assert z_map.nifti_header.get_intent()[0] == 'ConnDenseScalar'
    expected = cifti_model.compute_contrast('task', output_type='z_score')
    np.testing.assert_array_equal(np.asarray(z_map.dataobj), np.asarray(expected.dataobj))
    effect = nib.load(folder / f'{prefix}_contrast-f_stat-effect_statmap.dscalar.nii')
    assert list(effect.header.get_axis(0).name) == [
        'contrast-f_stat-effect row 1',
        'contrast-f_stat-effect row 2',
    ]
    errorts = nib.load(folder / f'{prefix}_stat-errorts_statmap.dtseries.nii')
    series = errorts.header.get_axis(0)
    assert (series.size, series.step, series.unit) == (30, 2.0, 'SECOND')
    assert errorts.nifti_header.get_intent()[0] == 'ConnDenseSeries'
    assert json.loads(saved.statmap.read_text())['Density'] == {
        '91k': '9 grayordinates, as in the input files'
    }


def test_a_surface_save_passes_the_bids_validator(
    gifti_model, cifti_model, out_dir, extended_schema
):
    save_glm_to_bids(gifti_model, 'task', out_dir=out_dir)
    save_glm_to_bids(cifti_model, {'task': 'task', 'f': np.eye(2, 3)}, out_dir=out_dir)
    validation = run_validator(out_dir, extended_schema)
    assert validation.errors == []
    assert validation.exit_code == 0


def test_a_surface_save_in_the_flat_layout_passes_the_bids_validator(
    rng, surfaces, out_dir, extended_schema
):
    gifti = FirstLevelModel(t_r=2.0).fit(surfaces.gifti_run(rng), surfaces.events())
    saved = save_glm_to_bids(gifti, 'task', out_dir=out_dir / 'gifti')
    assert saved.statmap == out_dir / 'gifti' / 'statmap.json'
    assert (out_dir / 'gifti' / 'hemi-L_contrast-task_stat-z_statmap.func.gii').is_file()
    cifti = FirstLevelModel(t_r=2.0).fit(surfaces.cifti_run(rng), surfaces.events())
    save_glm_to_bids(cifti, 'task', out_dir=out_dir / 'cifti', prefix='task-x')
    assert (out_dir / 'cifti' / 'task-x_contrast-task_stat-z_statmap.dscalar.nii').is_file()
    for folder in ('gifti', 'cifti'):
        validation = run_validator(out_dir / folder, extended_schema)
        codes = {code for _severity, code, _where in validation.errors}
        assert codes <= {'SIDECAR_WITHOUT_DATAFILE'}, validation.errors  # as for volumes


def test_surface_parts_that_are_not_hemispheres_are_refused_before_writing(rng, surfaces, out_dir):
    run = surfaces.gifti_run(rng)
    model = FirstLevelModel(t_r=2.0).fit(
        {'lh': run['left'], 'rh': run['right']}, surfaces.events()
    )
    with pytest.raises(InvalidParameterError, match=r"parts \['lh', 'rh'\] cannot be saved"):
        save_glm_to_bids(model, 'task', out_dir=out_dir)
    assert not out_dir.exists()


def test_a_prefix_setting_hemi_is_refused_for_a_gifti_model(gifti_model, out_dir):
    with pytest.raises(BidsNameError, match='sets hemi, which the writer sets itself'):
        save_glm_to_bids(gifti_model, 'task', out_dir=out_dir, prefix='sub-01_hemi-L')
    assert not out_dir.exists()


def test_a_surface_model_whose_maps_are_off_its_mask_is_refused_before_writing(
    rng, surfaces, cifti_model, out_dir
):
    other = FirstLevelModel(t_r=2.0).fit(surfaces.gifti_run(rng), surfaces.events())
    cifti_model.mean_img_ = other.mean_img_  # a model made inconsistent by hand
    with pytest.raises(
        ShapeMismatchError, match=r'The stat-mean map is on GIFTI .*, but the model is on CIFTI-2'
    ):
        save_glm_to_bids(cifti_model, 'task', out_dir=out_dir)
    assert not out_dir.exists()


@pytest.mark.parametrize(
    'fails',
    [
        lambda calls, target: len(calls) == 6,  # the sixth file, whichever thread writes it
        lambda calls, target: 'stat-errorts' in target.name,  # on the worker thread
    ],
    ids=['sixth file', 'residual series'],
)
def test_a_surface_save_interrupted_midway_leaves_out_dir_unchanged(
    gifti_model, out_dir, existing, monkeypatch, fails
):
    calls = []
    original = writer_module._write_surface_file

    def failing_write(images, index, target):
        calls.append(target)
        if fails(calls, target):
            raise KeyboardInterrupt
        original(images, index, target)

    monkeypatch.setattr(writer_module, '_write_surface_file', failing_write)
    with pytest.raises(KeyboardInterrupt):
        save_glm_to_bids(gifti_model, 'task', out_dir=out_dir)
    assert len(calls) >= 6  # the series are written beside the other files
    assert snapshot(out_dir) == existing


def test_a_surface_models_residual_series_are_written_on_the_worker_thread(
    gifti_model, out_dir, monkeypatch
):
    threads = {}
    original = writer_module._write_surface_file

    def recording_write(images, index, target):
        threads[target.name] = threading.current_thread() is threading.main_thread()
        original(images, index, target)

    monkeypatch.setattr(writer_module, '_write_surface_file', recording_write)
    save_glm_to_bids(gifti_model, 'task', out_dir=out_dir)
    on_worker = {name for name, main in threads.items() if not main}
    assert on_worker == {name for name in threads if 'stat-errorts' in name}
    assert len(on_worker) == 4  # a series per run (2) and hemisphere


def test_a_surface_saves_manifest_lists_every_hemisphere_file(gifti_model, out_dir):
    saved = save_glm_to_bids(gifti_model, 'task', out_dir=out_dir)
    manifest = out_dir / 'sub-01' / '.sub-01_task-x_space-fsaverage_den-10k_statmap.manifest.json'
    listed = {f'sub-01/{name}' for name in json.loads(manifest.read_text())['Files']}
    shared = {'dataset_description.json', '.bidsignore'}
    assert listed == relative(saved, out_dir) - shared
    assert sum(name.endswith('.func.gii') for name in listed) == 2 * (2 + 2 * 2 + 5)


def _hemisphere_map(values: np.ndarray) -> nib.gifti.GiftiImage:
    return nib.gifti.GiftiImage(darrays=[nib.gifti.GiftiDataArray(values.astype(np.float32))])


def test_a_surface_group_model_saves_reads_back_and_passes_the_validator(
    rng, surfaces, out_dir, extended_schema
):
    maps = [
        {'left': _hemisphere_map(v[:5]), 'right': _hemisphere_map(v[5:])}
        for v in 1.0 + rng.standard_normal((6, 9))
    ]
    design = pd.DataFrame({'intercept': 1.0, 'age': np.arange(6.0) - 2.5})
    gifti = SecondLevelModel().fit(maps, design_matrix=design)
    saved = save_glm_to_bids(gifti, ['intercept', 'age'], out_dir=out_dir, prefix='task-x')
    loaded = load_glm_from_bids(saved.statmap)
    assert (loaded.level, loaded.surface_format) == ('second', 'GIFTI')
    for name in ('intercept', 'age'):
        expected = gifti.compute_contrast(name, output_type='z_score')
        for part in ('left', 'right'):
            z_file = loaded.contrast(name).maps['z'][part]
            np.testing.assert_array_equal(
                nib.load(z_file).darrays[0].data, expected[part].darrays[0].data
            )
    errorts = nib.load(loaded.residuals[0]['left'])
    assert len(errorts.darrays) == 6  # one residual map per subject
    cifti_maps = [surfaces.cifti(v[np.newaxis].astype(np.float32)) for v in rng.random((5, 9))]
    cifti = SecondLevelModel().fit(cifti_maps)
    save_glm_to_bids(cifti, 'intercept', out_dir=out_dir, prefix='task-y')
    z_map = nib.load(out_dir / 'task-y_contrast-intercept_stat-z_statmap.dscalar.nii')
    expected_z = np.asarray(cifti.compute_contrast('intercept').dataobj)
    np.testing.assert_array_equal(np.asarray(z_map.dataobj), expected_z)
    validation = run_validator(out_dir, extended_schema)
    codes = {code for _severity, code, _where in validation.errors}
    assert codes <= {'SIDECAR_WITHOUT_DATAFILE'}, validation.errors  # as for volume groups


def test_a_save_in_space_fsaverage5_has_a_spatial_reference_and_passes_the_validator(
    tmp_path, rng, surfaces, out_dir, extended_schema
):
    files = {}
    for part, image in surfaces.gifti_run(rng).items():
        path = tmp_path / f'sub-01_task-x_hemi-{part[0].upper()}_space-fsaverage5_bold.func.gii'
        image.to_filename(path)
        files[part] = str(path)
    model = FirstLevelModel(t_r=surfaces.t_r).fit(files, surfaces.events())
    save_glm_to_bids(model, 'task', out_dir=out_dir)
    folder = out_dir / 'sub-01' / 'func'
    z_sidecar = folder / 'sub-01_task-x_hemi-R_space-fsaverage5_contrast-task_stat-z_statmap.json'
    assert json.loads(z_sidecar.read_text())['SpatialReference'] == (
        'https://templateflow.s3.amazonaws.com/tpl-fsaverage/'
        'tpl-fsaverage_hemi-R_den-10k_pial.surf.gii'
    )
    design = json.loads((folder / 'sub-01_task-x_space-fsaverage5_design.json').read_text())
    assert sorted(design['SpatialReference']) == [
        'CIFTI_STRUCTURE_CORTEX_LEFT',
        'CIFTI_STRUCTURE_CORTEX_RIGHT',
    ]
    validation = run_validator(out_dir, extended_schema)
    assert (validation.exit_code, validation.errors) == (0, [])


def test_a_save_in_space_t1w_refers_to_its_mask_and_passes_the_validator(
    tmp_path, rng, events_pair, out_dir, extended_schema
):
    path = tmp_path / 'sub-01_task-x_space-T1w_desc-preproc_bold.nii.gz'
    make_run(rng).to_filename(path)
    model = FirstLevelModel(t_r=2.0).fit(str(path), events_pair[0])
    saved = save_glm_to_bids(model, 'audio', out_dir=out_dir)
    mask = 'sub-01/func/sub-01_task-x_space-T1w_mask.nii.gz'
    sidecars = [f for f in saved.files if f.suffix == '.json' and 'space-T1w' in f.name]
    assert len(sidecars) == 11  # five contrast maps, three model maps, mask, design, statmap
    assert {json.loads(f.read_text()).get('SpatialReference') for f in sidecars} == {mask}
    assert (out_dir / mask).is_file()
    validation = run_validator(out_dir, extended_schema)
    assert (validation.exit_code, validation.errors) == (0, [])


def test_a_save_in_a_standard_space_writes_no_spatial_reference(first_level, out_dir):
    saved = save_glm_to_bids(first_level, 'audio', out_dir=out_dir)
    sidecars = [f for f in saved.files if f.suffix == '.json']
    assert not [f for f in sidecars if 'SpatialReference' in json.loads(f.read_text())]


def test_a_first_level_errorts_is_streamed_per_run_with_the_sd_a_file_gives(first_level, out_dir):
    from bidsglm.bids.writer import Companion, PendingSeries, write_derivatives
    from bidsglm.report._maps import residual_sd

    seen = {}

    def look(staged_statmap, statmap, stage, images):
        for path, image in images.items():
            if 'stat-errorts' in path.name:
                assert isinstance(image, PendingSeries)
                seen[path.name] = (image.wait(), residual_sd(path, mask)[0])

    mask = first_level.mask_img_.get_fdata() != 0
    write_derivatives(first_level, 'audio', out_dir=out_dir, companions=[Companion(look)])
    assert len(seen) == 2  # one file per run
    for (summary, from_file), expected in zip(seen.values(), first_level.residuals_, strict=True):
        assert summary.n_volumes == expected.shape[3]
        np.testing.assert_array_equal(summary.sd, from_file)  # bit for bit
    saved = sorted(out_dir.rglob('*stat-errorts_statmap.nii.gz'))
    for path, expected in zip(saved, first_level.residuals_, strict=True):
        written = nib.load(path)
        np.testing.assert_array_equal(written.get_fdata(), expected.get_fdata())
        assert written.header.get_zooms()[3] == T_R


def test_a_group_errorts_is_deflated_on_two_threads_and_reads_as_the_residuals(
    out_dir, monkeypatch
):
    from bidsglm.bids import _files

    seen = []

    def spy(target, header, volumes, **options):
        seen.append(options.get('deflate_threads', 1))
        return _files.write_nifti_volumes(target, header, volumes, **options)

    model = _group_model()
    monkeypatch.setattr(writer_module, 'write_nifti_volumes', spy)
    save_glm_to_bids(model, 'intercept', out_dir=out_dir)
    assert seen == [writer_module.GROUP_DEFLATE_THREADS] == [2]
    (saved,) = out_dir.rglob('*stat-errorts_statmap.nii.gz')
    np.testing.assert_array_equal(nib.load(saved).get_fdata(), model.residuals_.get_fdata())
