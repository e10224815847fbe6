"""Crash-safe file writes: a file is either the old one or the whole new one.

Every file infercost writes (``--html``, ``--out``, profiles, offer snapshots, exports) goes
through :func:`write_atomic`: the bytes go to a temporary file in the same folder, which is
flushed, fsynced and renamed over the target (``os.replace`` is atomic on POSIX and Windows
when both paths are on one file system), then the folder is fsynced so the rename survives a
power loss. A ``kill -9`` at any point leaves the old file (or none) and at worst a stray
``.<name>.*.tmp`` file, never a truncated target.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from infercost.errors import InputError


def write_atomic(path: str | os.PathLike[str], data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    Raises:
        InputError: the folder does not exist or cannot be written (the message names it).
    """
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_writer(path, binary=True) as fh:
        fh.write(payload)
    return Path(path)


@contextlib.contextmanager
def atomic_writer(
    path: str | os.PathLike[str], binary: bool = False, encoding: str = "utf-8", newline: str = ""
) -> Iterator[IO[Any]]:
    """Context manager yielding a file object whose content replaces ``path`` on success.

    On an exception inside the block the temporary file is removed and ``path`` is untouched.

    Raises:
        InputError: the folder does not exist or cannot be written.
    """
    target = Path(path).expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except (FileNotFoundError, NotADirectoryError) as err:
        raise InputError(
            f"cannot write {target}: the folder {folder} does not exist; create it or choose "
            "another path."
        ) from err
    except PermissionError as err:
        raise InputError(f"cannot write {target}: the folder {folder} is not writable.") from err
    tmp = Path(tmp_name)
    try:
        fh: IO[Any] = (
            os.fdopen(fd, "wb")
            if binary
            else os.fdopen(fd, "w", encoding=encoding, newline=newline)
        )
        with fh:
            yield fh
            fh.flush()
            os.chmod(tmp, _mode_for(target))
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_folder(folder)


def _mode_for(target: Path) -> int:
    """The permission bits the written file gets: the replaced file's, else what a plain
    ``open()`` would create (0o666 less the process umask). ``mkstemp`` alone creates 0o600,
    which would leave a chart or an export unreadable to the other users and processes that
    read it."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def reading(path: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Turn the errors a file of the wrong kind raises while it is parsed (not UTF-8 text, a
    CSV field past the csv module's 131,072-character limit, a name the file system refuses)
    into one :class:`InputError` naming ``what`` (``--trace``) and the file.

    Raises:
        InputError: ``what``, the file and the reason, and what to give instead.
    """
    import csv

    try:
        yield
    except UnicodeDecodeError as err:
        # the decoder's position is inside its buffer, not the file: find the file's first
        # bad byte (check_utf8 raises with it), else say so without a position
        check_utf8(path, what)
        raise InputError(
            f"{what} {str(path)[:200]}: not UTF-8 text; give a UTF-8 CSV/JSON file."
        ) from err
    except csv.Error as err:
        raise InputError(
            f"{what} {str(path)[:200]}: cannot be read as CSV ({err}); give a CSV/JSON file "
            "in one of the supported formats."
        ) from err
    except OSError as err:
        raise InputError(
            f"{what} {str(path)[:200]}: cannot be read ({err.strerror or err})."
        ) from err


def check_utf8(path: str | os.PathLike[str], what: str) -> None:
    """Refuse a file that is not UTF-8 text before a reader that cannot close it cleanly
    on a decoding error opens it (read in 1 MiB chunks).

    Raises:
        InputError: ``what``, the file and the first bad byte's offset.
    """
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as err:
                    raise InputError(
                        f"{what} {str(path)[:200]}: not UTF-8 text (byte {offset + err.start}); "
                        "give a UTF-8 CSV/JSON file."
                    ) from err
                offset += len(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as err:
        raise InputError(
            f"{what} {str(path)[:200]}: not UTF-8 text (it ends mid-character)."
        ) from err
    except OSError:
        return  # the reader says what is wrong with the path
