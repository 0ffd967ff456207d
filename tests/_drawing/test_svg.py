import base64
from xml.etree import ElementTree

import numpy as np
import pytest

from bidsglm._drawing import svg
from bidsglm._drawing.png import encode_png, read_png

SVG = '{http://www.w3.org/2000/svg}'
XLINK = '{http://www.w3.org/1999/xlink}'
AWKWARD = ['a<b', 'x & y', 'say "hi"', "it's", 'cost_$x$', 'r² µ', '<![CDATA[', ']]>', 'Ω/π']


def test_document_is_well_formed_svg_of_the_given_size():
    document = svg.document(120.5, 80, [svg.rect(1, 2, 3, 4, fill='#abc')], background='#000')
    root = ElementTree.fromstring(document)
    assert root.tag == f'{SVG}svg'
    assert (root.get('width'), root.get('height'), root.get('viewBox')) == (
        '120.5',
        '80',
        '0 0 120.5 80',
    )
    assert root.get('font-family') == 'DejaVu Sans, Arial, Helvetica, sans-serif'
    fills = [element.get('fill') for element in root.iter(f'{SVG}rect')]
    assert fills == ['#000', '#abc']  # the background first, below everything
    assert document.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')


@pytest.mark.parametrize('name', AWKWARD)
def test_text_round_trips_any_name_as_text(name):
    element = svg.text(5, 6, name, anchor='middle', rotate=-90, size=9, bold=True)
    root = ElementTree.fromstring(svg.document(10, 10, [element]))
    (found,) = root.iter(f'{SVG}text')
    assert found.text == name
    assert found.get('text-anchor') == 'middle'
    assert found.get('transform') == 'rotate(-90 5 6)'
    assert (found.get('font-size'), found.get('font-weight')) == ('9', 'bold')


def test_escape_drops_characters_xml_forbids():
    root = ElementTree.fromstring(svg.document(1, 1, [svg.text(0, 0, 'a\x00b\x1bc\td')]))
    assert next(root.iter(f'{SVG}text')).text == 'abc\td'


def test_number_writes_two_decimals_at_most():
    assert [svg.number(v) for v in (0, 1.0, 2.5, 1 / 3, -0.004, 1e6, np.float32(0.1))] == [
        '0',
        '1',
        '2.5',
        '0.33',
        '0',
        '1000000',
        '0.1',
    ]


def test_text_width_grows_with_length_and_size():
    assert svg.text_width('abcd', 10) == 24.0
    assert svg.text_width('abcd', 20) == 2 * svg.text_width('abcd', 10)


def test_image_embeds_the_png_with_sharp_pixels(rng):
    picture = rng.integers(0, 256, size=(3, 4, 3), dtype=np.uint8)
    element = svg.image(1, 2, 40, 30, encode_png(picture))
    root = ElementTree.fromstring(svg.document(50, 50, [element]))
    (found,) = root.iter(f'{SVG}image')
    assert found.get('preserveAspectRatio') == 'none'
    assert 'image-rendering:pixelated' in found.get('style')
    assert 'image-rendering:crisp-edges' in found.get('style')
    uri = found.get(f'{XLINK}href')
    payload = base64.b64decode(uri.removeprefix('data:image/png;base64,'))
    np.testing.assert_array_equal(read_png(payload), picture)
    assert svg.embedded_pngs(svg.document(50, 50, [element])) == [payload]


def test_line_and_rect_write_their_geometry():
    root = ElementTree.fromstring(
        svg.document(9, 9, [svg.line(0, 1.5, 8, 1.5, stroke='#123'), svg.rect(1, 1, 2, 2)])
    )
    line = next(root.iter(f'{SVG}line'))
    geometry = [line.get(k) for k in ('x1', 'y1', 'x2', 'y2', 'stroke')]
    assert geometry == ['0', '1.5', '8', '1.5', '#123']
    rect = next(root.iter(f'{SVG}rect'))
    assert (rect.get('fill'), rect.get('stroke')) == ('none', None)
