"""`polytail doctor`: is this wallet ready for its first live order? A pass/fail list, each
failure with its fix.

Setup problems are the most common complaint in every copy bot's tracker: a wallet type
that does not match the funder address (orders refused, or a balance of 0 because the
CLOB looks at the wrong wallet), USDC.e never wrapped into pUSD, approvals missing for
one exchange, an IP Polymarket blocks, a drifting clock. Each check here asks the venue or
the chain directly, read-only, and says what to do. Checks that need an earlier one (a
balance needs a funder address) are skipped with the reason when it failed.

Order: the signing key; versions (the SDK polytail pins, the order version the CLOB
expects); the clock against the CLOB's; geoblock; the wallet type and funder derived from
the key; whether a proxy/Safe/deposit wallet is deployed, and has a relayer key to redeem
with; API credentials (derived as `polytail run` does, which also proves the SDK accepts
the wallet); pUSD on chain and as the CLOB sees it; USDC.e still unwrapped; approvals for
v1, neg-risk and v2 markets (buy, sell, redeem); the configured sizing against the
venue's minimum order size.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from typing import Final

from polytail.config.schema import Mode, PolytailConfig, SizingMode, SizingSettings, WalletType
from polytail.config.secrets import (
    RELAYER_KEY_HELP,
    RelayerKey,
    SecretError,
    Secrets,
    address_of,
    load_secrets,
)
from polytail.domain.money import SCALE, format_units
from polytail.venue import sdk_compat
from polytail.venue.clients import VenueClients
from polytail.venue.errors import VenueError
from polytail.venue.http import HttpCore
from polytail.venue.trading import SDK_WALLET_TYPES, ApiCredentials, LiveTrading
from polytail.venue.wallet import USDC_E, WalletReader, deployed, geoblock

ONRAMP: Final = "0x93070a847efEf7F70739046A929D47a521F5B8ee"  # USDC.e -> pUSD (§1.1)

EXPECTED_ORDER_VERSION: Final = 2  # what SDK 0.14.0 signs (UNCERTAIN how the venue bumps it)
SKEW_WARN_S: Final = 2  # /time has 1 s precision: 1 s of difference is noise
SKEW_FAIL_S: Final = 5
MIN_SHARES: Final = Decimal(5)  # the usual venue minimum (polymarket-api.md §1.6)
MIN_MARKETABLE_USDC: Final = Decimal(1)  # marketable BUYs: $1 minimum (UNCERTAIN, §1.6)
WALLET_NAMES: Final = {
    "EOA": "its own address (EOA)",
    "POLY_PROXY": "its Polymarket proxy wallet",
    "GNOSIS_SAFE": "its Safe",
    "DEPOSIT_WALLET": "its deposit wallet",
}
CONFIG_TYPES: Final = {sdk: ours for ours, sdk in SDK_WALLET_TYPES.items()}
APPROVAL_FIX: Final = (
    "grant them from the funder wallet once: the Polymarket website does it on your first "
    "trade, or run polymarket-client's `setup_trading_approvals()` with this key and wallet "
    "(docs/OPERATIONS.md, 'Before the first live order')"
)


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check result, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass
class Report:
    mode: Mode
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status is not Status.FAIL for check in self.checks)

    def add(self, name: str, status: Status, detail: str, fix: str = "") -> Check:
        check = Check(name, status, detail, fix)
        self.checks.append(check)
        return check


@dataclass
class _Context:
    config: PolytailConfig
    clients: VenueClients
    report: Report
    secrets: Secrets | None = None
    signer: str | None = None
    funder: str | None = None  # the configured funder, once it is known to be right
    trading: LiveTrading | None = None
    pusd: int | None = None  # on-chain pUSD of the funder, base units


async def run_doctor(config: PolytailConfig, environ: Mapping[str, str] | None = None) -> Report:
    """Every check, in order. Never raises for what it checks: a failure is a `FAIL`."""
    clients = VenueClients.from_settings(config.venue)
    context = _Context(config, clients, Report(config.mode))
    try:
        _key(context, environ)
        await _guarded(context, "versions", _versions)
        await _guarded(context, "clock", _clock)
        await _guarded(context, "geoblock", _geoblock)
        _wallet(context)
        await _guarded(context, "wallet deployed", _deployed)
        _relayer_key(context)
        await _guarded(context, "API credentials", _credentials)
        await _guarded(context, "pUSD balance", _pusd)
        await _guarded(context, "USDC.e", _usdce)
        await _guarded(context, "approvals", _approvals)
        _sizing(context)
    finally:
        if context.trading is not None:
            await context.trading.close()
        await clients.close()
    return context.report


Step = Callable[[_Context], Awaitable[None]]


async def _guarded(context: _Context, name: str, step: Step) -> None:
    """A step that could not even ask (the venue is down, a malformed answer) fails with
    what went wrong rather than stopping the other checks."""
    try:
        await step(context)
    except (VenueError, OSError, ValueError) as error:
        context.report.add(
            name,
            Status.FAIL,
            f"could not check: {error}",
            "check the venue URLs in [venue] and your network; then run the doctor again",
        )


# --- the checks ---------------------------------------------------------------------------


def _key(context: _Context, environ: Mapping[str, str] | None) -> None:
    config, report = context.config, context.report
    try:
        secrets = load_secrets(config, environ)
    except SecretError as error:
        if "RELAYER" in str(error) or "BUILDER" in str(error):  # half a relayer key
            report.add("relayer key (redemption)", Status.FAIL, str(error), RELAYER_KEY_HELP)
        else:
            report.add("signing key", Status.FAIL, str(error), _KEY_FIX)
        return
    context.secrets = secrets
    if secrets.private_key is None:
        report.add("signing key", Status.FAIL, "no signing key is configured", _KEY_FIX)
        return
    context.signer = address_of(secrets.private_key)
    source = f"keystore {config.wallet.keystore}" if config.wallet.keystore else "the environment"
    report.add("signing key", Status.PASS, f"signer {context.signer}, from {source}")


_KEY_FIX: Final = (
    "export POLYTAIL_PRIVATE_KEY, or keep the key in an encrypted keystore: "
    "`polytail keystore new FILE`, then wallet.keystore = FILE and POLYTAIL_KEYSTORE_PASSPHRASE"
)


async def _versions(context: _Context) -> None:
    try:
        sdk = installed_version("polymarket-client")
    except PackageNotFoundError:
        sdk = "not installed"
    problems = []
    if sdk != sdk_compat.SDK_VERSION:
        problems.append(
            f"polymarket-client {sdk} is installed, polytail needs {sdk_compat.SDK_VERSION}"
        )
    order_version = await context.clients.clob.version()
    if order_version != EXPECTED_ORDER_VERSION:
        problems.append(
            f"the CLOB expects order version {order_version}; this polytail signs version "
            f"{EXPECTED_ORDER_VERSION} orders"
        )
    detail = f"polymarket-client {sdk}, CLOB order version {order_version}"
    if problems:
        context.report.add(
            "versions",
            Status.FAIL,
            "; ".join(problems),
            "reinstall polytail (`pip install -e .` or `make install`) so it brings the SDK "
            "it was tested with; if the venue moved to a new order version, update polytail",
        )
    else:
        context.report.add("versions", Status.PASS, detail)


async def _clock(context: _Context) -> None:
    before = time.time()
    server = await context.clients.clob.server_time()
    after = time.time()
    # /time is whole seconds (floored): its midpoint is server + 0.5. > 0: we are ahead.
    skew = (before + after) / 2 - (server + 0.5)
    detail = f"this machine is {abs(skew):.1f} s {'ahead of' if skew > 0 else 'behind'} the CLOB"
    fix = (
        "synchronise the clock (systemd: `timedatectl set-ntp true`; or install chrony): "
        "fill ages, order expirations and signed request timestamps use it"
    )
    if abs(skew) > SKEW_FAIL_S:
        context.report.add("clock", Status.FAIL, detail, fix)
    elif abs(skew) >= SKEW_WARN_S:
        context.report.add("clock", Status.WARN, detail, fix)
    else:
        context.report.add("clock", Status.PASS, detail)


async def _geoblock(context: _Context) -> None:
    clients = context.clients
    http = HttpCore(
        clients.http,
        context.config.venue.geoblock_url,
        clients.limiter,
        clients.breakers,
        timeout_s=context.config.venue.request_timeout_s,
        stats=clients.stats,
    )
    answer = await geoblock(http)
    where = answer.country + (f"-{answer.region}" if answer.region else "")
    if answer.blocked:
        context.report.add(
            "geoblock",
            Status.FAIL,
            f"Polymarket blocks orders from this IP (country {where or 'unknown'})",
            "run polytail from a machine in a country where Polymarket allows trading; "
            "orders from here are refused",
        )
    else:
        context.report.add("geoblock", Status.PASS, f"not blocked (country {where or '?'})")


def _wallet(context: _Context) -> None:
    config, report = context.config, context.report
    name = "wallet"
    if context.signer is None:
        report.add(name, Status.SKIP, "needs the signing key")
        return
    derived = sdk_compat.derived_wallets(_checksum(context.signer), chain_id=config.wallet.chain_id)
    choices = "; ".join(
        f"{WALLET_NAMES[kind]} {addresses[0].lower()}" for kind, addresses in derived.items()
    )
    address = config.wallet.address
    if address is None:
        report.add(
            name,
            Status.FAIL,
            "wallet.address is not set",
            "set wallet.address to the wallet that holds your pUSD (your Polymarket profile "
            f"address) and wallet.type to its type. For this key: {choices}",
        )
        return
    kind = next((k for k, found in derived.items() if address in {a.lower() for a in found}), None)
    if kind is None:
        report.add(
            name,
            Status.FAIL,
            f"wallet.address {address} is not derived from this signing key",
            "the key or the address is wrong (session keys are not supported). "
            f"This key's wallets: {choices}",
        )
        return
    expected = CONFIG_TYPES[kind]
    if config.wallet.type is not expected:
        given = config.wallet.type.value if config.wallet.type else "not set"
        report.add(
            name,
            Status.FAIL,
            f"{address} is this key's {WALLET_NAMES[kind].removeprefix('its ')}, but wallet.type "
            f"is {given}: orders would be signed for the wrong wallet",
            f'set wallet.type = "{expected.value}"',
        )
        return
    context.funder = address
    signature = {"EOA": 0, "POLY_PROXY": 1, "GNOSIS_SAFE": 2, "DEPOSIT_WALLET": 3}[kind]
    report.add(
        name,
        Status.PASS,
        f"funder {address} is {WALLET_NAMES[kind]} (wallet.type {expected.value}, "
        f"signature type {signature})",
    )


async def _deployed(context: _Context) -> None:
    config = context.config
    if context.funder is None:
        context.report.add("wallet deployed", Status.SKIP, "needs a correct wallet")
        return
    if config.wallet.type is WalletType.EOA:
        context.report.add("wallet deployed", Status.PASS, "an EOA needs no deployment")
        return
    clients = context.clients
    relayer = HttpCore(
        clients.http,
        config.venue.relayer_url,
        clients.limiter,
        clients.breakers,
        timeout_s=config.venue.request_timeout_s,
        stats=clients.stats,
    )
    if await deployed(relayer, context.funder):
        context.report.add("wallet deployed", Status.PASS, f"{context.funder} exists on chain")
        return
    context.report.add(
        "wallet deployed",
        Status.FAIL,
        f"the {config.wallet.type.value if config.wallet.type else ''} wallet "
        f"{context.funder} is not deployed yet",
        "log in to polymarket.com with this wallet once (it deploys the wallet), then run "
        "the doctor again",
    )
    context.funder = None  # nothing to trade from yet


def _relayer_key(context: _Context) -> None:
    """A proxy, Safe or deposit wallet redeems through the relayer, which takes an API key:
    without one the first resolution would leave the claim unredeemed, so say so now."""
    name = "relayer key (redemption)"
    wallet_type = context.config.wallet.type
    if wallet_type is None or wallet_type is WalletType.EOA:
        context.report.add(name, Status.PASS, "an EOA redeems with its own transactions")
        return
    if context.secrets is None:
        context.report.add(name, Status.SKIP, "needs the secrets to load")
        return
    key = context.secrets.gasless_key
    if key is None:
        context.report.add(
            name,
            Status.FAIL,
            f"a {wallet_type.value} wallet redeems resolved positions through Polymarket's "
            "relayer, which needs a Relayer or Builder API key; none is configured, so "
            "claims would stay unredeemed",
            f"{RELAYER_KEY_HELP[0].upper()}{RELAYER_KEY_HELP[1:]} (create one in your "
            "Polymarket settings)",
        )
        return
    what = (
        f"Relayer API key for {key.address}" if isinstance(key, RelayerKey) else "Builder API key"
    )
    context.report.add(
        name,
        Status.PASS,
        f"{what} configured (the relayer checks it only when a redemption is submitted)",
    )


async def _credentials(context: _Context) -> None:
    config, secrets = context.config, context.secrets
    if secrets is None or secrets.private_key is None or context.funder is None:
        context.report.add("API credentials", Status.SKIP, "needs the key and a deployed wallet")
        return
    given = None
    if secrets.has_clob_credentials:
        assert secrets.clob_api_key and secrets.clob_api_secret and secrets.clob_api_passphrase
        given = ApiCredentials(
            secrets.clob_api_key, secrets.clob_api_secret, secrets.clob_api_passphrase
        )
    try:
        trading = await LiveTrading.connect(
            venue=config.venue,
            wallet=config.wallet,
            private_key=secrets.private_key,
            credentials=given,
            limiter=context.clients.limiter,
            relayer_key=secrets.gasless_key,
        )
    except VenueError as error:
        context.report.add(
            "API credentials",
            Status.FAIL,
            f"the CLOB did not give this key API credentials: {error}",
            "check the geoblock and clock results above; if POLYTAIL_CLOB_API_KEY/SECRET/"
            "PASSPHRASE are set, unset them and let polytail derive its own",
        )
        return
    context.trading = trading
    used = trading.client.credentials.key
    if given is not None and used != given.key.reveal():
        context.report.add(
            "API credentials",
            Status.WARN,
            "the configured POLYTAIL_CLOB_API_* credentials are not active for this key; "
            "the SDK derived others",
            "unset POLYTAIL_CLOB_API_KEY/SECRET/PASSPHRASE (polytail derives them)",
        )
    else:
        how = "configured" if given is not None else "derived from the key"
        context.report.add("API credentials", Status.PASS, f"API key {how}, accepted by the CLOB")
    if await trading.closed_only():
        context.report.add(
            "account",
            Status.FAIL,
            "the account is in closed-only mode: it may only reduce positions",
            "contact Polymarket support; polytail cannot open copies from this account",
        )


async def _pusd(context: _Context) -> None:
    funder = context.funder or context.config.wallet.address
    if funder is None:
        context.report.add("pUSD balance", Status.SKIP, "needs wallet.address")
        return
    reader = WalletReader(context.clients.chain)
    context.pusd = await reader.balance(sdk_compat.contracts().collateral, funder)
    on_chain = _usdc(context.pusd)
    if context.pusd == 0:
        context.report.add(
            "pUSD balance",
            Status.FAIL,
            f"{funder} holds no pUSD",
            "deposit on polymarket.com (it wraps USDC into pUSD), or wrap USDC.e through the "
            "CollateralOnramp; see the USDC.e check",
        )
        return
    if context.trading is not None:
        seen = await context.trading.refresh_balance()
        if seen.balance == 0:
            context.report.add(
                "pUSD balance",
                Status.FAIL,
                f"{on_chain} pUSD on chain, but the CLOB sees 0 for this key and wallet type",
                "the CLOB looks up the funder from the API key and the signature type: check "
                "wallet.type (see the wallet check)",
            )
            return
    context.report.add("pUSD balance", Status.PASS, f"{on_chain} pUSD")


async def _usdce(context: _Context) -> None:
    funder = context.funder or context.config.wallet.address
    if funder is None:
        context.report.add("USDC.e", Status.SKIP, "needs wallet.address")
        return
    held = await WalletReader(context.clients.chain).balance(USDC_E, funder)
    if held == 0:
        context.report.add("USDC.e", Status.PASS, "none left unwrapped")
        return
    fix = (
        f"wrap it into pUSD: approve the CollateralOnramp ({ONRAMP}) to spend USDC.e and "
        "call wrap(USDC.e, your wallet, amount); the Polymarket website "
        "does this when you deposit"
    )
    status = Status.FAIL if not context.pusd else Status.WARN
    context.report.add(
        "USDC.e",
        status,
        f"{_usdc(held)} USDC.e is not wrapped: the CLOB trades only pUSD",
        fix,
    )


async def _approvals(context: _Context) -> None:
    funder = context.funder or context.config.wallet.address
    names = ("approvals v1", "approvals neg-risk", "approvals v2")
    if funder is None:
        for name in names:
            context.report.add(name, Status.SKIP, "needs wallet.address")
        return
    c = sdk_compat.contracts()
    reader = WalletReader(context.clients.chain)
    needed = int(context.config.risk.max_order_usdc * SCALE)
    groups = {
        names[0]: (
            ("buy: pUSD allowance to the CTF Exchange", c.collateral, c.standard_exchange, True),
            (
                "sell: CTF approval to the CTF Exchange",
                c.conditional_tokens,
                c.standard_exchange,
                False,
            ),
            (
                "redeem: CTF approval to the CtfCollateralAdapter",
                c.conditional_tokens,
                c.collateral_adapter,
                False,
            ),
        ),
        names[1]: (
            (
                "buy: pUSD allowance to the Neg Risk Exchange",
                c.collateral,
                c.neg_risk_exchange,
                True,
            ),
            (
                "sell: CTF approval to the Neg Risk Exchange",
                c.conditional_tokens,
                c.neg_risk_exchange,
                False,
            ),
            (
                "redeem: CTF approval to the NegRiskCtfCollateralAdapter",
                c.conditional_tokens,
                c.neg_risk_collateral_adapter,
                False,
            ),
        ),
        names[2]: (
            ("buy: pUSD allowance to ExchangeV3", c.collateral, c.exchange_v3, True),
            (
                "sell: PositionManager approval to ExchangeV3",
                c.position_manager,
                c.exchange_v3,
                False,
            ),
            ("redeem: PositionManager approval to the Router", c.position_manager, c.router, False),
        ),
    }
    for name, approvals in groups.items():
        missing = []
        for what, contract, spender, is_allowance in approvals:
            if is_allowance:
                granted = await reader.allowance(contract, funder, spender)
                if granted < max(needed, 1):
                    missing.append(f"{what} ({_usdc(granted)} pUSD)")
            elif not await reader.approved_for_all(contract, funder, spender):
                missing.append(what)
        if missing:
            context.report.add(name, Status.FAIL, "missing: " + "; ".join(missing), APPROVAL_FIX)
        else:
            context.report.add(name, Status.PASS, "buy, sell and redeem approvals granted")


def _sizing(context: _Context) -> None:
    """Can a copy reach the venue's minimum (5 shares, and $1 for a marketable buy)?"""
    config = context.config
    equity: Decimal | None = config.paper.starting_cash_usdc
    if config.mode is Mode.LIVE:
        equity = None if context.pusd is None else Decimal(context.pusd) / SCALE
    settings: dict[str, tuple[SizingSettings, Decimal, Decimal]] = {}
    targets = [("global", config.sizing, config.filters.price_min, config.filters.price_max)]
    targets += [
        (leader.label, leader.sizing, leader.filters.price_min, leader.filters.price_max)
        for leader in config.leaders
        if leader.enabled
    ]
    worst = Status.PASS
    lines: list[str] = []
    fixes: list[str] = []
    for label, sizing, low, high in targets:
        key = sizing.model_dump_json()
        if key in settings and label != "global":
            continue
        settings[key] = (sizing, low, high)
        status, line, fix = _sizing_of(sizing, low, high, equity, config.risk.max_order_usdc)
        lines.append(f"{label}: {line}")
        if fix:
            fixes.append(f"{label}: {fix}")
        if status is Status.FAIL or (status is Status.WARN and worst is Status.PASS):
            worst = status
    context.report.add("sizing", worst, "; ".join(lines), "; ".join(fixes))


def _sizing_of(
    sizing: SizingSettings, low: Decimal, high: Decimal, equity: Decimal | None, cap: Decimal
) -> tuple[Status, str, str]:
    floor = max(MIN_MARKETABLE_USDC, MIN_SHARES * low)  # the cheapest copy the venue takes
    full = MIN_SHARES * high  # what 5 shares cost at the highest price copied
    accumulate = sizing.below_minimum.value == "accumulate"
    if cap < floor:
        return (
            Status.FAIL,
            f"risk.max_order_usdc {cap} caps every copy below the venue minimum ({floor} pUSD)",
            f"raise risk.max_order_usdc to at least {full}",
        )
    budget: Decimal | None
    if sizing.mode is SizingMode.FIXED:
        budget, what = sizing.fixed_usdc, f"fixed {sizing.fixed_usdc} pUSD"
    elif sizing.mode is SizingMode.EQUITY_PCT:
        budget = None if equity is None else equity * sizing.equity_pct / 100
        amount = "unknown" if budget is None else f"{budget:.2f} pUSD"
        what = f"{sizing.equity_pct} % of equity ({amount})"
    elif sizing.mode is SizingMode.RATIO:
        return (
            Status.PASS if accumulate else Status.WARN,
            f"ratio {sizing.ratio}: leader trades under {(full / sizing.ratio):.2f} pUSD give "
            f"copies below 5 shares at high prices"
            + (" (accumulated until they reach it)" if accumulate else " (skipped)"),
            "" if accumulate else 'set sizing.below_minimum = "accumulate" to add them up',
        )
    else:
        return Status.PASS, f"{sizing.mode.value}: follows the leader's size", ""
    if budget is None:
        return Status.SKIP, f"{what}: needs the balance", ""
    budget = min(budget, cap)
    if budget < floor:
        return (
            Status.FAIL,
            f"{what}: below the venue minimum at every price ({floor} pUSD); every copy would "
            "be skipped (size_below_minimum)",
            f"size copies at {full} pUSD or more (5 shares at {high})",
        )
    if budget < full:
        return (
            Status.WARN,
            f"{what}: copies above {(budget / MIN_SHARES):.2f} are below 5 shares and skipped",
            f"size copies at {full} pUSD or more to copy up to {high}",
        )
    return Status.PASS, f"{what}: at least 5 shares up to {high}", ""


def _usdc(units: int) -> str:
    return format_units(units)


def _checksum(value: str) -> str:
    from eth_utils.address import to_checksum_address  # noqa: PLC0415

    return str(to_checksum_address(value))
