from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd

from bidsglm.bids.figures import contrast_svg, design_svg


def test_design_svg_is_deterministic_svg_naming_every_column():
    design = pd.DataFrame({'audio': [0.0, 1.0, 0.5], 'drift_1': [0.1, 0.0, -0.1], 'constant': 1.0})
    svg = design_svg(design, 'run 1')
    assert ET.fromstring(svg).tag == '{http://www.w3.org/2000/svg}svg'
    assert all(name.encode() in svg for name in ['audio', 'drift_1', 'constant', 'run 1'])
    assert design_svg(design, 'run 1') == svg


def test_figures_print_names_as_they_are_never_as_math():
    svg = contrast_svg([[1.0, -1.0]], ['price$', 'cost_$x$'], 'a $b$')
    assert b'cost_$x$' in svg
    assert b'a $b$' in svg


def test_design_svg_copes_with_an_all_zero_column():
    design = pd.DataFrame({'a': [0.0, 0.0], 'constant': [1.0, 1.0]})
    assert b'<svg' in design_svg(design)


def test_contrast_svg_draws_every_row():
    svg = contrast_svg(np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]), ['a', 'b', 'c'], 'F test')
    assert ET.fromstring(svg).tag.endswith('svg')
    assert b'F test' in svg
    assert contrast_svg([[0.0, 0.0, 0.0]], ['a', 'b', 'c']) != svg


def test_figures_never_load_pyplot():
    code = (
        'import sys, pandas as pd\n'
        'from bidsglm.bids.figures import design_svg\n'
        "design_svg(pd.DataFrame({'a': [1.0, 2.0]}))\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == 'False'
