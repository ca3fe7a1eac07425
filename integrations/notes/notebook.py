"""Notes as entities of the user's notes entry: how a note is stored, found and shown.

A note is an entity of type ``note``: ``entity_id`` ``note-<hex>``, ``state`` its title,
``attributes`` its body, tags and timestamps. The entity store keeps it (``source='local'``),
so it gets the store's validation (size caps, no secret values), its change events, and the
API's entity views for free.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel

from runtime.errors import AgentrtError
from runtime.integrations import Entity

ENTITY_TYPE = "note"
MAX_NOTES = 2000  # per notebook: search reads the whole notebook, so it stays small
MAX_TITLE = 200
MAX_BODY = 20_000
MAX_TAGS = 20
MAX_TAG = 40
SNIPPET = 300

WELCOME = Entity(
    entity_id="note-welcome",
    type=ENTITY_TYPE,
    state="Welcome to your notes",
    attributes={
        "body": "Ask me to write something down and I will keep it here. I can search your notes "
                "and delete the ones you no longer need. Only you can see them.",
        "tags": ["welcome"],
        "created_at": "1970-01-01T00:00:00+00:00",
    },
)


class NotesError(AgentrtError):
    key = "notes_error"


class NoteView(BaseModel):
    note_id: str
    title: str
    body: str
    tags: list[str]
    created_at: str | None = None
    updated_at: str | None = None


def new_note(title: str, body: str, tags: list[str]) -> Entity:
    now = datetime.now(timezone.utc).isoformat()
    return Entity(entity_id=f"note-{uuid.uuid4().hex[:16]}", type=ENTITY_TYPE, state=title,
                  attributes={"body": body, "tags": clean_tags(tags), "created_at": now})


def clean_tags(tags: list[str]) -> list[str]:
    """Lower-cased, stripped, unique, in the order given."""
    seen: dict[str, None] = {}
    for tag in tags:
        tag = tag.strip().lower()
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


def view(entity: Any, *, full: bool = True) -> NoteView:
    attributes = entity.attributes or {}
    body = str(attributes.get("body") or "")
    if not full and len(body) > SNIPPET:
        body = body[:SNIPPET] + "…"
    updated = getattr(entity, "updated_at", None)
    return NoteView(note_id=entity.entity_id, title=entity.state or "", body=body,
                    tags=list(attributes.get("tags") or []), created_at=attributes.get("created_at"),
                    updated_at=updated.isoformat() if updated else None)


def matches(entity: Any, query: str | None, tag: str | None) -> bool:
    """Case-insensitive: every word of ``query`` in the title, body or tags; ``tag`` among the tags."""
    attributes = entity.attributes or {}
    tags = [str(t) for t in attributes.get("tags") or []]
    if tag and tag.strip().lower() not in tags:
        return False
    if not query:
        return True
    text = f"{entity.state or ''}\n{attributes.get('body') or ''}\n{' '.join(tags)}".casefold()
    return all(word in text for word in query.casefold().split())
