"""Contract checks: every mocked outgoing request is validated against the real API description."""
