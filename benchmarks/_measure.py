"""One measurement, run in its own process by ``run.py``; prints one JSON line.

    python benchmarks/_measure.py TOOL MODE RUN_DIR OUT_DIR [REFERENCE_DIR]

TOOL is ``bidsglm`` or ``nilearn`` (MODE ``fit``, ``contrasts`` or ``save``; a
RUN_DIR with ``group.json`` is a group workload: a one-sample second-level model of
its ``maps/``), or ``floor`` (MODE ``io``: read the input, write the files found in REFERENCE_DIR;
MODE ``io+deps``: the same after importing the libraries bidsglm depends on, which
shows what an interpreter pays for them whatever the work). A RUN_DIR with
``dataset_description.json`` is the benchmark dataset: its floor is the participant
level's (``_dataset_floor.py``), with ``prepare``, ``read`` and ``write`` summed over
the subjects and ``work`` the wall time of the two workers.
A RUN_DIR whose ``spec.json`` names a ``surface`` is a surface workload
(``_surface.py``): bidsglm reads its GIFTI hemispheres or CIFTI-2 file (and its
report gets the workload's meshes), nilearn a ``SurfaceImage`` of the GIFTI files,
and its floor reads it with ``_surface.read_floor``. bidsglm's own stages
(``bidsglm._stages``: ``read``, ``contrasts``, ``report``...) are added as
``stage <name>``.
The JSON line gives the seconds of each stage (``import`` included) and the peak
resident memory (``ru_maxrss``) after each stage. Only the modules the tool needs
are imported, so one tool's imports never weigh on the other's numbers.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import resource
import sys
import time
import warnings
from pathlib import Path

START = time.perf_counter()

import numpy as np  # noqa: E402 - after START: every tool and the floor need numpy
from _floor import files_under, load_files, read_gzip, write_files  # noqa: E402
from _surface import bidsglm_run, meshes, nilearn_image, read_floor, surface_kind  # noqa: E402

CONTRAST_NAMES = ('audio', 'visual', 'motor', 'audio_minus_visual', 'effects_of_interest')
PREFIX = 'sub-01_task-bench'


class Clock:
    """Record the duration and the peak memory after each named stage."""

    def __init__(self) -> None:
        self.last = START
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = now - self.last
        self.peak_mb[stage] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.last = now


def read_tables(run_dir: Path):
    import pandas as pd  # noqa: PLC0415 - the floor never imports pandas

    events = pd.read_csv(run_dir / 'events.tsv', sep='\t')
    confounds = pd.read_csv(run_dir / 'confounds.tsv', sep='\t')
    t_r = json.loads((run_dir / 'spec.json').read_text())['t_r']
    return events, confounds, t_r


def contrasts_of(columns) -> dict[str, object]:
    """The five contrasts: three conditions, one difference, one F over the three."""
    identity = np.eye(len(columns))
    rows = [list(columns).index(name) for name in ('audio', 'motor', 'visual')]
    definitions = ['audio', 'visual', 'motor', 'audio - visual', identity[rows]]
    return dict(zip(CONTRAST_NAMES, definitions, strict=True))


def import_bidsglm():
    # The public function: it writes the HTML report too, as nilearn's writes its own.
    from bidsglm import FirstLevelModel, save_glm_to_bids  # noqa: PLC0415 - one tool per process

    return FirstLevelModel, save_glm_to_bids


def import_nilearn():
    from nilearn.glm import save_glm_to_bids  # noqa: PLC0415 - one tool per process
    from nilearn.glm.first_level import FirstLevelModel  # noqa: PLC0415

    return FirstLevelModel, save_glm_to_bids


IMPORTS = {'bidsglm': import_bidsglm, 'nilearn': import_nilearn}


def run_input(tool: str, run_dir: Path) -> object:
    """The run as the tool reads it: the volume's file, or a surface run's files.

    A GIFTI run is given to nilearn as its ``SurfaceImage`` (made from the files by
    nilearn, on the workload's mesh), to bidsglm as a dict of its hemisphere files.
    """
    kind = surface_kind(run_dir)
    if kind is None:
        return str(run_dir / 'bold.nii.gz')
    return nilearn_image(run_dir) if tool == 'nilearn' else bidsglm_run(run_dir)


def report_meshes(tool: str, run_dir: Path) -> dict[str, object]:
    """bidsglm's ``meshes`` for a surface run (nilearn's image carries its mesh)."""
    if tool == 'bidsglm' and surface_kind(run_dir) is not None:
        return {'meshes': meshes(run_dir)}
    return {}


def stage_clock(tool: str) -> contextlib.AbstractContextManager[object]:
    """bidsglm's own clock of its stages (read, contrasts, report...), when it has one."""
    if tool != 'bidsglm':
        return contextlib.nullcontext()
    try:
        from bidsglm._stages import recording  # noqa: PLC0415 - one tool per process
    except ImportError:  # an older bidsglm
        return contextlib.nullcontext()
    return recording()


def measure_glm(tool: str, mode: str, run_dir: Path, out_dir: Path, clock: Clock) -> None:
    """Fit (and compute the contrasts, or fit and save) with one tool.

    bidsglm's stages (``read`` within the fit; ``contrasts`` and ``report`` within
    the save) are added as ``stage <name>`` seconds.
    """
    model_class, save = IMPORTS[tool]()
    events, confounds, t_r = read_tables(run_dir)
    clock.lap('import')
    with stage_clock(tool) as stages:
        # nilearn's default minimize_memory=True drops what save_glm_to_bids needs.
        model = model_class(t_r=t_r, minimize_memory=False)
        model.fit(run_input(tool, run_dir), events=events, confounds=confounds)
        clock.lap('fit')
        contrasts = contrasts_of(model.design_matrices_[0].columns)
        if mode == 'contrasts':
            for definition in contrasts.values():
                model.compute_contrast(definition, output_type='all')
            clock.lap('contrasts')
        elif mode == 'save':
            save(
                model,
                contrasts,
                contrast_types={'effects_of_interest': 'F'},
                out_dir=out_dir,
                prefix=PREFIX,
                **report_meshes(tool, run_dir),
            )
            clock.lap('save')
    for name, seconds in getattr(stages, 'seconds', {}).items():
        clock.seconds[f'stage {name}'] = seconds


def import_group(tool: str):
    if tool == 'bidsglm':
        from bidsglm import SecondLevelModel, save_glm_to_bids  # noqa: PLC0415

        return SecondLevelModel, save_glm_to_bids
    from nilearn.glm import save_glm_to_bids  # noqa: PLC0415 - one tool per process
    from nilearn.glm.second_level import SecondLevelModel  # noqa: PLC0415

    return SecondLevelModel, save_glm_to_bids


def group_maps(run_dir: Path) -> list[str]:
    """The input maps of a group workload, in order."""
    return sorted(str(path) for path in (run_dir / 'maps').glob('*.nii.gz'))


def measure_group(tool: str, mode: str, run_dir: Path, out_dir: Path, clock: Clock) -> None:
    """Fit the one-sample model of a group workload (and compute or save its contrast)."""
    model_class, save = import_group(tool)
    import pandas as pd  # noqa: PLC0415 - the floor never imports pandas

    maps = group_maps(run_dir)
    design = pd.DataFrame({'intercept': np.ones(len(maps))})
    clock.lap('import')
    # nilearn's default minimize_memory=True drops what save_glm_to_bids needs.
    model = model_class(minimize_memory=False)
    model.fit(maps, design_matrix=design)
    clock.lap('fit')
    if mode == 'contrasts':
        model.compute_contrast('intercept', output_type='all')
        clock.lap('contrasts')
    elif mode == 'save':
        save(model, {'intercept': 'intercept'}, out_dir=out_dir, prefix=f'task-{GROUP_TASK}')
        clock.lap('save')


GROUP_TASK = 'bench'

#: The libraries bidsglm's fit and save import (matplotlib is not one of them).
DEPENDENCIES = ('pandas', 'nibabel', 'scipy.special', 'scipy.ndimage', 'scipy.linalg')


def measure_floor(mode: str, run_dir: Path, out_dir: Path, reference: Path, clock: Clock) -> None:
    """Read the input and write the reference's files, as fast as isal allows."""
    if mode == 'io+deps':
        for name in DEPENDENCIES:
            importlib.import_module(name)
    clock.lap('import')
    cpu = time.process_time()
    contents = load_files(reference, files_under(reference))
    clock.lap('prepare')
    clock.seconds['prepare cpu'] = time.process_time() - cpu  # set-up: not the floor's
    run = run_dir / 'bold.nii.gz'
    if surface_kind(run_dir) is not None:
        read_floor(run_dir)
    else:
        for path in [run] if run.is_file() else group_maps(run_dir):
            read_gzip(Path(path))
    clock.lap('read')
    write_files(contents, out_dir)
    clock.lap('write')


def measure_dataset_floor(
    mode: str, bids: Path, out_dir: Path, reference: Path, clock: Clock
) -> None:
    """The participant level's floor: two processes, each subject's reads and writes."""
    from _dataset_floor import run_dataset_floor  # noqa: PLC0415 - only this floor needs it

    if mode == 'io+deps':  # imported before the workers start, which inherit them
        for name in DEPENDENCIES:
            importlib.import_module(name)
    clock.lap('import')
    times = run_dataset_floor(bids, out_dir, reference)
    clock.lap('work')
    clock.seconds.update(prepare=times.prepare, read=times.read, write=times.write)
    clock.seconds['prepare cpu'] = times.prepare_cpu


def main(argv: list[str]) -> None:
    tool, mode, run_dir, out_dir = argv[:4]
    clock = Clock()
    warnings.simplefilter('ignore')
    if tool == 'floor' and (Path(run_dir) / 'dataset_description.json').is_file():
        measure_dataset_floor(mode, Path(run_dir), Path(out_dir), Path(argv[4]), clock)
    elif tool == 'floor':
        measure_floor(mode, Path(run_dir), Path(out_dir), Path(argv[4]), clock)
    elif (Path(run_dir) / 'group.json').is_file():
        measure_group(tool, mode, Path(run_dir), Path(out_dir), clock)
    else:
        measure_glm(tool, mode, Path(run_dir), Path(out_dir), clock)
    print(json.dumps({'seconds': clock.seconds, 'peak_mb': clock.peak_mb}))


if __name__ == '__main__':
    main(sys.argv[1:])
