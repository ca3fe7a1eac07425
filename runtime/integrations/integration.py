"""The integration base class and the context one config entry is set up with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Mapping

if TYPE_CHECKING:
    from .entity import Entity, Health
    from .flow import ConfigFlow
    from .manifest import IntegrationManifest

Scope = Literal["user", "org", "global", "group"]


class Secrets(Mapping[str, str]):
    """Decrypted secret fields, memory only: ``repr``/``str`` never show values, and they refuse pickling."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Secrets({sorted(self._values)})"

    __str__ = __repr__

    def __reduce__(self):  # type: ignore[no-untyped-def]
        raise TypeError("Secrets cannot be serialised")


@dataclass(frozen=True)
class SetupContext:
    """Everything ``async_setup_entry`` needs for one config entry.

    ``secrets`` holds decrypted values; it exists only inside activity code and is
    never logged or put into a Temporal payload. ``entities`` is the entry's own entity
    store (a ``runtime.entities.entry_entities.EntryEntities``) when the integration
    declares entity types, else None; ``events`` emits the integration's declared events
    for this entry (a ``runtime.events.entry_events.EntryEvents``) when it declares any.
    """

    entry_id: str
    domain: str
    scope: Scope
    owner_sub: str | None = None
    org_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    secrets: Secrets = field(default_factory=Secrets)
    version: int = 1
    group_id: str | None = None
    title: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    entities: Any = field(default=None, compare=False)
    events: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secrets, Secrets):
            object.__setattr__(self, "secrets", Secrets(self.secrets))


class Integration:
    """Base class for ``INTEGRATION`` objects. Override only the hooks you use.

    The loader injects ``manifest`` and ``config_flow_cls`` after import.
    """

    manifest: "IntegrationManifest"
    config_flow_cls: ClassVar[type["ConfigFlow"] | None] = None

    @property
    def domain(self) -> str:
        return self.manifest.domain

    # -- lifecycle ---------------------------------------------------------
    async def async_setup_entry(self, ctx: SetupContext) -> list[Any]:
        """Return the pydantic-ai toolsets this entry contributes ([] for none)."""
        return []

    async def async_unload_entry(self, ctx: SetupContext) -> None:
        return None

    async def async_migrate_entry(self, ctx: SetupContext, from_version: int) -> dict[str, Any] | None:
        """Return the entry's new ``data`` at the manifest's ``config_schema_version``, or None if unchanged.

        Raise to mark the entry ``migration_error``; its stored data is left untouched.
        """
        return None

    # -- entities ----------------------------------------------------------
    def entity_types(self) -> list[str]:
        """Entity types this integration provides; non-empty makes each entry get a scheduled sync."""
        return []

    async def async_sync_entities(self, ctx: SetupContext) -> "list[Entity | dict[str, Any]]":
        """Pull every entity of the entry (a full pull: entities left out are deleted)."""
        return []

    async def async_initial_entities(self, ctx: SetupContext) -> "list[Entity | dict[str, Any]]":
        """Entities to seed once, on the entry's first sync."""
        return []

    async def async_call_action(
        self, ctx: SetupContext, entity_id: str, action: str, params: dict[str, Any]
    ) -> Any:
        raise NotImplementedError(f"{self.domain} has no actions")

    async def async_handle_webhook(self, ctx: SetupContext, payload: Any) -> Any:
        raise NotImplementedError(f"{self.domain} does not accept webhooks")

    async def async_health(self, ctx: SetupContext) -> "bool | Health | None":
        """True/False for a live connection's health; None when there is no connection concept."""
        return None

    # -- events and contributions -----------------------------------------
    def event_types(self) -> list[str]:
        return []

    async def async_handle_event(self, ctx: SetupContext, event: Any) -> None:
        """Handle one event named in the manifest's ``events:`` (a ``runtime.events.outbox.DeliveredEvent``).

        Runs for each entry of this integration the event concerns (docs/events.md), at least
        once: use ``event.idempotency_key`` to make a repeated delivery harmless. Raise to retry.
        """
        return None

    # -- sessions: observe, then complete (docs/events.md) -------------------------
    def session_observer(self, ctx: SetupContext) -> Any:
        """A ``runtime.events.observers.SessionObserver`` for one ended session, or None for none.

        It is fed the session's events in an activity after the session ends; its snapshot is
        stored in the session's logs and handed to :meth:`run_completion`.
        """
        return None

    async def run_completion(self, ctx: SetupContext, completion: Any) -> "dict[str, Any] | None":
        """Post-session work (``completion`` is a ``runtime.events.completion.CompletionContext``).

        Runs in its own workflow with retries; a dict returned is stored at
        ``sessions.annotations[<domain>][<entry id>]``; None records the entry as skipped.
        """
        return None

    def relation_types(self) -> list[str]:
        return []

    def agents(self) -> list[Any]:
        return []

    def surfaces(self) -> list[Any]:
        return []

    def flows(self) -> list[Any]:
        """Conversation flows this integration contributes (e.g. onboarding)."""
        return []

    def routers(self) -> list[Any]:
        """FastAPI routers mounted under ``/integrations/<domain>/``."""
        return []
