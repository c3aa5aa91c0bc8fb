"""Leader-fill detection: stream, poll, chain and replay feeds, merged exactly once."""
