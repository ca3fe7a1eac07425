"""Session tests: the bundled integrations plus the fixture ones, and a model that records what it saw."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from runtime.integrations.loader import discover_dirs
from runtime.integrations.scopes import EntryOwner
from runtime.sessions.client import start_session
from runtime.sessions.types import SessionPolicy
from runtime.settings import ModelProfile
from runtime.tiers import Tier
from tests.support.recording_model import RecordingModel

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "integrations"


@pytest.fixture
def registry():
    return discover_dirs([REPO / "integrations", FIXTURES])


@pytest.fixture
def recorder() -> RecordingModel:
    return RecordingModel()


@pytest.fixture
def model_overrides(recorder):
    return {"cheap": recorder.model(), "internal": recorder.model()}


@pytest.fixture
def settings(settings):
    settings.models.profiles["cheap"] = ModelProfile(model="test", tier=Tier.UNREGULATED)
    settings.models.profiles["internal"] = ModelProfile(model="test", tier=Tier.INTERNAL)
    return settings


@pytest.fixture
def make_entry(services, tmp_path):
    async def make(domain: str, scope: str = "global", *, owner_sub=None, org_id=None, group_id=None,
                   data=None, secrets=None, title=None):
        data = dict(data or {})
        data.setdefault("count_file", str(tmp_path / f"{domain}-{uuid.uuid4().hex[:6]}.count"))
        return await services.entries.create(
            domain=domain, owner=EntryOwner(scope, owner_sub, org_id, group_id), title=title or domain,
            data=data, secrets=secrets or {},
        )

    return make


@pytest.fixture
def open_session(temporal_client, settings):
    async def open_(principal, profile: str = "cheap", *, local_activities: bool = False, **kwargs):
        return await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex, principal,
                                   profile, policy=SessionPolicy(heartbeat_seconds=5, local_activities=local_activities),
                                   **kwargs)

    return open_


def count_lines(entry) -> int:
    path = Path(entry.data["count_file"])
    return len(path.read_text().splitlines()) if path.exists() else 0
