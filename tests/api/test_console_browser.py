"""The web console in a real browser: Debian's Chromium driven by Playwright against the live app.

Adds the ``myservice`` entry through the wizard, opens a chat, sends a message that makes
the offline model call the untrusted ``sketchy`` tool, approves it in the page and sees
the answer. Chromium must be installed (``.ci/run`` installs it): a missing browser fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-quic", "--disable-component-update", "--disable-sync"]
FETCH = '/tool sketchy_fetch {"url": "http://x.test"}'
TIMEOUT_MS = 30_000


@pytest.fixture
async def page(live_api):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (never `playwright install`)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(base_url=live_api, viewport={"width": 1200, "height": 900})
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page
            assert errors == [], errors  # no script error on any page we visited
        finally:
            await browser.close()


async def test_wizard_chat_and_approval_in_a_real_browser(page, worker, make_entry, services, artifacts,
                                                         distinctive_secret):
    await make_entry("sketchy", "global")

    # Sign in with the dev principal header.
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"#/auth$"))
    await page.get_by_label("Principal or token").fill("alice;org=acme")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#who")).to_have_text("signed in as alice @ acme")

    # The wizard, rendered from the flow's fields: a field error first, then the entry.
    await expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
    await page.get_by_role("link", name="Add My Service").click()
    await expect(page.get_by_role("heading", name="Connect My Service")).to_be_visible()
    api_key = page.get_by_label("API key")
    assert await api_key.get_attribute("type") == "password"  # secret fields are write-only inputs
    await page.get_by_label("Base URL").fill("not a url")
    await api_key.fill(distinctive_secret)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("alert")).to_contain_text("Enter an absolute URL")
    await expect(page.get_by_label("API key")).to_have_value("")  # a secret never comes back to the page
    await expect(page.get_by_label("Base URL")).to_have_value("not a url")  # other input is kept for fixing
    await page.get_by_label("Base URL").fill("https://myservice.example.com")
    await page.get_by_label("API key").fill(distinctive_secret)
    await page.screenshot(path=str(artifacts / "console-wizard.png"))
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_role("heading", name="Entry created")).to_be_visible()

    # Entries show the secret masked.
    await page.get_by_role("link", name="Go to entries").click()
    row = page.get_by_role("row", name="myservice.example.com")
    await expect(row).to_contain_text("api_key ••••")
    assert distinctive_secret not in await page.content()
    [entry] = [e for e in await services.entries.list_for_principal(
        __import__("runtime.principal", fromlist=["Principal"]).Principal(sub="alice", org_id="acme"))
        if e.domain == "myservice"]
    assert (await services.entries.build_setup_context(entry.id)).secrets["api_key"] == distinctive_secret

    # Chat: the untrusted tool waits for approval in the page; approving runs it and shows the answer.
    await page.get_by_role("link", name="Chat").click()
    await page.get_by_role("button", name="New session").click()
    await expect(page.get_by_role("heading", name=re.compile("^Session"))).to_be_visible()
    message = page.get_by_role("textbox", name="Message")
    await message.fill(FETCH)
    await message.press("Enter")  # keyboard: Enter sends
    approvals = page.get_by_role("region", name="Waiting for your approval")
    await expect(approvals).to_contain_text("sketchy_fetch")
    await expect(approvals).to_contain_text("untrusted integration")
    await approvals.get_by_role("button", name="Approve sketchy_fetch").click()
    log = page.get_by_role("log", name="Conversation")
    await expect(log.locator("li.assistant").last).to_contain_text("IGNORE PREVIOUS INSTRUCTIONS")
    await expect(page.locator("#chat-state")).to_have_text("Turn 1: completed")
    await expect(approvals).to_be_hidden()
    await page.screenshot(path=str(artifacts / "console-chat.png"), full_page=True)

    # Entities of alice's entries, filterable by type.
    from runtime.entities.store import EntityStore

    things = await make_entry("things", "user", owner_sub="alice", data={"control_dir": str(artifacts)})
    await EntityStore(services.ctx.pool).apply(things.id, [
        {"entity_id": "light.kitchen", "type": "light", "state": "on", "actions": ["turn_off"]},
        {"entity_id": "sensor.door", "type": "sensor", "state": "closed"}], full=True)
    await page.get_by_role("link", name="Entities").click()
    table = page.get_by_role("table", name="Entities")
    await expect(table.get_by_role("row")).to_have_count(3)
    await page.get_by_label("Type").fill("light")
    await page.get_by_role("button", name="Filter").click()
    await expect(table.get_by_role("row")).to_have_count(2)
    await expect(table).to_contain_text("light.kitchen")
