"""The service layer: the operations the CLI, the web dashboard and Telegram share.

Also process-wide setup (logging). Nothing here talks to the venue directly; it drives the
engine and reads the store.
"""
