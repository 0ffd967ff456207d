"""Make the small MNI template shipped in ``src/bidsglm/data/mni152`` (the report's underlay).

Source: the MNI ICBM152 2009a nonlinear T1 template at 1 mm (197 x 233 x 189, uint8)
as nilearn 0.14.1 bundles it (``nilearn/datasets/data/
mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz``). Its licence (MNI, McGill) allows
copies and changes with the copyright notice kept: see the folder's ``LICENSE``.

Method: 3 x 3 x 3 block means (1 mm -> 3 mm); the grid is padded with zeros to a
multiple of 3 and the affine puts each 3 mm voxel at the centre of its block. Written
as uint8 (rounded), gzip level 9, without a time stamp. The report draws it under
the maps of models in an MNI space; it is resampled onto the maps' grid, so a finer
copy would not be seen.

Run: python tools/make_mni_underlay.py NILEARN_TEMPLATE src/bidsglm/data/mni152
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

FACTOR = 3
NAME = 'mni_icbm152_2009a_t1_3mm.nii.gz'


def block_means(data: np.ndarray, factor: int) -> np.ndarray:
    """Return the means of ``factor``-sided cubes of a volume padded with zeros."""
    shape = [-(-n // factor) * factor for n in data.shape]
    padded = np.zeros(shape)
    padded[: data.shape[0], : data.shape[1], : data.shape[2]] = data
    x, y, z = (n // factor for n in shape)
    cubes = padded.reshape(x, factor, y, factor, z, factor)
    return cubes.mean(axis=(1, 3, 5))


def block_affine(affine: np.ndarray, factor: int) -> np.ndarray:
    """Return the affine of the block grid: voxels ``factor`` times larger, centred."""
    scaled = affine @ np.diag([factor, factor, factor, 1.0])
    scaled[:3, 3] = affine[:3, :3] @ np.full(3, (factor - 1) / 2) + affine[:3, 3]
    return scaled


def main(source: Path, target: Path) -> None:
    """Write the 3 mm template into the folder ``target``."""
    image = nib.load(source)
    data = np.asarray(image.dataobj, dtype=np.float64)
    small = np.rint(block_means(data, FACTOR)).clip(0, 255).astype(np.uint8)
    out = nib.Nifti1Image(small, block_affine(np.asarray(image.affine), FACTOR))
    out.header.set_xyzt_units('mm')
    out.set_sform(out.affine, code=4)  # MNI 152
    out.set_qform(out.affine, code=4)
    target.mkdir(parents=True, exist_ok=True)
    raw = out.to_bytes()
    with (
        (target / NAME).open('wb') as stream,
        gzip.GzipFile(fileobj=stream, mode='wb', compresslevel=9, mtime=0) as packed,
    ):
        packed.write(raw)


if __name__ == '__main__':
    main(Path(sys.argv[1]), Path(sys.argv[2]))
