"""Resolution and redemption through the engine: claims become cash exactly once, on plain,
neg-risk and Protocol V2 markets, paper and live (the official SDK sending the redemption
transaction to the local exchange), across repeats, restarts, double reports and a crash
mid-redemption."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from polytail.config.schema import PolytailConfig
from polytail.config.secrets import Secret, Secrets
from polytail.domain.fills import FeedSource, LeaderFill, Side
from polytail.domain.ids import FillId, TxHash, address
from polytail.domain.ledger import HoldingStatus, Redemption
from polytail.domain.money import Shares, Usdc
from polytail.engine.events import EngineError, EventBus, Redeemed
from polytail.engine.pipeline import REDEEMING
from polytail.engine.runtime import Engine, build_live, build_paper
from polytail.sim.server import RunningSim
from polytail.store import Store
from polytail.venue import sdk_compat
from polytail.venue.clients import VenueClients
from tests.execution.support import tokens, venue_settings
from tests.support.sim import redemption_sim

LEADER = address("0x" + "1e" * 20)


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with redemption_sim("redemption", seed=5) as running:
        yield running


async def nothing() -> AsyncIterator[LeaderFill]:
    await asyncio.Event().wait()
    yield  # pragma: no cover


@dataclass
class Run:
    """An engine on the local exchange, and (live) the wallet it trades from."""

    engine: Engine
    wallet: str | None
    events: list[Any]

    @property
    def ledger(self) -> Any:
        return self.engine.orders.ledger


def config(
    sim: RunningSim, tmp_path: Path, wallet: str | None, wallet_type: str = "eoa"
) -> PolytailConfig:
    raw: dict[str, Any] = {
        "venue": venue_settings(sim).model_dump(),
        "account": "redeemer",
        "data_dir": str(tmp_path),
        "database": {"url": f"sqlite:///{tmp_path / 'engine.sqlite'}"},
        "leaders": [{"address": LEADER}],
        "filters": {"max_fill_age_s": 10**9},
        "sizing": {"mode": "fixed", "fixed_usdc": 10},
        "pricing": {"slippage_bps": 500, "buy_order_type": "FAK"},
        "paper": {"latency_ms": 0, "starting_cash_usdc": 100},
    }
    if wallet is not None:
        raw |= {"mode": "live", "wallet": {"address": wallet, "type": wallet_type}}
    return PolytailConfig.model_validate(raw)


async def engine_on(
    sim: RunningSim, tmp_path: Path, key: Any = None, proxy: ProxyWallet | None = None
) -> Run:
    wallet = None if key is None else key.address
    if proxy is not None:
        key, wallet = proxy.owner, proxy.address
    cfg = config(sim, tmp_path, wallet, "proxy" if proxy is not None else "eoa")
    events: list[Any] = []
    bus = EventBus()
    bus.listen(events.append)
    store = Store.open(cfg.database_url())
    venue = VenueClients.from_settings(venue_settings(sim))
    if key is None:
        engine = await build_paper(cfg, fills=nothing(), store=store, venue=venue, bus=bus)
    else:
        secrets = Secrets(
            private_key=Secret(key.key.hex()),
            relayer_api_key=proxy.relayer_key if proxy is not None else None,
            relayer_api_key_address=key.address if proxy and proxy.relayer_key else None,
        )
        engine = await build_live(cfg, secrets, fills=nothing(), store=store, venue=venue, bus=bus)
    await engine.start()
    return Run(engine, wallet, events)


@dataclass
class ProxyWallet:
    owner: Any
    address: str
    relayer_key: Secret | None


def proxy_wallet(sim: RunningSim) -> ProxyWallet:
    """A funded proxy wallet, its owner, and a Relayer API key the relayer accepts."""
    owner = Account.create()
    address = sdk_compat.derived_wallets(owner.address)["POLY_PROXY"][0]
    sim.admin.fund(address, pusd="100", owner=owner.address, kind="POLY_PROXY")
    return ProxyWallet(owner, address, Secret(sim.admin.relayer_key(owner.address)["key"]))


def live_wallet(sim: RunningSim) -> Any:
    account = Account.create()
    sim.admin.fund(account.address, pusd="100")
    return account


def leader_buy(sim: RunningSim, token: str, condition: str, price: str) -> LeaderFill:
    return LeaderFill(
        fill_id=FillId("f" + token[-20:]),
        wallet=LEADER,
        side=Side.BUY,
        token_id=token,  # type: ignore[arg-type]
        condition_id=condition,  # type: ignore[arg-type]
        outcome_index=0,
        price=Decimal(price),
        size=Shares.parse("50"),
        usdc=Usdc.parse("20"),
        timestamp=sim.exchange.now(),
        tx_hash=TxHash("0x" + "ab" * 32),
        source=FeedSource.POLL,
    )


async def copy_then_resolve(sim: RunningSim, run: Run, slug: str, winner: int = 0) -> Any:
    condition, (yes, _) = tokens(sim, slug)
    price = str(sim.exchange.price_of(yes) / 10**6 + 0.01)
    handled = await run.engine.pipeline.handle(leader_buy(sim, yes, condition, price))
    assert handled is not None and handled.order is not None
    assert run.ledger.holding(yes).position.shares.is_positive
    sim.admin.resolve(condition, winner=winner)
    run.engine.edges.markets.invalidate(condition)  # type: ignore[attr-defined]
    return condition, yes


def written(directory: Path) -> list[bytes]:
    """The content of every file under `directory` (the engine's data and database)."""
    return [f.read_bytes() for f in directory.rglob("*") if f.is_file()]


def sent(sim: RunningSim, wallet: str) -> int:
    """Transactions the wallet has sent to the chain (its nonce)."""
    return sim.exchange.transactions.nonce(wallet)


@pytest.mark.parametrize("mode", ["paper", "live"])
@pytest.mark.parametrize("slug", ["plain", "negrisk", "protocol-v2"])
async def test_a_won_claim_is_paid_once_across_repeats_and_restarts(
    sim: RunningSim, tmp_path: Path, slug: str, mode: str
) -> None:
    key = live_wallet(sim) if mode == "live" else None
    run = await engine_on(sim, tmp_path, key)
    condition, yes = await copy_then_resolve(sim, run, slug)
    shares = run.ledger.holding(yes).position.shares
    cash_before = run.ledger.cash

    await run.engine.pipeline.check_resolutions()
    holding = run.ledger.holding(yes)
    assert holding is not None and holding.status is HoldingStatus.REDEEMED
    assert run.ledger.cash == cash_before + Usdc(shares.units)  # $1 a share
    assert run.engine.pipeline.view.positions.get(yes) is None
    assert [e.payout for e in run.events if isinstance(e, Redeemed)] == [Usdc(shares.units)]
    if key is not None:  # the venue paid exactly what the ledger booked
        assert sim.exchange.engine.balance(key.address) == run.ledger.cash.units
        assert sim.exchange.engine.balance(key.address, yes) == 0
        transactions = sent(sim, key.address)
        assert transactions == 1  # one redemption transaction (the Router: one per outcome held)

    await run.engine.pipeline.check_resolutions()  # a second pass sends and pays nothing
    assert run.ledger.cash == cash_before + Usdc(shares.units)
    # A second report of the same claim, under another id, books nothing either.
    double = Redemption(run.engine.account, condition, None, Usdc(shares.units), "again", 1)
    assert run.ledger.apply(double, persist=run.engine.store.record) is None
    if key is not None:
        assert sent(sim, key.address) == transactions
        report = await run.engine.edges.broker.redeem(
            await run.engine.edges.markets.get(condition), [holding]
        )
        assert report.payout == Usdc(0)  # the venue pays a redeemed claim nothing
        assert sent(sim, key.address) == transactions  # and nothing was sent to learn it
    await run.engine.shutdown()

    again = await engine_on(sim, tmp_path, key)  # a restart finds nothing left to redeem
    again.engine.edges.markets.invalidate(condition)  # type: ignore[attr-defined]
    await again.engine.pipeline.check_resolutions()
    assert again.ledger.cash == cash_before + Usdc(shares.units)
    again.ledger.check_conservation()
    await again.engine.shutdown()
    assert sim.admin.ledger()["conserved"]


@pytest.mark.parametrize("slug", ["plain", "protocol-v2"])
async def test_a_proxy_wallets_claim_is_redeemed_through_the_relayer_and_booked_once(
    sim: RunningSim, tmp_path: Path, slug: str
) -> None:
    proxy = proxy_wallet(sim)
    run = await engine_on(sim, tmp_path, proxy=proxy)
    condition, yes = await copy_then_resolve(sim, run, slug)
    shares = run.ledger.holding(yes).position.shares
    cash_before = run.ledger.cash
    assert sim.exchange.engine.balance(proxy.address) == cash_before.units

    await run.engine.pipeline.check_resolutions()
    assert run.ledger.holding(yes).status is HoldingStatus.REDEEMED
    assert run.ledger.cash == cash_before + Usdc(shares.units)
    assert [e.payout for e in run.events if isinstance(e, Redeemed)] == [Usdc(shares.units)]
    # The venue paid exactly what the ledger booked, in one relayed transaction.
    assert sim.exchange.engine.balance(proxy.address) == run.ledger.cash.units
    assert sim.exchange.engine.balance(proxy.address, yes) == 0
    assert sim.exchange.relayer.nonce(proxy.address) == 1
    assert sent(sim, proxy.address) == sent(sim, proxy.owner.address) == 0  # nothing direct

    await run.engine.pipeline.check_resolutions()  # a second pass sends and books nothing
    assert run.ledger.cash == cash_before + Usdc(shares.units)
    assert sim.exchange.relayer.nonce(proxy.address) == 1
    await run.engine.shutdown()

    again = await engine_on(sim, tmp_path, proxy=proxy)  # nor does a restart
    again.engine.edges.markets.invalidate(condition)  # type: ignore[attr-defined]
    await again.engine.pipeline.check_resolutions()
    assert again.ledger.cash == cash_before + Usdc(shares.units)
    assert sim.exchange.relayer.nonce(proxy.address) == 1
    again.ledger.check_conservation()
    await again.engine.shutdown()
    assert sim.admin.ledger()["conserved"]
    # The relayer key is in no file the engine wrote (the database, its data directory).
    assert proxy.relayer_key is not None
    planted = proxy.relayer_key.reveal().encode()
    assert not any(planted in content for content in written(tmp_path))


async def test_a_proxy_wallet_without_a_relayer_key_keeps_its_claim(
    sim: RunningSim, tmp_path: Path
) -> None:
    proxy = proxy_wallet(sim)
    run = await engine_on(sim, tmp_path, proxy=ProxyWallet(proxy.owner, proxy.address, None))
    _, yes = await copy_then_resolve(sim, run, "plain")
    cash_before = run.ledger.cash
    await run.engine.pipeline.check_resolutions()
    errors = [e for e in run.events if isinstance(e, EngineError)]
    assert [e.component for e in errors] == ["redemption"]
    assert "POLYTAIL_RELAYER_API_KEY" in errors[0].message
    assert run.ledger.cash == cash_before  # nothing booked, nothing sent
    assert run.ledger.holding(yes).status is HoldingStatus.RESOLVED
    assert sim.exchange.relayer.nonce(proxy.address) == 0
    await run.engine.shutdown()


@pytest.mark.parametrize("paid_before_crash", [True, False])
async def test_a_redemption_interrupted_by_a_crash_is_paid_and_booked_once(
    sim: RunningSim, tmp_path: Path, paid_before_crash: bool
) -> None:
    """The previous run marked the redemption, called the venue, and died before booking:
    either its transaction went through (the shares are gone) or it never left."""
    key = live_wallet(sim)
    run = await engine_on(sim, tmp_path, key)
    condition, yes = await copy_then_resolve(sim, run, "plain")
    shares = run.ledger.holding(yes).position.shares
    cash_before = run.ledger.cash
    with run.engine.store.transaction() as tx:
        tx.risk.put(run.engine.account, REDEEMING, condition, "1", at_ms=1)
    if paid_before_crash:
        sim.admin.redeem(key.address, condition)
    await run.engine.shutdown()
    nonce = sent(sim, key.address)

    restarted = await engine_on(sim, tmp_path, key)
    restarted.engine.edges.markets.invalidate(condition)  # type: ignore[attr-defined]
    await restarted.engine.pipeline.check_resolutions()
    await restarted.engine.pipeline.check_resolutions()
    assert restarted.ledger.cash == cash_before + Usdc(shares.units)  # booked once
    assert sim.exchange.engine.balance(key.address) == restarted.ledger.cash.units  # paid once
    # Sent again only when the first attempt never reached the chain.
    assert sent(sim, key.address) == nonce + (0 if paid_before_crash else 1)
    with restarted.engine.store.read() as tx:
        assert tx.risk.get(restarted.engine.account, REDEEMING, condition) is None
    restarted.ledger.check_conservation()
    await restarted.engine.shutdown()


async def test_a_failed_redemption_is_reported_and_retried_without_paying_twice(
    sim: RunningSim, tmp_path: Path
) -> None:
    key = live_wallet(sim)
    run = await engine_on(sim, tmp_path, key)
    _, yes = await copy_then_resolve(sim, run, "negrisk")
    shares = run.ledger.holding(yes).position.shares
    cash_before = run.ledger.cash
    sim.admin.faults(set=[{"kind": "status", "service": "rpc", "status": 503, "count": 50}])
    await run.engine.pipeline.check_resolutions()
    errors = [e for e in run.events if isinstance(e, EngineError)]
    assert [e.component for e in errors] == ["redemption"]
    assert run.ledger.cash == cash_before  # nothing booked while the outcome is unknown

    sim.admin.faults(clear=True)
    await run.engine.pipeline.check_resolutions()
    assert run.ledger.cash == cash_before + Usdc(shares.units)
    assert sim.exchange.engine.balance(key.address) == run.ledger.cash.units
    await run.engine.shutdown()


async def test_a_lost_claim_closes_at_zero_once(sim: RunningSim, tmp_path: Path) -> None:
    run = await engine_on(sim, tmp_path)
    await copy_then_resolve(sim, run, "negrisk", winner=1)
    cost = run.ledger.open_cost
    realized_before = run.ledger.totals.realized_pnl
    await run.engine.pipeline.check_resolutions()
    await run.engine.pipeline.check_resolutions()
    assert run.ledger.totals.realized_pnl == realized_before - cost
    assert run.ledger.open_cost == Usdc(0)
    await run.engine.shutdown()
