"""Types that cross the workflow/activity boundary for entity syncs and webhooks.

Ids, counts and stable keys only: no entity content, no webhook payload, no secret.
Imported by workflow code, so: pydantic only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# A sample of changed ids for the Temporal UI; the full diff is in the events table.
MAX_IDS_IN_RESULT = 50


class EntitySyncInput(BaseModel):
    entry_id: str = Field(min_length=1, max_length=200)


class EntryCheck(BaseModel):
    """Whether a sync should run now, decided by the ``entities_check`` activity."""

    entry_id: str
    domain: str
    skip_reason: str | None = Field(default=None, description="entry_disabled, entities_not_supported, health_down ...")
    healthy: bool | None = None
    needs_seed: bool = False


class SyncOutcome(BaseModel):
    entry_id: str
    kind: Literal["pull", "seed", "webhook"]
    status: Literal["ok", "skipped", "failed"]
    reason: str | None = None
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    sample_ids: list[str] = Field(default_factory=list, max_length=MAX_IDS_IN_RESULT)


class RecordRunInput(BaseModel):
    entry_id: str
    kind: Literal["pull", "seed", "webhook"]
    status: Literal["skipped", "failed"]
    reason: str = Field(max_length=100)


class EntitySyncResult(BaseModel):
    entry_id: str
    status: Literal["ok", "skipped", "failed"]
    reason: str | None = None
    seed: SyncOutcome | None = None
    pull: SyncOutcome | None = None


class WebhookInput(BaseModel):
    """A stored webhook delivery to process; the payload itself stays in Postgres."""

    entry_id: str = Field(min_length=1, max_length=200)
    delivery_id: str = Field(min_length=1, max_length=200)
