"""The copy policy: filters, sizing, pricing, exits and risk -> Decision. Pure code.

Public API:

- `Policy` (`policy.decide`): configured once; `decide(fill, quote, portfolio, leader,
  now_ms, pending) -> (Decision, Accumulator)` for leader fills and
  `exit_rules(...) -> tuple[Decision, ...]` for the optional exit rules.
- Views (`policy.views`): `Quote`, `LeaderView`, `PortfolioView` (+ `LeaderStats`,
  `OpenBuy`, `OpenSell`), the immutable inputs the engine keeps up to date.
- `Accumulator` (`policy.accumulator`): sub-minimum copies waiting to reach the minimum.
- `order_intent` (`policy.intents`): a copy decision as an `OrderIntent`.

docs/POLICY.md describes the order of checks, the reason codes and the exposure rule.
"""

from polytail.policy.accumulator import Accumulator, Pending
from polytail.policy.decide import Policy
from polytail.policy.intents import NotACopy, order_intent
from polytail.policy.views import (
    LeaderStats,
    LeaderView,
    OpenBuy,
    OpenSell,
    PortfolioView,
    Quote,
    utc_day,
)

__all__ = [
    "Accumulator",
    "LeaderStats",
    "LeaderView",
    "NotACopy",
    "OpenBuy",
    "OpenSell",
    "Pending",
    "Policy",
    "PortfolioView",
    "Quote",
    "order_intent",
    "utc_day",
]
