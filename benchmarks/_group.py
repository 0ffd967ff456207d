"""Deterministic synthetic group workloads: N one-subject effect maps, one per file.

A group workload is a folder ``maps/`` of N 3D float32 ``.nii.gz`` maps (an
ellipsoid "brain" of planted effect plus noise, zeros outside, as first-level
effect maps are saved) and a ``group.json`` spec. Each map is written on its own,
so even 1,000 maps on the MNI 2 mm grid take little memory to generate.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from _workloads import MNI_2MM_AFFINE, RunSpec, brain_mask, is_complete
from isal import igzip

#: Bump when the generated content changes, so cached workloads are rebuilt.
GENERATOR_VERSION = 1
TASK = 'bench'


@dataclass(frozen=True)
class GroupSpec:
    """What to generate: the number of maps, their grid and brain, and the seed."""

    n_maps: int
    shape: tuple[int, int, int]
    brain_radii: tuple[float, float, float]
    seed: int
    mni: bool = True

    def as_run(self) -> RunSpec:
        """The same grid as a run spec (for its brain mask and affine)."""
        return RunSpec(self.shape, 1, 1.0, (2.0, 2.0, 2.0), self.brain_radii, self.seed, self.mni)


#: G200, G1000: maps on the MNI152 2 mm grid (97x115x97, a 21% brain as L's);
#: GT: tiny, for the smoke test.
GROUPS: dict[str, GroupSpec] = {
    'G200': GroupSpec(200, (97, 115, 97), (0.74, 0.74, 0.74), seed=10),
    'G1000': GroupSpec(1000, (97, 115, 97), (0.74, 0.74, 0.74), seed=11),
    'GT': GroupSpec(12, (20, 20, 12), (0.86, 0.86, 0.86), seed=12, mni=False),
}


def map_path(folder: Path, index: int) -> Path:
    """The file of map ``index`` (0-based)."""
    return folder / 'maps' / f'sub-{index + 1:04d}_task-{TASK}_effect.nii.gz'


def _header(spec: GroupSpec) -> bytes:
    """A float32 3D NIfTI-1 header (and the 4 empty extension bytes)."""
    import nibabel as nib  # noqa: PLC0415 - only the generator needs nibabel

    affine = np.array(MNI_2MM_AFFINE) if spec.mni else spec.as_run().affine
    header = nib.Nifti1Header()
    header.set_data_shape(spec.shape)
    header.set_data_dtype(np.float32)
    header.set_zooms(tuple(np.sqrt((affine[:3, :3] ** 2).sum(axis=0))))
    header.set_xyzt_units('mm', 'sec')
    header.set_sform(affine, code=2)
    header.set_qform(affine, code=1)
    header.set_data_offset(352)
    return header.binaryblock + b'\0' * 4


def write_maps(spec: GroupSpec, folder: Path) -> None:
    """Write the N maps: effect 0.5 at the centre of the brain, noise sd 1, 0 outside."""
    rng = np.random.default_rng(spec.seed)
    inside = brain_mask(spec.as_run())
    x, y, z = (np.linspace(-1, 1, n) for n in spec.shape)
    xx, yy, zz = np.meshgrid(x, y, z, indexing='ij', sparse=True)
    effect = 0.5 * np.exp(-(xx**2 + yy**2 + zz**2) / 0.1)
    header = _header(spec)
    (folder / 'maps').mkdir(parents=True)
    for index in range(spec.n_maps):
        volume = np.where(inside, effect + rng.standard_normal(spec.shape), 0.0)
        data = volume.astype(np.float32).tobytes(order='F')
        map_path(folder, index).write_bytes(igzip.compress(header + data, 1))


def ensure_group(name: str, cache_dir: Path) -> Path:
    """Return the folder of group workload ``name``, generated when missing or stale."""
    spec = GROUPS[name]
    folder = cache_dir / f'group-{name}'
    stamp = {'generator': GENERATOR_VERSION, 'spec': asdict(spec)}
    if is_complete(folder, stamp):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    write_maps(spec, folder)
    (folder / 'group.json').write_text(json.dumps({'n_maps': spec.n_maps}))
    (folder / 'complete.json').write_text(json.dumps(stamp))
    return folder


def group_inputs(folder: Path) -> list[str]:
    """The map files of a generated group workload, in order."""
    n_maps = json.loads((folder / 'group.json').read_text())['n_maps']
    return [str(map_path(folder, index)) for index in range(n_maps)]
