"""openapi: a local FastAPI app (served by uvicorn, auth header checked) turned into tools."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request
from pydantic import BaseModel, ValidationError

from runtime.principal import Principal
from runtime.sessions.client import decide_approval, send_message
from runtime.sessions.setup_cache import tool_run_context
from runtime.sessions.types import TurnStatus
from tests.support.leaks import find_leaks, history_corpus

from .support import assert_error_keys_translated, assert_form_spec_valid, assert_masked_round_trip

ALICE = Principal(sub="alice", org_id="acme")
ADMIN = Principal(sub="root", org_id="acme", is_admin=True)
HEADER = "X-Api-Key"


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def make_app(secret: str, calls: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI(title="Shop")
    items: dict[int, Item] = {1: Item(name="lamp", price=12.5, tags=["home"])}

    @app.middleware("http")
    async def check_key(request: Request, call_next: Any) -> Any:
        calls.append({"method": request.method, "path": request.url.path, "query": str(request.url.query),
                      "raw_path": request.scope.get("raw_path", b"").decode()})
        if request.url.path != "/openapi.json" and request.headers.get(HEADER) != secret:
            from fastapi.responses import JSONResponse

            return JSONResponse({"detail": "bad key"}, status_code=401)
        return await call_next(request)

    @app.get("/items/{item_id}", operation_id="get_item", summary="Get one item")
    async def get_item(item_id: int, verbose: bool = False) -> dict[str, Any]:
        if item_id not in items:
            raise HTTPException(404, "no such item")
        return {"id": item_id, **items[item_id].model_dump(), "verbose": verbose}

    @app.get("/items", operation_id="list_items", summary="List items")
    async def list_items(limit: int = 10, q: str | None = None) -> list[dict[str, Any]]:
        found = [{"id": i, **it.model_dump()} for i, it in items.items() if q is None or q in it.name]
        return found[:limit]

    @app.post("/items", operation_id="create_item", summary="Create an item")
    async def create_item(item: Item) -> dict[str, Any]:
        new_id = max(items) + 1
        items[new_id] = item
        return {"id": new_id, **item.model_dump()}

    @app.get("/files/{name}", operation_id="get_file")
    async def get_file(name: str) -> dict[str, str]:
        return {"name": name}

    @app.get("/whoami", operation_id="whoami", summary="Echo the key (a badly behaved API)")
    async def whoami(x_api_key: str = Header(default="")) -> dict[str, str]:
        return {"key": x_api_key}

    return app


@pytest.fixture
def api(distinctive_secret):
    calls: list[dict[str, Any]] = []
    server = uvicorn.Server(uvicorn.Config(make_app(distinctive_secret, calls), host="127.0.0.1", port=0,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", calls
    server.should_exit = True
    thread.join(timeout=10)


def _module(name: str) -> Any:
    import importlib

    return importlib.import_module(f"agentrt_integrations.openapi.{name}")


PASTED = """
openapi: 3.0.3
info: {title: Pasted, version: "1"}
servers:
  - url: "{scheme}://127.0.0.1:{port}"
    variables: {scheme: {default: http}, port: {default: "1"}}
paths:
  /notes/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}, description: The note id}
    get:
      operationId: getNote
      summary: Read a note
      parameters:
        - {name: fields, in: query, schema: {type: array, items: {type: string}}}
        - {name: X-Trace, in: header, schema: {type: string}}
    put:
      summary: No operationId, so no tool
  /notes:
    post:
      operationId: create note!
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Note"}
components:
  schemas:
    Note:
      type: object
      required: [title]
      properties:
        title: {type: string, example: hi}
        parent: {$ref: "#/components/schemas/Note"}
        owner: {type: string, nullable: true}
"""


# -- model, document, form ---------------------------------------------------------------

@pytest.mark.parametrize(("values", "key"), [
    ({}, "spec_source_required"),
    ({"spec_url": "https://a.example/o.json", "spec_text": "{}"}, "spec_source_ambiguous"),
    ({"spec_url": "file:///etc/passwd"}, "invalid_url"),
    ({"spec_text": "x", "base_url": "ftp://a"}, "invalid_base_url"),
])
def test_config_model_names_what_is_wrong(registry, values, key):
    with pytest.raises(ValidationError) as caught:
        _module("config").OpenApiConfig.model_validate({**values, "auth_header_value": "tok-123456"})
    assert key in str(caught.value) and "tok-123456" not in str(caught.value)


def test_pasted_yaml_becomes_operations_with_json_schemas(registry):
    spec = _module("spec")
    document = spec.parse_document(PASTED)
    assert spec.base_url_of(document, None, None) == "http://127.0.0.1:1"
    ops, total = spec.operations(document, 10)
    assert total == 2 and [op.name for op in ops] == ["getNote", "create_note_"]
    get_note, create = ops
    assert get_note.json_schema == {
        "type": "object", "additionalProperties": False, "required": ["id"],
        "properties": {"id": {"type": "integer", "description": "The note id"},
                       "fields": {"type": "array", "items": {"type": "string"}}},
    }  # the header parameter is not the model's to set
    body = create.json_schema["properties"]["body"]
    assert create.json_schema["required"] == ["body"] and body["required"] == ["title"]
    assert body["properties"]["owner"]["type"] == ["string", "null"] and "example" not in body["properties"]["title"]
    assert body["properties"]["parent"] == {}  # the cycle stops: unconstrained
    assert spec.operations(document, 1)[0][0].name == "getNote"


@pytest.mark.parametrize(("text", "key"), [
    ("not: [valid", "invalid_spec"),
    ('{"swagger": "2.0", "paths": {}}', "unsupported_version"),
    ("[1, 2]", "invalid_spec"),
])
def test_unusable_documents_have_keys(registry, text, key):
    with pytest.raises(_module("spec").SpecError) as caught:
        _module("spec").parse_document(text)
    assert caught.value.key == key


def test_alias_bomb_is_bounded(registry):
    spec = _module("spec")
    lines = ["openapi: 3.0.0", "info: {title: b, version: '1'}", "x0: &a0 {type: string}"]
    lines += [f"x{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 14)]
    lines += ["paths:", "  /b:", "    post:", "      operationId: bomb", "      requestBody:",
              "        content: {application/json: {schema: {allOf: *a13}}}"]
    with pytest.raises(spec.SpecError) as caught:
        spec.operations(spec.parse_document("\n".join(lines)), 5)
    assert caught.value.key == "spec_too_complex"


async def test_form_spec_is_valid_and_translated(registry, flow_manager):
    loaded = registry.get("openapi")
    fields = {f.name: f for f in assert_form_spec_valid(loaded)}
    assert fields["auth_header_value"].type == "secret" and fields["spec_text"].max_length == 60_000
    assert loaded.manifest.trust_tier == "untrusted"
    assert_error_keys_translated(loaded, ["spec_source_required", "spec_source_ambiguous", "invalid_url",
                                          "invalid_spec", "unsupported_version", "spec_unreachable",
                                          "no_operations", "no_base_url", "spec_too_complex",
                                          "private_network_needs_admin"])
    form = await flow_manager.start("openapi", ADMIN, scope="global")
    assert form.title == "Connect an API"


# -- flow, entry, tools ----------------------------------------------------------------------

async def test_flow_loads_the_document_and_masks_the_auth_header(flow_manager, services, api, distinctive_secret):
    base, _ = api
    user_form = await flow_manager.start("openapi", ALICE)
    private = await flow_manager.submit(user_form.flow_id, {"spec_url": f"{base}/openapi.json"}, ALICE)
    assert private.errors["base"].key == "private_network_needs_admin"

    form = await flow_manager.start("openapi", ADMIN, scope="global")
    missing = await flow_manager.submit(form.flow_id, {"spec_url": f"{base}/nothing.json"}, ADMIN)
    assert missing.errors["base"].key == "spec_unreachable"
    done = await flow_manager.submit(form.flow_id, {"spec_url": f"{base}/openapi.json", "auth_header_name": HEADER,
                                                    "auth_header_value": distinctive_secret}, ADMIN)
    assert done.type == "create_entry" and done.title == f"{base}/openapi.json"
    entry = await services.entries.get(done.entry_id)
    assert entry.secret_fields == ["auth_header_value"] and "auth_header_value" not in entry.data
    await assert_masked_round_trip(services.entries, entry.id, "auth_header_value", distinctive_secret,
                                   {"max_operations": 3})
    set_up = await services.setup_cache.get(await services.entries.get(entry.id))
    assert sorted(set_up.tools) == ["create_item", "get_item", "list_items"]  # capped at 3, document order


async def test_tools_call_the_api_with_the_header(make_entry, services, api, distinctive_secret):
    base, calls = api
    entry = await make_entry("openapi", "global", data={"spec_url": f"{base}/openapi.json", "auth_header_name": HEADER},
                             secrets={"auth_header_value": distinctive_secret})
    set_up = await services.setup_cache.get(entry)
    assert sorted(set_up.tools) == ["create_item", "get_file", "get_item", "list_items", "whoami"]

    async def call(tool_name: str, /, **args: Any) -> Any:
        toolset, tool = set_up.tools[tool_name]
        return await toolset.call_tool(tool_name, args, tool_run_context(tool_name), tool)

    got = await call("get_item", item_id=1, verbose=True)
    assert (got.status, got.ok, got.body) == (200, True, {"id": 1, "name": "lamp", "price": 12.5, "tags": ["home"],
                                                          "verbose": True})
    assert calls[-1] == {"method": "GET", "path": "/items/1", "query": "verbose=true", "raw_path": "/items/1"}
    created = await call("create_item", body={"name": "desk", "price": 99})
    assert created.body["id"] == 2 and created.body["name"] == "desk"
    listed = await call("list_items", q="de", limit=5)
    assert [i["name"] for i in listed.body] == ["desk"]
    missing = await call("get_item", item_id=42)
    assert (missing.status, missing.ok, missing.body) == (404, False, {"detail": "no such item"})
    traversal = await call("get_file", name="../items/1")
    # One path segment, its slashes encoded: the value cannot walk to another route.
    assert calls[-1]["raw_path"] == "/files/..%2Fitems%2F1" and traversal.status == 404
    echoed = await call("whoami")
    assert echoed.body == {"key": "[REDACTED]"}

    failed = _module("tools").OperationFailed
    with pytest.raises(failed) as unknown:
        await call("get_item", item_id=1, sneaky=True)
    assert unknown.value.key == "unknown_argument"
    with pytest.raises(failed) as missing_arg:
        await call("create_item")
    assert missing_arg.value.key == "missing_argument"

    definition = set_up.tools["get_item"][1].tool_def
    assert definition.description == "Get one item"
    assert definition.parameters_json_schema["required"] == ["item_id"]
    assert set(definition.parameters_json_schema["properties"]) == {"item_id", "verbose"}


async def test_wrong_key_gets_the_apis_401(make_entry, services, api):
    base, _ = api
    entry = await make_entry("openapi", "global", data={"spec_url": f"{base}/openapi.json", "auth_header_name": HEADER},
                             secrets={"auth_header_value": "wrong-key-123"})
    toolset, tool = (await services.setup_cache.get(entry)).tools["get_item"]
    result = await toolset.call_tool("get_item", {"item_id": 1}, tool_run_context(), tool)
    assert (result.status, result.ok) == (401, False)


async def test_session_calls_an_operation_after_approval_and_leaks_no_key(
    worker, make_entry, open_session, recorder, api, distinctive_secret, temporal_client, settings, captured_logs
):
    base, calls = api
    await make_entry("openapi", "global", data={"spec_url": f"{base}/openapi.json", "auth_header_name": HEADER},
                     secrets={"auth_header_value": distinctive_secret})
    handle = await open_session(ALICE)
    held = await send_message(handle, '/tool openapi_create_item {"body": {"name": "chair", "price": 20}}')
    assert held.status is TurnStatus.AWAITING_APPROVAL
    assert held.pending_approvals[0].approval_reason == "untrusted_integration"
    assert not any(c["method"] == "POST" for c in calls)  # nothing ran before the approval
    done = await decide_approval(handle, held.pending_approvals[0].tool_call_id, approve=True)
    assert done.status is TurnStatus.COMPLETED and '"name":"chair"' in done.text

    create = recorder.definition("openapi_create_item", 0)
    assert create.description == "Create an item"
    assert create.parameters_json_schema["required"] == ["body"]
    assert create.parameters_json_schema["properties"]["body"]["required"] == ["name", "price"]

    echoed = await send_message(handle, "/tool openapi_whoami {}")
    echoed = await decide_approval(handle, echoed.pending_approvals[0].tool_call_id, approve=True)
    assert "[REDACTED]" in echoed.text
    corpus, _ = await history_corpus(temporal_client, f"TaskQueue = '{settings.temporal.task_queue}'")
    assert "chair" in corpus and find_leaks([distinctive_secret], corpus) == []
    assert find_leaks([distinctive_secret], captured_logs.getvalue()) == []
    assert json.dumps(recorder.definitions[0][0].parameters_json_schema)  # definitions are plain JSON


async def test_pasted_document_works_like_a_fetched_one(make_entry, services, api, distinctive_secret):
    import httpx

    base, calls = api
    async with httpx.AsyncClient() as client:
        document = (await client.get(f"{base}/openapi.json")).json()
    document["servers"] = [{"url": base}]
    entry = await make_entry("openapi", "global", data={"spec_text": json.dumps(document), "auth_header_name": HEADER,
                                                        "max_operations": 2},
                             secrets={"auth_header_value": distinctive_secret})
    before = len(calls)
    set_up = await services.setup_cache.get(entry)
    assert sorted(set_up.tools) == ["get_item", "list_items"] and len(calls) == before  # nothing fetched at setup
    toolset, tool = set_up.tools["list_items"]
    listed = await toolset.call_tool("list_items", {"limit": 1}, tool_run_context(), tool)
    assert listed.ok and [i["name"] for i in listed.body] == ["lamp"]
