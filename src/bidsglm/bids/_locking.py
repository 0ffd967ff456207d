"""Locks shared by every process that writes one output folder.

Each output folder has one lock file, ``.bidsglm/lock``, created on first use and
kept (deleting a lock file that others may hold is itself a race). A lock is one
byte of that file, taken with a POSIX record lock (:func:`fcntl.lockf`): byte 0
guards the files every save shares (``dataset_description.json``,
``.bidsignore``, the report index), and each saved model has its own byte, found
by hashing the path of its ``statmap.json``. Two unrelated models that hash to one
byte merely wait for each other.

Record locks suit the work: the kernel releases them when their process dies, so a
killed save never blocks the next one; a forked child does not inherit them; and
they work on NFS (through the lock daemon), where cluster jobs write. They have one
trap: closing *any* descriptor of the file releases every lock the process holds on
it. Hence one descriptor per lock file and process, opened on first use and closed
when the process holds no lock on it any more.

Record locks belong to the process, not the thread, so a :class:`threading.RLock`
per byte serialises the threads of one process; a thread may take a lock it already
holds (the command line holds a subject's lock around the fit and the save, which
takes it again).

On systems without :mod:`fcntl` (Windows), locks hold between the threads of one
process only: there, run one process per output folder.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> root = Path(tempfile.mkdtemp())
>>> with hold(root, 'sub-01/sub-01_task-x_statmap.json'):
...     with hold(root, 'sub-01/sub-01_task-x_statmap.json'):   # re-entrant
...         (root / LOCK_FILE).is_file()
True
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
import zlib
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    'HIDDEN_FOLDER',
    'LOCK_FILE',
    'SHARED_FILES_KEY',
    'Ownership',
    'adopt',
    'hold',
    'try_hold',
]

logger = logging.getLogger('bidsglm')

#: The folder, inside an output folder, where bidsglm keeps its work.
HIDDEN_FOLDER = '.bidsglm'
#: The lock file of an output folder, relative to it.
LOCK_FILE = PurePosixPath(HIDDEN_FOLDER, 'lock')
#: The key of the lock over the files every save shares.
SHARED_FILES_KEY = ''
#: Seconds to wait before saying that another process holds the lock.
_PATIENCE = 1.0
#: Seconds between two attempts at a lock another process holds.
_RETRY = 0.05


def _byte_of(key: str) -> int:
    """Return the byte of the lock file that stands for ``key`` (0 for the shared files).

    Keys are compared case-insensitively, as file names are on some file systems.

    Examples
    --------
    >>> _byte_of('')
    0
    >>> _byte_of('sub-01/sub-01_statmap.json') == _byte_of('SUB-01/sub-01_statmap.json')
    True
    """
    if key == SHARED_FILES_KEY:
        return 0
    return 1 + zlib.crc32(key.casefold().encode('utf-8')) % (2**31 - 2)


class _Byte:
    """One lockable byte: a thread lock, and how deep its owning thread holds it."""

    def __init__(self) -> None:
        self.thread_lock = threading.RLock()
        self.depth = 0


class _LockFile:
    """The one descriptor of a lock file in this process, and its bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.descriptor: int | None = None
        self.bytes: dict[int, _Byte] = {}
        self.held = 0

    def open(self) -> int:
        """Open the file on first use (creating it and its folder)."""
        if self.descriptor is None:
            self.path.parent.mkdir(exist_ok=True)
            self.descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        return self.descriptor

    def close_if_unused(self) -> None:
        """Close the descriptor once no byte is held (closing releases every lock)."""
        if self.held == 0 and self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None


_files: dict[Path, _LockFile] = {}
_files_guard = threading.Lock()
#: The owner files this process holds (see :class:`Ownership`).
_owned: set[Path] = set()


def _lock_file(root: Path) -> _LockFile:
    path = Path(os.path.realpath(root)) / LOCK_FILE
    with _files_guard:
        return _files.setdefault(path, _LockFile(path))


if sys.platform != 'win32':
    import fcntl

    def _try_record_lock(descriptor: int, offset: int) -> bool:
        """Take the byte's record lock without waiting; tell whether it was free."""
        try:
            fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset, os.SEEK_SET)
        except (BlockingIOError, PermissionError):
            return False
        return True

    def _release_record_lock(descriptor: int, offset: int) -> None:
        fcntl.lockf(descriptor, fcntl.LOCK_UN, 1, offset, os.SEEK_SET)

else:  # pragma: no cover - Windows: locks between the threads of one process only

    def _try_record_lock(descriptor: int, offset: int) -> bool:
        return True

    def _release_record_lock(descriptor: int, offset: int) -> None:
        return


def _wait_for_record_lock(descriptor: int, offset: int, what: str) -> None:
    """Take the byte's record lock, saying once that we wait when it takes a while."""
    start = time.monotonic()
    said = False
    while not _try_record_lock(descriptor, offset):
        if not said and time.monotonic() - start > _PATIENCE:
            logger.info('Waiting for another bidsglm process that is writing %s.', what)
            said = True
        time.sleep(_RETRY)


def _acquire(lock_file: _LockFile, offset: int, what: str, *, wait: bool = True) -> bool:
    """Take one byte: the thread lock, then, at the outermost level, the record lock.

    Without ``wait``, give up at once when another thread or process holds it.
    """
    byte = lock_file.bytes.setdefault(offset, _Byte())
    if not byte.thread_lock.acquire(blocking=wait):
        return False
    if byte.depth == 0:
        try:
            with _files_guard:
                descriptor = lock_file.open()
                lock_file.held += 1
        except BaseException:
            byte.thread_lock.release()
            raise
        try:
            taken = _take_record_lock(descriptor, offset, what, wait=wait)
        except BaseException:
            _forget(lock_file, byte)
            raise
        if not taken:
            _forget(lock_file, byte)
            return False
    byte.depth += 1
    return True


def _take_record_lock(descriptor: int, offset: int, what: str, *, wait: bool) -> bool:
    if wait:
        _wait_for_record_lock(descriptor, offset, what)
        return True
    return _try_record_lock(descriptor, offset)


def _release(lock_file: _LockFile, offset: int) -> None:
    byte = lock_file.bytes[offset]
    byte.depth -= 1
    if byte.depth == 0:
        assert lock_file.descriptor is not None
        _release_record_lock(lock_file.descriptor, offset)
        _forget(lock_file, byte)
    else:
        byte.thread_lock.release()


def _forget(lock_file: _LockFile, byte: _Byte) -> None:
    """Count one holder less (closing the file when none is left), free the thread lock."""
    with _files_guard:
        lock_file.held -= 1
        lock_file.close_if_unused()
    byte.thread_lock.release()


@contextlib.contextmanager
def hold(root: str | os.PathLike[str], key: str, what: str | None = None) -> Iterator[None]:
    """Hold the lock of ``key`` in the output folder ``root``, waiting for it if need be.

    Parameters
    ----------
    root : path-like
        The output folder (it must exist).
    key : str
        ``SHARED_FILES_KEY`` for the files every save shares, else the relative path
        of a model's ``statmap.json``.
    what : str, optional
        What the lock guards, for the message logged while waiting (default: the key).

    Yields
    ------
    None
        While the lock is held.
    """
    lock_file = _lock_file(Path(root))
    offset = _byte_of(key)
    _acquire(lock_file, offset, what or key or 'the shared files')
    try:
        yield
    finally:
        _release(lock_file, offset)


@contextlib.contextmanager
def try_hold(root: str | os.PathLike[str], key: str) -> Iterator[bool]:
    """Hold the lock of ``key`` if nobody else does; yield whether it is held.

    Parameters
    ----------
    root : path-like
        The output folder (it must exist).
    key : str
        As for :func:`hold`.

    Yields
    ------
    bool
        True while the lock is held; False when another thread or process has it.
    """
    lock_file = _lock_file(Path(root))
    offset = _byte_of(key)
    taken = _acquire(lock_file, offset, key, wait=False)
    try:
        yield taken
    finally:
        if taken:
            _release(lock_file, offset)


def adopt(owner_file: Path) -> Ownership | None:
    """Take over the work that ``owner_file`` marks, if its owner has died.

    A process that owns some work (a staging folder) holds the record lock of byte 0
    of a file of its own for as long as it lives (see :class:`Ownership`). Another
    process can take that lock only once the owner is gone, and then owns the work
    itself: two processes never clean up the same work. Work of this very process
    is never taken (its file is not even opened: closing a second descriptor would
    drop the owner's lock).

    Parameters
    ----------
    owner_file : pathlib.Path
        The file the owner locked; created if it is missing (an owner never
        leaves its work without it, so the work is then abandoned).

    Returns
    -------
    Ownership or None
        The work, now ours (release it when done); None while its owner lives.
    """
    if owner_file in _owned:
        return None
    owner = Ownership(owner_file)
    if owner.taken:
        return owner
    owner.release()
    return None


class Ownership:
    """Hold byte 0 of ``path`` for as long as this process owns the work it marks.

    Parameters
    ----------
    path : pathlib.Path
        The file to lock (created if missing), for instance beside a staging folder.
    exclusive : bool, default=False
        Refuse (``FileExistsError``) if the file exists: new work, a new name.

    Attributes
    ----------
    taken : bool
        Whether the lock was free (if not, another live process owns the work and
        this object holds nothing).

    Examples
    --------
    >>> import tempfile
    >>> owner = Ownership(Path(tempfile.mkdtemp()) / 'owner')
    >>> owner.taken
    True
    >>> owner.release()
    """

    def __init__(self, path: Path, *, exclusive: bool = False) -> None:
        self.path = path
        flags = os.O_RDWR | os.O_CREAT | (os.O_EXCL if exclusive else 0)
        self._descriptor: int | None = os.open(path, flags, 0o666)
        _owned.add(path)
        self.taken = _try_record_lock(self._descriptor, 0)

    def rename(self, path: Path) -> None:
        """Give the locked file its public name (the lock stays: it is on the file)."""
        os.replace(self.path, path)
        _owned.discard(self.path)
        _owned.add(path)
        self.path = path

    def release(self) -> None:
        """Give the work up (closing the file releases its lock)."""
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None
            _owned.discard(self.path)
