"""The public Entity and Health types of the integration authoring API."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from runtime.integrations import Entity, Health, Integration


def test_entity_defaults_and_shape():
    entity = Entity(entity_id="light.kitchen", type="light")
    assert (entity.state, entity.attributes, entity.actions) == (None, {}, [])
    with pytest.raises(ValidationError):
        Entity(entity_id="x", type="light", colour="red")  # extra keys are typos, not data


@pytest.mark.parametrize("bad", [
    {"entity_id": "a\nb", "type": "light"},
    {"entity_id": "x", "type": "Light"},
    {"entity_id": "x", "type": "light", "actions": ["turn_on", "turn_on"]},
    {"entity_id": "x", "type": "light", "actions": ["Turn On"]},
    {"entity_id": "x", "type": "light", "attributes": {"f": object()}},
])
def test_entity_rejects_what_the_store_could_not_hold(bad):
    with pytest.raises(ValidationError):
        Entity(**bad)


@pytest.mark.parametrize(("raw", "healthy", "down"), [
    (None, None, False), (True, True, False), (False, False, True),
    (Health(healthy=False, reason="auth_failed"), False, True), ({"healthy": True}, True, False),
])
def test_health_normalises_what_async_health_returns(raw, healthy, down):
    health = Health.of(raw)
    assert (health.healthy, health.down) == (healthy, down)


async def test_integration_entity_hooks_keep_their_defaults():
    integration = Integration()
    assert integration.entity_types() == []
    assert await integration.async_health(None) is None  # type: ignore[arg-type]
    assert await integration.async_sync_entities(None) == []  # type: ignore[arg-type]
    assert await integration.async_initial_entities(None) == []  # type: ignore[arg-type]
