"""A result file no importer can read is one InputError naming the file (and the line where
the csv module stopped) and what to do, from the library itself: the CLI and the REST service
print it as is (issue 16 follow-up; before, the importers raised csv.Error, RecursionError or
ValueError and the callers wrapped them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infercost.api.app import create_app
from infercost.calibrate.importers import (
    CALIBRATION_CSV_COLUMNS,
    FORMATS,
    detect_format,
    import_file,
)
from infercost.cli import main
from infercost.errors import InputError

HEADER = ",".join(CALIBRATION_CSV_COLUMNS).encode()
AS_WRITTEN = "pass the result file as the benchmark tool wrote it"

#: name -> (content, the message after the path; "" when only a prefix is pinned)
FILES: dict[str, tuple[bytes, str]] = {
    # the csv module's field limit is 131,072 characters; the field is on line 2
    "field.csv": (
        HEADER + b"\n" + b"9" * 200_000 + b",x\n",
        f" (line 2): cannot be read as CSV (field larger than field limit (131072)); {AS_WRITTEN}",
    ),
    "header.csv": (
        b"9" * 200_000 + b",x\n",
        f" (line 1): cannot be read as CSV (field larger than field limit (131072)); {AS_WRITTEN}",
    ),
    "nested.json": (
        b"[" * 100_000 + b"]" * 100_000,
        f": JSON nested too deeply to read; {AS_WRITTEN}",
    ),
    "deep.jsonl": (
        b'{"a":' * 5_000 + b"1" + b"}" * 5_000 + b"\n",
        f": JSON nested too deeply to read; {AS_WRITTEN}",
    ),
}


@pytest.mark.parametrize("name", list(FILES))
@pytest.mark.parametrize("fmt", [None, *FORMATS])
def test_library_raises_input_error(tmp_path: Path, name: str, fmt: str | None) -> None:
    path = tmp_path / name
    path.write_bytes(FILES[name][0])
    with pytest.raises(InputError) as err:
        import_file(path, format=fmt or detect_format(path))  # type: ignore[arg-type]
    assert str(err.value).startswith(str(path)), err.value
    if fmt is None:
        assert str(err.value) == f"{path}{FILES[name][1]}"


def test_llama_bench_csv_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "lb.csv"
    path.write_bytes(b"n_prompt,n_gen,avg_ts\n512,0,100\n" + b"1" * 200_000 + b",0,1\n")
    with pytest.raises(InputError) as err:
        import_file(path, format="llama-bench")
    assert str(err.value).startswith(f"{path} (line 3): cannot be read as CSV (field larger")


def test_a_200000_digit_number_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_bytes(b"9" * 100_000 + b",x\n")
    for fmt in ("vllm", "sglang", "genai-perf", "guidellm"):
        with pytest.raises(InputError) as err:
            import_file(path, format=fmt)  # type: ignore[arg-type]
        assert str(err.value).startswith(str(path)) and AS_WRITTEN in str(err.value)


def test_cli_and_rest_print_the_library_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content, rest = FILES["field.csv"]
    path = tmp_path / "field.csv"
    path.write_bytes(content)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["calibrate", "import", str(path)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert f"{path}{rest}" in " ".join(err.split()) and "Traceback" not in err
    with TestClient(create_app()) as client:
        r = client.post("/api/calibrate/import", files={"file": ("field.csv", content)})
    assert r.status_code == 400
    assert r.json() == {"error": f"field.csv{rest}", "type": "InputError"}


def test_a_result_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    # '{"a": 1}\n' is 9 bytes; the 0xFF after it is byte 9 of the file
    from infercost.calibrate.importers import import_file

    path = tmp_path / "result.json"
    path.write_bytes(b'{"a": 1}\n\xff')
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 9\)"):
        import_file(path)
