"""Validate a whole pull before a single row is written, and hash each entity's content.

A pull is all or nothing: one invalid entity (bad shape, undeclared type, duplicate id,
oversized or NUL-carrying attributes, a secret value of the entry) rejects the pull and
the store stays as it was. Error messages name positions, ids and counts, never values:
pydantic's own messages include the input, so they are not passed on.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, AsyncIterable, Collection, Iterable, Mapping

from pydantic import ValidationError

from ..integrations.entity import Entity
from .errors import EntityContainsSecretError, EntityInvalidError

MAX_ATTRIBUTES_BYTES = 64 * 1024
MAX_ENTITIES_PER_PULL = 1_000_000
MIN_SECRET_LENGTH = 4  # as the log scrubber: shorter values would match ordinary text
# A JSON-escaped NUL: "\u0000" preceded by an even number of backslashes (an odd number
# would make it the literal text backslash-u-0-0-0-0, which jsonb stores fine).
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


@dataclass(frozen=True, slots=True)
class PreparedEntity:
    """One validated entity, in the column order of the store's staging table."""

    entity_id: str
    type: str
    state: str | None
    attributes_json: str
    actions: list[str]
    content_hash: bytes

    def record(self) -> tuple[Any, ...]:
        return (self.entity_id, self.type, self.state, self.attributes_json, self.actions, self.content_hash)


# One encoder for all calls: json.dumps with non-default options builds a new encoder per call,
# which was a third of the cost of preparing a 100k-entity pull.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any) -> str:
    """Key-sorted, whitespace-free JSON: equal content gives equal text, whatever the dict order."""
    return _CANONICAL.encode(value)


def content_hash(type_: str, state: str | None, attributes_json: str, actions: list[str]) -> bytes:
    """SHA-256 over type, state, attributes and actions; the entity id is the key, not content."""
    head = canonical_json([type_, state, actions])
    return hashlib.sha256(f"{head}\n{attributes_json}".encode()).digest()


async def collect(result: Any) -> list[Any]:
    """A hook's result as a list. Async iterables are drained here, so a pull that raises
    half-way raises before anything is prepared, let alone written."""
    if result is None:
        return []
    if isinstance(result, AsyncIterable):
        return [item async for item in result]
    if isinstance(result, (Entity, Mapping, str, bytes)):
        raise EntityInvalidError("an entity hook must return a list of entities, not a single value")
    return list(result)


def _as_entity(index: int, item: Any) -> Entity:
    if isinstance(item, Entity):
        return item
    if type(item) is not dict and not isinstance(item, Mapping):  # the exact-type test is the fast path
        raise EntityInvalidError(f"entity #{index} is a {type(item).__name__}, not an Entity or a mapping")
    try:
        return Entity.model_validate(item)
    except ValidationError as exc:
        where = sorted({".".join(str(p) for p in err["loc"]) or "entity" for err in exc.errors()})
        raise EntityInvalidError(f"entity #{index} is invalid at: {', '.join(where[:10])}") from None


def secret_forms(values: Iterable[str]) -> list[str]:
    """Each secret as it may appear in text: as is, and as it appears inside JSON."""
    forms: set[str] = set()
    for value in values:
        if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
            forms.add(value)
            forms.add(json.dumps(value, ensure_ascii=False)[1:-1])  # as it appears inside JSON text
    return sorted(forms)


def prepare_entities(
    items: Iterable[Any],
    *,
    allowed_types: Collection[str] | None = None,
    forbidden_values: Iterable[str] = (),
) -> list[PreparedEntity]:
    """Validate every item and return them prepared for the store; raise on the first bad one.

    ``allowed_types``: the integration's ``entity_types()`` (None skips the check).
    ``forbidden_values``: the entry's decrypted secrets; an entity containing one is refused
    so a careless integration cannot copy a credential into the store or an event.
    """
    allowed = set(allowed_types) if allowed_types is not None else None
    secrets = secret_forms(forbidden_values)
    seen: set[str] = set()
    prepared: list[PreparedEntity] = []
    for index, item in enumerate(items):
        if index >= MAX_ENTITIES_PER_PULL:
            raise EntityInvalidError(f"a pull may hold at most {MAX_ENTITIES_PER_PULL} entities")
        entity = _as_entity(index, item)
        try:
            attributes = canonical_json(entity.attributes)
        except ValueError:  # NaN/Infinity: not JSON, and jsonb would refuse them
            raise EntityInvalidError(f"entity #{index} has attributes that are not JSON") from None
        # The secret check comes first: every later message names the entity id, which may be
        # the very thing that leaked.
        if secrets:
            text = "\n".join((entity.entity_id, entity.state or "", attributes))
            if any(s in text for s in secrets):
                raise EntityContainsSecretError(f"entity #{index} contains a secret value of its entry")
        if allowed is not None and entity.type not in allowed:
            raise EntityInvalidError(f"entity {entity.entity_id!r} has type {entity.type!r}, not a declared type")
        if entity.entity_id in seen:
            raise EntityInvalidError(f"entity id {entity.entity_id!r} occurs twice in one pull")
        seen.add(entity.entity_id)
        if len(attributes.encode()) > MAX_ATTRIBUTES_BYTES:
            raise EntityInvalidError(f"entity {entity.entity_id!r} has attributes over {MAX_ATTRIBUTES_BYTES} bytes")
        if "\\u0000" in attributes and _ESCAPED_NUL.search(attributes):
            # jsonb cannot store NUL: fail here, not half-way through the transaction.
            raise EntityInvalidError(f"entity {entity.entity_id!r} has a NUL character in its attributes")
        actions = list(entity.actions)
        prepared.append(
            PreparedEntity(entity.entity_id, entity.type, entity.state, attributes, actions,
                           content_hash(entity.type, entity.state, attributes, actions))
        )
    return prepared
