"""Turning decisions into orders: the order manager and the brokers (live and paper)."""
