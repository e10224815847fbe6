"""Langfuse trace exports: real trace downloads from langfuse/langfuse (see
fixtures/README.md) read with hand-derived figures, and hand-written edge cases."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from infercost.usage.ingest import detect_format, ingest
from infercost.usage.ledger import Ledger

FIXTURES = Path(__file__).parent / "fixtures"
LANGGRAPH = FIXTURES / "langfuse_langgraph_js.trace.json"
GEMINI = FIXTURES / "langfuse_google_gemini.trace.json"
AUTOGEN = FIXTURES / "langfuse_autogen.trace.json"

COLS = (
    "row_key, ts, provider, model, requests, input_tokens, cached_input_tokens, "
    "cache_write_tokens, output_tokens, reasoning_tokens, service_tier, latency_s, status, "
    "team, app, user, api_key, tags, reported_usd, source_format, source_line"
)


def rows(ledger: Ledger) -> dict[str, tuple[Any, ...]]:
    got = ledger.raw.execute(f"SELECT {COLS} FROM requests").fetchall()
    return {r[0]: r[1:] for r in got}


def reasons(ledger: Ledger) -> list[str]:
    got = ledger.raw.execute("SELECT reason FROM quarantine ORDER BY reason").fetchall()
    return [r[0] for r in got]


@pytest.mark.parametrize("path", [LANGGRAPH, GEMINI, AUTOGEN])
def test_real_files_detected(path: Path) -> None:
    assert detect_format(path) == "langfuse"


def test_langgraph_js_gpt5_mini(ledger: Ledger) -> None:
    res = ingest(ledger, [LANGGRAPH])
    # 20 observations: 2 GENERATION (ChatOpenAI) and 18 SPAN (LangGraph nodes): the spans
    # are not requests, skipped and counted apart from read (not in the --json contract's
    # keys: the CLI says it on stderr)
    assert res.to_dict() == {"read": 2, "ingested": 2, "quarantined": 0, "duplicates": 0,
                             "ledger": str(ledger.path)}  # fmt: skip
    assert res.skipped == 18
    assert res.skipped_note() == (
        "18 records were not requests (Langfuse spans, events, tools, agents): skipped, not read"
    )
    assert res.files[0]["format"] == "langfuse" and res.files[0]["skipped"] == 18
    got = rows(ledger)
    trace = "2c1581dd9cecdafb6ca091b83d7ea99a"
    # observation 0856a1825ccee968: usageDetails input 179, input_audio 0,
    # input_cache_read 0 -> prompt 179, cached 0; output 35 + output_audio 0 +
    # output_reasoning 64 = 99 generated, 64 of them reasoning; total 278 = 179 + 99.
    # startTime 08:45:43.214Z, endTime 08:45:46.444Z -> 3.23 s; costDetails.total 0.00024275
    assert got[f"langfuse:{trace}:0856a1825ccee968"] == (
        datetime(2025, 10, 30, 8, 45, 43, 214000), "openai", "gpt-5-mini-2025-08-07", 1,
        179, 0, 0, 99, 64, "standard", pytest.approx(3.23), "ok",
        None, None, None, None, None, Decimal("0.00024275"), "langfuse", 1,
    )  # fmt: skip
    # observation 8f0ee27d91863fde: input 142, output 24, reasoning 0, total 166 = 142 + 24;
    # 08:45:41.372Z -> 08:45:43.194Z = 1.822 s; costDetails.total 8.35e-05
    assert got[f"langfuse:{trace}:8f0ee27d91863fde"] == (
        datetime(2025, 10, 30, 8, 45, 41, 372000), "openai", "gpt-5-mini-2025-08-07", 1,
        142, 0, 0, 24, 0, "standard", pytest.approx(1.822), "ok",
        None, None, None, None, None, Decimal("0.0000835"), "langfuse", 1,
    )  # fmt: skip
    # the trace has no userId, sessionId or tags: nothing to attribute
    again = ingest(ledger, [LANGGRAPH])
    assert (again.read, again.ingested, again.duplicates, again.skipped) == (2, 0, 2, 18)


def test_google_gemini_reasoning_inside_output(ledger: Ledger) -> None:
    res = ingest(ledger, [GEMINI])
    # one observation, a GENERATION: nothing skipped
    assert res.to_dict() == {"read": 1, "ingested": 1, "quarantined": 0, "duplicates": 0,
                             "ledger": str(ledger.path)}  # fmt: skip
    # usageDetails {total 2061, input 6, completion_details.reasoning 1104, output 2055}:
    # 6 + 2055 = 2061 = total, so the 1104 reasoning tokens are inside output's 2055
    # (Langfuse's OpenTelemetry mapping), not beside it. 13:22:00.147Z -> 13:22:12.179Z
    # = 12.032 s; gemini-* -> google; costDetails.total 0.005139299999
    assert rows(ledger) == {
        "langfuse:9f2f0fe0228fd81a9fe75882934b384a:b7a63ca7e1d083bc": (
            datetime(2025, 8, 1, 13, 22, 0, 147000), "google", "gemini-2.5-flash", 1,
            6, 0, 0, 2055, 1104, "standard", pytest.approx(12.032), "ok",
            None, None, None, None, None, Decimal("0.005139299999"), "langfuse", 1,
        )
    }  # fmt: skip


def test_autogen_trace_attribution(ledger: Ledger) -> None:
    res = ingest(ledger, [AUTOGEN])
    # a SPAN (autogen-chat-trace, usageDetails {}) skipped; one GENERATION
    assert (res.read, res.ingested, res.quarantined, res.skipped) == (1, 1, 0, 1)
    # GENERATION 83517f9062f5ada4 "chat gpt-4o": input 41, output 3, total 44 = 41 + 3;
    # 11:31:33.978Z -> 11:31:34.606Z = 0.628 s; modelParameters.service_tier "auto" ->
    # standard; trace userId user_123 -> user; tags [autogen, dev] and sessionId
    # session_abc -> tags; costDetails.total 2.5e-05
    tags = json.dumps({"autogen": "true", "dev": "true", "session_id": "session_abc"})
    assert rows(ledger) == {
        "langfuse:1b72c51fabed12ae7df83bfd4a09f545:83517f9062f5ada4": (
            datetime(2025, 6, 6, 11, 31, 33, 978000), "openai", "gpt-4o", 1,
            41, 0, 0, 3, 0, "standard", pytest.approx(0.628), "ok",
            None, None, "user_123", None, tags, Decimal("0.000025"), "langfuse", 1,
        )
    }  # fmt: skip


def _gen(oid: str, **over: Any) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "id": oid, "traceId": "t1", "type": "GENERATION", "model": "gpt-4o",
        "startTime": "2025-08-05T10:00:00.000Z", "endTime": "2025-08-05T10:00:02.500Z",
        "usageDetails": {"input": 10, "output": 5, "total": 15}, "level": "DEFAULT",
    }  # fmt: skip
    obs.update(over)
    return obs


def _write(tmp_path: Path, doc: Any, name: str = "trace.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def test_usage_type_conventions(ledger: Ledger, tmp_path: Path) -> None:
    trace = {"id": "t1", "userId": "u9", "metadata": json.dumps({"team": "search", "app": "bot"})}
    doc = {"trace": trace, "observations": [
        # Langfuse's own types are disjoint parts: 30 + 70 cached = 100 prompt; 5 + 15
        # reasoning = 20 output; total 120 = their sum
        _gen("native", usageDetails={"input": 30, "input_cached_tokens": 70, "output": 5,
                                     "output_reasoning_tokens": 15, "total": 120}),
        # Anthropic-style names: input 10 + cache read 40 + cache creation 50 = 100
        _gen("anthropic", model="claude-sonnet-4-5-20250929",
             usageDetails={"input": 10, "cache_read_input_tokens": 40,
                           "input_cache_creation": 50, "output": 7, "total": 107}),
        # other types counted in total beside input/output: added (100 + 20, 50 + 10)
        _gen("beside", usageDetails={"input": 100, "output": 50, "prompt_details.cache_read": 20,
                                     "completion_details.reasoning": 10, "total": 180}),
        # the deprecated usage object when usageDetails is empty
        _gen("legacy", usageDetails={}, usage={"input": 8, "output": 2, "total": 10,
                                               "unit": "TOKENS"}),
        {"id": "s1", "traceId": "t1", "type": "SPAN", "usageDetails": {}},
        {"id": "e1", "traceId": "t1", "type": "EVENT"},
    ]}  # fmt: skip
    res = ingest(ledger, [_write(tmp_path, doc)], "langfuse")
    assert (res.read, res.ingested, res.quarantined, res.skipped) == (4, 4, 0, 2)
    got = {k: v[4:9] for k, v in rows(ledger).items()}
    assert got == {
        "langfuse:t1:native": (100, 70, 0, 20, 15),
        "langfuse:t1:anthropic": (100, 40, 50, 7, 0),
        "langfuse:t1:beside": (120, 20, 0, 60, 10),
        "langfuse:t1:legacy": (8, 0, 0, 2, 0),
    }
    people = ledger.raw.execute("SELECT DISTINCT team, app, user FROM requests").fetchall()
    assert people == [("search", "bot", "u9")]


def test_broken_generations_quarantined(ledger: Ledger, tmp_path: Path) -> None:
    doc = {"trace": {"id": "t1"}, "observations": [
        _gen("nousage", usageDetails={}),
        _gen("negative", usageDetails={"input": -5, "output": 3}),
        _gen("nomodel", model=None),
        _gen("badtime", startTime="yesterday"),
        # prompt_details.cache_read inside input (total = input + output) but larger than it
        _gen("cached", usageDetails={"input": 10, "output": 5, "prompt_details.cache_read": 50,
                                     "total": 15}),
        # Vertex AI style: total counts 1173 tokens of no usage type
        _gen("unexplained", usageDetails={"input": 5, "output": 845, "total": 2023}),
        _gen("ok"),
    ]}  # fmt: skip
    res = ingest(ledger, [_write(tmp_path, doc)], "langfuse")
    assert (res.read, res.ingested, res.quarantined, res.skipped) == (7, 1, 6, 0)
    assert reasons(ledger) == sorted([
        "generation nousage has no usage (usageDetails empty)",
        "usageDetails.input is -5, a negative number of tokens",
        "generation nomodel has no model",
        "startTime 'yesterday' is not ISO 8601 or Unix seconds",
        "cache reads (50) + writes (0) exceed input tokens (10)",
        "usageDetails total 2023 is not input + output (850): 1173 tokens of no usage type "
        "(unreported reasoning?)",
    ])  # fmt: skip


def test_unknown_layout_quarantined(ledger: Ledger, tmp_path: Path) -> None:
    path = _write(tmp_path, {"id": "x", "name": "not a trace"})
    res = ingest(ledger, [path], "langfuse")
    assert (res.read, res.ingested, res.quarantined) == (1, 0, 1)
    assert reasons(ledger)[0].startswith("not a Langfuse export")


def test_observations_page_and_jsonl_detected(ledger: Ledger, tmp_path: Path) -> None:
    page = _write(tmp_path, {"data": [_gen("p1"), _gen("p2", type="SPAN")],
                             "meta": {"page": 1}}, "page.json")  # fmt: skip
    lines = tmp_path / "obs.jsonl"
    lines.write_text("\n".join(json.dumps(_gen(f"l{i}")) for i in range(3)) + "\n")
    assert detect_format(page) == "langfuse"
    assert detect_format(lines) == "langfuse"
    res = ingest(ledger, [page, lines])
    assert (res.read, res.ingested, res.skipped) == (4, 4, 1)
    got = ledger.raw.execute("SELECT row_key, source_line FROM requests ORDER BY 1").fetchall()
    assert got == [("langfuse:t1:l0", 1), ("langfuse:t1:l1", 2), ("langfuse:t1:l2", 3),
                   ("langfuse:t1:p1", 1)]  # fmt: skip
