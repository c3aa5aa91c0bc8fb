"""Loading the configuration: defaults, overrides, and a clear error for every bad input."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from polytail.config.load import ConfigError, load_config
from polytail.config.schema import Mode, SizingMode
from polytail.config.starter import STARTER_TOML

LEADER = "0x6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "polytail.toml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env or {})
    return caught.value.problems


def test_defaults_are_paper_mode_with_documented_values() -> None:
    config = load_config(None, {}, use_default_file=False)
    assert config.mode is Mode.PAPER
    assert config.risk.max_order_usdc == Decimal(50)
    assert config.database_url().endswith("polytail-paper.sqlite")


def test_the_starter_file_is_valid(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, STARTER_TOML), {})
    assert config.mode is Mode.PAPER
    assert [leader.address for leader in config.leaders] == [LEADER]


def test_amounts_are_exact_decimals(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[risk]\nmax_order_usdc = 0.1\n"), {})
    assert config.risk.max_order_usdc == Decimal("0.1")  # not 0.1000000000000000055...


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[risk]\nmax_order_usdc = 10\n")
    config = load_config(path, {"POLYTAIL_RISK__MAX_ORDER_USDC": "25", "POLYTAIL_MODE": "paper"})
    assert config.risk.max_order_usdc == Decimal(25)


def test_leader_overrides_change_only_the_keys_they_name(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            f"""
[filters]
price_max = 0.95
min_leader_usdc = 20
[sizing]
mode = "ratio"
ratio = 0.2
[[leaders]]
address = "{LEADER.upper().replace("0X", "0x")}"
[leaders.filters]
price_max = 0.9
[[leaders]]
address = "0x{"b" * 40}"
""",
        ),
        {},
    )
    first, second = config.leaders
    assert first.address == LEADER  # normalised to lowercase
    assert first.filters.price_max == Decimal("0.9")
    assert first.filters.min_leader_usdc == Decimal(20)  # inherited
    assert first.sizing.mode is SizingMode.RATIO and first.sizing.ratio == Decimal("0.2")
    assert second.filters.price_max == Decimal("0.95")


# A dozen bad configurations. Each error must name the key, the bad value and what is
# expected, so the user can fix it without reading the source.
BAD_CONFIGS = [
    ("mode = 'demo'", ["mode = 'demo'", "'paper' or 'live'"]),
    ("[risk]\nmax_order_usdc = -5", ["risk.max_order_usdc = -5", "greater than or equal to 0"]),
    (
        "[risk]\nmax_ordr_usdc = 5",
        ["risk.max_ordr_usdc: unknown key", "did you mean 'max_order_usdc'"],
    ),
    ("[filters]\nprice_min = 0.9\nprice_max = 0.1", ["price_min (0.9) is above price_max (0.1)"]),
    ("[filters]\nprice_max = 1.5", ["filters.price_max = '1.5'", "less than or equal to 1"]),
    (
        "[[leaders]]\naddress = 'not-a-wallet'",
        ["leaders[0].address = 'not-a-wallet'", "not an address"],
    ),
    (f"[[leaders]]\naddress = '{LEADER}'\n[[leaders]]\naddress = '{LEADER}'", ["listed twice"]),
    ("[sizing]\nmode = 'tiered'", ["needs at least one [[sizing.tiers]]"]),
    ("[sizing]\nmode = 'martingale'", ["sizing.mode = 'martingale'", "'fixed'"]),
    ("[pricing]\nbuy_order_type = 'GTD'", ["use GTC with gtc_ttl_s instead of GTD"]),
    ("[venue]\nclob_url = 'clob.polymarket.com'", ["venue.clob_url", "expected an http(s)://"]),
    ("mode = 'live'", ["mode = 'live' needs wallet.address"]),
    ("[feeds.stream]\nenabled = false\n[feeds.poll]\nenabled = false", ["every feed is disabled"]),
    ("[risk]\nmax_order_usdc = 0.0000001", ["risk.max_order_usdc", "6 decimal places"]),
    ("[notify]\ndigest_utc = '25:00'", ["notify.digest_utc = '25:00'", "pattern"]),
    ("[web]\nport = 70000", ["web.port = 70000", "less than or equal to 65535"]),
    ("risk = 5", ["risk = 5", "dictionary"]),
    ("[risk\nmax_order_usdc = 5", ["not valid TOML"]),
]


@pytest.mark.parametrize(
    ("text", "expected"), BAD_CONFIGS, ids=[case[0][:30] for case in BAD_CONFIGS]
)
def test_bad_configs_are_explained(tmp_path: Path, text: str, expected: list[str]) -> None:
    found = "\n".join(problems(tmp_path, text))
    for fragment in expected:
        assert fragment in found, f"{fragment!r} not in:\n{found}"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(tmp_path, "mode = 'x'\n[risk]\nmax_order_usdc = -1\nmax_open_orders = 0\n")
    assert len(found) == 3


def test_bad_environment_values_name_the_variable(tmp_path: Path) -> None:
    found = problems(tmp_path, "", {"POLYTAIL_RISK__MAX_TOTAL_USDC": "lots"})
    assert any(
        "POLYTAIL_RISK__MAX_TOTAL_USDC" in problem and "'lots'" in problem for problem in found
    )


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="polytail init"):
        load_config(tmp_path / "nope.toml", {})


def test_secrets_in_the_file_are_refused_without_echoing_them(tmp_path: Path) -> None:
    key = "0x" + "4f" * 32
    found = problems(
        tmp_path,
        f"""
[wallet]
private_key = "{key}"
[notify.telegram]
bot_token = "123456:ABCDEF"
[filters]
slug_keywords_deny = ["{key[2:]}"]
""",
    )
    text = "\n".join(found)
    assert "wallet.private_key is a secret" in text and "POLYTAIL_PRIVATE_KEY" in text
    assert "notify.telegram.bot_token is a secret" in text and "POLYTAIL_TELEGRAM_TOKEN" in text
    assert "slug_keywords_deny[0] holds a value shaped like a private key" in text
    assert key[2:] not in text and "ABCDEF" not in text


def test_relayer_and_builder_keys_in_the_file_are_refused_without_echoing_them(
    tmp_path: Path,
) -> None:
    found = problems(
        tmp_path,
        """
[venue]
relayer_api_key = "planted-relayer-key-0001"
builder_api_secret = "planted-builder-secret-0001"
builder_api_passphrase = "planted-builder-passphrase-0001"
""",
    )
    text = "\n".join(found)
    assert "venue.relayer_api_key is a secret" in text and "POLYTAIL_RELAYER_API_KEY" in text
    assert "venue.builder_api_secret is a secret" in text
    assert "venue.builder_api_passphrase is a secret" in text
    assert text.count("POLYTAIL_BUILDER_API_SECRET") >= 2
    assert "planted" not in text


def test_per_mode_databases_never_share_a_file(tmp_path: Path) -> None:
    paper = load_config(write(tmp_path, f"data_dir = '{tmp_path}'"), {})
    live = load_config(
        write(
            tmp_path,
            f"mode = 'live'\ndata_dir = '{tmp_path}'\n"
            f"[wallet]\naddress = '{LEADER}'\ntype = 'proxy'",
        ),
        {},
    )
    assert paper.database_url() != live.database_url()
    assert live.database_url() == f"sqlite:///{tmp_path}/polytail-live.sqlite"
