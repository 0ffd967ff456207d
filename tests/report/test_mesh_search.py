"""Meshes found beside a surface model's data: where, which, and what the report says."""

from __future__ import annotations

import logging
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from bidsglm import save_glm_to_bids
from bidsglm.models import FirstLevelModel, SecondLevelModel
from bidsglm.models.surface import SurfaceLayout
from bidsglm.report.mesh_search import MeshSearch, find_meshes, mesh_surface

GIFTI = SurfaceLayout('gifti', (('left', 5), ('right', 4)))
FSAVERAGE5 = 'space-fsaverage5'


@pytest.fixture(autouse=True)
def no_templateflow(tmp_path, monkeypatch):
    """An empty TemplateFlow home: no test sees the machine's templates."""
    home = tmp_path / 'templateflow'
    home.mkdir()
    monkeypatch.setenv('TEMPLATEFLOW_HOME', str(home))
    return home


def _write_meshes(surfaces, folder: Path, names: dict[str, int]) -> None:
    """Write a mesh of ``n`` vertices under each name."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, n_vertices in names.items():
        surfaces.mesh(n_vertices).to_filename(folder / name)


def _gifti_runs(surfaces, rng, func: Path, space: str = FSAVERAGE5) -> dict[str, str]:
    """One fMRIPrep-named GIFTI run (5 left, 4 right vertices) of sub-01 in ``func``."""
    func.mkdir(parents=True, exist_ok=True)
    files = {}
    for part, image in surfaces.gifti_run(rng).items():
        path = func / f'sub-01_task-x_hemi-{part[0].upper()}_{space}_bold.func.gii'
        image.to_filename(path)
        files[part] = str(path)
    return files


@pytest.mark.parametrize(
    ('name', 'kind', 'expected'),
    [('sub-01_task-x_hemi-L_space-fsaverage5_bold.func.gii', 'gifti', ('fsaverage', '10k')),
     ('sub-01_task-x_hemi-L_space-fsaverage6_bold.func.gii', 'gifti', ('fsaverage', '41k')),
     ('sub-01_task-x_hemi-L_space-fsaverage_den-10k_bold.func.gii', 'gifti',
      ('fsaverage', '10k')),
     ('sub-01_task-x_hemi-L_space-fsaverage_bold.func.gii', 'gifti', ('fsaverage', '164k')),
     ('sub-01_task-x_hemi-L_space-fsnative_bold.func.gii', 'gifti', (None, None)),
     ('sub-01_task-x_space-fsLR_den-91k_bold.dtseries.nii', 'cifti', ('fsLR', '32k')),
     ('sub-01_task-x_space-fsLR_den-170k_bold.dtseries.nii', 'cifti', ('fsLR', '59k'))],
)  # fmt: skip
def test_the_mesh_surface_follows_fmriprep_names(name, kind, expected):
    assert mesh_surface(name, kind) == expected


def test_fmriprep_anat_meshes_are_found_the_inflated_first(surfaces, rng, tmp_path):
    subject = tmp_path / 'fmriprep' / 'sub-01'
    run = _gifti_runs(surfaces, rng, subject / 'func')
    _write_meshes(surfaces, subject / 'anat', {
        'sub-01_hemi-L_space-fsaverage_den-10k_white.surf.gii': 5,
        'sub-01_hemi-L_space-fsaverage_den-10k_inflated.surf.gii': 5,
        'sub-01_hemi-L_space-fsaverage_den-10k_pial.surf.gii': 5,
        'sub-01_hemi-R_space-fsaverage_den-10k_pial.surf.gii': 4,
        'sub-01_hemi-R_space-fsaverage_den-10k_midthickness.surf.gii': 4,
        'sub-01_hemi-R_space-fsaverage_den-41k_inflated.surf.gii': 4,  # another density
        'sub-01_hemi-R_inflated.surf.gii': 4,  # fsnative
        'sub-01_hemi-R_desc-reg_sphere.surf.gii': 4,  # not drawn on
    })  # fmt: skip
    search = find_meshes([run['left']], GIFTI)
    assert {part: Path(mesh.source).name for part, mesh in search.meshes.items()} == {
        'left': 'sub-01_hemi-L_space-fsaverage_den-10k_inflated.surf.gii',
        'right': 'sub-01_hemi-R_space-fsaverage_den-10k_midthickness.surf.gii',
    }
    assert search.looked_in == (subject / 'func', subject / 'anat')
    assert search.skipped == ()
    assert search.meshes['left'].n_vertices == 5
    assert search.describe().startswith('Meshes found beside the data: left: ')


def test_meshes_beside_the_runs_come_before_the_anat_ones(surfaces, rng, tmp_path):
    subject = tmp_path / 'sub-01'
    run = _gifti_runs(surfaces, rng, subject / 'func')
    _write_meshes(surfaces, subject / 'func', {'sub-01_hemi-L_space-fsaverage5_white.surf.gii': 5})
    _write_meshes(surfaces, subject / 'anat', {
        'sub-01_hemi-L_space-fsaverage5_inflated.surf.gii': 5,
    })  # fmt: skip
    search = find_meshes([run['left']], GIFTI)
    assert Path(search.meshes['left'].source).parent == subject / 'func'
    assert 'right' not in search.meshes


def test_a_found_mesh_of_another_vertex_count_is_skipped_and_logged(
    surfaces, rng, tmp_path, caplog
):
    subject = tmp_path / 'sub-01'
    run = _gifti_runs(surfaces, rng, subject / 'func')
    _write_meshes(surfaces, subject / 'anat', {
        'sub-01_hemi-L_space-fsaverage_den-10k_inflated.surf.gii': 7,
        'sub-01_hemi-L_space-fsaverage_den-10k_pial.surf.gii': 5,
        'sub-01_hemi-R_space-fsaverage_den-10k_pial.surf.gii': 6,
    })  # fmt: skip
    damaged = subject / 'anat' / 'sub-01_hemi-L_space-fsaverage_den-10k_midthickness.surf.gii'
    damaged.write_text('<?xml version="1.0"?><GIFTI')
    with caplog.at_level(logging.INFO, logger='bidsglm'):
        search = find_meshes([run['left']], GIFTI)
    assert Path(search.meshes['left'].source).name.endswith('_pial.surf.gii')
    assert 'right' not in search.meshes
    assert len(search.skipped) == 3
    assert 'has 7 vertices, the left hemisphere of the data 5' in search.skipped[0]
    assert 'midthickness.surf.gii cannot be read as a mesh' in search.skipped[1]
    assert 'has 6 vertices, the right hemisphere of the data 4' in search.skipped[2]
    assert [r.message for r in caplog.records if 'Mesh skipped' in r.message] == [
        f'Mesh skipped: {reason}.' for reason in search.skipped
    ]


def test_session_anat_folders_are_searched_before_the_subjects(surfaces, rng, tmp_path):
    subject = tmp_path / 'sub-01'
    run = _gifti_runs(surfaces, rng, subject / 'ses-1' / 'func')
    _write_meshes(surfaces, subject / 'anat', {'sub-01_hemi-L_space-fsaverage5_pial.surf.gii': 5})
    search = find_meshes([run['left']], GIFTI)
    assert search.looked_in == (subject / 'ses-1' / 'func', subject / 'anat')
    assert Path(search.meshes['left'].source).parent == subject / 'anat'


def test_templateflow_meshes_are_found_for_template_data(surfaces, rng, tmp_path, no_templateflow):
    run = _gifti_runs(surfaces, rng, tmp_path / 'sub-01' / 'func')
    _write_meshes(surfaces, no_templateflow / 'tpl-fsaverage', {
        'tpl-fsaverage_hemi-L_den-10k_pial.surf.gii': 5,
        'tpl-fsaverage_hemi-R_den-10k_pial.surf.gii': 4,
        'tpl-fsaverage_hemi-R_den-41k_pial.surf.gii': 4,
    })  # fmt: skip
    search = find_meshes([run['left']], GIFTI)
    assert sorted(search.meshes) == ['left', 'right']
    assert Path(search.meshes['right'].source).name == 'tpl-fsaverage_hemi-R_den-10k_pial.surf.gii'
    assert search.looked_in[-1] == no_templateflow / 'tpl-fsaverage'
    assert search.describe() == (
        'Meshes found beside the data: left: TemplateFlow tpl-fsaverage/'
        'tpl-fsaverage_hemi-L_den-10k_pial.surf.gii, right: TemplateFlow tpl-fsaverage/'
        'tpl-fsaverage_hemi-R_den-10k_pial.surf.gii.'
    )


def test_nothing_found_says_where_it_looked(surfaces, rng, tmp_path, no_templateflow):
    run = _gifti_runs(surfaces, rng, tmp_path / 'sub-01' / 'func')
    search = find_meshes([run['left']], GIFTI)
    assert search.meshes == {}
    assert search.describe() == (
        f'No mesh of this surface was found (looked in {tmp_path / "sub-01" / "func"}). '
        'Give one with meshes=.'
    )


def test_places_are_named_from_their_dataset_or_templateflow(
    surfaces, rng, tmp_path, no_templateflow
):
    (no_templateflow / 'tpl-fsaverage').mkdir()
    dataset = tmp_path / 'fmriprep'
    run = _gifti_runs(surfaces, rng, dataset / 'sub-01' / 'func')
    (dataset / 'dataset_description.json').write_text('{}')
    assert find_meshes([run['left']], GIFTI).describe() == (
        'No mesh of this surface was found (looked in fmriprep/sub-01/func; '
        'TemplateFlow tpl-fsaverage). Give one with meshes=.'
    )


def test_data_in_memory_or_of_mixed_spaces_look_nowhere(tmp_path):
    assert find_meshes([None], GIFTI) == MeshSearch()
    mixed = [tmp_path / 'a_hemi-L_space-fsaverage5_bold.func.gii',
             tmp_path / 'a_hemi-L_space-fsaverage6_bold.func.gii']  # fmt: skip
    assert find_meshes(mixed, GIFTI) == MeshSearch()


def _cifti_with_medial_wall(rng, surfaces, path: Path) -> None:
    """A CIFTI-2 run of two 6-vertex surfaces whose vertex 2 (a medial wall) is left out."""
    inside = np.array([True, True, False, True, True, True])
    models = nib.cifti2.BrainModelAxis.from_mask(inside, 'CortexLeft')
    models += nib.cifti2.BrainModelAxis.from_mask(inside, 'CortexRight')
    surfaces.cifti(surfaces.series(rng, 10).astype(np.float32), models).to_filename(path)


def test_a_cifti_cortex_takes_meshes_of_its_full_surface(surfaces, rng, tmp_path, no_templateflow):
    func = tmp_path / 'sub-01' / 'func'
    func.mkdir(parents=True)
    run = func / 'sub-01_task-x_space-fsLR_den-91k_bold.dtseries.nii'
    _cifti_with_medial_wall(rng, surfaces, run)
    _write_meshes(surfaces, func, {'sub-01_hemi-L_space-fsLR_den-32k_inflated.surf.gii': 5})
    _write_meshes(surfaces, no_templateflow / 'tpl-fsLR', {
        'tpl-fsLR_hemi-L_den-32k_midthickness.surf.gii': 6,
        'tpl-fsLR_hemi-R_den-32k_midthickness.surf.gii': 6,
    })  # fmt: skip
    model = FirstLevelModel(t_r=surfaces.t_r).fit(str(run), surfaces.events())
    search = find_meshes(model.run_sources_, model.masker_.mask_.layout)
    assert {part: mesh.n_vertices for part, mesh in search.meshes.items()} == {
        'left': 6,
        'right': 6,
    }
    assert Path(search.meshes['left'].source).parent == no_templateflow / 'tpl-fsLR'
    assert search.skipped[0].endswith('has 5 vertices, the left hemisphere of the data 6')


def test_hcp_named_meshes_are_found_for_hcp_cifti_runs(surfaces, rng, tmp_path):
    subject = tmp_path / '100307' / 'MNINonLinear'
    results = subject / 'Results' / 'tfMRI_WM_LR'
    results.mkdir(parents=True)
    run = results / 'tfMRI_WM_LR_Atlas.dtseries.nii'
    _cifti_with_medial_wall(rng, surfaces, run)
    _write_meshes(surfaces, subject / 'fsaverage_LR32k', {
        '100307.L.midthickness.32k_fs_LR.surf.gii': 6,
        '100307.L.very_inflated.32k_fs_LR.surf.gii': 6,
        '100307.R.inflated.32k_fs_LR.surf.gii': 6,
    })  # fmt: skip
    model = FirstLevelModel(t_r=surfaces.t_r).fit(str(run), surfaces.events())
    search = find_meshes(model.run_sources_, model.masker_.mask_.layout)
    assert {part: Path(mesh.source).name for part, mesh in search.meshes.items()} == {
        'left': '100307.L.midthickness.32k_fs_LR.surf.gii',
        'right': '100307.R.inflated.32k_fs_LR.surf.gii',
    }


def test_a_save_draws_found_meshes_and_names_them_under_the_figure(surfaces, rng, tmp_path):
    subject = tmp_path / 'fmriprep' / 'sub-01'
    run = _gifti_runs(surfaces, rng, subject / 'func')
    _write_meshes(surfaces, subject / 'anat', {
        'sub-01_hemi-L_space-fsaverage5_inflated.surf.gii': 5,
        'sub-01_hemi-R_space-fsaverage5_inflated.surf.gii': 4,
    })  # fmt: skip
    model = FirstLevelModel(t_r=surfaces.t_r).fit(run, surfaces.events())
    saved = save_glm_to_bids(model, 'task', out_dir=tmp_path / 'out')
    page = saved.statmap.with_name('sub-01_task-x_space-fsaverage5_report.html').read_text()
    assert 'on the found meshes: lateral and medial views' in page
    anat = subject / 'anat'
    assert (
        f'Meshes found beside the data: left: {anat}/sub-01_hemi-L_space-fsaverage5_'
        f'inflated.surf.gii, right: {anat}/sub-01_hemi-R_space-fsaverage5_inflated.surf.gii.'
    ) in page


def test_a_save_without_meshes_says_where_it_looked(surfaces, rng, tmp_path):
    run = _gifti_runs(surfaces, rng, tmp_path / 'sub-01' / 'func')
    model = FirstLevelModel(t_r=surfaces.t_r).fit(run, surfaces.events())
    saved = save_glm_to_bids(model, 'task', out_dir=tmp_path / 'out')
    page = saved.statmap.with_name('sub-01_task-x_space-fsaverage5_report.html').read_text()
    assert 'on the found meshes' not in page
    assert f'No mesh of this surface was found (looked in {tmp_path}/sub-01/func)' in page
    empty = save_glm_to_bids(model, 'task', out_dir=tmp_path / 'none', meshes={})
    page = empty.statmap.with_name('sub-01_task-x_space-fsaverage5_report.html').read_text()
    assert 'No mesh of this surface' not in page


def test_a_group_model_looks_only_at_template_meshes(surfaces, rng, tmp_path, no_templateflow):
    folder = tmp_path / 'first'
    folder.mkdir()
    maps = []
    for subject in range(1, 5):
        values = rng.normal(1.0, 1.0, 9).astype(np.float32)
        files = {}
        for part, hemi, part_values in (('left', 'L', values[:5]), ('right', 'R', values[5:])):
            name = (
                f'sub-{subject:02d}_task-x_hemi-{hemi}_{FSAVERAGE5}_stat-effect_statmap.func.gii'
            )
            surfaces.hemisphere(part_values[:, None]).to_filename(folder / name)
            files[part] = str(folder / name)
        maps.append(files)
    _write_meshes(surfaces, folder, {'sub-01_hemi-L_space-fsaverage5_inflated.surf.gii': 5})
    _write_meshes(surfaces, no_templateflow / 'tpl-fsaverage', {
        'tpl-fsaverage_hemi-L_den-10k_inflated.surf.gii': 5,
        'tpl-fsaverage_hemi-R_den-10k_inflated.surf.gii': 4,
    })  # fmt: skip
    model = SecondLevelModel().fit(maps)
    search = find_meshes(model.input_sources_, model.masker_.mask_.layout, first_level=False)
    assert search.looked_in == (no_templateflow / 'tpl-fsaverage',)
    assert sorted(search.meshes) == ['left', 'right']


def test_a_fitted_models_report_draws_the_meshes_found(surfaces, rng, tmp_path):
    subject = tmp_path / 'sub-01'
    run = _gifti_runs(surfaces, rng, subject / 'func')
    _write_meshes(surfaces, subject / 'anat', {
        'sub-01_hemi-L_space-fsaverage5_white.surf.gii': 5,
        'sub-01_hemi-R_space-fsaverage5_white.surf.gii': 4,
    })  # fmt: skip
    model = FirstLevelModel(t_r=surfaces.t_r).fit(run, surfaces.events())
    page = model.generate_report('task').html
    assert 'on the found meshes: lateral and medial views' in page
    assert f'right: {subject}/anat/sub-01_hemi-R_space-fsaverage5_white.surf.gii.' in page
