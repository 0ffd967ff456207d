"""Surface runs through main([...]): GIFTI pairs (fsaverage) and CIFTI-2 series (fsLR).

A small fMRIPrep-style dataset holds, for each of 3 subjects' 2 runs, the volume run,
a ``hemi-L``/``hemi-R`` pair of ``space-fsaverage_den-10k`` GIFTI files (10 vertices
each; ``space-fsaverage5``, the name older fMRIPrep versions wrote, in one test) and
a ``space-fsLR_den-91k`` CIFTI-2 series (20 grayordinates), 30 volumes.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm.cli import main
from bidsglm.models import FirstLevelModel, SecondLevelModel
from bidsglm.models.surface import read_surface

from ._fake_bids import (
    CIFTI_SPACE,
    GIFTI_SPACE,
    SPACE,
    FakeDataset,
    add_surface_runs,
    make_fake_dataset,
)

if TYPE_CHECKING:
    from types import ModuleType

CONTRAST = 'incMinusCon=incongruent - congruent'
MOTION = ['trans_x', 'trans_y', 'trans_z']
N_VERTICES = 10
LEGACY_GIFTI_SPACE = 'fsaverage5'
#: Per space given to --space: the entities of the outputs and the kind of its maps.
SPACES = {
    'fsaverage': (f'space-{GIFTI_SPACE}', 'GIFTI'),
    'fsaverage5': (f'space-{LEGACY_GIFTI_SPACE}', 'GIFTI'),
    'fsLR': (f'space-{CIFTI_SPACE}', 'CIFTI-2'),
}


@pytest.fixture
def surface_dataset(tmp_path: Path, rng: np.random.Generator) -> FakeDataset:
    """3 subjects, 2 runs each, as volumes, GIFTI pairs and CIFTI-2 series."""
    ds = make_fake_dataset(tmp_path, rng)
    add_surface_runs(ds, rng, N_VERTICES)
    return ds


@pytest.fixture
def legacy_dataset(tmp_path: Path, rng: np.random.Generator) -> FakeDataset:
    """As ``surface_dataset``, the GIFTI runs named ``space-fsaverage5`` (fMRIPrep < 21)."""
    ds = make_fake_dataset(tmp_path, rng)
    add_surface_runs(ds, rng, N_VERTICES, gifti_space=LEGACY_GIFTI_SPACE)
    return ds


def _main(ds: FakeDataset, out: Path, level: str, *extra: str) -> int:
    return main([str(ds.bids_dir), str(out), level, *extra])


def _participant(ds: FakeDataset, out: Path, space: str, *extra: str) -> int:
    options = ('--space', space, '--confounds', 'trans_*', '--contrast', CONTRAST)
    return _main(ds, out, 'participant', *options, *extra)


def _tree(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob('*') if p.is_file()}


def _saved(path_stem: Path, kind: str) -> np.ndarray:
    """The values of a saved surface map: its two hemispheres, or its CIFTI-2 file."""
    if kind == 'GIFTI':
        parts = {
            part: str(path_stem.with_name(path_stem.name.format(hemi=f'hemi-{h}_')))
            for part, h in (('left', 'L'), ('right', 'R'))
        }
        return read_surface(parts).data[0]
    return read_surface(str(path_stem.with_name(path_stem.name.format(hemi='')))).data[0]


def _run_image(ds: FakeDataset, subject: str, run: int, entities: str, kind: str) -> object:
    func = ds.func(subject)
    stem = f'sub-{subject}_task-stroop_run-{run}'
    if kind == 'GIFTI':
        return {
            part: str(func / f'{stem}_hemi-{h}_{entities}_bold.func.gii')
            for part, h in (('left', 'L'), ('right', 'R'))
        }
    return str(func / f'{stem}_space-{CIFTI_SPACE}_bold.dtseries.nii')


def _by_hand(ds: FakeDataset, subject: str, entities: str, kind: str) -> FirstLevelModel:
    """bidsglm's FirstLevelModel on the same files, events and confounds."""
    func, raw = ds.func(subject), ds.func(subject, raw=True)
    stems = [f'sub-{subject}_task-stroop_run-{run}' for run in (1, 2)]
    tables = [
        pd.read_csv(func / f'{s}_desc-confounds_timeseries.tsv', sep='\t')[MOTION] for s in stems
    ]
    model = FirstLevelModel(t_r=2.0, slice_time_ref=0.25)
    return model.fit(
        [_run_image(ds, subject, run, entities, kind) for run in (1, 2)],
        events=[str(raw / f'{s}_events.tsv') for s in stems],
        confounds=tables,
    )


@pytest.mark.parametrize('space', list(SPACES))
def test_surface_runs_go_through_participant_and_group(request, tmp_path, caplog, space):
    entities, kind = SPACES[space]
    legacy = space == LEGACY_GIFTI_SPACE
    ds = request.getfixturevalue('legacy_dataset' if legacy else 'surface_dataset')
    out = tmp_path / 'out'
    caplog.set_level(logging.INFO, logger='bidsglm')
    assert _participant(ds, out, space) == 0
    found = entities.removeprefix('space-').replace('_den-', ':den-')
    assert f'Found 6 runs of 3 subjects (task stroop, space {found}).' in caplog.text
    statmaps = sorted(p for p in _tree(out) if p.endswith('_statmap.json') and p.count('/') == 1)
    assert statmaps == [
        f'sub-{s}/sub-{s}_task-stroop_{entities}_statmap.json' for s in ds.subjects
    ]
    extension = 'func.gii' if kind == 'GIFTI' else 'dscalar.nii'
    stem = (
        out
        / 'sub-02'
        / 'func'
        / (f'sub-02_task-stroop_{{hemi}}{entities}_contrast-incMinusCon_stat-')
    )
    by_hand = _by_hand(ds, '02', entities, kind)
    for stat, output in (
        ('effect', 'effect_size'),
        ('variance', 'effect_variance'),
        ('z', 'z_score'),
    ):
        expected = by_hand.compute_contrast('incongruent - congruent', output_type=output)
        saved = _saved(Path(f'{stem}{stat}_statmap.{extension}'), kind)
        np.testing.assert_allclose(saved, read_surface(expected).data[0], rtol=1e-6)

    assert _main(ds, out, 'group', '--space', space) == 0
    effects = [
        _saved(
            out
            / f'sub-{s}'
            / 'func'
            / (
                f'sub-{s}_task-stroop_{{hemi}}{entities}_contrast-incMinusCon_stat-effect_'
                f'statmap.{extension}'
            ),
            kind,
        )
        for s in ds.subjects
    ]
    group = out / (
        f'task-stroop_{{hemi}}{entities}_contrast-incMinusCon_stat-t_desc-incMinusCon_'
        f'statmap.{extension}'
    )
    t_map = _saved(group, kind)
    expected_t = SecondLevelModel().fit([_as_map(e, kind) for e in effects])
    np.testing.assert_allclose(
        t_map, read_surface(expected_t.compute_contrast(output_type='stat')).data[0], rtol=1e-6
    )
    # planted: 'congruent' on the first third of the vertices, 'incongruent' on the next
    third = 2 * N_VERTICES // 3
    assert t_map[:third].max() < -3
    assert t_map[third : 2 * third].min() > 3


def _as_map(values: np.ndarray, kind: str) -> object:
    """One surface map as an in-memory image of the runs' kind."""
    if kind == 'GIFTI':
        return {
            part: nib.gifti.GiftiImage(darrays=[nib.gifti.GiftiDataArray(piece)])
            for part, piece in zip(
                ('left', 'right'), np.split(values.astype(np.float32), 2), strict=True
            )
        }
    half = values.size // 2
    models = nib.cifti2.BrainModelAxis.from_mask(
        np.ones(half, bool), 'CortexLeft'
    ) + nib.cifti2.BrainModelAxis.from_mask(np.ones(values.size - half, bool), 'CortexRight')
    scalars = nib.cifti2.ScalarAxis(['effect'])
    return nib.Cifti2Image(values[None].astype(np.float32), header=(scalars, models))


def _validator() -> ModuleType:
    """tests/bids/_validator.py, loaded by path (tests/ is not a package)."""
    path = Path(__file__).parents[1] / 'bids' / '_validator.py'
    spec = importlib.util.spec_from_file_location('_bidsglm_test_validator', path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_volume_and_surface_outputs_share_one_folder_and_pass_the_validator(
    surface_dataset, tmp_path, tmp_path_factory
):
    out = tmp_path / 'out'
    before: set[str] = set()
    for space in (SPACE, 'fsaverage:den-10k', 'fsLR'):
        assert _participant(surface_dataset, out, space) == 0
        assert _main(surface_dataset, out, 'group', '--space', space) == 0
        after = _tree(out)
        assert before <= after  # nothing of another space was replaced or removed
        new = after - before
        assert new, space
        before = after
    statmaps = sorted(p for p in before if p.startswith('sub-01/sub-01_') and p.endswith('.json'))
    assert statmaps == sorted(
        f'sub-01/sub-01_task-stroop_space-{s}_statmap.json'
        for s in (SPACE, GIFTI_SPACE, CIFTI_SPACE)
    )
    validator = _validator()
    schema = validator.build_extended_schema(tmp_path_factory.mktemp('schema'))
    result = validator.run_validator(out, schema)
    assert result.errors == []
    assert result.exit_code == 0


def test_group_without_space_asks_to_choose_among_spaces(surface_dataset, tmp_path, capsys):
    out = tmp_path / 'out'
    assert _participant(surface_dataset, out, 'fsaverage') == 0
    assert _participant(surface_dataset, out, 'fsLR') == 0
    capsys.readouterr()
    assert _main(surface_dataset, out, 'group') == 2
    err = capsys.readouterr().err
    assert "('stroop', 'fsLR:den-91k'), ('stroop', 'fsaverage:den-10k')" in err
    assert 'choose with --task and --space' in err


# ------------------------------------------------------------------ bad inputs
RUN_2 = 'sub-02_task-stroop_run-2'
FIT_THE_OTHERS = 'To fit the others without sub-02, list them with --participant-label.'


def _gifti_file(ds: FakeDataset, hemi: str) -> Path:
    return ds.func('02') / f'{RUN_2}_hemi-{hemi}_space-{GIFTI_SPACE}_bold.func.gii'


def _cifti_file(ds: FakeDataset) -> Path:
    return ds.func('02') / f'{RUN_2}_space-{CIFTI_SPACE}_bold.dtseries.nii'


def _drop_right_hemisphere(ds: FakeDataset) -> None:
    _gifti_file(ds, 'R').unlink()


def _shorten_right_hemisphere(ds: FakeDataset) -> None:
    image = nib.load(_gifti_file(ds, 'R'))
    nib.save(nib.gifti.GiftiImage(darrays=image.darrays[:-1]), _gifti_file(ds, 'R'))


def _empty_left_hemisphere(ds: FakeDataset) -> None:
    nib.save(nib.gifti.GiftiImage(), _gifti_file(ds, 'L'))


def _swap_cifti_axes(ds: FakeDataset) -> None:
    image = nib.load(_cifti_file(ds))
    series, models = (image.header.get_axis(i) for i in (0, 1))
    data = np.asarray(image.dataobj).T
    nib.save(nib.Cifti2Image(data, header=(models, series)), _cifti_file(ds))


def _truncate_cifti(ds: FakeDataset) -> None:
    _cifti_file(ds).write_bytes(_cifti_file(ds).read_bytes()[:-40])


def _fewer_grayordinates(ds: FakeDataset) -> None:
    image = nib.load(_cifti_file(ds))
    series = image.header.get_axis(0)
    models = nib.cifti2.BrainModelAxis.from_mask(
        np.ones(9, bool), 'CortexLeft'
    ) + nib.cifti2.BrainModelAxis.from_mask(np.ones(9, bool), 'CortexRight')
    data = np.asarray(image.dataobj)[:, :18]
    nib.save(nib.Cifti2Image(data, header=(series, models)), _cifti_file(ds))


def _volume_in_fslr(ds: FakeDataset) -> None:
    volume = ds.func('01') / f'sub-01_task-stroop_run-1_space-{SPACE}_desc-preproc_bold.nii.gz'
    target = volume.name.replace(f'space-{SPACE}', f'space-{CIFTI_SPACE}')
    (ds.func('01') / target).write_bytes(volume.read_bytes())


def _gifti_in_fslr(ds: FakeDataset) -> None:
    for hemi in ('L', 'R'):
        source = _gifti_file(ds, hemi)
        target = source.name.replace(f'space-{GIFTI_SPACE}', 'space-fsLR_den-32k')
        (ds.func('02') / target).write_bytes(source.read_bytes())


@pytest.mark.parametrize(
    ('change', 'space', 'extra', 'messages'),
    [
        (
            _drop_right_hemisphere,
            'fsaverage',
            (),
            [
                f'{RUN_2}_hemi-L_space-{GIFTI_SPACE}_bold.func.gii',
                f"has no other hemisphere: '{RUN_2}_hemi-R_space-{GIFTI_SPACE}_bold.func.gii' "
                'is missing',
            ],
        ),
        (
            _shorten_right_hemisphere,
            'fsaverage',
            (),
            ['parts hold different numbers of time points (left 30, right 29)', FIT_THE_OTHERS],
        ),
        (
            _empty_left_hemisphere,
            'fsaverage',
            (),
            ['is a GIFTI file without data arrays: it holds no time point', FIT_THE_OTHERS],
        ),
        (
            _swap_cifti_axes,
            'fsLR',
            (),
            ['is a CIFTI-2 file with axes (BRAIN_MODELS, SERIES)', FIT_THE_OTHERS],
        ),
        (
            _truncate_cifti,
            'fsLR',
            (),
            [f'{RUN_2}_space-{CIFTI_SPACE}_bold.dtseries.nii', 'is truncated', FIT_THE_OTHERS],
        ),
        (
            _fewer_grayordinates,
            'fsLR',
            (),
            ['The surface runs of sub-02 have different numbers of vertices', FIT_THE_OTHERS],
        ),
        (
            _volume_in_fslr,
            'fsLR',
            (),
            ['The runs selected mix kinds of data: CIFTI-2', 'volume (sub-01_task-stroop_run-1'],
        ),
        (
            _gifti_in_fslr,
            'fsLR',
            (),
            ["The space 'fsLR' has several resolutions or densities", '--space fsLR:den-32k'],
        ),
        (
            None,
            'fsLR',
            ('--smoothing-fwhm', '5'),
            ['Smoothing (5.0 mm) is for volume runs; these are CIFTI-2 surface runs'],
        ),
    ],
)
def test_bad_surface_inputs_exit_2_before_any_fit(
    surface_dataset, tmp_path, capsys, change, space, extra, messages
):
    if change is not None:
        change(surface_dataset)
    out = tmp_path / 'out'
    assert _participant(surface_dataset, out, space, *extra) == 2
    err = capsys.readouterr().err
    assert [message for message in messages if message not in err] == []
    assert not out.exists()


#: Per space: the meshes written in each subject's fMRIPrep ``anat`` folder (none
#: for fsLR, which fMRIPrep writes no mesh of here) and TemplateFlow's template.
MESHES = {
    'fsaverage5': ('sub-{s}_hemi-{h}_space-fsaverage5_inflated.surf.gii',
                   'tpl-fsaverage', 'tpl-fsaverage_hemi-{h}_den-10k_pial.surf.gii'),
    'fsLR': (None, 'tpl-fsLR', 'tpl-fsLR_hemi-{h}_den-32k_midthickness.surf.gii'),
}  # fmt: skip


@pytest.mark.parametrize('space', list(MESHES))
def test_found_meshes_are_drawn_at_both_levels(request, tmp_path, monkeypatch, surfaces, space):
    ds = request.getfixturevalue('legacy_dataset' if space == 'fsaverage5' else 'surface_dataset')
    subject_mesh, template, template_mesh = MESHES[space]
    home = tmp_path / 'templateflow'
    monkeypatch.setenv('TEMPLATEFLOW_HOME', str(home))
    (home / template).mkdir(parents=True)
    for h in 'LR':
        surfaces.mesh(N_VERTICES).to_filename(home / template / template_mesh.format(h=h))
        for s in ds.subjects if subject_mesh else ():
            anat = ds.func(s).parent / 'anat'
            anat.mkdir(exist_ok=True)
            surfaces.mesh(N_VERTICES).to_filename(anat / subject_mesh.format(s=s, h=h))
    out = tmp_path / 'out'
    assert _participant(ds, out, space) == 0
    assert _main(ds, out, 'group', '--space', space) == 0
    subject_page = next((out / 'sub-02').glob('*_report.html')).read_text()
    group_page = next(out.glob('*_report.html')).read_text()
    tpl = f'TemplateFlow {template}/{template_mesh.format(h="L")}'
    subject = f'{ds.fmriprep.name}/sub-02/anat/{subject_mesh}'.format(s='02', h='L')
    for page, left in ((subject_page, subject if subject_mesh else tpl), (group_page, tpl)):
        assert 'on the found meshes: lateral and medial views' in page
        assert f'Meshes found beside the data: left: {left}, right: ' in page
