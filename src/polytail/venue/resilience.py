"""Retry policies and circuit breakers, shared by the HTTP core and the SDK adapter.

Retries use tenacity; breakers use purgatory (docs/ARCHITECTURE.md says why). What is
ours is the *policy*: which failures a call may retry, which depends on whether the call
is idempotent. A read can be retried after any transient failure. An order POST cannot:
after a timeout the order may be live, and a resend could buy twice. It is retried only
when the venue guarantees nothing was taken (429, 425, or a connection that was never
established); anything else surfaces as `OrderOutcomeUnknown` for reconciliation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from polytail.venue.errors import (
    CircuitOpen,
    EngineRestarting,
    RateLimited,
    TransportFailure,
    VenueError,
)
from polytail.venue.stats import VenueStats

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How one kind of call retries. Make the choice explicit at every call site."""

    idempotent: bool = True
    attempts: int = 4
    deadline_s: float = 30.0
    base_s: float = 0.25
    max_s: float = 8.0
    restart_base_s: float = 5.0  # first wait after a 425 (engine restart lasts ~90 s)
    restart_max_s: float = 30.0

    def allows(self, error: BaseException) -> bool:
        if not isinstance(error, VenueError) or not error.retryable:
            return False
        if self.idempotent:
            return True
        if isinstance(error, RateLimited | EngineRestarting):
            return True  # the venue refused the request before taking it
        return isinstance(error, TransportFailure) and not error.maybe_sent

    def wait_s(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, VenueError) and error.retry_after is not None:
            return max(0.0, error.retry_after)
        if isinstance(error, EngineRestarting):
            restart = wait_exponential_jitter(
                multiplier=self.restart_base_s, max=self.restart_max_s, jitter=self.restart_base_s
            )
            return float(restart(state))
        backoff = wait_exponential_jitter(
            multiplier=self.base_s, max=self.max_s, jitter=self.base_s
        )
        return float(backoff(state))


READ = RetryPolicy()
"""Idempotent reads: any transient failure is retried."""

ORDER_POST = RetryPolicy(idempotent=False, attempts=6, deadline_s=120.0)
"""Order placement: retried only when the venue guarantees it did not take the order."""

CANCEL = RetryPolicy(idempotent=True, attempts=4, deadline_s=30.0)
"""Cancels are idempotent: cancelling twice leaves the order cancelled."""


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[BaseException], None] | None = None,
) -> T:
    """Run `call` under `policy`; the last error is re-raised when retries run out."""

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            error = state.outcome.exception()
            if error is not None:
                on_retry(error)

    retrying = AsyncRetrying(
        retry=retry_if_exception(policy.allows),
        wait=policy.wait_s,
        stop=stop_after_attempt(policy.attempts) | stop_before_delay(policy.deadline_s),
        before_sleep=before_sleep,
        reraise=True,
    )
    result: T = await retrying(call)
    return result


def _not_a_failure(error: BaseException) -> bool:
    return not getattr(error, "counts_for_breaker", False)


class Breakers:
    """One circuit breaker per endpoint family.

    Only outages count (transport failures, timeouts, 5xx): a 404 or a rejected order is
    an answer, not a failure of the service. After `threshold` consecutive outages the
    family fails fast with `CircuitOpen` for `ttl_s`, then lets requests probe again
    (half-open): one success closes it, one failure reopens it.
    """

    def __init__(
        self, *, threshold: int = 5, ttl_s: float = 30.0, stats: VenueStats | None = None
    ) -> None:
        self.threshold = threshold
        self.ttl_s = ttl_s
        self.stats = stats or VenueStats()
        self._factory = AsyncCircuitBreakerFactory(
            default_threshold=threshold,
            default_ttl=ttl_s,
            exclude=[(BaseException, _not_a_failure)],
        )
        self._factory.add_listener(self._on_event)

    def _on_event(self, name: str, kind: str, event: Any) -> None:
        if kind == "state_changed":
            self.stats.family(name).breaker_state = str(event.state)

    def state(self, family: str) -> str:
        return self.stats.family(family).breaker_state

    @asynccontextmanager
    async def guard(self, family: str) -> AsyncIterator[None]:
        breaker = await self._factory.get_breaker(family)
        try:
            async with breaker:
                yield
        except OpenedState as opened:
            self.stats.family(family).breaker_open_rejections += 1
            raise CircuitOpen(
                f"{family}: circuit open after {self.threshold} consecutive failures; "
                f"calls fail fast for {self.ttl_s:g} s, then probe again",
                family=family,
            ) from opened
