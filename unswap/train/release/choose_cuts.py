"""Score training checkpoints file by file on every dev set, with the inswapper pairs
cross-validated by person, and say what a three-way verdict with cuts set on stated error
rates would tell each set. Reads `val`, the xdomain dev sets, the photo hold-outs and the
shared clips; never `test`.

    python -m unswap.train choose-cuts --cache runs/cache/monitor_176.npz \\
        --fold runs/v7_fold0/epoch02.pt runs/v7_fold1/epoch02.pt --final runs/v7_all/epoch02.pt

Faces are cut once, as a scan cuts them (``unswap.train.monitor``), and combined into
files as a scan combines them (median over a track's frames, the most suspect track).
Each checkpoint's logits are calibrated on `val` with each class weighted to 50/50.
The inswapper files are scored out of fold: the people of fold k by the run that left
fold k out (``--fold``, in fold order; ``inswapper_fold = k`` in its config); every other
set by ``--final``. The photo hold-outs (FairFace, CelebA, LFW) are split in two halves by
person: the cuts are set on the first ("choose") and measured on both.

Cuts: ``threshold`` ("fake" at or above) the lowest p_fake at which the reals of every set
are told fake at most ``--max-fpr`` of the time; ``real_below`` ("real" below) the highest
below which the fakes of every set fall at most ``--max-fnr`` of the time.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import torch

from unswap.aggregate import file_scores, label_for
from unswap.calibrate import fit_platt, prior_weights, verdict_thresholds
from unswap.detectors.base import sigmoid
from unswap.evaluate import told_shares
from unswap.mediasets import DEV_SETS, PHOTO_HOLDOUTS, choosing_half, dev_files, person_folds, read_labels
from unswap.metrics import roc_auc
from unswap.paths import shared_data_dir
from unswap.train import monitor
from unswap.train.data import load_split_inputs
from unswap.train.loop import _normalizer, predict_logits
from unswap.train.model import build_model

def checkpoint_logits(path: Path, val_x: np.ndarray, sets: dict) -> dict[str, np.ndarray]:
    """Each face's raw logit, for `val` and each of ``sets``."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    model = build_model(state["config"], pretrained=False).to(memory_format=torch.channels_last)
    model.load_state_dict(state["model"])
    normalize = _normalizer(state["config"], torch.device("cpu"))
    out = {"val": predict_logits(model, val_x, normalize, "cpu")}
    for name, (_, x, _, _) in sets.items():
        out[name] = predict_logits(model, x.transpose(0, 3, 1, 2).copy(), normalize, "cpu")
    return out


def three_way(p: np.ndarray, y: np.ndarray, threshold: float, real_below: float) -> dict:
    """Shares of reals and of fakes told real / uncertain / fake by the cuts, as
    ``evaluate.measure_rows`` counts a scan's verdicts; ``p`` holds no NaN."""
    out = {}
    for name, sel in (("reals", y == 0), ("fakes", y == 1)):
        if sel.any():
            told = [label_for(q, threshold, real_below=real_below) for q in p[sel]]
            out[name] = {"n": int(sel.sum()), **told_shares(told)}
    if (y == 0).any() and (y == 1).any():
        out["auc"] = roc_auc(y, p)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="monitor crops at the checkpoints' input size")
    ap.add_argument("--fold", type=Path, nargs="+", required=True, help="one checkpoint per inswapper fold")
    ap.add_argument("--final", type=Path, required=True)
    ap.add_argument("--max-fpr", type=float, default=0.02)
    ap.add_argument("--max-fnr", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, help="write the file-level scores here (.npz)")
    ap.add_argument("--oof-csv", type=Path, help="write the inswapper out-of-fold scores here (path,p_fake), "
                                                  "for set_verdict.py --inswapper-oof")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = shared_data_dir()
    size = torch.load(args.final, map_location="cpu", weights_only=False)["config"]["input_size"]
    _, val_y, val_x = load_split_inputs(data / "faces", "val", size)
    sets = monitor.build(data, args.cache, size)

    def calibrated(logits: dict) -> dict[str, np.ndarray]:
        a, b = fit_platt(logits["val"], val_y, weights=prior_weights(val_y, 0.5))
        return {k: sigmoid(a * v + b) for k, v in logits.items()}

    final = calibrated(checkpoint_logits(args.final, val_x, sets))
    files = {name: file_scores(final[name], len(y), fi, ti) for name, (y, _, fi, ti) in sets.items()}
    ins_files = read_labels(data / DEV_SETS["inswapper"])
    folds = person_folds(ins_files, len(args.fold))
    y_ins, _, fi, ti = sets["inswapper"]
    oof = np.full(len(y_ins), np.nan)
    for k, path in enumerate(args.fold):
        # a fold run is used for its held-out inswapper people alone: val calibrates it
        p = calibrated(checkpoint_logits(path, val_x, {"inswapper": sets["inswapper"]}))["inswapper"]
        s = file_scores(p, len(y_ins), fi, ti)
        oof[folds == k] = s[folds == k]
    files["inswapper_oof"] = oof
    if args.oof_csv:
        with open(args.oof_csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["path", "p_fake"])
            w.writerows((g.rel, "" if np.isnan(s) else f"{s:.6f}") for g, s in zip(ins_files, oof))
    labels = {name: y for name, (y, _, _, _) in sets.items()} | {"inswapper_oof": y_ins}
    labels["val"], files["val"] = val_y, final["val"]

    halves = {}
    for name in PHOTO_HOLDOUTS:
        if name in files:
            choosing = choosing_half(dev_files(data / DEV_SETS[name]))
            for sel, tag in ((choosing, "choose"), (~choosing, "check")):
                halves[f"{name}_{tag}"] = (files[name][sel], labels[name][sel])
    chosen = {"val": (files["val"], val_y), "ffpp": (files["ffpp"], labels["ffpp"]),
              "inswapper_oof": (oof, y_ins), "videos": (files["videos"], labels["videos"]),
              **{k: v for k, v in halves.items() if k.endswith("_choose")}}
    reals = {k: s[(y == 0) & ~np.isnan(s)] for k, (s, y) in chosen.items()}
    fakes = {k: s[(y == 1) & ~np.isnan(s)] for k, (s, y) in chosen.items()}
    v = verdict_thresholds({k: r for k, r in reals.items() if len(r)}, {k: f for k, f in fakes.items() if len(f)},
                           args.max_fpr, args.max_fnr)
    print(json.dumps({k: v[k] for k in ("threshold", "real_below", "threshold_set_by", "real_below_set_by")}))
    report = {**chosen, **halves}
    for name, (s, y) in report.items():
        ok = ~np.isnan(s)
        row = three_way(s[ok], y[ok], v["threshold"], v["real_below"])
        print(json.dumps({"set": name, **{k: ({kk: round(x, 3) for kk, x in r.items()} if isinstance(r, dict)
                                               else round(r, 4)) for k, r in row.items()}}), flush=True)
    if args.out:
        np.savez(args.out, **{f"{k}_s": s for k, (s, _) in report.items()}, **{f"{k}_y": y for k, (_, y) in report.items()})


if __name__ == "__main__":
    main()
