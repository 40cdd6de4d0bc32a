"""The hub's registry console (administrators)."""
