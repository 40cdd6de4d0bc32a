"""Transparency log: batched and single appends/s against a plain INSERT of the same
rows, and inclusion/consistency proof latency at 10^6 leaves, on SQLite and PostgreSQL."""

from .bench import render, run

__all__ = ["render", "run"]
