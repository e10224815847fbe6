"""The columnar JSON Lines path (DuckDB SQL, :func:`infercost.usage.formats.jsonl_select`)
against the Python converters: the same ledger, row for row, reason for reason.

Every fixture of the openai, anthropic and vllm formats and a 3,000 generated records
with awkward values (numbers as strings, fractions, booleans, nulls, wrapped bodies, metadata
with other keys, ms/µs/ns times, ISO strings that only one reader would accept, ...) are
ingested twice: as usual, and with the columnar path switched off. The generated records
also check that the columnar path really converts the common shapes (it could be "right" by
sending everything to Python).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from infercost.usage import formats as F
from infercost.usage.ingest import ingest
from infercost.usage.ledger import Ledger

FIXTURES = Path(__file__).parent / "fixtures"

TABLES = {
    "requests": "SELECT * EXCLUDE (source_file) FROM requests ORDER BY row_key, source_line",
    "quarantine": "SELECT * EXCLUDE (source_file) FROM quarantine ORDER BY source_line, row_key",
}


def _ledger_rows(path: Path, src: Path, fmt: str, columnar: bool,
                 monkeypatch: pytest.MonkeyPatch, batch_rows: int) -> dict[str, Any]:  # fmt: skip
    with monkeypatch.context() as patch:
        if not columnar:
            patch.setattr(F, "COLUMNAR_FORMATS", ())
        with Ledger(path) as led:
            res = ingest(led, [src], fmt, batch_rows=batch_rows)
            out: dict[str, Any] = {k: led.raw.execute(q).fetchall() for k, q in TABLES.items()}
    out["counts"] = res.to_dict() | {"ledger": None}
    return out


def _same(tmp_path: Path, src: Path, fmt: str, monkeypatch: pytest.MonkeyPatch,
          batch_rows: int = 500_000) -> dict[str, Any]:  # fmt: skip
    fast = _ledger_rows(tmp_path / "fast.duckdb", src, fmt, True, monkeypatch, batch_rows)
    slow = _ledger_rows(tmp_path / "slow.duckdb", src, fmt, False, monkeypatch, batch_rows)
    assert fast["counts"] == slow["counts"]
    for name in TABLES:
        assert fast[name] == slow[name], name
    return fast


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("openai_chat.jsonl", "openai"),
        ("openai_stream.jsonl", "openai"),
        ("openai_responses.jsonl", "openai"),
        ("anthropic_messages.jsonl", "anthropic"),
        ("vllm_requests.jsonl", "vllm"),
    ],
)
def test_fixtures_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                        fmt: str) -> None:  # fmt: skip
    _same(tmp_path, FIXTURES / name, fmt, monkeypatch)


# --------------------------------------------------------------------------------------------
# generated records


def _count(rng: random.Random) -> Any:
    """A token count, usually plain, sometimes in a form only Python reads (or no one)."""
    n = rng.choice([0, 1, 7, 120, 4096, 150000])
    return rng.choices(
        [n, str(n), float(n), n + 0.5, -n - 1, None, True, " 12 ", "1e3", "007", [n], {"n": n},
         "many", 10**20],
        weights=[60, 4, 3, 2, 2, 3, 1, 1, 1, 1, 1, 1, 1, 1],
    )[0]  # fmt: skip


def _time(rng: random.Random) -> Any:
    s = rng.randrange(1_735_689_600, 1_767_225_600)
    return rng.choices(
        [s, s * 1000, s * 1_000_000 + rng.randrange(1000), s * 10**9 + 1, str(s), float(s),
         s + 0.25, 0, -5, True, "", "2025-08-01T10:00:00Z", "2025-08-01 10:00:00.5",
         "2025-08-01T10:00:00.123456+02:00", "2025-08-01T10:00:00-05:30", "2025-02-30T00:00:00",
         "2025-08-01T24:00:00", "2025-08-01", "0001-01-01T00:00:00", "2025-08-01T10:00:00+2400",
         "2025-08-01T10:00", "yesterday", None, 2**60],
        weights=[40, 5, 5, 2, 3, 2, 2, 2, 1, 1, 1, 4, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 3, 1],
    )[0]  # fmt: skip


def _text(rng: random.Random, common: list[str]) -> Any:
    return rng.choices(
        [rng.choice(common), "", None, 5, 2.5, True, False, {"a": 1}, ["x"], "0", "null",
         "Ünïcode ✓", "tab\there", "1e5", "-7", "NaN"],
        weights=[70, 3, 5, 2, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1],
    )[0]  # fmt: skip


def _metadata(rng: random.Random) -> Any:
    kind = rng.choices(["plain", "extra", "odd", "none", "notobj"], weights=[50, 20, 10, 15, 5])[0]
    if kind == "none":
        return None
    if kind == "notobj":
        return rng.choice(["team-x", 5, [1, 2], None])
    meta: dict[str, Any] = {}
    for key in rng.sample(["team", "app", "user", "api_key"], rng.randrange(0, 5)):
        meta[key] = rng.choice(["search", "support", "legal", "qa-bot", "user-001", "key-1"])
    if kind == "extra":
        for key in rng.sample(
            ["env", "region", "cost_center", "zeta", "a b"], rng.randrange(1, 3)
        ):
            meta[key] = rng.choice(["prod", "eu", 42, 1.5, True, None, 'x"y', "é"])
    if kind == "odd":
        meta[rng.choice(["team", "user"])] = rng.choice([7, None, "", True, 2.5, ["a"]])
    return meta


def _usage_openai(rng: random.Random) -> dict[str, Any]:
    style = rng.choices(["chat", "responses", "mixed", "nullchat"], weights=[70, 20, 3, 3])[0]
    usage: dict[str, Any] = {}
    if style in ("chat", "mixed"):
        usage["prompt_tokens"] = _count(rng)
        usage["completion_tokens"] = _count(rng)
        if rng.random() < 0.8:
            usage["prompt_tokens_details"] = rng.choice(
                [{"cached_tokens": _count(rng)}, {"cached_tokens": _count(rng),
                 "cache_write_tokens": _count(rng)}, {}, None, "n/a"]
            )  # fmt: skip
        if rng.random() < 0.7:
            usage["completion_tokens_details"] = {"reasoning_tokens": _count(rng)}
    if style in ("responses", "mixed"):
        usage["input_tokens"] = _count(rng)
        usage["output_tokens"] = _count(rng)
        if rng.random() < 0.8:
            usage["input_tokens_details"] = {"cached_tokens": _count(rng)}
        if rng.random() < 0.5:
            usage["output_tokens_details"] = {"reasoning_tokens": _count(rng)}
    if style == "nullchat":
        usage = {"prompt_tokens": None, "input_tokens": _count(rng), "output_tokens": _count(rng)}
    if rng.random() < 0.1:
        usage["cache_write_tokens"] = _count(rng)
    return usage


def _openai_body(rng: random.Random, i: int, provider: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": rng.choices(
            [f"chatcmpl-{i}", f"resp_{i % 50}", None, "", i, f"dup-{i % 7}"],
            weights=[80, 3, 5, 2, 2, 3],
        )[0],
        "object": rng.choices(
            ["chat.completion", "response", "chat.completion.chunk"], weights=[85, 12, 3]
        )[0],
        "created": _time(rng),
        "model": _text(rng, ["gpt-4o-mini", "gpt-4o", "o3-mini", "gpt-7-imaginary"]),
        "usage": _usage_openai(rng) if rng.random() < 0.97 else rng.choice([None, "x"]),
    }
    if rng.random() < 0.3:
        body["service_tier"] = _text(rng, ["default", "flex", "priority", "auto", " Batch "])
    if rng.random() < 0.1:
        body["status"] = _text(rng, ["completed", "incomplete"])
    if provider != "openai" and rng.random() < 0.5:
        body["created_at"] = _time(rng)
    return body


def _record(rng: random.Random, fmt: str, i: int) -> Any:
    if fmt == "anthropic":
        usage: dict[str, Any] = {
            "input_tokens": _count(rng), "output_tokens": _count(rng),
            "cache_read_input_tokens": _count(rng),
        }  # fmt: skip
        if rng.random() < 0.8:
            usage["cache_creation_input_tokens"] = _count(rng)
        if rng.random() < 0.3:
            usage["cache_creation"] = {"ephemeral_5m_input_tokens": _count(rng),
                                       "ephemeral_1h_input_tokens": 0}  # fmt: skip
        if rng.random() < 0.3:
            usage["service_tier"] = _text(rng, ["standard", "batch", "priority"])
        body: dict[str, Any] = {
            "id": rng.choice([f"msg_{i}", None, f"msg_dup{i % 9}"]), "type": "message",
            "model": _text(rng, ["claude-sonnet-4-5", "claude-x-imaginary"]), "usage": usage,
        }  # fmt: skip
    else:
        body = _openai_body(rng, i, fmt)
    obj: dict[str, Any]
    wrap = rng.choices([None, "response", "body", "message"], weights=[70, 15, 5, 10])[0]
    if wrap is None:
        obj = body
    else:
        obj = {wrap: body}
        if rng.random() < 0.8:
            obj["timestamp"] = _time(rng)
    if fmt == "anthropic" and wrap is None and rng.random() < 0.7:
        obj["timestamp"] = _time(rng)
    if rng.random() < 0.8:
        obj["metadata"] = _metadata(rng)
    for key in ("team", "app", "user", "api_key"):
        if rng.random() < 0.1:
            obj[key] = _text(rng, ["research", "summarizer", "ana", "key-9"])
    if rng.random() < 0.05:
        obj["tags"] = rng.choice([["nightly"], {"k": "v"}, [], "x", 5])
    if rng.random() < 0.1:
        obj["batch"] = rng.choice([True, False, "true", "TRUE", "no", 1])
    if rng.random() < 0.1:
        obj["latency_s"] = rng.choice([1.5, 2, "3.5", "fast", True, None, "", 1e-3])
    if rng.random() < 0.05:
        obj["provider"] = _text(rng, ["openai", "azure"])
    if rng.random() < 0.05:
        obj["status"] = _text(rng, ["ok", "error"])
    if fmt == "vllm":
        if rng.random() < 0.6:
            obj["deployment"] = _text(rng, ["llama-3.1-8b", "house-llm"])
        if rng.random() < 0.3:
            obj = {k: v for k, v in obj.items() if k not in ("response", "body", "message")}
            obj["model"] = _text(rng, ["llama-3.1-8b", "house-llm"])
            obj["meta_info"] = rng.choice([
                {"id": f"sg-{i}", "prompt_tokens": _count(rng),
                 "completion_tokens": _count(rng), "cached_tokens": _count(rng),
                 "e2e_latency": rng.choice([3.2, "1", None])},
                "broken", None,
            ])  # fmt: skip
            obj["timestamp"] = _time(rng)
    return obj


def _line(rng: random.Random, obj: Any) -> str:
    kind = rng.choices(["compact", "spaced", "ascii", "broken", "blank", "array"],
                       weights=[70, 15, 8, 3, 2, 2])[0]  # fmt: skip
    if kind == "broken":
        return json.dumps(obj)[: rng.randrange(1, 20)]
    if kind == "blank":
        return rng.choice(["", "   ", "\t"])
    if kind == "array":
        return json.dumps([obj])
    if kind == "spaced":
        return "  " + json.dumps(obj, ensure_ascii=False) + " \r"
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=kind == "ascii")


@pytest.mark.parametrize("fmt", ["openai", "anthropic", "vllm"])
def test_generated_records_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 fmt: str) -> None:  # fmt: skip
    rng = random.Random(f"columnar-{fmt}")
    src = tmp_path / f"{fmt}.jsonl"
    lines = [_line(rng, _record(rng, fmt, i)) for i in range(1000)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = _same(tmp_path, src, fmt, monkeypatch, batch_rows=10_000)
    assert got["counts"]["ingested"] > 20
    assert got["counts"]["quarantined"] > 50
    # in batches of 300 lines (wrapped bodies read lean, then again): the same ledger, but
    # for records without an id, numbered among identical records of their batch, and the
    # counts (a quarantined row can become a duplicate where a later batch stores its id)
    small = _ledger_rows(tmp_path / "small.duckdb", src, fmt, True, monkeypatch, 300)

    def ids(rows: list[Any]) -> list[Any]:
        return [r for r in rows if not r[0].startswith("h:")]

    assert ids(small["requests"]) == ids(got["requests"])
    assert ids(small["quarantine"]) == ids(got["quarantine"])
    assert small["counts"]["read"] == got["counts"]["read"]


@pytest.mark.parametrize("fmt", ["openai", "anthropic", "vllm"])
def test_common_records_are_converted_in_sql(fmt: str) -> None:
    """The shapes real logs have go through the SQL, not the Python fallback."""
    import duckdb
    import pyarrow as pa

    base: dict[str, Any]
    if fmt == "anthropic":
        base = {"timestamp": "2025-08-01T10:00:00Z", "metadata": {"team": "legal"},
                "response": {"id": "msg_1", "type": "message", "model": "claude-sonnet-4-5",
                             "usage": {"input_tokens": 10, "cache_read_input_tokens": 5,
                                       "cache_creation_input_tokens": 0,
                                       "output_tokens": 3}}}  # fmt: skip
    else:
        base = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1754038800,
                "model": "gpt-4o-mini", "service_tier": "default",
                "usage": {"prompt_tokens": 12, "completion_tokens": 3,
                          "prompt_tokens_details": {"cached_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0}},
                "metadata": {"team": "search", "user": "u1", "env": "prod"}}  # fmt: skip
    variants = [base, {"response": base, "timestamp": 1754038800123}]
    if fmt == "anthropic":  # the bare body, and a Claude Code transcript line
        variants = [base, {**base["response"], "timestamp": 1754038800},
                    {"type": "assistant", "timestamp": "2025-08-01T11:00:00.000Z",
                     "message": base["response"]}]  # fmt: skip
    if fmt == "vllm":
        meta = {"id": "sg-2", "prompt_tokens": 1000, "completion_tokens": 600,
                "cached_tokens": 0, "e2e_latency": 3.2}  # fmt: skip
        variants.append({"timestamp": "2025-08-01T12:00:05Z", "model": "llama-3.1-8b",
                         "deployment": "d1", "meta_info": meta})  # fmt: skip
    lines = [json.dumps(v) + "\n" for v in variants]
    con = duckdb.connect()
    con.register("_lines", pa.table({"ln": list(range(1, len(lines) + 1)), "line": lines}))
    for wrapped in (True, False):
        got = con.execute(f"SELECT _fast, _retry FROM ({F.jsonl_select(fmt, wrapped)})").fetchall()
        assert all(fast or (retry and not wrapped) for fast, retry in got), (wrapped, got)


def test_line_split_matches_the_python_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines, numbers and text as formats.jsonl_records reads them: blank lines, CR, invalid
    and cut UTF-8, long lines across small read blocks, no newline at the end; the blank
    lines each part records; a part's chosen lines read alone."""
    import pyarrow as pa
    import pyarrow.compute

    from infercost.usage import ingest as ingest_module

    rng = random.Random(1)
    pieces = [b'{"a":1}', b"", b"  ", b"\xff\xfe bad", b'{"x":"\xc3\xa9"}', b"\r",
              b'{"cut": "\xe2\x82', b"x" * 5000]  # fmt: skip
    src = tmp_path / "lines.jsonl"
    src.write_bytes(b"\n".join(rng.choice(pieces) for _ in range(3000)))
    monkeypatch.setattr(ingest_module, "READ_BYTES", 4096)
    got = []
    blank = []
    parts = tmp_path / "parts"
    parts.mkdir()
    for part in ingest_module._jsonl_parts(src, 777, parts):
        table = part.lines()
        got += zip(table["ln"].to_pylist(), [t.strip() for t in table["line"].to_pylist()],
                   strict=True)  # fmt: skip
        blank += part.blank.tolist()
        for step in (5, 100):  # many lines (the part read whole), a few (read alone)
            some = table["ln"].to_numpy()[::step]
            assert (
                part.lines(some).to_pylist()
                == table.filter(pa.compute.is_in(table["ln"], pa.array(some))).to_pylist()
            )
    assert [g for g in got if g[1]] == [(r.line, r.raw) for r in F.jsonl_records(src)]
    assert [n for n, text in got if not text.strip(" \t\r\x0b\x0c")] == blank
    assert not list(parts.iterdir())  # each part's file removed


def _fits(value: Any, kind: Any) -> bool:
    """``value`` goes into the struct ``kind`` (of :func:`formats.jsonl_columns`) without a
    type error: objects (or null) where the struct has an object."""
    if not isinstance(kind, dict):
        return True
    if value is None:
        return True
    if not isinstance(value, dict):
        return False
    return all(_fits(value.get(k), sub) for k, sub in kind.items())


def _object_line(rng: random.Random, obj: Any) -> str:
    """A line of one JSON object (or a blank line): what DuckDB's read_json reads."""
    kind = rng.choices(["compact", "spaced", "ascii", "blank"], weights=[75, 15, 8, 2])[0]
    if kind == "blank":
        return rng.choice(["", "   ", "\t"])
    if kind == "spaced":
        return "  " + json.dumps(obj, ensure_ascii=False) + " \r"
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=kind == "ascii")


@pytest.mark.parametrize("fmt", ["openai", "anthropic", "vllm"])
def test_read_json_batches_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 fmt: str) -> None:  # fmt: skip
    """Batches of JSON objects are read by DuckDB's read_json (its records matched to the
    lines that are not blank), the records that need their text converted again from their
    lines: the same ledger as the Python converters (a batch without blank lines numbers
    its records from its first line, one with blank lines skips them; the file's last line
    has no newline). One line that is not a JSON object sends its batch to the line reader
    alone."""
    from infercost.usage import ingest as ingest_module

    rng = random.Random(f"read-json-{fmt}")
    struct = json.loads(F._q_struct(fmt, wrapped=True))
    records = (_record(rng, fmt, i) for i in range(2000))
    lines = [_object_line(rng, r) for r in records if _fits(r, struct)][:1200]
    lines[:300] = [line for line in lines[:400] if line.strip()][:300]  # no blank line
    lines[700] = '{"id": "broken'
    src = tmp_path / f"{fmt}.jsonl"
    src.write_text("\n".join(lines), encoding="utf-8")  # the last line without a newline
    taken: list[bool] = []
    real = ingest_module._read_part

    def spy(store: Any, part: Any, state: Any) -> bool:
        taken.append(real(store, part, state))
        return taken[-1]

    monkeypatch.setattr(ingest_module, "_read_part", spy)
    monkeypatch.setattr(ingest_module, "REDO_SHARE", 1.0)  # awkward records are common here
    got = _same(tmp_path, src, fmt, monkeypatch, batch_rows=300)
    assert taken == [True, True, False, True]  # the third batch holds the broken line
    assert got["counts"]["ingested"] > 20
    assert got["counts"]["quarantined"] > 50
