"""Make the small copy of the 21 pain studies shipped in ``src/bidsglm/data/pain21``.

Source: the full-size maps (91 x 109 x 91, 2 mm MNI152, float32) of NeuroVault
collection 1425 as copied in ``../shared/data/pain21`` (GitHub simonvandekar/pbj,
commit 27826685666e728f521331e4241d0eebdc4a4117, folder inst/pain21/).

Method: 3 x 3 x 3 block averages (2 mm -> 6 mm). The 2 mm grid is padded with zeros
to 93 x 111 x 93; a 6 mm voxel is in the mask when at least half of its 27 voxels
are in the 2 mm mask, and its value is the mean of its in-mask voxels (0 outside
the mask). The affine places each 6 mm voxel at the centre of its block. Maps are
written as float32, gzip level 9, without a time stamp.

Run: python tools/resample_pain21.py ../shared/data/pain21 src/bidsglm/data/pain21
"""

from __future__ import annotations

import gzip
import shutil
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

FACTOR = 3


def _blocks(data: np.ndarray) -> np.ndarray:
    """Pad to a multiple of FACTOR and reshape to (x, y, z, FACTOR**3)."""
    padded_shape = [-(-n // FACTOR) * FACTOR for n in data.shape]
    padded = np.zeros(padded_shape, dtype=np.float64)
    padded[: data.shape[0], : data.shape[1], : data.shape[2]] = data
    x, y, z = (n // FACTOR for n in padded_shape)
    blocks = padded.reshape(x, FACTOR, y, FACTOR, z, FACTOR).transpose(0, 2, 4, 1, 3, 5)
    return blocks.reshape(x, y, z, FACTOR**3)


def _affine(affine: np.ndarray) -> np.ndarray:
    scale = np.diag([FACTOR, FACTOR, FACTOR, 1.0])
    scale[:3, 3] = (FACTOR - 1) / 2
    return affine @ scale


def _save(data: np.ndarray, affine: np.ndarray, path: Path) -> None:
    image = nib.Nifti1Image(data, affine)
    image.header.set_xyzt_units('mm')
    image.header.set_qform(affine, code=4)
    image.header.set_sform(affine, code=4)
    raw = image.to_bytes()
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))


def main(source: Path, target: Path) -> None:
    """Write the resampled mask, maps and sample sizes from ``source`` to ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    mask_image = nib.load(source / 'mask.nii.gz')
    inside = _blocks(np.asanyarray(mask_image.dataobj) > 0)
    count = inside.sum(axis=-1)
    mask = count >= FACTOR**3 / 2
    affine = _affine(mask_image.affine)
    _save(mask.astype(np.uint8), affine, target / 'mask.nii.gz')
    for path in sorted((source / 'contrast').glob('contrast_pain_*.nii.gz')):
        values = _blocks(np.asanyarray(nib.load(path).dataobj, dtype=np.float64))
        mean = (values * inside).sum(axis=-1) / np.maximum(count, 1)
        _save(np.where(mask, mean, 0.0).astype(np.float32), affine, target / path.name)
    shutil.copy(source / 'samplesize.csv', target / 'samplesize.csv')


if __name__ == '__main__':
    main(Path(sys.argv[1]), Path(sys.argv[2]))
