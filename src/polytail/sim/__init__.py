"""A local Polymarket exchange for tests and the offline demo.

An independent implementation of the venue: it imports nothing of the bot (import-linter
enforces it), so tests of the bot against it can catch the bot's mistakes.
"""
