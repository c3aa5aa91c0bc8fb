"""The dashboard in a real browser: headless Chromium driven by Playwright (the
`browser` fixture, tests/support/browser.py)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import BrowserContext, Page, expect

from tests.support.samples import ALICE, BOB
from tests.web.conftest import TOKEN, Served


async def open_dashboard(browser: BrowserContext, served: Served, fragment: str) -> Page:
    page = await browser.new_page()
    await page.goto(f"{served.server.url}/{fragment}")
    return page


async def test_the_dashboard_shows_the_engine_and_pauses_a_leader(
    browser: BrowserContext, served: Served, tmp_path: Path
) -> None:
    page = await open_dashboard(browser, served, f"#token={TOKEN}")
    await expect(page.locator("body[data-loaded=true]")).to_have_count(1)
    assert TOKEN not in page.url  # taken out of the address bar at once

    await expect(page.locator("#mode-badge")).to_have_text("PAPER")
    position = page.locator("#positions tbody tr").first
    await expect(position).to_contain_text("Will it rain tomorrow?")
    await expect(position).to_contain_text("20")
    await expect(position).to_contain_text("alice 20")
    skip = page.locator("#decisions tbody tr").first
    await expect(skip).to_contain_text("skip")
    await expect(skip).to_contain_text("filter_price_band: the price was outside")
    await expect(page.locator("#ready")).to_contain_text("not ready: feed.stream")

    bob = page.locator(f'#leaders tr[data-address="{BOB}"]')
    await expect(bob).to_contain_text("copying")
    await bob.get_by_role("button", name="Pause").click()
    await expect(bob).to_contain_text("paused")
    await expect(bob.get_by_role("button", name="Resume")).to_be_visible()
    assert served.service.calls == [("pause", BOB)]
    assert served.service.leader_views[BOB].paused
    assert not served.service.leader_views[ALICE].paused

    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator("#kill-button").click()
    await expect(page.locator("#kill-state")).to_contain_text("KILL SWITCH ENGAGED (dashboard)")
    assert served.service.kill.engaged

    await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    html = await page.content()
    assert TOKEN not in html


async def test_without_a_token_the_dashboard_asks_for_one_and_shows_no_data(
    browser: BrowserContext, served: Served
) -> None:
    page = await open_dashboard(browser, served, "")
    await expect(page.locator("#login")).to_be_visible()
    await expect(page.locator("#main")).to_be_hidden()
    await page.fill("#token-input", "not-the-right-token-at-all")
    await page.click("#login-form button")
    await expect(page.locator("#login-message")).to_contain_text("wrong token")
    await page.fill("#token-input", TOKEN)
    await page.click("#login-form button")
    await expect(page.locator("#mode-badge")).to_have_text("PAPER")
    await expect(page.locator("#main")).to_be_visible()
