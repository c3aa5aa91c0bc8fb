"""`polytail doctor` against the local exchange: a healthy wallet passes every check, and
each setup mistake it detects fails its check, with the fix, and nothing else.

One exchange for the module (real-time clock, so its `/time` is the wall clock); every
test makes its own wallet, so they do not depend on each other. The exchange is told what
to be wrong about through its admin API (an unfunded wallet, missing approvals, USDC.e
left unwrapped, a blocked country, a new order version), or a second exchange whose clock
runs ahead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from polytail.app.demo import local_venue
from polytail.app.doctor import Report, Status, run_doctor
from polytail.config.schema import PolytailConfig
from polytail.config.secrets import encrypt_keystore
from polytail.sim.scenarios import Scenario, parse
from polytail.sim.server import RunningSim, start_sim
from polytail.venue import sdk_compat

MARKETS = [
    {"slug": "plain", "question": "A v1 market?", "mid": "0.4"},
    {"slug": "neg", "question": "A neg-risk market?", "neg_risk": True, "mid": "0.3"},
    {"slug": "next", "question": "A v2 market?", "version": "v2", "mid": "0.6"},
]
EXCHANGES = sdk_compat.contracts()


def scenario(**changes: Any) -> Scenario:
    spec = parse({"name": "doctor", "seed": 5, "clock": "realtime", "markets": MARKETS})
    for name, value in changes.items():
        setattr(spec, name, value)
    return spec


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSim]:
    with start_sim(scenario()) as running:
        yield running


def config_for(sim: RunningSim, tmp: Path, **sections: Any) -> PolytailConfig:
    raw: dict[str, Any] = {
        "mode": "live",
        "data_dir": str(tmp),
        "venue": {**local_venue(sim), "request_timeout_s": 5},
    }
    for name, value in sections.items():
        raw[name] = {**raw.get(name, {}), **value}
    return PolytailConfig.model_validate(raw)


def eoa(sim: RunningSim, *, pusd: str = "100", **fund: Any) -> LocalAccount:
    account: LocalAccount = Account.create()
    sim.admin.fund(account.address, pusd=pusd, **fund)
    return account


def env(account: LocalAccount) -> dict[str, str]:
    return {"POLYTAIL_PRIVATE_KEY": account.key.hex()}


async def doctor(
    sim: RunningSim, tmp: Path, account: LocalAccount, wallet_type: str = "eoa", **kw: Any
) -> Report:
    address = kw.pop("address", account.address)
    environ = kw.pop("environ", env(account))
    wallet = {"address": address, "type": wallet_type, **kw.pop("wallet", {})}
    config = config_for(sim, tmp, wallet=wallet, **kw)
    return await run_doctor(config, environ)


def statuses(report: Report) -> dict[str, Status]:
    return {check.name: check.status for check in report.checks}


def failed(report: Report) -> list[str]:
    return [check.name for check in report.checks if check.status is Status.FAIL]


def check(report: Report, name: str) -> Any:
    return next(c for c in report.checks if c.name == name)


# --- the healthy wallet ------------------------------------------------------------------


async def test_a_funded_approved_eoa_passes_every_check(sim: RunningSim, tmp_path: Path) -> None:
    report = await doctor(sim, tmp_path, eoa(sim))
    assert report.ok, [(c.name, c.detail) for c in report.checks if c.status is not Status.PASS]
    assert set(statuses(report)) >= {
        "signing key",
        "versions",
        "clock",
        "geoblock",
        "wallet",
        "wallet deployed",
        "relayer key (redemption)",
        "API credentials",
        "pUSD balance",
        "USDC.e",
        "approvals v1",
        "approvals neg-risk",
        "approvals v2",
        "sizing",
    }
    assert "100 pUSD" in check(report, "pUSD balance").detail


async def test_a_deployed_proxy_wallet_of_the_key_passes(sim: RunningSim, tmp_path: Path) -> None:
    owner: LocalAccount = Account.create()
    proxy = sdk_compat.derived_wallets(owner.address)["POLY_PROXY"][0]
    sim.admin.fund(proxy, pusd="50", owner=owner.address, kind="POLY_PROXY")
    relayer = sim.admin.relayer_key(owner.address)
    environ = {
        **env(owner),
        "POLYTAIL_RELAYER_API_KEY": relayer["key"],
        "POLYTAIL_RELAYER_API_KEY_ADDRESS": relayer["address"],
    }
    report = await doctor(sim, tmp_path, owner, "proxy", address=proxy, environ=environ)
    assert report.ok, failed(report)
    assert "proxy wallet" in check(report, "wallet").detail
    assert "signature type 1" in check(report, "wallet").detail
    assert relayer["address"] in check(report, "relayer key (redemption)").detail
    assert relayer["key"] not in str(report)


async def test_a_safe_with_a_builder_key_passes_the_relayer_check(
    sim: RunningSim, tmp_path: Path
) -> None:
    owner: LocalAccount = Account.create()
    safe = sdk_compat.derived_wallets(owner.address)["GNOSIS_SAFE"][0]
    sim.admin.fund(safe, pusd="50", owner=owner.address, kind="GNOSIS_SAFE")
    builder = sim.admin.relayer_key()
    environ = {
        **env(owner),
        "POLYTAIL_BUILDER_API_KEY": builder["key"],
        "POLYTAIL_BUILDER_API_SECRET": builder["secret"],
        "POLYTAIL_BUILDER_API_PASSPHRASE": builder["passphrase"],
    }
    report = await doctor(sim, tmp_path, owner, "safe", address=safe, environ=environ)
    relayer = check(report, "relayer key (redemption)")
    assert relayer.status is Status.PASS and "Builder API key" in relayer.detail
    assert not any(builder[part] in str(report) for part in ("key", "secret", "passphrase"))


# --- one test per failure --------------------------------------------------------------------


async def test_no_signing_key_fails_the_key_check_and_skips_what_needs_it(
    sim: RunningSim, tmp_path: Path
) -> None:
    report = await doctor(sim, tmp_path, eoa(sim), environ={})
    key = check(report, "signing key")
    assert key.status is Status.FAIL
    assert "POLYTAIL_PRIVATE_KEY" in key.fix and "keystore" in key.fix
    assert statuses(report)["wallet"] is Status.SKIP
    assert statuses(report)["API credentials"] is Status.SKIP
    # what needs only the funder address is still checked
    assert statuses(report)["pUSD balance"] is Status.PASS


async def test_a_keystore_with_the_wrong_passphrase_fails_the_key_check(
    sim: RunningSim, tmp_path: Path
) -> None:
    account = eoa(sim)
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(encrypt_keystore(account.key.hex(), "right passphrase")))
    report = await doctor(
        sim,
        tmp_path,
        account,
        environ={"POLYTAIL_KEYSTORE_PASSPHRASE": "wrong passphrase"},
        wallet={"keystore": str(keystore)},
    )
    key = check(report, "signing key")
    assert key.status is Status.FAIL
    assert "wrong passphrase" in key.detail
    assert "right passphrase" not in str(report)


async def test_a_funder_address_not_derived_from_the_key_fails_and_lists_the_keys_wallets(
    sim: RunningSim, tmp_path: Path
) -> None:
    account, stranger = eoa(sim), eoa(sim)
    report = await doctor(sim, tmp_path, account, address=stranger.address)
    wallet = check(report, "wallet")
    assert wallet.status is Status.FAIL
    assert "not derived from this signing key" in wallet.detail
    proxy = sdk_compat.derived_wallets(account.address)["POLY_PROXY"][0].lower()
    assert proxy in wallet.fix and account.address.lower() in wallet.fix
    assert statuses(report)["API credentials"] is Status.SKIP


async def test_a_wallet_type_that_does_not_match_the_address_fails_with_the_right_type(
    sim: RunningSim, tmp_path: Path
) -> None:
    owner: LocalAccount = Account.create()
    safe = sdk_compat.derived_wallets(owner.address)["GNOSIS_SAFE"][0]
    sim.admin.fund(safe, pusd="50", owner=owner.address, kind="GNOSIS_SAFE")
    report = await doctor(sim, tmp_path, owner, "proxy", address=safe)
    wallet = check(report, "wallet")
    assert wallet.status is Status.FAIL
    assert "Safe" in wallet.detail and "wallet.type is proxy" in wallet.detail
    assert wallet.fix == 'set wallet.type = "safe"'


async def test_a_proxy_wallet_without_a_relayer_key_fails_the_relayer_check(
    sim: RunningSim, tmp_path: Path
) -> None:
    owner: LocalAccount = Account.create()
    proxy = sdk_compat.derived_wallets(owner.address)["POLY_PROXY"][0]
    sim.admin.fund(proxy, pusd="50", owner=owner.address, kind="POLY_PROXY")
    report = await doctor(sim, tmp_path, owner, "proxy", address=proxy)
    assert failed(report) == ["relayer key (redemption)"]
    relayer = check(report, "relayer key (redemption)")
    assert "relayer" in relayer.detail and "unredeemed" in relayer.detail
    for variable in (
        "POLYTAIL_RELAYER_API_KEY",
        "POLYTAIL_RELAYER_API_KEY_ADDRESS",
        "POLYTAIL_BUILDER_API_KEY",
        "POLYTAIL_BUILDER_API_SECRET",
        "POLYTAIL_BUILDER_API_PASSPHRASE",
    ):
        assert variable in relayer.fix


async def test_half_a_relayer_key_fails_with_the_missing_variable(
    sim: RunningSim, tmp_path: Path
) -> None:
    account = eoa(sim)
    environ = {**env(account), "POLYTAIL_RELAYER_API_KEY": "a-relayer-key-value"}
    report = await doctor(sim, tmp_path, account, environ=environ)
    relayer = check(report, "relayer key (redemption)")
    assert relayer.status is Status.FAIL
    assert "POLYTAIL_RELAYER_API_KEY_ADDRESS is not" in relayer.detail
    assert "a-relayer-key-value" not in str(report)


async def test_a_proxy_wallet_never_deployed_fails(sim: RunningSim, tmp_path: Path) -> None:
    owner: LocalAccount = Account.create()
    proxy = sdk_compat.derived_wallets(owner.address)["POLY_PROXY"][0]
    report = await doctor(sim, tmp_path, owner, "proxy", address=proxy)
    assert check(report, "wallet").status is Status.PASS
    deployed = check(report, "wallet deployed")
    assert deployed.status is Status.FAIL
    assert "not deployed" in deployed.detail and "polymarket.com" in deployed.fix
    assert statuses(report)["API credentials"] is Status.SKIP


async def test_api_credentials_the_clob_refuses_to_derive_fail(
    sim: RunningSim, tmp_path: Path
) -> None:
    account = eoa(sim)
    sim.admin.faults(set=[{"kind": "status", "service": "clob", "path": "/auth", "status": 401}])
    try:
        report = await doctor(sim, tmp_path, account)
    finally:
        sim.admin.faults(clear=True)
    credentials = check(report, "API credentials")
    assert credentials.status is Status.FAIL
    assert "did not give this key API credentials" in credentials.detail
    assert failed(report) == ["API credentials"]


async def test_a_wallet_without_pusd_fails_the_balance_check(
    sim: RunningSim, tmp_path: Path
) -> None:
    report = await doctor(sim, tmp_path, eoa(sim, pusd="0"))
    balance = check(report, "pUSD balance")
    assert balance.status is Status.FAIL
    assert "holds no pUSD" in balance.detail
    assert failed(report) == ["pUSD balance"]


async def test_unwrapped_usdce_beside_pusd_is_a_warning(sim: RunningSim, tmp_path: Path) -> None:
    report = await doctor(sim, tmp_path, eoa(sim, pusd="20", usdce="75.5"))
    usdce = check(report, "USDC.e")
    assert usdce.status is Status.WARN
    assert "75.5 USDC.e is not wrapped" in usdce.detail and "wrap(" in usdce.fix
    assert report.ok


async def test_only_unwrapped_usdce_fails(sim: RunningSim, tmp_path: Path) -> None:
    report = await doctor(sim, tmp_path, eoa(sim, pusd="0", usdce="75.5"))
    assert check(report, "USDC.e").status is Status.FAIL
    assert set(failed(report)) == {"pUSD balance", "USDC.e"}


async def test_missing_approvals_fail_per_market_kind_naming_each_one(
    sim: RunningSim, tmp_path: Path
) -> None:
    account = eoa(sim, approve=False)
    report = await doctor(sim, tmp_path, account)
    assert set(failed(report)) == {"approvals v1", "approvals neg-risk", "approvals v2"}
    v1 = check(report, "approvals v1")
    assert "pUSD allowance to the CTF Exchange" in v1.detail
    assert "CTF approval to the CtfCollateralAdapter" in v1.detail
    assert "setup_trading_approvals" in v1.fix


async def test_one_missing_sell_approval_fails_only_its_market_kind(
    sim: RunningSim, tmp_path: Path
) -> None:
    account = eoa(sim)
    sim.admin.approve(account.address, EXCHANGES.exchange_v3, approved=False)
    report = await doctor(sim, tmp_path, account)
    assert failed(report) == ["approvals v2"]
    detail = check(report, "approvals v2").detail
    assert detail == "missing: sell: PositionManager approval to ExchangeV3"


async def test_a_pusd_allowance_below_the_largest_order_fails(
    sim: RunningSim, tmp_path: Path
) -> None:
    account = eoa(sim)
    sim.admin.approve(account.address, EXCHANGES.neg_risk_exchange, amount="3")
    report = await doctor(sim, tmp_path, account, risk={"max_order_usdc": "50"})
    assert failed(report) == ["approvals neg-risk"]
    assert (
        "pUSD allowance to the Neg Risk Exchange (3 pUSD)"
        in check(report, "approvals neg-risk").detail
    )


async def test_a_blocked_country_fails_the_geoblock_check(sim: RunningSim, tmp_path: Path) -> None:
    sim.admin.venue(geoblock={"blocked": True, "country": "US", "region": "NY"})
    try:
        report = await doctor(sim, tmp_path, eoa(sim))
    finally:
        sim.admin.venue(geoblock={"blocked": False, "country": "ZZ"})
    geoblock = check(report, "geoblock")
    assert geoblock.status is Status.FAIL
    assert "country US-NY" in geoblock.detail


async def test_a_new_order_version_at_the_venue_fails_the_versions_check(
    sim: RunningSim, tmp_path: Path
) -> None:
    sim.admin.venue(clob_version=3)
    try:
        report = await doctor(sim, tmp_path, eoa(sim))
    finally:
        sim.admin.venue(clob_version=2)
    versions = check(report, "versions")
    assert versions.status is Status.FAIL
    assert "expects order version 3" in versions.detail
    assert failed(report) == ["versions"]


async def test_a_clock_far_from_the_clob_fails(tmp_path: Path) -> None:
    with start_sim(scenario(start_time=time.time() + 120)) as ahead:
        report = await doctor(ahead, tmp_path, eoa(ahead))
    clock = check(report, "clock")
    assert clock.status is Status.FAIL
    assert "behind the CLOB" in clock.detail and "ntp" in clock.fix.lower()
    assert abs(float(clock.detail.split()[3]) - 120) < 3


async def test_a_fixed_size_below_the_venue_minimum_fails(sim: RunningSim, tmp_path: Path) -> None:
    report = await doctor(sim, tmp_path, eoa(sim), sizing={"fixed_usdc": "0.5"})
    sizing = check(report, "sizing")
    assert sizing.status is Status.FAIL
    assert "below the venue minimum at every price" in sizing.detail
    assert failed(report) == ["sizing"]


async def test_a_fixed_size_too_small_for_expensive_outcomes_warns(
    sim: RunningSim, tmp_path: Path
) -> None:
    report = await doctor(sim, tmp_path, eoa(sim), sizing={"fixed_usdc": "3"})
    sizing = check(report, "sizing")
    assert sizing.status is Status.WARN
    assert "copies above 0.60 are below 5 shares" in sizing.detail
    assert report.ok


async def test_ratio_sizing_that_yields_sub_minimum_copies_warns_unless_accumulating(
    sim: RunningSim, tmp_path: Path
) -> None:
    account = eoa(sim)
    skipping = await doctor(sim, tmp_path, account, sizing={"mode": "ratio", "ratio": "0.01"})
    assert check(skipping, "sizing").status is Status.WARN
    assert "accumulate" in check(skipping, "sizing").fix
    adding = await doctor(
        sim,
        tmp_path,
        account,
        sizing={"mode": "ratio", "ratio": "0.01", "below_minimum": "accumulate"},
    )
    assert check(adding, "sizing").status is Status.PASS


async def test_a_max_order_cap_below_the_minimum_fails_every_sizing(
    sim: RunningSim, tmp_path: Path
) -> None:
    report = await doctor(sim, tmp_path, eoa(sim), risk={"max_order_usdc": "0.5"})
    assert check(report, "sizing").status is Status.FAIL
    assert "risk.max_order_usdc 0.5 caps every copy" in check(report, "sizing").detail
