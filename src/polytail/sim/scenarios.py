"""Scenarios: which markets exist, how their books look, who trades, what goes wrong.

A scenario is plain data (`Scenario`), read from a TOML or JSON file or built in code
(`synthetic`, `real`), then `install`ed into an exchange. Everything random draws from the
scenario's seed, so a seed replays the same markets, books, leader trades and background
flow. The file format is documented in docs/SIM.md.
"""

from __future__ import annotations

import json
import os
import random
import time
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from polytail.sim import scripting
from polytail.sim.engine import LedgerError, OrderRejected, Side
from polytail.sim.exchange import Exchange
from polytail.sim.faults import Fault
from polytail.sim.markets import (
    V2_MODULE_BINARY,
    V2_MODULE_NEG_RISK,
    Event,
    Market,
    derive_bytes,
    v1_condition_id,
    v1_token_id,
    v2_condition_id,
    v2_position_id,
)
from polytail.sim.money import UNIT, lot, price_micros, to_decimal, units
from polytail.sim.tape import Profile


class ScenarioError(ValueError):
    """A scenario that cannot be built; the message names the field and what to do."""


@dataclass
class MarketSpec:
    slug: str
    question: str = ""
    version: str = "v1"
    neg_risk: bool = False
    event: str = ""
    event_title: str = ""
    outcomes: tuple[str, ...] = ("Yes", "No")
    tick: str = "0.01"
    min_size: str = "5"
    fee_rate: str = "0"
    fee_exponent: str = "1"
    fee_type: str = ""
    mid: str = "0.5"
    spread: str = "0.02"
    depth: int = 8
    level_size: str = "250"
    resolve_after: float | None = None
    winner: int = 0
    duration: int = 30 * 86_400


@dataclass
class TradeSpec:
    at: float
    market: str
    outcome: int
    side: str
    shares: str
    price: str
    burst: int = 0


@dataclass
class LeaderSpec:
    name: str
    style: str = "script"
    wallet: str = ""
    markets: tuple[str, ...] = ()
    every: float = 20.0
    shares: str = "40"
    trades: list[TradeSpec] = field(default_factory=list)


@dataclass
class Scenario:
    name: str
    seed: int = 7
    start_time: float | None = None
    clock: str = "manual"
    speed: float = 1.0
    markets: list[MarketSpec] = field(default_factory=list)
    leaders: list[LeaderSpec] = field(default_factory=list)
    background_interval: float = 0.0
    faults: list[dict[str, Any]] = field(default_factory=list)
    redeem_delay: float = 5.0
    replay: str = ""
    replay_seconds: float = 600.0
    replay_limit: int = 0
    taker_rows: str = "aggregate"  # or "per_match": the taker's Data API/RTDS rows per match


# -- loading ----------------------------------------------------------------------------


def load(name_or_path: str, *, seed: int | None = None) -> Scenario:
    """A built-in scenario by name (`synthetic`, `real`) or a TOML/JSON scenario file."""
    if name_or_path == "synthetic":
        scenario = synthetic()
    elif name_or_path == "real":
        scenario = Scenario(name="real", replay="all")
    else:
        path = Path(name_or_path)
        if not path.exists():
            raise ScenarioError(
                f"scenario {name_or_path!r} is neither a built-in (synthetic, real) nor a file"
            )
        raw = (
            tomllib.loads(path.read_text())
            if path.suffix == ".toml"
            else json.loads(path.read_text())
        )
        scenario = parse(raw, default_name=path.stem)
    if seed is not None:
        scenario.seed = seed
    return scenario


def parse(raw: dict[str, Any], *, default_name: str = "file") -> Scenario:
    try:
        markets = [
            MarketSpec(**{**m, "outcomes": tuple(m.get("outcomes", ("Yes", "No")))})
            for m in raw.get("markets", [])
        ]
        leaders = []
        for entry in raw.get("leaders", []):
            trades = [TradeSpec(**t) for t in entry.get("trades", [])]
            leaders.append(
                LeaderSpec(
                    **{**entry, "trades": trades, "markets": tuple(entry.get("markets", ()))}
                )
            )
        scenario = Scenario(
            name=str(raw.get("name", default_name)),
            seed=int(raw.get("seed", 7)),
            start_time=raw.get("start_time"),
            clock=str(raw.get("clock", "manual")),
            speed=float(raw.get("speed", 1.0)),
            markets=markets,
            leaders=leaders,
            background_interval=float(raw.get("background_interval", 0.0)),
            faults=list(raw.get("faults", [])),
            redeem_delay=float(raw.get("redeem_delay", 5.0)),
            replay=str(raw.get("replay", "")),
            replay_seconds=float(raw.get("replay_seconds", 600.0)),
            replay_limit=int(raw.get("replay_limit", 0)),
            taker_rows=str(raw.get("taker_rows", "aggregate")),
        )
    except TypeError as error:
        raise ScenarioError(f"scenario has an unknown or missing field: {error}") from None
    if scenario.clock not in ("manual", "realtime"):
        raise ScenarioError("clock must be 'manual' or 'realtime'")
    if scenario.taker_rows not in ("aggregate", "per_match"):
        raise ScenarioError("taker_rows must be 'aggregate' or 'per_match'")
    for fault in scenario.faults:
        Fault.parse(fault)
    return scenario


def synthetic() -> Scenario:
    """Markets of both versions (with neg-risk), realistic books, four leader styles."""
    best_picture = "Best Picture 2027"
    markets = [
        MarketSpec(
            slug="btc-above-150k-dec-31",
            question="Will Bitcoin close above $150k on Dec 31?",
            mid="0.37",
            fee_rate="0.07",
            fee_type="crypto_fees",
            event="bitcoin-above-150k",
        ),
        MarketSpec(
            slug="best-picture-the-long-road",
            question="Will 'The Long Road' win Best Picture?",
            neg_risk=True,
            event="best-picture-2027",
            event_title=best_picture,
            mid="0.46",
        ),
        MarketSpec(
            slug="best-picture-glass-harbor",
            question="Will 'Glass Harbor' win Best Picture?",
            neg_risk=True,
            event="best-picture-2027",
            event_title=best_picture,
            mid="0.31",
        ),
        MarketSpec(
            slug="best-picture-other",
            question="Will another film win Best Picture?",
            neg_risk=True,
            event="best-picture-2027",
            event_title=best_picture,
            mid="0.22",
        ),
        MarketSpec(
            slug="fed-cuts-in-december",
            question="Will the Fed cut rates in December?",
            version="v2",
            mid="0.64",
            fee_rate="0.04",
            fee_type="economics_fees",
            event="fed-december-decision",
        ),
        MarketSpec(
            slug="mayor-runoff-winner-a",
            question="Will Candidate A win the runoff?",
            version="v2",
            neg_risk=True,
            event="mayor-runoff",
            event_title="Mayor runoff",
            mid="0.55",
        ),
        MarketSpec(
            slug="btc-updown-5m-demo",
            question="Bitcoin Up or Down - next 5 minutes",
            outcomes=("Up", "Down"),
            tick="0.001",
            mid="0.512",
            spread="0.004",
            fee_rate="0.25",
            fee_exponent="2",
            fee_type="crypto_fees",
            resolve_after=300,
            winner=0,
            duration=300,
            event="btc-updown-5m-demo",
        ),
    ]
    leaders = [
        LeaderSpec(
            name="trend-tina",
            style="trend",
            every=25,
            shares="60",
            markets=("btc-above-150k-dec-31", "fed-cuts-in-december"),
        ),
        LeaderSpec(
            name="scalper-sam",
            style="scalper",
            every=15,
            shares="40",
            markets=("btc-updown-5m-demo", "best-picture-the-long-road"),
        ),
        LeaderSpec(
            name="contrarian-cleo",
            style="contrarian",
            every=30,
            shares="80",
            markets=("best-picture-glass-harbor", "mayor-runoff-winner-a"),
        ),
        LeaderSpec(
            name="whale-walt",
            style="whale",
            every=90,
            shares="5",
            markets=("fed-cuts-in-december",),
        ),
    ]
    return Scenario(name="synthetic", markets=markets, leaders=leaders, background_interval=4)


# -- installing -------------------------------------------------------------------------


def build_exchange(
    scenario: Scenario,
    *,
    settle_delays: tuple[float, float] | None = (0.02, 0.05),
) -> Exchange:
    start = scenario.start_time if scenario.start_time is not None else float(int(time.time()))
    exchange = Exchange(
        seed=scenario.seed,
        start_time=start,
        realtime=scenario.clock == "realtime",
        speed=scenario.speed,
        settle_delays=settle_delays,
        taker_rows=scenario.taker_rows,
    )
    install(exchange, scenario)
    return exchange


def install(exchange: Exchange, scenario: Scenario) -> None:
    rng = random.Random(scenario.seed)
    by_slug: dict[str, Market] = {}
    for index, spec in enumerate(scenario.markets):
        market = _market(exchange, spec, index)
        exchange.add_market(market)
        by_slug[spec.slug] = market
        _seed_book(exchange, market, spec, rng)
        if spec.resolve_after is not None:
            _schedule_resolution(exchange, scenario, market, spec.winner, spec.resolve_after)
    for leader in scenario.leaders:
        _install_leader(exchange, scenario, leader, by_slug, rng)
    if scenario.background_interval > 0:
        _background(
            exchange,
            list(by_slug.values()),
            scenario.background_interval,
            random.Random(scenario.seed * 31 + 1),
        )
    if scenario.replay:
        from polytail.sim import replay  # noqa: PLC0415 - reads recorded data only when asked

        replay.install(exchange, scenario)
    for raw in scenario.faults:
        exchange.faults.add(Fault.parse(raw))


def _market(exchange: Exchange, spec: MarketSpec, index: int) -> Market:
    seed = exchange.seed
    if spec.version == "v2":
        module = V2_MODULE_NEG_RISK if spec.neg_risk else V2_MODULE_BINARY
        condition = v2_condition_id(seed, spec.slug, module=module)
        tokens = [v2_position_id(condition, i) for i in range(len(spec.outcomes))]
    elif spec.version == "v1":
        condition = v1_condition_id(seed, spec.slug)
        tokens = [v1_token_id(condition, i) for i in range(len(spec.outcomes))]
    else:
        raise ScenarioError(f"market {spec.slug}: version must be 'v1' or 'v2'")
    event_slug = spec.event or spec.slug
    event = next((e for e in exchange.events.values() if e.slug == event_slug), None)
    if event is None:
        event = Event(
            id=str(20_000 + len(exchange.events)),
            slug=event_slug,
            title=spec.event_title or spec.question,
            neg_risk=spec.neg_risk,
        )
    tick = price_micros(spec.tick)
    if UNIT % tick:
        raise ScenarioError(f"market {spec.slug}: tick {spec.tick} does not divide 1")
    start = exchange.now()
    return Market(
        condition_id=condition,
        slug=spec.slug,
        question=spec.question or spec.slug.replace("-", " ").capitalize() + "?",
        outcomes=list(spec.outcomes),
        token_ids=tokens,
        version=spec.version,
        neg_risk=spec.neg_risk,
        tick=tick,
        min_size=units(spec.min_size),
        fee_rate=to_decimal(spec.fee_rate),
        fee_exponent=to_decimal(spec.fee_exponent),
        fee_type=spec.fee_type,
        gamma_id=str(500_000 + index),
        question_id="0x" + derive_bytes(seed, "question", spec.slug).hex(),
        start_ts=start - 86_400,
        end_ts=start + spec.duration,
        event=event,
        group_item_title=spec.question if spec.neg_risk else "",
    )


def seed_levels(
    exchange: Exchange,
    market: Market,
    token: str,
    *,
    bids: list[tuple[int, int]],
    asks: list[tuple[int, int]],
) -> None:
    """House resting orders at the given (price, shares) levels of one token."""
    house = exchange.house
    exchange.fund(house)
    total_ask = sum(shares for _, shares in asks)
    held = exchange.engine.available(house, token)
    if total_ask > held:
        exchange.split(house, market.condition_id, total_ask - held, fund=True)
    need = sum(-(-shares * price // UNIT) for price, shares in bids)
    if need > exchange.engine.available(house):
        exchange.fund(house, pusd=need - exchange.engine.available(house))
    for price, shares in asks:
        exchange.place(house, token, "SELL", shares - shares % lot(price), price)
    for price, shares in bids:
        exchange.place(house, token, "BUY", shares - shares % lot(price), price)


def _seed_book(exchange: Exchange, market: Market, spec: MarketSpec, rng: random.Random) -> None:
    mid = price_micros(spec.mid)
    half = max(market.tick, price_micros(spec.spread) // 2)
    size = units(spec.level_size)
    for index, token in enumerate(market.token_ids[:2]):
        centre = mid if index == 0 else UNIT - mid
        centre -= centre % market.tick
        bids, asks = [], []
        for level in range(spec.depth):
            step = level * market.tick * (1 + level // 3)
            bid = centre - half - step
            ask = centre + half + step
            amount = size * (10 + level * 4 + rng.randrange(0, 10)) // 10
            amount -= amount % 10_000
            if market.tick <= bid:
                bids.append((bid - bid % market.tick, amount))
            if ask <= UNIT - market.tick:
                ask += -ask % market.tick
                asks.append((ask, amount))
        seed_levels(exchange, market, token, bids=bids, asks=asks)


def _schedule_resolution(
    exchange: Exchange, scenario: Scenario, market: Market, winner: int, after: float
) -> None:
    def resolve() -> None:
        if market.closed:
            return
        payouts = tuple(UNIT if i == winner else 0 for i in range(len(market.token_ids)))
        exchange.resolve(market.condition_id, payouts)
        exchange.at(exchange.clock.now() + scenario.redeem_delay, redeem_all)

    def redeem_all() -> None:
        for wallet in list(exchange.wallets.values()):
            if wallet.address == exchange.house:
                continue
            if any(exchange.engine.balance(wallet.address, t) > 0 for t in market.token_ids):
                exchange.redeem(wallet.address, market.condition_id)

    exchange.at(exchange.clock.now() + after, resolve)


def _install_leader(
    exchange: Exchange,
    scenario: Scenario,
    leader: LeaderSpec,
    by_slug: dict[str, Market],
    rng: random.Random,
) -> None:
    wallet = leader.wallet or exchange.named_wallet(leader.name)
    pseudonym = "-".join(part.capitalize() for part in leader.name.split("-"))
    exchange.register_wallet(wallet, profile=Profile(name=leader.name, pseudonym=pseudonym))
    exchange.fund(wallet, pusd=10_000 * UNIT)
    start = exchange.clock.now()
    for spec in leader.trades:
        market = by_slug.get(spec.market)
        if market is None:
            raise ScenarioError(f"leader {leader.name}: unknown market {spec.market!r}")
        token = market.token_ids[spec.outcome]
        side = spec.side.upper()
        if side not in ("BUY", "SELL"):
            raise ScenarioError(f"leader {leader.name}: side must be BUY or SELL")
        exchange.at(
            start + spec.at,
            _action(
                exchange,
                wallet,
                token,
                side,
                units(spec.shares),
                price_micros(spec.price),
                spec.burst,
            ),
        )
    if leader.style != "script":
        markets = [by_slug[slug] for slug in leader.markets if slug in by_slug] or list(
            by_slug.values()
        )
        style = random.Random(rng.random())
        _schedule_style(exchange, wallet, leader, markets, style, start + leader.every)


def _action(
    exchange: Exchange, wallet: str, token: str, side: str, shares: int, price: int, burst: int = 0
) -> Any:
    def run() -> None:
        market = exchange.market_for_token(token)
        if market.closed:
            return
        try:
            if burst:
                scripting.burst(exchange, wallet, token, side, burst, shares, price)  # type: ignore[arg-type]
            else:
                scripting.trade(exchange, wallet, token, side, shares, price)  # type: ignore[arg-type]
        except (OrderRejected, LedgerError):
            return

    return run


def _schedule_style(
    exchange: Exchange,
    wallet: str,
    leader: LeaderSpec,
    markets: list[Market],
    rng: random.Random,
    when: float,
) -> None:
    """One cycle of a leader's style, then the next cycle (so the demo keeps going)."""
    open_markets = [m for m in markets if not m.closed]
    if not open_markets:
        return
    market = rng.choice(open_markets)
    shares = units(leader.shares)
    moves: list[tuple[float, int, Side, int]] = []  # (delay, outcome, side, shares)
    if leader.style == "trend":
        moves = [
            (0, 0, "BUY", shares),
            (leader.every / 3, 0, "BUY", shares // 2),
            (2 * leader.every / 3, 0, "BUY", shares // 2),
        ]
    elif leader.style == "scalper":
        moves = [
            (0, 0, "BUY", shares),
            (leader.every / 3, 0, "SELL", shares // 2),
            (2 * leader.every / 3, 0, "SELL", shares - shares // 2),
        ]
    elif leader.style == "contrarian":
        outcome = 1 if exchange.price_of(market.token_ids[0]) > UNIT // 2 else 0
        moves = [(0, outcome, "BUY", shares), (leader.every / 2, outcome, "SELL", shares // 4)]
    elif leader.style == "whale":
        moves = [(0, 0, "BUY", -shares)]  # negative: a burst of 20 fills of `shares`
    else:
        raise ScenarioError(f"leader {leader.name}: unknown style {leader.style!r}")
    for delay, outcome, side, size in moves:
        token = market.token_ids[outcome]

        def act(token: str = token, side: Side = side, size: int = size) -> None:
            price = _take_price(exchange, token, side)
            if size < 0:
                _action(exchange, wallet, token, side, -size, price, burst=20)()
            else:
                held = exchange.engine.available(exchange.wallets[wallet.lower()].address, token)
                amount = min(size, held) if side == "SELL" else size
                amount -= amount % 10_000
                if amount > 0:
                    _action(exchange, wallet, token, side, amount, price)()

        exchange.at(when + delay, act)
    exchange.at(
        when + leader.every,
        lambda: _schedule_style(exchange, wallet, leader, markets, rng, when + leader.every),
    )


def _take_price(exchange: Exchange, token: str, side: Side) -> int:
    market = exchange.market_for_token(token)
    book = exchange.engine.books[token]
    best = book.best_ask() if side == "BUY" else book.best_bid()
    if best is None:
        best = exchange.price_of(token)
    best = min(max(best, market.tick), UNIT - market.tick)
    return best - best % market.tick


def _background(
    exchange: Exchange, markets: list[Market], interval: float, rng: random.Random
) -> None:
    """Crowd wallets posting and taking small orders near the mid, every `interval` s."""
    crowd = [exchange.named_wallet(f"crowd-{i}") for i in range(4)]
    for wallet in crowd:
        exchange.register_wallet(wallet, profile=Profile(name=""))
        exchange.fund(wallet, pusd=50_000 * UNIT)

    def step() -> None:
        live = [m for m in markets if not m.closed]
        if live:
            market = rng.choice(live)
            token = (
                market.token_ids[rng.randrange(2)]
                if len(market.token_ids) > 1
                else market.token_ids[0]
            )
            wallet = rng.choice(crowd)
            side: Side = rng.choice(("BUY", "SELL"))
            shares = rng.randrange(5, 60) * UNIT
            try:
                if rng.random() < 0.5:
                    price = _take_price(exchange, token, side)
                    scripting.trade(
                        exchange, wallet, token, side, shares, price, ensure_liquidity=False
                    )
                else:
                    mid = exchange.price_of(token)
                    offset = market.tick * rng.randrange(1, 4)
                    price = mid - offset if side == "BUY" else mid + offset
                    price = min(max(price - price % market.tick, market.tick), UNIT - market.tick)
                    if side == "SELL":
                        held = exchange.engine.available(
                            exchange.wallets[wallet.lower()].address, token
                        )
                        if held < shares:
                            exchange.split(wallet, market.condition_id, shares - held, fund=True)
                    exchange.place(wallet, token, side, shares, price, post_only=True)
            except (OrderRejected, LedgerError):
                pass
        exchange.at(exchange.clock.now() + interval, step)

    exchange.at(exchange.clock.now() + interval, step)


def shared_data_dir() -> Path | None:
    """The recorded data folder: $POLYTAIL_SHARED_DATA, else `shared/data` beside a parent."""
    explicit = os.environ.get("POLYTAIL_SHARED_DATA")
    if explicit:
        return Path(explicit)
    for base in (Path.cwd(), *Path.cwd().parents, *Path(__file__).resolve().parents):
        candidate = base / "shared" / "data"
        if (candidate / "PROVENANCE.md").exists():
            return candidate
    return None


def price_from_float(value: object, tick: int) -> int:
    """A recorded (float) price rounded to the market's tick, inside [tick, 1 − tick]."""
    micros = int(Decimal(repr(value)) * UNIT) if isinstance(value, float) else price_micros(value)
    micros = (micros + tick // 2) // tick * tick
    return min(max(micros, tick), UNIT - tick)
