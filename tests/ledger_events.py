"""Readable builders of ledger events for the portfolio and store tests.

Amounts are decimal strings ("12.5" pUSD); notional is shares x price rounded as the venue
does (a buyer pays rounded up, a seller receives rounded down).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import strategies as st

from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, ConditionId, TokenId
from polytail.domain.ledger import (
    CashKind,
    CashMovement,
    LedgerEvent,
    MarketResolved,
    Redemption,
    TradeFill,
)
from polytail.domain.market import Resolution
from polytail.domain.money import Price, Shares, Usdc, cost_of, proceeds_of
from polytail.domain.positions import UNATTRIBUTED
from polytail.portfolio import Ledger

ACCOUNT = AccountId("default")
ALICE = Address("0x" + "a" * 40)
BOB = Address("0x" + "b" * 40)
MARKET = ConditionId("0x" + "1" * 64)
YES, NO = TokenId("101"), TokenId("102")
DAY_MS = 86_400_000


def deposit(
    amount: str, key: str = "start", at_ms: int = 0, account: AccountId = ACCOUNT
) -> CashMovement:
    return CashMovement(account, key, CashKind.DEPOSIT, Usdc.parse(amount), at_ms)


def withdraw(amount: str, key: str, at_ms: int = 0, account: AccountId = ACCOUNT) -> CashMovement:
    return CashMovement(account, key, CashKind.WITHDRAWAL, Usdc.parse(amount), at_ms)


def trade(
    trade_id: str,
    side: Side,
    shares: str,
    price: str,
    *,
    fee: str = "0",
    leader: Address = ALICE,
    token: TokenId = YES,
    market: ConditionId = MARKET,
    outcome_index: int | None = None,
    at_ms: int = 1_000,
    account: AccountId = ACCOUNT,
) -> TradeFill:
    quantity, limit = Shares.parse(shares), Price.parse(price)
    notional = cost_of(quantity, limit) if side is Side.BUY else proceeds_of(quantity, limit)
    if outcome_index is None:
        outcome_index = 1 if token == NO else 0
    return TradeFill(
        account=account,
        trade_id=trade_id,
        side=side,
        token_id=token,
        condition_id=market,
        outcome_index=outcome_index,
        leader=leader,
        shares=quantity,
        price=limit,
        notional=notional,
        fee=Usdc.parse(fee),
        at_ms=at_ms,
    )


def buy(trade_id: str, shares: str, price: str, **options: object) -> TradeFill:
    return trade(trade_id, Side.BUY, shares, price, **options)  # type: ignore[arg-type]


def sell(trade_id: str, shares: str, price: str, **options: object) -> TradeFill:
    return trade(trade_id, Side.SELL, shares, price, **options)  # type: ignore[arg-type]


def resolved(
    *payouts: str, market: ConditionId = MARKET, at_ms: int = 5_000, account: AccountId = ACCOUNT
) -> MarketResolved:
    return MarketResolved(account, market, Resolution(tuple(Decimal(p) for p in payouts)), at_ms)


def redeemed(
    payout: str,
    report_id: str = "0xredeem",
    *,
    market: ConditionId = MARKET,
    outcome_index: int | None = None,
    at_ms: int = 6_000,
    account: AccountId = ACCOUNT,
) -> Redemption:
    return Redemption(account, market, outcome_index, Usdc.parse(payout), report_id, at_ms)


# --- random event sequences (for the conservation properties) -------------------------------


@st.composite
def event_sequences(draw: st.DrawFn, account: AccountId = ACCOUNT) -> list[LedgerEvent]:
    """Deposits, withdrawals, buys, sells (some oversized), a resolution, redemptions, and
    repeats of earlier events (the venue reporting things twice)."""
    events: list[LedgerEvent] = [deposit(str(draw(st.integers(1, 10_000))), account=account)]
    for number in range(draw(st.integers(0, 40))):
        kind = draw(
            st.sampled_from(["buy", "buy", "sell", "sell", "deposit", "withdraw", "repeat"])
        )
        token, index = draw(st.sampled_from([(YES, 0), (NO, 1)]))
        side = Side.BUY if kind == "buy" else Side.SELL
        if kind in ("buy", "sell"):
            events.append(
                trade(
                    f"t{number}",
                    side,
                    str(Shares(draw(st.integers(1, 5_000_000)))),
                    str(Price(draw(st.integers(1, 999)) * 1000)),
                    fee=str(Usdc(draw(st.integers(0, 50_000)))),
                    leader=draw(st.sampled_from([ALICE, BOB, UNATTRIBUTED])),
                    token=token,
                    outcome_index=index,
                    at_ms=number * 3_600_000,
                    account=account,
                )
            )
        elif kind == "deposit":
            amount = str(draw(st.integers(1, 500)))
            events.append(deposit(amount, key=f"d{number}", account=account))
        elif kind == "withdraw":
            amount = str(draw(st.integers(1, 500)))
            events.append(withdraw(amount, key=f"w{number}", account=account))
        else:
            events.append(draw(st.sampled_from(events)))
    if draw(st.booleans()):
        payouts = draw(st.sampled_from([("1", "0"), ("0", "1"), ("0.5", "0.5")]))
        events.append(resolved(*payouts, account=account))
        for number in range(draw(st.integers(0, 3))):
            index = draw(st.sampled_from([None, 0, 1]))
            events.append(redeemed("0", f"r{number}", outcome_index=index, account=account))
    return events


def with_claim_payout(ledger: Ledger, event: LedgerEvent) -> LedgerEvent:
    """A redemption paying what its claim is worth (the paper rule); other events as they are."""
    if isinstance(event, Redemption):
        return replace(event, payout=ledger.claim_value(event.condition_id, event.outcome_index))
    return event
