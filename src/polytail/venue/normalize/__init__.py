"""Normalizers: every venue shape → domain types, one module per source shape.

Batch functions return `Normalized(fills, rejects, ignored)`: fills, `MalformedRow`
errors that name the field and keep the raw row, and a count of non-trade rows by kind.
"""
