"""What every I/O floor does: inflate inputs fast, and write given files again.

The floors (``_measure.py floor``, ``_dataset_floor.py``) read their inputs with
python-isal, inflating on a second thread into one preallocated buffer, and write
the very files a tool wrote: loaded before the clock starts (inflated when gzipped),
compressed again with isal at level 1, on two threads above 8 MB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from isal import igzip, igzip_threaded

#: Gzipped files of more than this many bytes (uncompressed) are deflated on two threads.
THREADED_BYTES = 2**23

#: A file to write: its bytes (inflated) and whether it is gzipped on disk.
Contents = dict[Path, tuple[bytes, bool]]


def read_gzip(path: Path) -> np.ndarray:
    """Inflate a gzip file into one preallocated buffer (its trailer gives the size)."""
    with path.open('rb') as raw:
        raw.seek(-4, 2)
        hint = int.from_bytes(raw.read(4), 'little')
    buffer = np.empty(hint + 1, dtype=np.uint8)
    size = 0
    with igzip_threaded.open(path, 'rb', threads=1) as stream:
        while count := stream.readinto(buffer[size:]):
            size += count
            if size == buffer.size:  # over 4 GiB the trailer wraps: grow
                buffer = np.concatenate([buffer, np.empty_like(buffer)])
    return buffer[:size]


def read_input(path: Path) -> int:
    """Read one input file whole (a ``.gz`` inflated); return its (inflated) size."""
    if path.name.endswith('.gz'):
        return read_gzip(path).size
    return len(path.read_bytes())


def load_files(root: Path, paths: list[Path]) -> Contents:
    """Load files written under ``root`` (gzipped ones inflated), keyed by relative path."""
    contents = {}
    for path in sorted(paths):
        data = path.read_bytes()
        gzipped = path.name.endswith('.gz')
        contents[path.relative_to(root)] = (igzip.decompress(data) if gzipped else data, gzipped)
    return contents


def files_under(folder: Path) -> list[Path]:
    """Every file under ``folder`` (hidden ones too)."""
    return sorted(path for path in folder.rglob('*') if path.is_file())


def write_files(contents: Contents, out_dir: Path) -> None:
    """Write the loaded files under ``out_dir``: the same bytes, gzipped as before."""
    for relative, (data, gzipped) in contents.items():
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not gzipped:
            target.write_bytes(data)
        elif len(data) > THREADED_BYTES:
            with igzip_threaded.open(target, 'wb', compresslevel=1, threads=2) as stream:
                stream.write(data)
        else:
            target.write_bytes(igzip.compress(data, 1))
