"""OpenID Provider throughput: the GovTrust hub (gunicorn, 2 workers) against
node-oidc-provider (2 cluster workers) — client_credentials JWT access tokens and
full browserless logins, requests/s, p99 latency and server CPU per operation."""

from .bench import render, run

__all__ = ["render", "run"]
