"""Measurement helpers shared by the benchmarks.

The benchmark host is a noisy, shared 2-core machine, so a single timing means
little. What the helpers give instead:

* time-based loops (:func:`time_loop`): run for a fixed duration, whatever the
  speed of the operation, reading the clock only ~100 times per loop;
* fine-grained interleaving (:func:`interleaved`): the two sides of a
  comparison alternate in short slices, so that both see the same load;
* a choice of clock: ``wall`` (``perf_counter``, pairs with ``openssl speed
  -elapsed``) or ``cpu`` (process CPU time, pairs with plain ``openssl speed``,
  which divides by user CPU time);
* the CPU share of every loop (CPU time / wall time), so that preemption by
  other tenants shows up in the results instead of hiding in them;
* medians and paired ratios (:func:`paired_ratios`): a ratio is taken between
  two measurements made next to each other in time, then the median is taken.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any, Final

CLOCKS: Final[dict[str, Callable[[], float]]] = {
    "wall": time.perf_counter,
    "cpu": time.process_time,
}

# Clock reads per measurement: few enough to cost nothing, enough to stop on time.
_CLOCK_READS: Final = 100


@dataclass(frozen=True, slots=True)
class Sample:
    """Timed calls: one loop, or several slices of loops added up."""

    calls: int
    seconds: float  # elapsed, by the chosen clock
    wall: float  # elapsed wall time
    cpu: float  # process CPU time used meanwhile

    @property
    def rate(self) -> float:
        """Calls per second of the chosen clock."""
        return self.calls / self.seconds if self.seconds > 0 else float("inf")

    @property
    def cpu_share(self) -> float:
        """CPU time / wall time: below 1 means another tenant had the CPU for a while."""
        return self.cpu / self.wall if self.wall > 0 else 1.0

    def __add__(self, other: Sample) -> Sample:
        return Sample(
            self.calls + other.calls,
            self.seconds + other.seconds,
            self.wall + other.wall,
            self.cpu + other.cpu,
        )


def time_loop(fn: Callable[[], object], seconds: float, *, clock: str = "cpu") -> Sample:
    """Call ``fn()`` repeatedly for ``seconds`` of ``clock``.

    Calls run in batches between clock reads; the batch grows until one batch
    lasts about 1/100 of ``seconds``. The garbage collector is paused, as in
    :mod:`timeit`, so that a collection does not land on one side of a pair.
    """
    now = CLOCKS[clock]
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        batch, calls = 1, 0
        wall0, cpu0 = time.perf_counter(), time.process_time()
        t0 = now()
        deadline = t0 + seconds
        while True:
            for _ in repeat(None, batch):
                fn()
            calls += batch
            t = now()
            if t >= deadline:
                break
            per_call = (t - t0) / calls
            target = int(seconds / _CLOCK_READS / per_call) if per_call > 0 else batch * 4
            batch = max(1, min(batch * 4, target))
        wall1, cpu1 = time.perf_counter(), time.process_time()
    finally:
        if gc_was_enabled:
            gc.enable()
    return Sample(calls, t - t0, wall1 - wall0, cpu1 - cpu0)


def interleaved(
    fns: Sequence[Callable[[], object]],
    seconds: float,
    *,
    slice_seconds: float,
    clock: str = "cpu",
) -> list[Sample]:
    """Time several calls side by side: A, B, A, B … in slices of ``slice_seconds``
    until each has run ``seconds``.

    On a shared machine the load changes within a second; short alternating
    slices make both sides of a comparison see the same load.
    """
    totals = [Sample(0, 0.0, 0.0, 0.0) for _ in fns]
    while min(t.seconds for t in totals) < seconds:
        for i, fn in enumerate(fns):
            remaining = seconds - totals[i].seconds
            if remaining > 0:
                totals[i] += time_loop(fn, min(slice_seconds, remaining), clock=clock)
    return totals


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Ratios of measurements taken side by side (same repetition)."""
    return [n / d for n, d in zip(numerators, denominators, strict=False) if d > 0]


def rel_spread(values: Sequence[float]) -> float | None:
    """Half the min–max range, relative to the median."""
    if len(values) < 2:
        return None
    m = statistics.median(values)
    return (max(values) - min(values)) / 2 / m if m else None


# --------------------------------------------------------------------------- host


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def host_info() -> dict[str, Any]:
    """Where and when the benchmark ran (for comparing runs, not for ratios)."""
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "loadavg_start": loadavg(),
    }


def progress(message: str) -> None:
    """Progress goes to stderr: stdout carries only the tables and BENCH_JSON lines."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- tables


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> str:
    """A plain-text table; the first ``left`` columns are left-aligned, the rest right."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        out = [
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def fmt_rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
