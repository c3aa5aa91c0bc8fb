"""The commented starter configuration written by `polytail init`."""

from __future__ import annotations

from typing import Final

STARTER_TOML: Final = """\
# polytail configuration. Every key is optional; the values shown are the defaults
# unless marked "example". Reference: docs/CONFIGURATION.md (`polytail config docs`).
# Check a file with `polytail config check FILE`.
#
# Secrets never go in this file (polytail refuses it). Set them in the environment:
#   POLYTAIL_PRIVATE_KEY            signing key (or wallet.keystore + POLYTAIL_KEYSTORE_PASSPHRASE)
#   POLYTAIL_CLOB_API_KEY / _SECRET / _PASSPHRASE   CLOB API credentials (derived if absent)
#   POLYTAIL_TELEGRAM_TOKEN         Telegram bot token
#   POLYTAIL_DASHBOARD_TOKEN        token for /metrics and the dashboard
# Any key can be overridden from the environment: POLYTAIL_RISK__MAX_ORDER_USDC=25.

mode = "paper"              # paper (default) or live; live also needs `polytail run --live`
account = "default"
data_dir = "~/.local/share/polytail"

# The wallets to copy: each leader's proxy wallet (its Polymarket profile address).
[[leaders]]
address = "0x6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee"   # example: kch123 (sports)
name = "kch123"
# budget_usdc = 200         # this leader's budget (default: risk.max_leader_usdc)
# [leaders.filters]         # per-leader overrides of [filters] keys
# price_max = 0.9
# [leaders.sizing]          # per-leader overrides of [sizing] keys
# mode = "ratio"
# ratio = 0.05

[wallet]                    # needed for live trading only
# address = "0x..."         # your funder wallet: proxy, Safe, deposit wallet or EOA
# type = "proxy"            # eoa | proxy | safe | deposit
# keystore = "~/.polytail/key.json"

[feeds.stream]
enabled = true              # RTDS activity stream: fastest, best-effort
[feeds.poll]
enabled = true              # Data API activity polling: the safety net
budget_share = 0.5
[feeds.chain]
enabled = false             # OrderFilled logs from a Polygon RPC (set venue.rpc_url)
confirmations = 3

[filters]
min_leader_usdc = 1
price_min = 0.02
price_max = 0.98
max_spread = 0.05
min_minutes_left = 5
max_fill_age_s = 120
sides = "both"              # both | buys | sells
# slug_keywords_deny = ["updown-5m"]

[sizing]
mode = "fixed"              # fixed | ratio | bankroll | equity_pct | tiered
fixed_usdc = 10
ratio = 0.1
fee_aware = true
below_minimum = "skip"      # skip | accumulate
# accumulate_window_s = 900  # accumulated amounts expire this long after the first
# [[sizing.tiers]]
# min_leader_usdc = 0
# multiplier = 0.05

[pricing]
slippage_bps = 200          # worst acceptable price: 2 % worse than the leader's
buy_order_type = "FOK"      # FOK | FAK | GTC
sell_order_type = "FAK"
gtc_ttl_s = 60

[exits]
mirror_sells = true
# take_profit_pct = 50
# stop_loss_pct = 30
# trailing_stop_pct = 20
# exit_before_resolution_minutes = 30

[risk]
max_order_usdc = 50
max_market_usdc = 200
max_outcome_usdc = 150
max_leader_usdc = 500
max_total_usdc = 1000
cash_reserve_usdc = 0
max_open_orders = 20
daily_loss_usdc = 100
leader_daily_loss_usdc = 50
max_drawdown_pct = 25
leader_max_drawdown_pct = 35
kill_switch_file = "KILL"   # touch DATA_DIR/KILL to stop all new orders

[paper]
starting_cash_usdc = 1000
latency_ms = 250

[execution]
on_shutdown = "cancel"      # cancel | leave resting orders
redeem = true

[web]
enabled = true
host = "127.0.0.1"
port = 8750

[notify]
notify_skips = false
digest_utc = "20:00"
# templates_dir = "~/.config/polytail/templates"   # overrides copy.j2, skip.j2, ...
[notify.telegram]
enabled = false
# chat_id = "123456789"
commands = true             # /status, /pause, /kill, ... from chat_id only
# [[notify.webhooks]]
# url = "https://example.org/hooks/polytail"
# events = ["copy", "error", "breaker", "resolution", "digest"]

[logging]
level = "INFO"
format = "console"          # console | json
"""
