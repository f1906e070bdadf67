"""Score one split with several shipped detectors side by side, clean and degraded.

Prints one row per (detector, degradation): AUC, AP, EER, accuracy at the detector's own
threshold, and the 15-bin expected calibration error. Every figure is on crops the
detectors never trained on (the split's crops as they are, no re-detection).

    python scripts/compare_detectors.py --split test effnetlite0_sbi.v1 effnetlite0_sbi.v2
"""

from __future__ import annotations

import argparse
from pathlib import Path

from unswap.detectors import create_detector, list_detectors
from unswap.evaluate import DEGRADATIONS, evaluate
from unswap.paths import shared_data_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("detectors", nargs="*", default=None, help="default: every registered detector")
    ap.add_argument("--faces", type=Path, default=None, help="face-crop set (default: $UNSWAP_DATA/faces)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--degrade", nargs="*", default=["none", "half+jpeg40"], choices=DEGRADATIONS)
    args = ap.parse_args()
    faces = args.faces or shared_data_dir() / "faces"
    names = args.detectors or list_detectors()
    print(f"{args.split} split of {faces}")
    print(f"{'detector':24} {'degradation':12} {'faces':>6} {'AUC':>7} {'AP':>7} {'EER':>7} {'acc':>7} {'ECE':>7}")
    for name in names:
        det = create_detector(name)
        for how in args.degrade:
            m = evaluate(det, faces, args.split, degrade=how)
            print(f"{name:24} {how:12} {m['count']:6d} {m['auc']:7.4f} {m['ap']:7.4f} {m['eer']:7.4f} "
                  f"{m['accuracy']:7.4f} {m['ece_15']:7.4f}", flush=True)


if __name__ == "__main__":
    main()
