"""What an operator is told, and how it reads, for each kind of engine event."""

from __future__ import annotations

import datetime as dt

from polytail.app.services import DigestView, LeaderDigest, Pnl
from polytail.config.schema import Mode
from polytail.domain.decisions import ReasonCode
from polytail.domain.fills import FeedSource
from polytail.domain.market import Resolution
from polytail.domain.money import Usdc
from polytail.domain.orders import OrderState
from polytail.engine.events import (
    BreakerScope,
    BreakerTripped,
    ComponentState,
    ComponentStatus,
    DecisionMade,
    EngineError,
    Event,
    FillDetected,
    FillSighted,
    KillSwitchChanged,
    LeaderPaused,
    MarketResolved,
    OrderUpdated,
    Redeemed,
)
from polytail.notify.notices import Notice, NoticeBuilder, NoticeKind
from polytail.notify.render import Renderer
from tests.support.samples import (
    ACCOUNT,
    ALICE,
    BOB,
    CONDITION,
    T0,
    copy_decision,
    fill,
    matched,
    order_for,
    skip_decision,
)

LABELS = {ALICE: "alice"}


def build(*events: Event, notify_skips: bool = False) -> list[Notice]:
    builder = NoticeBuilder(labels=LABELS, notify_skips=notify_skips)
    notices = [builder.on_event(event) for event in events]
    return [notice for notice in notices if notice is not None]


def text(notice: Notice, mode: Mode = Mode.PAPER) -> str:
    return Renderer(mode).render(notice.template, notice.context)


def test_a_copy_is_announced_once_its_order_is_filled() -> None:
    leader_fill = fill(1)
    decision = copy_decision(leader_fill, reasons=(ReasonCode.RISK_MAX_ORDER,))
    order = order_for(decision)
    done = matched(order, notional="10.4")
    notices = build(
        FillDetected(leader_fill, at_ms=T0, detection_ms=900),
        DecisionMade(decision),
        OrderUpdated(order, previous=None),
        OrderUpdated(done, previous=OrderState.SENT),
    )
    assert [n.kind for n in notices] == [NoticeKind.COPY]
    assert text(notices[0]).splitlines() == [
        "[PAPER] Bought 20 sh will-it-rain-tomorrow · Yes @ 0.5200 = 10.40 pUSD",
        "leader alice · FOK limit 0.53 · risk_max_order",
    ]


def test_a_copy_that_did_not_fill_says_so() -> None:
    decision = copy_decision(fill(2, leader=BOB))
    killed = order_for(decision).to(OrderState.SENT, at_ms=T0).to(OrderState.CANCELED, at_ms=T0)
    (notice,) = build(DecisionMade(decision), OrderUpdated(killed, previous=OrderState.SENT))
    first = text(notice, Mode.LIVE).splitlines()[0]
    assert first == "[LIVE] Not filled: BUY 20 sh 1111 @ 0.53 (FOK, CANCELED)"
    assert "leader 0xb2b2…b2b2" in text(notice)  # unlabelled leader: short address


def test_a_rejected_order_carries_the_venue_error() -> None:
    order = order_for(copy_decision(fill(3)))
    rejected = order.to(OrderState.REJECTED, at_ms=T0, error="not enough balance")
    (notice,) = build(OrderUpdated(rejected, previous=OrderState.PENDING))
    assert "Order rejected: BUY 20 sh" in text(notice)
    assert "not enough balance" in text(notice)


def test_skips_are_told_only_when_asked_for() -> None:
    leader_fill = fill(4)
    skip = DecisionMade(
        skip_decision(leader_fill, ReasonCode.FILTER_SPREAD, detail="spread 0.09 > 0.05")
    )
    assert build(FillDetected(leader_fill, at_ms=T0, detection_ms=None), skip) == []
    (notice,) = build(
        FillDetected(leader_fill, at_ms=T0, detection_ms=None), skip, notify_skips=True
    )
    assert notice.kind is NoticeKind.SKIP
    assert text(notice).splitlines() == [
        "[PAPER] Skipped alice BUY will-it-rain-tomorrow · Yes (20.80 pUSD @ 0.52)",
        "- filter_spread: the book's spread was wider than filters.max_spread",
        "spread 0.09 > 0.05",
        f"why: /why {leader_fill.fill_id}",
    ]


def test_errors_breakers_switches_and_resolutions() -> None:
    notices = build(
        EngineError("feed.stream", "socket closed", at_ms=T0),
        BreakerTripped(BreakerScope.GLOBAL, ReasonCode.RISK_DAILY_LOSS, "lost 101", T0),
        BreakerTripped(BreakerScope.LEADER, ReasonCode.RISK_LEADER_DRAWDOWN, "", T0, ALICE, True),
        KillSwitchChanged(True, "telegram", T0),
        LeaderPaused(ALICE, True, "dashboard", T0),
        MarketResolved(CONDITION, Resolution.winner(1, 2), "Will it rain?", T0),
        Redeemed(ACCOUNT, CONDITION, Usdc.parse("20"), Usdc.parse("9.6"), T0),
    )
    kinds = [n.kind for n in notices]
    assert kinds == [NoticeKind.ERROR] + [NoticeKind.BREAKER] * 4 + [NoticeKind.RESOLUTION] * 2
    texts = [text(n) for n in notices]
    assert texts[0] == "[PAPER] Error in feed.stream: socket closed"
    assert texts[1].startswith("[PAPER] Breaker tripped (global): risk_daily_loss — today's")
    assert texts[1].endswith("lost 101")
    assert texts[2] == "[PAPER] Breaker cleared (leader alice): risk_leader_drawdown"
    assert texts[3].startswith("[PAPER] KILL SWITCH ENGAGED by telegram")
    assert texts[4] == "[PAPER] Leader alice paused by dashboard."
    assert texts[5] == "[PAPER] Market resolved: Will it rain? — outcome 1 wins"
    assert texts[6] == "[PAPER] Redeemed 20.00 pUSD from 0xcccc…cccc (realized 9.60 pUSD)"


def test_routine_events_are_not_worth_a_message() -> None:
    assert (
        build(
            FillSighted(FeedSource.POLL, True, at_ms=T0),
            ComponentStatus("broker", ComponentState.READY, "", at_ms=T0),
            DecisionMade(copy_decision(fill(5))),  # announced when its order ends
        )
        == []
    )


def test_the_digest_reads_like_a_summary() -> None:
    digest = DigestView(
        day=dt.date(2026, 1, 1),
        mode=Mode.PAPER,
        account=ACCOUNT,
        equity=Usdc.parse("1011"),
        cash=Usdc.parse("1000"),
        exposure=Usdc.parse("10.4"),
        pnl=Pnl(Usdc.parse("1.5"), Usdc.parse("0.6")),
        fills_detected=12,
        copies=3,
        skips=9,
        top_skip_reasons=((ReasonCode.FILTER_PRICE_BAND, 6), (ReasonCode.FILTER_SPREAD, 3)),
        orders_filled=3,
        orders_failed=0,
        resolutions=0,
        redeemed=Usdc(0),
        errors=1,
        leaders=(LeaderDigest(ALICE, "alice", 3, 9, Usdc.parse("1.5")),),
    )
    notice = NoticeBuilder(labels={}, notify_skips=False).digest(digest, T0)
    assert text(notice).splitlines() == [
        "[PAPER] Daily digest 2026-01-01 · account default",
        "equity 1011.00 · cash 1000.00 · exposure 10.40",
        "PnL today 2.10 (realized 1.50, unrealized 0.60)",
        "fills seen 12 · copies 3 · skips 9 · orders filled 3, failed 0",
        "top skip reasons: filter_price_band ×6, filter_spread ×3",
        "errors 1 (see the log)",
        "· alice: 3 copies, 9 skips, realized 1.50",
    ]


def test_the_builder_forgets_old_fills_instead_of_growing_forever() -> None:
    builder = NoticeBuilder(labels={}, notify_skips=False, memory=3)
    for n in range(10):
        builder.on_event(FillDetected(fill(n), at_ms=T0, detection_ms=None))
        builder.on_event(DecisionMade(copy_decision(fill(n))))
    assert len(builder._fills) == 3 and len(builder._copies) == 3
