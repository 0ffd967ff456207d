"""Fitted models on tiny synthetic data, the extended BIDS schema, folder snapshots."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm.models import FirstLevelModel, SecondLevelModel

from ._validator import build_extended_schema

SHAPE = (7, 8, 9)
N_SCANS = 40
T_R = 2.0
AFFINE = np.diag([3.0, 3.0, 3.5, 1.0])
SPACE = 'MNI152NLin2009cAsym'
N_SUBJECTS = 6


def brain() -> np.ndarray:
    """An ellipsoid filling most of the volume."""
    grid = np.indices(SHAPE).astype(float)
    centre = (np.array(SHAPE) - 1) / 2
    radii = np.array(SHAPE) / 2.2
    return sum(((grid[i] - centre[i]) / radii[i]) ** 2 for i in range(3)) <= 1


def make_events(shift: float = 0.0) -> pd.DataFrame:
    """Three conditions in short blocks."""
    onsets = np.arange(4.0, 76.0, 8.0) + shift
    return pd.DataFrame(
        {
            'onset': onsets,
            'duration': np.full(onsets.size, 4.0),
            'trial_type': (['audio', 'visual', 'motor'] * 3)[: onsets.size],
        }
    )


def make_run(rng: np.random.Generator) -> nib.Nifti1Image:
    """A float32 run: a bright brain, noise, and a block response in the front half."""
    inside = brain()
    baseline = np.where(inside, 800.0, 20.0)
    wave = (np.arange(N_SCANS) % 8 < 4).astype(float)
    amplitude = np.zeros(SHAPE)
    amplitude[:, :4][inside[:, :4]] = 12.0
    noise = 4 * rng.standard_normal((*SHAPE, N_SCANS))
    data = baseline[..., None] + amplitude[..., None] * wave + noise
    return nib.Nifti1Image(data.astype(np.float32), AFFINE)


@pytest.fixture
def events_pair() -> list[pd.DataFrame]:
    return [make_events(0.0), make_events(2.0)]


@pytest.fixture
def run_files(tmp_path: Path, rng: np.random.Generator) -> list[Path]:
    """Two BIDS-named preprocessed runs of sub-01."""
    folder = tmp_path / 'inputs'
    folder.mkdir()
    paths = []
    for run in (1, 2):
        path = folder / f'sub-01_task-x_run-{run}_space-{SPACE}_desc-preproc_bold.nii.gz'
        make_run(rng).to_filename(path)
        paths.append(path)
    return paths


@pytest.fixture
def first_level(run_files: list[Path], events_pair: list[pd.DataFrame]) -> FirstLevelModel:
    """bidsglm's first level with DEFAULT parameters (only t_r), two runs from files."""
    return FirstLevelModel(t_r=T_R).fit([str(p) for p in run_files], events=events_pair)


@pytest.fixture
def first_level_in_memory(
    rng: np.random.Generator, events_pair: list[pd.DataFrame]
) -> FirstLevelModel:
    """The same, on images in memory: nothing to infer names from."""
    return FirstLevelModel(t_r=T_R).fit([make_run(rng), make_run(rng)], events=events_pair)


@pytest.fixture
def effect_files(tmp_path: Path, rng: np.random.Generator) -> list[Path]:
    """First-level effect maps of six subjects, named as bidsglm names them."""
    folder = tmp_path / 'effects'
    folder.mkdir()
    inside = brain()
    paths = []
    for subject in range(1, N_SUBJECTS + 1):
        data = np.where(inside, 1.0 + rng.standard_normal(SHAPE), 0.0)
        name = f'sub-{subject:02d}_task-x_space-{SPACE}_contrast-audio_stat-effect_statmap.nii.gz'
        nib.Nifti1Image(data, AFFINE).to_filename(folder / name)
        paths.append(folder / name)
    return paths


@pytest.fixture
def second_level(effect_files: list[Path]) -> SecondLevelModel:
    """bidsglm's second level with default parameters: a one-sample design."""
    return SecondLevelModel().fit([str(p) for p in effect_files])


#: The surface entities of the GIFTI and CIFTI-2 inputs (fMRIPrep's names).
GIFTI_SPACE = 'space-fsaverage_den-10k'
CIFTI_SPACE = 'space-fsLR_den-91k'


@pytest.fixture
def gifti_files(tmp_path: Path, rng: np.random.Generator, surfaces) -> list[dict[str, str]]:
    """Two GIFTI runs of sub-01, a file per hemisphere, named as fMRIPrep names them."""
    folder = tmp_path / 'gifti_inputs'
    folder.mkdir()
    runs = []
    for run in (1, 2):
        files = {}
        for part, image in surfaces.gifti_run(rng).items():
            hemi = part[0].upper()
            name = f'sub-01_task-x_run-{run}_hemi-{hemi}_{GIFTI_SPACE}_bold.func.gii'
            image.to_filename(folder / name)
            files[part] = str(folder / name)
        runs.append(files)
    return runs


@pytest.fixture
def gifti_model(gifti_files: list[dict[str, str]], surfaces) -> FirstLevelModel:
    """A default first level on the two GIFTI runs."""
    events = [surfaces.events(), surfaces.events()]
    return FirstLevelModel(t_r=surfaces.t_r).fit(gifti_files, events)


@pytest.fixture
def cifti_model(tmp_path: Path, rng: np.random.Generator, surfaces) -> FirstLevelModel:
    """A default first level on one CIFTI-2 run of sub-02, named as fMRIPrep names it."""
    path = tmp_path / f'sub-02_task-x_{CIFTI_SPACE}_bold.dtseries.nii'
    surfaces.cifti_run(rng).to_filename(path)
    return FirstLevelModel(t_r=surfaces.t_r).fit(str(path), surfaces.events())


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An output folder that does not exist yet."""
    return tmp_path / 'derivatives' / 'bidsglm'


@pytest.fixture(scope='session')
def extended_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The BIDS schema extended with contrast/stat and statmap/design, built once."""
    return build_extended_schema(tmp_path_factory.mktemp('schema'))


#: The output folder's lock file and its folder: kept once made, holding no data.
LOCKS = frozenset({'.bidsglm', '.bidsglm/lock'})


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``folder`` (hidden ones too, the lock file apart)."""
    if not folder.exists():
        return {}
    found = {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob('*'))
    }
    return {name: content for name, content in found.items() if name not in LOCKS}


class ContractSecondLevel:
    """Not a bidsglm class, but it follows the models' contract (duck typing)."""

    def __init__(self, model: SecondLevelModel) -> None:
        self._model = model
        self.design_matrix_ = model.design_matrix_
        self.mask_img_ = model.mask_img_
        self.input_sources_ = model.input_sources_
        self.residuals_ = model.residuals_
        self.r_square_ = model.r_square_

    def compute_contrast_result(
        self, second_level_contrast=None, first_level_contrast=None, second_level_stat_type=None
    ):
        return self._model.compute_contrast_result(
            second_level_contrast, first_level_contrast, second_level_stat_type
        )
