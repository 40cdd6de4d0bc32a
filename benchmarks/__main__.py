"""``python -m benchmarks [NAME ...]``: run benchmarks, print tables and BENCH_JSON lines.

Exit status: 0 when every selected benchmark ran (a missed target is a
finding, not a failure), 1 when one raised, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import traceback
from pathlib import Path
from typing import Any

import benchmarks

from ._harness import CLOCKS

RESULTS_DIR = Path(__file__).resolve().parent / "results"
JSON_PREFIX = "BENCH_JSON "


def discover() -> list[str]:
    """Benchmark names: the public subpackages of :mod:`benchmarks`."""
    return sorted(
        m.name
        for m in pkgutil.iter_modules(benchmarks.__path__)
        if m.ispkg and not m.name.startswith("_")
    )


def build_parser(available: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run GovTrust benchmarks; each prints a table and a BENCH_JSON line.",
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {available})"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--quick", action="store_true", help="fewer, shorter repetitions (smoke use, not figures)"
    )
    parser.add_argument(
        "--repetitions", type=int, metavar="N", help="interleaved repetitions per figure"
    )
    parser.add_argument(
        "--seconds", type=float, metavar="S", help="duration of one timed measurement"
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: process CPU time, and openssl speed's own divisor (user CPU time), so "
        "that time lost to other tenants counts on neither side; wall: perf_counter and "
        "`openssl speed -elapsed` (default: cpu)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        metavar="DIR",
        help="where <name>.json is written (default: benchmarks/results)",
    )
    return parser


def emit(name: str, result: dict[str, Any], results_dir: Path) -> None:
    record = {"benchmark": name, **result}
    line = json.dumps(record, separators=(",", ":"), allow_nan=False)
    print(JSON_PREFIX + line, flush=True)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.json").write_text(line + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    available = discover()
    parser = build_parser(available)
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(available))
        return 0
    unknown = [n for n in args.names if n not in available]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {available}")
    if args.repetitions is not None and args.repetitions < 1:
        parser.error("--repetitions must be at least 1")
    if args.seconds is not None and args.seconds <= 0:
        parser.error("--seconds must be positive")

    failed = []
    for name in args.names or available:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            result = module.run(args)
            render = getattr(module, "render", None)
            print(render(result) if render else json.dumps(result, indent=2), flush=True)
            emit(name, result, args.results_dir)
        except Exception:
            traceback.print_exc()
            print(f"benchmark {name!r} failed", file=sys.stderr)
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
