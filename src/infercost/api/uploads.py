"""Uploaded files: read within the service's size limit, written under names the service
chooses in a private temporary folder, and named in answers by their client-side names."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import UploadFile

from infercost.api.schema import LIMITS
from infercost.errors import InfercostError, InputError


class TooLarge(InputError):
    """An upload over the size limit (answered with 413)."""


def display_name(upload: UploadFile, index: int) -> str:
    """The client-side file name, reduced to safe characters (for messages)."""
    name = Path(upload.filename or "").name
    return re.sub(r"[^A-Za-z0-9._ -]", "_", name)[:100] or f"upload-{index + 1}"


async def save_uploads(
    uploads: list[UploadFile], folder: Path, *, keep_suffix: bool = False
) -> list[tuple[Path, str]]:
    """Write each upload to ``folder/upload-<n>`` (plus the client name's suffix with
    ``keep_suffix``, for readers that detect a format from it); returns (path, client name)
    pairs.

    Raises:
        TooLarge: a file over ``Limits.max_upload_bytes``.
        InputError: no file, or more than ``Limits.max_uploads``.
    """
    if not uploads:
        raise InputError("Upload at least one result file (form field 'file').")
    if len(uploads) > LIMITS.max_uploads:
        raise InputError(f"At most {LIMITS.max_uploads} files per request, got {len(uploads)}.")
    saved = []
    for i, up in enumerate(uploads):
        data = await up.read(LIMITS.max_upload_bytes + 1)
        name = display_name(up, i)
        if len(data) > LIMITS.max_upload_bytes:
            raise TooLarge(
                f"{name} is larger than the service's upload limit of "
                f"{LIMITS.max_upload_bytes:,} bytes."
            )
        suffix = Path(name).suffix.lower() if keep_suffix else ""
        path = folder / f"upload-{i + 1}{suffix}"
        path.write_bytes(data)
        saved.append((path, name))
    return saved


def renamed(err: InfercostError, saved: list[tuple[Path, str]]) -> InfercostError:
    """The same error with temporary paths replaced by the uploads' names."""
    text = str(err)
    for path, name in saved:
        text = text.replace(str(path), name)
    return err if text == str(err) else InputError(text)
