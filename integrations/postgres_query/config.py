"""The entry configuration of ``postgres_query``: a database URL without its password, the password apart."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

# Options that only say where and how to connect. ``options``/``passfile``/``password`` and
# friends could change the session (read-only off) or smuggle a secret into clear config.
URL_OPTIONS = frozenset({"host", "port", "sslmode", "application_name", "connect_timeout"})


class PostgresQueryConfig(BaseModel):
    """One database the read-only query tool may read."""

    # hide_input_in_errors: a validation error must not carry the password it was given.
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    database_url: str = Field(max_length=2000)
    password: SecretStr | None = Field(default=None, max_length=1000)
    statement_timeout_ms: int = Field(default=5000, ge=100, le=120_000)
    max_rows: int = Field(default=200, ge=1, le=5000)

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError("invalid_database_url")
        if parts.password:
            raise ValueError("password_in_url")  # it belongs in the encrypted password field
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        if set(options) - URL_OPTIONS:
            raise ValueError("unsupported_url_option")
        if not parts.hostname and not options.get("host"):
            raise ValueError("invalid_database_url")
        return value.strip()

    @property
    def password_value(self) -> str | None:
        return self.password.get_secret_value() if self.password is not None else None
