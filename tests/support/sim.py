"""Pointing the bot at the local exchange: one place that maps its URLs to settings."""

from __future__ import annotations

from typing import Any

from polytail.config.schema import VenueSettings
from polytail.sim.server import RunningSim


def venue_settings(sim: RunningSim, **overrides: Any) -> VenueSettings:
    """Every venue URL of the running local exchange (tests use a short timeout)."""
    urls = sim.base_urls
    values: dict[str, Any] = {
        "clob_url": urls["clob"],
        "gamma_url": urls["gamma"],
        "data_url": urls["data"],
        "relayer_url": urls["relayer"],
        "rpc_url": urls["rpc"],
        "rtds_url": urls["rtds_ws"],
        "clob_market_ws_url": urls["clob_market_ws"],
        "clob_user_ws_url": urls["clob_user_ws"],
        "geoblock_url": urls["geoblock"],
        "request_timeout_s": 5,
    }
    return VenueSettings(**{**values, **overrides})


def market_state(sim: RunningSim, slug: str) -> dict[str, Any]:
    """The exchange's own description of one of its markets (the ground truth)."""
    found: dict[str, Any] = next(m for m in sim.admin.state()["markets"] if m["slug"] == slug)
    return found
