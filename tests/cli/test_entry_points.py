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


@pytest.mark.parametrize(
    ('options', 'starts'),
    [
        (['participant', '--n-jobs', '2'], True),
        (['participant', '--n-jobs', '-1'], True),
        (['participant'], False),
        (['group', '--n-jobs', '2'], False),
        (['participant', '--dask-scheduler', 'tcp://127.0.0.1:8786'], False),
    ],
)
def test_main_starts_the_fork_server_before_importing_the_run_only_for_a_local_pool(
    monkeypatch, tmp_path, options, starts
):
    from bidsglm.cli import run as run_module
    from bidsglm.runner import execution

    calls = []
    monkeypatch.setattr(execution, 'start_fork_server', lambda: calls.append('fork server'))
    monkeypatch.setattr(run_module, 'run', lambda *_args, **_kwargs: calls.append('run') or 0)
    bids, out = tmp_path / 'bids', tmp_path / 'out'
    bids.mkdir()
    assert cli.main([str(bids), str(out), *options]) == 0
    assert calls == (['fork server', 'run'] if starts else ['run'])
