"""The `real` scenario: markets, books and a leader's history from the recorded data.

- Insider_Amy: the 59 CLOB market objects and the wallet's 3,500 recorded trades, replayed
  in order on a compressed clock (`replay_seconds` for the whole history), then each market
  resolves to its recorded winner.
- resolvedkit: the 18 BTC 15-minute markets with their first real L2 snapshot as books.
- polymarket-data-samples: a few BTC 5-minute markets served from their raw Gamma objects.

Data is read from the shared folder at run time and never copied into the repository.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from polytail.sim import scripting
from polytail.sim.engine import LedgerError, OrderRejected
from polytail.sim.exchange import Exchange
from polytail.sim.markets import Event, Market, v1_token_id
from polytail.sim.money import UNIT, price_micros, units
from polytail.sim.scenarios import (
    MarketSpec,
    Scenario,
    ScenarioError,
    _seed_book,
    price_from_float,
    seed_levels,
    shared_data_dir,
)
from polytail.sim.tape import Profile

AMY = "0xee50a31c3f5a7c77824b12a941a54388a2827ed6"
BTC_5M_MARKETS = 6


def install(exchange: Exchange, scenario: Scenario) -> None:
    root = shared_data_dir()
    if root is None:
        raise ScenarioError(
            "the 'real' scenario needs the recorded data: set POLYTAIL_SHARED_DATA to the "
            "shared/data folder (it holds PROVENANCE.md), or use --scenario synthetic"
        )
    _insider_amy(exchange, scenario, root / "Insider_Amy")
    _resolvedkit(exchange, scenario, root / "resolvedkit")
    _btc_5m(exchange, scenario, root / "polymarket-data-samples")


def _insider_amy(exchange: Exchange, scenario: Scenario, folder: Path) -> None:
    clob_markets: list[dict[str, Any]] = json.loads((folder / "markets.json").read_text())
    trades: list[dict[str, Any]] = json.loads((folder / "trades.json").read_text())
    event_of = {t["conditionId"]: (t["eventSlug"], t["slug"], t.get("icon", "")) for t in trades}
    events: dict[str, Event] = {}
    markets: dict[str, Market] = {}
    for index, raw in enumerate(clob_markets):
        condition = raw["condition_id"]
        event_slug, slug, icon = event_of.get(
            condition, (raw["market_slug"], raw["market_slug"], "")
        )
        event = events.setdefault(
            event_slug,
            Event(
                id=str(30_000 + len(events)),
                slug=event_slug,
                title=event_slug,
                neg_risk=bool(raw["neg_risk"]),
            ),
        )
        tick = price_micros(str(raw["minimum_tick_size"]))
        market = Market(
            condition_id=condition,
            slug=slug,
            question=raw["question"],
            outcomes=[t["outcome"] for t in raw["tokens"]],
            token_ids=[t["token_id"] for t in raw["tokens"]],
            neg_risk=bool(raw["neg_risk"]),
            tick=tick,
            min_size=units(str(raw["minimum_order_size"])),
            gamma_id=str(600_000 + index),
            question_id=raw.get("question_id", ""),
            start_ts=exchange.now() - 86_400,
            end_ts=exchange.now() + int(scenario.replay_seconds) + 60,
            icon=icon,
            description=raw.get("description", ""),
            event=event,
            raw_clob=raw,
        )
        exchange.add_market(market)
        markets[condition] = market
    wallet = exchange.register_wallet(
        AMY,
        profile=Profile(
            name=trades[0].get("name", ""),
            pseudonym=trades[0].get("pseudonym", ""),
            image=trades[0].get("profileImage", ""),
        ),
    ).address
    exchange.fund(wallet)
    ordered = sorted(trades, key=lambda t: t["timestamp"])
    if scenario.replay_limit:
        ordered = ordered[: scenario.replay_limit]
    first_price: dict[str, int] = {}
    for trade in ordered:
        traded = markets.get(trade["conditionId"])
        if traded is not None and trade["asset"] not in first_price:
            first_price[trade["asset"]] = price_from_float(trade["price"], traded.tick)
    for market in markets.values():
        mid = first_price.get(market.token_ids[0])
        if mid is None and market.token_ids[1] in first_price:
            mid = UNIT - first_price[market.token_ids[1]]
        spec = MarketSpec(
            slug=market.slug,
            mid=str((mid or UNIT // 2) / UNIT),
            depth=5,
            tick=str(market.tick / UNIT),
            spread=str(2 * market.tick / UNIT),
        )
        _seed_book(exchange, market, spec, _rng(exchange))
    start = exchange.clock.now()
    t0 = ordered[0]["timestamp"] if ordered else 0
    span = max(1, (ordered[-1]["timestamp"] - t0) if ordered else 1)
    compression = scenario.replay_seconds / span
    by_time: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for trade in ordered:
        by_time[start + (trade["timestamp"] - t0) * compression].append(trade)
    for when, batch in by_time.items():
        exchange.at(when, _replay_batch(exchange, wallet, markets, batch))
    end = start + scenario.replay_seconds + 1
    for market in markets.values():
        winners = [bool(t["winner"]) for t in market.raw_clob["tokens"]] if market.raw_clob else []
        if any(winners):
            payouts = tuple(UNIT if w else 0 for w in winners)
            exchange.at(end, _resolver(exchange, market, payouts, wallet, scenario))


def _replay_batch(
    exchange: Exchange, wallet: str, markets: dict[str, Market], batch: list[dict[str, Any]]
) -> Any:
    def run() -> None:
        for trade in batch:
            market = markets.get(trade["conditionId"])
            if market is None or market.closed:
                continue
            shares = int(float(trade["size"]) * 100) * 10_000
            price = price_from_float(trade["price"], market.tick)
            if shares <= 0:
                continue
            try:
                scripting.trade(exchange, wallet, trade["asset"], trade["side"], shares, price)
            except (OrderRejected, LedgerError):
                continue

    return run


def _resolver(
    exchange: Exchange, market: Market, payouts: tuple[int, ...], wallet: str, scenario: Scenario
) -> Any:
    def run() -> None:
        if market.closed:
            return
        exchange.resolve(market.condition_id, payouts)

        def redeem() -> None:
            exchange.redeem(wallet, market.condition_id)

        exchange.at(exchange.clock.now() + scenario.redeem_delay, redeem)

    return run


def _resolvedkit(exchange: Exchange, scenario: Scenario, folder: Path) -> None:
    if not (folder / "markets.parquet").exists():
        return
    import pyarrow.parquet as pq  # noqa: PLC0415 - heavy, and only this scenario needs it

    rows = pq.read_table(folder / "markets.parquet").to_pylist()
    books = pq.read_table(
        folder / "books.parquet",
        columns=["market_id", "ts", "side", "bid_px", "bid_sz", "ask_px", "ask_sz"],
    ).to_pylist()
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for snapshot in sorted(books, key=lambda r: r["ts"]):
        key = (snapshot["market_id"], snapshot["side"])
        if key not in first and snapshot["bid_px"] and snapshot["ask_px"]:
            first[key] = snapshot
    for index, row in enumerate(rows):
        condition = row["market_id"]
        outcomes = ["Up", "Down"]
        market = Market(
            condition_id=condition,
            slug=row["slug"],
            question=row["question"],
            outcomes=outcomes,
            token_ids=[v1_token_id(condition, i) for i in range(2)],
            tick=10_000,
            gamma_id=str(700_000 + index),
            start_ts=exchange.now() - 900,
            end_ts=exchange.now() + int(scenario.replay_seconds),
            fee_type="crypto_fees",
            event=Event(id=str(40_000 + index), slug=row["slug"], title=row["question"]),
        )
        exchange.add_market(market)
        for token, side in zip(market.token_ids, ("UP", "DOWN"), strict=True):
            snapshot = first.get((condition, side))
            if snapshot is None:
                continue
            seed_levels(
                exchange,
                market,
                token,
                bids=_levels(snapshot["bid_px"], snapshot["bid_sz"], market.tick),
                asks=_levels(snapshot["ask_px"], snapshot["ask_sz"], market.tick),
            )
        up, down = float(row.get("payout_up") or 0), float(row.get("payout_down") or 0)
        if up + down > 0:
            payouts = (UNIT, 0) if up >= down else (0, UNIT)
            exchange.at(
                exchange.clock.now() + scenario.replay_seconds + 1,
                _resolver(exchange, market, payouts, exchange.house, scenario),
            )


def _levels(prices: list[float], sizes: list[float], tick: int) -> list[tuple[int, int]]:
    out: dict[int, int] = {}
    for price, size in zip(prices, sizes, strict=False):
        micros = price_from_float(float(price), tick)
        shares = int(float(size) * 100) * 10_000
        if shares > 0:
            out[micros] = out.get(micros, 0) + shares
    return sorted(out.items())


def _btc_5m(exchange: Exchange, scenario: Scenario, folder: Path) -> None:
    path = folder / "BTC-5m-markets-2026-07-24.jsonl.gz"
    if not path.exists():
        return
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()[:BTC_5M_MARKETS]
    for index, line in enumerate(lines):
        record = json.loads(line)
        raw = record["raw"]
        schedule = raw.get("feeSchedule") or {}
        market = Market(
            condition_id=raw["conditionId"],
            slug=raw["slug"],
            question=raw["question"],
            outcomes=json.loads(raw["outcomes"]),
            token_ids=json.loads(raw["clobTokenIds"]),
            tick=price_micros(str(raw["orderPriceMinTickSize"])),
            min_size=units(str(raw["orderMinSize"])),
            fee_rate=_decimal(schedule, "rate"),
            fee_exponent=_decimal(schedule, "exponent", "1"),
            fee_type=raw.get("feeType") or "",
            gamma_id=str(raw["id"]),
            question_id=raw.get("questionID", ""),
            start_ts=exchange.now() - 300,
            end_ts=exchange.now() + 300 * (index + 1),
            icon=raw.get("icon", ""),
            event=Event(id=str(50_000 + index), slug=raw["slug"], title=raw["question"]),
            raw_gamma=raw,
        )
        exchange.add_market(market)
        _seed_book(
            exchange,
            market,
            MarketSpec(slug=market.slug, tick=str(market.tick / UNIT), spread="0.004", depth=6),
            _rng(exchange),
        )
        prices = [float(p) for p in record.get("outcome_prices") or []]
        if prices and max(prices) == 1:
            payouts = tuple(UNIT if p == 1 else 0 for p in prices)
            exchange.at(
                exchange.clock.now() + 300 * (index + 1),
                _resolver(exchange, market, payouts, exchange.house, scenario),
            )


def _decimal(mapping: dict[str, Any], key: str, default: str = "0") -> Any:
    from polytail.sim.money import to_decimal  # noqa: PLC0415

    return to_decimal(mapping.get(key, default))


def _rng(exchange: Exchange) -> Any:
    import random  # noqa: PLC0415

    return random.Random(exchange.seed)
