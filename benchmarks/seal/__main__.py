"""``python -m benchmarks.seal [--quick] [--repetitions N] [--seconds S] [--processes P]
[--threads T]``.

The same benchmark as ``python -m benchmarks seal``, with its own options; prints
the table and a ``BENCH_JSON`` line, and writes ``benchmarks/results/seal.json``.
Through ``python -m benchmarks`` use the environment:
``GOVTRUST_BENCH_SEAL_{PROCESSES,THREADS}``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..__main__ import RESULTS_DIR, emit
from . import render, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seal", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short repetition (smoke use)")
    parser.add_argument("--repetitions", type=int, help="interleaved repetitions (default 5)")
    parser.add_argument("--seconds", type=float, help="seconds per API load slice (default 5)")
    parser.add_argument("--processes", dest="seal_processes", type=int, help="load processes")
    parser.add_argument("--threads", dest="seal_threads", type=int, help="threads per process")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.repetitions is not None and args.repetitions < 1:
        parser.error("--repetitions must be at least 1")
    if args.seconds is not None and args.seconds <= 0:
        parser.error("--seconds must be positive")
    result = run(args)
    print(render(result), flush=True)
    emit("seal", result, args.results_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
