"""SecondLevelModel.fit takes nilearn's input forms (a Series, a design file), same maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from nilearn.glm.second_level import SecondLevelModel as NilearnSecondLevel

from bidsglm import SecondLevelModel
from bidsglm.errors import InvalidParameterError

from .conftest import assert_maps_equal, make_maps, quietly, recording, warned

pytestmark = pytest.mark.oracle

N_MAPS = 6


@pytest.fixture
def maps(rng):
    return make_maps(rng, N_MAPS)


@pytest.fixture
def paths(maps, tmp_path):
    written = []
    for index, image in enumerate(maps):
        written.append(str(tmp_path / f'sub-{index + 1:02d}_stat-effect_statmap.nii.gz'))
        image.to_filename(written[-1])
    return written


@pytest.fixture
def design():
    return pd.DataFrame({'intercept': np.ones(N_MAPS), 'age': np.linspace(-1.0, 1.5, N_MAPS)})


def _contrasts(ours, theirs, contrast, **kwargs):
    return (
        ours.compute_contrast(contrast, output_type='all', **kwargs),
        quietly(theirs.compute_contrast, contrast, output_type='all', **kwargs),
    )


@pytest.mark.parametrize('kind', ['paths', 'images'])
def test_a_series_of_maps_fits_as_nilearn(maps, paths, design, mask_img, kind):
    series = pd.Series(paths if kind == 'paths' else maps)
    ours = SecondLevelModel(mask_img=mask_img).fit(series, design_matrix=design)
    theirs = quietly(NilearnSecondLevel(mask_img=mask_img).fit, series, design_matrix=design)
    assert ours.input_sources_ == (paths if kind == 'paths' else [None] * N_MAPS)
    assert_maps_equal(*_contrasts(ours, theirs, 'age'))


def test_a_series_needs_no_design_unlike_nilearn(paths, mask_img):
    series = pd.Series(paths)
    with pytest.raises(ValueError, match='require a design matrix'):
        quietly(NilearnSecondLevel(mask_img=mask_img).fit, series)
    intercept = pd.DataFrame({'intercept': np.ones(N_MAPS)})
    theirs = quietly(NilearnSecondLevel(mask_img=mask_img).fit, series, design_matrix=intercept)
    ours = SecondLevelModel(mask_img=mask_img).fit(series)  # one-sample test by default
    assert_maps_equal(*_contrasts(ours, theirs, 'intercept'))


def test_a_series_of_one_map_is_refused(paths, mask_img):
    with pytest.raises(TypeError, match='needs at least 2 input maps'):
        SecondLevelModel(mask_img=mask_img).fit(pd.Series(paths[:1]))


@pytest.mark.parametrize('suffix', ['.tsv', '.csv'])
def test_a_design_file_fits_as_nilearn(maps, design, mask_img, tmp_path, suffix):
    path = tmp_path / f'group_design{suffix}'
    design.to_csv(path, sep='\t' if suffix == '.tsv' else ',', index=False)
    ours = SecondLevelModel(mask_img=mask_img).fit(maps, design_matrix=path)
    theirs = quietly(NilearnSecondLevel(mask_img=mask_img).fit, maps, design_matrix=path)
    assert list(ours.design_matrix_.columns) == list(theirs.design_matrix_.columns)
    np.testing.assert_array_equal(ours.design_matrix_, theirs.design_matrix_)
    assert_maps_equal(*_contrasts(ours, theirs, 'age'))


def test_a_design_file_with_missing_values_is_refused(maps, design, mask_img, tmp_path):
    path = tmp_path / 'group_design.tsv'
    design.assign(age=[np.nan, *design['age'][1:]]).to_csv(path, sep='\t', index=False)
    with pytest.raises(InvalidParameterError, match=r"missing values .*\['age'\]"):
        SecondLevelModel(mask_img=mask_img).fit(maps, design_matrix=path)


def test_a_design_with_confounds_ignores_them_as_nilearn_but_says_so(rng, paths, mask_img):
    models_like = pd.DataFrame(
        {
            'subject_label': [f'{i:02d}' for i in range(1, N_MAPS + 1)],
            'map_name': 'effect',
            'effects_map_path': paths,
        }
    )
    design = pd.DataFrame({'intercept': np.ones(N_MAPS), 'age': rng.standard_normal(N_MAPS)})
    confounds = pd.DataFrame(
        {'subject_label': models_like['subject_label'], 'iq': rng.standard_normal(N_MAPS)}
    )
    theirs, caught = recording(
        NilearnSecondLevel(mask_img=mask_img).fit,
        models_like,
        confounds=confounds,
        design_matrix=design,
    )
    assert not warned(caught, UserWarning, 'confounds')  # nilearn is silent
    with pytest.warns(UserWarning, match='design_matrix and confounds: .* confounds are ignored'):
        ours = SecondLevelModel(mask_img=mask_img).fit(
            models_like, confounds=confounds, design_matrix=design
        )
    assert list(ours.design_matrix_.columns) == ['intercept', 'age']
    assert_maps_equal(*_contrasts(ours, theirs, 'age', first_level_contrast='effect'))
