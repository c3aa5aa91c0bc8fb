"""From a copy decision to the order intent the order manager writes as PENDING."""

from __future__ import annotations

from polytail.domain.decisions import Decision
from polytail.domain.fills import Side
from polytail.domain.ids import client_order_id
from polytail.domain.money import Usdc
from polytail.domain.orders import OrderIntent


class NotACopy(ValueError):
    """The decision is a skip, or lacks what an order needs."""


def order_intent(decision: Decision) -> OrderIntent:
    """The intent for a copy decision, with its deterministic client id.

    The client id is `client_order_id(account, intent_key)`, where the key is
    `copy:<fill id>` for a copied leader fill and `exit:...` for a rule exit, so the
    same decision always yields the same order id and a retry cannot send a second
    order. A BUY's `max_spend` is its notional at the limit price (the domain's
    ceiling excludes fees; the decision's `fee` is the worst-case fee on top); a SELL
    spends nothing.
    """
    if not decision.is_copy:
        raise NotACopy(f"{decision.intent_key}: a skip ({decision.primary_reason}) has no order")
    side, price, order_type = decision.side, decision.limit_price, decision.order_type
    token, condition = decision.token_id, decision.condition_id
    if side is None or price is None or order_type is None or token is None or condition is None:
        raise NotACopy(f"{decision.intent_key}: a copy needs side, price, type, token, market")
    return OrderIntent(
        client_id=client_order_id(decision.account, decision.intent_key),
        account=decision.account,
        intent_key=decision.intent_key,
        token_id=token,
        condition_id=condition,
        side=side,
        order_type=order_type,
        limit_price=price,
        size=decision.size,
        max_spend=decision.notional if side is Side.BUY else Usdc(0),
        created_at_ms=decision.decided_at_ms,
        fill_id=decision.fill_id,
        leader=decision.leader,
        expires_at=decision.expires_at,
    )
