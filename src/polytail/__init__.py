"""polytail: a copy-trading engine for Polymarket (CLOB V2).

The package is layered (docs/ARCHITECTURE.md); import-linter enforces the rule that a
layer imports only the layers below it.
"""

__version__ = "0.1.0"
