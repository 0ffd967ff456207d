"""SpatialReference: which spaces need it, and what is written."""

from __future__ import annotations

import pytest

from bidsglm.bids.spatial_reference import (
    STANDARD_SPACES,
    needs_spatial_reference,
    spatial_reference,
)

GIFTI_MASKS = {'L': 'sub-01/func/hemi-L_mask.func.gii', 'R': 'sub-01/func/hemi-R_mask.func.gii'}


@pytest.mark.parametrize(
    ('space', 'needed'),
    [('fsaverage', False), ('fsLR', False), ('MNI152NLin2009cAsym', False),
     ('MNI152NLin6Asym', False), ('fsaverage5', True), ('fsaverage6', True),
     ('fsnative', True), ('T1w', True), ('MNI152NLin2009cAsymCustom', True)],
)  # fmt: skip
def test_only_spaces_outside_the_bids_templates_need_a_reference(space, needed):
    assert needs_spatial_reference(space) is needed


def test_the_standard_spaces_are_the_bids_schema_ones():
    assert len(STANDARD_SPACES) == 22
    assert {'fsaverage', 'fsLR', 'MNI152NLin2009cAsym', 'MNI152NLin6Asym'} <= STANDARD_SPACES


@pytest.mark.parametrize(('space', 'density'), [('fsaverage4', '3k'), ('fsaverage5', '10k'),
                                                 ('fsaverage6', '41k')])  # fmt: skip
def test_an_fsaverage_density_refers_to_its_templateflow_mesh(space, density):
    reference = spatial_reference({'space': space, 'hemi': 'R'}, GIFTI_MASKS)
    assert reference == (
        'https://templateflow.s3.amazonaws.com/tpl-fsaverage/'
        f'tpl-fsaverage_hemi-R_den-{density}_pial.surf.gii'
    )


def test_a_file_of_both_hemispheres_refers_to_each_by_structure():
    reference = spatial_reference({'space': 'fsaverage5'}, GIFTI_MASKS)
    assert isinstance(reference, dict)
    assert sorted(reference) == ['CIFTI_STRUCTURE_CORTEX_LEFT', 'CIFTI_STRUCTURE_CORTEX_RIGHT']
    assert reference['CIFTI_STRUCTURE_CORTEX_LEFT'].endswith('hemi-L_den-10k_pial.surf.gii')


def test_a_cifti_file_in_fsaverage5_refers_to_both_template_hemispheres():
    reference = spatial_reference({'space': 'fsaverage5'}, {None: 'mask.dscalar.nii'})
    assert isinstance(reference, dict)
    assert len(reference) == 2


def test_a_subject_space_refers_to_the_models_mask():
    volume = spatial_reference({'space': 'T1w', 'stat': 'z'}, {None: 'sub-01/func/m.nii.gz'})
    assert volume == 'sub-01/func/m.nii.gz'
    assert spatial_reference({'space': 'fsnative', 'hemi': 'L'}, GIFTI_MASKS) == GIFTI_MASKS['L']
    both = spatial_reference({'space': 'fsnative'}, GIFTI_MASKS)
    assert both == {
        'CIFTI_STRUCTURE_CORTEX_LEFT': GIFTI_MASKS['L'],
        'CIFTI_STRUCTURE_CORTEX_RIGHT': GIFTI_MASKS['R'],
    }


def test_standard_spaces_and_files_without_space_get_none():
    assert spatial_reference({'space': 'fsLR', 'den': '91k'}, {None: 'm.dscalar.nii'}) is None
    assert spatial_reference({'sub': '01'}, {None: 'm.nii.gz'}) is None
