"""Routers: what shifts traffic between a stable and a canary (or any set of backends)."""
