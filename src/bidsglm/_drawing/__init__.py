"""Pictures without a plotting library: PNG bytes, SVG text and colour ramps.

bidsglm's figures are simple (a matrix as an image, a row of weights, slices of a
volume with a colour bar), so they are written directly: pixels are coloured with
numpy through a lookup table (:mod:`.colours`), packed into one PNG
(:mod:`.png`), and placed in an SVG document with text labels (:mod:`.svg`);
:mod:`.parts` assembles the pieces that several figures share (colour bars, rows
of rotated names, round ticks). Nothing here imports more than numpy, the
standard library and :mod:`bidsglm.errors`, so drawing a figure costs milliseconds,
not the import of a plotting library.
"""
