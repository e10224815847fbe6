"""Crash-safe writes: the target is the old file or the whole new one, never a fragment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infercost.errors import InputError
from infercost.fileio import atomic_writer, write_atomic


def test_write_atomic_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "out.html"
    target.write_text("old")
    write_atomic(target, "new content")
    assert target.read_text() == "new content"
    assert [p.name for p in tmp_path.iterdir()] == ["out.html"]  # no temp file left


def test_failure_inside_block_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "profile.toml"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["profile.toml"]


def test_missing_folder_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        write_atomic(tmp_path / "nope" / "x.txt", "x")


def test_kill_9_mid_write_leaves_old_file(tmp_path: Path) -> None:
    """A writer killed while streaming 50 MB leaves the old 3-byte file, not a fragment."""
    target = tmp_path / "big.html"
    target.write_text("old")
    code = (
        "import sys, time\n"
        "from infercost.fileio import atomic_writer\n"
        f"with atomic_writer({str(target)!r}) as fh:\n"
        "    print('started', flush=True)\n"
        "    for _ in range(50_000):\n"
        "        fh.write('x' * 1000)\n"
        "        time.sleep(0.0001)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"started"
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert target.read_text() == "old"


def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path: Path) -> None:
    """mkstemp creates 0o600; the written file must be readable as a plain open() would make
    it: 0o666 less the umask (0o022 here -> 0o644)."""
    import stat

    old = os.umask(0o022)
    try:
        out = write_atomic(tmp_path / "chart.html", "<html></html>")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    import stat

    target = tmp_path / "export.csv"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "new"


def test_reading_names_the_files_first_bad_byte_not_the_decoders(tmp_path: Path) -> None:
    # 4 header bytes + 500,000 rows of 4 bytes, then 0xFF: the first bad byte is at
    # 4 + 2,000,000 = 2,000,004, far past the decoder's buffer (whose own position was
    # printed before)
    from infercost.fileio import reading

    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 500_000 + b"\xff,3\n")
    with (
        pytest.raises(InputError, match=r"not UTF-8 text \(byte 2000004\)"),
        reading(path, "--fleet"),
        open(path, encoding="utf-8") as fh,
    ):
        fh.read()
