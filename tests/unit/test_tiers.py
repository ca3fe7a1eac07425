from __future__ import annotations

import pytest
from pydantic import BaseModel

from runtime.tiers import Tier, TierField, UnknownTierError


@pytest.mark.parametrize(("raw", "tier"), [("internal", Tier.INTERNAL), ("Regulated", Tier.REGULATED), (0, Tier.UNREGULATED), ("2", Tier.INTERNAL)])
def test_tier_parses_names_and_numbers(raw, tier):
    assert Tier.parse(raw) is tier


@pytest.mark.parametrize("raw", ["internl", 3, -1, True, None, 1.0, ""])
def test_unknown_tier_raises_specific_error(raw):
    with pytest.raises(UnknownTierError) as err:
        Tier.parse(raw)
    assert err.value.key == "tier_unknown"


def test_gate_allows_equal_or_higher_tier_only():
    assert Tier.INTERNAL.allows(Tier.REGULATED)
    assert Tier.REGULATED.allows(Tier.REGULATED)
    assert not Tier.UNREGULATED.allows(Tier.REGULATED)


def test_tier_field_round_trips_as_name():
    class M(BaseModel):
        tier: TierField

    assert M(tier="internal").model_dump(mode="json") == {"tier": "internal"}
    with pytest.raises(ValueError, match="unknown tier"):
        M(tier="secret")
