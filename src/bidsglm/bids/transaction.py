"""All or nothing: stage every output in a hidden folder, then move it into place.

:class:`OutputTransaction` is a context manager over an output folder. Files are
written to a temporary folder inside it (same file system, so each final move is an
atomic :func:`os.replace`). When the block ends without error, every staged file is
moved to its place; a file it replaces is first moved aside, so an error during the
moves (a full disk, a Ctrl-C) puts every original back. On any exception, including
``KeyboardInterrupt``, the output folder is left exactly as it was: the staging
folder is removed, and so are the folders the transaction created.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from bidsglm.errors import BidsNameError, InvalidParameterError

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ['OutputTransaction', 'safe_relative_path']

_STAGE_PREFIX = '.bidsglm-tmp-'


def safe_relative_path(relative: str | PurePosixPath) -> PurePosixPath:
    r"""Check that a path stays inside the folder it is relative to.

    Parameters
    ----------
    relative : str or PurePosixPath
        A ``/``-separated relative path.

    Returns
    -------
    PurePosixPath
        The same path.

    Raises
    ------
    BidsNameError
        If the path is empty, absolute, or has a ``..``, ``.``, ``\\`` or ``:`` part.

    Examples
    --------
    >>> str(safe_relative_path('sub-01/func/x.tsv'))
    'sub-01/func/x.tsv'
    >>> safe_relative_path('../x.tsv')
    Traceback (most recent call last):
    ...
    bidsglm.errors.BidsNameError: The output path '../x.tsv' would leave the output folder...
    """
    path = PurePosixPath(relative)
    text = str(relative)
    unsafe = (
        not path.parts
        or path.is_absolute()
        or any(part in ('..', '.') for part in text.split('/'))
        or '\\' in text
        or ':' in text
    )
    if unsafe:
        msg = f'The output path {text!r} would leave the output folder or is not a plain path.'
        raise BidsNameError(msg)
    return path


def _missing_parents(folder: Path) -> list[Path]:
    """Return the folders of ``folder``'s chain that do not exist yet, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    return missing[::-1]


def _make_folder(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its parents, recording those that were made."""
    for missing in _missing_parents(folder):
        missing.mkdir()
        created.append(missing)


def _remove_folders(created: list[Path]) -> None:
    """Remove folders made by the transaction, innermost first, if they are empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            continue


class OutputTransaction:
    """Stage files inside ``root``, then move them all into place, or none.

    Parameters
    ----------
    root : path-like
        The output folder; created (with its parents) if needed, and removed
        again if the transaction fails.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()) / 'out'
    >>> with OutputTransaction(root) as transaction:
    ...     _ = transaction.stage('a/b.txt').write_text('hello')
    >>> (root / 'a' / 'b.txt').read_text()
    'hello'
    >>> try:
    ...     with OutputTransaction(root) as transaction:
    ...         _ = transaction.stage('c.txt').write_text('lost')
    ...         raise KeyboardInterrupt
    ... except KeyboardInterrupt:
    ...     pass
    >>> sorted(p.name for p in root.iterdir())
    ['a']
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._created: list[Path] = []
        self._staged: list[PurePosixPath] = []
        self._stage_root: Path | None = None

    def __enter__(self) -> OutputTransaction:
        if self.root.exists() and not self.root.is_dir():
            msg = f'The output folder {str(self.root)!r} is a file. Give a folder path.'
            raise InvalidParameterError(msg)
        try:
            _make_folder(self.root, self._created)
            self._stage_root = Path(tempfile.mkdtemp(prefix=_STAGE_PREFIX, dir=self.root))
        except BaseException:
            _remove_folders(self._created)
            raise
        return self

    @property
    def _stage(self) -> Path:
        """The staging folder; only exists inside the ``with`` block."""
        if self._stage_root is None:
            msg = 'An OutputTransaction is only usable inside a with block.'
            raise InvalidParameterError(msg)
        return self._stage_root

    def stage(self, relative: str | PurePosixPath) -> Path:
        """Return where to write the file that will end at ``root / relative``."""
        path = safe_relative_path(relative)
        if path in self._staged:
            msg = f'The output file {str(path)!r} is written twice; names must be unique.'
            raise BidsNameError(msg)
        target = self._stage / 'new' / path
        target.parent.mkdir(parents=True, exist_ok=True)
        self._staged.append(path)
        return target

    def staged_path(self, relative: str | PurePosixPath) -> Path:
        """Return where an already staged file is, to read it back before the moves."""
        path = safe_relative_path(relative)
        if path not in self._staged:
            msg = f'The output file {str(path)!r} was not staged.'
            raise InvalidParameterError(msg)
        return self._stage / 'new' / path

    @property
    def staged(self) -> tuple[PurePosixPath, ...]:
        """The relative paths staged so far, in order."""
        return tuple(self._staged)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self._commit()
        except BaseException:
            self._discard()
            raise
        if exc_type is not None:
            self._discard()
        else:
            self._cleanup()

    def _commit(self) -> None:
        """Move every staged file into place; on any error, restore everything."""
        moved: list[tuple[Path, Path | None]] = []
        try:
            for relative in self._staged:
                self._move_one(relative, moved)
        except BaseException:
            _restore(moved)
            raise

    def _move_one(self, relative: PurePosixPath, moved: list[tuple[Path, Path | None]]) -> None:
        """Move one staged file into place, backing up what it replaces."""
        target = self.root / relative
        if target.is_dir() and not target.is_symlink():
            msg = f'Cannot write {str(target)!r}: a folder of that name exists. Move it away.'
            raise InvalidParameterError(msg)
        _make_folder(target.parent, self._created)
        backup = None
        if target.exists() or target.is_symlink():
            backup = self._stage / 'old' / relative
            backup.parent.mkdir(parents=True, exist_ok=True)
        moved.append((target, backup))  # recorded first: a rollback then knows it
        if backup is not None:
            os.replace(target, backup)
        os.replace(self._stage / 'new' / relative, target)

    def _discard(self) -> None:
        """Forget the staged files and remove the folders this transaction made."""
        self._cleanup()
        _remove_folders(self._created)

    def _cleanup(self) -> None:
        """Remove the staging folder."""
        if self._stage_root is not None:
            shutil.rmtree(self._stage_root, ignore_errors=True)
            self._stage_root = None


def _restore(moved: list[tuple[Path, Path | None]]) -> None:
    """Undo the moves: put the originals back and remove the new files."""
    for target, backup in reversed(moved):
        if backup is not None and (backup.exists() or backup.is_symlink()):
            os.replace(backup, target)
        elif backup is None and (target.exists() or target.is_symlink()):
            target.unlink()
