"""Entry filters: is this leader BUY worth copying at all?

Filters run in a fixed order, cheapest and most basic first, and the first that fails
is the decision's reason. They apply to entries only: a leader SELL is an exit of a
position we already hold, so only `filters.sides` (and `exits.mirror_sells`) can stop
it. Filtering exits by price band, market lists or age would leave us holding what the
leader has left.

Order: side, role, fill age, leader notional, price band, market version, neg-risk,
category, tag, slug keyword, time to resolution, time left, spread; the book depth at
the copy price runs once the limit price is known (`check_depth`).

Matching of categories, tags and slug keywords ignores case; deny lists win over allow
lists. A market without an end date passes `min_minutes_left` (nothing is known to be
ending) but fails `max_days_to_resolution` when it is set (it cannot be shown to end in
time).
"""

from __future__ import annotations

from polytail.config.schema import SideFilter
from polytail.domain.book import OrderBook
from polytail.domain.decisions import ReasonCode
from polytail.domain.fills import LeaderFill, Side
from polytail.domain.market import Market
from polytail.domain.money import format_units
from polytail.policy.rules import FilterRules

Skip = tuple[ReasonCode, str]


def fill_time_ms(fill: LeaderFill) -> int:
    """When the leader's fill happened: the venue's ms stamp, else its seconds."""
    return fill.stamps.venue_ms or fill.timestamp * 1000


def check_side(rules: FilterRules, side: Side) -> Skip | None:
    if rules.sides is SideFilter.BUYS and side is Side.SELL:
        return ReasonCode.FILTER_SIDE, "filters.sides = 'buys': leader sells are not copied"
    if rules.sides is SideFilter.SELLS and side is Side.BUY:
        return ReasonCode.FILTER_SIDE, "filters.sides = 'sells': leader buys are not copied"
    return None


def check_entry(
    rules: FilterRules, fill: LeaderFill, market: Market, book: OrderBook, now_ms: int
) -> Skip | None:
    """Every entry filter that needs no limit price, in order; the first failure."""
    if fill.role not in rules.roles:
        return ReasonCode.FILTER_ROLE, f"leader was {fill.role.value}, not an allowed role"
    age_ms = now_ms - fill_time_ms(fill)
    if age_ms > rules.max_fill_age_ms:
        return (
            ReasonCode.FILTER_FILL_TOO_OLD,
            f"fill is {age_ms / 1000:.1f} s old, limit {rules.max_fill_age_ms / 1000:g} s",
        )
    if fill.usdc.units < rules.min_leader_units:
        return (
            ReasonCode.FILTER_MIN_LEADER_NOTIONAL,
            f"leader notional {fill.usdc} below {format_units(rules.min_leader_units)}",
        )
    if not rules.price_min <= fill.price <= rules.price_max:
        return (
            ReasonCode.FILTER_PRICE_BAND,
            f"leader price {fill.price} outside [{rules.price_min}, {rules.price_max}]",
        )
    if market.version not in rules.versions:
        return ReasonCode.FILTER_MARKET_VERSION, f"{market.version.value} markets are not copied"
    if market.neg_risk and not rules.allow_neg_risk:
        return ReasonCode.FILTER_NEG_RISK, "neg-risk markets are not copied"
    skip = _check_lists(rules, fill, market)
    if skip is not None:
        return skip
    skip = _check_time(rules, market, now_ms)
    if skip is not None:
        return skip
    if rules.max_spread_micros is not None:
        if not book.bids or not book.asks:
            return ReasonCode.FILTER_SPREAD, "one side of the book is empty: no spread"
        spread = book.asks[0].price.micros - book.bids[0].price.micros
        if spread > rules.max_spread_micros:
            return (
                ReasonCode.FILTER_SPREAD,
                f"spread {format_units(spread)} wider than {format_units(rules.max_spread_micros)}",
            )
    return None


def check_depth(rules: FilterRules, depth_units: int) -> Skip | None:
    """`min_depth_usdc`: enough notional on the side we take, within the limit price."""
    if rules.min_depth_units is not None and depth_units < rules.min_depth_units:
        return (
            ReasonCode.FILTER_BOOK_DEPTH,
            f"{format_units(depth_units)} pUSD within the limit price, "
            f"need {format_units(rules.min_depth_units)}",
        )
    return None


def _check_lists(rules: FilterRules, fill: LeaderFill, market: Market) -> Skip | None:
    if rules.categories_allow or rules.categories_deny:
        category = market.category.lower()
        if category in rules.categories_deny:
            return ReasonCode.FILTER_CATEGORY, f"category {market.category!r} is denied"
        if rules.categories_allow and category not in rules.categories_allow:
            return ReasonCode.FILTER_CATEGORY, f"category {market.category!r} is not allowed"
    if rules.tags_allow or rules.tags_deny:
        tags = {tag.lower() for tag in market.tags}
        denied = tags & rules.tags_deny
        if denied:
            return ReasonCode.FILTER_TAG, f"tag {sorted(denied)[0]!r} is denied"
        if rules.tags_allow and not tags & rules.tags_allow:
            return ReasonCode.FILTER_TAG, "no allowed tag"
    if rules.slug_allow or rules.slug_deny:
        slugs = " ".join((market.slug, market.event_slug, fill.slug, fill.event_slug)).lower()
        for keyword in rules.slug_deny:
            if keyword in slugs:
                return ReasonCode.FILTER_SLUG_KEYWORD, f"slug contains denied {keyword!r}"
        if rules.slug_allow and not any(keyword in slugs for keyword in rules.slug_allow):
            return ReasonCode.FILTER_SLUG_KEYWORD, "slug contains no allowed keyword"
    return None


def _check_time(rules: FilterRules, market: Market, now_ms: int) -> Skip | None:
    end = market.end_date
    if end is None:
        if rules.max_seconds_to_end is not None:
            return (
                ReasonCode.FILTER_TIME_TO_RESOLUTION,
                "market has no end date; max_days_to_resolution cannot be checked",
            )
        return None
    left_s = end - now_ms // 1000
    if rules.max_seconds_to_end is not None and left_s > rules.max_seconds_to_end:
        return (
            ReasonCode.FILTER_TIME_TO_RESOLUTION,
            f"market ends in {left_s / 86_400:.1f} days, "
            f"limit {rules.max_seconds_to_end / 86_400:g}",
        )
    if left_s < rules.min_seconds_left:
        return (
            ReasonCode.FILTER_MIN_TIME_LEFT,
            f"market ends in {left_s / 60:.1f} min, need {rules.min_seconds_left / 60:g}",
        )
    return None
