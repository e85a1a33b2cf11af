"""Run every benchmark in its own process (clean memory numbers) and print the results."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ["benchmarks.bench_ask", "benchmarks.bench_dispatcher", "benchmarks.bench_broadcast",
              "benchmarks.bench_alert", "benchmarks.bench_stats", "benchmarks.bench_citizens",
              "benchmarks.bench_model", "benchmarks.bench_holdout", "benchmarks.bench_urgency",
              "benchmarks.bench_cases", "benchmarks.bench_delivery", "benchmarks.bench_scaleout"]

if __name__ == "__main__":
    selected = sys.argv[1:] or BENCHMARKS
    failed = 0
    for module in selected:
        print(f"== {module}", flush=True)
        failed |= subprocess.call([sys.executable, "-m", module])
    sys.exit(failed)
