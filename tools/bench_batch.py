"""Batch throughput: the shared DFDC clips and face tracks scanned three ways.

    python tools/bench_batch.py [--runs 2] [--videos DIR]

Each way is a fresh ``unswap scan DIR --out ...`` process, timed from start to exit
(start-up, worker start, model loads and, for Ray, starting a local Ray included):
``--jobs 1``, ``--jobs 2`` and ``--ray --jobs 2`` (a local Ray with two actors). First the
same files are scanned once in this process with a warm scanner, one after another: the
sum of those per-file times, S, is the scan work itself. For each way the script prints
wall time T, files/s, the speed-up over ``--jobs 1``, and the per-file overhead
(T - S / workers) / files: what each file costs beyond its share of the work, spread
over the workers. Last, the same files on a local 2-CPU Ray started beforehand in this
process (``ray.init(num_cpus=2)``), as on a cluster that is already up; its start-up
time is printed apart.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from unswap.batch import scan_many
from unswap.inputs import collect
from unswap.paths import shared_data_dir
from unswap.scan import ScanConfig, Scanner

WAYS = [("--jobs 1", ["--jobs", "1"], 1), ("--jobs 2", ["--jobs", "2"], 2), ("--ray (local, 2 actors)",
                                                                            ["--ray", "--jobs", "2"], 2)]


def timed_cli(videos: Path, extra: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "unswap.cli", "scan", str(videos), "--out", f"{tmp}/r.jsonl", "--quiet", *extra]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t


def work_seconds(files: list[str]) -> float:
    """Sum of per-file scan times in this process, the model already loaded."""
    scanner = Scanner(ScanConfig())
    scanner.scan(files[0])  # loads the model
    total = 0.0
    for path in files:
        t = time.perf_counter()
        scanner.scan(path)
        total += time.perf_counter() - t
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=Path, default=shared_data_dir() / "videos")
    ap.add_argument("--runs", type=int, default=1, help="runs of each way; the median is shown")
    args = ap.parse_args()
    files = collect([args.videos]).files
    n = len(files)
    work = work_seconds(files)
    print(f"{n} files under {args.videos}; scan work S = {work:.1f} s in one warm process ({n / work:.2f} files/s)")
    print()
    print("| way | wall s (runs) | files/s | speed-up | per-file overhead s |")
    print("|---|---|---|---|---|")
    base = None
    for name, extra, workers in WAYS:
        walls = [timed_cli(args.videos, extra) for _ in range(args.runs)]
        wall = statistics.median(walls)
        base = base or wall
        runs = ", ".join(f"{w:.1f}" for w in walls)
        print(f"| {name} | {wall:.1f} ({runs}) | {n / wall:.2f} | {base / wall:.2f}x | "
              f"{(wall - work / workers) / n:.2f} |", flush=True)
    started, walls = ray_already_running(files, args.runs)
    wall = statistics.median(walls)
    runs = ", ".join(f"{w:.1f}" for w in walls)
    print(f"| Ray already running (2 CPUs, 2 actors; in this process) | {wall:.1f} ({runs}) | {n / wall:.2f} | "
          f"{base / wall:.2f}x | {(wall - work / 2) / n:.2f} |")
    print()
    print(f"starting that local 2-CPU Ray (ray.init) took {started:.1f} s")


def ray_already_running(files: list[str], runs: int) -> tuple[float, list[float]]:
    """Seconds ray.init(num_cpus=2) took, and the wall time of each scan on it (actors
    started and models loaded included, Ray's own start-up not)."""
    import ray

    t = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    started = time.perf_counter() - t
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in scan_many(files, ScanConfig(), ray="", jobs=2):
            pass
        walls.append(time.perf_counter() - t)
    ray.shutdown()
    return started, walls


if __name__ == "__main__":
    main()
