"""The configuration schema: every key, its type, its default and what it is for.

One TOML file, validated as a whole. Every layer receives its own typed section from here
(the policy gets `filters`, `sizing`, `pricing`, `exits` and `risk`; the feeds get `feeds`;
and so on), so a key that exists is a key something reads. Field descriptions double as
the reference documentation (`polytail config docs`, docs/CONFIGURATION.md).

Amounts and prices are `Decimal`: the loader reads TOML numbers as exact decimals, and
money never passes through a float.

Secrets are *not* part of this schema. They come from the environment or an encrypted
keystore (`polytail.config.secrets`), and the loader refuses a config file containing one.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from polytail.domain.fills import Role
from polytail.domain.ids import IdError, address
from polytail.domain.market import MarketVersion
from polytail.domain.orders import OrderType


def _checked_address(value: str) -> str:
    try:
        return address(value)
    except IdError as error:
        raise ValueError(str(error)) from None


def _checked_url(value: str) -> str:
    if not value.startswith(("http://", "https://", "ws://", "wss://")):
        raise ValueError(f"expected an http(s):// or ws(s):// URL, got {value!r}")
    return value.rstrip("/")


EthAddress = Annotated[str, AfterValidator(_checked_address)]
Url = Annotated[str, AfterValidator(_checked_url)]
Amount = Annotated[Decimal, Field(ge=0, decimal_places=6)]
"""A non-negative pUSD amount with at most 6 decimals."""
Fraction = Annotated[Decimal, Field(ge=0, le=1)]
PriceValue = Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]
Percent = Annotated[Decimal, Field(gt=0, le=100)]
Seconds = Annotated[float, Field(ge=0)]


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


# --------------------------------------------------------------------------------------
# mode, wallet, storage
# --------------------------------------------------------------------------------------


class Mode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class WalletType(StrEnum):
    """How orders are signed (the venue's `signatureType`)."""

    EOA = "eoa"  # 0: the key's own address holds the funds
    PROXY = "proxy"  # 1: Polymarket proxy wallet (email / Magic accounts)
    SAFE = "safe"  # 2: 1-of-1 Gnosis Safe (browser-wallet accounts)
    DEPOSIT = "deposit"  # 3: deposit wallet, POLY_1271 (new API accounts since May 2026)


class WalletSettings(Section):
    address: EthAddress | None = Field(
        None,
        description="The funder (maker) wallet that holds pUSD and shares: your proxy, Safe "
        "or deposit wallet, or the key's own address for an EOA. Your Polymarket profile "
        "address. Required for live trading.",
    )
    type: WalletType | None = Field(
        None,
        description="Wallet type: eoa, proxy, safe or deposit. Required for live trading; "
        "`polytail doctor` checks it against the address.",
    )
    keystore: Path | None = Field(
        None,
        description="Encrypted Ethereum keystore (JSON) holding the signing key. Its "
        "passphrase comes from POLYTAIL_KEYSTORE_PASSPHRASE. Alternative to "
        "POLYTAIL_PRIVATE_KEY.",
    )
    chain_id: int = Field(137, description="Polygon chain id (137 mainnet, 80002 Amoy).")


class DatabaseSettings(Section):
    url: str | None = Field(
        None,
        description="SQLAlchemy URL. Empty: a SQLite file in data_dir, separate for paper "
        "(polytail-paper.sqlite) and live (polytail-live.sqlite). PostgreSQL: "
        "postgresql+psycopg://user@host/db.",
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging only).")


# --------------------------------------------------------------------------------------
# venue
# --------------------------------------------------------------------------------------


class VenueSettings(Section):
    clob_url: Url = Field("https://clob.polymarket.com", description="CLOB REST base URL.")
    gamma_url: Url = Field("https://gamma-api.polymarket.com", description="Gamma API base URL.")
    data_url: Url = Field("https://data-api.polymarket.com", description="Data API base URL.")
    relayer_url: Url = Field(
        "https://relayer-v2.polymarket.com", description="Relayer (gasless transactions)."
    )
    rtds_url: Url = Field(
        "wss://ws-live-data.polymarket.com", description="RTDS websocket (activity stream)."
    )
    clob_market_ws_url: Url = Field(
        "wss://ws-subscriptions-clob.polymarket.com/ws/market",
        description="CLOB market channel websocket.",
    )
    clob_user_ws_url: Url = Field(
        "wss://ws-subscriptions-clob.polymarket.com/ws/user",
        description="CLOB user channel websocket (own orders and fills).",
    )
    rpc_url: Url = Field("https://polygon.drpc.org", description="Polygon JSON-RPC endpoint.")
    rpc_ws_url: Url | None = Field(
        None, description="Polygon JSON-RPC websocket, for eth_subscribe where offered."
    )
    geoblock_url: Url = Field(
        "https://polymarket.com/api/geoblock", description="Geoblock check endpoint."
    )
    request_timeout_s: Annotated[float, Field(gt=0, le=120)] = Field(
        10.0, description="Timeout of every HTTP call, in seconds."
    )
    rate_limit_share: Annotated[float, Field(gt=0, le=1)] = Field(
        0.9,
        description="Fraction of each published rate limit polytail allows itself, leaving "
        "headroom for other tools on the same IP.",
    )
    market_cache_ttl_s: Annotated[float, Field(gt=0)] = Field(
        300.0, description="How long market metadata stays cached before a refresh."
    )
    market_cache_size: Annotated[int, Field(gt=0)] = Field(
        20_000, description="Maximum number of markets kept in the metadata cache."
    )


# --------------------------------------------------------------------------------------
# feeds
# --------------------------------------------------------------------------------------


class StreamFeedSettings(Section):
    enabled: bool = Field(
        True, description="Watch the RTDS activity stream (fastest, best-effort)."
    )
    stale_after_s: Annotated[float, Field(gt=0)] = Field(
        30.0, description="Reconnect when no frame arrived for this long."
    )
    max_backoff_s: Annotated[float, Field(gt=0)] = Field(
        30.0, description="Upper bound of the reconnect backoff."
    )
    backfill: bool = Field(
        True, description="After every reconnect, fetch the gap from the Data API."
    )
    backfill_margin_s: Annotated[int, Field(ge=0)] = Field(
        30, description="Start a backfill this many seconds before the gap began."
    )
    reorder_window_s: Annotated[float, Field(ge=0, le=5)] = Field(
        0.02,
        description="Frames arriving within this window are passed on together in venue-time "
        "order, so frames the stream swapped arrive in order (adds up to this much latency).",
    )


class PollFeedSettings(Section):
    enabled: bool = Field(True, description="Poll the Data API activity of each watched wallet.")
    budget_share: Annotated[float, Field(gt=0, le=1)] = Field(
        0.5, description="Share of the Data API activity rate budget the poller may use."
    )
    min_interval_s: Annotated[float, Field(gt=0)] = Field(
        1.0, description="Shortest interval between two polls of one (active) wallet."
    )
    max_interval_s: Annotated[float, Field(gt=0)] = Field(
        60.0, description="Longest interval between two polls of one (idle) wallet."
    )
    page_size: Annotated[int, Field(gt=0, le=500)] = Field(500, description="Rows per page.")
    api: Literal["v1", "v2"] = Field("v1", description="Data API version to poll.")
    overlap_s: Annotated[int, Field(ge=0)] = Field(
        30,
        description="Each poll re-reads this many seconds before the newest fill it has seen, "
        "so rows the Data API indexes late are not skipped.",
    )
    lookback_s: Annotated[int, Field(ge=0)] = Field(
        300, description="How far back a newly watched wallet is read on its first poll."
    )

    @model_validator(mode="after")
    def _intervals_ordered(self) -> PollFeedSettings:
        if self.min_interval_s > self.max_interval_s:
            raise ValueError(
                f"min_interval_s ({self.min_interval_s}) must not exceed max_interval_s "
                f"({self.max_interval_s})"
            )
        return self


class ChainFeedSettings(Section):
    enabled: bool = Field(False, description="Read exchange OrderFilled logs from Polygon.")
    confirmations: Annotated[int, Field(ge=0, le=500)] = Field(
        3, description="Blocks to wait before a log is final (the unconfirmed tail may reorg)."
    )
    poll_interval_s: Annotated[float, Field(gt=0)] = Field(
        2.0, description="Interval between eth_getLogs polls."
    )
    max_block_range: Annotated[int, Field(gt=0)] = Field(
        500, description="Largest block range per eth_getLogs call."
    )
    read_unconfirmed: bool = Field(
        False,
        description="Also read blocks not yet final, for speed; a fill whose transaction a "
        "reorg drops may then have been passed on.",
    )
    exchanges: list[EthAddress] = Field(
        default_factory=lambda: [
            "0xe111180000d2663c0091e4f400237545b87b996b",
            "0xe2222d279d744050d28e00520010520000310f59",
            "0xe3333700ca9d93003f00f0f71f8515005f6c00aa",
        ],
        description="Exchange contracts whose OrderFilled events are read (CTF V2, "
        "neg-risk V2, ExchangeV3).",
    )


class FeedsSettings(Section):
    stream: StreamFeedSettings = StreamFeedSettings()
    poll: PollFeedSettings = PollFeedSettings()
    chain: ChainFeedSettings = ChainFeedSettings()
    seen_capacity: Annotated[int, Field(ge=2)] = Field(
        1_000_000,
        description="Fill ids kept in memory for de-duplication (older ones are checked "
        "in the store).",
    )

    @model_validator(mode="after")
    def _at_least_one_feed(self) -> FeedsSettings:
        if not (self.stream.enabled or self.poll.enabled or self.chain.enabled):
            raise ValueError(
                "every feed is disabled; enable at least one of feeds.stream, feeds.poll, "
                "feeds.chain"
            )
        return self


# --------------------------------------------------------------------------------------
# policy: filters, sizing, pricing, exits, risk
# --------------------------------------------------------------------------------------


class SideFilter(StrEnum):
    BOTH = "both"
    BUYS = "buys"
    SELLS = "sells"


class FilterSettings(Section):
    min_leader_usdc: Amount = Field(
        Decimal(1), description="Skip leader fills smaller than this notional (pUSD)."
    )
    price_min: PriceValue = Field(Decimal("0.02"), description="Skip fills priced below this.")
    price_max: PriceValue = Field(Decimal("0.98"), description="Skip fills priced above this.")
    max_spread: PriceValue | None = Field(
        Decimal("0.05"), description="Skip when the book's spread is wider (price units)."
    )
    min_depth_usdc: Amount | None = Field(
        None, description="Skip when less than this notional is available at the copy price."
    )
    categories_allow: list[str] = Field(
        default_factory=list, description="Copy only markets in these categories (empty: all)."
    )
    categories_deny: list[str] = Field(
        default_factory=list, description="Never copy markets in these categories."
    )
    tags_allow: list[str] = Field(
        default_factory=list, description="Copy only markets with one of these tags (empty: all)."
    )
    tags_deny: list[str] = Field(
        default_factory=list, description="Never copy markets with any of these tags."
    )
    slug_keywords_allow: list[str] = Field(
        default_factory=list,
        description="Copy only markets whose slug contains one of these (empty: all).",
    )
    slug_keywords_deny: list[str] = Field(
        default_factory=list, description="Never copy markets whose slug contains one of these."
    )
    max_days_to_resolution: Annotated[Decimal, Field(gt=0)] | None = Field(
        None, description="Skip markets that end later than this many days from now."
    )
    min_minutes_left: Annotated[Decimal, Field(ge=0)] = Field(
        Decimal(5), description="Skip markets ending sooner than this many minutes from now."
    )
    market_versions: list[MarketVersion] = Field(
        default_factory=lambda: [MarketVersion.V1, MarketVersion.V2],
        description="Market protocol versions to copy (v1 CTF, v2 Protocol V2).",
    )
    allow_neg_risk: bool = Field(True, description="Copy neg-risk (multi-outcome) markets.")
    max_fill_age_s: Annotated[float, Field(gt=0)] = Field(
        120.0, description="Skip leader fills older than this when we see them."
    )
    roles: list[Role] = Field(
        default_factory=lambda: [Role.MAKER, Role.TAKER, Role.UNKNOWN],
        description="Leader roles to copy: maker, taker, unknown (feeds that do not say).",
    )
    sides: SideFilter = Field(
        SideFilter.BOTH, description="Copy the leader's buys, sells, or both."
    )

    @model_validator(mode="after")
    def _band(self) -> FilterSettings:
        if self.price_min > self.price_max:
            raise ValueError(f"price_min ({self.price_min}) is above price_max ({self.price_max})")
        return self


class SizingMode(StrEnum):
    FIXED = "fixed"  # a fixed pUSD amount per copy
    RATIO = "ratio"  # leader notional x ratio
    BANKROLL = "bankroll"  # leader notional x (our equity / leader portfolio value)
    EQUITY_PCT = "equity_pct"  # a percentage of our equity per copy
    TIERED = "tiered"  # leader notional x the multiplier of its size tier


class BelowMinimum(StrEnum):
    SKIP = "skip"
    ACCUMULATE = "accumulate"


class Tier(Section):
    min_leader_usdc: Amount = Field(description="Tier applies from this leader notional up.")
    multiplier: Annotated[Decimal, Field(ge=0)] = Field(
        description="Copy notional = leader notional x multiplier."
    )


class SizingSettings(Section):
    mode: SizingMode = Field(SizingMode.FIXED, description="How a copy is sized.")
    fixed_usdc: Amount = Field(Decimal(10), description="fixed: pUSD per copy.")
    ratio: Annotated[Decimal, Field(gt=0)] = Field(
        Decimal("0.1"), description="ratio: copy notional = leader notional x ratio."
    )
    equity_pct: Percent = Field(
        Decimal(1), description="equity_pct: percent of our equity per copy."
    )
    tiers: list[Tier] = Field(
        default_factory=list, description="tiered: multipliers by leader trade size."
    )
    fee_aware: bool = Field(
        True,
        description="Size a buy so that notional + taker fee fits the sized amount. Off: "
        "the fee comes on top of it. Risk caps always count the fee.",
    )
    below_minimum: BelowMinimum = Field(
        BelowMinimum.SKIP,
        description="A copy below the venue minimum is skipped, or accumulated per leader "
        "and outcome until it reaches the minimum.",
    )
    accumulate_window_s: Annotated[int, Field(gt=0)] = Field(
        900,
        description="accumulate: an amount still below the minimum this long after its "
        "first contribution is dropped.",
    )

    @model_validator(mode="after")
    def _tiers(self) -> SizingSettings:
        if self.mode is SizingMode.TIERED and not self.tiers:
            raise ValueError("sizing.mode = 'tiered' needs at least one [[sizing.tiers]] entry")
        starts = [tier.min_leader_usdc for tier in self.tiers]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("sizing.tiers must be sorted by min_leader_usdc without repeats")
        return self


class PricingSettings(Section):
    slippage_bps: Annotated[int, Field(ge=0, le=5000)] = Field(
        200,
        description="Worst acceptable price relative to the leader's price, in basis points "
        "(200 = 2 % worse).",
    )
    buy_order_type: OrderType = Field(
        OrderType.FOK, description="Order type for copied buys: FOK, FAK or GTC."
    )
    sell_order_type: OrderType = Field(
        OrderType.FAK, description="Order type for exits: FOK, FAK or GTC."
    )
    gtc_ttl_s: Annotated[int, Field(gt=0)] = Field(
        60, description="GTC copies are cancelled after this many seconds."
    )

    @model_validator(mode="after")
    def _types(self) -> PricingSettings:
        for key in ("buy_order_type", "sell_order_type"):
            if getattr(self, key) is OrderType.GTD:
                raise ValueError(f"{key}: use GTC with gtc_ttl_s instead of GTD")
        return self


class ExitSettings(Section):
    mirror_sells: bool = Field(
        True, description="Sell the same fraction of our copied shares when the leader sells."
    )
    take_profit_pct: Percent | None = Field(
        None, description="Sell a position once its price is this percent above our cost."
    )
    stop_loss_pct: Percent | None = Field(
        None, description="Sell a position once its price is this percent below our cost."
    )
    trailing_stop_pct: Percent | None = Field(
        None, description="Sell once the price falls this percent from its high since entry."
    )
    exit_before_resolution_minutes: Annotated[int, Field(gt=0)] | None = Field(
        None, description="Sell this many minutes before the market's end date."
    )


class RiskSettings(Section):
    max_order_usdc: Amount = Field(Decimal(50), description="Largest single copy (pUSD).")
    max_market_usdc: Amount = Field(Decimal(200), description="Largest exposure per market.")
    max_outcome_usdc: Amount = Field(
        Decimal(150), description="Largest exposure per outcome token."
    )
    max_leader_usdc: Amount = Field(
        Decimal(500), description="Default budget per leader (override per leader)."
    )
    max_total_usdc: Amount = Field(Decimal(1000), description="Largest total exposure.")
    cash_reserve_usdc: Amount = Field(Decimal(0), description="Cash never spent.")
    max_open_orders: Annotated[int, Field(gt=0)] = Field(
        20, description="Most orders open at once."
    )
    daily_loss_usdc: Amount | None = Field(
        Decimal(100), description="Stop opening positions after losing this much today (UTC)."
    )
    leader_daily_loss_usdc: Amount | None = Field(
        Decimal(50), description="Stop copying a leader after its copies lost this much today."
    )
    max_drawdown_pct: Percent | None = Field(
        Decimal(25), description="Stop opening positions after this drawdown from peak equity."
    )
    leader_max_drawdown_pct: Percent | None = Field(
        Decimal(35), description="Stop copying a leader after its copies draw down this much."
    )
    cooldown_after_loss_s: Annotated[int, Field(ge=0)] = Field(
        0, description="After a losing exit, pause new copies of that leader this long."
    )
    kill_switch_file: str = Field(
        "KILL",
        description="While this file exists in data_dir, no new order is sent (exits too).",
    )


class LeaderSettings(Section):
    address: EthAddress = Field(description="The leader's proxy wallet (profile address).")
    name: str = Field("", description="A label for tables and messages.")
    enabled: bool = Field(True, description="Watch and copy this leader.")
    budget_usdc: Amount | None = Field(
        None, description="This leader's budget; defaults to risk.max_leader_usdc."
    )
    filters: FilterSettings = Field(
        FilterSettings(), description="Effective filters (global filters + overrides)."
    )
    sizing: SizingSettings = Field(
        SizingSettings(), description="Effective sizing (global sizing + overrides)."
    )

    @property
    def label(self) -> str:
        return self.name or self.address[:10]


# --------------------------------------------------------------------------------------
# execution, service, notifications, logging
# --------------------------------------------------------------------------------------


class PaperSettings(Section):
    starting_cash_usdc: Amount = Field(Decimal(1000), description="Paper account's starting pUSD.")
    latency_ms: Annotated[int, Field(ge=0)] = Field(
        250, description="Simulated delay between decision and fill (the book moves meanwhile)."
    )


class ExecutionSettings(Section):
    reply_timeout_s: Annotated[float, Field(gt=0)] = Field(
        15.0, description="An order without a reply after this long becomes UNKNOWN."
    )
    on_shutdown: Literal["cancel", "leave"] = Field(
        "cancel", description="Cancel resting orders on shutdown, or leave them."
    )
    reconcile_window_s: Annotated[int, Field(gt=0)] = Field(
        86_400, description="How far back startup reconciliation looks for own trades."
    )
    redeem: bool = Field(True, description="Redeem resolved positions automatically.")
    redeem_interval_s: Annotated[float, Field(gt=0)] = Field(
        300.0, description="How often resolved markets are checked for redemption."
    )


class WebSettings(Section):
    enabled: bool = Field(True, description="Serve /health, /ready, /metrics and the dashboard.")
    host: str = Field("127.0.0.1", description="Listen address (keep it on loopback).")
    port: Annotated[int, Field(ge=0, le=65535)] = Field(8750, description="Listen port.")


NotifyEvent = Literal["copy", "skip", "error", "breaker", "resolution", "digest"]


def _default_webhook_events() -> list[NotifyEvent]:
    return ["copy", "error", "breaker", "resolution", "digest"]


class WebhookSettings(Section):
    url: Url = Field(description="Where to POST JSON notifications.")
    events: list[NotifyEvent] = Field(
        default_factory=_default_webhook_events,
        description="Events sent: copy, skip, error, breaker (also kill switch and leader "
        "pauses), resolution (also redemptions), digest.",
    )


class TelegramSettings(Section):
    enabled: bool = Field(False, description="Send notifications and accept commands.")
    chat_id: str | None = Field(
        None, description="Chat to notify (token: POLYTAIL_TELEGRAM_TOKEN)."
    )
    api_url: Url = Field("https://api.telegram.org", description="Bot API base URL.")
    commands: bool = Field(
        True,
        description="Accept commands (/status, /pause, /kill, ...) from chat_id only.",
    )


class NotifySettings(Section):
    telegram: TelegramSettings = TelegramSettings()
    webhooks: list[WebhookSettings] = Field(default_factory=list, description="Webhooks.")
    notify_skips: bool = Field(
        False,
        description="Also send skipped copies to Telegram (webhooks choose with their "
        "events list).",
    )
    digest_utc: Annotated[
        Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] | None,
        BeforeValidator(lambda value: value or None),
    ] = Field("20:00", description="Daily digest time (HH:MM UTC); empty to disable.")
    templates_dir: Path | None = Field(
        None,
        description="Directory of message templates overriding the built-in ones by file "
        "name (copy.j2, skip.j2, ...; see docs/OPERATIONS.md).",
    )


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    format: Literal["console", "json"] = Field(
        "console", description="console: readable; json: one object per line for services."
    )


# --------------------------------------------------------------------------------------
# root
# --------------------------------------------------------------------------------------

_LEADER_OVERRIDABLE = ("filters", "sizing")


class PolytailConfig(Section):
    mode: Mode = Field(
        Mode.PAPER,
        description="paper (default) or live. Live also needs `polytail run --live` and a "
        "typed confirmation.",
    )
    account: str = Field(
        "default", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Follower account name."
    )
    data_dir: Path = Field(
        Path("~/.local/share/polytail"),
        description="Databases, lock file, kill switch and reports live here.",
    )
    database: DatabaseSettings = DatabaseSettings()
    wallet: WalletSettings = WalletSettings()
    venue: VenueSettings = VenueSettings()
    feeds: FeedsSettings = FeedsSettings()
    leaders: list[LeaderSettings] = Field(
        default_factory=list, description="The wallets to copy ([[leaders]] tables)."
    )
    filters: FilterSettings = FilterSettings()
    sizing: SizingSettings = SizingSettings()
    pricing: PricingSettings = PricingSettings()
    exits: ExitSettings = ExitSettings()
    risk: RiskSettings = RiskSettings()
    paper: PaperSettings = PaperSettings()
    execution: ExecutionSettings = ExecutionSettings()
    web: WebSettings = WebSettings()
    notify: NotifySettings = NotifySettings()
    logging: LoggingSettings = LoggingSettings()

    @model_validator(mode="before")
    @classmethod
    def _merge_leader_overrides(cls, data: Any) -> Any:
        """Give each leader complete filters and sizing: the global section + its overrides.

        A leader's `[leaders.filters]` table overrides only the keys it names, so the
        effective settings every part of the engine sees are always complete.
        """
        if not isinstance(data, dict) or not isinstance(data.get("leaders"), list):
            return data
        merged_leaders = []
        for raw in data["leaders"]:
            leader = dict(raw) if isinstance(raw, dict) else raw
            if isinstance(leader, dict):
                for key in _LEADER_OVERRIDABLE:
                    base = data.get(key, {})
                    override = leader.get(key, {})
                    if isinstance(base, dict) and isinstance(override, dict):
                        leader[key] = {**base, **override}
            merged_leaders.append(leader)
        return {**data, "leaders": merged_leaders}

    @model_validator(mode="after")
    def _consistent(self) -> PolytailConfig:
        seen: set[str] = set()
        for leader in self.leaders:
            if leader.address in seen:
                raise ValueError(f"leader {leader.address} is listed twice")
            seen.add(leader.address)
        if self.mode is Mode.LIVE:
            if self.wallet.address is None:
                raise ValueError("mode = 'live' needs wallet.address (your funder wallet)")
            if self.wallet.type is None:
                raise ValueError("mode = 'live' needs wallet.type (eoa, proxy, safe or deposit)")
        return self

    # --- derived values --------------------------------------------------------------
    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser()

    def database_url(self) -> str:
        """The configured URL, or the mode's own SQLite file (paper and live never share)."""
        if self.database.url:
            return self.database.url
        path = self.resolved_data_dir / f"polytail-{self.mode.value}.sqlite"
        return f"sqlite:///{path}"

    def leader(self, wallet: str) -> LeaderSettings | None:
        lowered = wallet.lower()
        return next((leader for leader in self.leaders if leader.address == lowered), None)

    def leader_budget(self, leader: LeaderSettings) -> Decimal:
        return leader.budget_usdc if leader.budget_usdc is not None else self.risk.max_leader_usdc
