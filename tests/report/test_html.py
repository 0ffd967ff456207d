import re

from bidsglm.report import html


def test_page_is_self_contained_responsive_and_printable():
    sections = [html.Section('model', 'Model', '<p>a</p>'), html.Section('design', 'Design', '')]
    document = html.page('Report', sections, subtitle='sub', description='one line')
    assert document.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in document
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', document)
    assert csp is not None
    assert csp.group(1) == "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    assert '@media print' in document
    assert '@media (max-width: 640px)' in document
    assert '<script' not in document
    assert re.findall(r'href="([^"]+)"', document) == ['#model', '#design']
    assert '<meta name="description" content="one line">' in document


def test_page_with_one_section_has_no_navigation():
    document = html.page('Index', [html.Section('reports', 'Reports', '')])
    assert '<nav' not in document


def test_text_is_escaped_everywhere():
    section = html.Section('a', '<b>', html.paragraph('x < y & "z"'))
    document = html.page('<title>', [section], footer='1 < 2')
    assert '<b>' not in document
    assert '&lt;b&gt;' in document
    assert '<title>&lt;title&gt;</title>' in document
    assert 'x &lt; y &amp; &quot;z&quot;' in document
    picture = html.Picture('data:image/png;base64,AA==', 'a "quoted" alt', 'caption <i>')
    assert picture.to_html() == (
        '<figure><img src="data:image/png;base64,AA==" alt="a &quot;quoted&quot; alt">'
        '<figcaption>caption &lt;i&gt;</figcaption></figure>'
    )


def test_table_marks_numeric_columns_and_scrolls():
    out = html.table(['name', 'z'], [['1a', '3.10']], [False, True])
    assert out.startswith('<div class="scroll"><table>')
    assert '<th>name</th><th class="num">z</th>' in out
    assert '<td>1a</td><td class="num">3.10</td>' in out


def test_definition_list_link_list_and_folded_parts():
    assert html.definition_list([('a<', 'b')]) == '<dl><dt>a&lt;</dt><dd>b</dd></dl>'
    links = html.link_list([('sub-01/a b.html', 'sub-01', 'first')])
    assert '<a href="sub-01/a b.html">sub-01</a>' in links
    assert html.folded('More <', '<p>x</p>') == (
        '<details><summary>More &lt;</summary><p>x</p></details>'
    )
