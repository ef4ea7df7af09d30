"""Atomic writes of result files and one writer per output folder.

Every file that holds a result (``metrics.json``, ``report.md``, figures,
saved networks, checkpoints) is written through :func:`atomic_write`:

1. the content goes to a temporary file in the *same* folder
   (``.<name>.<random>.tmp``), which is flushed and ``fsync``-ed;
2. the temporary file is renamed over the target (``os.replace``, atomic on
   POSIX file systems);
3. the folder is ``fsync``-ed, so that the rename itself survives a crash.

A process killed, or a disk that fills up, before step 2 leaves the old file
(or none) and at most a stray ``.tmp`` file, never half of a result; the
temporary file is removed when the write fails with an exception. This is the
write-ahead-then-rename scheme of many databases and editors (see SQLite's
"Atomic Commit In SQLite", https://www.sqlite.org/atomiccommit.html).

:func:`lock_folder` keeps two processes from writing into the same folder: it
holds an exclusive ``fcntl.flock`` on ``<folder>/.brainsim.lock`` (released
when the lock is released or the process ends, however it ends) and makes a
second writer stop with :class:`~brainsim.errors.FolderInUseError`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Callable

import numpy as np

__all__ = [
    "LOCK_NAME",
    "atomic_write",
    "write_bytes",
    "write_text",
    "write_json",
    "json_value",
    "write_npz",
    "save_figure_file",
    "FolderLock",
    "lock_folder",
]

#: Name of the lock file :func:`lock_folder` keeps in a folder.
LOCK_NAME = ".brainsim.lock"


def _fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename) to disk; a no-op where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a folder; the rename still happened
        pass
    finally:
        os.close(fd)


def _with_filename(err: OSError, path: Path) -> OSError:
    """The same kind of error (``OSError`` picks the subclass from errno), naming ``path``."""
    if err.errno is None:
        return err
    return OSError(err.errno, err.strerror or str(err), str(path))


def atomic_write(path: str | os.PathLike, writer: Callable[[IO[bytes]], Any]) -> Path:
    """Write a file atomically: temp file in the same folder, fsync, rename, fsync folder.

    Parameters
    ----------
    path : path
        The target file; its folder must exist.
    writer : callable
        Called with the open temporary file (binary mode); writes the content.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        When the folder cannot be written or the disk is full (``errno.ENOSPC``);
        the error names ``path``. The target is then unchanged and the
        temporary file removed.
    """
    path = Path(path)
    folder = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise _with_filename(err, path) from err
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(err, OSError):
            raise _with_filename(err, path) from err
        raise
    _fsync_folder(folder)
    return path


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: os.umask() is process-wide and not thread-safe


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda fh: fh.write(data))


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode(encoding))


def json_value(value: Any) -> Any:
    """``default=`` for :func:`json.dumps`: numpy scalars and arrays, paths, sets, mappings."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (Path, os.PathLike)):
        return os.fspath(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_json(path: str | os.PathLike, payload: Any, *, default=None, indent: int = 2) -> Path:
    """Write ``payload`` as JSON (with a final newline) atomically.

    The JSON text is made before anything is written, so a value that cannot
    be serialised leaves no file behind.
    """
    text = json.dumps(payload, indent=indent, default=default) + "\n"
    return write_text(path, text)


def write_npz(path: str | os.PathLike, *, compressed: bool = False, **arrays) -> Path:
    """Write numpy arrays as an ``.npz`` file atomically (no pickled objects).

    Parameters
    ----------
    path : path
        The target; written as given (numpy's habit of appending ``.npz`` does
        not apply).
    compressed : bool
        Use ``np.savez_compressed``.
    **arrays
        Name -> array.
    """
    import numpy as np

    save = np.savez_compressed if compressed else np.savez
    arrays = {name: np.asarray(value) for name, value in arrays.items()}
    pickled = [name for name, value in arrays.items() if value.dtype.hasobject]
    if pickled:  # np.savez would pickle them (its allow_pickle exists only from numpy 2.1)
        raise ValueError(f"arrays {', '.join(pickled)} hold Python objects; .npz files written "
                         f"here never contain pickles")

    def writer(fh: IO[bytes]) -> None:
        save(fh, **arrays)

    return atomic_write(path, writer)


def save_figure_file(fig, path: str | os.PathLike, **savefig_kw) -> Path:
    """``fig.savefig`` to ``path`` atomically; the format comes from the suffix."""
    path = Path(path)
    fmt = savefig_kw.pop("format", None) or path.suffix.lstrip(".") or None

    def writer(fh: IO[bytes]) -> None:
        buf = io.BytesIO()  # render fully before touching the disk
        fig.savefig(buf, format=fmt, **savefig_kw)
        fh.write(buf.getvalue())

    return atomic_write(path, writer)


# ---------------------------------------------------------------------------
# one writer per folder


class FolderLock:
    """An exclusive lock on a folder, held until :meth:`release` or process exit.

    Use :func:`lock_folder` to take one.
    """

    def __init__(self, folder: Path, handle: IO[str]):
        self.folder = folder
        self._handle: IO[str] | None = handle

    @property
    def held(self) -> bool:
        """True until released."""
        return self._handle is not None

    def release(self) -> None:
        """Release the lock (the lock file stays; it is harmless)."""
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> "FolderLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:  # pragma: no cover - garbage collection
        self.release()


def lock_folder(folder: str | os.PathLike, *, what: str = "folder") -> FolderLock:
    """Create ``folder`` if needed and take its writer lock, or fail at once.

    Parameters
    ----------
    folder : path
        The output folder.
    what : str
        How the folder is named in messages (e.g. ``"--out folder"``).

    Returns
    -------
    FolderLock
        Release it with ``.release()`` or use it as a context manager; it is
        released anyway when the process ends.

    Raises
    ------
    FolderInUseError
        Another process (or another writer in this one) holds the lock.
    ConfigError
        ``folder`` exists but is a file.
    OSError
        The folder cannot be created or written (permissions, read-only disk).
    """
    from brainsim.errors import ConfigError, FolderInUseError

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{what} {folder} is a file, not a folder; give a folder path")
    folder.mkdir(parents=True, exist_ok=True)
    lock_path = folder / LOCK_NAME
    try:
        handle = open(lock_path, "a+")
    except OSError as err:
        raise _with_filename(err, folder) from err
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        handle.seek(0)
        owner = handle.read().strip()
        handle.close()
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            pid = f" (process {owner})" if owner.isdigit() else ""
            raise FolderInUseError(
                f"{what} {folder} is in use by another run{pid}; wait for it to finish "
                f"or choose another folder"
            ) from None
        raise _with_filename(err, folder) from err
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return FolderLock(folder, handle)
