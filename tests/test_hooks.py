"""The late-bound calls a lower layer declares and the package's entry point supplies."""

import subprocess
import sys

import pytest

from bidsglm import _hooks


def test_hook_without_a_function_says_who_supplies_it():
    hook = _hooks.Hook('draw something')
    with pytest.raises(RuntimeError, match="Nothing supplies 'draw something'"):
        _ = hook.function
    hook.supply(len)
    assert hook.function('abc') == 3


def test_importing_a_model_module_alone_supplies_generate_report():
    """The package's __init__ runs first, whichever module is imported."""
    code = (
        'import sys\n'
        'from bidsglm.models.second_level import SecondLevelModel\n'
        'from bidsglm import _hooks\n'
        'assert _hooks.GENERATE_REPORT.function is not None\n'
        "assert 'bidsglm.report' not in sys.modules  # drawn on first call only\n"
    )
    subprocess.run([sys.executable, '-c', code], check=True)


def test_generate_report_returns_what_the_hook_promises():
    from bidsglm.report.document import HTMLReport

    document: _hooks.HtmlDocument = HTMLReport('<!DOCTYPE html>')
    for method in ('save_as_html', 'open_in_browser', '_repr_html_'):
        assert callable(getattr(document, method))
