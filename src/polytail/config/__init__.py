"""Configuration: the schema every layer reads, and loading it from TOML and the environment.

`schema` is pure data and may be imported by any layer above the domain. `load` (files,
environment) and `secrets` (environment, keystore) do I/O and are used only by the
service layer and the CLI; import-linter keeps the pure layers away from them.
"""
