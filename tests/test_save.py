"""``save_glm_to_bids``: the report beside every save takes nilearn's report keywords."""

import nibabel as nib
import numpy as np
import pytest

from bidsglm import SecondLevelModel, save_glm_to_bids
from bidsglm.errors import InvalidParameterError, ParameterTypeError
from bidsglm.report import write_report

SHAPE = (5, 6, 7)


@pytest.fixture
def group(rng):
    effect = np.zeros(SHAPE)
    effect[1:4, 1:4, 1:4] = 2.0
    maps = [nib.Nifti1Image(effect + rng.standard_normal(SHAPE), np.eye(4)) for _ in range(10)]
    return SecondLevelModel(mask_img=nib.Nifti1Image(np.ones(SHAPE, np.uint8), np.eye(4))).fit(
        maps
    )


def report_of(saved):
    return saved.statmap.with_name(saved.statmap.name.replace('statmap.json', 'report.html'))


def test_save_glm_to_bids_applies_report_keywords(group, tmp_path):
    saved = save_glm_to_bids(
        group,
        'intercept',
        out_dir=tmp_path,
        prefix='task-x',
        title='Group, strict',
        height_control=None,
        threshold=7.5,
        cluster_threshold=3,
        bg_img=None,
    )
    page = report_of(saved).read_text(encoding='utf-8')
    assert '<h1>Group, strict</h1>' in page
    assert 'Threshold: |z| ≥ 7.5, clusters of at least 3 voxels.' in page
    assert 'over the mask, scanner space;' in page


def test_save_glm_to_bids_warns_naming_the_keywords_it_does_not_apply(group, tmp_path):
    with pytest.warns(UserWarning, match="save_glm_to_bids: bidsglm's report does not apply") as w:
        saved = save_glm_to_bids(
            group, 'intercept', out_dir=tmp_path, plot_type='glass', report_dims=(800, 600)
        )
    message = str(w[0].message)
    assert "plot_type='glass'" in message
    assert 'report_dims=(800, 600)' in message
    assert report_of(saved).is_file()


@pytest.mark.parametrize(
    ('keywords', 'error', 'match'),
    [
        ({'colour': 'red'}, InvalidParameterError, r"\['colour'\].*'alpha', 'bg_img'"),
        ({'height_control': 'holm'}, InvalidParameterError, "'height_control'"),
        ({'alpha': 'small'}, ParameterTypeError, "'alpha'"),
    ],
)
def test_save_glm_to_bids_refuses_bad_report_keywords_before_writing(
    group, tmp_path, keywords, error, match
):
    out_dir = tmp_path / 'out'
    with pytest.raises(error, match=match):
        save_glm_to_bids(group, 'intercept', out_dir=out_dir, **keywords)
    assert not out_dir.exists()


def test_save_glm_to_bids_without_report_keywords_draws_the_default_report(group, tmp_path):
    saved = save_glm_to_bids(group, 'intercept', out_dir=tmp_path)
    assert 'uncorrected p &lt; 0.001' in report_of(saved).read_text(encoding='utf-8')


def test_a_report_without_entities_is_titled_by_its_folder_as_when_drawn_again(group, tmp_path):
    saved = save_glm_to_bids(group, 'intercept', out_dir=tmp_path / 'pain-group')
    at_save = report_of(saved).read_text(encoding='utf-8')
    assert '<h1>GLM report: pain-group</h1>' in at_save  # not the staging folder's name
    write_report(tmp_path / 'pain-group')
    assert report_of(saved).read_text(encoding='utf-8') == at_save
