"""``first_level_from_bids`` against nilearn 0.14.1's on an fMRIPrep-style dataset.

The command-line tests' dataset (``tests/cli/_fake_bids.py``): 3 subjects of 2 runs,
float32 runs of 6 x 7 x 8 voxels and 30 volumes, TR 2 s, ``StartTime`` 0.5 s, events
in the raw dataset, confounds and brain masks beside the runs. Both functions must
give the same subjects, runs, tables and model parameters, and the models fitted on
them the same maps (1e-4 relative: the runs are float32).
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import first_level_from_bids as nilearn_first_level_from_bids

from bidsglm import first_level_from_bids

from .conftest import assert_maps_equal, quietly

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.oracle

#: The oracle tolerance on float32 runs.
RTOL = 1e-4
CONTRAST = 'congruent - incongruent'


@pytest.fixture
def make_dataset(tmp_path: Path, rng: np.random.Generator) -> Callable[..., Any]:
    """Write the command-line tests' fake dataset (keywords as ``make_fake_dataset``)."""
    sys.path.insert(0, str(Path(__file__).parents[1] / 'cli'))
    from _fake_bids import make_fake_dataset

    return lambda **options: make_fake_dataset(tmp_path, rng, **options)


def both(bids_dir: Path, **options: Any) -> tuple[tuple, tuple]:
    """Call ours (derivatives found by itself) and nilearn's (the fMRIPrep folder given)."""
    ours = first_level_from_bids(bids_dir, 'stroop', **options)
    theirs = quietly(
        nilearn_first_level_from_bids,
        bids_dir,
        'stroop',
        derivatives_folder='derivatives/fmriprep',
        **options,
    )
    return ours, theirs


def test_the_signature_is_nilearns():
    ours = inspect.signature(first_level_from_bids).parameters.values()
    theirs = inspect.signature(nilearn_first_level_from_bids).parameters.values()
    assert [(p.name, p.kind, p.default) for p in ours] == [
        (p.name, p.kind, p.default) for p in theirs
    ]


def test_subjects_runs_and_tables_are_nilearns(make_dataset):
    dataset = make_dataset(n_subjects=3, n_runs=2)
    ours, theirs = both(dataset.bids_dir)
    assert [m.subject_label for m in ours[0]] == [m.subject_label for m in theirs[0]]
    assert [m.subject_label for m in ours[0]] == ['01', '02', '03']
    assert ours[1] == theirs[1]
    assert [len(imgs) for imgs in ours[1]] == [2, 2, 2]
    for kind in (2, 3):  # events, confounds
        for mine, reference in zip(ours[kind], theirs[kind], strict=True):
            assert len(mine) == len(reference) == 2
            for table, expected in zip(mine, reference, strict=True):
                pd.testing.assert_frame_equal(table, expected)
    assert ours[3][0][0].loc[0, 'framewise_displacement'] == 0.0  # n/a of the first row


def test_model_parameters_are_nilearns(make_dataset):
    dataset = make_dataset(n_subjects=2, n_runs=2, t_r=2.0, start_time=0.5)
    ours, theirs = both(dataset.bids_dir, hrf_model='spm', noise_model='ols', high_pass=0.02)
    for mine, reference in zip(ours[0], theirs[0], strict=True):
        expected = reference.get_params()
        del expected['memory']  # nilearn puts a joblib.Memory(None) where we keep None
        assert {k: mine.get_params()[k] for k in expected} == expected
        assert (mine.t_r, mine.slice_time_ref, mine.noise_model) == (2.0, 0.25, 'ols')


def test_fitted_maps_are_nilearns(make_dataset):
    dataset = make_dataset(n_subjects=2, n_runs=2)
    ours, theirs = both(dataset.bids_dir, minimize_memory=False)
    for i in range(2):
        mine = ours[0][i].fit(ours[1][i], ours[2][i], ours[3][i])
        reference = quietly(theirs[0][i].fit, theirs[1][i], theirs[2][i], theirs[3][i])
        assert_maps_equal(
            mine.compute_contrast(CONTRAST, output_type='all'),
            quietly(reference.compute_contrast, CONTRAST, output_type='all'),
            rtol=RTOL,
        )
        assert list(mine.design_matrices_[1].columns) == list(
            reference.design_matrices_[1].columns
        )


def test_subject_selection_is_nilearns(make_dataset):
    dataset = make_dataset(n_subjects=3, n_runs=1)
    ours, theirs = both(dataset.bids_dir, sub_labels=['01', '03'], exclude_subjects=['03'])
    assert [m.subject_label for m in ours[0]] == [m.subject_label for m in theirs[0]] == ['01']
    ours, theirs = both(dataset.bids_dir, img_filters=[('run', '1')], confounds_strategy=None)
    assert ours[1] == theirs[1]
    assert ours[3] == theirs[3] == [None, None, None]


def test_each_subject_gets_its_own_derivatives_mask_where_nilearn_reuses_the_first(
    make_dataset,
):
    dataset = make_dataset(n_subjects=2, n_runs=1)
    second = next(dataset.func('02').glob('*_desc-brain_mask.nii.gz'))
    image = nib.load(second)
    smaller = np.asarray(image.dataobj).copy()
    smaller[:3] = 0
    nib.save(nib.Nifti1Image(smaller, image.affine), second)
    ours, theirs = both(dataset.bids_dir, mask_img='derivatives')

    def inside(mask: Any) -> int:
        image = mask if isinstance(mask, nib.Nifti1Image) else nib.load(mask)
        return int(np.count_nonzero(np.asarray(image.dataobj)))

    first_mask = inside(ours[0][0].mask_img)
    assert inside(ours[0][1].mask_img) == np.count_nonzero(smaller) < first_mask
    assert inside(theirs[0][1].mask_img) == first_mask  # nilearn 0.14.1's bug


#: Vertices per hemisphere of fsaverage5, the mesh nilearn puts GIFTI runs on.
FSAVERAGE5_VERTICES = 10242


def test_fsaverage5_gifti_runs_are_nilearns_and_fit_to_its_numbers(make_dataset, rng):
    from _fake_bids import add_surface_runs
    from nilearn.surface import SurfaceImage

    dataset = make_dataset(n_subjects=2, n_runs=2)
    add_surface_runs(dataset, rng, FSAVERAGE5_VERTICES, gifti_space='fsaverage5')
    ours, theirs = both(dataset.bids_dir, space_label='fsaverage5', minimize_memory=False)
    assert [m.subject_label for m in ours[0]] == [m.subject_label for m in theirs[0]]
    for mine, reference in zip(ours[0], theirs[0], strict=True):
        expected = reference.get_params()
        del expected['memory']
        assert {k: mine.get_params()[k] for k in expected} == expected
    for my_runs, their_runs in zip(ours[1], theirs[1], strict=True):
        assert len(my_runs) == len(their_runs) == 2
        for mine, reference in zip(my_runs, their_runs, strict=True):
            assert isinstance(reference, SurfaceImage)  # nilearn's form; ours: the paths
            for part in ('left', 'right'):
                data = np.column_stack(nib.load(mine[part]).agg_data())
                np.testing.assert_array_equal(data, np.asarray(reference.data.parts[part]))
    for kind in (2, 3):  # events, confounds
        for mine, reference in zip(ours[kind], theirs[kind], strict=True):
            for table, expected_table in zip(mine, reference, strict=True):
                pd.testing.assert_frame_equal(table, expected_table)
    motion = [[c[['trans_x', 'trans_y']] for c in runs] for runs in ours[3]]
    mine = ours[0][1].fit(ours[1][1], ours[2][1], motion[1])
    reference = quietly(theirs[0][1].fit, theirs[1][1], theirs[2][1], motion[1])
    maps = mine.compute_contrast(CONTRAST, output_type='all')
    expected_maps = quietly(reference.compute_contrast, CONTRAST, output_type='all')
    for name, image in maps.items():
        values = np.concatenate([np.asarray(image[p].agg_data()) for p in ('left', 'right')])
        parts = expected_maps[name].data.parts
        expected_values = np.concatenate([np.asarray(parts[p]).ravel() for p in parts])
        scale = np.abs(expected_values).max()
        np.testing.assert_allclose(
            values, expected_values, rtol=RTOL, atol=RTOL * scale, err_msg=name
        )
