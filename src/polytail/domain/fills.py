"""Leader fills: one trade of a watched wallet, as every feed agrees to describe it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from polytail.domain.ids import Address, ConditionId, FillId, TokenId, TxHash
from polytail.domain.money import Shares, Usdc


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Role(StrEnum):
    """Whether the leader's order rested (maker) or crossed the book (taker)."""

    MAKER = "maker"
    TAKER = "taker"
    UNKNOWN = "unknown"  # the Data API and RTDS do not say


class FeedSource(StrEnum):
    STREAM = "stream"  # RTDS activity firehose
    POLL = "poll"  # Data API activity per wallet
    CHAIN = "chain"  # exchange OrderFilled logs
    BACKFILL = "backfill"  # Data API gap fill after a stream reconnect
    REPLAY = "replay"  # files: backtests and tests


@dataclass(frozen=True, slots=True)
class LatencyStamps:
    """When the fill happened and when we learned of it, for detection-latency metrics.

    `venue_ms` is the venue's own timestamp (seconds precision on most feeds, scaled to
    ms); `received_ns` and `merged_ns` are monotonic-clock readings taken by the feeds, so
    only their differences are meaningful. `merged_ms` is the wall clock at the same moment
    as `merged_ns`: the anchor that turns the monotonic readings into wall times, so the
    detection latency (venue -> merged) can be computed in ms.
    """

    venue_ms: int
    received_ns: int = 0
    merged_ns: int = 0
    merged_ms: int = 0

    @property
    def detection_ms(self) -> int | None:
        """Venue timestamp -> merged, in ms (None until merged). Most venue timestamps have
        whole-second precision, so this overstates the latency by up to a second."""
        return self.merged_ms - self.venue_ms if self.merged_ms else None


@dataclass(frozen=True, slots=True)
class LeaderFill:
    """One fill of a watched wallet.

    `price` is the venue-reported execution price, kept as an exact Decimal because it is
    not necessarily on any tick (the Data API reports pUSD/shares, e.g. 0.860000001148).
    `usdc` is the fill's notional as reported (Data API `usdcSize`, or the on-chain pUSD
    amount), or shares x price rounded half-even when the source gives no notional.
    """

    fill_id: FillId
    wallet: Address
    side: Side
    token_id: TokenId
    condition_id: ConditionId | None
    outcome_index: int | None
    price: Decimal
    size: Shares
    usdc: Usdc
    timestamp: int  # Unix seconds (venue time)
    tx_hash: TxHash | None
    source: FeedSource
    log_index: int | None = None
    role: Role = Role.UNKNOWN
    fee: Usdc | None = None
    outcome: str = ""
    slug: str = ""
    event_slug: str = ""
    stamps: LatencyStamps = field(default_factory=lambda: LatencyStamps(venue_ms=0))

    def enriched_by(self, later: LeaderFill) -> LeaderFill:
        """This fill with the gaps filled from a later sighting of the same fill.

        The first sighting wins: nothing it already knows is overwritten, so a fill that
        was copied is never described differently afterwards. Only unknowns are filled in
        (the on-chain log index, the role, the fee, the outcome index).
        """
        if later.fill_id != self.fill_id:
            raise ValueError("cannot enrich a fill with a different fill's sighting")
        return replace(
            self,
            condition_id=self.condition_id or later.condition_id,
            outcome_index=self.outcome_index
            if self.outcome_index is not None
            else later.outcome_index,
            log_index=self.log_index if self.log_index is not None else later.log_index,
            role=self.role if self.role is not Role.UNKNOWN else later.role,
            fee=self.fee if self.fee is not None else later.fee,
            outcome=self.outcome or later.outcome,
            slug=self.slug or later.slug,
            event_slug=self.event_slug or later.event_slug,
        )
