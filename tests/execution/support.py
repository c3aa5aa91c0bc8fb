"""Shared pieces of the execution tests: a small exchange, both brokers on it, a ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account import Account

from polytail.config.schema import WalletSettings, WalletType
from polytail.config.secrets import Secret
from polytail.domain.ids import AccountId, Address, ConditionId, TokenId, address
from polytail.domain.ledger import CashKind, CashMovement, TradeFill
from polytail.domain.market import Market
from polytail.domain.money import Shares, Usdc
from polytail.domain.positions import UNATTRIBUTED
from polytail.engine.runtime import FreshBooks
from polytail.execution.broker import Broker, TradeReport
from polytail.execution.live import LiveBroker
from polytail.execution.paper import PaperBroker
from polytail.portfolio.ledger import Ledger
from polytail.sim.scenarios import Scenario, parse
from polytail.sim.server import RunningSim
from polytail.venue.clients import VenueClients
from polytail.venue.trading import LiveTrading
from tests.support.sim import venue_settings

ACCOUNT = AccountId("default")


def scenario(*markets: dict[str, Any], seed: int = 11) -> Scenario:
    """Markets with whole-share levels, so every fee of the curve is exact in base units."""
    return parse({"name": "execution", "seed": seed, "markets": list(markets)})


FEE_MARKET = {
    "slug": "fees",
    "question": "Does the fee curve apply?",
    "fee_rate": "0.05",
    "mid": "0.4",
    "spread": "0.02",
    "depth": 4,
    "level_size": "20",
}


def tokens(sim: RunningSim, slug: str) -> tuple[ConditionId, list[TokenId]]:
    found = next(m for m in sim.exchange.markets.values() if m.slug == slug)
    return ConditionId(found.condition_id), [TokenId(t) for t in found.token_ids]


@dataclass
class Harness:
    """A ledger that books what a broker reports, and the paper venue's view of it."""

    ledger: Ledger = field(default_factory=lambda: Ledger(ACCOUNT))

    def deposit(self, amount: Usdc) -> None:
        self.ledger.apply(CashMovement(ACCOUNT, "start", CashKind.DEPOSIT, amount, 0))

    def book(self, trade: TradeReport, market: Market) -> None:
        self.ledger.apply(
            TradeFill(
                account=ACCOUNT,
                trade_id=trade.trade_id,
                side=trade.side,
                token_id=trade.token_id,
                condition_id=market.condition_id,
                outcome_index=market.outcome_for(trade.token_id).index,
                leader=UNATTRIBUTED,
                shares=trade.shares,
                price=trade.price,
                notional=trade.notional,
                fee=trade.fee,
                at_ms=trade.at_ms,
                venue_order_id=trade.venue_order_id,
            )
        )

    # PaperAccount
    def cash(self) -> Usdc:
        return self.ledger.cash

    def shares(self, token: TokenId) -> Shares:
        holding = self.ledger.holding(token)
        return Shares(0) if holding is None else holding.position.shares


@dataclass
class Setup:
    broker: Broker
    clients: VenueClients
    harness: Harness
    wallet: Address
    key: str

    async def market(self, condition: ConditionId) -> Market:
        return await self.clients.markets.get(condition)


async def live_setup(sim: RunningSim, pusd: str) -> Setup:
    account = Account.create()
    sim.admin.fund(account.address, pusd=pusd)
    settings = venue_settings(sim)
    clients = VenueClients.from_settings(settings)
    trading = await LiveTrading.connect(
        venue=settings,
        wallet=WalletSettings(address=account.address, type=WalletType.EOA),
        private_key=Secret(account.key.hex()),
        limiter=clients.limiter,
    )
    wallet = address(account.address)
    broker = LiveBroker(trading, wallet, clients.markets.get_by_token)
    harness = Harness()
    harness.deposit(Usdc.parse(pusd))
    return Setup(broker, clients, harness, wallet, account.key.hex())


async def paper_setup(sim: RunningSim, pusd: str) -> Setup:
    clients = VenueClients.from_settings(venue_settings(sim))
    harness = Harness()
    harness.deposit(Usdc.parse(pusd))
    broker = PaperBroker(
        FreshBooks(clients.books, max_age_s=0), harness, latency_ms=0, now_ms=lambda: 0
    )
    return Setup(broker, clients, harness, address("0x" + "00" * 20), "")
