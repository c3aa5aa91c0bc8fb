"""The `polytail` command line (Typer). Command bodies import their work lazily, so
`polytail --help` starts fast."""
