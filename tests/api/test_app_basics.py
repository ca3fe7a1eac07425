"""Health, readiness, the OpenAPI document, the console's files, and error shapes for bad requests."""

from __future__ import annotations

import httpx

from runtime.api import create_app

from .conftest import ALICE


async def test_healthz_and_readyz_answer(api):
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {"postgres": "ok", "temporal": "ok"}}


async def test_readyz_says_not_ready_without_temporal(services, settings):
    app = create_app(services, None, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        res = await client.get("/readyz")
        assert res.status_code == 503 and res.json()["checks"] == {"postgres": "ok", "temporal": "not_configured"}
        no_temporal = await client.post("/api/sessions", json={}, headers=ALICE)
        assert no_temporal.status_code == 503 and no_temporal.json()["error"] == "temporal_unavailable"


async def test_openapi_describes_every_resource(api):
    doc = (await api.get("/openapi.json")).json()
    paths = set(doc["paths"])
    for path in ["/healthz", "/readyz", "/api/me", "/api/integrations", "/api/integrations/{domain}", "/api/flows",
                 "/api/flows/{flow_id}", "/api/entries", "/api/entries/{entry_id}", "/api/entries/{entry_id}/reload",
                 "/api/entries/{entry_id}/state", "/api/sessions", "/api/sessions/{session_id}",
                 "/api/sessions/{session_id}/messages", "/api/sessions/{session_id}/approvals",
                 "/api/sessions/{session_id}/approvals/{tool_call_id}", "/api/sessions/{session_id}/transcript",
                 "/api/sessions/{session_id}/end"]:
        assert path in paths, path
    assert {"HTTPBearer", "APIKeyHeader"} <= set(doc["components"]["securitySchemes"])


async def test_console_is_served_with_a_strict_content_security_policy(api):
    page = await api.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/static/app.js" in page.text and "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/core.js", "/static/wizard.js", "/static/chat.js", "/static/style.css"):
        res = await api.get(asset)
        assert res.status_code == 200 and res.headers["x-content-type-options"] == "nosniff"


async def test_bad_requests_get_keyed_json_errors_not_500s(api):
    missing = await api.get("/api/nothing-here", headers=ALICE)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong_method = await api.put("/api/entries", headers=ALICE)
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "method_not_allowed"
    broken_json = await api.post("/api/sessions", content=b"{not json", headers={**ALICE, "content-type": "application/json"})
    assert broken_json.status_code == 422 and broken_json.json()["error"] == "request_invalid"
    nan = await api.post("/api/flows", content=b'{"domain": NaN}', headers={**ALICE, "content-type": "application/json"})
    assert nan.status_code == 422
    huge = await api.post("/api/sessions", content=b"x" * (2 * 1024 * 1024),
                          headers={**ALICE, "content-type": "application/json"})
    assert huge.status_code == 413 and huge.json()["error"] == "body_too_large"
    bad_id = await api.get("/api/entries/not%20an%20id", headers=ALICE)
    assert bad_id.status_code == 422 and bad_id.json()["error"] == "request_invalid"
    secret_in_wrong_place = await api.post("/api/sessions", json={"model_profile": 12345, "oops": "sk-live-123456"},
                                           headers=ALICE)
    assert secret_in_wrong_place.status_code == 422 and "sk-live-123456" not in secret_in_wrong_place.text


async def test_integration_routers_are_mounted_under_their_domain(services, settings, runtime_ctx):
    from runtime.integrations.loader import discover_dirs
    from runtime.services import Services

    from .conftest import REPO

    registry = discover_dirs([REPO / "tests" / "api" / "fixtures" / "integrations"])
    assert {"routed", "misrouted"} <= set(registry.domains())
    own = await Services.start(runtime_ctx, registry=registry)
    try:
        app = create_app(own, None, settings)  # misrouted's failing routers() is skipped, not fatal
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/integrations/routed/ping", headers=ALICE)).json() == {"pong": "alice"}
            assert (await client.get("/integrations/routed/ping")).status_code == 401
            assert (await client.get("/integrations/misrouted/ping", headers=ALICE)).status_code == 404
    finally:
        await own.close()


async def test_the_codec_endpoint_decodes_the_workers_payloads_for_admins_only(api, services):
    import base64

    from temporalio.api.common.v1 import Payload

    from runtime.codec import EncryptionCodec

    from .conftest import ADMIN

    [sealed] = await EncryptionCodec(services.ctx.keyring).encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=b'"the plan"')])
    body = {"payloads": [{"metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
                          "data": base64.b64encode(sealed.data).decode()}]}
    assert (await api.post("/codec/decode", json=body)).status_code == 401
    refused = await api.post("/codec/decode", json=body, headers=ALICE)
    assert refused.status_code == 403 and refused.json()["error"] == "admin_required"
    decoded = await api.post("/codec/decode", json=body, headers=ADMIN)
    assert decoded.status_code == 200, decoded.text
    assert base64.b64decode(decoded.json()["payloads"][0]["data"]) == b'"the plan"'
    bad = await api.post("/codec/decode", content=b"not json", headers=ADMIN)
    assert bad.status_code == 400, bad.text
    tampered = {"payloads": [{**body["payloads"][0], "data": base64.b64encode(b"x" * 40).decode()}]}
    rejected = await api.post("/codec/decode", json=tampered, headers=ADMIN)
    assert rejected.status_code == 422 and "the plan" not in rejected.text
