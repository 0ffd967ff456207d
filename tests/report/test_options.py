import nibabel as nib
import numpy as np
import pytest

from bidsglm.errors import InputNotFoundError, InvalidParameterError, ParameterTypeError
from bidsglm.report.options import (
    NILEARN_REPORT_KEYWORDS,
    Cuts,
    ReportOptions,
    report_options,
)


def test_report_options_defaults_are_nileans_read_as_bidsglms_default_report():
    options = report_options({})
    assert options == ReportOptions()
    assert options.thresholding.height_control == 'fpr'
    assert options.thresholding.alpha == 0.001
    assert options.background is None  # 'MNI152TEMPLATE': the mean of the data, else the mask
    assert options.cuts == Cuts()


def test_report_options_reads_every_threshold_keyword():
    options = report_options(
        {
            'height_control': 'bonferroni',
            'alpha': 0.05,
            'cluster_threshold': np.int64(12),
            'two_sided': np.True_,
            'min_distance': 4,
        }
    )
    rule = options.thresholding
    assert (rule.height_control, rule.alpha, rule.cluster_extent, rule.two_sided) == (
        'bonferroni',
        0.05,
        12,
        True,
    )
    assert options.min_distance == 4.0


@pytest.mark.parametrize(('threshold', 'z'), [(None, 3.09), (2.5, 2.5), (4, 4.0), (0, 0.0)])
def test_report_options_threshold_is_the_z_of_height_control_none(threshold, z):
    assert report_options({'height_control': None, 'threshold': threshold}).thresholding.z == z


def test_report_options_warns_that_a_threshold_with_a_rule_is_ignored():
    with pytest.warns(UserWarning, match="'threshold' was set to 'None'") as caught:
        options = report_options({'threshold': 1.0})
    assert len(caught) == 1
    assert options.thresholding.height_control == 'fpr'
    assert options.thresholding.z_threshold(np.zeros(3)) == pytest.approx(3.2905, abs=1e-4)


@pytest.mark.parametrize(
    ('keywords', 'error', 'match'),
    [
        ({'height_control': 'holm'}, InvalidParameterError, "'height_control'.*'fpr'"),
        ({'alpha': 2}, InvalidParameterError, r"'alpha'.*\(0, 1\). Got 2"),
        ({'alpha': 'x'}, ParameterTypeError, "'alpha'"),
        ({'threshold': 'a', 'height_control': None}, ParameterTypeError, "'threshold'"),
        (
            {'threshold': -1, 'height_control': None, 'two_sided': False},
            InvalidParameterError,
            'negate',
        ),
        (
            {'threshold': -1, 'height_control': None, 'two_sided': True},
            InvalidParameterError,
            r'\|z\|',
        ),
        ({'cluster_threshold': 1.5}, ParameterTypeError, "'cluster_threshold'.*integer"),
        ({'cluster_threshold': True}, ParameterTypeError, "'cluster_threshold'"),
        ({'cluster_threshold': -1}, InvalidParameterError, '>= 0'),
        ({'two_sided': 'yes'}, ParameterTypeError, 'True or False'),
        ({'min_distance': -1}, InvalidParameterError, "'min_distance'"),
        ({'min_distance': None}, ParameterTypeError, "'min_distance'"),
        ({'plot_type': 'surface'}, InvalidParameterError, "'plot_type'.*'glass', 'slice'"),
        ({'display_mode': 'q'}, InvalidParameterError, "'display_mode'.*'mosaic'"),
        ({'plot_type': 'glass', 'display_mode': 'mosaic'}, InvalidParameterError, "'lzry'"),
        ({'title': 5}, ParameterTypeError, "'title'"),
        ({'bg_img': 5}, ParameterTypeError, "'bg_img'"),
        ({'report_dims': (10,)}, ParameterTypeError, "'report_dims'"),
        ({'report_dims': (10, -1)}, ParameterTypeError, "'report_dims'"),
        ({'report_dims': 'big'}, ParameterTypeError, "'report_dims'"),
        ({'cut_coords': 'abc'}, ParameterTypeError, "'cut_coords'"),
        ({'cut_coords': 0}, InvalidParameterError, 'slices >= 1'),
        ({'cut_coords': []}, ParameterTypeError, "'cut_coords'"),
        ({'cut_coords': (1, 2), 'display_mode': 'ortho'}, InvalidParameterError, 'three'),
    ],
)
def test_report_options_refuses_bad_values_as_nilearn_does(keywords, error, match):
    with pytest.raises(error, match=match):
        report_options(keywords)


def test_report_options_type_errors_are_also_value_errors():
    """nilearn raises ValueError for some of these and TypeError for others."""
    with pytest.raises(ValueError, match="'alpha'"):
        report_options({'alpha': 'x'})
    with pytest.raises(TypeError, match="'alpha'"):
        report_options({'alpha': 'x'})


def test_report_options_refuses_an_unknown_keyword_listing_the_accepted_ones():
    with pytest.raises(
        InvalidParameterError, match="unexpected report keywords \\['colour'\\]"
    ) as info:
        report_options({'colour': 'red', 'alpha': 0.01}, caller='save_glm_to_bids')
    assert str(info.value).startswith('save_glm_to_bids')
    for name in NILEARN_REPORT_KEYWORDS:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize(
    ('keywords', 'cuts'),
    [
        ({'cut_coords': 4}, Cuts(axial=4)),
        ({'cut_coords': [-10, 0.5, 20]}, Cuts(axial=(-10.0, 0.5, 20.0))),
        ({'cut_coords': np.array([5.0]), 'display_mode': 'z'}, Cuts(axial=(5.0,))),
        ({'cut_coords': (1, 2, 3), 'display_mode': 'ortho'}, Cuts(point=(1.0, 2.0, 3.0))),
        ({'cut_coords': (1, 2, 3), 'display_mode': 'tiled'}, Cuts(point=(1.0, 2.0, 3.0))),
        ({'display_mode': 'ortho'}, Cuts()),
    ],
)
def test_report_options_reads_cut_coords_for_the_display_mode(keywords, cuts):
    assert report_options(keywords).cuts == cuts


@pytest.mark.parametrize(
    ('keywords', 'named'),
    [
        ({'plot_type': 'glass'}, "plot_type='glass'"),
        ({'display_mode': 'x'}, "display_mode='x'"),
        ({'display_mode': 'yz', 'cut_coords': [1, 2]}, "display_mode='yz' and its 'cut_coords'"),
        ({'plot_type': 'glass', 'display_mode': 'lzry'}, "display_mode='lzry'"),
    ],
)
def test_report_options_warns_naming_what_is_not_drawn(keywords, named):
    with pytest.warns(UserWarning, match="generate_report: bidsglm's report does not apply") as w:
        options = report_options(keywords)
    assert named in str(w[0].message)
    assert options.cuts == Cuts()


def test_report_options_report_dims_sizes_the_frame_and_is_not_applied_to_a_save():
    assert report_options({'report_dims': (640, 480.0)}).size == (640, 480)
    with pytest.warns(UserWarning, match=r'report_dims=\(640, 480\)'):
        report_options({'report_dims': (640, 480)}, caller='save_glm_to_bids')


def test_report_options_warns_nothing_for_what_it_applies(recwarn):
    report_options(
        {
            'title': 'T',
            'height_control': 'fdr',
            'alpha': 0.05,
            'plot_type': 'slice',
            'cut_coords': 3,
        },
        caller='save_glm_to_bids',
    )
    assert not recwarn.list


def test_report_options_background(tmp_path):
    image = nib.Nifti1Image(np.ones((2, 2, 2)), np.eye(4))
    assert report_options({'bg_img': None}).background is False  # no image: the mask's outline
    assert report_options({'bg_img': image}).background is image
    image.to_filename(tmp_path / 'bg.nii.gz')
    loaded = report_options({'bg_img': tmp_path / 'bg.nii.gz'}).background
    assert isinstance(loaded, nib.Nifti1Image)
    assert loaded.shape == (2, 2, 2)


def test_report_options_background_file_must_exist_and_be_an_image(tmp_path):
    with pytest.raises(InputNotFoundError, match='does not exist') as info:
        report_options({'bg_img': str(tmp_path / 'missing.nii.gz')})
    assert isinstance(info.value, ValueError)  # as nilearn's 'File not found'
    (tmp_path / 'notes.txt').write_text('not an image')
    with pytest.raises(InvalidParameterError, match='cannot be read as an image'):
        report_options({'bg_img': tmp_path / 'notes.txt'})
