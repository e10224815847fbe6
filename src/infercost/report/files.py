"""Output files the commands write (``--html FILE``, ``--png FILE``): checked before any work
is done."""

from __future__ import annotations

import os
from pathlib import Path

from infercost.errors import InputError

#: The file name each output flag's messages suggest.
EXAMPLE_NAMES = {"--html": "chart.html", "--png": "chart.png", "--out": "results.json"}
#: Suffixes a chart flag accepts: the file's name says what it holds (and ``--html`` and
#: ``--png`` can never name the same file).
SUFFIXES = {"--html": (".html", ".htm"), "--png": (".png",)}


def checked_output_path(path: Path | None, flag: str = "--html") -> Path | None:
    """``path`` unchanged when a file can be written there; None stays None.

    Called while the options are parsed, so a bad path fails in a second rather than after a
    long computation.

    Raises:
        InputError: the path is a directory, its folder does not exist or is not a folder, or
            the folder is not writable.
    """
    if path is None:
        return None
    target = path.expanduser()
    folder = target.parent
    if str(path).strip() in ("", "."):
        raise InputError(f"{flag} needs a file name, e.g. {EXAMPLE_NAMES.get(flag, 'out.txt')}.")
    if target.is_dir():
        example = target / EXAMPLE_NAMES.get(flag, "out.txt")
        raise InputError(f"{flag} {path} is a directory; give a file name, e.g. {example}.")
    allowed = SUFFIXES.get(flag)
    if allowed and target.suffix.lower() not in allowed:
        raise InputError(
            f"{flag} {path}: {flag} writes {flag[2:].upper()}; name the file "
            f"{target.with_suffix(allowed[0]).name} (a {allowed[0]} file)."
        )
    if not folder.exists():
        raise InputError(
            f"{flag} {path}: the folder {folder} does not exist; create it or choose another path."
        )
    if not folder.is_dir():
        raise InputError(f"{flag} {path}: {folder} is not a folder; choose another path.")
    if not os.access(folder, os.W_OK):
        raise InputError(f"{flag} {path}: the folder {folder} is not writable.")
    return target


def checked_html_path(path: Path | None) -> Path | None:
    """Typer callback of every ``--html`` option: :func:`checked_output_path`."""
    return checked_output_path(path, "--html")


def checked_png_path(path: Path | None) -> Path | None:
    """Typer callback of every ``--png`` option: :func:`checked_output_path`."""
    return checked_output_path(path, "--png")


def refuse_empty_input(path: Path, shown: str | None = None) -> None:
    """Refuse a usage file with no content (0 bytes, or only blank lines): 0 rows to read.

    Args:
        path: the file on disk.
        shown: how to name it (the upload's name in the REST service; default the path).

    Raises:
        InputError: the file is empty (an empty JSON Lines file read as "neither JSON Lines
            nor one JSON document").
    """
    if path.suffix.lower() == ".parquet" or not path.is_file():
        return  # Parquet has its own header; a missing path gets the reader's message
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            if chunk.strip():
                return
    raise InputError(
        f"{shown or path} is empty (0 rows): nothing to ingest; give a file with one usage "
        "record per line (JSON Lines), a JSON document or a CSV with a header."
    )
