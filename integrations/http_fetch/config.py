"""The entry configuration of ``http_fetch``: one pydantic model, the source of truth for form and setup."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .policy import parse_patterns


class FetchConfig(BaseModel):
    """What an entry allows the fetch tool to do. Every limit has a safe default."""

    model_config = ConfigDict(extra="ignore")

    # Required on purpose: an entry that fetches "anywhere" must say ``*`` explicitly.
    allowed_domains: str = Field(max_length=4000)
    allow_private_networks: bool = False
    max_download_kb: int = Field(default=2048, ge=1, le=20_480)
    # Stays below the session's 16,000-character tool result cap, so a page is never cut twice.
    max_output_chars: int = Field(default=12_000, ge=500, le=15_000)
    timeout_seconds: int = Field(default=15, ge=1, le=60)
    max_redirects: int = Field(default=5, ge=0, le=10)

    @field_validator("allowed_domains")
    @classmethod
    def _patterns(cls, value: str) -> str:
        parse_patterns(value)  # raises ValueError("invalid_domain_pattern") / ("allowed_domains_empty")
        return value

    @property
    def patterns(self) -> tuple[str, ...]:
        return parse_patterns(self.allowed_domains)

    @property
    def max_download_bytes(self) -> int:
        return self.max_download_kb * 1024
