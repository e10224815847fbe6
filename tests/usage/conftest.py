"""Shared helpers of the usage-ledger tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infercost.usage.ledger import Ledger
from infercost.usage.prices import PriceBook

FIXTURES = Path(__file__).parent / "fixtures"

# An invented model whose price changed on 2025-08-15: input $1 -> $2 per M, output $4 -> $8;
# cached input $0.10 -> $0.20; cache write $1.25; batch discount 50 %; above 100,000 prompt
# tokens the whole request costs $3 in / $12 out / $0.30 cached (from 2025-01-01).
# acme-2, a cheaper model: $0.50 in / $2 out / $0.05 cached, batch discount 50 %.
PRICES_CSV = """\
provider,model,usd_per_m_input,usd_per_m_output,usd_per_m_cached_input,usd_per_m_cache_write,batch_discount,context_tiers,as_of,source,notes
Acme,acme-1,1.00,4.00,0.10,1.25,0.5,100000:3.00:12.00:0.30,2025-01-01,test sheet,
Acme,acme-1,2.00,8.00,0.20,1.25,0.5,100000:3.00:12.00:0.30,2025-08-15,test sheet,
Acme,acme-2,0.50,2.00,0.05,,0.5,,2025-01-01,test sheet,
"""


@pytest.fixture
def price_dir(tmp_path: Path) -> tuple[str, ...]:
    """A user catalog folder holding the acme-1 price sheets."""
    folder = tmp_path / "catalog"
    (folder / "api_prices").mkdir(parents=True)
    (folder / "api_prices" / "acme.csv").write_text(PRICES_CSV)
    return (str(folder),)


@pytest.fixture
def book(price_dir: tuple[str, ...]) -> PriceBook:
    """Prices from the test sheets only (no genai-prices: values fixed by this file)."""
    return PriceBook(price_dir, use_genai_prices=False)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """An empty ledger in a temporary folder."""
    with Ledger(tmp_path / "ledger.duckdb") as led:
        yield led


@pytest.fixture(scope="session")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``usage demo`` month (50,000 requests, seed 7, with its spike and fleet), built
    once per session; tests only read it."""
    from infercost.usage import synth
    from infercost.usage.ingest import ingest

    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.duckdb"
    with Ledger(path) as led:
        led.add_deployments(synth.FLEET)
        ingest(led, [synth.write_parquet(synth.month(50_000), folder / "demo.parquet")])
    return path
