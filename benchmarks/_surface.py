"""Surface workloads of the benchmark: fsLR runs as GIFTI hemispheres and as CIFTI-2.

Two runs of 300 time points (TR 2 s), with the events and six confounds of a
volume workload of that length (``_workloads.make_events``/``make_confounds``), the
three conditions' responses planted in a quarter of the cortex, AR(1) noise:

- ``SG``: fsLR 32k hemispheres, ``hemi-L_bold.func.gii`` and ``hemi-R_bold.func.gii``,
  32,492 vertices each (the medial wall, the last 2,796 and 2,776 vertices, zero as
  fMRIPrep writes it), a data array per time point, base64 of gzip (nibabel's
  default, as Connectome Workbench and fMRIPrep write them);
- ``SC``: an fsLR 91k dense series, ``bold.dtseries.nii``: 29,696 + 29,716 cortical
  vertices and 31,870 subcortical voxels (one structure, on the MNI 2 mm grid).

A mesh per hemisphere (``mesh.npz``: 32,492 points on a sphere and the triangles of
their convex hull) is given to both tools' reports, as fMRIPrep's ``*.surf.gii`` would
be. Workloads are cached as ``_workloads`` caches them (a ``complete.json`` stamp).
"""

from __future__ import annotations

import binascii
import json
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import nibabel as nib
    import pandas as pd
    from _workloads import RunSpec

# The measured processes import this module: nibabel, pandas and the volume
# workloads' generator are imported only where a workload is generated or counted.

#: Bump when the generated content changes, so cached workloads are rebuilt.
GENERATOR_VERSION = 1
N_HEMISPHERE = 32492
CORTEX = {'CortexLeft': 29696, 'CortexRight': 29716}
N_SUBCORTICAL = 31870
HEMISPHERE_FILES = {'left': 'hemi-L_bold.func.gii', 'right': 'hemi-R_bold.func.gii'}
CIFTI_FILE = 'bold.dtseries.nii'


@dataclass(frozen=True)
class SurfaceSpec:
    """A surface workload: its form (``gifti`` or ``cifti``), length, TR and seed."""

    kind: str
    n_scans: int
    t_r: float
    seed: int

    @property
    def run_spec(self) -> RunSpec:
        """The volume spec whose events and confounds the run shares (grid unused)."""
        from _workloads import RunSpec  # noqa: PLC0415 - see the imports

        return RunSpec((1, 1, 1), self.n_scans, self.t_r, (1, 1, 1), (1, 1, 1), self.seed)

    @property
    def n_points(self) -> int:
        """Vertices (and voxels) per time point."""
        return 2 * N_HEMISPHERE if self.kind == 'gifti' else sum(CORTEX.values()) + N_SUBCORTICAL

    @property
    def title(self) -> str:
        """What the run is, for a table."""
        if self.kind == 'gifti':
            return f'2x{N_HEMISPHERE} fsLR 32k .func.gii x {self.n_scans}'
        return f'{self.n_points} fsLR 91k .dtseries.nii x {self.n_scans}'


SURFACES: dict[str, SurfaceSpec] = {
    'SG': SurfaceSpec('gifti', 300, 2.0, seed=11),
    'SC': SurfaceSpec('cifti', 300, 2.0, seed=12),
}


def _series(spec: SurfaceSpec, n_points: int, events: pd.DataFrame) -> np.ndarray:
    """(time, points) float32: a baseline, AR(1) noise and the planted responses."""
    from _workloads import _responses  # noqa: PLC0415 - see the imports

    rng = np.random.default_rng(spec.seed)
    responses = _responses(spec.run_spec, events)
    amplitude = np.zeros((3, n_points))
    quarter = n_points // 12
    for condition in range(3):
        amplitude[condition, condition * quarter : (condition + 1) * quarter] = 0.02
    baseline = rng.uniform(400.0, 900.0, n_points)
    rho = rng.uniform(0.0, 0.6, n_points)
    noise = rng.standard_normal(n_points)
    series = np.empty((spec.n_scans, n_points), dtype=np.float32)
    for scan in range(spec.n_scans):
        if scan:
            noise = rho * noise + np.sqrt(1.0 - rho**2) * rng.standard_normal(n_points)
        series[scan] = baseline * (1.0 + responses[scan] @ amplitude) + 8.0 * noise
    return series


def _write_gifti(spec: SurfaceSpec, folder: Path, events: pd.DataFrame) -> None:
    import nibabel as nib  # noqa: PLC0415 - see the imports

    series = _series(spec, spec.n_points, events)
    for number, (part, name) in enumerate(HEMISPHERE_FILES.items()):
        values = series[:, number * N_HEMISPHERE : (number + 1) * N_HEMISPHERE].copy()
        values[:, list(CORTEX.values())[number] :] = 0.0  # the medial wall
        arrays = [nib.gifti.GiftiDataArray(row, datatype='NIFTI_TYPE_FLOAT32') for row in values]
        structure = 'CortexLeft' if part == 'left' else 'CortexRight'
        meta = nib.gifti.GiftiMetaData({'AnatomicalStructurePrimary': structure})
        nib.save(nib.gifti.GiftiImage(meta=meta, darrays=arrays), folder / name)


def brain_models() -> nib.cifti2.BrainModelAxis:
    """fsLR 91k: both cortices (medial wall out) and 31,870 voxels of one structure."""
    import nibabel as nib  # noqa: PLC0415 - see the imports

    axis = None
    for structure, count in CORTEX.items():
        inside = np.zeros(N_HEMISPHERE, dtype=bool)
        inside[:count] = True
        part = nib.cifti2.BrainModelAxis.from_mask(inside, structure)
        axis = part if axis is None else axis + part
    volume = np.zeros((91, 109, 91), dtype=int)
    volume.reshape(-1)[np.linspace(0, volume.size - 1, N_SUBCORTICAL).astype(int)] = 1
    affine = np.array([[-2.0, 0, 0, 90], [0, 2.0, 0, -126], [0, 0, 2.0, -72], [0, 0, 0, 1]])
    return axis + nib.cifti2.BrainModelAxis.from_mask(volume, affine=affine, name='thalamus_left')


def _write_cifti(spec: SurfaceSpec, folder: Path, events: pd.DataFrame) -> None:
    import nibabel as nib  # noqa: PLC0415 - see the imports

    models = brain_models()
    series = nib.cifti2.SeriesAxis(0.0, spec.t_r, spec.n_scans)
    data = _series(spec, len(models), events)
    nib.save(nib.Cifti2Image(data, header=(series, models)), folder / CIFTI_FILE)


def sphere_mesh() -> tuple[np.ndarray, np.ndarray]:
    """32,492 points spread on a sphere of radius 80 mm and the triangles joining them."""
    from scipy.spatial import ConvexHull  # noqa: PLC0415 - only generation needs it

    index = np.arange(N_HEMISPHERE) + 0.5
    polar = np.arccos(1.0 - 2.0 * index / N_HEMISPHERE)
    azimuth = np.pi * (1.0 + 5**0.5) * index
    points = 80.0 * np.column_stack(
        [np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)]
    )
    return points, ConvexHull(points).simplices.astype(np.int32)


def generate(name: str, folder: Path) -> Path:
    """Write surface workload ``name`` into ``folder`` unless it is there; return it."""
    from _workloads import is_complete, write_tables  # noqa: PLC0415 - see the imports

    spec = SURFACES[name]
    stamp = {'generator': GENERATOR_VERSION, 'spec': asdict(spec)}
    if is_complete(folder, stamp):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    events, _ = write_tables(spec.run_spec, folder)
    (_write_gifti if spec.kind == 'gifti' else _write_cifti)(spec, folder, events)
    points, faces = sphere_mesh()
    np.savez(folder / 'mesh.npz', points=points, faces=faces)
    (folder / 'spec.json').write_text(json.dumps({'t_r': spec.t_r, 'surface': spec.kind}))
    (folder / 'complete.json').write_text(json.dumps(stamp))
    return folder


def ensure_surface(name: str, cache_dir: Path) -> Path:
    """Return the folder of surface workload ``name``, generated when missing."""
    return generate(name, cache_dir / f'surface-{name}')


# ----------------------------------------------------------------------- in the processes
def surface_kind(run_dir: Path) -> str | None:
    """``'gifti'`` or ``'cifti'`` for a surface workload's folder, else None."""
    spec = run_dir / 'spec.json'
    return json.loads(spec.read_text()).get('surface') if spec.is_file() else None


def input_files(run_dir: Path) -> list[Path]:
    """The data files of a surface run."""
    if surface_kind(run_dir) == 'gifti':
        return [run_dir / name for name in HEMISPHERE_FILES.values()]
    return [run_dir / CIFTI_FILE]


def bidsglm_run(run_dir: Path) -> object:
    """The run as bidsglm takes it: a dict of hemisphere files, or the CIFTI-2 file."""
    if surface_kind(run_dir) == 'gifti':
        return {part: str(run_dir / name) for part, name in HEMISPHERE_FILES.items()}
    return str(run_dir / CIFTI_FILE)


def meshes(run_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The same sphere for both hemispheres, as (points, faces)."""
    with np.load(run_dir / 'mesh.npz') as mesh:
        pair = (mesh['points'], mesh['faces'])
    return {'left': pair, 'right': pair}


def nilearn_image(run_dir: Path) -> object:
    """The GIFTI run as nilearn's ``SurfaceImage``, read by nilearn from the files."""
    from nilearn.surface import InMemoryMesh, PolyMesh, SurfaceImage  # noqa: PLC0415

    parts = {part: InMemoryMesh(*pair) for part, pair in meshes(run_dir).items()}
    files = {part: str(run_dir / name) for part, name in HEMISPHERE_FILES.items()}
    return SurfaceImage(mesh=PolyMesh(**parts), data=files)


_ENCODING = re.compile(rb'Encoding="(\w+)"')


def _data_arrays(text: bytes) -> list[tuple[bytes, memoryview]]:
    """Each data array's encoding and the text of its ``<Data>`` element, found by search."""
    found, view, start = [], memoryview(text), 0
    while (start := text.find(b'<DataArray', start)) >= 0:
        data = text.find(b'<Data>', start) + len(b'<Data>')
        end = text.find(b'</Data>', data)
        encoding = _ENCODING.search(text, start, data)
        found.append((encoding.group(1) if encoding else b'', view[data:end]))
        start = end
    return found


def read_floor(run_dir: Path) -> int:
    """Read a surface run as fast as a floor may; return the bytes of data obtained.

    CIFTI-2: the file's bytes. GIFTI: the file, then each data array's base64
    decoded and inflated (python-isal), found by searching the text (no XML parser).
    """
    from isal import isal_zlib  # noqa: PLC0415 - the floor's inflater

    total = 0
    for path in input_files(run_dir):
        text = path.read_bytes()
        if path.name.endswith('.nii'):
            total += len(text)
            continue
        for encoding, data in _data_arrays(text):
            raw = binascii.a2b_base64(data)
            total += len(isal_zlib.decompress(raw) if encoding.startswith(b'GZip') else raw)
    return total


def data_points(folder: Path) -> int:
    """Count the values of every image file under ``folder`` (NIfTI, GIFTI, CIFTI-2)."""
    import nibabel as nib  # noqa: PLC0415 - see the imports

    total = 0
    for path in sorted(folder.rglob('*')):
        if path.name.endswith('.gii'):
            total += sum(array.data.size for array in nib.load(path).darrays)
        elif path.name.endswith(('.nii', '.nii.gz')):
            total += int(np.prod(nib.load(path).shape))
    return total
