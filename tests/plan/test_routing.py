"""Cascade and router economics: worked example W4 and the cascade variant."""

from __future__ import annotations

import pytest

from infercost.errors import InputError
from infercost.plan.routing import Tier, cascade, parse_tier

W4 = [Tier("1.5B", 0.6, 0.02), Tier("7B", 0.3, 0.05), Tier("70B", 0.1, 0.46)]


class TestW4:
    def test_routed_blend_is_6_3x_cheaper(self) -> None:
        # 0.6 x 0.02 + 0.3 x 0.05 + 0.1 x 0.46 = 0.012 + 0.015 + 0.046 = $0.073/M;
        # 0.46 ÷ 0.073 = 6.30x, as the article prints ("6.3x cheaper").
        r = cascade(W4)
        assert r.blended_usd_per_m == pytest.approx(0.073)
        assert r.times_cheaper == pytest.approx(6.3014, rel=1e-4)
        assert round(r.times_cheaper, 1) == 6.3
        assert r.saving_fraction == pytest.approx(1 - 0.073 / 0.46)

    def test_cascade_pays_for_every_attempt(self) -> None:
        # Escalating cascade: every request tries tier 1, 40 % reach tier 2, 10 % tier 3:
        # 1.0 x 0.02 + 0.4 x 0.05 + 0.1 x 0.46 = $0.086/M -> 0.46 ÷ 0.086 = 5.35x, less than
        # the routed 6.3x (the article's figure assumes each request is served once).
        r = cascade(W4, mode="cascade")
        assert r.reach == pytest.approx((1.0, 0.4, 0.1))
        assert r.escalation_rate == pytest.approx((0.4, 0.25, 0.0))
        assert r.blended_usd_per_m == pytest.approx(0.086)
        assert r.times_cheaper == pytest.approx(5.3488, rel=1e-4)

    def test_partial_attempts(self) -> None:
        # half of an escalated attempt's tokens paid: (0.6 + 0.5 x 0.4) x 0.02 = 0.016;
        # (0.3 + 0.5 x 0.1) x 0.05 = 0.0175; 0.1 x 0.46 = 0.046 -> 0.0795.
        r = cascade(W4, mode="cascade", attempt_fraction=0.5)
        assert r.blended_usd_per_m == pytest.approx(0.0795)

    def test_router_cost_adds(self) -> None:
        assert cascade(W4, router_usd_per_m=0.01).blended_usd_per_m == pytest.approx(0.083)


class TestModeOptions:
    TIERS = (Tier("small", 0.6, 0.02), Tier("big", 0.4, 0.46))

    def test_router_cost_is_refused_in_cascade_mode(self) -> None:
        # it used to be accepted and left out of the blend
        with pytest.raises(InputError) as exc:
            cascade(self.TIERS, mode="cascade", router_usd_per_m=0.01)
        assert str(exc.value) == (
            "--router-usd-per-m is the classifier of --mode router; a cascade has no router "
            "(drop it, or use --mode router)."
        )

    def test_attempt_fraction_is_refused_in_router_mode(self) -> None:
        with pytest.raises(InputError, match=r"^--attempt-fraction applies to --mode cascade"):
            cascade(self.TIERS, mode="router", attempt_fraction=0.5)

    def test_defaults_in_their_own_mode(self) -> None:
        # router: 0.6 x 0.02 + 0.4 x 0.46 = 0.196; cascade: everyone pays small (1 x 0.02),
        # 0.4 reach big (0.4 x 0.46): 0.02 + 0.184 = 0.204
        assert cascade(self.TIERS).blended_usd_per_m == pytest.approx(0.196)
        assert cascade(self.TIERS, mode="cascade").blended_usd_per_m == pytest.approx(0.204)


class TestInputs:
    def test_shares_must_sum_to_one(self) -> None:
        with pytest.raises(InputError, match="sum to 1"):
            cascade([Tier("a", 0.5, 0.1), Tier("b", 0.4, 1.0)])

    def test_unknown_mode_and_bad_tier(self) -> None:
        with pytest.raises(InputError, match="mode"):
            cascade(W4, mode="vote")
        with pytest.raises(InputError, match="share"):
            Tier("a", 1.5, 0.1)

    def test_parse_tier(self) -> None:
        t = parse_tier("small:0.6:0.02")
        assert (t.name, t.share, t.usd_per_m, t.source) == ("small", 0.6, 0.02, "given")
        with pytest.raises(InputError, match="NAME:SHARE:COST"):
            parse_tier("small:0.6")
        with pytest.raises(InputError, match="not a number"):
            parse_tier("small:lots:0.02")
        with pytest.raises(InputError, match="Cannot read tier cost"):
            parse_tier("small:0.6:cheap")
