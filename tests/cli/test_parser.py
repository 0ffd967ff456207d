"""The command line's arguments: (argv, exit code) pairs, messages, and a light --help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bidsglm import __version__
from bidsglm.cli import main
from bidsglm.cli.parser import HRF_NAMES, parse_args
from bidsglm.design import HRF_MODELS


@pytest.fixture
def bids(tmp_path: Path) -> Path:
    folder = tmp_path / 'ds'
    (folder / 'derivatives' / 'fmriprep').mkdir(parents=True)
    return folder


def _argv(bids: Path, *extra: str, level: str = 'participant') -> list[str]:
    return [str(bids), str(bids / 'derivatives' / 'bidsglm'), level, *extra]


@pytest.mark.parametrize(
    ('extra', 'code'),
    [
        (['--n-jobs', '0'], 2),
        (['--n-jobs', 'two'], 2),
        (['--high-pass', '-1'], 2),
        (['--high-pass', 'inf'], 2),
        (['--smoothing-fwhm', '-2'], 2),
        (['--hrf-model', 'canonical'], 2),
        (['--noise-model', 'ar2'], 2),
        (['--contrast', 'faceMinusHouse'], 2),
        (['--contrast', '=face - house'], 2),
        (['--dask-scheduler', 'tcp://127.0.0.1:1', '--n-jobs', '2'], 2),
        (['-v', '-q'], 2),
        (['--model', 'missing.json'], 2),
        (['--derivatives', 'missing'], 2),
        (['--unknown'], 2),
    ],
)
def test_main_refuses_bad_options(bids, extra, code, capsys):
    assert main(_argv(bids, *extra)) == code
    assert 'error:' in capsys.readouterr().err


@pytest.mark.parametrize(
    'argv',
    [[], ['only-one'], ['a', 'b', 'participant'], ['.', 'out', 'subject']],
)
def test_main_refuses_bad_positionals(argv, capsys):
    assert main(argv) == 2
    assert 'usage: bidsglm' in capsys.readouterr().err


@pytest.mark.parametrize(
    ('argv', 'code'),
    [
        (['--help'], 0),
        (['--version'], 0),
        (['demo', '--help'], 0),
        (['report', '--help'], 0),
        (['report'], 2),
        (['report', 'missing-folder'], 2),
        (['demo', 'a', 'b'], 2),
    ],
)
def test_main_help_version_and_commands(argv, code):
    assert main(argv) == code


def test_main_version_prints_the_version(capsys):
    assert main(['--version']) == 0
    assert capsys.readouterr().out.strip() == f'bidsglm {__version__}'


def test_help_shows_the_option_groups(capsys):
    main(['--help'])
    out = capsys.readouterr().out
    for group in ('selecting the inputs', 'the model', 'performance', 'other'):
        assert f'{group}:' in out
    assert 'bidsglm demo [OUTPUT_DIR]' in out


@pytest.mark.parametrize('output', ['.', 'sub-01', 'derivatives'])
def test_output_inside_bids_dir_is_refused_with_a_suggestion(bids, output, capsys):
    assert main([str(bids), str(bids / output), 'participant']) == 2
    err = capsys.readouterr().err
    assert str(bids / 'derivatives' / 'bidsglm') in err


def test_model_file_excludes_the_options_it_sets(bids, tmp_path, capsys):
    model = tmp_path / 'model.json'
    model.write_text(json.dumps({'Name': 'x'}))
    argv = _argv(bids, '--model', str(model), '--contrast', 'a=a', '--high-pass', '0.1')
    assert main(argv) == 2
    assert 'remove --contrast, --high-pass' in capsys.readouterr().err


def test_parse_args_normalises_and_keeps_values(bids, tmp_path):
    args = parse_args(
        _argv(
            bids,
            '--participant_label',
            'sub-02',
            '01',
            'sub-01',
            '--contrast',
            'aMinusB = a - b',
            '--contrast',
            'c=c',
            '--confounds',
            'trans_*',
            'csf',
            '--hrf-model',
            'spm + derivative',
            '--smoothing-fwhm',
            '0',
            '--n-jobs',
            '-1',
            '--overwrite',
            '-vv',
        )
    )
    assert args.participant_label == ('01', '02')
    assert args.contrast == [('aMinusB', 'a - b'), ('c', 'c')]
    assert args.confounds == ['trans_*', 'csf']
    assert (args.hrf_model, args.noise_model, args.smoothing_fwhm) == (
        'spm + derivative',
        None,  # the model's Software options, else ar1
        0.0,
    )
    assert args.n_jobs == (os.cpu_count() or 1)
    assert (args.overwrite, args.verbose, args.quiet) == (True, 2, 0)
    assert args.output_dir == bids / 'derivatives' / 'bidsglm'


def test_output_outside_the_dataset_is_accepted(bids, tmp_path):
    args = parse_args([str(bids), str(tmp_path / 'results'), 'group'])
    assert args.analysis_level == 'group'
    assert args.participant_label is None


def test_hrf_names_are_the_design_registry():
    assert set(HRF_NAMES) == {name for name in HRF_MODELS if name is not None}


def test_parsing_imports_no_heavy_module():
    """--help must answer at once: the parser adds no numerical import to the package's."""
    code = (
        'import json, sys, bidsglm; before = set(sys.modules); '
        'import bidsglm.cli, bidsglm.cli.parser as p; p.build_parser(); '
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    env = {**os.environ, 'PYTHONPATH': str(Path(__file__).parents[2] / 'src')}
    done = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, check=True, env=env
    )
    added = set(json.loads(done.stdout))
    assert not added & {'numpy', 'scipy', 'pandas', 'nibabel', 'matplotlib', 'distributed'}
