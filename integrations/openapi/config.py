"""The entry configuration of ``openapi``: where the document comes from, where calls go, how they authenticate."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

# Below the flow engine's 64 KiB input cap, with room for the other fields.
MAX_SPEC_TEXT = 60_000


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class OpenApiConfig(BaseModel):
    """One API: an OpenAPI 3 document (``spec_url`` or pasted ``spec_text``, JSON or YAML) and
    an optional header (``auth_header_name: auth_header_value``) sent with every call."""

    # hide_input_in_errors: a validation error must not carry the secret it was given.
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    spec_url: str | None = Field(default=None, max_length=2000)
    spec_text: str | None = Field(default=None, max_length=MAX_SPEC_TEXT)
    base_url: str | None = Field(default=None, max_length=2000)
    auth_header_name: str = Field(default="Authorization", max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
    auth_header_value: SecretStr | None = Field(default=None, max_length=4000)
    max_operations: int = Field(default=30, ge=1, le=100)
    timeout_seconds: int = Field(default=20, ge=1, le=120)

    @model_validator(mode="after")
    def _sources(self) -> "OpenApiConfig":
        has_url, has_text = bool((self.spec_url or "").strip()), bool((self.spec_text or "").strip())
        if has_url == has_text:
            raise ValueError("spec_source_ambiguous" if has_url else "spec_source_required")
        if has_url and not _is_http_url(str(self.spec_url)):
            raise ValueError("invalid_url")
        if self.base_url and not _is_http_url(self.base_url):
            raise ValueError("invalid_base_url")
        return self

    @property
    def auth_headers(self) -> dict[str, str]:
        if self.auth_header_value is None:
            return {}
        return {self.auth_header_name: self.auth_header_value.get_secret_value()}

    @property
    def secret_value(self) -> str | None:
        return self.auth_header_value.get_secret_value() if self.auth_header_value is not None else None
