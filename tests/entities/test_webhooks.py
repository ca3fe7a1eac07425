"""The webhook receiver, mounted in a small FastAPI app and driven through httpx's ASGI transport,
with the real worker handling the deliveries on the dev server."""

from __future__ import annotations

from typing import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from runtime.entities.errors import WebhookNotSupportedError
from runtime.entities.store import EntityStore
from runtime.entities.types import SyncOutcome
from runtime.entities.webhook_tokens import revoke_webhook_token, rotate_webhook_token
from runtime.entities.webhooks import TOKEN_HEADER, webhook_router
from runtime.integrations.scopes import EntryOwner

from .conftest import light

CAP = 4096


@pytest.fixture
async def http(services, temporal_client) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(webhook_router(lambda: services, lambda: temporal_client, max_body_bytes=CAP))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agentrt.test") as client:
        yield client


@pytest.fixture
def token_for(services):
    async def issue(entry_id: str) -> str:
        return (await rotate_webhook_token(services.ctx.pool, services.registry, entry_id)).get_secret_value()

    return issue


def url(entry_id: str) -> str:
    return f"/webhooks/integration/{entry_id}"


async def test_good_token_is_accepted_with_202_and_the_handler_runs_in_a_workflow(
    worker, http, token_for, temporal_client, pool, make_things
):
    things = await make_things()
    token = await token_for(things.id)
    marker = "payload-marker-7f3a"
    payload = {"entities": [light(9, state="on")], "note": marker}

    response = await http.post(url(things.id), json=payload, headers={TOKEN_HEADER: token})

    assert response.status_code == 202
    body = response.json()
    handle = temporal_client.get_workflow_handle(body["workflow_id"], result_type=SyncOutcome)
    outcome = await handle.result()
    assert (outcome.kind, outcome.status, outcome.created) == ("webhook", "ok", 1)
    [call] = things.calls("webhook")
    assert call["payload"] == payload
    stored = await EntityStore(pool).get(things.id, "light.l9")
    assert stored.state == "on" and stored.source == "push"
    # The workflow carried the delivery id only: the body stayed in Postgres.
    history = (await handle.fetch_history()).to_json()
    assert body["delivery_id"] in history and marker not in history and token not in history


async def test_token_in_the_query_string_works_and_never_reaches_a_log_line(
    worker, http, token_for, temporal_client, make_things, captured_logs
):
    things = await make_things()
    token = await token_for(things.id)
    response = await http.post(url(things.id), params={"token": token}, json={"ping": 1})
    assert response.status_code == 202
    await temporal_client.get_workflow_handle(response.json()["workflow_id"]).result()
    assert things.calls("webhook")[0]["payload"] == {"ping": 1}
    assert token not in captured_logs.getvalue()


async def test_bad_token_unknown_entry_and_missing_token_get_the_same_401(http, token_for, make_things):
    things = await make_things()
    token = await token_for(things.id)
    responses = [
        await http.post(url(things.id), json={}, headers={TOKEN_HEADER: token + "x"}),
        await http.post(url(things.id), json={}),
        await http.post(url("no-such-entry"), json={}, headers={TOKEN_HEADER: token}),
    ]
    assert {r.status_code for r in responses} == {401}
    assert len({r.text for r in responses}) == 1  # nothing tells whether the entry exists
    assert responses[0].json()["error"] == "webhook_unauthorized"
    assert things.calls() == []


@pytest.mark.parametrize("entry_id", ["a%00b", "x" * 500, "%F0%9F%92%A5"])
async def test_odd_entry_ids_get_the_plain_401(http, entry_id):
    response = await http.post(f"/webhooks/integration/{entry_id}", json={}, headers={TOKEN_HEADER: "t"})
    assert (response.status_code, response.json()["error"]) == (401, "webhook_unauthorized")


async def test_an_entry_without_a_token_accepts_nothing(http, make_things):
    things = await make_things()
    assert (await http.post(url(things.id), json={}, headers={TOKEN_HEADER: ""})).status_code == 401
    assert (await http.post(url(things.id), json={}, headers={TOKEN_HEADER: "anything"})).status_code == 401


async def test_rotating_retires_the_old_token_and_only_a_hash_is_stored(http, services, token_for, pool, make_things):
    things = await make_things()
    old = await token_for(things.id)
    new = await token_for(things.id)
    assert old != new
    async with pool.acquire() as conn:
        stored = await conn.fetchval("SELECT token_hash FROM webhook_tokens WHERE entry_id = $1", things.id)
    assert new.encode() not in bytes(stored) and len(stored) == 32
    assert (await http.post(url(things.id), json={}, headers={TOKEN_HEADER: old})).status_code == 401

    await revoke_webhook_token(pool, things.id)
    assert (await http.post(url(things.id), json={}, headers={TOKEN_HEADER: new})).status_code == 401


async def test_payloads_over_the_cap_are_refused_declared_or_streamed(http, token_for, make_things):
    things = await make_things()
    headers = {TOKEN_HEADER: await token_for(things.id)}
    big = b'{"x": "' + b"a" * CAP + b'"}'
    declared = await http.post(url(things.id), content=big, headers=headers)

    async def chunks():  # no Content-Length: the cap must hold while reading
        for i in range(0, len(big), 512):
            yield big[i:i + 512]

    streamed = await http.post(url(things.id), content=chunks(), headers=headers)
    assert declared.status_code == streamed.status_code == 413
    assert streamed.json()["error"] == "webhook_payload_too_large"
    assert things.calls() == []


async def test_a_body_that_is_not_json_is_refused(http, token_for, make_things):
    things = await make_things()
    response = await http.post(url(things.id), content=b"<xml/>", headers={TOKEN_HEADER: await token_for(things.id)})
    assert (response.status_code, response.json()["error"]) == (400, "webhook_payload_invalid")


async def test_a_disabled_entry_answers_409_once_the_token_is_right(http, services, token_for, make_things):
    things = await make_things()
    token = await token_for(things.id)
    await services.entries.set_disabled(things.id, True)
    response = await http.post(url(things.id), json={}, headers={TOKEN_HEADER: token})
    assert (response.status_code, response.json()["error"]) == (409, "entry_disabled")


async def test_an_integration_without_a_webhook_handler_gets_no_token(services):
    entry = await services.entries.create(domain="notifier", owner=EntryOwner("global"), title="n")
    with pytest.raises(WebhookNotSupportedError) as err:
        await rotate_webhook_token(services.ctx.pool, services.registry, entry.id)
    assert err.value.key == "webhook_not_supported"
