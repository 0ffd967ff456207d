import html
import re
import webbrowser

import pytest

from bidsglm.errors import ParameterTypeError
from bidsglm.report import html as page_html
from bidsglm.report.document import HTMLReport

PAGE = page_html.page('GLM report: a < b & c', [page_html.Section('x', 'Contrast: a - b', '')])


def srcdoc(frame: str) -> str:
    found = re.fullmatch(
        r'<iframe srcdoc="([^"]*)" width="(\d+)" height="(\d+)"[^>]*></iframe>', frame
    )
    assert found, frame
    return html.unescape(found.group(1))


def test_html_report_save_as_html_writes_the_page_itself(tmp_path):
    report = HTMLReport(PAGE)
    report.save_as_html(tmp_path / 'report.html')
    assert (tmp_path / 'report.html').read_text(encoding='utf-8') == PAGE
    report.save_as_html(str(tmp_path / 'report.html'))  # a str, and a file replaced
    assert str(report) == report.get_standalone() == report.html == PAGE


def test_html_report_shows_in_a_notebook_as_a_frame_of_the_whole_page():
    report = HTMLReport(PAGE, 640, 480)
    frame = report._repr_html_()
    assert srcdoc(frame) == PAGE  # escaped once, whole: its styles stay in the frame
    assert 'width="640" height="480"' in frame
    assert 'Contrast: a - b' in frame
    assert 'width="300" height="200"' in report.get_iframe(300, 200)


def test_html_report_resize_and_size_checks():
    report = HTMLReport(PAGE)
    assert (report.width, report.height) == (1600, 800)
    assert report.resize(900, '700') is report
    assert (report.width, report.height) == (900, 700)
    for bad in (0, -5, 'wide', None):
        with pytest.raises(ParameterTypeError, match='positive number of pixels'):
            report.width = bad


def test_html_report_open_in_browser_saves_then_opens(tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr(webbrowser, 'open', lambda uri: opened.append(uri) or True)
    path = HTMLReport(PAGE).open_in_browser(tmp_path / 'mine.html')
    assert path == (tmp_path / 'mine.html').resolve()
    assert opened == [path.as_uri()]
    assert path.read_text(encoding='utf-8') == PAGE


def test_html_report_open_in_browser_without_a_name_uses_a_temporary_file(monkeypatch):
    monkeypatch.setattr(webbrowser, 'open', lambda uri: True)
    path = HTMLReport(PAGE).open_in_browser()
    try:
        assert path.name.startswith('bidsglm-report-')
        assert path.read_text(encoding='utf-8') == PAGE
    finally:
        path.unlink()


def test_html_report_open_in_browser_without_a_browser_says_where_the_page_is(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(webbrowser, 'open', lambda uri: False)
    with pytest.warns(UserWarning, match='No web browser could be started.*mine.html'):
        path = HTMLReport(PAGE).open_in_browser(tmp_path / 'mine.html')
    assert path.is_file()
