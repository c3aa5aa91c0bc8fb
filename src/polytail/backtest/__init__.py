"""Backtests ("what if I had copied this wallet?") through the live engine with replay edges."""
