"""Speed of the default scan against the floor: one full PyAV decode of the same file.

For each 1080p clip in $UNSWAP_DATA/videos/dfdc: the wall time of `unswap scan --json`
as a fresh process (start-up, model load, decode, detect, score) over the time PyAV
needs to decode every frame once in-process (no colour conversion); median of --runs.
Then the detector's throughput: faces cropped, preprocessed and scored per second.
``--compare A B ...`` times only the throughput of the named detectors, in turns (one
batch of 256 faces each per round), so that a busy or slow host slows them alike.

    python tools/bench_scan.py --runs 3
    python tools/bench_scan.py --compare effnetlite0_mixed.v4 effnetlite0_mixed.v5 --rounds 3
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


def face_batch() -> tuple[np.ndarray, np.ndarray]:
    """The bundled sample and its face's landmarks, 32 times (one scoring batch)."""
    import cv2

    img = np.ascontiguousarray(cv2.imread(str(Path(__file__).parents[1] / "unswap/samples/astronaut.jpg"))[:, :, ::-1])
    return img, np.repeat(detect_faces(img).landmarks[:1], 32, axis=0)


def warmed_up(name: str | None, img: np.ndarray, lm: np.ndarray):
    """A detector (the default when ``name`` is None) that has scored one batch already."""
    det = create_detector(name) if name else create_detector()
    det.score(det.crop_faces(img, lm))
    return det


def faces_per_second(det, img: np.ndarray, lm: np.ndarray, n: int = 256) -> float:
    t = time.perf_counter()
    for _ in range(n // 32):
        det.score(det.crop_faces(img, lm))
    return n / (time.perf_counter() - t)


def compare(names: list[str], rounds: int) -> None:
    img, lm = face_batch()
    dets = {n: warmed_up(n, img, lm) for n in names}
    rates = {n: [] for n in names}
    for r in range(rounds):
        for n, d in dets.items():
            rates[n].append(faces_per_second(d, img, lm))
        print(f"round {r}: " + ", ".join(f"{n} {rates[n][-1]:.0f}" for n in names) + " faces/s", flush=True)
    for n in names:
        print(f"{n}: median {statistics.median(rates[n]):.0f} faces/s, range {min(rates[n]):.0f}-{max(rates[n]):.0f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--compare", nargs="+", metavar="DETECTOR", help="only time these detectors' throughput, in turns")
    ap.add_argument("--rounds", type=int, default=3, help="with --compare: rounds of 256 faces each")
    args = ap.parse_args()
    if args.compare:
        compare(args.compare, args.rounds)
        return
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
    img, lm = face_batch()
    rate = faces_per_second(warmed_up(None, img, lm), img, lm)
    print(f"detector throughput: {rate:.0f} faces/s (crop + preprocess + score, batch 32)")


if __name__ == "__main__":
    main()
