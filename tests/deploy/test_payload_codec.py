"""With payload encryption on, Temporal stores ciphertext; with the codec, histories decode."""

from __future__ import annotations

import uuid

import pytest
from temporalio.api.common.v1 import Payload

from runtime.codec import EncryptionCodec
from runtime.crypto import CiphertextRejectedError, KeyRing, UnknownKekError
from runtime.principal import Principal
from runtime.sessions.client import send_message, start_session
from runtime.temporal import connect_client
from tests.support.leaks import history_corpus


async def test_codec_round_trips_and_old_keys_keep_decoding():
    ring = KeyRing.generate("k1")
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b'{"text": "hello"}')
    [sealed] = await EncryptionCodec(ring).encode([payload])
    assert sealed.metadata["encoding"] == b"binary/encrypted" and b"hello" not in sealed.data
    rotated = ring.with_key("k2", b"\x05" * 32, activate=True)
    assert await EncryptionCodec(rotated).decode([sealed]) == [payload]
    [resealed] = await EncryptionCodec(rotated).encode([payload])
    assert resealed.metadata["encryption-key-id"] == b"k2"
    with pytest.raises(UnknownKekError):
        await EncryptionCodec(KeyRing("k2", {"k2": b"\x05" * 32})).decode([sealed])


async def test_tampered_or_relabelled_payload_is_rejected():
    ring = KeyRing.generate("k1").with_key("k2", b"\x06" * 32)
    [sealed] = await EncryptionCodec(ring).encode([Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    flipped = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    relabelled = Payload(metadata={**sealed.metadata, "encryption-key-id": b"k2"}, data=sealed.data)
    for bad in (flipped, relabelled):
        with pytest.raises(CiphertextRejectedError):
            await EncryptionCodec(ring).decode([bad])


@pytest.fixture
def settings(settings):
    settings.temporal.encrypt_payloads = True
    return settings


async def test_history_without_the_codec_holds_no_message_text_or_tool_args(
    temporal_server, settings, worker, services, keyring
):
    from runtime.integrations.scopes import EntryOwner

    await services.entries.create(domain="text_tools", owner=EntryOwner("global"), title="t")
    client = await connect_client(settings, temporal_server.address, ring=keyring)
    marker = f"secret-plan-{uuid.uuid4().hex[:8]}"
    handle = await start_session(client, settings.temporal.task_queue, uuid.uuid4().hex, Principal(sub="a"), "offline")
    result = await send_message(handle, f'/tool text_tools_word_count {{"text": "{marker} two three"}}')
    assert marker in result.tool_calls[0].args_preview  # the client (with the codec) sees plaintext

    raw_client = await connect_client(settings.model_copy(update={"temporal": settings.temporal.model_copy(
        update={"encrypt_payloads": False})}), temporal_server.address)
    raw, count = await history_corpus(raw_client, f"WorkflowId = '{handle.id}'")
    assert count == 1 and marker not in raw and "word_count" not in raw and "offline model" not in raw

    decoded = await handle.fetch_history()  # through the codec client: payloads decode
    decoded_text = str(await client.data_converter.decode(
        decoded.events[0].workflow_execution_started_event_attributes.input.payloads))
    assert "offline" in decoded_text


async def test_codec_endpoint_decodes_for_operators_only():
    import base64

    import httpx
    from fastapi import FastAPI, Header, HTTPException

    from runtime.codec_server import codec_router

    ring = KeyRing.generate("k1")

    def operator(authorization: str = Header(default="")) -> None:
        if authorization != "Bearer operator":
            raise HTTPException(403, detail={"error": "forbidden"})

    app = FastAPI()
    app.include_router(codec_router(lambda: ring, operator))
    [sealed] = await EncryptionCodec(ring).encode([Payload(metadata={"encoding": b"json/plain"}, data=b'"hi there"')])
    body = {"payloads": [{"metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
                          "data": base64.b64encode(sealed.data).decode()}]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        denied = await http.post("/codec/decode", json=body)
        assert denied.status_code == 403
        ok = await http.post("/codec/decode", json=body, headers={"Authorization": "Bearer operator"})
        assert ok.status_code == 200
        [decoded] = ok.json()["payloads"]
        assert base64.b64decode(decoded["data"]) == b'"hi there"'
        bad = await http.post("/codec/decode", content=b"not json", headers={"Authorization": "Bearer operator"})
        assert bad.status_code == 400 and bad.json()["detail"]["error"] == "codec_body_invalid"
