from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from bidsglm import __version__, cli


@pytest.mark.parametrize('code', [0, 2])
def test_console_main_exits_with_the_code_of_main_after_freezing(monkeypatch, code):
    calls = []
    monkeypatch.setattr(cli, 'main', lambda: calls.append('main') or code)
    monkeypatch.setattr(gc, 'freeze', lambda: calls.append('freeze'))
    with pytest.raises(SystemExit) as exited:
        cli.console_main()
    assert exited.value.code == code
    assert calls == ['main', 'freeze']


def test_python_m_bidsglm_runs_the_command_line():
    done = subprocess.run(
        [sys.executable, '-m', 'bidsglm', '--version'], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f'bidsglm {__version__}'
