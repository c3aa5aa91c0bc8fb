"""Risk state and accumulators survive a restart; accumulating the same fill twice counts once."""

from __future__ import annotations

from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, FillId, TokenId
from polytail.domain.money import Shares, Usdc
from polytail.store import Store

ACCOUNT = AccountId("default")
LEADER = Address("0x" + "a" * 40)
TOKEN = TokenId("101")


def test_breakers_and_cooldowns_survive_reopening_the_store(store: Store, store_url: str) -> None:
    with store.transaction() as tx:
        tx.risk.put(ACCOUNT, "breaker", "daily_loss", "tripped", at_ms=1)
        tx.risk.put(ACCOUNT, "cooldown", LEADER, "", at_ms=1, until_ms=10_000)
        tx.risk.put(ACCOUNT, "paused", LEADER, "operator", at_ms=1)
        tx.risk.put(ACCOUNT, "paused", LEADER, "drawdown 40%", at_ms=2)
    with Store.open(store_url) as restarted, restarted.read() as tx:
        active = tx.risk.active(ACCOUNT, now_ms=5_000)
        assert [(e.scope, e.key, e.value) for e in active] == [
            ("breaker", "daily_loss", "tripped"),
            ("cooldown", LEADER, ""),
            ("paused", LEADER, "drawdown 40%"),
        ]
        assert [e.scope for e in tx.risk.active(ACCOUNT, now_ms=10_000)] == ["breaker", "paused"]
        assert tx.risk.active(ACCOUNT, now_ms=0, scope="paused")[0].updated_ms == 2
    with store.transaction() as tx:
        assert tx.risk.clear(ACCOUNT, "breaker", "daily_loss") is True
        assert tx.risk.get(ACCOUNT, "breaker", "daily_loss") is None


def test_accumulating_counts_each_leader_fill_once_and_take_empties_it(store: Store) -> None:
    def add(fill: str, amount: str) -> object:
        with store.transaction() as tx:
            return tx.accumulators.add(
                ACCOUNT,
                LEADER,
                TOKEN,
                Side.BUY,
                fill_id=FillId(fill),
                notional=Usdc.parse(amount),
                shares=Shares.parse(amount),
                at_ms=1,
            )

    add("f1", "0.4")
    add("f2", "0.3")
    again = add("f1", "0.4")  # the same fill processed again after a restart
    assert again.notional == Usdc.parse("0.7")  # type: ignore[attr-defined]
    with store.transaction() as tx:
        taken = tx.accumulators.take(ACCOUNT, LEADER, TOKEN, Side.BUY)
        assert taken is not None and taken.fill_ids == ("f1", "f2")
        assert tx.accumulators.take(ACCOUNT, LEADER, TOKEN, Side.BUY) is None
