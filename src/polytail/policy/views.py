"""What a decision reads: immutable snapshots of the market, the leader and our portfolio.

The engine keeps one `PortfolioView` per account and replaces it after every event (an
order opened or closed, one of our fills, a redemption, a new mark). The view carries
the aggregates the risk checks compare with (exposure per market, outcome, leader and in
total; realized PnL today; peaks for drawdowns), so a decision reads each in O(1) instead
of summing 1,000 positions. Updates are persistent: the maps are `immutables.Map` (a
hash array mapped trie), so a new view shares almost everything with the old one and an
update costs O(log n) whatever the size of the portfolio. A view handed to a decision
can never change under it.

**Exposure** is money at risk, counted at cost: the cost basis (fees included) of the
shares we hold, plus the reserve of every open BUY order (its notional at the limit
price plus its worst-case taker fee). A fill moves an amount from reserve to cost basis
(at most the amount reserved: fills at better prices cost less); a sale removes the
cost basis of the shares sold; a redemption removes the whole position's. Marks never
change exposure: caps bound what we put in, not what it is worth today.

Build a view from the ledger at startup with `PortfolioView.build`, then apply events
with the update methods; `build` over the same state gives an equal view (a property
test holds the two together).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, TypeVar

from immutables import Map

from polytail.domain.book import OrderBook
from polytail.domain.ids import AccountId, Address, ConditionId, TokenId
from polytail.domain.market import Market
from polytail.domain.money import Shares, Usdc
from polytail.domain.positions import InsufficientShares, Position

MS_PER_DAY: Final = 86_400_000

K = TypeVar("K")
V = TypeVar("V")

LotKey = tuple[TokenId, Address]
"""Our shares of one outcome attributed to one leader."""


def utc_day(now_ms: int) -> int:
    """Days since the Unix epoch: the UTC day that daily loss limits count in."""
    return now_ms // MS_PER_DAY


@dataclass(frozen=True, slots=True)
class Quote:
    """The market and its current book for the outcome a fill traded."""

    market: Market
    book: OrderBook | None


@dataclass(frozen=True, slots=True)
class LeaderView:
    """What we know of the leader behind a fill; either value may be unknown (None).

    `position_before` is the leader's own holding of the fill's outcome *before* the
    fill (a proportional exit sells the fraction sold / held). Unknown: a leader SELL is
    treated as a full exit of what we hold for that leader (the leader held at least
    what it sold, and following it out is the side that reduces risk).
    `portfolio_value` is the leader's portfolio value for bankroll sizing. Unknown: a
    bankroll-sized copy is skipped (`size_bankroll_unknown`).
    """

    position_before: Shares | None = None
    portfolio_value: Usdc | None = None


@dataclass(frozen=True, slots=True)
class LeaderStats:
    """Aggregates of one leader's copies.

    `exposure` follows the definition in the module docstring. `realized_today` is the
    realized PnL of its copies on the view's UTC `day`. `pnl` is its copies' cumulative
    PnL (realized + unrealized at the last marks) and `peak_pnl` the highest `pnl` seen:
    the leader's drawdown is measured on budget + pnl against budget + peak_pnl.
    `last_loss_ms` is when one of its copies last closed at a loss (for the cool-down).
    """

    exposure: Usdc = Usdc(0)
    realized_today: Usdc = Usdc(0)
    pnl: Usdc = Usdc(0)
    peak_pnl: Usdc = Usdc(0)
    last_loss_ms: int | None = None


_NO_LEADER: Final = LeaderStats()
_ZERO: Final = Usdc(0)
_NO_SHARES: Final = Shares(0)


@dataclass(frozen=True, slots=True)
class OpenBuy:
    """An open BUY order as `PortfolioView.build` needs it: what it still reserves."""

    token_id: TokenId
    condition_id: ConditionId
    leader: Address
    reserve: Usdc


@dataclass(frozen=True, slots=True)
class OpenSell:
    """An open SELL order: the shares of a leader's lot it may still sell."""

    token_id: TokenId
    leader: Address
    shares: Shares


@dataclass(frozen=True, slots=True)
class PortfolioView:
    """One account's portfolio as the policy sees it.

    `cash` is the pUSD balance, including what open BUY orders reserve (`committed`); a
    copy may spend `cash - committed - risk.cash_reserve_usdc`. `equity` is cash plus
    positions at the last marks; `peak_equity` its highest value. `selling` holds the
    shares of each lot already in open SELL orders: exits size on what is left, so two
    exits in a row never sell the same shares. `lot_versions` holds, per lot, the ledger
    sequence number of the last event that changed it: exit rules use it in their intent
    keys, so one trigger maps to one order and a changed lot to a new one.
    """

    account: AccountId
    cash: Usdc = Usdc(0)
    committed: Usdc = Usdc(0)
    equity: Usdc = Usdc(0)
    peak_equity: Usdc = Usdc(0)
    day: int = 0
    realized_today: Usdc = Usdc(0)
    total_exposure: Usdc = Usdc(0)
    market_exposure: Map[ConditionId, Usdc] = field(default_factory=Map)
    outcome_exposure: Map[TokenId, Usdc] = field(default_factory=Map)
    leaders: Map[Address, LeaderStats] = field(default_factory=Map)
    positions: Map[TokenId, Position] = field(default_factory=Map)
    selling: Map[LotKey, Shares] = field(default_factory=Map)
    lot_versions: Map[LotKey, int] = field(default_factory=Map)
    open_orders: int = 0
    kill_switch: bool = False
    paused_leaders: frozenset[Address] = frozenset()

    # --- reads (O(1)) -----------------------------------------------------------------
    def market_exposure_of(self, condition: ConditionId) -> Usdc:
        return self.market_exposure.get(condition, _ZERO)

    def outcome_exposure_of(self, token: TokenId) -> Usdc:
        return self.outcome_exposure.get(token, _ZERO)

    def leader(self, leader: Address) -> LeaderStats:
        return self.leaders.get(leader, _NO_LEADER)

    def held(self, token: TokenId, leader: Address) -> Shares:
        position = self.positions.get(token)
        return _NO_SHARES if position is None else position.held_for(leader)

    def available(self, token: TokenId, leader: Address) -> Shares:
        """Shares of a leader's lot not yet in an open SELL order."""
        held = self.held(token, leader)
        selling = self.selling.get((token, leader))
        return held if selling is None else Shares(max(0, held.units - selling.units))

    def realized_today_on(self, day: int) -> Usdc:
        """Realized PnL on `day`: zero when the view was last updated on an earlier day."""
        return self.realized_today if day == self.day else _ZERO

    def leader_realized_today_on(self, leader: Address, day: int) -> Usdc:
        return self.leader(leader).realized_today if day == self.day else _ZERO

    # --- orders ---------------------------------------------------------------------------
    def buy_order_opened(
        self, *, token: TokenId, condition: ConditionId, leader: Address, reserve: Usdc
    ) -> PortfolioView:
        """A BUY order was written: its reserve (notional at the limit + worst fee) counts."""
        return replace(
            self,
            committed=self.committed + reserve,
            open_orders=self.open_orders + 1,
            **self._exposure_changes(condition, token, leader, reserve.units),
        )

    def buy_order_released(
        self,
        *,
        token: TokenId,
        condition: ConditionId,
        leader: Address,
        reserve: Usdc,
        closed: bool,
    ) -> PortfolioView:
        """Part of a BUY order's reserve is released: by a fill (then call `bought` with
        what the fill cost) or because the order ended (`closed`: it no longer counts as
        open)."""
        return replace(
            self,
            committed=self.committed - reserve,
            open_orders=self.open_orders - (1 if closed else 0),
            **self._exposure_changes(condition, token, leader, -reserve.units),
        )

    def sell_order_opened(
        self, *, token: TokenId, leader: Address, shares: Shares
    ) -> PortfolioView:
        key = (token, leader)
        current = self.selling.get(key, _NO_SHARES)
        return replace(
            self,
            selling=self.selling.set(key, current + shares),
            open_orders=self.open_orders + 1,
        )

    def sell_order_released(
        self, *, token: TokenId, leader: Address, shares: Shares, closed: bool
    ) -> PortfolioView:
        """Shares leave an open SELL order: sold (then call `sold`) or the order ended."""
        key = (token, leader)
        left = self.selling.get(key, _NO_SHARES) - shares
        if left.is_negative:
            raise InsufficientShares(f"{token}: releasing {shares} more than is being sold")
        selling = self.selling.set(key, left) if left.units else _without(self.selling, key)
        return replace(self, selling=selling, open_orders=self.open_orders - (1 if closed else 0))

    # --- our fills, redemptions --------------------------------------------------------
    def bought(
        self,
        *,
        token: TokenId,
        condition: ConditionId,
        outcome_index: int,
        leader: Address,
        shares: Shares,
        notional: Usdc,
        fee: Usdc,
        seq: int,
    ) -> PortfolioView:
        """One of our BUY fills, attributed to `leader`: cost basis and cash move."""
        position = self.positions.get(token) or Position(
            self.account, token, condition, outcome_index
        )
        cost = notional + fee
        return replace(
            self,
            **self._exposure_changes(condition, token, leader, cost.units),
            cash=self.cash - cost,
            positions=self.positions.set(token, position.bought(leader, shares, notional, fee)),
            lot_versions=self.lot_versions.set((token, leader), seq),
        )

    def sold(
        self,
        *,
        token: TokenId,
        leader: Address,
        shares: Shares,
        proceeds: Usdc,
        fee: Usdc,
        now_ms: int,
        seq: int,
    ) -> PortfolioView:
        """One of our SELL fills from `leader`'s lot: removes its cost, books realized PnL."""
        position = self.positions.get(token)
        if position is None:
            raise InsufficientShares(f"{token}: selling {shares} shares, but nothing is held")
        cost_before = position.cost
        after, realized = position.sold(leader, shares, proceeds, fee)
        removed = cost_before - after.cost
        view = self._rolled(now_ms)._exposed(after.condition_id, token, leader, -removed.units)
        view = view._realized(leader, realized, now_ms)
        return replace(
            view,
            cash=view.cash + proceeds - fee,
            positions=_store_position(view.positions, after),
            lot_versions=_set_or_drop_version(view.lot_versions, after, leader, seq),
        )

    def redeemed(self, *, token: TokenId, payout: Usdc, now_ms: int) -> PortfolioView:
        """The position was redeemed for `payout` in total: every lot closes."""
        position = self.positions.get(token)
        if position is None:
            return self
        view = self._rolled(now_ms)
        _, realized = position.redeemed(payout)
        for leader, lot in position.lots.items():
            if lot.cost.units:
                view = view._exposed(position.condition_id, token, leader, -lot.cost.units)
        for leader, pnl in realized.items():
            view = view._realized(leader, pnl, now_ms)
        versions = view.lot_versions
        for leader in position.lots:
            versions = _without(versions, (token, leader))
        return replace(
            view,
            cash=view.cash + payout,
            positions=_without(view.positions, token),
            lot_versions=versions,
        )

    # --- marks and controls ------------------------------------------------------------
    def marked(
        self, *, equity: Usdc, leader_pnl: Mapping[Address, Usdc] | None = None
    ) -> PortfolioView:
        """New marks: equity and each given leader's cumulative PnL, with their peaks."""
        leaders = self.leaders
        for leader, pnl in (leader_pnl or {}).items():
            stats = leaders.get(leader, _NO_LEADER)
            leaders = leaders.set(leader, replace(stats, pnl=pnl, peak_pnl=stats.peak_pnl.max(pnl)))
        return replace(
            self, equity=equity, peak_equity=self.peak_equity.max(equity), leaders=leaders
        )

    def with_controls(
        self, *, kill_switch: bool | None = None, paused_leaders: Iterable[Address] | None = None
    ) -> PortfolioView:
        return replace(
            self,
            kill_switch=self.kill_switch if kill_switch is None else kill_switch,
            paused_leaders=self.paused_leaders
            if paused_leaders is None
            else frozenset(paused_leaders),
        )

    # --- building from the ledger ------------------------------------------------------
    @classmethod
    def build(
        cls,
        *,
        account: AccountId,
        cash: Usdc,
        equity: Usdc,
        peak_equity: Usdc,
        day: int,
        realized_today: Usdc = _ZERO,
        positions: Iterable[Position] = (),
        open_buys: Iterable[OpenBuy] = (),
        open_sells: Iterable[OpenSell] = (),
        open_orders: int | None = None,
        leaders: Mapping[Address, LeaderStats] | None = None,
        lot_versions: Mapping[LotKey, int] | None = None,
        kill_switch: bool = False,
        paused_leaders: Iterable[Address] = (),
    ) -> PortfolioView:
        """A view computed from scratch (at startup, from the ledger and open orders).

        `leaders` supplies each leader's realized-today, PnL, peak and last loss; the
        exposures are computed here. `open_orders` defaults to the number of open buys
        and sells given.
        """
        buys, sells = list(open_buys), list(open_sells)
        market: dict[ConditionId, int] = {}
        outcome: dict[TokenId, int] = {}
        by_leader: dict[Address, int] = {}

        def add(condition: ConditionId, token: TokenId, leader: Address, units: int) -> None:
            market[condition] = market.get(condition, 0) + units
            outcome[token] = outcome.get(token, 0) + units
            by_leader[leader] = by_leader.get(leader, 0) + units

        held: dict[TokenId, Position] = {}
        for position in positions:
            if position.is_flat:
                continue
            held[position.token_id] = position
            for leader, lot in position.lots.items():
                add(position.condition_id, position.token_id, leader, lot.cost.units)
        committed = 0
        for buy in buys:
            add(buy.condition_id, buy.token_id, buy.leader, buy.reserve.units)
            committed += buy.reserve.units
        selling: dict[LotKey, int] = {}
        for sell in sells:
            key = (sell.token_id, sell.leader)
            selling[key] = selling.get(key, 0) + sell.shares.units
        stats = dict(leaders or {})
        for leader in set(stats) | set(by_leader):
            stats[leader] = replace(
                stats.get(leader, _NO_LEADER), exposure=Usdc(by_leader.get(leader, 0))
            )
        return cls(
            account=account,
            cash=cash,
            committed=Usdc(committed),
            equity=equity,
            peak_equity=peak_equity.max(equity),
            day=day,
            realized_today=realized_today,
            total_exposure=Usdc(sum(market.values())),
            market_exposure=Map({k: Usdc(v) for k, v in market.items() if v}),
            outcome_exposure=Map({k: Usdc(v) for k, v in outcome.items() if v}),
            leaders=Map(stats),
            positions=Map(held),
            selling=Map({k: Shares(v) for k, v in selling.items() if v}),
            lot_versions=Map(lot_versions or {}),
            open_orders=len(buys) + len(sells) if open_orders is None else open_orders,
            kill_switch=kill_switch,
            paused_leaders=frozenset(paused_leaders),
        )

    # --- internals ---------------------------------------------------------------------
    def _exposure_changes(
        self, condition: ConditionId, token: TokenId, leader: Address, units: int
    ) -> dict[str, Any]:
        """The fields that change when `units` of exposure are added (or removed)."""
        if units == 0:
            return {}
        stats = self.leaders.get(leader, _NO_LEADER)
        return {
            "total_exposure": Usdc(self.total_exposure.units + units),
            "market_exposure": _added(self.market_exposure, condition, units),
            "outcome_exposure": _added(self.outcome_exposure, token, units),
            "leaders": self.leaders.set(
                leader,
                LeaderStats(
                    Usdc(stats.exposure.units + units),
                    stats.realized_today,
                    stats.pnl,
                    stats.peak_pnl,
                    stats.last_loss_ms,
                ),
            ),
        }

    def _exposed(
        self, condition: ConditionId, token: TokenId, leader: Address, units: int
    ) -> PortfolioView:
        changes = self._exposure_changes(condition, token, leader, units)
        return replace(self, **changes) if changes else self

    def _rolled(self, now_ms: int) -> PortfolioView:
        """The view moved to the UTC day of `now_ms`: realized-today counters restart."""
        day = utc_day(now_ms)
        if day <= self.day:
            return self
        leaders = Map(
            {leader: replace(stats, realized_today=_ZERO) for leader, stats in self.leaders.items()}
        )
        return replace(self, day=day, realized_today=_ZERO, leaders=leaders)

    def _realized(self, leader: Address, realized: Usdc, now_ms: int) -> PortfolioView:
        stats = self.leaders.get(leader, _NO_LEADER)
        stats = replace(
            stats,
            realized_today=stats.realized_today + realized,
            last_loss_ms=now_ms if realized.is_negative else stats.last_loss_ms,
        )
        return replace(
            self,
            realized_today=self.realized_today + realized,
            leaders=self.leaders.set(leader, stats),
        )


def _added(mapping: Map[K, Usdc], key: K, units: int) -> Map[K, Usdc]:
    total = mapping.get(key, _ZERO).units + units
    return mapping.set(key, Usdc(total)) if total else _without(mapping, key)


def _without(mapping: Map[K, V], key: K) -> Map[K, V]:
    return mapping.delete(key) if key in mapping else mapping


def _store_position(
    positions: Map[TokenId, Position], position: Position
) -> Map[TokenId, Position]:
    if position.is_flat:
        return _without(positions, position.token_id)
    return positions.set(position.token_id, position)


def _set_or_drop_version(
    versions: Map[LotKey, int], position: Position, leader: Address, seq: int
) -> Map[LotKey, int]:
    key = (position.token_id, leader)
    if position.held_for(leader).units == 0:
        return _without(versions, key)
    return versions.set(key, seq)
