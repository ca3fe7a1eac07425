"""Config flows and entries through the HTTP API: the myservice wizard, masking, ownership."""

from __future__ import annotations

from .conftest import ADMIN, ALICE, BOB, as_

GOOD = {"base_url": "https://myservice.example.com"}


async def _add_myservice(api, headers, secret: str) -> dict:
    form = (await api.post("/api/flows", json={"domain": "myservice"}, headers=headers)).json()
    done = await api.post(f"/api/flows/{form['flow_id']}", json={**GOOD, "api_key": secret}, headers=headers)
    assert done.status_code == 200 and done.json()["type"] == "create_entry", done.text
    return done.json()


async def test_myservice_flow_runs_end_to_end_through_the_api(api, services, captured_logs, distinctive_secret):
    started = await api.post("/api/flows?lang=en", json={"domain": "myservice"}, headers=ALICE)
    assert started.status_code == 200, started.text
    form = started.json()
    assert form["type"] == "form" and form["step_id"] == "user" and form["title"] == "Connect My Service"
    fields = {f["name"]: f for f in form["fields"]}
    assert fields["base_url"]["label"] == "Base URL" and fields["base_url"]["required"]
    assert fields["api_key"]["type"] == "secret" and fields["api_key"]["default"] is None

    # A field error comes back as a key with its translated text, and the form again.
    bad = await api.post(f"/api/flows/{form['flow_id']}", json={"base_url": "not a url", "api_key": distinctive_secret},
                         headers=ALICE)
    assert bad.status_code == 200
    assert bad.json()["type"] == "form"
    assert bad.json()["errors"]["base"]["key"] == "invalid_url"
    assert "absolute URL" in bad.json()["errors"]["base"]["text"]
    assert distinctive_secret not in bad.text

    missing = await api.post(f"/api/flows/{form['flow_id']}", json={"base_url": GOOD["base_url"]}, headers=ALICE)
    assert missing.json()["errors"]["api_key"]["key"] == "required"

    # Reload-safe: GET shows the form the flow waits on, with no secret in it.
    again = await api.get(f"/api/flows/{form['flow_id']}", headers=ALICE)
    assert again.status_code == 200 and again.json()["step_id"] == "user" and distinctive_secret not in again.text

    done = await api.post(f"/api/flows/{form['flow_id']}", json={**GOOD, "api_key": distinctive_secret}, headers=ALICE)
    created = done.json()
    assert created["type"] == "create_entry" and created["title"] == GOOD["base_url"]

    listed = await api.get("/api/entries", headers=ALICE)
    [entry] = [e for e in listed.json() if e["domain"] == "myservice"]
    assert entry["id"] == created["entry_id"] and entry["owner_sub"] == "alice" and entry["scope"] == "user"
    assert entry["secrets"] == {"api_key": "••••"} and entry["data"] == GOOD and entry["manageable"]
    ctx = await services.entries.build_setup_context(created["entry_id"])
    assert ctx.secrets["api_key"] == distinctive_secret
    # A second flow for a single-instance integration aborts with a translated reason.
    second = (await api.post("/api/flows", json={"domain": "myservice"}, headers=ALICE)).json()
    assert second["type"] == "abort" and second["reason"]["key"] == "already_configured"
    assert distinctive_secret not in listed.text + captured_logs.getvalue()


async def test_masked_round_trip_keeps_the_secret_and_a_new_value_replaces_it(api, services, distinctive_secret):
    entry_id = (await _add_myservice(api, ALICE, distinctive_secret))["entry_id"]
    read = (await api.get(f"/api/entries/{entry_id}", headers=ALICE)).json()
    assert read["secrets"]["api_key"] == "••••" and distinctive_secret not in str(read)

    # Send the whole form back unchanged: the mask means "keep".
    kept = await api.patch(f"/api/entries/{entry_id}", headers=ALICE, json={
        "title": "renamed", "data": read["data"], "secrets": read["secrets"], "expected_revision": read["revision"]})
    assert kept.status_code == 200, kept.text
    assert kept.json()["title"] == "renamed" and kept.json()["secrets"]["api_key"] == "••••"
    assert (await services.entries.build_setup_context(entry_id)).secrets["api_key"] == distinctive_secret

    # A stale revision conflicts; a mask that is not the current one is refused; neither changes anything.
    stale = await api.patch(f"/api/entries/{entry_id}", headers=ALICE,
                            json={"title": "x", "expected_revision": read["revision"]})
    assert stale.status_code == 409 and stale.json()["error"] == "entry_revision_conflict"
    wrong = await api.patch(f"/api/entries/{entry_id}", headers=ALICE, json={"secrets": {"api_key": "••••abcd"}})
    assert wrong.status_code == 422 and wrong.json()["error"] == "masked_value_invalid"

    replaced = await api.patch(f"/api/entries/{entry_id}", headers=ALICE, json={"secrets": {"api_key": "sk-new-value-1"}})
    assert replaced.status_code == 200 and "sk-new-value-1" not in replaced.text
    assert (await services.entries.build_setup_context(entry_id)).secrets["api_key"] == "sk-new-value-1"

    unknown = await api.patch(f"/api/entries/{entry_id}", headers=ALICE, json={"secrets": {"other": "x"}})
    assert unknown.status_code == 422 and unknown.json()["error"] == "entry_field_invalid"
    as_data = await api.patch(f"/api/entries/{entry_id}", headers=ALICE, json={"data": {"api_key": "plain"}})
    assert as_data.status_code == 422


async def test_reload_resets_state_and_bumps_the_revision_so_every_worker_sets_up_again(api, services, distinctive_secret):
    from runtime.integrations.entry_states import ConfigEntryState

    entry_id = (await _add_myservice(api, ALICE, distinctive_secret))["entry_id"]
    await services.entries.set_state(entry_id, ConfigEntryState.SETUP_ERROR, "boom")
    state = (await api.get(f"/api/entries/{entry_id}/state", headers=ALICE)).json()
    assert state["state"] == "setup_error" and state["recoverable"] and state["reason"] == "boom"
    reloaded = await api.post(f"/api/entries/{entry_id}/reload", headers=ALICE)
    assert reloaded.status_code == 200
    assert reloaded.json()["state"] == "not_loaded" and reloaded.json()["revision"] == state["revision"] + 1

    disabled = await api.patch(f"/api/entries/{entry_id}", headers=ALICE, json={"disabled": True})
    assert disabled.json()["disabled"] is True
    assert [e["id"] for e in (await api.get("/api/entries", headers=ALICE)).json()] == [entry_id]  # still listed

    assert (await api.delete(f"/api/entries/{entry_id}", headers=ALICE)).status_code == 204
    gone = await api.get(f"/api/entries/{entry_id}", headers=ALICE)
    assert gone.status_code == 404 and gone.json() == {"error": "entry_not_found", "message": gone.json()["message"]}


async def test_another_principal_can_neither_see_nor_touch_a_user_entry(api, make_entry, distinctive_secret):
    entry_id = (await _add_myservice(api, ALICE, distinctive_secret))["entry_id"]
    assert all(e["id"] != entry_id for e in (await api.get("/api/entries", headers=BOB)).json())
    for method, path, body in [
        ("GET", f"/api/entries/{entry_id}", None),
        ("GET", f"/api/entries/{entry_id}/state", None),
        ("PATCH", f"/api/entries/{entry_id}", {"secrets": {"api_key": "••••"}}),
        ("POST", f"/api/entries/{entry_id}/reload", None),
        ("DELETE", f"/api/entries/{entry_id}", None),
    ]:
        for who in (BOB, as_("root", org="acme", admin=True)):  # an admin of the org does not own alice's entry
            res = await api.request(method, path, json=body, headers=who)
            assert res.status_code == 404 and res.json()["error"] == "entry_not_found", (method, path, res.text)
    # Bob's own flow cannot be driven, read or aborted by alice either.
    bobs = (await api.post("/api/flows", json={"domain": "myservice"}, headers=BOB)).json()
    for method in ("GET", "DELETE"):
        res = await api.request(method, f"/api/flows/{bobs['flow_id']}", headers=ALICE)
        assert res.status_code == 404 and res.json()["error"] == "flow_not_found"
    res = await api.post(f"/api/flows/{bobs['flow_id']}", json={**GOOD, "api_key": "x" * 8}, headers=ALICE)
    assert res.status_code == 404

    # A shared entry is visible to org members, masked without hints, and only admins manage it.
    shared = await make_entry("myservice", "org", org_id="acme", secrets={"api_key": "sk-shared-password-1234"},
                              secret_kinds={"api_key": "password"})
    seen = (await api.get(f"/api/entries/{shared.id}", headers=BOB)).json()
    assert seen["secrets"] == {"api_key": "••••"} and not seen["manageable"]
    refused = await api.patch(f"/api/entries/{shared.id}", headers=BOB, json={"title": "mine now"})
    assert refused.status_code == 403 and refused.json()["error"] == "entry_forbidden"
    admin_view = (await api.get(f"/api/entries/{shared.id}", headers=ADMIN)).json()
    assert admin_view["secrets"] == {"api_key": "••••1234"} and admin_view["manageable"]
    outsider = await api.get(f"/api/entries/{shared.id}", headers=as_("eve", org="evil"))
    assert outsider.status_code == 404


async def test_flow_errors_are_keyed_json(api):
    unknown = await api.post("/api/flows", json={"domain": "nope"}, headers=ALICE)
    assert unknown.status_code == 404 and unknown.json()["error"] == "integration_not_found"
    shared = await api.post("/api/flows", json={"domain": "myservice", "scope": "global"}, headers=ALICE)
    assert shared.status_code == 403 and shared.json()["error"] == "scope_forbidden"
    missing = await api.get("/api/flows/0123456789abcdef", headers=ALICE)
    assert missing.status_code == 404 and missing.json()["error"] == "flow_not_found"
    form = (await api.post("/api/flows", json={"domain": "myservice"}, headers=ALICE)).json()
    not_object = await api.post(f"/api/flows/{form['flow_id']}", json=["a"], headers=ALICE)
    assert not_object.status_code == 422 and not_object.json()["error"] == "request_invalid"
    nul = await api.post(f"/api/flows/{form['flow_id']}", json={"base_url": "http://a\u0000b"}, headers=ALICE)
    assert nul.status_code == 422 and nul.json()["error"] == "flow_input_invalid"
    unknown_field = (await api.post(f"/api/flows/{form['flow_id']}", json={"zzz": 1}, headers=ALICE)).json()
    assert unknown_field["errors"]["zzz"]["key"] == "unknown_field"
    assert (await api.delete(f"/api/flows/{form['flow_id']}", headers=ALICE)).status_code == 204
    assert (await api.get(f"/api/flows/{form['flow_id']}", headers=ALICE)).status_code == 404
