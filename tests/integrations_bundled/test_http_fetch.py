"""http_fetch: clean text from a local server, allow-list and address rules, caps, the flow, a session."""

from __future__ import annotations

import gzip
import ipaddress
import time
from typing import Any

import pytest
from pydantic import ValidationError

from runtime.principal import Principal
from runtime.sessions.client import send_message
from runtime.sessions.types import TurnStatus

from .conftest import BUNDLED
from .support import assert_error_keys_translated, assert_form_spec_valid

ALICE = Principal(sub="alice", org_id="acme")
ADMIN = Principal(sub="root", org_id="acme", is_admin=True)

PAGE = b"""<!doctype html><html><head><title>  Durable   Agents </title>
<style>body { color: red }</style><script>alert("tracking")</script></head>
<body><nav>Home</nav><h1>Durable    agents</h1>
<p>Temporal keeps   the <b>loop</b> alive.</p><noscript>enable js</noscript>
<ul><li>one</li><li>two</li></ul><svg><text>vector</text></svg><p>Caf&eacute; &amp; more</p></body></html>"""


def _send(handler: Any, body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200,
          headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


def _redirect(location: str):
    def route(handler: Any) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return route


def _slow(handler: Any) -> None:
    time.sleep(2.5)
    _send(handler, b"late")


@pytest.fixture
def site(http_server):
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))
    routes = {
        "/page": lambda h: _send(h, PAGE),
        "/plain": lambda h: _send(h, b"line one   \r\n\r\n\r\n\r\nline\ttwo", "text/plain"),
        "/json": lambda h: _send(h, b'{"a": [1, 2]}', "application/json"),
        "/big": lambda h: _send(h, b"x" * (3 * 1024 * 1024), "text/plain"),
        "/long": lambda h: _send(h, b"word " * 10_000, "text/plain"),
        "/bomb": lambda h: _send(h, bomb, "text/plain", headers={"Content-Encoding": "gzip"}),
        "/gz": lambda h: _send(h, gzip.compress(PAGE), headers={"Content-Encoding": "gzip"}),
        "/image": lambda h: _send(h, b"\x89PNG....", "image/png"),
        "/missing": lambda h: _send(h, b"gone", status=404),
        "/slow": _slow,
        "/hop": _redirect("/page"),
        "/loop": _redirect("/loop"),
        "/away": _redirect("http://localhost.invalid/page"),
        "/metadata": _redirect("http://169.254.169.254/latest/meta-data/"),
    }
    return http_server(routes)


def _module(name: str) -> Any:
    import importlib

    return importlib.import_module(f"agentrt_integrations.http_fetch.{name}")


def _config(**overrides: Any) -> Any:
    values = {"allowed_domains": "127.0.0.1", "allow_private_networks": True, **overrides}
    return _module("config").FetchConfig.model_validate(values)


async def _fetch(url: str, **overrides: Any) -> Any:
    return await _module("fetcher").fetch(url, _config(**overrides))


async def _refusal(url: str, **overrides: Any) -> str:
    with pytest.raises(_module("policy").FetchRefused) as caught:
        await _fetch(url, **overrides)
    return caught.value.key


# -- config model and policy -----------------------------------------------------------

def test_config_requires_an_allow_list_and_checks_patterns_and_bounds(registry):
    FetchConfig = _module("config").FetchConfig
    with pytest.raises(ValidationError) as missing:
        FetchConfig.model_validate({})
    assert missing.value.errors()[0]["type"] == "missing"
    for bad, key in [("", "allowed_domains_empty"), ("exa*mple.com", "invalid_domain_pattern"),
                     ("https://example.com/x", "invalid_domain_pattern"), ("*.10.0.0.1", "invalid_domain_pattern"),
                     ("-bad-.com", "invalid_domain_pattern")]:
        with pytest.raises(ValidationError) as caught:
            FetchConfig.model_validate({"allowed_domains": bad})
        assert key in str(caught.value)
    with pytest.raises(ValidationError):
        FetchConfig.model_validate({"allowed_domains": "a.com", "max_download_kb": 0})
    config = FetchConfig.model_validate({"allowed_domains": "Example.COM., *.Wiki.org\nbücher.de  127.0.0.1"})
    assert config.patterns == ("example.com", "*.wiki.org", "xn--bcher-kva.de", "127.0.0.1")
    assert config.allow_private_networks is False and config.max_download_bytes == 2048 * 1024


def test_wildcards_match_subdomains_only():
    host_allowed = _module("policy").host_allowed
    patterns = ("*.example.com", "exact.org")
    assert host_allowed("a.example.com", patterns) and host_allowed("a.b.EXAMPLE.com.", patterns)
    assert not host_allowed("example.com", patterns)
    assert not host_allowed("badexample.com", patterns) and not host_allowed("example.com.evil.net", patterns)
    assert host_allowed("exact.org", patterns) and not host_allowed("www.exact.org", patterns)
    assert host_allowed("anything.net", ("*",))


@pytest.mark.parametrize(("address", "allow_private", "refusal"), [
    ("93.184.216.34", False, None),
    ("127.0.0.1", False, "private_address"),
    ("127.0.0.1", True, None),
    ("10.1.2.3", False, "private_address"),
    ("100.64.0.1", False, "private_address"),
    ("::1", False, "private_address"),
    ("::ffff:10.0.0.1", False, "private_address"),  # IPv4-mapped: judged as the IPv4 address
    ("169.254.169.254", True, "address_forbidden"),  # cloud metadata: never, whatever the entry says
    ("fe80::1", True, "address_forbidden"),
    ("224.0.0.1", True, "address_forbidden"),
    ("0.0.0.0", True, "address_forbidden"),
])
def test_address_rules(address, allow_private, refusal):
    assert _module("policy").address_refusal(ipaddress.ip_address(address), allow_private) == refusal


# -- fetching from a local server ------------------------------------------------------

async def test_html_comes_back_as_clean_text(site, registry):
    page = await _fetch(f"{site.base_url}/page")
    assert page.status == 200 and page.content_type == "text/html" and page.title == "Durable Agents"
    assert page.text == "Home\n\nDurable agents\n\nTemporal keeps the loop alive.\n\none\n\ntwo\n\nCafé & more"
    for junk in ("alert", "color: red", "enable js", "vector", "<"):
        assert junk not in page.text
    assert not page.truncated and page.bytes_read == len(PAGE)
    gz = await _fetch(f"{site.base_url}/gz")
    assert gz.text == page.text and gz.bytes_read == len(PAGE)


async def test_plain_text_collapses_and_json_is_kept(site, registry):
    assert (await _fetch(f"{site.base_url}/plain")).text == "line one\n\nline two"
    assert (await _fetch(f"{site.base_url}/json")).text == '{"a": [1, 2]}'


async def test_download_cap_stops_reading_and_marks_the_page(site, registry):
    page = await _fetch(f"{site.base_url}/big", max_download_kb=64, max_output_chars=15_000)
    assert page.truncated and page.bytes_read == 64 * 1024
    bomb = await _fetch(f"{site.base_url}/bomb", max_download_kb=64)
    assert bomb.truncated and bomb.bytes_read == 64 * 1024  # 8 MiB of zeros never materialised


async def test_output_cap_cuts_text_with_a_marker(site, registry):
    page = await _fetch(f"{site.base_url}/long", max_output_chars=500)
    assert page.truncated and page.text.startswith("word word")
    assert page.text.endswith("[truncated: 49499 characters omitted]") and len(page.text) < 600


async def test_redirects_are_followed_and_checked_at_every_hop(site, registry):
    page = await _fetch(f"{site.base_url}/hop")
    assert page.url == f"{site.base_url}/page" and page.title == "Durable Agents"
    assert await _refusal(f"{site.base_url}/away") == "domain_not_allowed"
    assert await _refusal(f"{site.base_url}/metadata", allowed_domains="127.0.0.1 169.254.169.254") == "address_forbidden"
    assert await _refusal(f"{site.base_url}/loop", max_redirects=2) == "too_many_redirects"


async def test_refusals_have_stable_keys(site, registry):
    assert await _refusal(f"{site.base_url}/page", allow_private_networks=False) == "private_address"
    assert await _refusal(f"{site.base_url}/page", allowed_domains="example.com") == "domain_not_allowed"
    assert site.requests == []  # refused before any connection was made
    assert await _refusal("file:///etc/passwd") == "scheme_not_allowed"
    assert await _refusal("ftp://127.0.0.1/x") == "scheme_not_allowed"
    assert await _refusal(f"http://user:pw@127.0.0.1:{site.base_url.rsplit(':', 1)[1]}/page") == "url_invalid"
    assert await _refusal(f"{site.base_url}/image") == "unsupported_content_type"
    assert await _refusal(f"{site.base_url}/missing") == "http_status"
    assert await _refusal(f"{site.base_url}/slow", timeout_seconds=1) == "timeout"
    assert await _refusal("http://127.0.0.1:9/closed") == "connection_failed"


async def test_requests_name_the_host_and_ignore_proxy_settings(site, registry, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would fail the fetch if it were honoured
    await _fetch(f"{site.base_url}/page")
    headers = site.requests[-1]["headers"]
    assert headers["Host"] == site.base_url.removeprefix("http://")
    assert headers["Accept-Encoding"] == "gzip, identity"


# -- flow, entry, session --------------------------------------------------------------

async def test_form_spec_is_valid_and_translated(registry, flow_manager):
    loaded = registry.get("http_fetch")
    fields = assert_form_spec_valid(loaded)
    assert [f.name for f in fields] == ["allowed_domains", "allow_private_networks", "max_download_kb",
                                        "max_output_chars", "timeout_seconds", "max_redirects"]
    assert loaded.manifest.provides == ("web_fetch",) and loaded.path == BUNDLED / "http_fetch"
    assert_error_keys_translated(loaded, ["allowed_domains_empty", "invalid_domain_pattern",
                                          "private_networks_need_admin"])
    form = await flow_manager.start("http_fetch", ALICE)
    assert form.title == "Set up HTTP Fetch" and form.fields[0].label == "Allowed domains"
    assert form.fields[0].required and form.fields[1].default is False


async def test_flow_validates_patterns_and_keeps_private_networks_for_admins(flow_manager, services):
    form = await flow_manager.start("http_fetch", ALICE)
    bad = await flow_manager.submit(form.flow_id, {"allowed_domains": "ex*ample.com"}, ALICE)
    assert bad.errors["allowed_domains"].key == "invalid_domain_pattern"
    private = await flow_manager.submit(form.flow_id, {"allowed_domains": "127.0.0.1",
                                                       "allow_private_networks": True}, ALICE)
    assert private.errors["base"].key == "private_networks_need_admin"
    done = await flow_manager.submit(form.flow_id, {"allowed_domains": "example.com"}, ALICE)
    assert done.type == "create_entry"
    entry = await services.entries.get(done.entry_id)
    assert entry.data["allowed_domains"] == "example.com" and entry.data["max_download_kb"] == 2048
    assert (await services.entries.read_masked(entry.id))["secrets"] == {}  # nothing secret to mask

    admin_form = await flow_manager.start("http_fetch", ADMIN, scope="global")
    admin = await flow_manager.submit(admin_form.flow_id, {"allowed_domains": "127.0.0.1",
                                                           "allow_private_networks": True}, ADMIN)
    assert admin.type == "create_entry"


async def test_user_entry_written_around_the_flow_still_cannot_reach_private_networks(site, make_entry, services):
    entry = await make_entry("http_fetch", "user", owner_sub="alice",
                             data={"allowed_domains": "127.0.0.1", "allow_private_networks": True})
    set_up = await services.setup_cache.get(entry)
    toolset, tool = set_up.tools["http_fetch_url"]
    from runtime.sessions.setup_cache import tool_run_context

    with pytest.raises(_module("policy").FetchRefused) as caught:
        await toolset.call_tool("http_fetch_url", {"url": f"{site.base_url}/page"}, tool_run_context(), tool)
    assert caught.value.key == "private_address"


async def test_session_fetches_a_page_through_the_worker(worker, site, make_entry, open_session, recorder):
    await make_entry("http_fetch", "global", data={"allowed_domains": "127.0.0.1", "allow_private_networks": True})
    handle = await open_session(ALICE)
    result = await send_message(handle, f'/tool http_fetch_url {{"url": "{site.base_url}/page"}}')
    assert result.status is TurnStatus.COMPLETED
    assert "http_fetch_url returned" in result.text and "Temporal keeps the loop alive." in result.text
    assert "alert" not in result.text
    definition = recorder.definition("http_fetch_url", 0)
    assert definition.parameters_json_schema["required"] == ["url"]
    assert "allow-list" in (definition.description or "")

    refused = await send_message(handle, '/tool http_fetch_url {"url": "http://10.0.0.1/"}')
    assert refused.status is TurnStatus.COMPLETED and "domain_not_allowed" in refused.text
