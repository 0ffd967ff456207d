"""One self-contained HTML page: inline CSS, figures as ``data:`` URIs, no script.

The page loads nothing: its Content-Security-Policy forbids every fetch except
inline styles and ``data:`` images, so it opens the same offline, from an e-mail or
from a cluster's file system. The layout is one readable column that narrows on a
phone (tables scroll sideways, figures shrink to the width) and prints cleanly
(no navigation, no section split across pages where avoidable, black on white).

Every piece of text is escaped here; callers pass plain strings.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    'CSS',
    'Picture',
    'Section',
    'definition_list',
    'figures',
    'folded',
    'heading',
    'link_list',
    'page',
    'paragraph',
    'table',
]

CSS = """
:root { --fg: #1d2430; --muted: #566173; --line: #d5dbe5; --accent: #1f5fae; --tint: #f3f6fa; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; color: var(--fg); background: #fff;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
header, main, footer { max-width: 1000px; margin: 0 auto; padding: 0 18px; }
header { padding-top: 22px; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.6rem; margin: 0 0 4px; line-height: 1.25; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-bottom: 4px;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 1.6rem 0 .4rem; }
h4 { font-size: 1rem; margin: 1rem 0 .3rem; }
p { margin: .4rem 0; }
.muted, figcaption { color: var(--muted); }
a { color: var(--accent); }
nav ul { list-style: none; padding: 0; margin: 10px 0 14px; display: flex; flex-wrap: wrap;
  gap: 4px 18px; }
figure { margin: 10px 0 16px; }
figure img { display: block; max-width: 100%; height: auto; border-radius: 3px; }
figcaption { font-size: .88rem; margin-top: 4px; }
.figures { display: flex; flex-wrap: wrap; gap: 0 24px; align-items: flex-start; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; font-size: .9rem; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left;
  white-space: nowrap; }
th { background: var(--tint); font-weight: 600; }
td.num, th.num { text-align: right; }
td.wrap { white-space: normal; min-width: 16em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: .6rem 0; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
details { margin: .6rem 0; } summary { cursor: pointer; color: var(--accent); }
ul.links { padding-left: 1.2rem; } ul.links li { margin: 4px 0; }
.threshold { background: var(--tint); border-left: 3px solid var(--accent); padding: 6px 10px; }
footer { margin-top: 3rem; padding-bottom: 24px; border-top: 1px solid var(--line);
  font-size: .85rem; color: var(--muted); }
@media (max-width: 640px) {
  body { font-size: 15px; }
  header, main, footer { padding: 0 10px; }
  h1 { font-size: 1.35rem; }
  dl { grid-template-columns: 1fr; }
  dd { margin-bottom: 6px; }
  th, td { padding: 3px 6px; }
}
@media print {
  nav { display: none; }
  body { font-size: 10.5pt; }
  header, main, footer { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  h2, h3 { break-after: avoid; }
  figure, table, .threshold { break-inside: avoid; }
  section.contrast { break-before: page; }
  th { background: none; }
}
"""

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class Picture:
    """A picture embedded as a ``data:`` URI, with its alternative text and caption.

    Parameters
    ----------
    uri : str
        The ``data:`` URI.
    alt : str
        What the picture shows, for screen readers and broken images.
    caption : str, optional
        Text under the picture.
    """

    uri: str
    alt: str
    caption: str = ''

    def to_html(self) -> str:
        """Return the ``<figure>`` element."""
        caption = f'<figcaption>{_text(self.caption)}</figcaption>' if self.caption else ''
        return f'<figure><img src="{_text(self.uri)}" alt="{_text(self.alt)}">{caption}</figure>'


@dataclass(frozen=True)
class Section:
    """A titled part of the page, listed in its navigation.

    Parameters
    ----------
    anchor : str
        The element id (letters, digits, ``-``).
    title : str
        The ``<h2>`` heading.
    body : str
        The HTML content (already escaped, built with this module's helpers).
    css_class : str, optional
        A class for the ``<section>``.
    """

    anchor: str
    title: str
    body: str
    css_class: str = field(default='')

    def to_html(self) -> str:
        """Return the ``<section>`` element."""
        css = f' class="{_text(self.css_class)}"' if self.css_class else ''
        return (
            f'<section id="{_text(self.anchor)}"{css}>'
            f'<h2>{_text(self.title)}</h2>{self.body}</section>'
        )


def _text(value: object) -> str:
    """Escape text for HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def paragraph(text: str, css_class: str = '') -> str:
    """Return an escaped ``<p>``.

    Parameters
    ----------
    text : str
        Plain text.
    css_class : str, optional
        Its class.

    Returns
    -------
    str
        The HTML.

    Examples
    --------
    >>> paragraph('z > 3 & p < .001')
    '<p>z &gt; 3 &amp; p &lt; .001</p>'
    """
    css = f' class="{_text(css_class)}"' if css_class else ''
    return f'<p{css}>{_text(text)}</p>'


def heading(text: str, anchor: str = '', *, level: int = 3) -> str:
    """Return an escaped ``<h3>`` (or ``<h4>``...), with an id when ``anchor`` is given."""
    anchor_attr = f' id="{_text(anchor)}"' if anchor else ''
    return f'<h{level}{anchor_attr}>{_text(text)}</h{level}>'


def link_list(items: Sequence[tuple[str, str, str]]) -> str:
    """Return a list of links, each with a note after it.

    Parameters
    ----------
    items : sequence of (str, str, str)
        (relative address, link text, note) triples.

    Returns
    -------
    str
        The HTML.

    Examples
    --------
    >>> print(link_list([('sub-01/report.html', 'sub-01', 'first level')]))
    <ul class="links"><li><a href="sub-01/report.html">sub-01</a>
    <span class="muted">first level</span></li></ul>
    """
    rows = ''.join(
        f'<li><a href="{_text(href)}">{_text(text)}</a>\n'
        f'<span class="muted">{_text(note)}</span></li>'
        for href, text, note in items
    )
    return f'<ul class="links">{rows}</ul>'


def folded(summary: str, body: str) -> str:
    """Return a part folded under a summary line, opened by a click (no script).

    Parameters
    ----------
    summary : str
        The line shown (plain text).
    body : str
        The HTML folded under it.

    Returns
    -------
    str
        The HTML.

    Examples
    --------
    >>> folded('More', '<p>x</p>')
    '<details><summary>More</summary><p>x</p></details>'
    """
    return f'<details><summary>{_text(summary)}</summary>{body}</details>'


def definition_list(items: Sequence[tuple[str, str]]) -> str:
    """Return a ``<dl>`` of (term, description) pairs, both escaped.

    Parameters
    ----------
    items : sequence of (str, str)
        The pairs.

    Returns
    -------
    str
        The HTML.

    Examples
    --------
    >>> definition_list([('TR', '2 s')])
    '<dl><dt>TR</dt><dd>2 s</dd></dl>'
    """
    rows = ''.join(f'<dt>{_text(term)}</dt><dd>{_text(text)}</dd>' for term, text in items)
    return f'<dl>{rows}</dl>'


def figures(items: Sequence[Picture]) -> str:
    """Return figures side by side, wrapping to the next line on narrow screens.

    Parameters
    ----------
    items : sequence of Picture
        The figures.

    Returns
    -------
    str
        The HTML.

    Examples
    --------
    >>> figures([Picture('data:image/png;base64,', 'empty')])
    '<div class="figures"><figure><img src="data:image/png;base64," alt="empty"></figure></div>'
    """
    return '<div class="figures">' + ''.join(item.to_html() for item in items) + '</div>'


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool] = (),
    wrapped: Sequence[bool] = (),
) -> str:
    """Return a table that scrolls sideways when wider than the screen.

    Parameters
    ----------
    header : sequence of str
        The column titles.
    rows : sequence of sequence of str
        The cells, already formatted as text.
    numeric : sequence of bool, optional
        Which columns hold numbers (aligned right).
    wrapped : sequence of bool, optional
        Which columns hold long text, wrapped over lines (other cells stay on one line).

    Returns
    -------
    str
        The HTML.

    Examples
    --------
    >>> out = table(['a', 'b'], [['1', 'x < y']], [True, False])
    >>> out[out.index('<tbody>') :]
    '<tbody><tr><td class="num">1</td><td>x &lt; y</td></tr></tbody></table></div>'
    >>> out = table(['a', 'b'], [['1', 'long words']], [True], wrapped=[False, True])
    >>> out[out.index('<tbody>') :]
    '<tbody><tr><td class="num">1</td><td class="wrap">long words</td></tr></tbody></table></div>'
    """
    numbers = [*numeric, *[False] * (len(header) - len(numeric))]
    long_text = [*wrapped, *[False] * (len(header) - len(wrapped))]
    kinds = [
        ' class="num"' if number else ' class="wrap"' if wrap else ''
        for number, wrap in zip(numbers, long_text, strict=True)
    ]
    head = ''.join(f'<th{kind}>{_text(h)}</th>' for h, kind in zip(header, kinds, strict=True))
    body = ''.join(
        '<tr>'
        + ''.join(f'<td{kind}>{_text(c)}</td>' for c, kind in zip(row, kinds, strict=True))
        + '</tr>'
        for row in rows
    )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f'<tbody>{body}</tbody></table></div>'
    )


def page(
    title: str,
    sections: Sequence[Section],
    *,
    subtitle: str = '',
    description: str = '',
    footer: str = '',
) -> str:
    """Return a whole HTML document.

    Parameters
    ----------
    title : str
        The ``<title>`` and ``<h1>``.
    sections : sequence of Section
        The content, listed in the navigation.
    subtitle : str, optional
        A line under the title.
    description : str, optional
        A one-line summary, stored in ``<meta name="description">``.
    footer : str, optional
        Text at the bottom.

    Returns
    -------
    str
        The document.

    Examples
    --------
    >>> document = page('A report', [Section('model', 'Model', '<p>ok</p>')])
    >>> document.startswith('<!DOCTYPE html>'), '<h2>Model</h2>' in document
    (True, True)
    """
    nav = ''.join(f'<li><a href="#{_text(s.anchor)}">{_text(s.title)}</a></li>' for s in sections)
    head = (
        '<meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f'<meta name="description" content="{_text(description)}">'
        f'<title>{_text(title)}</title><style>{CSS}</style>'
    )
    subtitle_html = paragraph(subtitle, 'muted') if subtitle else ''
    nav_html = f'<nav aria-label="Contents"><ul>{nav}</ul></nav>' if len(sections) > 1 else ''
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head>{head}</head><body>'
        f'<header><h1>{_text(title)}</h1>{subtitle_html}{nav_html}</header>'
        f'<main>{"".join(section.to_html() for section in sections)}</main>'
        f'<footer>{paragraph(footer) if footer else ""}</footer></body></html>\n'
    )
