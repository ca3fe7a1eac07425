"""``manifest.yaml``, validated. ``extra="forbid"``: a typo'd key fails at discovery."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..tiers import Tier, TierField

DOMAIN_PATTERN = r"^[a-z][a-z0-9_]*$"

IntegrationType = Literal["tool", "service", "knowledge"]
TrustTier = Literal["trusted", "untrusted"]
IotClass = Literal["local_in_process", "local_polling", "local_push", "cloud_polling", "cloud_push"]
QualityScale = Literal["internal", "experimental", "beta", "stable"]


class IntegrationManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: str = Field(pattern=DOMAIN_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    version: str = Field(default="0.0.0", max_length=64)
    integration_type: IntegrationType = "tool"
    config_flow: bool = False
    single_instance: bool = True
    trust_tier: TrustTier = "trusted"
    iot_class: IotClass = "local_in_process"
    requirements: tuple[str, ...] = ()
    required_tier: TierField = Tier.UNREGULATED
    provides: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    after_dependencies: tuple[str, ...] = ()
    config_schema_version: int = Field(default=1, ge=1)
    codeowners: tuple[str, ...] = ()
    documentation: str | None = Field(default=None, max_length=2000)
    quality_scale: QualityScale = "experimental"
    issue_tracker: str | None = Field(default=None, max_length=2000)
    frontend: dict[str, Any] = Field(default_factory=dict)
    # agentrt extensions (documented in docs/integrations.md)
    events: tuple[str, ...] = Field(default=(), description="event names this integration subscribes to")
    high_privilege_tools: tuple[str, ...] = Field(
        default=(), description="tools that need approval while an untrusted source is in the same run"
    )
    sync_interval_seconds: int | None = Field(default=None, ge=10, description="entity pull interval")

    @field_validator("dependencies", "after_dependencies")
    @classmethod
    def _domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import re

        bad = [d for d in value if not isinstance(d, str) or not re.match(DOMAIN_PATTERN, d)]
        if bad:
            raise ValueError(f"not valid domains: {bad}")
        return value

    @property
    def untrusted(self) -> bool:
        return self.trust_tier == "untrusted"

