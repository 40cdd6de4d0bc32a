"""``python -m benchmarks.tlog [--quick] [--leaves N] [--pg URL] [--backends sqlite,postgres]``.

The same benchmark as ``python -m benchmarks tlog``, with its own options; prints
the table and a ``BENCH_JSON`` line, and writes ``benchmarks/results/tlog.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..__main__ import RESULTS_DIR, emit
from . import render, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tlog", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10^4 leaves (smoke use)")
    parser.add_argument("--leaves", dest="tlog_leaves", type=int, help="log size to build")
    parser.add_argument("--pg", help="PostgreSQL URL (a scratch schema is created and dropped)")
    parser.add_argument(
        "--backends",
        default="sqlite,postgres",
        help="comma-separated: sqlite, postgres (default: both)",
    )
    parser.add_argument("--seconds", type=float, help="seconds per side for single appends")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    args.tlog_backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    result = run(args)
    print(render(result), flush=True)
    emit("tlog", result, args.results_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
