"""All or nothing: stage a save's files, then commit them with a journal, under locks.

:class:`OutputTransaction` is a context manager over an output folder. Inside the
``with`` block, files are written to a staging folder of the output folder's hidden
work folder, ``.bidsglm/`` (same file system, so every move is an atomic
:func:`os.replace`)::

    out_dir/.bidsglm/
        lock                   the locks of the folder (see :mod:`._locking`)
        stage-<id>.owner       locked by the process that owns the stage, while it lives
        stage-<id>/new/...     the files of the save, at their relative paths
        stage-<id>/old/...     what the commit moved aside (replaced or removed files)
        stage-<id>/journal.json

When the block ends without error, the commit, under the model's lock and the lock of
the shared files:

1. merges the shared files (``dataset_description.json``, ``.bidsignore``) with what
   the folder holds now, staging them only when they change;
2. checks that no target leaves the output folder through a symbolic link;
3. lists what the model's previous save wrote (its manifest, :mod:`.manifest`) and
   will not be written again: those files are removed, and only those;
4. writes the journal (``journal.json``, synced to disk): from then on the save is
   decided;
5. applies it: the previous manifest is moved aside first, each file replaces its
   target (the target moved aside), the removed files are moved aside, and the new
   manifest comes last. A model with a manifest is therefore complete;
6. removes the staging folder, and with it everything moved aside.

Every step of 5 can be done again, forwards or backwards, from any point: a file is
either still staged (``new/``), or in place with its original in ``old/``. So an
error or Ctrl-C during the moves restores every original (the journal first says
so), and a process killed at any point leaves work that the next transaction in the
folder finishes: forwards when the journal says the save was decided, backwards when
it was being undone, or simply removed when there is no journal (nothing was moved).
Stale work is only touched once its owner is dead (:func:`._locking.adopt`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

from bidsglm.bids._files import sync_folder, write_durably
from bidsglm.bids._locking import HIDDEN_FOLDER, SHARED_FILES_KEY, Ownership, adopt, hold, try_hold
from bidsglm.bids.manifest import manifest_bytes, manifest_path, read_manifest
from bidsglm.errors import BidsNameError, InvalidParameterError, OutputFolderError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from contextlib import AbstractContextManager as ContextManager
    from types import TracebackType

__all__ = [
    'OutputTransaction',
    'check_inside',
    'model_lock',
    'recover_stale_work',
    'replace_shared_file',
    'safe_relative_path',
    'write_atomically',
]

_STAGE_PREFIX = 'stage-'
_OWNER_SUFFIX = '.owner'
#: Owner files are locked under this prefix before they take their public name.
_CLAIM_PREFIX = 'claim-'
#: Seconds after which a claim whose owner is dead is removed (killed between two calls).
_CLAIM_AGE = 60.0
_JOURNAL = 'journal.json'


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


def check_inside(root: Path, relative: PurePosixPath) -> None:
    """Refuse a target that a symbolic link leads out of ``root``, or through a file.

    Parameters
    ----------
    root : pathlib.Path
        The output folder, resolved (no link in it).
    relative : PurePosixPath
        A target inside it.

    Raises
    ------
    OutputFolderError
        If a folder or file on the way is a symbolic link to somewhere outside
        ``root``, or a folder on the way is a file.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / 'sub-01').symlink_to(tempfile.mkdtemp())
    >>> check_inside(root, PurePosixPath('sub-01/func/x.nii.gz'))
    Traceback (most recent call last):
    ...
    bidsglm.errors.OutputFolderError: ...'sub-01' is a symbolic link to ...
    """
    path = root
    for depth, part in enumerate(relative.parts, start=1):
        path = path / part
        if path.is_symlink():
            real = Path(os.path.realpath(path))
            if not real.is_relative_to(root):
                shown = str(PurePosixPath(*relative.parts[:depth]))
                msg = (
                    f'In the output folder {str(root)!r}, {shown!r} is a symbolic link to '
                    f'{str(real)!r}, outside it; bidsglm never writes outside the output '
                    'folder. Replace the link by a real folder or file, or choose another '
                    'output folder.'
                )
                raise OutputFolderError(msg)
        if depth < len(relative.parts) and path.exists() and not path.is_dir():
            msg = f'Cannot write below {str(path)!r}: it is a file, not a folder. Move it away.'
            raise OutputFolderError(msg)


# ------------------------------------------------------------------ staging folders
class _Stage:
    """A staging folder and its owner file, created together, removed together."""

    def __init__(self, folder: Path, owner: Ownership) -> None:
        self.folder = folder
        self.owner = owner

    @classmethod
    def create(cls, root: Path) -> _Stage:
        """Make a new staging folder in ``root/.bidsglm``, owned by this process.

        The owner file is locked under a name that recovery does not look at, then
        renamed: no other process can see it unlocked and take the stage for dead.
        """
        hidden = root / HIDDEN_FOLDER
        for _ in range(100):  # a concurrent cleanup may remove the empty .bidsglm
            hidden.mkdir(exist_ok=True)
            name = f'{_STAGE_PREFIX}{secrets.token_hex(8)}'
            try:
                owner = Ownership(hidden / f'{_CLAIM_PREFIX}{name}', exclusive=True)
            except (FileExistsError, FileNotFoundError):
                continue
            try:
                owner.rename(hidden / f'{name}{_OWNER_SUFFIX}')
                (hidden / name).mkdir()
            except BaseException:
                _remove_owner_file(owner)
                raise
            return cls(hidden / name, owner)
        msg = f'Cannot create a staging folder in {str(hidden)!r}.'  # pragma: no cover
        raise OutputFolderError(msg)  # pragma: no cover

    @property
    def new(self) -> Path:
        """Where the files of the save are staged."""
        return self.folder / 'new'

    @property
    def old(self) -> Path:
        """Where the commit moves what it replaces or removes."""
        return self.folder / 'old'

    def remove(self) -> None:
        """Remove the folder, then the owner file (so an owner file always outlives it)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        _remove_owner_file(self.owner)


def _remove_owner_file(owner: Ownership) -> None:
    with contextlib.suppress(FileNotFoundError):
        owner.path.unlink()
    owner.release()


def _remove_hidden_if_empty(root: Path) -> None:
    with contextlib.suppress(OSError):
        (root / HIDDEN_FOLDER).rmdir()


# ------------------------------------------------------------------ the journal
@dataclass(frozen=True)
class _Journal:
    """What a commit does: read back by whoever finishes it."""

    state: Literal['commit', 'rollback']
    model: str | None
    moves: tuple[str, ...]  # staged files, in order; the manifest, if any, last
    removals: tuple[str, ...]  # files of the previous save not written again
    folders: tuple[str, ...]  # folders the moves create, outermost first

    def write(self, stage: Path) -> None:
        """Write the journal durably and atomically."""
        content = {
            'State': self.state,
            'Model': self.model,
            'Moves': list(self.moves),
            'Removals': list(self.removals),
            'Folders': list(self.folders),
        }
        draft = stage / f'{_JOURNAL}.draft'
        write_durably(draft, json.dumps(content, indent=1).encode('utf-8'))
        os.replace(draft, stage / _JOURNAL)
        sync_folder(stage)

    @classmethod
    def read(cls, stage: Path) -> _Journal | None:
        """Read a journal; None when there is none (nothing was moved yet)."""
        try:
            content = json.loads((stage / _JOURNAL).read_text(encoding='utf-8'))
            journal = cls(
                content['State'],
                content['Model'],
                tuple(content['Moves']),
                tuple(content['Removals']),
                tuple(content['Folders']),
            )
            for relative in (*journal.moves, *journal.removals, *journal.folders):
                safe_relative_path(relative)  # a damaged journal never leads outside
        except (OSError, ValueError, KeyError, TypeError):  # none, or not one of ours
            return None
        return journal

    @property
    def manifest(self) -> str | None:
        """The model's manifest (the last move) when the save has a model."""
        return str(manifest_path(PurePosixPath(self.model))) if self.model else None


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _put_in_place(root: Path, stage: _Stage, relative: str) -> None:
    """Move a staged file to its target, the target first to ``old/`` (resumable)."""
    new, old, target = stage.new / relative, stage.old / relative, root / relative
    if not _exists(new):
        return  # done already
    if _exists(target) and not _exists(old):
        _move(target, old)
    _move(new, target)


def _take_back(root: Path, stage: _Stage, relative: str) -> None:
    """Undo :func:`_put_in_place` from whatever point it reached."""
    new, old, target = stage.new / relative, stage.old / relative, root / relative
    if not _exists(new) and _exists(target):
        _move(target, new)
    if _exists(old):
        _move(old, target)


def _set_aside(root: Path, stage: _Stage, relative: str) -> None:
    """Move a file of the previous save to ``old/`` (resumable)."""
    old, target = stage.old / relative, root / relative
    if _exists(target) and not _exists(old):
        _move(target, old)


def _retire(root: Path, stage: _Stage, relative: str) -> None:
    """Move the target of a still-staged file to ``old/``: the first half of putting it in.

    Once the staged file is in place there is nothing to retire: its target is then
    the new file itself.
    """
    if _exists(stage.new / relative):
        _set_aside(root, stage, relative)


def _bring_back(root: Path, stage: _Stage, relative: str) -> None:
    old = stage.old / relative
    if _exists(old):
        _move(old, root / relative)


def _forwards(root: Path, stage: _Stage, journal: _Journal) -> None:
    """Apply the journal: old manifest aside, files in, old files out, manifest in."""
    manifest = journal.manifest
    if manifest is not None:
        _retire(root, stage, manifest)
    for relative in journal.moves:
        if relative != manifest:
            _put_in_place(root, stage, relative)
    for relative in journal.removals:
        _set_aside(root, stage, relative)
    if manifest is not None:
        _put_in_place(root, stage, manifest)


def _backwards(root: Path, stage: _Stage, journal: _Journal) -> None:
    """Undo the journal from any point, last step first."""
    manifest = journal.manifest
    if manifest is not None:
        _take_back(root, stage, manifest)
    for relative in reversed(journal.removals):
        _bring_back(root, stage, relative)
    for relative in reversed(journal.moves):
        if relative != manifest:
            _take_back(root, stage, relative)
    for folder in reversed(journal.folders):
        with contextlib.suppress(OSError):
            (root / folder).rmdir()


# ------------------------------------------------------------------ recovery
def _stale_stages(root: Path) -> list[Path]:
    """Return the staging folders and owner files of the hidden folder, by name."""
    hidden = root / HIDDEN_FOLDER
    if not hidden.is_dir():
        return []
    entries = list(hidden.iterdir())
    _remove_dead_claims(entries)
    names = {
        entry.name.removesuffix(_OWNER_SUFFIX)
        for entry in entries
        if entry.name.startswith(_STAGE_PREFIX)
    }
    return [hidden / name for name in sorted(names)]


def _remove_dead_claims(entries: Sequence[Path]) -> None:
    """Remove the claims of processes killed while creating a stage, once they are old."""
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(_CLAIM_PREFIX):
            continue
        with contextlib.suppress(FileNotFoundError):
            if now - entry.stat().st_mtime < _CLAIM_AGE:
                continue
            owner = adopt(entry)
            if owner is not None:
                _remove_owner_file(owner)


def _finish(root: Path, stage: _Stage, journal: _Journal) -> None:
    """Finish an abandoned commit, in the direction its journal says."""
    with hold(root, SHARED_FILES_KEY):
        if journal.state == 'commit':
            _forwards(root, stage, journal)
        else:
            _backwards(root, stage, journal)


def _recover_one(root: Path, folder: Path, model: str | None) -> bool:
    """Finish or remove one abandoned staging folder; tell whether it was abandoned."""
    owner = adopt(folder.with_name(folder.name + _OWNER_SUFFIX))
    if owner is None:
        return False  # its owner lives
    stage = _Stage(folder, owner)
    try:
        journal = _Journal.read(folder)
        if journal is not None:
            if model is not None and journal.model != model:
                return False
            with try_hold(root, journal.model or SHARED_FILES_KEY) as held:
                if not held:  # its model is being saved: that save will finish it
                    return False
                _finish(root, stage, journal)
        stage.remove()
    finally:
        owner.release()
    return True


def recover_stale_work(root: str | os.PathLike[str], *, model: str | None = None) -> int:
    """Finish or remove what killed saves left in an output folder.

    Parameters
    ----------
    root : path-like
        The output folder.
    model : str, optional
        Only the work of this model (the relative path of its ``statmap.json``).

    Returns
    -------
    int
        How many abandoned staging folders were finished, undone or removed.

    Raises
    ------
    OutputFolderError
        If there is abandoned work that the folder's permissions do not let us
        finish.

    Examples
    --------
    >>> import tempfile
    >>> recover_stale_work(tempfile.mkdtemp())
    0
    """
    root = Path(os.path.realpath(root))
    recovered = 0
    for folder in _stale_stages(root):
        try:
            recovered += _recover_one(root, folder, model)
        except PermissionError as error:
            msg = (
                f'An interrupted save left unfinished work in {str(folder)!r}, and the '
                f'output folder cannot be written ({error.strerror}). Make it writable and '
                'run again: the work is finished or undone then.'
            )
            raise OutputFolderError(msg) from error
    return recovered


# ------------------------------------------------------------------ the transaction
def _missing_parents(folder: Path) -> list[Path]:
    """Return the folders of ``folder``'s chain that do not exist yet, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    return missing[::-1]


class OutputTransaction:
    """Stage files inside ``root``, then commit them all, or none.

    Parameters
    ----------
    root : path-like
        The output folder; created (with its parents) if needed, and removed again
        if the transaction fails.
    model : PurePosixPath, optional
        The model's ``statmap.json`` (relative): its lock serialises the saves of one
        model, its manifest lists the staged files, and the files that the model's
        previous save wrote and this one does not are removed.
    shared : mapping of PurePosixPath to callable, optional
        Files that every save shares, with how to merge each into what the folder
        holds at commit time (bytes or None in, bytes out); written only if changed.

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
    ['.bidsglm', 'a']
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        model: PurePosixPath | None = None,
        shared: Mapping[PurePosixPath, Callable[[bytes | None], bytes]] | None = None,
    ) -> None:
        self.root = Path(root)
        self.model = model
        self.shared = dict(shared or {})
        self._created: list[Path] = []
        self._staged: list[PurePosixPath] = []
        self._stage_or_none: _Stage | None = None

    def __enter__(self) -> OutputTransaction:
        if self.root.exists() and not self.root.is_dir():
            msg = f'The output folder {str(self.root)!r} is a file. Give a folder path.'
            raise InvalidParameterError(msg)
        try:
            self._created = _missing_parents(self.root)
            self.root.mkdir(parents=True, exist_ok=True)
            self.root = Path(os.path.realpath(self.root))
            check_inside(self.root, PurePosixPath(HIDDEN_FOLDER))
            recover_stale_work(self.root)
            self._stage_or_none = _Stage.create(self.root)
        except BaseException:
            self._remove_created()
            raise
        return self

    @property
    def _stage(self) -> _Stage:
        """The staging folder; only exists inside the ``with`` block."""
        if self._stage_or_none is None:
            msg = 'An OutputTransaction is only usable inside a with block.'
            raise InvalidParameterError(msg)
        return self._stage_or_none

    def stage(self, relative: str | PurePosixPath) -> Path:
        """Return where to write the file that will end at ``root / relative``."""
        path = safe_relative_path(relative)
        if path in self._staged or path in self.shared:
            msg = f'The output file {str(path)!r} is written twice; names must be unique.'
            raise BidsNameError(msg)
        target = self._stage.new / path
        target.parent.mkdir(parents=True, exist_ok=True)
        self._staged.append(path)
        return target

    def staged_path(self, relative: str | PurePosixPath) -> Path:
        """Return where an already staged file is, to read it back before the commit."""
        path = safe_relative_path(relative)
        if path not in self._staged:
            msg = f'The output file {str(path)!r} was not staged.'
            raise InvalidParameterError(msg)
        return self._stage.new / path

    @property
    def staged(self) -> tuple[PurePosixPath, ...]:
        """The relative paths staged so far, in order (shared files not included)."""
        return tuple(self._staged)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            self._commit()
        except BaseException:
            self._discard()
            raise
        self._stage.remove()
        self._stage_or_none = None

    # -------------------------------------------------------------- the commit
    def _commit(self) -> None:
        key = str(self.model) if self.model else SHARED_FILES_KEY
        with hold(self.root, key, what=key or None):
            if self.model is not None:  # a killed save of this model comes first
                recover_stale_work(self.root, model=key)
            with hold(self.root, SHARED_FILES_KEY):
                journal = self._decide()
                try:
                    _forwards(self.root, self._stage, journal)
                except BaseException:
                    self._undo(journal)
                    raise

    def _decide(self) -> _Journal:
        """Stage shared files and the manifest, check every target, write the journal."""
        moves = [*self._staged, *self._merge_shared()]
        removals: list[PurePosixPath] = []
        if self.model is not None:
            removals = self._previous_files(set(moves))
            manifest = manifest_path(self.model)
            write_durably(self._stage.new / manifest, manifest_bytes(self.model, self._staged))
            moves.append(manifest)
        for relative in (*moves, *removals):
            check_inside(self.root, relative)
        _refuse_folders(self.root, moves)
        journal = _Journal(
            'commit',
            str(self.model) if self.model else None,
            tuple(map(str, moves)),
            tuple(map(str, removals)),
            tuple(self._new_folders(moves)),
        )
        journal.write(self._stage.folder)
        return journal

    def _merge_shared(self) -> list[PurePosixPath]:
        """Stage every shared file whose merge changes it; return those."""
        changed = []
        for relative, merge in self.shared.items():
            check_inside(self.root, relative)
            target = self.root / relative
            current = target.read_bytes() if target.is_file() else None
            merged = merge(current)
            if merged != current:
                staged = self._stage.new / relative
                staged.parent.mkdir(parents=True, exist_ok=True)
                write_durably(staged, merged)
                changed.append(relative)
        return changed

    def _previous_files(self, written: set[PurePosixPath]) -> list[PurePosixPath]:
        """Return the files of the model's previous save that this save does not write."""
        assert self.model is not None
        previous = read_manifest(self.root, self.model) or ()
        return [
            f
            for f in previous
            if f not in written and f not in self.shared and (self.root / f).is_file()
        ]

    def _new_folders(self, moves: Sequence[PurePosixPath]) -> list[str]:
        folders: dict[str, None] = {}
        for relative in moves:
            for folder in _missing_parents((self.root / relative).parent):
                folders[folder.relative_to(self.root).as_posix()] = None
        return list(folders)

    def _undo(self, journal: _Journal) -> None:
        """Take the commit back; say so in the journal first, in case we are killed."""
        with contextlib.suppress(OSError):  # e.g. a full disk: undo all the same
            dataclasses.replace(journal, state='rollback').write(self._stage.folder)
        _backwards(self.root, self._stage, journal)

    # -------------------------------------------------------------- failure
    def _discard(self) -> None:
        """Forget the staged files and remove the folders this transaction made."""
        if self._stage_or_none is not None:
            journal = _Journal.read(self._stage.folder)
            if journal is not None:  # interrupted right after deciding: undo (idempotent)
                _backwards(self.root, self._stage, journal)
            self._stage.remove()
            self._stage_or_none = None
        _remove_hidden_if_empty(self.root)
        self._remove_created()

    def _remove_created(self) -> None:
        for folder in reversed(self._created):
            try:
                folder.rmdir()
            except OSError:
                continue


def _refuse_folders(root: Path, moves: Sequence[PurePosixPath]) -> None:
    """Refuse to put a file where a folder is (it would be moved aside, then lost)."""
    for relative in moves:
        target = root / relative
        if target.is_dir() and not target.is_symlink():
            msg = f'Cannot write {str(target)!r}: a folder of that name exists. Move it away.'
            raise InvalidParameterError(msg)


@contextlib.contextmanager
def _temporary_stage(root: Path) -> Iterator[_Stage]:
    stage = _Stage.create(root)
    try:
        yield stage
    finally:
        stage.remove()


def replace_shared_file(
    root: str | os.PathLike[str],
    relative: str | PurePosixPath,
    merge: Callable[[bytes | None], bytes],
) -> Path:
    """Merge and atomically replace one shared file of an output folder, under its lock.

    For files outside any saved model, such as the report index: the new content is
    written to a staging folder, synced, and renamed over the old one, so readers
    see the old file or the new one, never a part; unchanged content is not written.

    Parameters
    ----------
    root : path-like
        The output folder (it must exist).
    relative : str or PurePosixPath
        The file, relative to it.
    merge : callable
        Current bytes (None when absent) in, new bytes out.

    Returns
    -------
    pathlib.Path
        The file.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> replace_shared_file(root, 'index.html', lambda old: b'<p>new</p>').read_bytes()
    b'<p>new</p>'
    """
    root = Path(os.path.realpath(root))
    path = safe_relative_path(relative)
    with hold(root, SHARED_FILES_KEY):
        check_inside(root, path)
        target = root / path
        current = target.read_bytes() if target.is_file() else None
        merged = merge(current)
        if merged != current:
            with _temporary_stage(root) as stage:
                draft = stage.new / path.name
                draft.parent.mkdir()
                write_durably(draft, merged)
                os.replace(draft, target)
                sync_folder(target.parent)
    return target


def model_lock(root: str | os.PathLike[str], statmap: PurePosixPath) -> ContextManager[None]:
    """Hold the lock of one saved model: no save of it runs meanwhile.

    Parameters
    ----------
    root : path-like
        The output folder (it must exist).
    statmap : PurePosixPath
        The model's ``statmap.json``, relative to ``root``.

    Returns
    -------
    context manager
        Holds the lock inside its ``with`` block (waiting for it first).
    """
    return hold(root, str(statmap))


def write_atomically(target: Path, data: bytes) -> None:
    """Replace ``target`` by ``data`` at once: readers see the old file or the new one.

    The bytes go to a hidden file beside the target, synced, then renamed over it;
    any error removes that file again.

    Parameters
    ----------
    target : pathlib.Path
        The file to write.
    data : bytes
        Its new content.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / 'report.html'
    >>> write_atomically(target, b'<p>hi</p>')
    >>> sorted(p.name for p in target.parent.iterdir())
    ['report.html']
    """
    draft = target.with_name(f'.{target.name}.{secrets.token_hex(4)}.draft')
    try:
        write_durably(draft, data)
        os.replace(draft, target)
    except BaseException:
        draft.unlink(missing_ok=True)
        raise
