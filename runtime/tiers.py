"""Model-provider tiers: the single data-governance axis.

A model profile has a tier; an integration has a ``required_tier``; the gate
is ``profile.tier >= required_tier``. Unknown names or numbers raise, so a typo
can never silently un-gate an integration.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from .errors import AgentrtError


class UnknownTierError(AgentrtError, ValueError):
    key = "tier_unknown"


class Tier(IntEnum):
    UNREGULATED = 0
    REGULATED = 1
    INTERNAL = 2

    @classmethod
    def parse(cls, value: Any) -> "Tier":
        """Accept a ``Tier``, a name (any case) or an int; anything else raises."""
        if isinstance(value, Tier):
            return value
        if isinstance(value, bool):  # bool is an int subclass; True must not mean "regulated"
            raise UnknownTierError(f"tier must be a name or an int, got {value!r}")
        if isinstance(value, int):
            try:
                return cls(value)
            except ValueError:
                raise UnknownTierError(
                    f"unknown tier {value}; known: {', '.join(f'{t.value}={t.label}' for t in cls)}"
                ) from None
        if isinstance(value, str):
            name = value.strip().upper()
            if name in cls.__members__:
                return cls[name]
            if name.isdigit():
                return cls.parse(int(name))
            raise UnknownTierError(f"unknown tier {value!r}; known: {', '.join(t.label for t in cls)}")
        raise UnknownTierError(f"tier must be a name or an int, got {type(value).__name__}")

    @property
    def label(self) -> str:
        return self.name.lower()

    def allows(self, required: "Tier") -> bool:
        return self >= required


def _parse_for_pydantic(value: Any) -> Tier:
    try:
        return Tier.parse(value)
    except UnknownTierError as exc:
        # pydantic only turns ValueError into a validation error; keep our message.
        raise ValueError(exc.message) from None


# Use in pydantic models: accepts names or ints, serialises as the name.
TierField = Annotated[Tier, BeforeValidator(_parse_for_pydantic), PlainSerializer(lambda t: t.label, return_type=str)]
