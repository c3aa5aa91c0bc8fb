"""The HTML report in headless Chromium: the three plots are drawn (a PnL curve with the
follower and the leaders, the drawdown, the penalty distribution), the page needs no
network, and a screenshot is kept."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from playwright.async_api import BrowserContext

from polytail.backtest.html import render
from polytail.backtest.inputs import load_inputs
from polytail.backtest.report import build
from polytail.backtest.runner import replay
from polytail.backtest.settings import BacktestSettings
from tests.backtest.support import gamma_market, history, random_fills


async def report_page(tmp_path: Path) -> Path:
    fills, markets = history(
        tmp_path,
        random_fills(seed=3, count=60, markets=6),
        [gamma_market(n, winner=n % 2) for n in range(1, 7)],
    )
    settings = BacktestSettings(latency_ms=5_000, slippage_bps=40, ratio=Decimal("0.5"), caps=False)
    report = build(await replay(load_inputs([fills], [markets]), settings))
    page = tmp_path / "report.html"
    page.write_text(render(report), encoding="utf-8")
    return page


async def test_the_report_draws_its_three_plots_offline(
    browser: BrowserContext, tmp_path: Path
) -> None:
    html = await report_page(tmp_path)
    page = await browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(html.as_uri())
    for figure in ("#equity-curve", "#drawdown", "#penalty-distribution"):
        box = await page.locator(f"{figure} svg").bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 150, figure
    curve = page.locator("#equity-curve polyline.series")
    assert await curve.count() == 2  # the follower and the leaders at the copy scale
    for index in range(2):
        points = await curve.nth(index).get_attribute("points")
        assert points is not None and len(points.split()) > 10
    drawdown = await page.locator("#drawdown polyline.series").get_attribute("points")
    assert drawdown is not None and len(drawdown.split()) > 10
    assert await page.locator("#penalty-distribution rect.bar").count() >= 1
    assert requested == [html.as_uri()]  # self-contained: nothing else was fetched
    shot = tmp_path / "backtest-report.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"\nbacktest report screenshot: {shot}")
