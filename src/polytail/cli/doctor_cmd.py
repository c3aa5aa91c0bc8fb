"""`polytail doctor` (placeholder while it is written)."""

from __future__ import annotations


def doctor() -> None:
    """Check the wallet setup before the first live order."""
