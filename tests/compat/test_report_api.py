"""``generate_report`` and the report keywords of ``save_glm_to_bids``, as nilearn's.

Both libraries are called with the same arguments: the same signature and
keywords, a returned page with the same methods (``save_as_html`` writes a file,
``_repr_html_`` returns HTML naming the contrasts, ``open_in_browser``), the same
warnings for keywords that are set aside, and the same catchable errors for
misuse. The pages differ on purpose: ours is bidsglm's report (see CHANGELOG.md).
"""

from __future__ import annotations

import html
import inspect
import webbrowser

import pandas as pd
import pytest
from nilearn.glm import save_glm_to_bids as nilearn_save
from nilearn.glm.first_level import FirstLevelModel as NilearnFirstLevel
from nilearn.glm.second_level import SecondLevelModel as NilearnSecondLevel

from bidsglm import FirstLevelModel, SecondLevelModel, save_glm_to_bids
from bidsglm.report.options import NILEARN_REPORT_KEYWORDS

from .conftest import T_R, make_events, make_maps, make_run, quietly, recording, warned

pytestmark = pytest.mark.oracle

CONTRASTS = ['audio', 'audio - visual']


@pytest.fixture
def first_levels(rng, mask_img):
    """Ours and nilearn's first level, fitted on the same run."""
    run, events = make_run(rng), make_events()
    ours = FirstLevelModel(t_r=T_R, mask_img=mask_img).fit(run, events=events)
    theirs = NilearnFirstLevel(t_r=T_R, mask_img=mask_img, minimize_memory=False)
    quietly(theirs.fit, run, events=events)
    return ours, theirs


@pytest.fixture
def second_levels(rng, mask_img):
    """Ours and nilearn's one-sample group model on the same maps (nilearn's default
    minimize_memory: with False, its generate_report needs a contrast computed first)."""
    maps = make_maps(rng, 8)
    design = pd.DataFrame({'intercept': [1.0] * len(maps)})
    ours = SecondLevelModel(mask_img=mask_img).fit(maps, design_matrix=design)
    theirs = quietly(NilearnSecondLevel(mask_img=mask_img).fit, maps, design_matrix=design)
    return ours, theirs


def defaults(function):
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if name != 'self'
    }


@pytest.mark.parametrize(
    ('ours', 'theirs'),
    [(FirstLevelModel, NilearnFirstLevel), (SecondLevelModel, NilearnSecondLevel)],
)
def test_generate_report_has_nilearns_parameters_defaults_and_order(ours, theirs):
    mine, reference = defaults(ours.generate_report), defaults(theirs.generate_report)
    assert list(mine) == list(reference)
    assert mine == reference


def test_save_glm_to_bids_report_keywords_are_nilearns():
    reference = defaults(NilearnFirstLevel.generate_report)
    del reference['contrasts'], reference['first_level_contrast']  # explicit parameters
    assert reference == NILEARN_REPORT_KEYWORDS


def check_page(report, tmp_path, monkeypatch, names, tool):
    """The methods of nilearn's report object, on one report."""
    saved = tmp_path / f'{tool}.html'
    report.save_as_html(saved)
    assert saved.stat().st_size > 1000
    # nilearn writes the page inside an <iframe srcdoc>; bidsglm writes the page itself
    assert '<html' in html.unescape(saved.read_text(encoding='utf-8'))
    shown = html.unescape(report._repr_html_())
    for name in names:
        assert name in shown, (tool, name)
    assert report.resize(640, 480) is report
    assert (report.width, report.height) == (640, 480)
    assert 'width="640"' in report.get_iframe()
    assert '<html' in report.get_standalone()
    opened = []
    monkeypatch.setattr(
        webbrowser, 'open', lambda uri, *args, **kwargs: opened.append(uri) or True
    )
    report.open_in_browser(file_name=str(tmp_path / f'{tool}-opened.html'))
    assert len(opened) == 1
    assert (tmp_path / f'{tool}-opened.html').is_file()


def test_first_level_generate_report_returns_the_same_api(first_levels, tmp_path, monkeypatch):
    for model, tool in zip(first_levels, ('bidsglm', 'nilearn'), strict=True):
        report = quietly(model.generate_report, CONTRASTS, report_dims=(900, 700))
        assert (report.width, report.height) == (900, 700)
        check_page(report, tmp_path, monkeypatch, CONTRASTS, tool)


def test_second_level_generate_report_returns_the_same_api(second_levels, tmp_path, monkeypatch):
    for model, tool in zip(second_levels, ('bidsglm', 'nilearn'), strict=True):
        report = quietly(model.generate_report, 'intercept', height_control=None)
        check_page(report, tmp_path, monkeypatch, ['intercept'], tool)


def test_group_of_first_level_models_reports_a_first_level_contrast(rng, mask_img):
    runs = [make_run(rng) for _ in range(3)]
    ours = [FirstLevelModel(t_r=T_R, mask_img=mask_img).fit(r, events=make_events()) for r in runs]
    theirs = [
        quietly(NilearnFirstLevel(t_r=T_R, mask_img=mask_img).fit, r, events=make_events())
        for r in runs
    ]
    for models, group_class in ((ours, SecondLevelModel), (theirs, NilearnSecondLevel)):
        group = quietly(group_class().fit, models)
        page = quietly(group.generate_report, 'intercept', first_level_contrast='audio')
        assert 'intercept' in html.unescape(page._repr_html_())
        with pytest.raises(ValueError, match='first_level_contrast'):
            quietly(group.generate_report, 'intercept')


@pytest.mark.parametrize(
    ('arguments', 'phrase'),
    [
        ({}, 'No contrast passed during report generation'),
        ({'contrasts': 'audio', 'threshold': 2.0}, "'threshold' was set to 'None'"),
        (
            {'contrasts': 'audio', 'first_level_contrast': 'audio'},
            "'first_level_contrast' is ignored for FirstLevelModel",
        ),
    ],
)
def test_generate_report_warns_as_nilearn_about_what_it_sets_aside(
    first_levels, arguments, phrase
):
    for model in first_levels:
        _, caught = recording(model.generate_report, **arguments)
        assert warned(caught, UserWarning, phrase), type(model).__module__


#: Misuse, and the built-in class nilearn 0.14.1 raises for it.
MISUSE = [
    ({'contrasts': 'nothing'}, ValueError),
    ({'contrasts': 5}, TypeError),
    ({'height_control': 'holm'}, ValueError),
    ({'height_control': None, 'threshold': 'a'}, ValueError),
    ({'height_control': None, 'threshold': -1.0, 'two_sided': True}, ValueError),
    ({'alpha': 'x'}, TypeError),
    ({'cluster_threshold': -1}, ValueError),
    ({'cluster_threshold': 1.5}, TypeError),
    ({'min_distance': -1}, ValueError),
    ({'plot_type': 'surface'}, ValueError),
    ({'display_mode': 'q'}, ValueError),
    ({'cut_coords': 'abc'}, ValueError),
    ({'bg_img': '/nonexistent/background.nii.gz'}, ValueError),
    ({'bg_img': 5}, TypeError),
    ({'title': 5}, TypeError),
    ({'report_dims': (10,)}, TypeError),
]


@pytest.mark.parametrize(('arguments', 'error'), MISUSE, ids=lambda value: repr(value)[:40])
def test_generate_report_misuse_raises_what_catches_nileans_error(first_levels, arguments, error):
    arguments = {'contrasts': 'audio', **arguments}
    for model in first_levels:
        with pytest.raises(error):
            quietly(model.generate_report, **arguments)


def test_generate_report_of_an_unfitted_model_differs_on_purpose():
    """nilearn returns an empty page with a warning; ours raises NotFittedError."""
    _, caught = recording(NilearnFirstLevel(t_r=T_R).generate_report, 'audio')
    assert warned(caught, UserWarning, 'has not been fit yet')
    with pytest.raises(ValueError, match='not fitted yet'):
        FirstLevelModel(t_r=T_R).generate_report('audio')


def test_save_glm_to_bids_refuses_an_unknown_report_keyword_as_nilearn(first_levels, tmp_path):
    ours, theirs = first_levels
    with pytest.raises(ValueError, match='colour'):
        quietly(nilearn_save, theirs, 'audio', out_dir=tmp_path / 'nilearn', colour='red')
    with pytest.raises(ValueError, match='colour') as info:
        save_glm_to_bids(ours, 'audio', out_dir=tmp_path / 'bidsglm', colour='red')
    assert 'height_control' in str(info.value)  # the accepted ones are listed


def test_save_glm_to_bids_forwards_report_keywords_as_nilearn(first_levels, tmp_path):
    keywords = {
        'title': 'Compat title',
        'height_control': None,
        'threshold': 2.0,
        'cluster_threshold': 2,
        'two_sided': True,
        'min_distance': 6.0,
        'bg_img': None,
        'display_mode': 'ortho',
        'cut_coords': (0, 0, 0),
    }
    ours, theirs = first_levels
    quietly(nilearn_save, theirs, 'audio', out_dir=tmp_path / 'nilearn', **keywords)
    saved = save_glm_to_bids(ours, 'audio', out_dir=tmp_path / 'bidsglm', **keywords)
    for page in (tmp_path / 'nilearn' / 'report.html', saved.out_dir / 'report.html'):
        assert 'Compat title' in html.unescape(page.read_text(encoding='utf-8'))
