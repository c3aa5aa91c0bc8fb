"""Live trading through the official async SDK (`polymarket-client==0.14.0`).

The adapter takes domain types (`OrderIntent`, `Market`) and returns typed results or
raises typed errors (`venue.errors`) whose messages say what to do. The SDK signs (EIP-712,
every wallet type it supports: EOA, proxy, Safe, deposit wallet) and authenticates;
polytail decides retries:

- Signing (which may read market metadata) is idempotent and retried like any read.
- The POST is not: it is retried only after a 429/425 or a connection never made.
  A timeout or an unreadable reply after sending raises `OrderOutcomeUnknown`: the
  order manager reconciles by open orders and own trades before anything is resent.
- A reply counts as accepted only with `success: true`, an order id, status
  live/matched/delayed and an empty `errorMsg` (or the "delayed" notice): `success:
  true` with any other `errorMsg` is a failure (polymarket-api.md §1.7, §8.8).

Token ids vs position ids: the intent carries the market's outcome id, which is a CTF
token id on v1 markets and a Protocol V2 position id on v2 markets; the SDK picks the
signing domain from the id's encoding, so the adapter refuses an id whose encoding
contradicts the market's version instead of signing an order nobody can fill.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, Literal, TypeVar

import httpx
from polymarket import AsyncSecureClient
from polymarket.auth import ApiKey, BuilderApiKey, RelayerApiKey
from polymarket.errors import (
    OrderHeartbeatMismatchError,
    PolymarketError,
    RateLimitError,
    RequestRejectedError,
    TransportError,
    UnexpectedResponseError,
    UserInputError,
)
from polymarket.models import ApiKeyCreds
from polymarket.models.clob.orders import SignedOrder

from polytail.config.schema import VenueSettings, WalletSettings, WalletType
from polytail.config.secrets import RELAYER_KEY_HELP, GaslessKey, RelayerKey, Secret
from polytail.domain.fills import Side
from polytail.domain.ids import ConditionId, TokenId
from polytail.domain.market import Market, MarketVersion
from polytail.domain.money import Rounding, Shares, Usdc, cost_of, to_units
from polytail.domain.orders import OrderIntent, OrderType
from polytail.venue import sdk_compat
from polytail.venue.errors import (
    EngineRestarting,
    NotFilled,
    NotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
    TradingDisabled,
    TransportFailure,
    Unauthorized,
    UnexpectedResponse,
    VenueError,
    VenueTimeout,
    VersionMismatch,
    order_rejection,
)
from polytail.venue.limits import RateLimiter
from polytail.venue.normalize.clob_markets import looks_like_position_id
from polytail.venue.resilience import CANCEL, ORDER_POST, READ, RetryPolicy, call_with_retries

T = TypeVar("T")

SDK_WALLET_TYPES: Final[dict[WalletType, str]] = {
    WalletType.EOA: "EOA",
    WalletType.PROXY: "POLY_PROXY",
    WalletType.SAFE: "GNOSIS_SAFE",
    WalletType.DEPOSIT: "DEPOSIT_WALLET",
}
_ACCEPTED: Final = frozenset({"live", "matched", "delayed"})


class WalletMismatch(VenueError):
    """The configured wallet type does not match what the key and address derive to."""


class RedemptionUnavailable(VenueError):
    """This wallet cannot redeem through polytail as configured; the text says what to do."""


def _sdk_api_key(key: GaslessKey) -> ApiKey:
    """The SDK's relayer key; revealed only here, into the SDK."""
    if isinstance(key, RelayerKey):
        return RelayerApiKey(key=key.key.reveal(), address=key.address)
    return BuilderApiKey(
        key=key.key.reveal(), secret=key.secret.reveal(), passphrase=key.passphrase.reveal()
    )


class InvalidOrder(OrderRejected):
    code = "invalid_order"
    advice = "the order was refused before sending (price, size or id invalid for the market)"


class VenueOrderStatus(StrEnum):
    LIVE = "live"  # resting on the book
    MATCHED = "matched"  # filled (completely, or a FAK's available part)
    DELAYED = "delayed"  # accepted; matching waits through the market's taker delay


@dataclass(frozen=True, slots=True)
class ApiCredentials:
    key: Secret
    secret: Secret
    passphrase: Secret


@dataclass(frozen=True, slots=True)
class Placement:
    """An accepted order and what filled at placement (later fills come by trades)."""

    order_id: str
    status: VenueOrderStatus
    side: Side
    filled: Shares  # shares bought (BUY) or sold (SELL) at placement
    notional: Usdc  # pUSD paid (BUY) or received (SELL) at placement
    trade_ids: tuple[str, ...]
    tx_hashes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VenueOrder:
    order_id: str
    status: str
    side: Side
    token_id: TokenId
    condition_id: ConditionId
    price: Decimal
    original_size: Shares
    size_matched: Shares
    order_type: str
    created_at: int
    trade_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MakerFill:
    """One maker order's part of a trade (ours when we rested, others' when we took)."""

    order_id: str
    maker_address: str
    shares: Shares
    price: Decimal
    side: Side


@dataclass(frozen=True, slots=True)
class OwnTrade:
    trade_id: str
    status: str  # MATCHED, MINED, CONFIRMED, RETRYING, FAILED
    side: Side
    token_id: TokenId
    condition_id: ConditionId
    price: Decimal
    size: Shares
    trader_side: str  # TAKER or MAKER
    taker_order_id: str
    maker_order_ids: tuple[str, ...]
    tx_hash: str | None
    matched_at: int
    maker_fills: tuple[MakerFill, ...] = ()


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    canceled: tuple[str, ...]
    not_canceled: dict[str, str]


@dataclass(frozen=True, slots=True)
class Balance:
    balance: int  # base units
    allowances: dict[str, int]


def _units(value: Any, what: str) -> int:
    try:
        return to_units(Decimal(str(value or "0")), Rounding.HALF_EVEN)
    except ArithmeticError as error:
        raise UnexpectedResponse(f"order reply: {what} is not a number: {value!r}") from error


def interpret_reply(reply: Any, side: Side) -> Placement:
    """The venue's POST /order reply → `Placement`, or the typed rejection."""
    if not isinstance(reply, dict):
        raise OrderOutcomeUnknown(f"unreadable order reply {str(reply)[:120]!r}")
    error = str(reply.get("errorMsg") or "")
    status = str(reply.get("status") or "").lower()
    order_id = str(reply.get("orderID") or "")
    delayed_notice = "delayed" in error.lower()
    if (
        reply.get("success") is True
        and order_id
        and status in _ACCEPTED
        and (not error or delayed_notice)
    ):
        making = _units(reply.get("makingAmount"), "makingAmount")
        taking = _units(reply.get("takingAmount"), "takingAmount")
        shares, usdc = (taking, making) if side is Side.BUY else (making, taking)
        return Placement(
            order_id=order_id,
            status=VenueOrderStatus(status),
            side=side,
            filled=Shares(shares),
            notional=Usdc(usdc),
            trade_ids=tuple(str(t) for t in reply.get("tradeIDs") or ()),
            tx_hashes=tuple(str(t) for t in reply.get("transactionsHashes") or ()),
        )
    if status == "unmatched" and not error:
        raise NotFilled("unmatched: the marketable order found nothing to match")
    raise order_rejection(error or f"order not accepted (status {status or 'missing'!r})")


def sdk_error(error: BaseException, *, sent: bool) -> VenueError:
    """Map an SDK exception to a typed venue error.

    `sent` says whether the failed call may have delivered an order to the venue; then a
    transport failure or unreadable reply means the outcome is unknown.
    """
    if isinstance(error, VenueError):
        return error
    if isinstance(error, RateLimitError):
        return RateLimited(
            f"clob: rate limited ({error}); pausing", retry_after=error.retry_after, status=429
        )
    if isinstance(error, RequestRejectedError):
        message = str(error)
        if error.status == 425 or error.restriction == "restarting":
            return EngineRestarting(
                "clob: the matching engine is restarting (about 90 s)",
                status=error.status,
                retry_after=error.retry_after,
            )
        if error.restriction == "cancel_only" or (
            error.status == 503 and "disabled" in message.lower()
        ):
            return TradingDisabled(f"clob: {message}", status=error.status)
        if error.status == 404 or "not found" in message.lower():
            return NotFound(f"clob: {message}", status=error.status)
        if error.status == 401:
            return Unauthorized(
                f"clob: {message}; the API key is wrong or revoked (unset POLYTAIL_CLOB_API_* "
                "to let polytail derive it from the signing key)",
                status=401,
            )
        return order_rejection(message, code=error.code, status=error.status)
    if isinstance(error, TransportError):
        never_connected = isinstance(error.__cause__, httpx.ConnectError)
        if sent and not never_connected:
            return OrderOutcomeUnknown(f"the connection failed after sending ({error})")
        return TransportFailure(f"clob: {error}", maybe_sent=not never_connected)
    if isinstance(error, TimeoutError):
        if sent:
            return OrderOutcomeUnknown("no reply before the timeout")
        return VenueTimeout("clob: no reply before the timeout")
    if isinstance(error, UnexpectedResponseError):
        if sent:
            return OrderOutcomeUnknown(f"unreadable reply ({error})")
        return UnexpectedResponse(f"clob: {error}")
    if isinstance(error, UserInputError):
        rejection = order_rejection(str(error))
        return rejection if type(rejection) is not OrderRejected else InvalidOrder(str(error))
    if isinstance(error, PolymarketError):
        return UnexpectedResponse(f"polymarket-client: {error}")
    raise error


def _side(value: Any) -> Side:
    return Side.BUY if str(value).upper() == "BUY" else Side.SELL


def _shares(value: Decimal) -> Shares:
    return Shares(to_units(value, Rounding.HALF_EVEN))


class LiveTrading:
    """Orders, cancels, order and trade queries, balances and heartbeats for one wallet."""

    def __init__(
        self,
        client: AsyncSecureClient,
        *,
        limiter: RateLimiter | None = None,
        timeout_s: float = 10.0,
        order_retry: RetryPolicy = ORDER_POST,
        redeem_timeout_s: float = 120.0,
        relayer_key: bool = False,
    ) -> None:
        self.client = client
        self.relayer_key = relayer_key  # whether the SDK was given a relayer/builder key
        self.limiter = limiter
        self.timeout_s = timeout_s
        self.redeem_timeout_s = redeem_timeout_s
        self.order_retry = order_retry
        self._heartbeat_id = ""

    @classmethod
    async def connect(
        cls,
        *,
        venue: VenueSettings,
        wallet: WalletSettings,
        private_key: Secret,
        credentials: ApiCredentials | None = None,
        limiter: RateLimiter | None = None,
        order_retry: RetryPolicy = ORDER_POST,
        relayer_key: GaslessKey | None = None,
    ) -> LiveTrading:
        """Create the SDK client for the configured wallet and check its type.

        Without `credentials` the SDK derives (or creates) the API key from the signing
        key. `relayer_key` lets a proxy, Safe or deposit wallet redeem through the relayer.
        The keys are revealed only here, into the SDK.
        """
        if wallet.address is None or wallet.type is None:
            raise WalletMismatch("live trading needs wallet.address and wallet.type")
        creds = (
            ApiKeyCreds(
                key=credentials.key.reveal(),
                secret=credentials.secret.reveal(),
                passphrase=credentials.passphrase.reveal(),
            )
            if credentials is not None
            else None
        )
        try:
            async with asyncio.timeout(max(venue.request_timeout_s * 6, 60.0)):
                client = await AsyncSecureClient.create(
                    private_key=private_key.reveal(),
                    wallet=wallet.address,
                    environment=sdk_compat.environment_for(venue, chain_id=wallet.chain_id),
                    credentials=creds,
                    api_key=_sdk_api_key(relayer_key) if relayer_key is not None else None,
                )
        except UserInputError as error:
            raise WalletMismatch(
                f"the SDK refused the wallet setup: {error}. Check wallet.address and "
                "wallet.type; run `polytail doctor`"
            ) from None
        except (PolymarketError, TimeoutError) as error:
            raise sdk_error(error, sent=False) from None
        expected = SDK_WALLET_TYPES[wallet.type]
        if client.wallet_type != expected:
            await client.close()
            raise WalletMismatch(
                f"wallet.type is {wallet.type.value!r} but {wallet.address} derives from the "
                f"signing key as {client.wallet_type}; set wallet.type accordingly (or fix "
                "wallet.address). Run `polytail doctor`"
            )
        return cls(
            client,
            limiter=limiter,
            timeout_s=venue.request_timeout_s,
            order_retry=order_retry,
            relayer_key=relayer_key is not None,
        )

    async def close(self) -> None:
        await self.client.close()

    # --- plumbing ---------------------------------------------------------------------

    async def _call(
        self,
        family: str,
        call: Callable[[], Awaitable[T]],
        policy: RetryPolicy,
        *,
        sent: bool = False,
    ) -> T:
        # Counted in the clients' `VenueStats` (through the limiter), like every other call,
        # so /metrics shows 425 windows and 429s met by orders too.
        counters = self.limiter.stats.family(family) if self.limiter is not None else None

        async def attempt() -> T:
            if self.limiter is not None:
                await self.limiter.acquire(family)
            if counters is not None:
                counters.requests += 1
            try:
                async with asyncio.timeout(self.timeout_s):
                    return await call()
            except (PolymarketError, TimeoutError) as error:
                mapped = sdk_error(error, sent=sent)
                if isinstance(mapped, RateLimited) and self.limiter is not None:
                    self.limiter.pause(family, mapped.retry_after or 1.0)
                if counters is not None:
                    counters.failures += 1
                    counters.restarts += isinstance(mapped, EngineRestarting)
                    counters.throttled += isinstance(mapped, RateLimited)
                raise mapped from error

        def retried(_: BaseException) -> None:
            if counters is not None:
                counters.retries += 1

        return await call_with_retries(attempt, policy, on_retry=retried)

    # --- orders -------------------------------------------------------------------------

    @staticmethod
    def check(intent: OrderIntent, market: Market) -> None:
        """Refuse an order the venue could only reject, before anything is signed."""
        if not market.has_token(intent.token_id):
            raise InvalidOrder(
                f"outcome {intent.token_id} is not an outcome of market {market.condition_id}"
            )
        is_position = looks_like_position_id(intent.token_id)
        if (market.version is MarketVersion.V2) != is_position:
            raise VersionMismatch(
                f"market {market.condition_id} is {market.version.value} but outcome "
                f"{intent.token_id} is {'a position id' if is_position else 'a CTF token id'}"
            )
        if not intent.limit_price.is_tradable(market.tick):
            raise InvalidOrder(
                f"price {intent.limit_price} is off the tick {market.tick} or outside "
                f"[{market.tick}, 1 - {market.tick}]"
            )

    async def sign(self, intent: OrderIntent, market: Market) -> SignedOrder:
        """Build and sign the order for `intent` (no order leaves the process)."""
        self.check(intent, market)
        price = intent.limit_price.to_decimal()
        side: Literal["BUY", "SELL"] = "BUY" if intent.side is Side.BUY else "SELL"
        client = self.client
        if intent.order_type in (OrderType.GTC, OrderType.GTD):
            expiration = intent.expires_at if intent.order_type is OrderType.GTD else None

            async def limit() -> SignedOrder:
                return await client.create_limit_order(
                    asset_id=intent.token_id,
                    price=price,
                    size=intent.size.to_decimal(),
                    side=side,
                    post_only=intent.post_only,
                    expiration=expiration,
                )

            return await self._call("clob", limit, READ)
        order_type: Literal["FOK", "FAK"] = "FOK" if intent.order_type is OrderType.FOK else "FAK"
        if intent.side is Side.BUY:
            # Spend what `size` costs at the limit, capped by `max_spend`: better prices
            # bring more shares, never more spend.
            amount = cost_of(intent.size, intent.limit_price).min(intent.max_spend)

            async def market_buy() -> SignedOrder:
                return await client.create_market_order(
                    asset_id=intent.token_id,
                    side="BUY",
                    amount=amount.to_decimal(),
                    max_price=price,
                    order_type=order_type,
                )

            return await self._call("clob", market_buy, READ)

        async def market_sell() -> SignedOrder:
            return await client.create_market_order(
                asset_id=intent.token_id,
                side="SELL",
                shares=intent.size.to_decimal(),
                min_price=price,
                order_type=order_type,
            )

        return await self._call("clob", market_sell, READ)

    async def place(self, intent: OrderIntent, market: Market) -> Placement:
        """Sign and post one order. Raises a typed rejection, or `OrderOutcomeUnknown`."""
        signed = await self.sign(intent, market)
        return await self.post(signed, intent.side)

    def order_id(self, signed: SignedOrder, market: Market) -> str:
        """The venue's id of a signed order (its EIP-712 hash), before it is posted."""
        return sdk_compat.order_hash(
            self.client,
            signed,
            v2=market.version is MarketVersion.V2,
            neg_risk=market.neg_risk,
        )

    async def post(self, signed: SignedOrder, side: Side) -> Placement:
        """Post an order signed by `sign`. Raises a typed rejection, or
        `OrderOutcomeUnknown` when it may have been taken without a readable reply."""
        client = self.client

        async def post() -> Any:
            return await sdk_compat.post_signed_order(client, signed)

        reply = await self._call("clob.order", post, self.order_retry, sent=True)
        return interpret_reply(reply, side)

    async def trade(self, trade_id: str) -> OwnTrade | None:
        """One of the account's trades by id (None when the venue does not list it)."""

        async def fetch() -> list[Any]:
            return [
                trade async for trade in self.client.list_account_trades(id=trade_id).iter_items()
            ]

        found = await self._call("clob.data", fetch, READ)
        return _own_trade(found[0]) if found else None

    async def redeem(self, market: Market, token: TokenId | None = None) -> str:
        """Redeem a resolved market's positions through the SDK; the transaction hash.

        CTF markets redeem the whole condition through their collateral adapter; a v2
        market redeems one position id (`token`) through the Router. Returns once the
        transaction is final. An EOA sends the transaction itself (JSON-RPC); proxy, Safe
        and deposit wallets are contracts, so the SDK has Polymarket's relayer send it,
        which takes a Relayer or Builder API key: without one configured this raises
        `RedemptionUnavailable` before anything is sent.

        Not retried after sending: the caller measures what the chain paid from the
        share balances, so an ambiguous failure is settled by looking, never by resending
        blindly (a resend is harmless on chain: burned shares pay nothing twice).
        """
        wallet_type = self.client.wallet_type
        if wallet_type != "EOA" and not self.relayer_key:
            raise RedemptionUnavailable(
                f"redeeming from a {wallet_type} wallet goes through Polymarket's relayer, "
                f"which needs an API key: {RELAYER_KEY_HELP}. Until then redeem on "
                "polymarket.com; the claim stays RESOLVED in the ledger and is booked when "
                "its shares are gone from the wallet"
            )
        client = self.client

        async def send() -> str:
            if market.version is MarketVersion.V2 and token is not None:
                handle = await client.redeem_positions(position_id=token)
            else:
                handle = await client.redeem_positions(condition_id=market.condition_id)
            outcome = await handle.wait()
            return str(getattr(outcome, "transaction_hash", "") or handle.transaction_hash)

        family = "rpc" if wallet_type == "EOA" else "all"
        if self.limiter is not None:
            await self.limiter.acquire(family)
        try:
            async with asyncio.timeout(self.redeem_timeout_s):
                return await send()
        except RequestRejectedError as error:
            if wallet_type != "EOA" and error.status in (401, 403):
                raise Unauthorized(
                    f"relayer: {error}; the relayer refused the API key: {RELAYER_KEY_HELP}",
                    status=error.status,
                ) from error
            raise sdk_error(error, sent=True) from error
        except (PolymarketError, TimeoutError) as error:
            raise sdk_error(error, sent=True) from error

    async def shares(self, market: Market, token: TokenId) -> Shares:
        """The wallet's shares of one outcome, re-read from chain by the CLOB."""
        return Shares((await self.refresh_balance(market, token)).balance)

    async def cancel(self, order_id: str) -> CancelOutcome:
        client = self.client
        reply = await self._call(
            "clob.cancel", lambda: client.cancel_order(order_id=order_id), CANCEL
        )
        return CancelOutcome(
            tuple(reply.canceled), {str(k): v for k, v in reply.not_canceled.items()}
        )

    async def cancel_all(self) -> CancelOutcome:
        reply = await self._call("clob.cancel", self.client.cancel_all, CANCEL)
        return CancelOutcome(
            tuple(reply.canceled), {str(k): v for k, v in reply.not_canceled.items()}
        )

    async def get_order(self, order_id: str) -> VenueOrder:
        client = self.client
        order = await self._call("clob", lambda: client.get_order(order_id=order_id), READ)
        return _venue_order(order)

    async def open_orders(
        self, *, market: ConditionId | None = None, token: TokenId | None = None
    ) -> list[VenueOrder]:
        async def fetch() -> list[Any]:
            return [
                order
                async for order in self.client.list_open_orders(
                    market=market, asset_id=token
                ).iter_items()
            ]

        return [_venue_order(order) for order in await self._call("clob.data", fetch, READ)]

    async def own_trades(
        self, *, after: int | None = None, market: ConditionId | None = None
    ) -> list[OwnTrade]:
        async def fetch() -> list[Any]:
            return [
                trade
                async for trade in self.client.list_account_trades(
                    market=market, after=str(after) if after is not None else None
                ).iter_items()
            ]

        return [_own_trade(trade) for trade in await self._call("clob.data", fetch, READ)]

    # --- balances, heartbeats, account --------------------------------------------------

    async def balance(self, market: Market | None = None, token: TokenId | None = None) -> Balance:
        """pUSD (no token) or the shares of one outcome, as the CLOB's cache sees them."""
        asset_type, token_id = self._asset(market, token)
        client = self.client
        reply = await self._call(
            "clob.balance",
            lambda: client.get_balance_allowance(asset_type=asset_type, token_id=token_id),
            READ,
        )
        return Balance(reply.balance, dict(reply.allowances))

    async def refresh_balance(
        self, market: Market | None = None, token: TokenId | None = None
    ) -> Balance:
        """Make the CLOB re-read the wallet (after a wrap, approval or settlement)."""
        asset_type, token_id = self._asset(market, token)
        client = self.client
        await self._call(
            "clob.balance_update",
            lambda: sdk_compat.refresh_balance_allowance(client, asset_type, token_id),
            READ,
        )
        return await self.balance(market, token)

    @staticmethod
    def _asset(
        market: Market | None, token: TokenId | None
    ) -> tuple[sdk_compat.AssetType, str | None]:
        if token is None:
            return "COLLATERAL", None
        v2 = (market.version is MarketVersion.V2) if market else looks_like_position_id(token)
        return ("CONDITIONAL-V2" if v2 else "CONDITIONAL"), token

    async def heartbeat(self) -> str:
        """Send one order heartbeat (the dead-man switch); returns the id to echo next.

        Once started, stopping lets the venue cancel every open order of this API key
        after about 10 s. A stale id is retried once with the id the venue expects.
        """
        client = self.client

        async def send() -> str:
            try:
                reply = await client.send_order_heartbeat(heartbeat_id=self._heartbeat_id)
            except OrderHeartbeatMismatchError as mismatch:
                reply = await client.send_order_heartbeat(heartbeat_id=mismatch.heartbeat_id)
            return reply.heartbeat_id

        self._heartbeat_id = await self._call("clob", send, READ)
        return self._heartbeat_id

    async def closed_only(self) -> bool:
        """Whether the account may only reduce positions (banned or closed-only)."""
        return await self._call("clob", self.client.get_closed_only_mode, READ)


def _venue_order(order: Any) -> VenueOrder:
    return VenueOrder(
        order_id=str(order.id),
        status=str(order.status),
        side=_side(order.side),
        token_id=TokenId(str(order.asset_id)),
        condition_id=ConditionId(str(order.condition_id).lower()),
        price=Decimal(order.price),
        original_size=_shares(order.original_size),
        size_matched=_shares(order.size_matched),
        order_type=str(order.order_type),
        created_at=int(order.created_at.timestamp()),
        trade_ids=tuple(order.associate_trades),
    )


def _own_trade(trade: Any) -> OwnTrade:
    return OwnTrade(
        trade_id=str(trade.id),
        status=str(trade.status),
        side=_side(trade.side),
        token_id=TokenId(str(trade.asset_id)),
        condition_id=ConditionId(str(trade.condition_id).lower()),
        price=Decimal(trade.price),
        size=_shares(trade.size),
        trader_side=str(trade.trader_side),
        taker_order_id=str(trade.taker_order_id),
        maker_order_ids=tuple(str(maker.order_id) for maker in trade.maker_orders),
        tx_hash=trade.transaction_hash,
        matched_at=int(trade.matched_at.timestamp()),
        maker_fills=tuple(
            MakerFill(
                order_id=str(maker.order_id),
                maker_address=str(maker.maker_address).lower(),
                shares=_shares(maker.matched_amount),
                price=Decimal(maker.price),
                side=_side(maker.side),
            )
            for maker in trade.maker_orders
        ),
    )
