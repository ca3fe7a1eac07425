"""Entity errors, each with a stable key. Messages name ids and counts, never a value."""

from __future__ import annotations

from ..errors import AgentrtError


class EntityError(AgentrtError):
    key = "entity_error"


class EntityInvalidError(EntityError):
    """A pulled entity failed validation (shape, size, an undeclared type, a duplicate id)."""

    key = "entity_invalid"


class EntityContainsSecretError(EntityInvalidError):
    """An entity carried one of its entry's decrypted secret values: refused, nothing written."""

    key = "entity_contains_secret"


class EntitiesNotSupportedError(EntityError):
    """The entry's integration declares no entity types."""

    key = "entities_not_supported"


class EntityNotFoundError(EntityError):
    key = "entity_not_found"


class EntityActionNotOfferedError(EntityError):
    key = "entity_action_not_offered"


class WebhookNotSupportedError(EntityError):
    key = "webhook_not_supported"


class ScheduleNotFoundError(EntityError):
    key = "entity_schedule_not_found"
