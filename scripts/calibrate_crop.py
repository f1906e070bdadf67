"""Measure the crop geometry constants of unswap.faces.align on the shared train crops.

Prints the SIDE_PER_SCALE and CENTER_BELOW that make ``crop_box(landmarks)`` reproduce
the 224x224 training crops, and how well it does (IoU with the full crop).

    python scripts/calibrate_crop.py --n 1500
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from unswap.faces.align import CENTER_BELOW, SIDE_PER_SCALE, crop_box, face_scale
from unswap.faces.track import box_iou
from unswap.facesets import iter_split
from unswap.paths import shared_data_dir
from unswap.train.landmarks import crop_landmarks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--split", default="train")
    args = ap.parse_args()
    sides, below, found = [], [], []
    for sample in itertools.islice(iter_split(shared_data_dir() / "faces", args.split), args.n):
        img = sample.decode()
        lm = crop_landmarks(img)
        if lm is None:
            continue
        s = face_scale(lm)
        h, w = img.shape[:2]
        eyes, mouth = (lm[0] + lm[1]) / 2, (lm[3] + lm[4]) / 2
        sides.append(w / s)
        below.append((h / 2 - (eyes[1] + mouth[1]) / 2) / s)
        found.append(box_iou(crop_box(lm), [0, 0, w, h])[0, 0])
    print(f"faces found: {len(sides)} of {args.n}")
    print(f"SIDE_PER_SCALE median {np.median(sides):.3f} (IQR {np.percentile(sides, 25):.3f}-{np.percentile(sides, 75):.3f})")
    print(f"CENTER_BELOW   median {np.median(below):.3f}")
    print(f"with the shipped constants ({SIDE_PER_SCALE}, {CENTER_BELOW}): IoU with the training crop, median {np.median(found):.3f}, 10th pct {np.percentile(found, 10):.3f}")


if __name__ == "__main__":
    main()
