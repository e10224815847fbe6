"""``infercost serve`` refuses bad startup options with one line (exit 1, or click's usage
error, exit 2), never a traceback or uvicorn's multi-line bind error. Nothing is served:
the checks run before uvicorn, and the one valid call has uvicorn.run replaced."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import uvicorn

from infercost.cli import main


def _serve(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", *args])
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "-1"], "error: --port must be in [0, 65535], got -1.\n"),
        (["--port", "70000"], "error: --port must be in [0, 65535], got 70000.\n"),
        (["--workers", "0"], "error: --workers must be in [1, 64], got 0.\n"),
        (["--workers", "65"], "error: --workers must be in [1, 64], got 65.\n"),
        (["--timeout-s", "nan"], "error: --timeout-s must be in (0, 3600] seconds, got nan.\n"),
        (
            ["--log-level", "loud"],
            "error: --log-level 'loud' is not one of critical, error, "
            "warning, info, debug, trace.\n",
        ),
        (
            ["--host", "not a host", "--token", "t"],
            "error: --host 'not a host' is not an address to serve on (",
        ),
        (
            ["--host", "999.1.1.1", "--token", "t"],
            "error: --host '999.1.1.1' is not an address to serve on (",
        ),
        (["--host", "a" * 3000, "--token", "t"], "error: --host '" + "a" * 100 + "...' is not"),
        (["--host", "0.0.0.0"], "error: Refusing to serve on '0.0.0.0' without a token"),
    ],
)
def test_bad_values_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, err = _serve(capsys, *args)
    assert code == 1
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("port", ["abc", "1.5", ""])
def test_a_port_that_is_not_a_number_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], port: str
) -> None:
    code, err = _serve(capsys, "--port", port)
    assert code == 2 and "Invalid value for '--port'" in err and "Traceback" not in err


def test_a_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = _serve(capsys, "--port", str(port))
    assert code == 1
    assert err.startswith(f"error: Cannot serve on 127.0.0.1:{port} (")
    assert "give another --port (0: any free port) or --host." in err
    assert err.count("\n") == 1


def test_valid_options_reach_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    try:
        main(["serve", "--host", "127.0.0.1", "--port", "0", "--workers", "2"])
    except SystemExit as done:
        assert done.code in (0, None)
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 0)
