"""All-in deployment cost: overheads scale predict's $/M; per request closes the books."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infercost.cost.gpu_hour import price_from_usd_per_gpu_hour
from infercost.cost.overheads import overheads
from infercost.errors import InputError
from infercost.plan.deployment_cost import COST_JSON_KEYS, deployment_cost
from infercost.predict import predict

WORKLOAD = {
    "model": "llama-3.1-70b",
    "gpu": "h100-sxm",
    "isl": 1000,
    "osl": 300,
    "num_gpus": 2,
    "weight_dtype": "fp8",
    "concurrency": 32,
}


class TestDeploymentCost:
    def test_overheads_scale_list_prices_by_the_effective_rate(self) -> None:
        # $2/GPU-h, 2 GPUs/replica, 1 needed + 1 spare, utilisation 0.5, ops $730/month:
        # fleet = 2 x 2 x 2 + 730/730 = $9/h; useful GPU-hours = 2 x 1 x 0.5 = 1;
        # effective $9/GPU-h = 4.5 x the $2 list price, so every $/M is 4.5 x predict's.
        result = deployment_cost(
            price_from_usd_per_gpu_hour(2.0, 2),
            overheads(utilization=0.5, spare_replicas=1, ops_usd_per_month=730),
            **WORKLOAD,
        )
        listed = predict(gpu_hour_usd=2.0, **WORKLOAD)
        assert result.rate is not None
        assert result.rate.usd_per_gpu_hour == Decimal(9)
        assert float(result.usd_per_m_output or 0) == pytest.approx(
            4.5 * (listed.usd_per_m_output or 0), rel=1e-12
        )
        assert float(result.usd_per_m_input or 0) == pytest.approx(
            4.5 * (listed.usd_per_m_input or 0), rel=1e-12
        )

    def test_per_request_times_requests_served_is_the_fleet_bill(self) -> None:
        # Served requests/h = output tok/s x 3600 / osl x replicas x utilisation; at the
        # all-in price per request they must pay the fleet's $/hour exactly.
        result = deployment_cost(
            price_from_usd_per_gpu_hour(3.0, 2),
            overheads(
                utilization=0.6, replicas_needed=3, spare_replicas=1, ops_usd_per_month=9000
            ),
            **WORKLOAD,
        )
        p = result.prediction
        assert result.rate is not None and result.usd_per_request is not None
        requests_per_hour = (p.output_tok_s or 0) * 3600 / p.osl * 3 * 0.6
        assert float(result.usd_per_request) * requests_per_hour == pytest.approx(
            float(result.rate.fleet_usd_per_hour), rel=1e-9
        )

    def test_useful_fraction_divides_output_cost(self) -> None:
        result = deployment_cost(
            price_from_usd_per_gpu_hour(2.0, 2),
            overheads(),
            useful_fraction=Decimal("0.8"),
            **WORKLOAD,
        )
        assert result.usd_per_m_useful_output == (result.usd_per_m_output or 0) / Decimal("0.8")

    def test_not_fitting_returns_the_reason_without_costs(self) -> None:
        result = deployment_cost(
            price_from_usd_per_gpu_hour(2.0, 1),
            overheads(),
            **{**WORKLOAD, "num_gpus": 1, "weight_dtype": "bf16"},
        )
        assert not result.fits
        assert "does not fit" in (result.prediction.reason or "")
        assert result.to_dict()["usd_per_m_output"] is None

    def test_price_for_another_gpu_count_is_refused(self) -> None:
        with pytest.raises(InputError, match="price is for 4 GPUs"):
            deployment_cost(price_from_usd_per_gpu_hour(2.0, 4), overheads(), **WORKLOAD)

    def test_json_keys_are_pinned(self) -> None:
        data = deployment_cost(price_from_usd_per_gpu_hour(2.0, 2), overheads(), **WORKLOAD)
        assert tuple(data.to_dict()) == COST_JSON_KEYS
        assert COST_JSON_KEYS[:4] == ("fits", "reason", "currency", "usd_per_gpu_hour_list")
