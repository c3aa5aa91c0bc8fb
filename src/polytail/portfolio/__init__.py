"""The ledger: positions with per-leader attribution, cash, fees, PnL, resolution, redemption."""
