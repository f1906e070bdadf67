"""Where the detector fails: metrics per stratum of a labelled face split.

Strata come from what the data carries or what can be measured on each crop, not from
guesses: the source face width (the manifest's ``source_face_width``; small faces are
upscaled to 224 and soft), the brightness of the inner face (mean luma; low light, and
also darker skin, which this data has no labels for, so the two are not separated), the
sharpness of the inner face (variance of the Laplacian), head turn (YuNet landmarks on
the crop: nose offset from the eye midpoint over the eye distance) and the JPEG's size
in bytes (a compression proxy). For each stratum: counts, AUC, the share of real faces
called fake and of fakes missed at the shipped threshold. Report-only: nothing is fitted.

    python scripts/failure_strata.py --split test
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from unswap.detectors import DEFAULT_DETECTOR, create_detector
from unswap.facesets import iter_split, read_manifest
from unswap.metrics import roc_auc
from unswap.paths import shared_data_dir
from unswap.train.landmarks import crop_landmarks


def inner(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]


def head_turn(rgb: np.ndarray) -> float:
    """|nose x - eye midpoint x| / eye distance; NaN when no landmarks are found."""
    lm = crop_landmarks(rgb)
    if lm is None:
        return float("nan")
    eye_mid = (lm[0] + lm[1]) / 2
    return float(abs(lm[2, 0] - eye_mid[0]) / max(1.0, np.linalg.norm(lm[1] - lm[0])))


def measure(split_dir: Path, split: str, detector_name: str) -> tuple[dict[str, np.ndarray], float]:
    """Per-crop columns (label, p, width, luma, sharp, turn, bytes) and the detector's threshold."""
    det = create_detector(detector_name)
    width = {r["key"]: float(r.get("source_face_width") or "nan") for r in read_manifest(split_dir, split)}
    cols: dict[str, list] = {k: [] for k in ("label", "p", "width", "luma", "sharp", "turn", "bytes")}
    batch, rgbs = [], []
    for s in iter_split(split_dir, split):
        rgb = s.decode()
        gray = cv2.cvtColor(inner(rgb), cv2.COLOR_RGB2GRAY)
        cols["label"].append(s.label == "fake")
        cols["width"].append(width.get(s.key, float("nan")))
        cols["luma"].append(float(gray.mean()))
        cols["sharp"].append(float(cv2.Laplacian(gray, cv2.CV_64F).var()))
        cols["turn"].append(head_turn(rgb))
        cols["bytes"].append(len(s.jpeg))
        rgbs.append(rgb)
        if len(rgbs) == 64:
            batch.append(det.score(det.resize_faces(rgbs)))
            rgbs = []
    if rgbs:
        batch.append(det.score(det.resize_faces(rgbs)))
    out = {k: np.array(v, dtype=float) for k, v in cols.items()}
    out["p"] = np.concatenate(batch)
    return out, det.config.threshold


def row(name: str, m: np.ndarray, y: np.ndarray, p: np.ndarray, thr: float) -> str:
    y, p = y[m], p[m]
    real, fake = (y == 0), (y == 1)
    auc = f"{roc_auc(y, p):.3f}" if real.any() and fake.any() else "-"
    fpr = f"{(p[real] >= thr).mean():.2f}" if real.any() else "-"
    fnr = f"{(p[fake] < thr).mean():.2f}" if fake.any() else "-"
    return f"| {name} | {real.sum()} | {fake.sum()} | {auc} | {fpr} | {fnr} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default=DEFAULT_DETECTOR)
    ap.add_argument("--faces", type=Path, default=None)
    ap.add_argument("--split", default="val")
    args = ap.parse_args()
    d, thr = measure(args.faces or shared_data_dir() / "faces", args.split, args.detector)
    y, p = d["label"], d["p"]

    def tertiles(x: np.ndarray) -> list[float]:
        return list(np.nanquantile(x, [1 / 3, 2 / 3]))

    strata: list[tuple[str, np.ndarray]] = [("all", np.ones_like(y, bool))]
    w = d["width"]
    strata += [("source face < 100 px", w < 100), ("source face 100-199 px", (w >= 100) & (w < 200)),
               ("source face >= 200 px", w >= 200)]
    for key, label in (("luma", "inner-face brightness"), ("sharp", "inner-face sharpness"), ("bytes", "JPEG bytes")):
        lo, hi = tertiles(d[key])
        x = d[key]
        strata += [(f"{label}: low third (< {lo:.0f})", x < lo), (f"{label}: middle third", (x >= lo) & (x < hi)),
                   (f"{label}: high third (>= {hi:.0f})", x >= hi)]
    t = d["turn"]
    strata += [("frontal (turn < 0.15)", t < 0.15), ("turned (turn 0.15-0.35)", (t >= 0.15) & (t < 0.35)),
               ("strongly turned (turn >= 0.35)", t >= 0.35), ("no landmarks found", np.isnan(t))]
    print(f"{args.detector} on {args.split}, threshold {thr:.4f}\n")
    print("| stratum | real | fake | AUC | real called fake | fakes missed |")
    print("|---|---|---|---|---|---|")
    for name, m in strata:
        print(row(name, m, y, p, thr))


if __name__ == "__main__":
    main()
