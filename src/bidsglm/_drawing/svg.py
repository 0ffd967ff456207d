"""SVG elements as strings, and the document that holds them.

Every function returns the text of one element; :func:`document` wraps a list of
them in an ``<svg>`` root with its size and font. Every text written goes through
:func:`escape`, so names holding ``<``, ``&``, ``"``, ``$`` or non-ASCII letters
print as they are. Coordinates are written with at most two decimals, so the
output is the same bytes on every run. Pictures are PNG files embedded as
``data:`` URIs and drawn with sharp pixels when scaled up.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING
from xml.etree import ElementTree

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    'FONT_FAMILY',
    'document',
    'embedded_pngs',
    'escape',
    'image',
    'line',
    'number',
    'rect',
    'text',
    'text_width',
]

FONT_FAMILY = 'DejaVu Sans, Arial, Helvetica, sans-serif'
#: The width of a character, as a fraction of the font size, for layout.
CHARACTER_WIDTH = 0.6
#: Characters that XML 1.0 forbids, even escaped: they are dropped.
_FORBIDDEN = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')
_ENTITIES = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}
_SVG = 'http://www.w3.org/2000/svg'
_XLINK = 'http://www.w3.org/1999/xlink'
_PNG_URI = 'data:image/png;base64,'
_PIXELATED = 'image-rendering:crisp-edges;image-rendering:pixelated'


def escape(content: str) -> str:
    """Make text safe inside an XML element or a double-quoted attribute.

    Parameters
    ----------
    content : str
        The text.

    Returns
    -------
    str
        The text with ``& < > "`` written as entities and forbidden characters dropped.

    Examples
    --------
    >>> escape('a<b & "c" r²')
    'a&lt;b &amp; &quot;c&quot; r²'
    """
    cleaned = _FORBIDDEN.sub('', content)
    return re.sub('[&<>"]', lambda found: _ENTITIES[found.group()], cleaned)


def number(value: float) -> str:
    """Write a coordinate or a length: at most two decimals, no trailing zeros.

    Parameters
    ----------
    value : float
        The number.

    Returns
    -------
    str
        The number as SVG text.

    Examples
    --------
    >>> number(12.0), number(3.14159), number(-0.001)
    ('12', '3.14', '0')
    """
    written = f'{round(float(value), 2):.2f}'.rstrip('0').rstrip('.')
    return '0' if written in {'-0', ''} else written


def text_width(content: str, size: float) -> float:
    """Estimate the width of a text, for layout (no font is measured).

    Parameters
    ----------
    content : str
        The text.
    size : float
        The font size in pixels.

    Returns
    -------
    float
        The width in pixels.

    Examples
    --------
    >>> text_width('constant', 10.0)
    48.0
    """
    return CHARACTER_WIDTH * size * len(content)


def text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = 11.0,
    anchor: str = 'start',
    rotate: float = 0.0,
    fill: str = '#222',
    bold: bool = False,
) -> str:
    """Write a ``<text>`` element whose baseline starts, ends or centres at (x, y).

    Parameters
    ----------
    x, y : float
        The anchor point: on the baseline, at the start, middle or end of the text.
    content : str
        The text, written as it is.
    size : float, default=11
        The font size in pixels.
    anchor : {'start', 'middle', 'end'}, default='start'
        Which point of the text is at (x, y).
    rotate : float, default=0
        Degrees around (x, y), clockwise; -90 reads upwards.
    fill : str, default='#222'
        The colour.
    bold : bool, default=False
        Use a bold font.

    Returns
    -------
    str
        The element.

    Examples
    --------
    >>> text(10, 20, 'a & b', anchor='end', rotate=-60)
    '<text x="10" y="20" font-size="11" text-anchor="end" fill="#222" transform="rotate(-60 10 20)">a &amp; b</text>'
    """  # noqa: E501
    attributes = f'x="{number(x)}" y="{number(y)}" font-size="{number(size)}"'
    if anchor != 'start':
        attributes += f' text-anchor="{anchor}"'
    attributes += f' fill="{fill}"'
    if bold:
        attributes += ' font-weight="bold"'
    if rotate:
        attributes += f' transform="rotate({number(rotate)} {number(x)} {number(y)})"'
    return f'<text {attributes}>{escape(content)}</text>'


def rect(
    x: float, y: float, width: float, height: float, *, fill: str = 'none', stroke: str = ''
) -> str:
    """Write a ``<rect>`` element.

    Parameters
    ----------
    x, y : float
        The top left corner.
    width, height : float
        The size.
    fill : str, default='none'
        The colour inside.
    stroke : str, optional
        The colour of a 1-pixel outline; none by default.

    Returns
    -------
    str
        The element.

    Examples
    --------
    >>> rect(0, 0, 10, 5, fill='#fff', stroke='#000')
    '<rect x="0" y="0" width="10" height="5" fill="#fff" stroke="#000"/>'
    """
    outline = f' stroke="{stroke}"' if stroke else ''
    return (
        f'<rect x="{number(x)}" y="{number(y)}" width="{number(width)}" '
        f'height="{number(height)}" fill="{fill}"{outline}/>'
    )


def line(x1: float, y1: float, x2: float, y2: float, *, stroke: str = '#222') -> str:
    """Write a 1-pixel ``<line>`` element.

    Parameters
    ----------
    x1, y1, x2, y2 : float
        The two ends.
    stroke : str, default='#222'
        The colour.

    Returns
    -------
    str
        The element.

    Examples
    --------
    >>> line(0, 0.5, 4, 0.5)
    '<line x1="0" y1="0.5" x2="4" y2="0.5" stroke="#222"/>'
    """
    return (
        f'<line x1="{number(x1)}" y1="{number(y1)}" x2="{number(x2)}" y2="{number(y2)}" '
        f'stroke="{stroke}"/>'
    )


def image(x: float, y: float, width: float, height: float, png: bytes) -> str:
    """Write an ``<image>`` element showing a PNG stretched to a box, with sharp pixels.

    Parameters
    ----------
    x, y : float
        The top left corner.
    width, height : float
        The box; the picture fills it, whatever its own aspect.
    png : bytes
        The PNG file, embedded as a ``data:`` URI.

    Returns
    -------
    str
        The element.

    Examples
    --------
    >>> image(0, 0, 20, 10, b'PNG')[:80]
    '<image x="0" y="0" width="20" height="10" preserveAspectRatio="none" style="imag'
    """
    uri = _PNG_URI + base64.b64encode(png).decode('ascii')
    return (
        f'<image x="{number(x)}" y="{number(y)}" width="{number(width)}" '
        f'height="{number(height)}" preserveAspectRatio="none" style="{_PIXELATED}" '
        f'xlink:href="{uri}"/>'
    )


def document(width: float, height: float, elements: Iterable[str], background: str = '') -> bytes:
    """Write an SVG document of a given size in pixels.

    Parameters
    ----------
    width, height : float
        The size, also the view box (one unit per pixel).
    elements : iterable of str
        The elements, drawn in order (later ones on top).
    background : str, optional
        A colour filling the whole document first; transparent by default.

    Returns
    -------
    bytes
        The document, UTF-8.

    Examples
    --------
    >>> print(document(20, 10, [rect(0, 0, 5, 5, fill='red')]).decode())
    <?xml version="1.0" encoding="utf-8"?>
    <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="20" height="10" viewBox="0 0 20 10" font-family="DejaVu Sans, Arial, Helvetica, sans-serif">
    <rect x="0" y="0" width="5" height="5" fill="red"/>
    </svg>
    """  # noqa: E501
    size = f'width="{number(width)}" height="{number(height)}"'
    head = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="{_SVG}" xmlns:xlink="{_XLINK}" {size} '
        f'viewBox="0 0 {number(width)} {number(height)}" font-family="{FONT_FAMILY}">'
    )
    body = [rect(0, 0, width, height, fill=background)] if background else []
    return '\n'.join([head, *body, *elements, '</svg>\n']).encode('utf-8')


def embedded_pngs(svg: bytes) -> list[bytes]:
    """Return the PNG files embedded in a document's ``<image>`` elements, in order.

    Parameters
    ----------
    svg : bytes
        An SVG document.

    Returns
    -------
    list of bytes
        The PNG files; images linking anything but an embedded PNG are skipped.

    Examples
    --------
    >>> embedded_pngs(document(2, 2, [image(0, 0, 2, 2, b'PNG')]))
    [b'PNG']
    """
    found = []
    for element in ElementTree.fromstring(svg).iter(f'{{{_SVG}}}image'):
        uri = element.get(f'{{{_XLINK}}}href') or element.get('href') or ''
        if uri.startswith(_PNG_URI):
            found.append(base64.b64decode(uri.removeprefix(_PNG_URI)))
    return found
