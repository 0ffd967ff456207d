"""Deterministic synthetic fMRI workloads for the benchmark.

A workload is one 4D float32 ``.nii.gz`` run (an ellipsoid "brain" on a dark,
noisy background, AR(1) noise, three conditions with planted responses), its
``events.tsv`` (onset, duration, trial_type) and ``confounds.tsv`` (six motion-like
random walks). The same seed gives the same bytes, so bidsglm and nilearn read
exactly the same files.

The run is written volume by volume straight into a threaded gzip stream, so even
the 1.3 GB MNI-sized run is generated with a few hundred MB of memory.

Files are cached: a folder holds a ``complete.json`` stamp naming the generator
version and the spec; a folder without a matching stamp is generated again.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from isal import igzip_threaded
from scipy import stats

#: Bump when the generated content changes, so cached workloads are rebuilt.
GENERATOR_VERSION = 1

CONDITIONS = ('audio', 'motor', 'visual')
CONFOUND_NAMES = ('trans_x', 'trans_y', 'trans_z', 'rot_x', 'rot_y', 'rot_z')
MNI_2MM_AFFINE = (
    (-2.0, 0.0, 0.0, 96.0),
    (0.0, 2.0, 0.0, -132.0),
    (0.0, 0.0, 2.0, -78.0),
    (0.0, 0.0, 0.0, 1.0),
)


@dataclass(frozen=True)
class RunSpec:
    """What to generate: grid, length, timing, brain size and the seed.

    ``brain_radii`` are the semi-axes of the ellipsoid brain as fractions of the
    grid's half-extent along each axis.
    """

    shape: tuple[int, int, int]
    n_scans: int
    t_r: float
    voxel_size: tuple[float, float, float]
    brain_radii: tuple[float, float, float]
    seed: int
    mni: bool = False

    @property
    def affine(self) -> np.ndarray:
        """The voxel-to-world affine (MNI152 2 mm for the large workload)."""
        if self.mni:
            return np.array(MNI_2MM_AFFINE)
        affine = np.diag([*self.voxel_size, 1.0])
        affine[:3, 3] = -0.5 * np.array(self.shape) * np.array(self.voxel_size)
        return affine


#: The benchmark's workloads. W: a typical 3 mm run; L: an MNI 2 mm run; Q: the
#: --quick stand-in for both; T: tiny, for the smoke test.
WORKLOADS: dict[str, RunSpec] = {
    'W': RunSpec((64, 64, 36), 240, 2.0, (3.0, 3.0, 3.5), (0.86, 0.86, 0.86), seed=1),
    'L': RunSpec((97, 115, 97), 300, 2.0, (2.0, 2.0, 2.0), (0.74, 0.74, 0.74), seed=2, mni=True),
    'Q': RunSpec((40, 40, 24), 120, 2.0, (3.0, 3.0, 3.5), (0.86, 0.86, 0.86), seed=3),
    'T': RunSpec((20, 20, 12), 60, 2.0, (3.0, 3.0, 3.5), (0.86, 0.86, 0.86), seed=4),
}


def brain_mask(spec: RunSpec) -> np.ndarray:
    """Return the ellipsoid brain of a spec as a boolean 3D array."""
    axes = [
        (np.arange(n) - (n - 1) / 2) / (radius * n / 2)
        for n, radius in zip(spec.shape, spec.brain_radii, strict=True)
    ]
    grid = np.meshgrid(*axes, indexing='ij', sparse=True)
    return sum(g**2 for g in grid) <= 1.0


def make_events(spec: RunSpec) -> pd.DataFrame:
    """Return events of three conditions with jittered onsets, 2 to 6 s long."""
    rng = np.random.default_rng(spec.seed + 1000)
    duration_total = spec.n_scans * spec.t_r
    onsets = np.arange(6.0, duration_total - 20.0, 12.0) + rng.uniform(0, 4, 1)
    onsets = onsets + rng.uniform(-1.5, 1.5, onsets.size)
    trial_types = np.resize(np.array(CONDITIONS), onsets.size)
    rng.shuffle(trial_types)
    return pd.DataFrame(
        {
            'onset': np.round(onsets, 3),
            'duration': rng.choice([2.0, 4.0, 6.0], onsets.size),
            'trial_type': trial_types,
        }
    )


def make_confounds(spec: RunSpec) -> pd.DataFrame:
    """Return six slow random walks, like realignment parameters."""
    rng = np.random.default_rng(spec.seed + 2000)
    walks = np.cumsum(rng.normal(0, 0.02, (spec.n_scans, len(CONFOUND_NAMES))), axis=0)
    return pd.DataFrame(walks, columns=list(CONFOUND_NAMES))


def _responses(spec: RunSpec, events: pd.DataFrame) -> np.ndarray:
    """Return the (n_scans, 3) responses: boxcars convolved with a gamma-difference HRF."""
    dt = 0.1
    times = np.arange(0, spec.n_scans * spec.t_r, dt)
    kernel_times = np.arange(0, 32, dt)
    hrf = stats.gamma.pdf(kernel_times, 6) - stats.gamma.pdf(kernel_times, 16) / 6
    hrf /= hrf.sum()
    responses = np.empty((spec.n_scans, len(CONDITIONS)))
    for column, condition in enumerate(CONDITIONS):
        boxcar = np.zeros_like(times)
        for event in events[events['trial_type'] == condition].itertuples():
            boxcar[(times >= event.onset) & (times < event.onset + event.duration)] = 1.0
        convolved = np.convolve(boxcar, hrf)[: times.size]
        responses[:, column] = convolved[:: round(spec.t_r / dt)][: spec.n_scans]
    return responses


def _spatial_maps(spec: RunSpec, inside: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return baseline, noise sd, AR coefficient and one amplitude map per condition."""
    rng = np.random.default_rng(spec.seed)
    x, y, z = (np.linspace(-1, 1, n) for n in spec.shape)
    xx, yy, zz = np.meshgrid(x, y, z, indexing='ij', sparse=True)
    baseline = np.where(inside, 800.0 + 150.0 * xx * yy + 100.0 * zz, 30.0)
    noise_sd = np.where(inside, 8.0, 6.0) * (1.0 + 0.2 * rng.random(spec.shape))
    rho = np.where(inside, 0.3 + 0.2 * xx + 0.1 * zz, 0.0)
    amplitudes = []
    for centre in ((-0.4, 0.2, 0.1), (0.0, -0.4, 0.3), (0.4, 0.3, -0.1)):
        distance2 = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 + (zz - centre[2]) ** 2
        amplitudes.append(np.where(inside, 0.02 * np.exp(-distance2 / 0.05), 0.0))
    return baseline, noise_sd, rho, np.stack(amplitudes, axis=-1)


def _header(spec: RunSpec) -> nib.Nifti1Header:
    """Return a float32 4D NIfTI-1 header with mm/s units and the TR as 4th zoom."""
    header = nib.Nifti1Header()
    header.set_data_shape((*spec.shape, spec.n_scans))
    header.set_data_dtype(np.float32)
    voxel = np.sqrt((spec.affine[:3, :3] ** 2).sum(axis=0))
    header.set_zooms((*voxel, spec.t_r))
    header.set_xyzt_units('mm', 'sec')
    header.set_sform(spec.affine, code=2)
    header.set_qform(spec.affine, code=1)
    header.set_data_offset(352)
    return header


def write_run(spec: RunSpec, path: Path, events: pd.DataFrame) -> None:
    """Write the run of ``spec`` to ``path`` (.nii.gz), one volume at a time."""
    rng = np.random.default_rng(spec.seed + 3000)
    inside = brain_mask(spec)
    baseline, noise_sd, rho, amplitudes = _spatial_maps(spec, inside)
    responses = _responses(spec, events)
    innovation_sd = np.sqrt(1.0 - rho**2)
    noise = rng.standard_normal(spec.shape)
    with igzip_threaded.open(path, 'wb', compresslevel=1, threads=2) as stream:
        stream.write(_header(spec).binaryblock + b'\0' * 4)
        for scan in range(spec.n_scans):
            if scan:
                noise = rho * noise + innovation_sd * rng.standard_normal(spec.shape)
            signal = 1.0 + amplitudes @ responses[scan]
            volume = (baseline * signal + noise_sd * noise).astype(np.float32)
            stream.write(volume.tobytes(order='F'))


def write_tables(spec: RunSpec, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write events.tsv and confounds.tsv into ``folder``; return both tables."""
    events = make_events(spec)
    confounds = make_confounds(spec)
    events.to_csv(folder / 'events.tsv', sep='\t', index=False)
    confounds.to_csv(folder / 'confounds.tsv', sep='\t', index=False)
    return events, confounds


def _stamp(spec: RunSpec) -> dict[str, object]:
    return {'generator': GENERATOR_VERSION, 'spec': asdict(spec)}


def is_complete(folder: Path, stamp: dict[str, object]) -> bool:
    """Tell whether ``folder`` holds a finished workload generated from ``stamp``."""
    marker = folder / 'complete.json'
    return marker.is_file() and json.loads(marker.read_text()) == json.loads(json.dumps(stamp))


def generate(spec: RunSpec, folder: Path) -> Path:
    """Generate the run of ``spec`` in ``folder`` unless it is already there; return it.

    The folder holds bold.nii.gz, events.tsv, confounds.tsv and spec.json.
    """
    stamp = _stamp(spec)
    if is_complete(folder, stamp):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    events, _ = write_tables(spec, folder)
    write_run(spec, folder / 'bold.nii.gz', events)
    (folder / 'spec.json').write_text(json.dumps({'t_r': spec.t_r, **asdict(spec)}))
    (folder / 'complete.json').write_text(json.dumps(stamp))
    return folder


def ensure_run(name: str, cache_dir: Path) -> Path:
    """Return the folder of workload ``name``, generated when missing or out of date."""
    return generate(WORKLOADS[name], cache_dir / f'run-{name}')
