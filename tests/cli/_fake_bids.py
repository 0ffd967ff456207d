"""Build a small raw + fMRIPrep-style BIDS dataset with planted effects.

Used by the CLI and discovery tests, and by ``benchmarks/cli_vs_nilearn.py``.
Images are tiny by default (6 x 7 x 8 voxels, 30 volumes). The raw dataset holds
``participants.tsv``, a top-level ``task-<t>_bold.json`` (inherited by every run) and
the events; ``derivatives/fmriprep`` holds the preprocessed BOLD with a sidecar
(``RepetitionTime``, ``StartTime``), the brain mask and the confounds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import nibabel as nib
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pathlib import Path

SPACE = 'MNI152NLin2009cAsym'
CONDITIONS = ('congruent', 'incongruent')
CONFOUNDS = ('trans_x', 'trans_y', 'trans_z', 'rot_x', 'rot_y', 'rot_z', 'csf')


@dataclass(frozen=True)
class FakeDataset:
    """Where the fake dataset is and how it was made."""

    bids_dir: Path
    fmriprep: Path
    task: str
    subjects: tuple[str, ...]
    n_runs: int
    t_r: float
    start_time: float
    sessions: tuple[str, ...] = ()

    def func(self, subject: str, session: str | None = None, *, raw: bool = False) -> Path:
        """Return a subject's (and session's) ``func`` folder, raw or preprocessed."""
        folder = (self.bids_dir if raw else self.fmriprep) / f'sub-{subject}'
        return (folder / f'ses-{session}' if session else folder) / 'func'


def _write_json(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2), encoding='utf-8')


def _events(run: int, seconds: float) -> pd.DataFrame:
    """Alternating blocks of the two conditions; onsets shift a little between runs."""
    onsets = np.arange(4.0, seconds - 10.0, 12.0) + run
    types = [CONDITIONS[i % 2] for i in range(onsets.size)]
    return pd.DataFrame({'onset': onsets, 'duration': 5.0, 'trial_type': types})


def _boxcar(events: pd.DataFrame, n_scans: int, t_r: float, condition: str) -> np.ndarray:
    """A crude, delayed boxcar: enough to plant a detectable effect."""
    times = np.arange(n_scans) * t_r
    signal = np.zeros(n_scans)
    for onset, duration in events.loc[
        events.trial_type == condition, ['onset', 'duration']
    ].values:
        signal[(times >= onset + 4) & (times < onset + duration + 6)] = 1.0
    return signal


def _mask(shape: tuple[int, int, int]) -> np.ndarray:
    """An ellipsoid filling most of the box."""
    grid = np.indices(shape).astype(float)
    centre = (np.array(shape) - 1) / 2
    radius = np.array(shape) / 2
    return (((grid.T - centre) / radius) ** 2).sum(axis=-1).T <= 1.0


def _run_files(
    func: Path,
    stem: str,
    rng: np.random.Generator,
    shape: tuple[int, int, int],
    n_scans: int,
    events: pd.DataFrame,
    t_r: float,
) -> None:
    """Write one run's BOLD, mask and confounds."""
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    affine[:3, 3] = -10.0
    mask = _mask(shape)
    gain = np.zeros(shape)
    gain[: shape[0] // 2] = 2.0
    signal = 2.0 * _boxcar(events, n_scans, t_r, 'congruent') + np.outer(
        gain, _boxcar(events, n_scans, t_r, 'incongruent')
    ).reshape((*shape, n_scans))
    data = 100.0 + signal + rng.standard_normal((*shape, n_scans))
    data[~mask] = 0.0
    header = nib.Nifti1Header()
    header.set_xyzt_units('mm', 'sec')
    header['pixdim'][4] = t_r
    image = nib.Nifti1Image(data.astype(np.float32), affine, header)
    nib.save(image, func / f'{stem}_space-{SPACE}_desc-preproc_bold.nii.gz')
    mask_image = nib.Nifti1Image(mask.astype(np.uint8), affine)
    nib.save(mask_image, func / f'{stem}_space-{SPACE}_desc-brain_mask.nii.gz')
    confounds = pd.DataFrame(
        rng.standard_normal((n_scans, len(CONFOUNDS))) * 0.1, columns=list(CONFOUNDS)
    )
    confounds.insert(len(CONFOUNDS), 'framewise_displacement', np.abs(confounds['trans_x']))
    confounds.loc[0, 'framewise_displacement'] = np.nan
    confounds.to_csv(
        func / f'{stem}_desc-confounds_timeseries.tsv', sep='\t', index=False, na_rep='n/a'
    )


def make_fake_dataset(
    root: Path,
    rng: np.random.Generator,
    *,
    n_subjects: int = 3,
    n_runs: int = 2,
    task: str = 'stroop',
    shape: tuple[int, int, int] = (6, 7, 8),
    n_scans: int = 30,
    t_r: float = 2.0,
    start_time: float = 0.5,
    sessions: tuple[str, ...] = (),
) -> FakeDataset:
    """Write the raw dataset in ``root / 'bids'`` and fMRIPrep derivatives inside it.

    ``participants.tsv`` holds ``age`` (numbers) and ``group`` (``control`` and
    ``patient`` in turn); with ``sessions``, each subject has those sessions, each of
    ``n_runs`` runs.
    """
    bids_dir = root / 'bids'
    fmriprep = bids_dir / 'derivatives' / 'fmriprep'
    subjects = tuple(f'{i + 1:02d}' for i in range(n_subjects))
    _write_json(bids_dir / 'dataset_description.json', {'Name': 'fake', 'BIDSVersion': '1.10.0'})
    _write_json(bids_dir / f'task-{task}_bold.json', {'RepetitionTime': t_r, 'TaskName': task})
    ages = 20.0 + 3.0 * np.arange(n_subjects)
    groups = [('control', 'patient')[i % 2] for i in range(n_subjects)]
    pd.DataFrame(
        {'participant_id': [f'sub-{s}' for s in subjects], 'age': ages, 'group': groups}
    ).to_csv(bids_dir / 'participants.tsv', sep='\t', index=False)
    _write_json(
        fmriprep / 'dataset_description.json',
        {
            'Name': 'fMRIPrep',
            'BIDSVersion': '1.10.0',
            'DatasetType': 'derivative',
            'GeneratedBy': [{'Name': 'fMRIPrep', 'Version': '24.1.0'}],
        },
    )
    made = FakeDataset(bids_dir, fmriprep, task, subjects, n_runs, t_r, start_time, sessions)
    for subject in subjects:
        for session in sessions or (None,):
            raw_func, func = made.func(subject, session, raw=True), made.func(subject, session)
            raw_func.mkdir(parents=True)
            func.mkdir(parents=True)
            for run in range(1, n_runs + 1):
                stem = f'sub-{subject}{f"_ses-{session}" if session else ""}_task-{task}_run-{run}'
                events = _events(run, n_scans * t_r)
                events.to_csv(raw_func / f'{stem}_events.tsv', sep='\t', index=False)
                _run_files(func, stem, rng, shape, n_scans, events, t_r)
                _write_json(
                    func / f'{stem}_space-{SPACE}_desc-preproc_bold.json',
                    {'RepetitionTime': t_r, 'StartTime': start_time, 'SkullStripped': False},
                )
    return made


#: The surface spaces :func:`add_surface_runs` writes: GIFTI pairs (fMRIPrep's name
#: since 21.0; older versions wrote ``fsaverage5``, which BIDS deprecates), CIFTI-2 series.
GIFTI_SPACE = 'fsaverage_den-10k'
CIFTI_SPACE = 'fsLR_den-91k'


def _surface_series(
    rng: np.random.Generator, events: pd.DataFrame, n_vertices: int, n_scans: int, t_r: float
) -> np.ndarray:
    """Time x vertices: 100 + noise, 'congruent' on the first third, 'incongruent' after."""
    values = 100.0 + rng.standard_normal((n_scans, n_vertices))
    third = n_vertices // 3
    values[:, :third] += 3.0 * _boxcar(events, n_scans, t_r, 'congruent')[:, None]
    values[:, third : 2 * third] += 3.0 * _boxcar(events, n_scans, t_r, 'incongruent')[:, None]
    return values.astype(np.float32)


def _gifti(values: np.ndarray) -> nib.gifti.GiftiImage:
    """A GIFTI image with one data array per time point (``values``: time x vertices)."""
    return nib.gifti.GiftiImage(darrays=[nib.gifti.GiftiDataArray(row) for row in values])


def _cifti(values: np.ndarray, t_r: float) -> nib.Cifti2Image:
    """A dense series over two cortical structures of half the vertices each."""
    half = values.shape[1] // 2
    models = nib.cifti2.BrainModelAxis.from_mask(
        np.ones(half, bool), 'CortexLeft'
    ) + nib.cifti2.BrainModelAxis.from_mask(np.ones(values.shape[1] - half, bool), 'CortexRight')
    series = nib.cifti2.SeriesAxis(0.0, t_r, values.shape[0])
    return nib.Cifti2Image(values, header=(series, models))


def add_surface_runs(
    ds: FakeDataset,
    rng: np.random.Generator,
    n_vertices: int = 10,
    gifti_space: str = GIFTI_SPACE,
) -> None:
    """Add, beside each volume run, fMRIPrep's surface runs of the same events.

    A ``hemi-L``/``hemi-R`` pair of ``space-<gifti_space>_bold.func.gii``
    (``n_vertices`` each) and a ``space-fsLR_den-91k_bold.dtseries.nii``
    (``2 * n_vertices`` grayordinates), each with a sidecar; no ``desc`` (as fMRIPrep
    names them).
    """
    for subject in ds.subjects:
        for session in ds.sessions or (None,):
            for run in range(1, ds.n_runs + 1):
                visit = f'_ses-{session}' if session else ''
                stem = f'sub-{subject}{visit}_task-{ds.task}_run-{run}'
                raw = ds.func(subject, session, raw=True) / f'{stem}_events.tsv'
                events = pd.read_csv(raw, sep='\t')
                n_scans = _n_scans(ds, subject, session, stem)
                values = _surface_series(rng, events, 2 * n_vertices, n_scans, ds.t_r)
                func = ds.func(subject, session)
                sidecar = {'RepetitionTime': ds.t_r, 'StartTime': ds.start_time}
                for hemi, part in (('L', values[:, :n_vertices]), ('R', values[:, n_vertices:])):
                    name = f'{stem}_hemi-{hemi}_space-{gifti_space}_bold'
                    nib.save(_gifti(part), func / f'{name}.func.gii')
                    _write_json(func / f'{name}.json', sidecar)
                name = f'{stem}_space-{CIFTI_SPACE}_bold'
                nib.save(_cifti(values, ds.t_r), func / f'{name}.dtseries.nii')
                _write_json(func / f'{name}.json', sidecar)


def _n_scans(ds: FakeDataset, subject: str, session: str | None, stem: str) -> int:
    """The volumes of a run's preprocessed BOLD."""
    image = nib.load(ds.func(subject, session) / f'{stem}_space-{SPACE}_desc-preproc_bold.nii.gz')
    return int(image.shape[3])
