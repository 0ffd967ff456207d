"""first_level_from_bids: what it finds, how it reads the timing, and its errors.

The comparison with nilearn's function is in ``tests/compat/test_first_level_from_bids.py``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from bidsglm import FirstLevelModel, first_level_from_bids
from bidsglm.errors import InputNotFoundError, InvalidParameterError, ParameterTypeError

TASK = 'stroop'


@pytest.fixture
def dataset(tmp_path: Path, rng: np.random.Generator) -> Any:
    """The command-line tests' dataset: 2 subjects, 2 runs, TR 2 s, StartTime 0.5 s."""
    sys.path.insert(0, str(Path(__file__).parents[1] / 'cli'))
    from _fake_bids import make_fake_dataset

    return make_fake_dataset(tmp_path, rng, n_subjects=2, n_runs=2)


def _set_timing(dataset: Any, subject: str, t_r: float, start_time: float) -> None:
    for sidecar in dataset.func(subject).glob('*_bold.json'):
        sidecar.write_text(json.dumps({'RepetitionTime': t_r, 'StartTime': start_time}))


def test_returns_one_unfitted_model_and_the_runs_of_each_subject(dataset):
    models, imgs, events, confounds = first_level_from_bids(dataset.bids_dir, TASK)
    assert [type(m) for m in models] == [FirstLevelModel, FirstLevelModel]
    assert [m.subject_label for m in models] == ['01', '02']
    assert not hasattr(models[0], 'labels_')
    assert [Path(p).name for p in imgs[1]] == [
        f'sub-02_task-stroop_run-{r}_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz'
        for r in (1, 2)
    ]
    assert list(events[0][1].columns) == ['onset', 'duration', 'trial_type']
    assert events[0][1].onset.iloc[0] == 6.0  # run 2's onsets are shifted by 2 s
    assert confounds[1][0].shape == (30, 8)


def test_timing_is_read_for_each_subject(dataset):
    _set_timing(dataset, '02', 1.5, 0.75)
    models, *_ = first_level_from_bids(dataset.bids_dir, TASK)
    assert [(m.t_r, m.slice_time_ref) for m in models] == [(2.0, 0.25), (1.5, 0.5)]


def test_a_given_t_r_wins_with_a_warning_and_scales_start_time(dataset):
    with pytest.warns(RuntimeWarning, match=r't_r=2.5 is given, but RepetitionTime says \[2.0\]'):
        models, *_ = first_level_from_bids(dataset.bids_dir, TASK, t_r=2.5)
    assert (models[0].t_r, models[0].slice_time_ref) == (2.5, 0.2)


def test_a_given_slice_time_ref_wins_with_a_warning(dataset):
    with pytest.warns(RuntimeWarning, match=r'slice_time_ref=0.0 is given.*\[0.25\]'):
        models, *_ = first_level_from_bids(dataset.bids_dir, TASK, slice_time_ref=0.0)
    assert models[1].slice_time_ref == 0.0


def test_subject_labels_may_carry_the_sub_prefix(dataset):
    models, imgs, *_ = first_level_from_bids(dataset.bids_dir, TASK, sub_labels=['sub-02'])
    assert [m.subject_label for m in models] == ['02']
    assert len(imgs) == 1


def test_the_derivatives_folder_may_be_given_or_found(dataset):
    given = first_level_from_bids(
        dataset.bids_dir, TASK, derivatives_folder='derivatives/fmriprep'
    )
    assert given[1] == first_level_from_bids(dataset.bids_dir, TASK)[1]


def test_nilearns_default_space_is_chosen_among_several(dataset):
    for path in dataset.fmriprep.rglob('*space-MNI152NLin2009cAsym*'):
        shutil.copy(path, path.with_name(path.name.replace('MNI152NLin2009cAsym', 'T1w')))
    _, imgs, *_ = first_level_from_bids(dataset.bids_dir, TASK)
    assert all('space-MNI152NLin2009cAsym' in p for p in imgs[0])
    _, imgs, *_ = first_level_from_bids(dataset.bids_dir, TASK, space_label='T1w')
    assert all('space-T1w' in p for p in imgs[0])


def test_a_resolution_filter_selects_among_resolutions(dataset):
    for path in dataset.fmriprep.rglob('*space-MNI152NLin2009cAsym_*'):
        name = path.name.replace('Asym_', 'Asym_res-2_')
        shutil.copy(path, path.with_name(name))
    with pytest.raises(InvalidParameterError, match=r"img_filters=\[\('res', '2'\)\]"):
        first_level_from_bids(dataset.bids_dir, TASK)
    _, imgs, *_ = first_level_from_bids(dataset.bids_dir, TASK, img_filters=[('res', '2')])
    assert all('_res-2_' in p for p in imgs[0])


def test_confounds_are_none_without_tables_or_when_asked(dataset):
    *_, confounds = first_level_from_bids(dataset.bids_dir, TASK, confounds_strategy=None)
    assert confounds == [None, None]
    for table in dataset.func('01').glob('*_desc-confounds_timeseries.tsv'):
        table.unlink()
    *_, confounds = first_level_from_bids(dataset.bids_dir, TASK)
    assert confounds[0] is None
    assert len(confounds[1]) == 2


def test_a_run_without_confounds_beside_others_is_refused(dataset):
    next(dataset.func('01').glob('*run-2_desc-confounds_timeseries.tsv')).unlink()
    with pytest.raises(InputNotFoundError, match=r'run-2.*confounds_strategy=None'):
        first_level_from_bids(dataset.bids_dir, TASK)


def test_derivatives_masks_are_intersected_per_subject(dataset):
    models, *_ = first_level_from_bids(dataset.bids_dir, TASK, mask_img='derivatives')
    mask = models[0].mask_img
    assert mask.get_fdata().sum() == np.count_nonzero(
        np.asarray(nib.load(next(dataset.func('01').glob('*run-1_*_mask.nii.gz'))).dataobj)
    )


@pytest.mark.parametrize(
    ('options', 'error', 'match'),
    [
        ({'task_label': 'nback'}, InvalidParameterError, r"'nback'.*\['stroop'\].*task_label"),
        ({'task_label': 'st-roop'}, InvalidParameterError, r"'task_label' .* BIDS label"),
        ({'task_label': 3}, ParameterTypeError, r"'task_label' parameter must be a str"),
        (
            {'space_label': 'T1w'},
            InvalidParameterError,
            r"'T1w'.*MNI152NLin2009cAsym.*space_label",
        ),
        ({'space_label': 'fsaverage5'}, InvalidParameterError, r"'fsaverage5'.*space_label"),
        ({'sub_labels': ['09']}, InvalidParameterError, r"\['09'\].*\['01', '02'\].*sub_labels"),
        ({'sub_labels': '01'}, ParameterTypeError, r"'sub_labels' parameter must be a list"),
        ({'exclude_subjects': ['01', '02']}, InputNotFoundError, 'leaves no subject'),
        ({'derivatives_folder': 'derivatives/x'}, InputNotFoundError, r"x'.*derivatives_folder"),
        ({'derivatives_folder': '.'}, InputNotFoundError, r'No preprocessed BOLD.*derivatives_fo'),
        ({'img_filters': [('task', 'x')]}, InvalidParameterError, 'with task_label'),
        ({'img_filters': [('foo', 'x')]}, InvalidParameterError, r"'foo' .* not one of"),
        ({'img_filters': [('run', '1'), ('run', '2')]}, InvalidParameterError, 'twice'),
        ({'img_filters': [('acq',)]}, ParameterTypeError, r'\(str, str\)'),
        ({'t_r': -1.0}, InvalidParameterError, r"'t_r' parameter .* \(0, inf\)"),
        ({'slice_time_ref': 1.5}, InvalidParameterError, r"'slice_time_ref' .* \[0, 1\]"),
        ({'foo': 1}, ParameterTypeError, r"Unknown keyword arguments \['foo'\]"),
        ({'confounds_strategy': ('motion',)}, InvalidParameterError, 'confounds_strategy=None'),
    ],
)
def test_bad_inputs_are_refused_naming_the_way_out(dataset, options, error, match):
    arguments = {'dataset_path': dataset.bids_dir, 'task_label': TASK, **options}
    with pytest.raises(error, match=match):
        first_level_from_bids(**arguments)


def test_a_missing_dataset_is_refused(tmp_path):
    with pytest.raises(InputNotFoundError, match=r"Check 'dataset_path'"):
        first_level_from_bids(tmp_path / 'nothing', TASK)


def test_a_run_without_events_is_refused_naming_it(dataset):
    next(dataset.func('02', raw=True).glob('*run-1_events.tsv')).unlink()
    with pytest.raises(InputNotFoundError, match=r'sub-02_task-stroop_run-1.*sub_labels'):
        first_level_from_bids(dataset.bids_dir, TASK)


@pytest.fixture
def surface_dataset(dataset: Any, rng: np.random.Generator) -> Any:
    """The same dataset with fMRIPrep's surface runs: GIFTI pairs of 10 vertices per
    hemisphere in ``space-fsaverage5`` and CIFTI-2 series in ``space-fsLR_den-91k``."""
    from _fake_bids import add_surface_runs

    add_surface_runs(dataset, rng, 10, gifti_space='fsaverage5')
    return dataset


def test_gifti_runs_are_given_as_a_path_per_hemisphere(surface_dataset):
    models, imgs, events, confounds = first_level_from_bids(
        surface_dataset.bids_dir, TASK, space_label='fsaverage5', mask_img='derivatives'
    )
    func = surface_dataset.func('02')
    assert imgs[1][1] == {
        part: str(func / f'sub-02_task-stroop_run-2_hemi-{hemi}_space-fsaverage5_bold.func.gii')
        for part, hemi in (('left', 'L'), ('right', 'R'))
    }
    assert [m.mask_img for m in models] == [None, None]  # no derivatives mask on a surface
    assert (models[0].t_r, models[0].slice_time_ref) == (2.0, 0.25)
    assert events[0][1].onset.iloc[0] == 6.0
    assert confounds[1][0].shape == (30, 8)
    fitted = models[1].fit(imgs[1], events[1], [c[['trans_x']] for c in confounds[1]])
    assert fitted.masker_.mask_.layout.parts == (('left', 10), ('right', 10))
    assert fitted.run_sources_[0] == imgs[1][0]['left']


def test_cifti_runs_are_given_as_their_dense_series(surface_dataset):
    models, imgs, *_ = first_level_from_bids(
        surface_dataset.bids_dir, TASK, space_label='fsLR', img_filters=[('den', '91k')]
    )
    assert [Path(p).name for p in imgs[0]] == [
        f'sub-01_task-stroop_run-{r}_space-fsLR_den-91k_bold.dtseries.nii' for r in (1, 2)
    ]
    events = first_level_from_bids(surface_dataset.bids_dir, TASK, space_label='fsLR')[2]
    fitted = models[0].fit(imgs[0], events[0])
    assert fitted.masker_.mask_.layout.kind == 'cifti'
    assert fitted.masker_.mask_.layout.n_vertices == 20


def test_without_space_label_the_volume_runs_are_still_nilearns_default(surface_dataset):
    imgs = first_level_from_bids(surface_dataset.bids_dir, TASK)[1]
    assert [Path(p).name for p in imgs[0]] == [
        f'sub-01_task-stroop_run-{r}_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz'
        for r in (1, 2)
    ]
