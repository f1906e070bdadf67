"""How much of the cross-domain sets a face-texture cue separates, and what it would cost
in false accusations: a look at why the inswapper swaps are hard, not a detector.

For each face a scan would judge, a wide crop (the scan's centre, 5.2 face scales a side,
resampled to 60 px per face scale) gives two numbers from the noise residual (grey minus
its 3x3 median):
- ``inner``: minus the log residual inside the face (eyes to mouth). High = a smooth face.
- ``ratio``: log residual of a ring around the face (hair, ears, background) minus
  ``inner``'s log residual. High = a face smoother than what surrounds it.
Files are scored as a scan scores them (most suspect track). It prints each cue's AUC on
the xdomain dev sets and the shared clips, the FairFace hold-out's reals above the
inswapper fakes' median, each inswapper swap against the photo it was made on, and the
default detector's logit with ``w * max(ratio - c, 0)`` added. Reads no `test` data.

    python scripts/texture_cue.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from unswap.detectors.registry import DEFAULT_DETECTOR, create_detector
from unswap.faces.align import face_scale
from unswap.media import MediaError
from unswap.mediasets import fairface_holdout, read_labels
from unswap.metrics import roc_auc
from unswap.paths import shared_data_dir
from unswap.train.monitor import SETS, file_scores
from unswap.train.sources import file_crops

WIDE = 5.2  # crop side in face scales
PX = 60  # crop pixels per face scale


def residual(rgb: np.ndarray) -> np.ndarray:
    g = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return np.abs(g.astype(np.float32) - cv2.medianBlur(g, 3).astype(np.float32))


def cues(wide: np.ndarray, lm: np.ndarray) -> tuple[float, float]:
    """(inner, ratio) of one wide crop with its landmarks in crop pixels."""
    r = residual(wide)
    s = face_scale(lm)
    cx, cy = ((lm[0] + lm[1]) / 2 + (lm[3] + lm[4]) / 2) / 2
    yy, xx = np.mgrid[: r.shape[0], : r.shape[1]]
    d = np.sqrt(((xx - cx) / (0.75 * s)) ** 2 + ((yy - cy) / (0.95 * s)) ** 2)
    inner = np.log(r[d < 1].mean() + 0.05)
    ring = np.log(r[(d > 2.0) & (d < 3.2)].mean() + 0.05)
    return float(-inner), float(ring - inner)


def file_faces(path: Path, size: int) -> tuple[list, np.ndarray]:
    """(scan crops as file_crops gives them, (N, 2) cues of the same faces)."""
    try:
        faces = file_crops(path, size)
        wide = file_crops(path, round(WIDE * PX), side_per_scale=WIDE)
    except MediaError:
        return [], np.zeros((0, 2))
    if len(wide) != len(faces):
        raise RuntimeError(f"{path}: {len(faces)} faces at the scan's crop, {len(wide)} wide")
    return faces, np.array([cues(c, lm) for _, c, lm in wide]).reshape(-1, 2)


def auc_or_none(y: np.ndarray, s: np.ndarray) -> float | None:
    ok = ~np.isnan(s)
    return round(roc_auc(y[ok], s[ok]), 3) if len(set(y[ok].tolist())) == 2 else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default=DEFAULT_DETECTOR)
    args = ap.parse_args()
    data = shared_data_dir()
    det = create_detector(args.detector)
    size = det.config.input_size
    sets = {}
    for name, rel in SETS.items():
        if not (data / rel).is_file():
            print(f"skipped {name}: {data / rel} not found")
            continue
        files = read_labels(data / rel)
        if name == "fairface_holdout":
            files = fairface_holdout(files)[1]
        y, logits, cue, fi, ti = [], [], [], [], []
        for n, f in enumerate(files):
            faces, c = file_faces(f.path, size)
            y.append(f.y)
            if faces:
                logits.append(det.raw(np.stack([x for _, x, _ in faces]))[0])
                cue.append(c)
                fi += [n] * len(faces)
                ti += [t for t, _, _ in faces]
        sets[name] = (np.array(y), np.concatenate(logits), np.concatenate(cue), np.array(fi), np.array(ti))

    for name, (y, z, c, fi, ti) in sets.items():
        row = {"set": name, "files": len(y)}
        for j, cue_name in enumerate(("inner", "ratio")):
            s = file_scores(c[:, j], len(y), fi, ti)
            row[f"{cue_name}_auc"] = auc_or_none(y, s)
            row[f"{cue_name}_real_median"] = round(float(np.nanmedian(s[y == 0])), 3)
            if (y == 1).any():
                row[f"{cue_name}_fake_median"] = round(float(np.nanmedian(s[y == 1])), 3)
        row["detector_auc"] = auc_or_none(y, file_scores(z, len(y), fi, ti))
        print(json.dumps(row))

    if "inswapper" in sets and "fairface_holdout" in sets:
        y, _, c, fi, ti = sets["inswapper"]
        fake_median = np.nanmedian(file_scores(c[:, 0], len(y), fi, ti)[y == 1])
        yf, _, cf, ff, tf = sets["fairface_holdout"]
        ff_inner = file_scores(cf[:, 0], len(yf), ff, tf)
        print(json.dumps({"fairface_holdout_reals_smoother_than_median_inswapper_swap":
                          round(float(np.nanmean(ff_inner[~np.isnan(ff_inner)] >= fake_median)), 3)}))
        pairs(data / SETS["inswapper"])

    for c0 in (0.0, 0.2, 0.4):
        for w in (1.0, 2.0, 3.0):
            row = {"c": c0, "w": w}
            for name, (y, z, c, fi, ti) in sets.items():
                s = file_scores(z + w * np.maximum(c[:, 1] - c0, 0), len(y), fi, ti)
                if (a := auc_or_none(y, s)) is not None:
                    row[name] = a
            print(json.dumps(row))


def pairs(labels: Path) -> None:
    """Each inswapper swap against the real photo it was made on: the residual of the
    face's middle and of the photo's 24 px border, swap over source."""
    centre, border = [], []
    for f in read_labels(labels):
        src = f.extra.get("source")
        if f.y != 1 or not src:
            continue
        a = residual(cv2.imread(str(f.path))[:, :, ::-1])
        b = residual(cv2.imread(str(labels.parent / src))[:, :, ::-1])
        if a.shape != b.shape:
            continue
        h, w = a.shape
        mid = (slice(int(h * 0.31), int(h * 0.78)), slice(int(w * 0.31), int(w * 0.69)))
        edge = np.zeros(a.shape, bool)
        edge[:24], edge[-24:], edge[:, :24], edge[:, -24:] = True, True, True, True
        centre.append(a[mid].mean() / b[mid].mean())
        border.append(a[edge].mean() / b[edge].mean())
    if centre:
        print(json.dumps({"inswapper_pairs": len(centre),
                          "centre_residual_swap_over_source_p10_50_90": np.round(np.percentile(centre, [10, 50, 90]), 3).tolist(),
                          "border_residual_swap_over_source_p10_50_90": np.round(np.percentile(border, [10, 50, 90]), 3).tolist()}))


if __name__ == "__main__":
    main()
