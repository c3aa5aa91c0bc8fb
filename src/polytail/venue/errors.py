"""Typed venue errors whose messages tell the operator what to do.

Every failure that crosses the venue boundary is one of these. Each class knows whether
a retry can help (`retryable`), whether it is evidence that the service is down (it then
counts toward that family's circuit breaker), and how long the venue asked us to wait.

Order rejections are mapped from the venue's reply texts (polymarket-api.md §1.7 and §8)
by `order_rejection`; the texts are matched as substrings, because the live service adds
suffixes (`not enough balance / allowance: balance: 0`) and order ids to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

DOCTOR_HINT: Final = "run `polytail doctor` to check wallet, funder, approvals and balance"


class VenueError(Exception):
    """Base of every error raised by the venue layer."""

    retryable: ClassVar[bool] = False
    counts_for_breaker: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        family: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.family = family
        self.status = status
        self.retry_after = retry_after
        self.detail = detail


# --- transport and HTTP status -----------------------------------------------------------


class TransportFailure(VenueError):
    """The request produced no reply (connection refused, reset, DNS).

    `maybe_sent` is False only when the connection was never established, so the venue
    cannot have seen the request (safe to resend even an order).
    """

    retryable = True
    counts_for_breaker = True

    def __init__(self, message: str, *, maybe_sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_sent = maybe_sent


class VenueTimeout(VenueError):
    """No complete reply within the call's timeout. For an order: outcome unknown."""

    retryable = True
    counts_for_breaker = True


class ServerError(VenueError):
    """5xx: the venue failed to answer; retried with backoff, counted by the breaker."""

    retryable = True
    counts_for_breaker = True


class RateLimited(VenueError):
    """429: over the venue's rate limit. The whole family pauses for `retry_after`."""

    retryable = True


class EngineRestarting(VenueError):
    """425: the matching engine is restarting (about 90 s); nothing was taken."""

    retryable = True


class TradingDisabled(VenueError):
    """503 trading disabled / cancel-only: new orders are refused for now."""

    retryable = False


class NotFound(VenueError):
    """404: the market, order or resource does not exist (a definite answer)."""


class Unauthorized(VenueError):
    """401: API credentials are wrong or revoked."""


class BadRequest(VenueError):
    """4xx not covered by a more precise class; the message carries the venue's text."""


class UnexpectedResponse(VenueError):
    """The reply was not the documented shape (not JSON, wrong type, missing key)."""


class CircuitOpen(VenueError):
    """The family's circuit breaker is open after repeated failures; calls fail fast."""


# --- malformed rows ----------------------------------------------------------------------


class MalformedRow(VenueError):
    """One row of a feed or response could not be normalised.

    `field` names the offending key, `row` keeps the raw row for inspection, and the rest
    of the batch goes on without it.
    """

    def __init__(self, source: str, field: str, reason: str, row: Any = None) -> None:
        super().__init__(f"{source}: field {field!r} {reason}")
        self.source = source
        self.field = field
        self.reason = reason
        self.row = row


# --- order rejections --------------------------------------------------------------------


class OrderRejected(VenueError):
    """The venue refused an order; nothing was filled by this attempt."""

    code: ClassVar[str] = "rejected"
    advice: ClassVar[str] = "read the venue's message below; nothing was filled"

    def __init__(self, venue_message: str, *, status: int | None = None) -> None:
        text = venue_message.strip() or "no message"
        super().__init__(
            f"order rejected ({self.code}): {self.advice}. Venue said: {text}",
            family="clob.order",
            status=status,
            detail=text,
        )
        self.venue_message = text


class InsufficientBalance(OrderRejected):
    code = "not_enough_balance"
    advice = (
        "the CLOB sees too little pUSD (BUY) or too few shares (SELL), or a missing "
        "allowance. Check: USDC.e not yet wrapped into pUSD; plain USDC sent to the proxy; "
        "no pUSD approval to the exchange (neg-risk markets need their own spender); no "
        "ERC-1155 approval before a SELL; a stale CLOB balance cache (polytail refreshes "
        "it, then retry); wrong wallet.type or wallet.address (the CLOB checks the wrong "
        "wallet); the fee pushing a BUY over the balance; shares bought seconds ago not "
        f"yet settled. {DOCTOR_HINT}"
    )


class BelowMinimumSize(OrderRejected):
    code = "min_size"
    advice = (
        "the order is smaller than the market's minimum (usually 5 shares; marketable BUYs "
        "need about 1 pUSD). Raise sizing, or set sizing.below_minimum = 'accumulate'"
    )


class InvalidTick(OrderRejected):
    code = "tick_size"
    advice = (
        "the price is off the market's tick grid; the tick changes near 0 and 1. The market "
        "cache is refreshed; the next order uses the new tick"
    )


class NotFilled(OrderRejected):
    code = "not_filled"
    advice = (
        "a FOK/FAK order found no (or not enough) liquidity within its limit price. Nothing "
        "was bought or sold; widen pricing.slippage_bps or use FAK for partial fills"
    )


class MarketNotReady(OrderRejected):
    code = "market_not_ready"
    advice = "the market does not accept orders yet (or any more); skip it"


class PostOnlyRejected(OrderRejected):
    code = "post_only"
    advice = (
        "a post-only order would cross the book, or the venue is in its post-only window "
        "after an engine restart (about 2 minutes); retry later or drop post_only"
    )


class InvalidExpiration(OrderRejected):
    code = "invalid_expiration"
    advice = "the GTD expiry is too soon or in the past; the SDK needs at least 3 minutes"


class DuplicateOrder(OrderRejected):
    code = "duplicate"
    advice = "the venue already has this exact order; reconcile instead of resending"


class Geoblocked(OrderRejected):
    code = "geoblocked"
    advice = (
        "orders from this IP's country or region are refused by Polymarket. Trading is "
        "not possible from here; check https://polymarket.com/api/geoblock"
    )


class VersionMismatch(OrderRejected):
    code = "version_mismatch"
    advice = (
        "the order was signed for the wrong exchange version (CLOB V2 domain '2' vs "
        "Protocol V2 domain '3', or a pre-V2 signer). Check the market's version and "
        "upgrade polymarket-client"
    )


class InvalidSignature(OrderRejected):
    code = "invalid_signature"
    advice = (
        "the venue could not verify the signature: usually a wrong wallet.type (signature "
        "type) or wallet.address (funder), or a wrong neg-risk flag for the market. " + DOCTOR_HINT
    )


class AccountRestricted(OrderRejected):
    code = "account_restricted"
    advice = (
        "the wallet is banned or in closed-only mode: it may only reduce positions. "
        "Contact Polymarket support; polytail stops opening positions"
    )


class WalletNotAllowed(OrderRejected):
    code = "wallet_not_allowed"
    advice = (
        "this account must trade through a deposit wallet (new API accounts since May "
        "2026): set wallet.type = 'deposit' and wallet.address to the deposit wallet"
    )


class ApiKeyMismatch(OrderRejected):
    code = "api_key_mismatch"
    advice = (
        "the API key belongs to another address than the order's signer or owner. "
        "Re-derive the key with the signing key (unset POLYTAIL_CLOB_API_* to let polytail "
        "derive it), and check wallet.type"
    )


class OrderOutcomeUnknown(VenueError):
    """The order may or may not have reached the venue; reconcile before resending.

    Raised when a placement timed out or the connection dropped after the request may
    have been sent. Never retried blindly: a second send could buy twice.
    """

    def __init__(self, message: str) -> None:
        super().__init__(
            "order outcome unknown: "
            + message
            + ". Do not resend; the order manager reconciles by client id and open orders",
            family="clob.order",
        )


# Ordered: the first matching fragment wins (more specific texts first).
_REJECTION_TEXTS: Final[tuple[tuple[str, type[OrderRejected]], ...]] = (
    ("not enough balance", InsufficientBalance),
    ("allowance is not enough", InsufficientBalance),
    ("lower than the minimum", BelowMinimumSize),
    ("minimum tick size", InvalidTick),
    ("couldn't be fully filled", NotFilled),
    ("no orders found to match", NotFilled),
    ("market is not yet ready", MarketNotReady),
    ("post-only", PostOnlyRejected),
    ("invalid expiration", InvalidExpiration),
    ("duplicated", DuplicateOrder),
    ("restricted in your region", Geoblocked),
    ("geoblock", Geoblocked),
    ("order_version_mismatch", VersionMismatch),
    ("invalid order version", VersionMismatch),
    ("invalid signature", InvalidSignature),
    ("address banned", AccountRestricted),
    ("closed only mode", AccountRestricted),
    ("use the deposit wallet flow", WalletNotAllowed),
    ("has to be the address of the api key", ApiKeyMismatch),
    ("has to be the owner of the api key", ApiKeyMismatch),
)

_REJECTION_CODES: Final[Mapping[str, type[OrderRejected]]] = {
    "not_enough_balance": InsufficientBalance,
    "fok_not_filled": NotFilled,
    "fak_not_filled": NotFilled,
    "unmatched": NotFilled,
    "market_not_ready": MarketNotReady,
    "post_only_would_cross": PostOnlyRejected,
    "post_only_mode": PostOnlyRejected,
    "invalid_expiration": InvalidExpiration,
}


def order_rejection(
    message: str, *, code: str | None = None, status: int | None = None
) -> OrderRejected:
    """The typed rejection for a venue reply text (and the SDK's code, when it has one)."""
    lowered = message.lower()
    for fragment, kind in _REJECTION_TEXTS:
        if fragment in lowered:
            return kind(message, status=status)
    if status == 403:
        # UNCERTAIN: the exact geoblock text is not documented; a 403 on an order
        # endpoint is the venue's region refusal in every report we have.
        return Geoblocked(message, status=status)
    if code is not None and code in _REJECTION_CODES:
        return _REJECTION_CODES[code](message, status=status)
    return OrderRejected(message, status=status)
