"""Each misuse of the public API that nilearn refuses, we refuse catchably the same way.

Every case calls nilearn 0.14.1 and bidsglm with the same arguments. nilearn's error
must be of the built-in class the case names (so the test notices when nilearn
changes), and ours must be a :class:`BidsGlmError` that is also every built-in
nilearn's error is: whatever ``except`` clause caught nilearn's catches ours.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.glm.first_level import make_first_level_design_matrix as nilearn_first_design
from nilearn.glm.second_level import SecondLevelModel as NilearnSecondLevel
from nilearn.glm.second_level import make_second_level_design_matrix as nilearn_second_design

import bidsglm
from bidsglm.errors import BidsGlmError

from .conftest import AFFINE, N_SCANS, SHAPE, T_R, brain, make_events, make_maps, make_run

pytestmark = pytest.mark.oracle

NILEARN = SimpleNamespace(
    name='nilearn',
    FirstLevelModel=NilearnFirstLevel,
    SecondLevelModel=NilearnSecondLevel,
    first_design=nilearn_first_design,
    second_design=nilearn_second_design,
)
OURS = SimpleNamespace(
    name='bidsglm',
    FirstLevelModel=bidsglm.FirstLevelModel,
    SecondLevelModel=bidsglm.SecondLevelModel,
    first_design=bidsglm.make_first_level_design_matrix,
    second_design=bidsglm.make_second_level_design_matrix,
)


@dataclass(frozen=True, eq=False)
class Data:
    """Inputs shared by the cases, built once; fitted models are made once per library."""

    folder: Path
    run: nib.Nifti1Image
    volume: nib.Nifti1Image
    events: pd.DataFrame
    mask: nib.Nifti1Image
    maps: list[nib.Nifti1Image]
    design: pd.DataFrame  # of the maps: an intercept
    frame_times: np.ndarray
    covariates: pd.DataFrame
    made: dict[tuple[object, ...], Any] = field(default_factory=dict)

    def first(self, lib: SimpleNamespace, **params: Any) -> Any:
        return lib.FirstLevelModel(**{'mask_img': self.mask, **params})

    def second(self, lib: SimpleNamespace, **params: Any) -> Any:
        return lib.SecondLevelModel(**{'mask_img': self.mask, **params})

    def fit_events(self, lib: SimpleNamespace, **params: Any) -> Any:
        return self.first(lib, **{'t_r': T_R, **params}).fit(self.run, events=self.events)

    def _once(self, key: tuple[object, ...], make: Any) -> Any:
        if key not in self.made:
            self.made[key] = make()
        return self.made[key]

    def fitted(self, lib: SimpleNamespace, n_runs: int = 1) -> Any:
        events = [make_events(2.0 * i) for i in range(n_runs)]
        return self._once(
            (lib.name, 'first', n_runs),
            lambda: self.first(lib, t_r=T_R).fit([self.run] * n_runs, events=events),
        )

    def zeros(self, lib: SimpleNamespace) -> np.ndarray:
        """An all-zero contrast over the fitted first-level design."""
        return np.zeros(self.fitted(lib).design_matrices_[0].shape[1])

    def fitted_second(self, lib: SimpleNamespace, covariate: bool = False) -> Any:
        design = self.design.assign(age=np.arange(4.0)) if covariate else self.design
        return self._once(
            (lib.name, 'second', covariate),
            lambda: self.second(lib).fit(self.maps, design_matrix=design),
        )

    def first_levels(self, lib: SimpleNamespace, labelled: bool = True) -> list[Any]:
        def make() -> list[Any]:
            return [
                self.first(lib, t_r=T_R, subject_label=f'0{i}' if labelled else None).fit(
                    self.run, events=self.events
                )
                for i in range(3)
            ]

        return self._once((lib.name, 'first levels', labelled), make)


@pytest.fixture(scope='module')
def data(tmp_path_factory) -> Data:
    rng = np.random.default_rng(20011126)
    folder = tmp_path_factory.mktemp('compat_errors')
    (folder / 'table.txt').write_text('onset\tduration\n1\t1\n')
    return Data(
        folder=folder,
        run=make_run(rng),
        volume=nib.Nifti1Image(rng.standard_normal(SHAPE), AFFINE),
        events=make_events(),
        mask=nib.Nifti1Image(brain().astype(np.uint8), AFFINE),
        maps=make_maps(rng, 4),
        design=pd.DataFrame({'intercept': np.ones(4)}),
        frame_times=np.arange(N_SCANS) * T_R,
        covariates=pd.DataFrame({'subject_label': ['01', '02', '03'], 'age': [1.0, 2.0, 4.0]}),
    )


# Each case: an id, the built-in nilearn's error is, and the misuse, written once
# for both libraries (``lib``) with the shared inputs (``d``).
FIRST_LEVEL_PARAMETERS = [
    ('t_r is text', TypeError, lambda lib, d: d.fit_events(lib, t_r='2')),
    ('t_r is negative', ValueError, lambda lib, d: d.fit_events(lib, t_r=-1.0)),
    ('t_r is a bool', TypeError, lambda lib, d: d.fit_events(lib, t_r=True)),
    ('slice_time_ref > 1', ValueError, lambda lib, d: d.fit_events(lib, slice_time_ref=2.0)),
    ('slice_time_ref is text', TypeError, lambda lib, d: d.fit_events(lib, slice_time_ref='0')),
    ('noise_model unknown', ValueError, lambda lib, d: d.fit_events(lib, noise_model='foo')),
    ('noise_model is a number', TypeError, lambda lib, d: d.fit_events(lib, noise_model=3)),
    ('signal_scaling is 2', ValueError, lambda lib, d: d.fit_events(lib, signal_scaling=2)),
    ('signal_scaling is text', ValueError, lambda lib, d: d.fit_events(lib, signal_scaling='a')),
    ('smoothing_fwhm is text', TypeError, lambda lib, d: d.fit_events(lib, smoothing_fwhm='a')),
    ('hrf_model is a number', TypeError, lambda lib, d: d.fit_events(lib, hrf_model=3)),
    ('hrf_model unknown', ValueError, lambda lib, d: d.fit_events(lib, hrf_model='foo')),
    ('high_pass is text', TypeError, lambda lib, d: d.fit_events(lib, high_pass='a')),
    ('high_pass is negative', ValueError, lambda lib, d: d.fit_events(lib, high_pass=-0.1)),
    ('min_onset is text', ValueError, lambda lib, d: d.fit_events(lib, min_onset='a')),
    ('min_onset is positive', ValueError, lambda lib, d: d.fit_events(lib, min_onset=5.0)),
    ('fir_delays is text', ValueError, lambda lib, d: d.fit_events(lib, fir_delays='a')),
    ('n_jobs is text', TypeError, lambda lib, d: d.fit_events(lib, n_jobs='a')),
    ('n_jobs is 0', ValueError, lambda lib, d: d.fit_events(lib, n_jobs=0)),
    ('n_jobs is a float', TypeError, lambda lib, d: d.fit_events(lib, n_jobs=1.5)),
    ('memory_level is text', TypeError, lambda lib, d: d.fit_events(lib, memory_level='a')),
    ('verbose is text', TypeError, lambda lib, d: d.fit_events(lib, verbose='a')),
    ('target_affine is text', TypeError, lambda lib, d: d.fit_events(lib, target_affine='a')),
    ('target_shape is text', TypeError, lambda lib, d: d.fit_events(lib, target_shape='a')),
    ('random_state is text', TypeError, lambda lib, d: d.fit_events(lib, random_state='a')),
    ('standardize unknown', ValueError, lambda lib, d: d.fit_events(lib, standardize='foo')),
    ('memory is a number', TypeError, lambda lib, d: d.fit_events(lib, memory=3)),
    ('mask_img is a number', TypeError, lambda lib, d: d.fit_events(lib, mask_img=3)),
    (
        'mask_img file missing',
        ValueError,
        lambda lib, d: d.fit_events(lib, mask_img=str(d.folder / 'no_mask.nii.gz')),
    ),
]

FIRST_LEVEL_FIT = [
    ('run is a number', TypeError, lambda lib, d: d.first(lib, t_r=T_R).fit(3, events=d.events)),
    (
        'run is an array',
        TypeError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(np.zeros((*SHAPE, N_SCANS)), events=d.events),
    ),
    ('run is 3D', TypeError, lambda lib, d: d.first(lib, t_r=T_R).fit(d.volume, events=d.events)),
    (
        'run file missing',
        ValueError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(str(d.folder / 'no.nii.gz'), events=d.events),
    ),
    (
        'one run of a list is a number',
        TypeError,
        lambda lib, d: d.first(lib, t_r=T_R).fit([d.run, 3], events=[d.events] * 2),
    ),
    (
        'runs on two grids',
        ValueError,
        lambda lib, d: d.first(lib, t_r=T_R, mask_img=None).fit(
            [d.run, d.run.slicer[:-1]], events=[d.events] * 2
        ),
    ),
    ('no events and no design', ValueError, lambda lib, d: d.first(lib, t_r=T_R).fit(d.run)),
    ('no t_r for events', ValueError, lambda lib, d: d.first(lib).fit(d.run, events=d.events)),
    ('events is a number', TypeError, lambda lib, d: d.first(lib, t_r=T_R).fit(d.run, events=3)),
    (
        'events is a dict',
        TypeError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(d.run, events={'onset': [1.0]}),
    ),
    (
        'events is an array',
        TypeError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(d.run, events=np.zeros((3, 3))),
    ),
    (
        'events without onset',
        ValueError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(d.run, events=d.events.drop(columns='onset')),
    ),
    (
        'two events tables for one run',
        ValueError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(d.run, events=[d.events] * 2),
    ),
    (
        'events file of another kind',
        ValueError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(d.run, events=str(d.folder / 'table.txt')),
    ),
    (
        'events file missing',
        FileNotFoundError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(d.run, events=str(d.folder / 'no.tsv')),
    ),
    (
        'events onset missing',
        ValueError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(
            d.run, events=d.events.assign(onset=np.r_[np.nan, d.events['onset'][1:]])
        ),
    ),
    (
        'events onset text',
        ValueError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(
            d.run, events=d.events.assign(onset=['soon', *d.events['onset'][1:]])
        ),
    ),
    (
        'confounds is a number',
        TypeError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(d.run, events=d.events, confounds=3),
    ),
    (
        'confounds too short',
        ValueError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(
            d.run, events=d.events, confounds=pd.DataFrame({'x': np.arange(5.0)})
        ),
    ),
    (
        'confounds missing values',
        ValueError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(
            d.run, events=d.events, confounds=pd.DataFrame({'x': [np.nan] + [1.0] * 39})
        ),
    ),
    (
        'confounds text',
        TypeError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(
            d.run, events=d.events, confounds=pd.DataFrame({'x': ['a'] + [1.0] * 39})
        ),
    ),
    (
        'two confounds tables for one run',
        ValueError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(
            d.run, events=d.events, confounds=[pd.DataFrame({'x': np.arange(40.0)})] * 2
        ),
    ),
    (
        'confound named constant',
        ValueError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(
            d.run, events=d.events, confounds=pd.DataFrame({'constant': np.arange(40.0)})
        ),
    ),
    (
        'bins is text',
        TypeError,
        lambda lib, d: d.first(lib, t_r=T_R).fit(d.run, events=d.events, bins='a'),
    ),
]

FIRST_LEVEL_CONTRASTS = [
    ('before fit', ValueError, lambda lib, d: d.first(lib).compute_contrast('audio')),
    ('before fit (attribute)', AttributeError, lambda lib, d: d.first(lib).compute_contrast('a')),
    ('a number', ValueError, lambda lib, d: d.fitted(lib).compute_contrast(3)),
    ('None', ValueError, lambda lib, d: d.fitted(lib).compute_contrast(None)),
    ('a dict', ValueError, lambda lib, d: d.fitted(lib).compute_contrast({'audio': 1})),
    ('an unknown name', ValueError, lambda lib, d: d.fitted(lib).compute_contrast('zz')),
    ('a broken expression', ValueError, lambda lib, d: d.fitted(lib).compute_contrast('audio +')),
    ('an empty expression', ValueError, lambda lib, d: d.fitted(lib).compute_contrast('')),
    ('a 3D array', ValueError, lambda lib, d: d.fitted(lib).compute_contrast(np.ones((2, 2, 5)))),
    ('too wide', ValueError, lambda lib, d: d.fitted(lib).compute_contrast([np.ones(9)])),
    ('an F too wide', ValueError, lambda lib, d: d.fitted(lib).compute_contrast(np.eye(9)[:2])),
    ('all zeros', ValueError, lambda lib, d: d.fitted(lib).compute_contrast(d.zeros(lib))),
    (
        'stat_type unknown',
        ValueError,
        lambda lib, d: d.fitted(lib).compute_contrast('audio', stat_type='x'),
    ),
    (
        'output_type unknown',
        ValueError,
        lambda lib, d: d.fitted(lib).compute_contrast('audio', output_type='x'),
    ),
    (
        '3 definitions for 2 runs',
        ValueError,
        lambda lib, d: d.fitted(lib, 2).compute_contrast(['audio', 'visual', 'audio']),
    ),
    (
        'all zeros over 2 runs',
        ValueError,
        lambda lib, d: d.fitted(lib, 2).compute_contrast([d.zeros(lib)] * 2),
    ),
]

SECOND_LEVEL_FIT = [
    ('input is a number', TypeError, lambda lib, d: d.second(lib).fit(3, design_matrix=d.design)),
    ('input is empty', TypeError, lambda lib, d: d.second(lib).fit([], design_matrix=d.design)),
    (
        'a list of one map',
        TypeError,
        lambda lib, d: d.second(lib).fit(d.maps[:1], design_matrix=d.design[:1]),
    ),
    (
        'a map is a number',
        TypeError,
        lambda lib, d: d.second(lib).fit([d.maps[0], 3], design_matrix=d.design[:2]),
    ),
    (
        'maps are numbers',
        TypeError,
        lambda lib, d: d.second(lib).fit([3, 3], design_matrix=d.design[:2]),
    ),
    (
        'maps are 4D',
        ValueError,
        lambda lib, d: d.second(lib).fit([d.run, d.run], design_matrix=d.design[:2]),
    ),
    (
        'map files missing',
        ValueError,
        lambda lib, d: d.second(lib).fit(
            [str(d.folder / 'a.nii.gz'), str(d.folder / 'b.nii.gz')], design_matrix=d.design[:2]
        ),
    ),
    (
        'one 3D image',
        TypeError,
        lambda lib, d: d.second(lib).fit(d.volume, design_matrix=d.design[:1]),
    ),
    (
        'maps on two grids',
        ValueError,
        lambda lib, d: d.second(lib, mask_img=None).fit(
            [d.maps[0], d.maps[1].slicer[:-1]], design_matrix=d.design[:2]
        ),
    ),
    (
        'a table without its columns',
        ValueError,
        lambda lib, d: d.second(lib).fit(pd.DataFrame({'a': [1, 2]})),
    ),
    (
        'unfitted first-level models',
        ValueError,
        lambda lib, d: d.second(lib).fit([d.first(lib), d.first(lib)]),
    ),
    (
        'confounds without subject labels',
        ValueError,
        lambda lib, d: d.second(lib).fit(d.first_levels(lib, False), confounds=d.covariates),
    ),
    (
        'confounds is a number',
        TypeError,
        lambda lib, d: d.second(lib).fit(d.first_levels(lib), confounds=3),
    ),
    (
        'confounds without subject_label',
        ValueError,
        lambda lib, d: d.second(lib).fit(
            d.first_levels(lib), confounds=d.covariates.drop(columns='subject_label')
        ),
    ),
    (
        'confounds with integer labels',
        ValueError,
        lambda lib, d: d.second(lib).fit(
            d.first_levels(lib), confounds=d.covariates.assign(subject_label=[0, 1, 2])
        ),
    ),
    (
        'confounds missing a subject',
        ValueError,
        lambda lib, d: d.second(lib).fit(d.first_levels(lib), confounds=d.covariates[:2]),
    ),
    ('design is a number', TypeError, lambda lib, d: d.second(lib).fit(d.maps, design_matrix=3)),
    (
        'design is an array',
        TypeError,
        lambda lib, d: d.second(lib).fit(d.maps, design_matrix=np.ones((4, 1))),
    ),
    (
        'design of another length',
        ValueError,
        lambda lib, d: d.second(lib).fit(d.maps, design_matrix=d.design[:2]),
    ),
    (
        'smoothing_fwhm is text',
        TypeError,
        lambda lib, d: d.second(lib, smoothing_fwhm='a').fit(d.maps, design_matrix=d.design),
    ),
    (
        'n_jobs is text',
        TypeError,
        lambda lib, d: d.second(lib, n_jobs='a').fit(d.maps, design_matrix=d.design),
    ),
    (
        'mask_img is a number',
        TypeError,
        lambda lib, d: d.second(lib, mask_img=3).fit(d.maps, design_matrix=d.design),
    ),
    (
        'mask_img file missing',
        ValueError,
        lambda lib, d: d.second(lib, mask_img=str(d.folder / 'm.nii.gz')).fit(
            d.maps, design_matrix=d.design
        ),
    ),
    (
        'memory_level is text',
        TypeError,
        lambda lib, d: d.second(lib, memory_level='a').fit(d.maps, design_matrix=d.design),
    ),
    (
        'verbose is text',
        TypeError,
        lambda lib, d: d.second(lib, verbose='a').fit(d.maps, design_matrix=d.design),
    ),
    (
        'target_affine is text',
        TypeError,
        lambda lib, d: d.second(lib, target_affine='a').fit(d.maps, design_matrix=d.design),
    ),
    (
        'memory is a number',
        TypeError,
        lambda lib, d: d.second(lib, memory=3).fit(d.maps, design_matrix=d.design),
    ),
]

SECOND_LEVEL_CONTRASTS = [
    ('before fit', ValueError, lambda lib, d: d.second(lib).compute_contrast()),
    ('before fit (attribute)', AttributeError, lambda lib, d: d.second(lib).compute_contrast()),
    (
        'none for two columns',
        ValueError,
        lambda lib, d: d.fitted_second(lib, covariate=True).compute_contrast(),
    ),
    ('all zeros', ValueError, lambda lib, d: d.fitted_second(lib).compute_contrast([0])),
    ('empty', ValueError, lambda lib, d: d.fitted_second(lib).compute_contrast([])),
    ('a number', TypeError, lambda lib, d: d.fitted_second(lib).compute_contrast(3)),
    ('a dict', TypeError, lambda lib, d: d.fitted_second(lib).compute_contrast({'a': 1})),
    ('an unknown name', ValueError, lambda lib, d: d.fitted_second(lib).compute_contrast('zz')),
    ('too wide', ValueError, lambda lib, d: d.fitted_second(lib).compute_contrast([1, 0])),
    (
        'stat type unknown',
        ValueError,
        lambda lib, d: d.fitted_second(lib).compute_contrast(second_level_stat_type='x'),
    ),
    (
        'output type unknown',
        ValueError,
        lambda lib, d: d.fitted_second(lib).compute_contrast(output_type='x'),
    ),
    (
        'first-level models without first_level_contrast',
        ValueError,
        lambda lib, d: d.second(lib).fit(d.first_levels(lib)).compute_contrast(),
    ),
    (
        'an unknown first-level contrast',
        ValueError,
        lambda lib, d: (
            d.second(lib).fit(d.first_levels(lib)).compute_contrast(first_level_contrast='zz')
        ),
    ),
]


def _first(lib, d, **kwargs):
    return lib.first_design(d.frame_times, **{'events': d.events, **kwargs})


FIRST_LEVEL_DESIGN = [
    ('hrf_model is a number', TypeError, lambda lib, d: _first(lib, d, hrf_model=3)),
    ('hrf_model unknown', ValueError, lambda lib, d: _first(lib, d, hrf_model='foo')),
    ('hrf_model list of names', ValueError, lambda lib, d: _first(lib, d, hrf_model=['a'])),
    ('high_pass is text', TypeError, lambda lib, d: _first(lib, d, high_pass='a')),
    ('high_pass is negative', ValueError, lambda lib, d: _first(lib, d, high_pass=-1.0)),
    ('fir_delays is text', ValueError, lambda lib, d: _first(lib, d, fir_delays='a')),
    ('min_onset is text', ValueError, lambda lib, d: _first(lib, d, min_onset='a')),
    ('oversampling is text', ValueError, lambda lib, d: _first(lib, d, oversampling='a')),
    (
        'add_regs missing values',
        ValueError,
        lambda lib, d: _first(lib, d, add_regs=np.full((N_SCANS, 1), np.nan)),
    ),
    ('add_regs is text', TypeError, lambda lib, d: _first(lib, d, add_regs='a')),
    ('add_regs holds text', TypeError, lambda lib, d: _first(lib, d, add_regs=[['a']] * N_SCANS)),
    ('names without add_regs', ValueError, lambda lib, d: _first(lib, d, add_reg_names=['x'])),
    (
        'one name for two confounds',
        ValueError,
        lambda lib, d: _first(lib, d, add_regs=np.ones((N_SCANS, 2)), add_reg_names=['x']),
    ),
    (
        'a confound named as a condition',
        ValueError,
        lambda lib, d: _first(lib, d, add_regs=np.ones((N_SCANS, 1)), add_reg_names=['audio']),
    ),
    ('events is a number', TypeError, lambda lib, d: _first(lib, d, events=3)),
    ('events is a dict', TypeError, lambda lib, d: _first(lib, d, events={'onset': [1.0]})),
    ('events is an array', TypeError, lambda lib, d: _first(lib, d, events=np.zeros((2, 3)))),
    (
        'events file of another kind',
        ValueError,
        lambda lib, d: _first(lib, d, events=str(d.folder / 'table.txt')),
    ),
    (
        'events file missing',
        FileNotFoundError,
        lambda lib, d: _first(lib, d, events=str(d.folder / 'no_events.tsv')),
    ),
    (
        'events without duration',
        ValueError,
        lambda lib, d: _first(lib, d, events=d.events.drop(columns='duration')),
    ),
    (
        'events duration missing',
        ValueError,
        lambda lib, d: _first(lib, d, events=d.events.assign(duration=np.nan)),
    ),
    (
        'events modulation text',
        TypeError,
        lambda lib, d: _first(lib, d, events=d.events.assign(modulation='x')),
    ),
    ('frame_times is text', ValueError, lambda lib, d: lib.first_design('abc', d.events)),
    ('frame_times is None', ValueError, lambda lib, d: lib.first_design(None, d.events)),
    (
        'frame_times decrease',
        ValueError,
        lambda lib, d: lib.first_design(d.frame_times[::-1], d.events),
    ),
    ('one frame time', ValueError, lambda lib, d: lib.first_design([0.0], d.events)),
]


def _second(lib, d, **kwargs):
    return lib.second_design(**{'subjects_label': ['01', '02', '03'], **kwargs})


SECOND_LEVEL_DESIGN = [
    ('labels is a number', TypeError, lambda lib, d: _second(lib, d, subjects_label=3)),
    (
        'labels is a string',
        ValueError,
        lambda lib, d: _second(lib, d, subjects_label='01', confounds=d.covariates),
    ),
    ('labels is empty', ValueError, lambda lib, d: _second(lib, d, subjects_label=[])),
    (
        'a label without covariates',
        ValueError,
        lambda lib, d: _second(lib, d, subjects_label=['01', '04'], confounds=d.covariates),
    ),
    (
        'covariates without subject_label',
        ValueError,
        lambda lib, d: _second(lib, d, confounds=d.covariates.drop(columns='subject_label')),
    ),
    (
        'covariate text',
        TypeError,
        lambda lib, d: _second(lib, d, confounds=d.covariates.assign(age=['a', 'b', 'c'])),
    ),
    (
        'covariate missing',
        ValueError,
        lambda lib, d: _second(lib, d, confounds=d.covariates.assign(age=[np.nan, 1.0, 2.0])),
    ),
    (
        'covariate named intercept',
        ValueError,
        lambda lib, d: _second(lib, d, confounds=d.covariates.assign(intercept=1.0)),
    ),
    (
        'a subject twice',
        ValueError,
        lambda lib, d: _second(lib, d, confounds=pd.concat([d.covariates, d.covariates[:1]])),
    ),
]

CASES = {
    'FirstLevelModel parameters': FIRST_LEVEL_PARAMETERS,
    'FirstLevelModel.fit': FIRST_LEVEL_FIT,
    'FirstLevelModel.compute_contrast': FIRST_LEVEL_CONTRASTS,
    'SecondLevelModel.fit': SECOND_LEVEL_FIT,
    'SecondLevelModel.compute_contrast': SECOND_LEVEL_CONTRASTS,
    'make_first_level_design_matrix': FIRST_LEVEL_DESIGN,
    'make_second_level_design_matrix': SECOND_LEVEL_DESIGN,
}
PARAMETERS = [
    pytest.param(built_in, misuse, id=f'{entry}: {name}')
    for entry, cases in CASES.items()
    for name, built_in, misuse in cases
]


def _raised(lib: SimpleNamespace, misuse: Any, d: Data) -> BaseException:
    """Call ``misuse`` on ``lib``; return what it raised (failing if it returned)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            misuse(lib, d)
        except Exception as error:
            return error
    pytest.fail(f'{lib.name} accepted the misuse')


def _built_ins(error: BaseException) -> set[type]:
    """The built-in classes an ``except`` clause could name to catch ``error``."""
    return {
        cls
        for cls in type(error).__mro__
        if cls.__module__ == 'builtins' and cls not in (Exception, BaseException, object)
    }


@pytest.mark.parametrize(('built_in', 'misuse'), PARAMETERS)
def test_our_error_is_caught_by_what_catches_nilearns(data, built_in, misuse):
    theirs = _raised(NILEARN, misuse, data)
    assert isinstance(theirs, built_in), f'nilearn raised {theirs!r}'
    ours = _raised(OURS, misuse, data)
    assert isinstance(ours, BidsGlmError), f'we raised {ours!r}'
    missing = {cls.__name__ for cls in _built_ins(theirs) if not isinstance(ours, cls)}
    assert not missing, f'{type(ours).__name__} is not {missing}: {ours}'


def test_the_cases_cover_every_public_entry_point():
    assert len(PARAMETERS) > 140
    assert {entry.split('.')[0].split()[0] for entry in CASES} == {
        'FirstLevelModel',
        'SecondLevelModel',
        'make_first_level_design_matrix',
        'make_second_level_design_matrix',
    }
