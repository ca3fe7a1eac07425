"""The entry configuration of ``mcp``: a stdio command or a streamable-HTTP URL, plus an optional secret."""

from __future__ import annotations

import shlex
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class McpConfig(BaseModel):
    """How to reach one MCP server. ``secret`` is sent as the ``header_name`` header (HTTP) or put
    in the ``secret_env_var`` environment variable of the command (stdio)."""

    # hide_input_in_errors: a validation error must not carry the secret it was given.
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    transport: Literal["http", "stdio"] = "http"
    url: str | None = Field(default=None, max_length=2000)
    command: str | None = Field(default=None, max_length=500)
    args: str | None = Field(default=None, max_length=4000)
    header_name: str = Field(default="Authorization", max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
    secret: SecretStr | None = Field(default=None, max_length=4000)
    secret_env_var: str | None = Field(default=None, max_length=100, pattern=r"^[A-Z_][A-Z0-9_]*$")
    timeout_seconds: int = Field(default=30, ge=1, le=300)

    @model_validator(mode="after")
    def _transport_fields(self) -> "McpConfig":
        if self.transport == "http":
            parts = urlsplit(self.url or "")
            if not self.url:
                raise ValueError("url_required")
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("invalid_url")
        else:
            if not (self.command or "").strip():
                raise ValueError("command_required")
            try:
                self.argv
            except ValueError:
                raise ValueError("invalid_args") from None
            if self.secret is not None and not self.secret_env_var:
                raise ValueError("secret_env_var_required")
        return self

    @property
    def argv(self) -> list[str]:
        """``args`` split like a POSIX shell would (quotes group, nothing is expanded)."""
        return shlex.split(self.args or "")

    @property
    def secret_value(self) -> str | None:
        return self.secret.get_secret_value() if self.secret is not None else None
