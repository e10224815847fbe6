"""$/M input and $/M output add up to the GPU-hour (docs/cost.md), never double count."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infercost.cost.tokens import split_usd_per_m


def test_worked_example_of_docs_cost_md() -> None:
    """$2/h, 1,000 output tok/s, isl 1,000 / osl 300, prefill 15 % of the time:
    input $2 x 0.15 / 12.0 M = $0.025/M; output $2 x 0.85 / 3.6 M = $0.4722/M."""
    per_in, per_out, blended = split_usd_per_m(2.0, 1000.0, 1000, 300, 0.15)
    assert float(per_in) == pytest.approx(0.025)
    assert float(per_out) == pytest.approx(2 * 0.85 / 3.6)
    assert float(blended) == pytest.approx(2 / 15.6)


@settings(max_examples=60, deadline=None)
@given(
    usd=st.floats(0.01, 1e4), out=st.floats(1.0, 1e6), isl=st.integers(1, 100_000),
    osl=st.integers(1, 10_000), share=st.floats(0.0, 1.0),
)  # fmt: skip
def test_an_hour_of_traffic_bills_the_hour(
    usd: float, out: float, isl: int, osl: int, share: float
) -> None:
    per_in, per_out, _ = split_usd_per_m(usd, out, isl, osl, share)
    in_m_per_h = out * isl / osl * 3600 / 1e6
    out_m_per_h = out * 3600 / 1e6
    assert float(per_in) * in_m_per_h + float(per_out) * out_m_per_h == pytest.approx(usd)
