"""The tools of one notebook: ``notes_create``, ``notes_search``, ``notes_delete``."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field
from pydantic_ai.exceptions import ModelRetry
from pydantic_ai.toolsets import FunctionToolset

from runtime.entities.entry_entities import EntryEntities

from .notebook import (ENTITY_TYPE, MAX_BODY, MAX_NOTES, MAX_TAG, MAX_TAGS, MAX_TITLE, NoteView, matches,
                       new_note, view)

Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG)]


class SearchResult(BaseModel):
    """Notes that matched, most recently changed first; bodies cut to a snippet unless ``full``."""

    notes: list[NoteView]
    total: int
    truncated: bool


class Deleted(BaseModel):
    note_id: str
    deleted: bool


def build_toolset(notes: EntryEntities) -> FunctionToolset:
    toolset: FunctionToolset = FunctionToolset()

    async def notes_create(
        title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE)],
        body: Annotated[str, Field(max_length=MAX_BODY)] = "",
        tags: Annotated[list[Tag] | None, Field(max_length=MAX_TAGS)] = None,
    ) -> NoteView:
        """Write a new note for the user. Returns the note with its ``note_id``."""
        if await notes.count() >= MAX_NOTES:
            raise ModelRetry(f"The notebook is full ({MAX_NOTES} notes). Delete notes before writing new ones.")
        note = new_note(title.strip() or title, body, tags or [])
        await notes.upsert([note])
        stored = await notes.get(note.entity_id)
        return view(stored if stored is not None else note)

    async def notes_search(
        query: Annotated[str | None, Field(max_length=200)] = None,
        tag: Annotated[str | None, Field(max_length=MAX_TAG)] = None,
        limit: Annotated[int, Field(ge=1, le=50)] = 10,
        full: bool = False,
    ) -> SearchResult:
        """Find the user's notes. ``query``: words that must all appear (title, body or tags,
        any case); ``tag``: only notes with this tag. Neither: the latest notes."""
        found = [e for e in await notes.list(type=ENTITY_TYPE, limit=MAX_NOTES) if matches(e, query, tag)]
        found.sort(key=lambda e: e.updated_at, reverse=True)
        return SearchResult(notes=[view(e, full=full) for e in found[:limit]], total=len(found),
                            truncated=len(found) > limit)

    async def notes_delete(note_id: Annotated[str, Field(min_length=1, max_length=255)]) -> Deleted:
        """Delete one of the user's notes by its ``note_id`` (from ``notes_search`` or ``notes_create``)."""
        existing = await notes.get(note_id)
        if existing is None or existing.type != ENTITY_TYPE:
            raise ModelRetry(f"There is no note {note_id!r}. Use notes_search to find the note's id.")
        deleted = await notes.delete([note_id])
        return Deleted(note_id=note_id, deleted=bool(deleted))

    for tool in (notes_create, notes_search, notes_delete):
        toolset.add_function(tool, takes_ctx=False)
    return toolset
