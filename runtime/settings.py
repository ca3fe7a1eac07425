"""Settings from the environment (prefix ``AGENTRT__``, nested delimiter ``__``).

``AGENTRT__INTEGRATIONS__ALLOW_EXTERNAL=true`` sets ``settings.integrations.allow_external``.
Invalid values fail at start with a :class:`SettingsError` that names the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import SettingsError
from .tiers import Tier, TierField

ENV_PREFIX = "AGENTRT__"
REPO_ROOT = Path(__file__).resolve().parent.parent


class TemporalSettings(BaseModel):
    address: str | None = Field(
        default=None, description="host:port of a Temporal frontend; unset starts the bundled dev server"
    )
    namespace: str = "default"
    task_queue: str = "agentrt"
    ui: bool = Field(default=True, description="start the dev server's web UI")
    tls: bool = False
    api_key: SecretStr | None = None
    max_concurrent_activities: int = Field(default=100, ge=1)
    max_concurrent_workflow_tasks: int = Field(default=100, ge=1)
    max_cached_workflows: int = Field(default=1000, ge=0)
    graceful_shutdown_seconds: float = Field(default=30.0, ge=0)
    encrypt_payloads: bool | None = Field(
        default=None, description="seal every Temporal payload with the key ring; unset means on in production"
    )


class DatabaseSettings(BaseModel):
    url: SecretStr | None = Field(default=None, description="postgresql:// URL; unset starts embedded Postgres")
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    migrate_on_start: bool = True

    @field_validator("url")
    @classmethod
    def _postgres_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value


class IntegrationSettings(BaseModel):
    enabled: bool = True
    bundled_dir: Path = Path("integrations")
    external_dirs: list[Path] = Field(default_factory=list)
    allow_external: bool = False
    flow_ttl_seconds: int = Field(default=600, ge=1)

    def resolved_bundled_dir(self) -> Path:
        return self.bundled_dir if self.bundled_dir.is_absolute() else REPO_ROOT / self.bundled_dir


class PluginSettings(BaseModel):
    """Event plugins (``plugin.json`` + ``handler.py`` folders): same trust rules as integrations."""

    enabled: bool = True
    bundled_dir: Path = Path("plugins")
    external_dirs: list[Path] = Field(default_factory=list)
    allow_external: bool = False

    def resolved_bundled_dir(self) -> Path:
        return self.bundled_dir if self.bundled_dir.is_absolute() else REPO_ROOT / self.bundled_dir


class EventSettings(BaseModel):
    """Durable event delivery (docs/events.md)."""

    max_attempts: int = Field(default=5, ge=1, le=100, description="handler attempts before a dead letter")
    retry_initial_seconds: float = Field(default=1.0, gt=0, le=600)
    retry_max_seconds: float = Field(default=60.0, gt=0, le=3600)
    handler_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    heartbeat_seconds: float = Field(default=30.0, gt=0, le=600)
    sweep_seconds: float = Field(default=30.0, ge=1, le=3600,
                                 description="how often the dispatcher looks for unrouted and stalled events")
    idle_seconds: float = Field(default=60.0, ge=0, le=86_400,
                                description="a delivery workflow waits this long for more events before it ends")
    batch_size: int = Field(default=50, ge=1, le=1000)
    completion_attempts: int = Field(default=3, ge=1, le=20)
    wake_delay_seconds: float = Field(default=0.5, ge=0, le=60,
                                      description="events committed within this window share one dispatcher "
                                                  "wake-up (fewer round trips during a turn, later delivery)")
    retention_days: float = Field(default=30.0, ge=0, le=36_500,
                                  description="delivered events older than this are deleted (hourly); 0 keeps them")


class SecuritySettings(BaseModel):
    keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="key ring: kek_id -> base64 of a 32-byte key"
    )
    active_kek: str | None = Field(default=None, description="kek_id used for new encryptions")
    key_file: Path | None = Field(default=None, description="JSON file {active, keys: {id: base64}}")


class ModelProfile(BaseModel):
    model: str = Field(description="pydantic-ai model string, e.g. openai:gpt-4o, test, offline")
    tier: TierField = Tier.UNREGULATED
    base_url: str | None = None
    api_key: SecretStr | None = None


def _default_profiles() -> dict[str, ModelProfile]:
    return {"offline": ModelProfile(model="offline", tier=Tier.UNREGULATED)}


class ModelSettings(BaseModel):
    profiles: dict[str, ModelProfile] = Field(default_factory=_default_profiles)
    default_profile: str = "offline"

    @model_validator(mode="after")
    def _default_exists(self) -> "ModelSettings":
        # The offline profile is always there, so a fresh install (or a typo in a real profile's
        # credentials) still has a model that works and says it is offline.
        self.profiles.setdefault("offline", ModelProfile(model="offline", tier=Tier.UNREGULATED))
        if self.default_profile not in self.profiles:
            raise ValueError(
                f"default_profile {self.default_profile!r} is not one of the profiles: {sorted(self.profiles)}"
            )
        return self


class FlowSettings(BaseModel):
    dirs: list[Path] = Field(default_factory=list, description="folders of *.yaml / *.json flow definitions")


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    token_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of the dev bearer tokens; unset in dev derives one from the key ring, "
        "production refuses dev tokens without it",
    )
    token_ttl_seconds: int = Field(default=12 * 3600, ge=60, le=30 * 86400)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    mode: Literal["dev", "production"] = "dev"
    state_dir: Path = Field(default=Path(".agentrt"), description="dev-stack state: SQLite, pgdata, logs, dev key")
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    temporal: TemporalSettings = Field(default_factory=TemporalSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    integrations: IntegrationSettings = Field(default_factory=IntegrationSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    flows: FlowSettings = Field(default_factory=FlowSettings)
    plugins: PluginSettings = Field(default_factory=PluginSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value.upper()

    @property
    def is_dev(self) -> bool:
        return self.mode == "dev"

    @model_validator(mode="after")
    def _payload_encryption_default(self) -> "Settings":
        if self.temporal.encrypt_payloads is None:
            self.temporal.encrypt_payloads = not self.is_dev
        return self

    def resolved_state_dir(self) -> Path:
        return self.state_dir.resolve()


def _variable_name(loc: tuple[Any, ...]) -> str:
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc)


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; raise :class:`SettingsError` naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{_variable_name(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"invalid settings: {problems}") from None
