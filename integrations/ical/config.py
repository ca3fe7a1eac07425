"""The entry configuration of ``ical``: a calendar address (a secret: private iCal links embed a token) or a file."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class IcalConfig(BaseModel):
    """One calendar. ``calendar_url`` (http, https or webcal) or ``file_path`` (absolute), not both."""

    # hide_input_in_errors: a validation error must not carry the calendar address it was given.
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    calendar_url: SecretStr | None = Field(default=None, max_length=2000)
    file_path: str | None = Field(default=None, max_length=1000)
    lookbehind_days: int = Field(default=7, ge=0, le=365)
    lookahead_days: int = Field(default=90, ge=1, le=730)
    max_events: int = Field(default=500, ge=1, le=5000)
    timeout_seconds: int = Field(default=20, ge=1, le=120)

    @model_validator(mode="after")
    def _source(self) -> "IcalConfig":
        has_url, has_file = self.calendar_url is not None, bool((self.file_path or "").strip())
        if has_url == has_file:
            raise ValueError("source_ambiguous" if has_url else "source_required")
        if has_url:
            parts = urlsplit(self.calendar_url.get_secret_value().strip())  # type: ignore[union-attr]
            if parts.scheme not in ("http", "https", "webcal") or not parts.hostname:
                raise ValueError("invalid_url")
        elif not PurePosixPath(str(self.file_path)).is_absolute():
            raise ValueError("invalid_path")
        return self

    @property
    def url(self) -> str | None:
        """The address to fetch; ``webcal://`` is https by convention."""
        if self.calendar_url is None:
            return None
        url = self.calendar_url.get_secret_value().strip()
        return "https://" + url[len("webcal://"):] if url.lower().startswith("webcal://") else url
