"""Make the atlas shipped in ``src/bidsglm/data/schaefer2018`` (cluster-peak labels).

Source: the Schaefer 2018 cortical parcellation, 400 parcels, on the FSL MNI152 2 mm
grid (MNI152NLin6Asym, 91 x 109 x 91), as the CBIG repository distributes it under
the MIT licence (``stable_projects/brain_parcellation/Schaefer2018_LocalGlobal/
Parcellations/MNI/``): an image of the parcels, in either order CBIG gives them
(``Schaefer2018_400Parcels_{7,17}Networks_order_FSLMNI152_2mm.nii.gz``: the same
parcels, numbered by the 7 or by the 17 networks of Yeo 2011), and the table
``Centroid_coordinates/Schaefer2018_400Parcels_17Networks_order_FSLMNI152_2mm.
Centroid_RAS.csv`` (``ROI Label``, ``ROI Name``, ``R``, ``A``, ``S``: a voxel of each
parcel near its centre, in mm).

Method: each row of the table is matched to the parcel of the image that holds its
centre; every parcel must hold exactly one centre (else the tool stops). The parcels
are numbered as in the table (17-network order; no voxel moves, nothing is
resampled), written as uint16 with sform and qform code 4 (MNI 152), gzip level 9, no
time stamp. Each CBIG name (``17Networks_LH_SomMotB_S2_3``) becomes a readable name
(``Left secondary somatosensory cortex (S2), somatomotor B network (parcel 3)``) from
the two tables below, which spell out CBIG's abbreviations; ``labels.tsv`` keeps both.

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

NAME = 'schaefer2018_400parcels_17networks_2mm.nii.gz'

#: The 17 networks of Yeo 2011 as CBIG abbreviates them, in words.
NETWORKS = {
    'VisCent': 'central visual',
    'VisPeri': 'peripheral visual',
    'SomMotA': 'somatomotor A',
    'SomMotB': 'somatomotor B',
    'DorsAttnA': 'dorsal attention A',
    'DorsAttnB': 'dorsal attention B',
    'SalVentAttnA': 'salience / ventral attention A',
    'SalVentAttnB': 'salience / ventral attention B',
    'LimbicA': 'limbic A',
    'LimbicB': 'limbic B',
    'ContA': 'control A',
    'ContB': 'control B',
    'ContC': 'control C',
    'DefaultA': 'default A',
    'DefaultB': 'default B',
    'DefaultC': 'default C',
    'TempPar': 'temporal parietal',
}

#: The anatomical hints of the CBIG names, in words (the parcels have no finer name).
REGIONS = {
    'AntTemp': 'anterior temporal cortex',
    'Aud': 'auditory cortex',
    'Cent': 'central (pre/postcentral) cortex',
    'Cingm': 'mid-cingulate cortex',
    'Cingp': 'posterior cingulate cortex',
    'ExStr': 'extrastriate cortex',
    'ExStrInf': 'inferior extrastriate cortex',
    'ExStrSup': 'superior extrastriate cortex',
    'FEF': 'frontal eye field',
    'FrMed': 'medial frontal cortex',
    'FrOper': 'frontal operculum',
    'IPL': 'inferior parietal lobule',
    'IPS': 'intraparietal sulcus',
    'Ins': 'insula',
    'OFC': 'orbitofrontal cortex',
    'PFCd': 'dorsal prefrontal cortex',
    'PFCl': 'lateral prefrontal cortex',
    'PFCld': 'dorsolateral prefrontal cortex',
    'PFClv': 'ventrolateral prefrontal cortex',
    'PFCm': 'medial prefrontal cortex',
    'PFCmp': 'medial posterior prefrontal cortex',
    'PFCv': 'ventral prefrontal cortex',
    'PHC': 'parahippocampal cortex',
    'ParMed': 'medial parietal cortex',
    'ParOcc': 'parieto-occipital cortex',
    'ParOper': 'parietal operculum',
    'PostC': 'postcentral cortex',
    'PrC': 'precentral cortex',
    'PrCv': 'ventral precentral cortex',
    'Rsp': 'retrosplenial cortex',
    'S2': 'secondary somatosensory cortex (S2)',
    'SPL': 'superior parietal lobule',
    'StriCal': 'striate / calcarine cortex',
    'Striate': 'striate cortex',
    'Temp': 'temporal cortex',
    'TempOcc': 'temporo-occipital cortex',
    'TempPole': 'temporal pole',
    'pCun': 'precuneus',
    'pCunPCC': 'precuneus / posterior cingulate',
}
HEMISPHERES = {'LH': 'Left', 'RH': 'Right'}


def readable_name(cbig_name: str) -> str:
    """Return ``17Networks_LH_DefaultA_pCunPCC_3`` in words."""
    _, hemisphere, network, *hint, number = cbig_name.split('_')
    side, words = HEMISPHERES[hemisphere], NETWORKS[network]
    if hint:
        return f'{side} {REGIONS[hint[0]]}, {words} network (parcel {number})'
    return f'{side} hemisphere, {words} network (parcel {number})'


def read_table(centroids: Path) -> list[tuple[int, str, np.ndarray]]:
    """Read each parcel's number, CBIG name and centre (mm) from CBIG's table."""
    with centroids.open(newline='') as stream:
        rows = list(csv.DictReader(stream))
    missing = {'ROI Label', 'ROI Name', 'R', 'A', 'S'} - set(rows[0] if rows else ())
    if missing:
        msg = f"{centroids} lacks the columns {sorted(missing)}: give CBIG's Centroid_RAS.csv"
        raise SystemExit(msg)
    return [
        (int(row['ROI Label']), row['ROI Name'], np.array([float(row[c]) for c in 'RAS']))
        for row in rows
    ]


def renumber(labels: np.ndarray, affine: np.ndarray, table: list) -> np.ndarray:
    """Renumber the parcels as the table does, by the parcel that holds each centre.

    Stops unless every parcel of the image holds exactly one centre of the table.
    """
    to_voxel = np.linalg.inv(affine)
    held = [
        int(labels[tuple(np.rint(apply_affine(to_voxel, centre)).astype(int))])
        for _, _, centre in table
    ]
    parcels = set(np.unique(labels).tolist()) - {0}
    if 0 in held or len(set(held)) != len(held) or set(held) != parcels:
        msg = (
            f'the {len(table)} centres fall in {len(set(held) - {0})} distinct parcels of '
            f'the {len(parcels)} in the image: the table does not describe this image'
        )
        raise SystemExit(msg)
    lookup = np.zeros(int(labels.max()) + 1, dtype=np.int64)
    for (index, _, _), parcel in zip(table, held, strict=True):
        lookup[parcel] = index
    return lookup[labels]


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
    table = read_table(centroids)
    target.mkdir(parents=True, exist_ok=True)
    write_image(renumber(labels, affine, table), affine, target)
    lines = ['index\tname\tcbig_name']
    lines += [f'{index}\t{readable_name(name)}\t{name}' for index, name, _ in sorted(table)]
    (target / 'labels.tsv').write_text('\n'.join(lines) + '\n', encoding='utf-8')


if __name__ == '__main__':
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
