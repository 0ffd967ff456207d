"""``bidsglm demo``: both levels on the real data shipped in the package."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from bidsglm.cli import main
from bidsglm.cli.demo import CONTRASTS, PAIN_PREFIX, data_folder, haxby_files

pytestmark = pytest.mark.slow

HAXBY = 'haxby2001/sub-1/func/sub-1_task-objectviewing_acq-25mm'


@pytest.fixture(scope='module')
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp('demo') / 'bidsglm-demo'  # the README's folder
    done = run_bidsglm(['demo', out.name], cwd=out.parent)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def run_bidsglm(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bidsglm`` in ``cwd``, with this test run's import path made absolute."""
    paths = [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join(str(Path(p).resolve()) for p in paths)}
    return subprocess.run(
        [sys.executable, '-m', 'bidsglm', *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_demo_prints_where_results_and_report_are(demo):
    out, stdout = demo
    lines = stdout.splitlines()
    assert lines[0] == f'Results: {out.resolve()}'
    assert lines[1] == f'Report:  {out.resolve() / "index.html"}'
    assert (out / 'index.html').is_file()
    for name in (*CONTRASTS, 'pain'):
        assert f'{name} ' in stdout
    # the strongest z, by magnitude, with its sign: houses beat faces in this subject
    assert re.search(r'faceMinusHouse +peak z = +-6\.19', stdout)


def test_demo_first_level_is_saved_with_its_contrasts(demo):
    out, _ = demo
    statmap = json.loads(
        (out / 'haxby2001/sub-1/sub-1_task-objectviewing_acq-25mm_statmap.json').read_text()
    )
    assert (statmap['NumberOfRuns'], statmap['RepetitionTime'], statmap['NoiseModel']) == (
        12,
        2.5,
        'ar1',
    )
    for name in CONTRASTS:
        z_map = nib.load(out / f'{HAXBY}_contrast-{name}_stat-z_statmap.nii.gz')
        assert z_map.shape == (6, 10, 10)
    z_all = nib.load(out / f'{HAXBY}_contrast-allStimuli_stat-z_statmap.nii.gz').get_fdata()
    z_faces = nib.load(out / f'{HAXBY}_contrast-faceMinusHouse_stat-z_statmap.nii.gz').get_fdata()
    assert z_all.max() > 10  # all stimuli against rest, 12 runs of fixed effects
    assert z_faces.min() < -4  # houses drive the parahippocampal place area more
    mask = nib.load(haxby_files()['mask'][0]).get_fdata() != 0
    assert np.all(z_all[~mask] == 0)


def test_demo_second_level_finds_the_pain_network(demo):
    out, _ = demo
    t_map = nib.load(out / f'pain21/{PAIN_PREFIX}_contrast-pain_stat-t_statmap.nii.gz')
    values = t_map.get_fdata()
    peak = np.unravel_index(np.argmax(values), values.shape)
    assert values[peak] == pytest.approx(7.4744, abs=1e-3)
    assert (t_map.affine @ [*peak, 1])[:3].tolist() == [34.0, -16.0, 14.0]  # right insula
    design = (out / f'pain21/{PAIN_PREFIX}_design.tsv').read_text().split()
    assert design == ['intercept', *['1.0'] * 21]


def test_shipped_pain_maps_have_their_licence():
    folder = data_folder() / 'pain21'
    assert len(list(folder.glob('contrast_pain_*.nii.gz'))) == 21
    readme = (folder / 'README.md').read_text()
    assert 'CC0' in readme
    assert 'Gorgolewski' in readme
    assert 'Maumet' in readme
    assert 'tools/resample_pain21.py' in readme


def test_python_m_bidsglm_demo_delegates_to_the_command(capsys):
    from bidsglm.demo import main as demo_main

    assert demo_main(['--help']) == 0
    assert 'usage: bidsglm demo' in capsys.readouterr().out
    assert main(['demo', '--help']) == 0


README = Path(__file__).parents[2] / 'README.md'


def readme_first_run() -> list[str]:
    """The command after the README's ``first-run`` marker, as its words."""
    text = README.read_text(encoding='utf-8')
    block = text.split('<!-- first-run:', 1)[1].split('```bash\n', 1)[1].split('```', 1)[0]
    return shlex.split(block.replace('\\\n', ' '))


def test_readme_first_run_command_runs_on_the_shipped_data(demo):
    out, stdout = demo
    words = readme_first_run()
    assert words[:4] == [
        'bidsglm',
        'bidsglm-demo/data/haxby2001',
        'bidsglm-demo/my-first-level',
        'participant',
    ]
    assert (out / 'data' / 'haxby2001' / 'README.md').is_file()  # the data's licence
    done = run_bidsglm(words[1:], cwd=out.parent)
    assert done.returncode == 0, done.stderr
    name = 'sub-1_task-objectviewing_acq-25mm_contrast-faceMinusHouse_stat-z_statmap.nii.gz'
    mine = nib.load(out / 'my-first-level' / 'sub-1' / 'func' / name).get_fdata()
    demo_map = nib.load(out / 'haxby2001' / 'sub-1' / 'func' / name).get_fdata()
    np.testing.assert_allclose(mine, demo_map, atol=1e-10)  # the demo ran the same command
    assert mine.min() == pytest.approx(-6.19, abs=0.005)
    assert 'bidsglm-demo/data/haxby2001 bidsglm-demo/haxby2001 participant' in stdout


def test_a_second_demo_into_the_same_folder_says_what_it_did(demo):
    out, _ = demo
    again = run_bidsglm(['demo', out.name], cwd=out.parent)
    assert again.returncode == 0, again.stderr
    assert 'reused: already saved in this folder' in again.stdout
    assert 'fitted again, replacing the one saved in this folder' in again.stdout
