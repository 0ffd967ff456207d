"""The second level read map by map and fitted in voxel blocks gives today's numbers.

The reference is the in-memory recipe the model followed before it streamed: stack
every masked map, fit the whole (maps, voxels) matrix at once with
:func:`bidsglm.stats.fit_glm`, compute the contrast from that fit. Inputs of several
sizes, masks and forms, with and without covariates, must match it to 1e-6 relative.
"""

from __future__ import annotations

import copy
import gzip

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm import SecondLevelModel, save_glm_to_bids
from bidsglm.bids._files import nifti_image, write_nifti
from bidsglm.models import _group_fit
from bidsglm.models._images import apply_mask, unmask
from bidsglm.models.results import ContrastResult
from bidsglm.stats import compute_contrast_stats, fit_glm

RTOL = 1e-6
OUTPUTS = ('effect_size', 'effect_variance', 'stat', 'p_value', 'z_score')


def make_maps(rng, shape, n_maps, dtype=np.float64, slope=None):
    """``n_maps`` maps: an ellipsoid of signal (mean 1, a slope on a covariate) in zeros."""
    grid = np.indices(shape).astype(float)
    centre = (np.array(shape) - 1) / 2
    radii = np.array(shape) / 2.3
    inside = sum(((grid[i] - centre[i]) / radii[i]) ** 2 for i in range(3)) <= 1
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    covariate = np.linspace(-1.0, 1.0, n_maps)
    maps = []
    for value in covariate:
        data = 1.0 + (0.0 if slope is None else slope * value) + rng.standard_normal(shape)
        maps.append(nib.Nifti1Image((data * inside).astype(dtype), affine))
    return maps, covariate, inside


def reference(maps, mask_img, design, smoothing_fwhm=None):
    """Today's recipe: every map masked and stacked, one fit of the whole matrix."""
    data = np.stack([apply_mask(m, mask_img, smoothing_fwhm=smoothing_fwhm)[0] for m in maps])
    return data, fit_glm(data, design.to_numpy(dtype=np.float64), 'ols')


def reference_maps(fit, design, contrast, stat_type, mask_img):
    columns = [str(column) for column in design.columns]
    weights = np.atleast_2d(np.asarray(contrast, dtype=float))
    stats = compute_contrast_stats(fit, weights, stat_type)
    return ContrastResult.from_stats(stats, [weights], [columns], mask_img).to_images()


def assert_close(actual, expected, scale=None):
    """Equal to 1e-6 relative; values near 0 (1e-9 of ``scale``, the largest) absolutely."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if scale is None:
        scale = np.abs(expected).max() if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL * scale * 1e-3)


def check_model(model, maps, design, contrasts, smoothing_fwhm=None):
    """Compare every map, the fitted attributes and results_ with the reference."""
    mask_img = model.mask_img_
    data, fit = reference(maps, mask_img, design, smoothing_fwhm)
    for contrast, stat_type in contrasts:
        ours = model.compute_contrast(
            contrast, second_level_stat_type=stat_type, output_type='all'
        )
        expected = reference_maps(fit, design, contrast, stat_type, mask_img)
        for output in OUTPUTS:
            assert_close(ours[output].get_fdata(), expected[output].get_fdata())
    assert_close(model.residuals_.get_fdata(), unmask(fit.residuals, mask_img).get_fdata())
    predicted = design.to_numpy(dtype=np.float64) @ fit.beta
    assert_close(model.predicted_.get_fdata(), unmask(predicted, mask_img).get_fdata())
    r_square = unmask(fit.r_square, mask_img).get_fdata()  # in [0, 1]: 0 is rounding
    assert_close(model.r_square_.get_fdata(), r_square, scale=1.0)
    np.testing.assert_array_equal(model.labels_, np.zeros(data.shape[1]))
    results = model.results_[0.0]
    assert_close(results.theta, fit.beta)
    assert_close(results.dispersion, fit.dispersion)
    assert_close(results.residuals, data - predicted)


@pytest.mark.parametrize(
    ('shape', 'n_maps'), [((5, 6, 4), 2), ((6, 7, 5), 3), ((9, 8, 7), 17), ((12, 11, 9), 60)]
)
def test_one_sample_equals_the_in_memory_fit_at_every_size(rng, shape, n_maps):
    maps, _, _ = make_maps(rng, shape, n_maps)
    model = SecondLevelModel().fit(maps)
    design = pd.DataFrame({'intercept': np.ones(n_maps)})
    check_model(model, maps, design, [([1.0], 't'), ([1.0], 'F')])


@pytest.mark.parametrize(('shape', 'n_maps'), [((6, 7, 5), 5), ((10, 9, 8), 40)])
def test_covariates_from_confounds_equal_the_in_memory_fit(rng, tmp_path, shape, n_maps):
    maps, covariate, _ = make_maps(rng, shape, n_maps, dtype=np.float32, slope=0.5)
    labels = [f'{index:03d}' for index in range(n_maps)]
    paths = []
    for label, image in zip(labels, maps, strict=True):
        paths.append(str(tmp_path / f'sub-{label}_map.nii.gz'))
        image.to_filename(paths[-1])
    table = pd.DataFrame({'subject_label': labels, 'map_name': 'a', 'effects_map_path': paths})
    confounds = pd.DataFrame(
        {'subject_label': labels, 'age': covariate, 'group': np.arange(n_maps) % 2}
    )
    model = SecondLevelModel().fit(table, confounds=confounds)
    assert model.input_sources_ == paths
    design = model.design_matrix_
    assert list(design.columns) == ['age', 'group', 'intercept']
    check_model(model, paths, design, [([1.0, 0, 0], 't'), (np.eye(3)[:2], 'F')])


def test_a_given_mask_and_smoothing_equal_the_in_memory_fit(rng):
    maps, covariate, inside = make_maps(rng, (9, 10, 8), 12, slope=1.0)
    mask = nib.Nifti1Image(inside.astype(np.uint8), maps[0].affine)
    design = pd.DataFrame({'intercept': np.ones(12), 'age': covariate})
    model = SecondLevelModel(mask_img=mask, smoothing_fwhm=4.0).fit(maps, design_matrix=design)
    check_model(model, maps, design, [([0.0, 1.0], 't'), ([[1.0, 0.0], [0.0, 1.0]], 'F')], 4.0)


def test_a_4d_input_equals_the_in_memory_fit(rng):
    maps, _, _ = make_maps(rng, (7, 6, 5), 9)
    stacked = nib.Nifti1Image(np.stack([m.get_fdata() for m in maps], axis=-1), maps[0].affine)
    model = SecondLevelModel().fit(stacked)
    check_model(model, maps, pd.DataFrame({'intercept': np.ones(9)}), [([1.0], 't')])


def test_the_saved_errorts_is_the_residual_image_to_the_byte(rng, tmp_path):
    maps, _, _ = make_maps(rng, (8, 7, 6), 11, dtype=np.float32)
    model = SecondLevelModel().fit(maps)
    saved = save_glm_to_bids(model, 'intercept', out_dir=tmp_path, prefix='task-x')
    errorts = next(path for path in saved.files if 'stat-errorts' in path.name)
    image = nib.load(errorts)
    assert image.shape == (8, 7, 6, 11)
    assert image.get_data_dtype() == np.float32
    expected = model.residuals_.get_fdata().astype(np.float32)
    np.testing.assert_array_equal(image.get_fdata(), expected)
    reference_file = tmp_path / 'reference.nii.gz'
    write_nifti(reference_file, nifti_image(model.residuals_, dtype=np.float32))
    assert gzip.decompress(errorts.read_bytes()) == gzip.decompress(reference_file.read_bytes())


@pytest.mark.parametrize('block_bytes', [8, 8 * 17 * 50, 8 * 17 * 333])
def test_blocks_of_any_size_give_the_in_memory_numbers(rng, monkeypatch, block_bytes):
    monkeypatch.setattr(_group_fit, 'BLOCK_BYTES', block_bytes)
    maps, covariate, _ = make_maps(rng, (9, 8, 7), 17, slope=0.3)
    design = pd.DataFrame({'intercept': np.ones(17), 'age': covariate})
    model = SecondLevelModel().fit(maps, design_matrix=design)
    check_model(model, maps, design, [([0.0, 1.0], 't'), (np.eye(2), 'F')])


def test_a_copy_of_a_fitted_model_keeps_its_maps(rng):
    maps, _, _ = make_maps(rng, (6, 5, 4), 8)
    model = SecondLevelModel().fit(maps)
    copied = copy.deepcopy(model)
    del model
    design = pd.DataFrame({'intercept': np.ones(8)})
    check_model(copied, maps, design, [([1.0], 't')])


def test_maps_of_mixed_float_types_are_fitted_in_the_wider_type(rng):
    maps, _, _ = make_maps(rng, (6, 5, 4), 6, dtype=np.float32)
    maps[3] = nib.Nifti1Image(maps[3].get_fdata().astype(np.float64) + 1e-9, maps[3].affine)
    model = SecondLevelModel().fit(maps)
    check_model(model, maps, pd.DataFrame({'intercept': np.ones(6)}), [([1.0], 't')])


def test_maps_read_for_their_own_mask_keep_only_the_voxels_non_zero_in_some_map(rng):
    maps, _, inside = make_maps(rng, (9, 8, 7), 10, dtype=np.float32)
    for index, image in enumerate(maps):  # +0 outside the brain (make_maps leaves -0.0)
        data = np.where(inside, image.get_fdata(), 0.0)
        if index == 6:  # a later map reaches outside the others' brain
            data[0, 0, :3] = [2.0, -0.0, 3.0]
        maps[index] = nib.Nifti1Image(data.astype(np.float32), image.affine)
    model = SecondLevelModel().fit(maps)
    store = model._fixed_fit.store
    assert store.shape == (10, inside.sum() + 3)  # -0.0 counts: its sign is data
    assert store.nbytes < 10 * (inside.sum() + 3) * 4  # maps 0 to 5 hold no column for them
    check_model(model, maps, pd.DataFrame({'intercept': np.ones(10)}), [([1.0], 't')])


def test_mask_voxels_zero_in_every_map_are_fitted_as_zeros(rng):
    # 5 outside the brain: the background is 5, so voxels 0 in every map are in the mask
    maps, _, inside = make_maps(rng, (9, 8, 7), 8, dtype=np.float32)
    hole = np.zeros(inside.shape, dtype=bool)
    hole[4, 4, 3:5] = True
    for index, image in enumerate(maps):
        data = np.where(inside, image.get_fdata(), 5.0)
        data[hole] = 0.0
        maps[index] = nib.Nifti1Image(data.astype(np.float32), image.affine)
    model = SecondLevelModel().fit(maps)
    assert np.asanyarray(model.mask_img_.dataobj)[hole].all()
    design = pd.DataFrame({'intercept': np.ones(8)})
    check_model(model, maps, design, [([1.0], 't')])
    np.testing.assert_array_equal(model.residuals_.get_fdata()[hole], 0.0)


def test_smoothed_maps_read_for_their_own_mask_equal_the_in_memory_fit(rng):
    maps, _, _ = make_maps(rng, (9, 10, 8), 9)
    model = SecondLevelModel(smoothing_fwhm=3.0).fit(maps)
    design = pd.DataFrame({'intercept': np.ones(9)})
    check_model(model, maps, design, [([1.0], 't')], 3.0)
