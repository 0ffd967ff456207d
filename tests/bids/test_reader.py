from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from bidsglm import load_glm_from_bids, save_glm_to_bids
from bidsglm.errors import InputNotFoundError, InvalidParameterError
from bidsglm.models import FirstLevelModel, SecondLevelModel
from bidsglm.models.surface import read_surface

from ._validator import run_validator
from .conftest import SPACE, T_R, make_run

OUTPUTS = {'effect_size': 'effect', 'effect_variance': 'variance', 'p_value': 'p', 'z_score': 'z'}


def test_load_glm_from_bids_reads_a_folder_or_its_statmap(first_level, out_dir):
    saved = save_glm_to_bids(first_level, {'a': 'audio', 'av': 'audio, visual'}, out_dir=out_dir)
    by_folder = load_glm_from_bids(out_dir)
    by_file = load_glm_from_bids(saved.statmap)
    assert by_folder.files == by_file.files
    not_read = {path for path in saved.files if path.name.endswith('report.html')}
    not_read |= {saved.statmap, out_dir / 'dataset_description.json', out_dir / '.bidsignore'}
    assert set(by_folder.files) | not_read == set(saved.files)
    assert by_folder.metadata['Level'] == 'first'
    assert [(c.name, c.label, c.stat_type) for c in by_folder.contrasts] == [
        ('a', 'a', 't'),
        ('av', 'av', 'F'),
    ]
    assert set(by_folder.contrast('av').maps) == {'effect', 'variance', 'F', 'p', 'z'}
    assert by_folder.contrast('av').metadata['DegreesOfFreedom'][0] == 2
    assert by_folder.mask.name == f'sub-01_task-x_space-{SPACE}_mask.nii.gz'


def test_load_glm_from_bids_takes_the_mask_with_exactly_the_models_entities(
    first_level_in_memory, out_dir
):
    saved = save_glm_to_bids(first_level_in_memory, 'audio', out_dir=out_dir, prefix='sub-01')
    func = out_dir / 'sub-01' / 'func'
    mask = func / 'sub-01_mask.nii.gz'
    mean = func / 'sub-01_stat-mean_statmap.nii.gz'
    roi = func / 'sub-01_desc-myroi_mask.nii.gz'  # the user's, named like a mask
    smooth = func / 'sub-01_desc-smooth_stat-mean_statmap.nii.gz'
    for user_file, model_file in ((roi, mask), (smooth, mean)):
        user_file.write_bytes(model_file.read_bytes())
    glm = load_glm_from_bids(saved.statmap)
    assert (glm.mask, glm.mean) == (mask, mean)


def test_load_glm_from_bids_starts_a_second_level_from_saved_first_levels(
    rng, events_pair, out_dir, extended_schema
):
    for subject in ('01', '02', '03'):
        model = FirstLevelModel(t_r=T_R, subject_label=subject, noise_model='ols')
        model.fit([make_run(rng), make_run(rng)], events=events_pair)
        save_glm_to_bids(model, 'audio - visual', out_dir=out_dir, prefix=f'sub-{subject}_task-x')
    subjects = [load_glm_from_bids(out_dir / f'sub-{s}') for s in ('01', '02', '03')]
    effects = [str(glm.contrast('audio - visual').maps['effect']) for glm in subjects]
    group = SecondLevelModel().fit(effects)
    saved = save_glm_to_bids(group, 'intercept', out_dir=out_dir)
    assert saved.statmap.name == 'task-x_desc-audioMinusVisual_statmap.json'
    glm = load_glm_from_bids(saved.statmap)
    assert glm.level == 'second'
    assert nib.load(glm.residuals[0]).shape[3] == 3
    validation = run_validator(out_dir, extended_schema)
    assert (validation.exit_code, validation.errors) == (0, [])


def test_load_glm_from_bids_tells_models_sharing_a_folder_apart(first_level_in_memory, out_dir):
    save_glm_to_bids(first_level_in_memory, 'audio', out_dir=out_dir, prefix='a')
    save_glm_to_bids(first_level_in_memory, 'visual', out_dir=out_dir, prefix='b')
    save_glm_to_bids(first_level_in_memory, 'motor', out_dir=out_dir, prefix='')
    for prefix, label in (('a_', 'audio'), ('b_', 'visual'), ('', 'motor')):
        glm = load_glm_from_bids(out_dir / f'{prefix}statmap.json')
        assert [c.label for c in glm.contrasts] == [label]
        assert len(glm.designs) == len(glm.residuals) == 2
        assert all(path.name.startswith(prefix) for path in glm.files)
    with pytest.raises(InvalidParameterError, match='several saved models'):
        load_glm_from_bids(out_dir)


def test_load_glm_from_bids_orders_runs_numerically(rng, events_pair, out_dir):
    runs = [make_run(rng) for _ in range(11)]
    model = FirstLevelModel(t_r=T_R, mask_img=False).fit(runs, events=[events_pair[0]] * 11)
    save_glm_to_bids(model, 'audio', out_dir=out_dir)
    glm = load_glm_from_bids(out_dir)
    assert [p.name.split('_')[0] for p in glm.residuals] == [f'run-{i}' for i in range(1, 12)]
    np.testing.assert_array_equal(
        glm.designs[10].to_numpy(), model.design_matrices_[10].to_numpy()
    )


def test_load_glm_from_bids_refuses_what_is_not_a_saved_model(tmp_path):
    with pytest.raises(InputNotFoundError, match='does not exist'):
        load_glm_from_bids(tmp_path / 'nothing')
    with pytest.raises(InputNotFoundError, match='No statmap\\.json'):
        load_glm_from_bids(tmp_path)
    (tmp_path / 'contrast-a_stat-t_statmap.json').write_text('{}')
    with pytest.raises(InvalidParameterError, match="not a model's statmap\\.json"):
        load_glm_from_bids(tmp_path / 'contrast-a_stat-t_statmap.json')


def test_loaded_glm_contrast_names_the_saved_labels(first_level_in_memory, out_dir):
    save_glm_to_bids(first_level_in_memory, 'audio', out_dir=out_dir)
    with pytest.raises(InvalidParameterError, match=r"labels: \['audio'\]"):
        load_glm_from_bids(out_dir).contrast('visual')


# ------------------------------------------------------------------ surface models
def surface_values(image) -> np.ndarray:
    """The (samples, vertices) values of a surface map, in any of its forms."""
    return read_surface(image).data


def assert_round_trip(model, glm, contrasts) -> None:
    """Every loaded map holds the values of the model's own output, exactly."""
    for name in contrasts:
        loaded = glm.contrast(name)
        outputs = model.compute_contrast(contrasts[name], output_type='all')
        for output, stat in {**OUTPUTS, 'stat': loaded.stat_type}.items():
            np.testing.assert_array_equal(
                surface_values(loaded.maps[stat]), surface_values(outputs[output]), err_msg=stat
            )
    for index in range(len(model.design_matrices_)):
        np.testing.assert_array_equal(
            surface_values(glm.residuals[index]), surface_values(model.residuals_[index])
        )
        np.testing.assert_array_equal(
            surface_values(glm.r_square[index]), surface_values(model.r_square_[index])
        )
    np.testing.assert_array_equal(surface_values(glm.mean), surface_values(model.mean_img_))
    np.testing.assert_array_equal(surface_values(glm.mask), surface_values(model.mask_img_))


def test_a_gifti_model_is_read_back_by_hemisphere_with_its_values(gifti_model, out_dir):
    save_glm_to_bids(gifti_model, {'task': 'task'}, out_dir=out_dir)
    glm = load_glm_from_bids(out_dir / 'sub-01')
    assert glm.surface_format == 'GIFTI'
    z_map = glm.contrast('task').maps['z']
    assert isinstance(z_map, dict)
    assert set(z_map) == {'left', 'right'}
    assert z_map['right'].name.startswith('sub-01_task-x_hemi-R_space-fsaverage_den-10k_')
    assert len(glm.residuals) == len(glm.designs) == 2
    assert glm.contrast('task').metadata['StatisticType'] == 't'
    assert_round_trip(gifti_model, glm, {'task': 'task'})


def test_a_cifti_model_is_read_back_as_cifti_files_with_its_values(cifti_model, out_dir):
    contrasts = {'task': 'task', 'f': np.eye(2, 3)}
    save_glm_to_bids(cifti_model, contrasts, out_dir=out_dir)
    glm = load_glm_from_bids(out_dir)
    assert glm.surface_format == 'CIFTI-2'
    assert glm.contrast('f').stat_type == 'F'
    assert glm.residuals[0].name.endswith('_stat-errorts_statmap.dtseries.nii')
    assert_round_trip(cifti_model, glm, contrasts)


def test_a_loaded_surface_map_fits_a_new_model_as_its_runs_did(gifti_model, out_dir, surfaces):
    save_glm_to_bids(gifti_model, 'task', out_dir=out_dir)
    glm = load_glm_from_bids(out_dir / 'sub-01')
    refit = FirstLevelModel(t_r=T_R).fit(glm.residuals[0], surfaces.events())
    assert refit.masker_.mask_.layout.parts == (('left', 5), ('right', 4))


def test_a_volume_model_has_no_surface_format(first_level_in_memory, out_dir):
    save_glm_to_bids(first_level_in_memory, 'audio', out_dir=out_dir)
    assert load_glm_from_bids(out_dir).surface_format is None
