"""Writing outputs safely: all or nothing, and never over something that is not a file.

Every file kdsupport writes (``summary``, ``conference``, ``screen`` and its ``.errors.csv``,
``generate``, attempt exports) goes through :func:`atomic_writer` / :func:`write_atomically`:

* the data go to a temporary file **in the same folder**, are flushed and ``fsync``-ed, and the
  temporary file is then renamed over the target with :func:`os.replace` (atomic on POSIX), and
  the folder is ``fsync``-ed; a reader sees the old file or the new one, never half of one;
* a full disk, an exception or Ctrl-C removes the temporary file and leaves the old file as it
  was; no ``.partial`` or ``.tmp`` litter is left behind (an operating-system error becomes an
  :class:`~kdsupport.errors.OutputError` saying so);
* the target may be missing or a **regular file**; a directory, a device, a FIFO, a socket or a
  symbolic link is refused with :class:`~kdsupport.errors.InvalidInputError` naming the path,
  so an output can never replace ``/dev/null`` or write through a link.

:func:`replace_directory` does the same for a folder (``generate --out``), and only replaces a
folder that the caller recognises as its own (a kdsupport cohort and nothing else).

For training with synthetic patients; not a medical device.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from kdsupport.errors import InvalidInputError, OutputError, Problem

__all__ = [
    "atomic_writer",
    "write_atomically",
    "check_writable_target",
    "check_directory_target",
    "replace_directory",
]


def _lstat_or_none(path: Path, shown: Path, option: str) -> os.stat_result | None:
    """``os.lstat(path)``, or None when nothing is there; other failures name ``option``."""
    from kdsupport.files.input_gate import os_error_message

    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InvalidInputError([Problem(option, f"{shown}: {os_error_message(exc)}")]) from None


def check_writable_target(path: str | Path, *, option: str = "--out") -> Path:
    """The target as a Path, if it may be (re)written: missing, or a regular file.

    Raises
    ------
    InvalidInputError
        Naming ``option`` and the path, for a directory, a device, a FIFO, a socket, a symbolic
        link or a parent folder that is not a folder.
    """
    from kdsupport.files.input_gate import file_kind, os_error_message

    target = Path(path)
    st = _lstat_or_none(target, target, option)
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise InvalidInputError(
                [Problem(option, f"{target} is a symbolic link; give the path of a regular file")]
            )
        kind = file_kind(st.st_mode)
        if kind is not None:
            raise InvalidInputError(
                [Problem(option, f"{target} is {kind}; kdsupport only replaces regular files")]
            )
    parent = target.parent
    try:
        parent_is_file = parent.exists() and not parent.is_dir()
    except OSError as exc:
        raise InvalidInputError([Problem(option, f"{target}: {os_error_message(exc)}")]) from None
    if parent_is_file:
        raise InvalidInputError([Problem(option, f"{parent} is not a folder")])
    return target


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_writer(
    path: str | Path,
    *,
    binary: bool = False,
    encoding: str = "utf-8",
    newline: str | None = None,
    option: str = "--out",
    make_parents: bool = True,
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically.

    The target must be missing or a regular file (see :func:`check_writable_target`); the
    temporary file is removed on any error, leaving the old file as it was.
    """
    from kdsupport.files.input_gate import os_error_message

    target = check_writable_target(path, option=option)
    folder = target.parent
    try:
        if make_parents:
            folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=_tmp_prefix(target), suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InvalidInputError([Problem(option, f"{folder}: {os_error_message(exc)}")]) from None
    tmp = Path(tmp_name)
    try:
        mode = "wb" if binary else "w"
        kwargs: dict[str, Any] = {} if binary else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        existing = target.stat().st_mode & 0o777 if target.exists() else None
        os.chmod(tmp, existing if existing is not None else 0o666 & ~_umask())
        check_writable_target(target, option=option)  # it may have changed meanwhile
        os.replace(tmp, target)
        _fsync_dir(folder)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise OutputError(str(target), exc.strerror or str(exc)) from None
        raise


def _tmp_prefix(target: Path) -> str:
    """A hidden temporary name beside ``target``, short enough for any valid target name."""
    return f".{target.name[:64]}."


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(
    path: str | Path, data: str | bytes, *, encoding: str = "utf-8", option: str = "--out"
) -> Path:
    """Write text or bytes to ``path`` all or nothing (see :func:`atomic_writer`)."""
    binary = isinstance(data, bytes)
    with atomic_writer(path, binary=binary, encoding=encoding, newline="", option=option) as fh:
        fh.write(data)
    return Path(path)


def _current_folder() -> Path | None:
    try:
        return Path.cwd()
    except OSError:  # the working folder was deleted
        return None


def check_directory_target(
    target: str | Path,
    *,
    is_replaceable: Callable[[Path], str | None],
    option: str = "--out",
) -> Path:
    """The absolute path of a folder that may be (re)built: missing, or replaceable.

    Raises
    ------
    InvalidInputError
        Naming ``option`` and the path, for a path the system cannot use (a name too long, a
        parent that is not a folder), a file or a symbolic link, the current folder or one that
        holds it, or a folder ``is_replaceable`` refuses (its answer is the message).
    """
    from kdsupport.files.input_gate import os_error_message

    shown = Path(target)
    dest = Path(os.path.abspath(shown))
    st = _lstat_or_none(dest, shown, option)
    here = _current_folder()
    if here is not None and (dest == here or dest in here.parents):
        raise InvalidInputError(
            [
                Problem(
                    option,
                    f"{shown} is the current folder or holds it; the output folder is replaced as "
                    "a whole, so give a folder name such as cohort",
                )
            ]
        )
    if st is not None and (stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode)):
        raise InvalidInputError([Problem(option, f"{shown} exists and is not a folder")])
    if st is not None:
        try:
            why = is_replaceable(dest)
        except OSError as exc:
            why = os_error_message(exc)
        if why is not None:
            raise InvalidInputError([Problem(option, f"{shown}: {why}")])
    return dest


def replace_directory(
    target: str | Path,
    build: Callable[[Path], None],
    *,
    is_replaceable: Callable[[Path], str | None],
    option: str = "--out",
) -> Path:
    """Build a folder in a temporary sibling, then move it into place.

    ``build(tmp)`` fills the temporary folder. An existing ``target`` is replaced only when
    ``is_replaceable(target)`` returns None; otherwise its answer (why not) is the error (see
    :func:`check_directory_target`). The old folder is moved aside first and deleted only after
    the new one is in place, so an error at any point leaves the old folder as it was; an
    operating-system error (a full disk, a file too large) becomes an
    :class:`~kdsupport.errors.OutputError`.
    """
    from kdsupport.files.input_gate import os_error_message

    shown = Path(target)
    dest = check_directory_target(shown, is_replaceable=is_replaceable, option=option)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(dest), dir=dest.parent))
    except OSError as exc:
        raise InvalidInputError([Problem(option, f"{shown}: {os_error_message(exc)}")]) from None
    old: Path | None = None
    try:
        build(tmp)
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f"{_tmp_prefix(dest)}old.", dir=dest.parent))
            os.replace(dest, old / dest.name)
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and (old / dest.name).exists() and not dest.exists():
            os.replace(old / dest.name, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OutputError(str(shown), exc.strerror or str(exc)) from None
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return shown
