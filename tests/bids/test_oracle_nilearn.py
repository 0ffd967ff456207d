"""save_glm_to_bids on nilearn 0.14.1 models (fitted with minimize_memory=False)."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.glm.second_level import SecondLevelModel as NilearnSecondLevel

from bidsglm import FirstLevelModel, SecondLevelModel, save_glm_to_bids
from bidsglm.errors import InvalidParameterError, NotFittedError

from ._validator import run_validator
from .conftest import N_SCANS, N_SUBJECTS, SPACE, T_R

pytestmark = pytest.mark.oracle

CONTRASTS = {'audio - visual': 'audio - visual', 'effects of interest': np.eye(3, 5)}
OUTPUTS = {'effect_size': 'effect', 'effect_variance': 'variance', 'p_value': 'p', 'z_score': 'z'}


@pytest.fixture
def nilearn_first_level(run_files, events_pair):
    model = NilearnFirstLevel(t_r=T_R, minimize_memory=False)
    return model.fit([str(p) for p in run_files], events=events_pair)


@pytest.fixture
def nilearn_second_level(effect_files):
    design = pd.DataFrame({'intercept': np.ones(N_SUBJECTS)})
    model = NilearnSecondLevel(minimize_memory=False)
    return model.fit([str(p) for p in effect_files], design_matrix=design)


SUBJECT = f'sub-01_task-x_space-{SPACE}'
FUNC = 'sub-01/func'


def relative_names(saved, out_dir):
    return {p.relative_to(out_dir).as_posix() for p in saved.files}


@pytest.mark.filterwarnings('ignore:Running approximate fixed effects on F statistics:UserWarning')
def test_save_glm_to_bids_writes_a_nilearn_first_level(
    nilearn_first_level, run_files, events_pair, tmp_path, out_dir, extended_schema
):
    saved = save_glm_to_bids(nilearn_first_level, CONTRASTS, out_dir=out_dir)
    ours = FirstLevelModel(t_r=T_R).fit([str(p) for p in run_files], events=events_pair)
    ours_saved = save_glm_to_bids(ours, CONTRASTS, out_dir=tmp_path / 'ours')
    names = relative_names(saved, out_dir)
    # named from the runs' BIDS names exactly as ours (ours also saves the data's mean)
    assert names == relative_names(ours_saved, tmp_path / 'ours') - {
        f'{FUNC}/{SUBJECT}_stat-mean_statmap.nii.gz',
        f'{FUNC}/{SUBJECT}_stat-mean_statmap.json',
    }
    assert f'sub-01/{SUBJECT}_statmap.json' in names
    assert f'{FUNC}/sub-01_task-x_run-2_space-{SPACE}_stat-errorts_statmap.nii.gz' in names
    for name, stat_type in (('audio - visual', 't'), ('effects of interest', 'F')):
        label = 'audioMinusVisual' if stat_type == 't' else 'effectsOfInterest'
        per_run = [CONTRASTS[name]] * 2
        maps = nilearn_first_level.compute_contrast(
            per_run, stat_type=stat_type, output_type='all'
        )
        for output, stat in {**OUTPUTS, 'stat': stat_type}.items():
            path = out_dir / FUNC / f'{SUBJECT}_contrast-{label}_stat-{stat}_statmap.nii.gz'
            np.testing.assert_array_equal(nib.load(path).get_fdata(), maps[output].get_fdata())
    for index, residuals in enumerate(nilearn_first_level.residuals_):
        run = f'sub-01_task-x_run-{index + 1}_space-{SPACE}'
        errorts = nib.load(out_dir / FUNC / f'{run}_stat-errorts_statmap.nii.gz')
        assert errorts.shape == (7, 8, 9, N_SCANS)
        np.testing.assert_allclose(
            errorts.get_fdata(), residuals.get_fdata(), rtol=1e-6, atol=1e-12
        )
    stem = out_dir / FUNC / f'{SUBJECT}_contrast-audioMinusVisual_stat-t_statmap.json'
    sidecar = json.loads(stem.read_text())
    assert sidecar['DegreesOfFreedom'] == [2.0 * (N_SCANS - 5)]
    assert sidecar['Contrast']['Weights'] == [1.0, 0.0, -1.0, 0.0, 0.0]
    model = json.loads(saved.statmap.read_text())
    assert model['Estimator'] == 'nilearn.glm.first_level.first_level.FirstLevelModel'
    assert model['InputFiles'] == [str(p) for p in run_files]
    validation = run_validator(out_dir, extended_schema)
    assert (validation.exit_code, validation.errors) == (0, [])


def test_nilearn_models_of_two_tasks_saved_in_one_folder_keep_both(
    run_files, events_pair, out_dir
):
    for task in ('x', 'y'):
        runs = [str(p).replace('task-x', f'task-{task}') for p in run_files]
        for source, run in zip(run_files, runs, strict=True):
            if run != str(source):
                nib.load(source).to_filename(run)
        model = NilearnFirstLevel(t_r=T_R, minimize_memory=False).fit(runs, events=events_pair)
        save_glm_to_bids(model, 'audio', out_dir=out_dir)
    for task in ('x', 'y'):
        z = f'sub-01_task-{task}_space-{SPACE}_contrast-audio_stat-z_statmap.nii.gz'
        assert (out_dir / FUNC / z).is_file()


def test_save_glm_to_bids_writes_a_nilearn_second_level(
    nilearn_second_level, effect_files, tmp_path, out_dir, extended_schema
):
    saved = save_glm_to_bids(nilearn_second_level, ['intercept'], out_dir=out_dir)
    ours = SecondLevelModel().fit([str(p) for p in effect_files])
    ours_saved = save_glm_to_bids(ours, ['intercept'], out_dir=tmp_path / 'ours')
    names = relative_names(saved, out_dir)
    assert names == relative_names(ours_saved, tmp_path / 'ours')  # named as ours
    stem = f'task-x_space-{SPACE}_'
    maps = nilearn_second_level.compute_contrast('intercept', output_type='all')
    for output, stat in {**OUTPUTS, 'stat': 't'}.items():
        path = out_dir / f'{stem}contrast-intercept_stat-{stat}_desc-audio_statmap.nii.gz'
        np.testing.assert_array_equal(nib.load(path).get_fdata(), maps[output].get_fdata())
    errorts = nib.load(out_dir / f'{stem}stat-errorts_desc-audio_statmap.nii.gz')
    assert errorts.shape == (7, 8, 9, N_SUBJECTS)
    sidecar = json.loads(
        (out_dir / f'{stem}contrast-intercept_stat-z_desc-audio_statmap.json').read_text()
    )
    assert sidecar['DegreesOfFreedom'] == [N_SUBJECTS - 1.0]
    validation = run_validator(out_dir, extended_schema)
    assert (validation.exit_code, validation.errors) == (0, [])


def test_save_glm_to_bids_saves_a_nilearn_model_with_default_minimize_memory(
    run_files, events_pair, out_dir, nilearn_first_level, tmp_path
):
    model = NilearnFirstLevel(t_r=T_R).fit([str(p) for p in run_files], events=events_pair)
    with pytest.warns(UserWarning, match=r'stat-errorts and stat-rSquare are not saved') as seen:
        saved = save_glm_to_bids(model, 'audio', out_dir=out_dir)
    assert seen[0].filename == __file__  # the warning points at the user's call
    assert 'FirstLevelModel(minimize_memory=False)' in str(seen[0].message)
    complete = save_glm_to_bids(nilearn_first_level, 'audio', out_dir=tmp_path / 'complete')
    kept = relative_names(complete, tmp_path / 'complete')
    assert relative_names(saved, out_dir) == {
        name for name in kept if 'stat-errorts' not in name and 'stat-rSquare' not in name
    }
    z = f'{FUNC}/{SUBJECT}_contrast-audio_stat-z_statmap.nii.gz'
    np.testing.assert_array_equal(
        nib.load(out_dir / z).get_fdata(), nib.load(tmp_path / 'complete' / z).get_fdata()
    )


def test_save_glm_to_bids_refuses_a_nilearn_surface_model_clearly(out_dir, rng):
    from nilearn.surface import InMemoryMesh, PolyMesh, SurfaceImage

    n_vertices = 20
    coordinates = rng.standard_normal((n_vertices, 3))
    faces = np.array([[i, (i + 1) % n_vertices, (i + 2) % n_vertices] for i in range(10)])
    mesh = PolyMesh(left=InMemoryMesh(coordinates, faces), right=InMemoryMesh(coordinates, faces))
    data = {side: 100 + rng.standard_normal((n_vertices, N_SCANS)) for side in ('left', 'right')}
    events = pd.DataFrame({'onset': [0.0, 20, 40], 'duration': 5.0, 'trial_type': 'audio'})
    model = NilearnFirstLevel(t_r=T_R, minimize_memory=False).fit(
        SurfaceImage(mesh=mesh, data=data), events=events
    )
    with pytest.raises(InvalidParameterError, match=r'surface data \(SurfaceImage\)'):
        save_glm_to_bids(model, 'audio', out_dir=out_dir)
    assert not out_dir.exists()


@pytest.mark.parametrize('library', ['bidsglm', 'nilearn'])
def test_save_glm_to_bids_a_group_model_of_first_level_models(
    run_files, events_pair, tmp_path, out_dir, library, rng
):
    kind = {'bidsglm': (FirstLevelModel, SecondLevelModel),
            'nilearn': (NilearnFirstLevel, NilearnSecondLevel)}[library]  # fmt: skip
    first_levels = []
    for subject in ('01', '02', '03'):
        path = tmp_path / f'sub-{subject}_task-x_space-{SPACE}_desc-preproc_bold.nii.gz'
        nib.Nifti1Image(
            nib.load(run_files[0]).get_fdata() + rng.standard_normal((7, 8, 9, N_SCANS)),
            nib.load(run_files[0]).affine,
        ).to_filename(path)
        first_levels.append(
            kind[0](t_r=T_R, minimize_memory=False).fit(str(path), events=events_pair[0])
        )
    group = kind[1](minimize_memory=False).fit(first_levels)
    saved = save_glm_to_bids(
        group, 'intercept', out_dir=out_dir, first_level_contrast='audio - visual'
    )
    # named after the first-level models' runs: task and space, and the contrast as desc
    stem = f'task-x_space-{SPACE}_'
    z = out_dir / f'{stem}contrast-intercept_stat-z_desc-audioMinusVisual_statmap.nii.gz'
    expected = group.compute_contrast(first_level_contrast='audio - visual')
    np.testing.assert_array_equal(nib.load(z).get_fdata(), expected.get_fdata())
    sidecar = json.loads(z.with_name(z.name.replace('.nii.gz', '.json')).read_text())
    assert sidecar['FirstLevelContrast'] == 'audio - visual'
    assert json.loads(saved.statmap.read_text())['FirstLevelContrast'] == 'audio - visual'
    errorts = nib.load(out_dir / f'{stem}stat-errorts_desc-audioMinusVisual_statmap.nii.gz')
    assert errorts.shape == (7, 8, 9, 3)


def test_first_level_contrast_is_refused_for_a_first_level_model(nilearn_first_level, out_dir):
    with pytest.raises(InvalidParameterError, match='first_level_contrast'):
        save_glm_to_bids(nilearn_first_level, 'audio', out_dir=out_dir, first_level_contrast='a')


def test_save_glm_to_bids_refuses_an_unfitted_nilearn_model(out_dir):
    with pytest.raises(NotFittedError):
        save_glm_to_bids(NilearnFirstLevel(t_r=T_R), 'audio', out_dir=out_dir)
