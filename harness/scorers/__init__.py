"""Scorers: small pure functions registered by name, one module per task kind."""
