"""Cross-domain figures during training: the xdomain dev sets, the FairFace hold-out and
the shared DFDC clips, scored file by file as a scan scores them, from face crops cut
once (``unswap.train.sources.file_crops``) and cached.

A file's score is that of its most suspect track (median over the track's faces) among
tracks seen in at least two sampled frames: ``unswap.aggregate.file_scores``, the scan's rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unswap.aggregate import file_scores
from unswap.media import MediaError
from unswap.mediasets import DEV_SETS, dev_files
from unswap.metrics import roc_auc
from unswap.train.sources import file_crops

def build(data_dir: Path, cache: Path, size: int) -> dict:
    """{set: (labels (F,), crops (N, S, S, 3) uint8, file index (N,), track id (N,))}."""
    if cache.is_file():
        z = np.load(cache)
        return {k: (z[f"{k}_y"], z[f"{k}_x"], z[f"{k}_f"], z[f"{k}_t"]) for k in DEV_SETS if f"{k}_y" in z}
    out, flat = {}, {}
    for name, rel in DEV_SETS.items():
        labels = Path(data_dir) / rel
        if not labels.is_file():
            continue
        files = dev_files(labels)
        ys, xs, fi, ti = [], [], [], []
        for n, f in enumerate(files):
            ys.append(f.y)
            try:
                crops = file_crops(f.path, size)
            except MediaError:
                crops = []
            for tid, c, _ in crops:
                xs.append(c)
                fi.append(n)
                ti.append(tid)
        out[name] = (np.array(ys), np.stack(xs), np.array(fi), np.array(ti))
        flat.update({f"{name}_y": out[name][0], f"{name}_x": out[name][1], f"{name}_f": out[name][2],
                     f"{name}_t": out[name][3]})
        print(f"monitor: {name}: {len(files)} files, {len(xs)} faces", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **flat)
    return out


def report(score_faces, sets: dict, real_cut: float) -> dict:
    """AUC per set with two classes, and for every set the share of real files scoring at
    or above ``real_cut`` (a cut taken from val's real faces)."""
    return report_scores({name: score_faces(x) for name, (_, x, _, _) in sets.items()}, sets, real_cut)


def report_scores(face_scores: dict[str, np.ndarray], sets: dict, real_cut: float) -> dict:
    """``report`` from per-face scores already computed, one array per set."""
    res = {}
    for name, (y, _, fi, ti) in sets.items():
        s = file_scores(face_scores[name], len(y), fi, ti)
        ok = ~np.isnan(s)
        r = {"files": len(y), "no_face": int((~ok).sum())}
        if len(set(y[ok].tolist())) == 2:
            r["auc"] = roc_auc(y[ok], s[ok])
        reals = ok & (y == 0)
        if reals.any():
            r["fpr_at_cut"] = float(np.mean(s[reals] >= real_cut))
        fakes = ok & (y == 1)
        if fakes.any():
            r["tpr_at_cut"] = float(np.mean(s[fakes] >= real_cut))
        res[name] = r
    return res
