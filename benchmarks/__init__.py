"""GovTrust benchmarks: ``python -m benchmarks [NAME ...]`` (``make bench``).

Every benchmark is a subpackage ``benchmarks/<name>/`` exposing

* ``run(args: argparse.Namespace) -> dict`` — measure, return a JSON-able dict;
* ``render(result: dict) -> str`` (optional) — the human-readable table.

The runner (:mod:`benchmarks.__main__`) prints each table, then one line
``BENCH_JSON {...}`` per benchmark, and writes the same JSON to
``benchmarks/results/<name>.json``. Each benchmark measures a peer in the same
run so that its figures are ratios (STYLE.md, point 10). See README.md.
"""
