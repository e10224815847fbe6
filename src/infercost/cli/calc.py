"""``infercost calc ...``: everyday cost arithmetic, one formula each (``cost/everyday.py``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from infercost.catalog.egress import egress_rates, get_egress_rate
from infercost.cli.bounds import checked, print_json
from infercost.cli.numbers import plain
from infercost.cost.api import api_price, request_usd
from infercost.cost.everyday import (
    api_cost_dict,
    egress_cost,
    prompt_change,
    token_cost,
    weights_bytes,
)
from infercost.errors import InputError
from infercost.report.text import usd_sig

calc_app = typer.Typer(
    no_args_is_help=True,
    help="Everyday cost arithmetic: $/token from $/hour, a request, a prompt change, "
    "moving weights, weight memory.",
)
_out = Console()

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ApiModelOpt = Annotated[str, typer.Option(help="API model whose price sheet to use.")]
ApiProviderOpt = Annotated[str | None, typer.Option(help="API provider for --api-model.")]


def register(app: typer.Typer) -> None:
    """Add the ``calc`` group to ``app``."""
    app.add_typer(calc_app, name="calc")


def _emit(data: dict[str, Any], as_json: bool) -> bool:
    checked(data)
    if as_json:
        print_json(data)
    return as_json


@calc_app.command("token-cost")
def token_cost_cmd(
    usd_per_hour: Annotated[float, typer.Option(help="$ per hour of the deployment.")],
    tok_s: Annotated[float, typer.Option(help="Tokens/s it serves at full load.")],
    utilization: Annotated[
        float, typer.Option(help="Share of the paid hours it serves at that rate, 0-1.")
    ] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """$/M tokens from $/hour and tokens/s: $/hour ÷ (tok/s x utilisation x 3600 ÷ 1e6)."""
    r = token_cost(usd_per_hour, tok_s, utilization)
    if _emit(r.to_dict(), as_json):
        return
    _out.print(
        f"${plain(float(r.usd_per_hour), 4)}/hour ÷ ({plain(r.tok_s)} tok/s x "
        f"{r.utilization:.0%} x "
        f"3600 ÷ 1e6) = [bold]{usd_sig(r.usd_per_m_tokens)} per million tokens[/bold] "
        + (
            f"({plain(r.tokens_per_usd, 3)} tokens per $)"
            if r.tokens_per_usd is not None
            else "(the hour is free)"
        ),
        highlight=False,
    )


@calc_app.command("request")
def request_cmd(
    api_model: ApiModelOpt,
    input_tokens: Annotated[int, typer.Option("--input", help="Uncached prompt tokens.")],
    output_tokens: Annotated[int, typer.Option("--output", help="Output tokens.")],
    cached_input: Annotated[int, typer.Option(help="Prompt tokens read from the cache.")] = 0,
    cache_write: Annotated[int, typer.Option(help="Prompt tokens written to the cache.")] = 0,
    api_provider: ApiProviderOpt = None,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch",
            help="Batch API: its discount off input and output, and the provider's batch rule "
            "for cache reads and writes.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The cost of one request on an API model: input, cached, cache-write and output tokens."""
    counts = {"--input": input_tokens, "--output": output_tokens,
              "--cached-input": cached_input, "--cache-write": cache_write}  # fmt: skip
    for flag, count in counts.items():
        if count < 0:
            raise InputError(f"{flag} must be a number of tokens >= 0, got {count}.")
    price = api_price(api_model, api_provider)
    cost = request_usd(
        price, input_tokens, output_tokens, cached_input_tokens=cached_input,
        cache_write_tokens=cache_write, batch=batch,
    )  # fmt: skip
    data = {
        "provider": price.provider,
        "model": price.model,
        "as_of": price.as_of.isoformat(),
        "source": price.source,
        **api_cost_dict(cost),
    }
    multipliers = price.batch_multipliers() if batch else None
    if multipliers is not None:
        data["batch_multipliers"] = {
            "input_output": float(multipliers[0]),
            "cached_input": float(multipliers[1]),
            "cache_write": float(multipliers[2]),
        }
        data["batch_cache_source"] = price.batch_cache_source
    if _emit(data, as_json):
        return
    t = Table(title=f"{price.provider} {price.model} (prices as of {price.as_of})")
    for col in ("tokens", "count", "US$"):
        t.add_column(col, justify="right" if col != "tokens" else "left")
    t.add_row("input", f"{input_tokens:,}", usd_sig(cost.input_usd))
    t.add_row("cached input", f"{cached_input:,}", usd_sig(cost.cached_input_usd))
    t.add_row("cache write", f"{cache_write:,}", usd_sig(cost.cache_write_usd))
    t.add_row("output", f"{output_tokens:,}", usd_sig(cost.output_usd))
    t.add_row("[bold]total[/bold]", "", f"[bold]{usd_sig(cost.total_usd)}[/bold]")
    _out.print(t)
    if cost.tier_above_input_tokens is not None:
        _out.print(f"long-context tier: prompt above {cost.tier_above_input_tokens:,} tokens")
    if multipliers is not None:
        _out.print(f"batch: {price.batch_text()}", markup=False, highlight=False)
    _out.print(f"source: {price.source}", markup=False, highlight=False)


@calc_app.command("prompt-change")
def prompt_change_cmd(
    api_model: ApiModelOpt,
    from_tokens: Annotated[int, typer.Option(help="Prompt tokens per request today.")],
    to_tokens: Annotated[int, typer.Option(help="Prompt tokens per request after the change.")],
    requests_per_day: Annotated[float, typer.Option(help="Requests per day.")],
    cached_share: Annotated[
        float, typer.Option(help="Share of the prompt read from the cache, 0-1.")
    ] = 0.0,
    api_provider: ApiProviderOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What a longer (or shorter) prompt costs per request, day and month."""
    price = api_price(api_model, api_provider)
    r = prompt_change(price, from_tokens, to_tokens, requests_per_day, cached_share)
    data = {"provider": price.provider, "model": price.model, "as_of": price.as_of.isoformat(),
            **r.to_dict()}  # fmt: skip
    if _emit(data, as_json):
        return
    _out.print(
        f"{price.provider} {price.model} (as of {price.as_of}): prompt {from_tokens:,} -> "
        f"{to_tokens:,} tokens ({cached_share:.0%} cached) at {plain(requests_per_day)} "
        f"requests/day",
        highlight=False,
    )
    _out.print(
        f"per request {usd_sig(r.before.total_usd)} -> {usd_sig(r.after.total_usd)} "
        f"([bold]{usd_sig(r.usd_per_request)}[/bold]); per day [bold]"
        f"{usd_sig(r.usd_per_day)}[/bold]; per month (30.42 days) [bold]"
        f"{usd_sig(r.usd_per_month)}[/bold]",
        highlight=False,
    )


@calc_app.command("egress")
def egress_cmd(
    provider: Annotated[
        str | None, typer.Option(help="aws, gcp or azure (default: every one).")
    ] = None,
    gb: Annotated[float | None, typer.Option(help="GB (1e9 bytes) to move out.")] = None,
    model: Annotated[str | None, typer.Option(help="Move this model's weights.")] = None,
    weight_dtype: Annotated[
        str | None, typer.Option(help="Dtype the weights are stored in (default: checkpoint).")
    ] = None,
    free_allowance: Annotated[
        bool, typer.Option("--free-allowance", help="Deduct the month's free egress.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Data egress of moving weights (or any GB) out of a cloud, by provider, dated."""
    if gb is None and model is None:
        raise InputError("Give --gb (GB to move) or --model (move that model's weights).")
    if gb is not None and model is not None:
        raise InputError("Give --gb or --model (the weights to move), not both.")
    if model is not None:
        model_id, dtype, size = weights_bytes(model, weight_dtype)
        gb = size / 1e9
        what = f"{model_id} weights in {dtype}: {gb:,.1f} GB"
    elif weight_dtype is not None:
        raise InputError("--weight-dtype needs --model.")
    else:
        assert gb is not None
        what = f"{plain(gb)} GB"
    rates = [get_egress_rate(provider)] if provider else list(egress_rates().values())
    rows = [egress_cost(r, gb, use_free_allowance=free_allowance) for r in rates]
    if _emit({"what": what, "gb": gb, "providers": [r.to_dict() for r in rows]}, as_json):
        return
    t = Table(title=f"Egress of {what}")
    for col in ("provider", "$/GB", "US$", "tier", "as of"):
        t.add_column(col, justify="right" if col in ("$/GB", "US$") else "left")
    for r in rows:
        t.add_row(r.provider, f"${plain(float(r.usd_per_gb), 4)}", usd_sig(r.usd), r.tier, r.as_of)
    _out.print(t)
    for r in rows:
        if r.beyond_snapshot_gb > 0:
            _out.print(
                f"{r.provider}: {r.beyond_snapshot_gb:,.0f} GB lie past the last volume band "
                "in the snapshot and are priced at its rate "
                f"(${plain(float(r.bands[-1][2]), 4)}/GB); the "
                "provider's lower rates beyond it would make this less.",
                markup=False, highlight=False,
            )  # fmt: skip
    if not free_allowance and any(usd == 0 for rate in rates for _, usd in rate.tiers):
        _out.print(
            "note: the month's free allowance (the $0 band) is not deducted: it covers a "
            "month's egress, and other transfers may already use it; --free-allowance deducts it.",
            markup=False, highlight=False,
        )  # fmt: skip
    for rate in rates:
        _out.print(f"{rate.id}: {rate.source}", markup=False, highlight=False)


@calc_app.command("weights")
def weights_cmd(
    model: Annotated[str, typer.Option(help="HF id, catalog id or common spelling.")],
    weight_dtype: Annotated[
        list[str] | None,
        typer.Option(help="Dtypes to size (repeatable; default bf16, fp8, nvfp4 and fp32)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Memory of a model's weights per storage dtype (fp32 included): params x bits ÷ 8."""
    dtypes = weight_dtype or ["fp32", "bf16", "fp8", "nvfp4"]
    rows = [weights_bytes(model, d) for d in dtypes]
    data = {
        "model": rows[0][0],
        "weights": [{"weight_dtype": d, "bytes": b, "gb": b / 1e9} for _, d, b in rows],
    }
    if _emit(data, as_json):
        return
    t = Table(title=f"{rows[0][0]}: weight memory")
    t.add_column("dtype")
    t.add_column("GB (1e9 bytes)", justify="right")
    t.add_column("GiB", justify="right")
    for _, d, b in rows:
        t.add_row(d, f"{b / 1e9:,.1f}", f"{b / 2**30:,.1f}")
    _out.print(t)
