"""The I/O floor of the participant level: two processes read and write what it does.

``_measure.py floor io BIDS_DIR OUT_DIR REFERENCE_DIR`` runs this on the benchmark
dataset, REFERENCE_DIR being the output folder of
``bidsglm BIDS_DIR REFERENCE_DIR participant --n-jobs 2``. As the command line's
two workers do, two processes take the subjects in turn: each reads every file the
participant level reads for its subject (the preprocessed BOLD and brain masks,
inflated with isal; the confounds, the events, the JSON sidecars) and writes the
very files the command line wrote for that subject (same bytes, see ``_floor.py``).

The subjects go two at a time. Before each pair, each worker loads the reference
files of its subject while the clock is stopped (as the workload floor loads its
reference), then both read and write; the pair is done when both are. The dataset's
own files (descriptions, sidecars at the top) are read once, and the output
folder's shared files (``dataset_description.json``, ``.bidsignore``) written once,
by the main process.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from _floor import files_under, load_files, read_input, write_files

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

#: Worker processes, as ``--n-jobs 2``.
N_WORKERS = 2
PREPROCESSED = Path('derivatives', 'fmriprep')


@dataclass
class FloorTimes:
    """Seconds of the floor: ``prepare`` (clock stopped) and the sums over subjects.

    ``prepare_cpu`` is the CPU time the workers spent loading the reference files.
    """

    prepare: float = 0.0
    prepare_cpu: float = 0.0
    read: float = 0.0
    write: float = 0.0
    subjects: int = 0


def subject_labels(bids: Path) -> list[str]:
    """The dataset's subjects, in order."""
    return sorted(path.name.removeprefix('sub-') for path in bids.glob('sub-*') if path.is_dir())


def dataset_inputs(bids: Path) -> list[Path]:
    """The dataset's own files: descriptions, participants, top-level sidecars."""
    return sorted(
        path
        for folder in (bids, bids / PREPROCESSED)
        for path in folder.iterdir()
        if path.is_file()
    )


def subject_inputs(bids: Path, label: str) -> list[Path]:
    """Every file the participant level reads for one subject.

    Its preprocessed folder (BOLD, brain masks, confounds, JSON sidecars) and its
    raw events; the raw BOLD is not read (the preprocessed one is fitted).
    """
    preprocessed = files_under(bids / PREPROCESSED / f'sub-{label}')
    events = (bids / f'sub-{label}').rglob('*_events.tsv')
    return sorted([*preprocessed, *events])


def shared_outputs(reference: Path) -> list[Path]:
    """The output folder's files that belong to no subject."""
    return [
        path
        for path in files_under(reference)
        if not path.relative_to(reference).parts[0].startswith('sub-')
    ]


def _worker(connection: Connection, bids: Path, out_dir: Path, reference: Path) -> None:
    """Load a subject's reference, send its CPU time, then on 'go' read its inputs and write it."""
    while (label := connection.recv()) is not None:
        cpu = time.process_time()
        contents = load_files(reference, files_under(reference / f'sub-{label}'))
        connection.send(time.process_time() - cpu)
        connection.recv()
        start = time.perf_counter()
        for path in subject_inputs(bids, label):
            read_input(path)
        read = time.perf_counter()
        write_files(contents, out_dir)
        connection.send((read - start, time.perf_counter() - read))
        del contents


def _pair(ends: list[Connection], labels: list[str], times: FloorTimes) -> None:
    """Have one worker per label load its subject (clock stopped), then read and write it."""
    start = time.perf_counter()
    for end, label in zip(ends, labels, strict=False):
        end.send(label)
    for end in ends[: len(labels)]:
        times.prepare_cpu += end.recv()
    times.prepare += time.perf_counter() - start
    for end in ends[: len(labels)]:
        end.send('go')
    for end in ends[: len(labels)]:
        read, write = end.recv()
        times.read += read
        times.write += write
        times.subjects += 1


def run_dataset_floor(bids: Path, out_dir: Path, reference: Path) -> FloorTimes:
    """Read and write the participant level's files with two processes; return the times."""
    context = multiprocessing.get_context('fork')  # the workers inherit this process's imports
    pipes = [context.Pipe() for _ in range(N_WORKERS)]
    workers = [
        context.Process(target=_worker, args=(child, bids, out_dir, reference))
        for _, child in pipes
    ]
    for worker in workers:
        worker.start()
    times = FloorTimes()
    start = time.perf_counter()
    shared = load_files(reference, shared_outputs(reference))
    times.prepare += time.perf_counter() - start
    for path in dataset_inputs(bids):
        read_input(path)
    ends = [end for end, _ in pipes]
    labels = subject_labels(bids)
    for first in range(0, len(labels), N_WORKERS):
        _pair(ends, labels[first : first + N_WORKERS], times)
    write_files(shared, out_dir)
    for end in ends:
        end.send(None)
    for worker in workers:
        worker.join()
    return times
