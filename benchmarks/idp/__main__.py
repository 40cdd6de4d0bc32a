"""``python -m benchmarks.idp [--quick] [--no-node] [--backends sqlite,postgres] [--pg URL] ...``.

The same benchmark as ``python -m benchmarks idp``, with its own options; prints
the table and a ``BENCH_JSON`` line, and writes ``benchmarks/results/idp.json``.
Through ``python -m benchmarks`` use the environment: ``GOVTRUST_BENCH_PG``,
``GOVTRUST_BENCH_IDP_NODE=0``, ``GOVTRUST_BENCH_IDP_{ACCOUNTS,PROCESSES,THREADS}``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..__main__ import RESULTS_DIR, emit
from . import render, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.idp", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short repetition (smoke use)")
    parser.add_argument("--repetitions", type=int, help="interleaved repetitions (default 5)")
    parser.add_argument("--seconds", type=float, help="seconds per timed slice, both scenarios")
    parser.add_argument(
        "--no-node", dest="idp_node", action="store_false", help="measure our side only"
    )
    parser.add_argument(
        "--backends",
        default=None,
        help="comma-separated: sqlite, postgres (default: sqlite, and postgres with a URL)",
    )
    parser.add_argument("--pg", help="PostgreSQL URL (a scratch schema is created and dropped)")
    parser.add_argument("--accounts", dest="idp_accounts", type=int, help="citizen accounts")
    parser.add_argument("--processes", dest="idp_processes", type=int, help="load processes")
    parser.add_argument("--threads", dest="idp_threads", type=int, help="threads per process")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.backends:
        args.idp_backends = [b.strip() for b in args.backends.split(",") if b.strip()]
        unknown = set(args.idp_backends) - {"sqlite", "postgres"}
        if unknown:
            parser.error(f"unknown backends {sorted(unknown)}")
    result = run(args)
    print(render(result), flush=True)
    emit("idp", result, args.results_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
