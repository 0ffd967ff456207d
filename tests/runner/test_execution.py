from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import threadpoolctl

from bidsglm.runner.execution import blas_threads_per_worker, limit_blas_threads, usable_cores

SOURCE = Path(__file__).resolve().parents[2] / 'src'


def _blas_threads() -> int:
    return max(info['num_threads'] for info in threadpoolctl.threadpool_info()
               if info['user_api'] == 'blas')  # fmt: skip


@pytest.mark.parametrize(
    ('workers', 'cores', 'expected'), [(2, 2, 1), (1, 2, 2), (2, 8, 4), (3, 8, 2), (4, 2, 1)]
)
def test_the_cores_are_shared_out_between_the_workers(workers, cores, expected):
    assert blas_threads_per_worker(workers, cores) == expected


def test_usable_cores_counts_the_cores_this_process_may_use():
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)


def test_limit_blas_threads_sets_this_process_blas_threads():
    before = _blas_threads()
    try:
        limit_blas_threads(1)
        assert _blas_threads() == 1
    finally:  # restored by hand: threadpool_limits(limits=None) records nothing to restore
        limit_blas_threads(before)


def test_each_pool_worker_uses_its_share_of_the_cores(tmp_path):
    script = tmp_path / 'pool.py'
    script.write_text(
        textwrap.dedent("""
        import types
        import numpy  # its BLAS
        import threadpoolctl
        from bidsglm.runner.execution import execute

        def blas_threads(job):
            infos = threadpoolctl.threadpool_info()
            return max(info['num_threads'] for info in infos if info['user_api'] == 'blas')

        if __name__ == '__main__':
            jobs = [types.SimpleNamespace(name=f'sub-{i}') for i in range(4)]
            before = blas_threads(None)
            done = execute(jobs, blas_threads, n_jobs=2, show_progress=False)
            print(done, blas_threads(None) == before)
        """)
    )
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(SOURCE), *sys.path])}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, check=True
    )
    share = blas_threads_per_worker(2, usable_cores())
    assert done.stdout.split() == [f'[{share},', f'{share},', f'{share},', f'{share}]',
                                   'True']  # the main process keeps its own  # fmt: skip
