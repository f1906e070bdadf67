"""Speed of the default scan against the floor: one full PyAV decode of the same file.

For each 1080p clip in $UNSWAP_DATA/videos/dfdc: the wall time of `unswap scan --json`
as a fresh process (start-up, model load, decode, detect, score) over the time PyAV
needs to decode every frame once in-process (no colour conversion); median of --runs.
Then the detector's throughput: faces cropped, preprocessed and scored per second.

    python scripts/bench_scan.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np

from unswap.detectors import create_detector
from unswap.faces.detect import detect_faces
from unswap.media import probe
from unswap.paths import shared_data_dir


def decode_all(path: Path) -> float:
    t = time.perf_counter()
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for _ in c.decode(s):
            pass
    return time.perf_counter() - t


def scan_process(path: Path) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "unswap.cli", "scan", "--json", str(path)], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def faces_per_second(n: int = 256) -> float:
    import cv2

    det = create_detector()
    img = np.ascontiguousarray(cv2.imread(str(Path(__file__).parents[1] / "unswap/samples/astronaut.jpg"))[:, :, ::-1])
    lm = np.repeat(detect_faces(img).landmarks[:1], 32, axis=0)
    det.score(det.crop_faces(img, lm))  # warm-up
    t = time.perf_counter()
    for _ in range(n // 32):
        det.score(det.crop_faces(img, lm))
    return n / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    clips = sorted((shared_data_dir() / "videos" / "dfdc").glob("*.mp4"))
    if not clips:
        sys.exit(f"no clips under {shared_data_dir() / 'videos' / 'dfdc'} (set UNSWAP_DATA)")
    print(f"cores: {os.cpu_count()}")
    print(f"{'clip':<16} {'size':>10} {'frames':>6} {'decode s':>9} {'scan s':>8} {'ratio':>6}")
    ratios = []
    for clip in clips:
        info = probe(clip)
        if min(info.width, info.height) != 1080:
            continue
        dec = statistics.median(decode_all(clip) for _ in range(args.runs))
        scan = statistics.median(scan_process(clip) for _ in range(args.runs))
        ratios.append(scan / dec)
        print(f"{clip.name:<16} {info.width}x{info.height:<5} {info.frame_count:>6} {dec:>9.2f} {scan:>8.2f} {scan / dec:>6.2f}")
    print(f"ratio scan/decode: median {statistics.median(ratios):.2f}, worst {max(ratios):.2f}")
    print(f"detector throughput: {faces_per_second():.0f} faces/s (crop + preprocess + score, batch 32)")


if __name__ == "__main__":
    main()
