"""Make the atlas shipped in ``src/bidsglm/data/schaefer2018`` (cluster-peak labels).

Source: the Schaefer 2018 cortical parcellation, 400 parcels ordered by the 7 networks
of Yeo 2011, on the FSL MNI152 2 mm grid (MNI152NLin6Asym, 91 x 109 x 91), as the CBIG
repository distributes it under the MIT licence:
``stable_projects/brain_parcellation/Schaefer2018_LocalGlobal/Parcellations/MNI/
Schaefer2018_400Parcels_7Networks_order_FSLMNI152_2mm.nii.gz`` and the parcel names of
``.../Centroid_coordinates/Schaefer2018_400Parcels_7Networks_order_FSLMNI152_2mm.
Centroid_RAS.csv`` (columns ``ROI Label``, ``ROI Name``; the coordinates, when given,
are checked against the image).

Method: the integer labels are copied unchanged (no resampling: the grid is already
2 mm), written as uint16 with sform and qform code 4 (MNI 152), gzip level 9, no time
stamp. Each CBIG name (``7Networks_LH_Default_pCunPCC_3``) becomes a readable name
(``Left precuneus / posterior cingulate, default network (parcel 3)``) from the two
tables below; ``labels.tsv`` keeps both.

Run: python tools/make_schaefer_atlas.py ATLAS_NII CENTROIDS_CSV src/bidsglm/data/schaefer2018
"""

from __future__ import annotations

import csv
import gzip
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
from nibabel.affines import apply_affine

NAME = 'schaefer2018_400parcels_7networks_2mm.nii.gz'

#: Yeo 2011 network abbreviations of the CBIG names, in words.
NETWORKS = {
    'Vis': 'visual',
    'SomMot': 'somatomotor',
    'DorsAttn': 'dorsal attention',
    'SalVentAttn': 'salience / ventral attention',
    'Limbic': 'limbic',
    'Cont': 'control',
    'Default': 'default',
}

#: The anatomical hints of the CBIG names, in words (the parcels have no finer name).
REGIONS = {
    'Cing': 'cingulate cortex',
    'FEF': 'frontal eye field',
    'FrOperIns': 'frontal operculum / insula',
    'Med': 'medial frontal / parietal cortex',
    'OFC': 'orbitofrontal cortex',
    'Par': 'parietal cortex',
    'ParOper': 'parietal operculum',
    'PFC': 'prefrontal cortex',
    'PFCdPFCm': 'dorsal / medial prefrontal cortex',
    'PFCl': 'lateral prefrontal cortex',
    'PFCmp': 'medial posterior prefrontal cortex',
    'PFCv': 'ventral prefrontal cortex',
    'Post': 'posterior (occipito-parietal) cortex',
    'PrC': 'precentral cortex',
    'PrCv': 'ventral precentral cortex',
    'Temp': 'temporal cortex',
    'TempOcc': 'temporo-occipital cortex',
    'TempOccPar': 'temporo-occipito-parietal cortex',
    'TempPole': 'temporal pole',
    'pCun': 'precuneus',
    'pCunPCC': 'precuneus / posterior cingulate',
}
HEMISPHERES = {'LH': 'Left', 'RH': 'Right'}


def readable_name(cbig_name: str) -> str:
    """Return ``7Networks_LH_Default_pCunPCC_3`` in words."""
    _, hemisphere, network, *hint, number = cbig_name.split('_')
    side, words = HEMISPHERES[hemisphere], NETWORKS[network]
    if hint:
        return f'{side} {REGIONS[hint[0]]}, {words} network (parcel {number})'
    return f'{side} hemisphere, {words} network (parcel {number})'


def read_names(centroids: Path) -> list[tuple[int, str, tuple[float, ...] | None]]:
    """Read the parcel numbers, CBIG names and (if present) centroids."""
    with centroids.open(newline='') as stream:
        rows = list(csv.DictReader(stream))
    has_xyz = rows and {'R', 'A', 'S'} <= set(rows[0])
    return [
        (
            int(row['ROI Label']),
            row['ROI Name'],
            tuple(float(row[c]) for c in 'RAS') if has_xyz else None,
        )
        for row in rows
    ]


def check(labels: np.ndarray, affine: np.ndarray, names: list) -> None:
    """Fail unless the image holds exactly the named parcels, centroids nearby."""
    found = set(np.unique(labels).tolist()) - {0}
    expected = {index for index, _, _ in names}
    if found != expected:
        msg = f'the image has parcels {sorted(found ^ expected)} that the names do not, or back'
        raise SystemExit(msg)
    for index, cbig_name, xyz in names:
        if xyz is None:
            continue
        centre = apply_affine(affine, np.argwhere(labels == index)).mean(axis=0)
        if np.linalg.norm(centre - np.array(xyz)) > 4.0:
            msg = f'parcel {index} ({cbig_name}) is centred at {centre}, not near {xyz}'
            raise SystemExit(msg)


def write_image(labels: np.ndarray, affine: np.ndarray, target: Path) -> None:
    """Write the labels as uint16, MNI-coded, gzip level 9 without a time stamp."""
    out = nib.Nifti1Image(labels.astype(np.uint16), affine)
    out.header.set_xyzt_units('mm')
    out.set_sform(affine, code=4)
    out.set_qform(affine, code=4)
    with (
        (target / NAME).open('wb') as stream,
        gzip.GzipFile(fileobj=stream, mode='wb', compresslevel=9, mtime=0) as packed,
    ):
        packed.write(out.to_bytes())


def main(atlas: Path, centroids: Path, target: Path) -> None:
    """Write the image and ``labels.tsv`` into the folder ``target``."""
    image = nib.load(atlas)
    labels = np.rint(np.asarray(image.dataobj)).astype(np.int64)
    affine = np.asarray(image.affine)
    names = read_names(centroids)
    check(labels, affine, names)
    target.mkdir(parents=True, exist_ok=True)
    write_image(labels, affine, target)
    lines = ['index\tname\tcbig_name']
    lines += [f'{index}\t{readable_name(name)}\t{name}' for index, name, _ in sorted(names)]
    (target / 'labels.tsv').write_text('\n'.join(lines) + '\n', encoding='utf-8')


if __name__ == '__main__':
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
