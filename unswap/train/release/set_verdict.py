"""Calibrate an exported detector to a stated prior and set its three-way verdict on stated
error rates, file by file, from dev data only (never `test`).

1. Platt scaling on `val`'s frame logits, each class weighted to ``--prior`` (50/50 by
   default: a user's file is as likely real as not, whatever `val`'s mix).
2. Every dev set is scanned file by file, as `unswap scan` does: the FF++ clips, the
   inswapper pairs, the FairFace, CelebA and LFW hold-outs (people training left out) and
   the shared DFDC clips and face tracks. A detector trained on the inswapper pairs has
   seen them: ``--inswapper-oof`` then gives their out-of-fold scores (a CSV ``path,p_fake``
   from ``python -m unswap.train choose-cuts --oof-csv``: each person scored by the run that left that
   person out), used in place of this detector's own.
3. ``threshold`` ("fake" at or above): the lowest at which the reals of every set are told
   fake at most ``--max-fpr`` of the time. ``real_below`` ("real" below): the highest below
   which the fakes of every set fall at most ``--max-fnr`` of the time. The photo
   hold-outs are split in two by person: the first half takes part in the choice, the
   second only measures.
4. The three-way answer of every set at those cuts is written to the config, with the
   catch rate per kind of swap that the CLI, the report and the page say.

    python -m unswap.train set-verdict --detector-dir unswap/detectors/weights/effnetlite0_mixed.v7 \\
        --inswapper-oof runs/v7_oof.csv
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from pathlib import Path

import numpy as np

from unswap.calibrate import fit_platt, prior_weights, verdict_thresholds
from unswap.detectors.base import sigmoid
from unswap.detectors.effnet_onnx import OnnxDetector
from unswap.evaluate import measure_rows, scan_labelled, split_logits
from unswap.mediasets import DEV_SETS, PHOTO_HOLDOUTS, choosing_half, dev_files
from unswap.metrics import expected_calibration_error, summary
from unswap.paths import shared_data_dir
from unswap.scan import ScanConfig, Scanner

# the dev sets, by the names the shipped configs' rates give them
SETS = {{"ffpp": "ffpp_c23", "videos": "dfdc_clips"}.get(name, name): rel for name, rel in DEV_SETS.items()}
NAMES = {"ffpp_c23": "FaceForensics++ clips",
         "inswapper": "FFHQ photos and inswapper swaps of people it was not trained on",
         "fairface_holdout": "FairFace photos", "celeba_holdout": "CelebA photos", "lfw_holdout": "LFW news photos",
         "dfdc_clips": "DFDC clips"}
# the kinds of swap whose catch rates are said apart: (set, method or None for all, words)
KINDS = (("val", None, "DFDC face swaps"), ("ffpp_c23", "deepfakes", "FaceForensics++ autoencoder swaps"),
         ("ffpp_c23", "faceswap", "FaceForensics++ graphics swaps"),
         ("inswapper", None, "inswapper swaps (the model behind today's one-click apps)"))


def _scores(rows: list[dict], label: str) -> np.ndarray:
    return np.array([r["p_fake"] for r in rows if r["label"] == label and r["p_fake"] is not None])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector-dir", required=True, type=Path)
    ap.add_argument("--prior", type=float, default=0.5, help="share of fakes p_fake assumes (default 0.5)")
    ap.add_argument("--max-fpr", type=float, default=0.02)
    ap.add_argument("--max-fnr", type=float, default=0.05)
    ap.add_argument("--inswapper-oof", type=Path, help="out-of-fold inswapper scores (path,p_fake)")
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default: $UNSWAP_DATA)")
    args = ap.parse_args()
    data = args.data or shared_data_dir()
    cfg_path = args.detector_dir / "config.json"
    raw = json.loads(cfg_path.read_text())
    det = OnnxDetector(args.detector_dir)

    _, y, z = split_logits(det, data / "faces", "val")
    a, b = fit_platt(z, y, weights=prior_weights(y, args.prior))
    det.config = dataclasses.replace(det.config, platt_a=a, platt_b=b)
    p_val = sigmoid(a * z + b)

    scanner = Scanner(ScanConfig(), detector=det)
    rows = {k: scan_labelled(scanner, dev_files(data / rel)) for k, rel in SETS.items() if (data / rel).is_file()}
    if args.inswapper_oof is not None:
        with open(args.inswapper_oof, newline="") as f:
            oof = {r["path"]: float(r["p_fake"]) for r in csv.DictReader(f) if r["p_fake"]}
        rows["inswapper"] = [{**r, "p_fake": oof.get(r["path"]) if r["p_fake"] is not None else None}
                             for r in rows["inswapper"]]
    chosen = dict(rows)
    for name in PHOTO_HOLDOUTS:
        if name in rows:
            choosing = choosing_half(dev_files(data / SETS[name]))
            chosen[name] = [r for r, c in zip(rows[name], choosing) if c]
            rows[f"{name}_check"] = [r for r, c in zip(rows[name], choosing) if not c]

    reals = {"val": p_val[y == 0], **{k: _scores(rs, "real") for k, rs in chosen.items()}}
    fakes = {"val": p_val[y == 1], **{k: _scores(rs, "fake") for k, rs in chosen.items()}}
    v = verdict_thresholds({k: s for k, s in reals.items() if len(s)}, {k: s for k, s in fakes.items() if len(s)},
                           args.max_fpr, args.max_fnr)
    det.config = dataclasses.replace(det.config, threshold=v["threshold"], real_below=v["real_below"])

    def relabel(rs):
        return [{**r, "verdict": r["verdict"] if r["p_fake"] is None else det.config.label_for(r["p_fake"])}
                for r in rs]

    rows = {k: relabel(rs) for k, rs in rows.items()}
    measured = {k: measure_rows(rs, k) for k, rs in rows.items()}
    w = prior_weights(y, args.prior)
    val = {**summary(y, p_val, v["threshold"]), "ece_15": expected_calibration_error(y, p_val),
           "ece_15_at_prior": expected_calibration_error(y, p_val, weights=w),
           "fpr": float(np.mean(p_val[y == 0] >= v["threshold"])), "tpr": float(np.mean(p_val[y == 1] >= v["threshold"])),
           "fakes_labelled_real": float(np.mean(p_val[y == 1] < v["real_below"]))}
    by_kind = []
    for name, method, words in KINDS:
        if name == "val":
            by_kind.append({"kind": words, "tpr": val["tpr"], "told_real": val["fakes_labelled_real"]})
        elif name in measured:
            m = measured[name]["overall"] if method is None else measured[name]["by_method"].get(method)
            if m and "fakes_told" in m:
                by_kind.append({"kind": words, "tpr": m["fakes_told"]["fake"], "told_real": m["fakes_told"]["real"]})
    overall = {k: m["overall"] for k, m in measured.items()}
    outside = [k for k in overall if not k.endswith("_check")]
    raw.update({
        "calibration": {"method": "platt", "a": a, "b": b, "fitted_on": "val",
                        "prior_fake": args.prior, "how": "each class of val weighted to the prior"},
        "prior_fake": args.prior,
        "threshold": v["threshold"],
        "real_below": v["real_below"],
        "threshold_rule": (f"'fake' at or above: the lowest p_fake at which the reals of val and of every dev set "
                           f"(file by file) are told fake at most {args.max_fpr} of the time (set by "
                           f"{v['threshold_set_by']}); 'real' below: the highest below which the fakes of every set "
                           f"fall at most {args.max_fnr} of the time (set by {v['real_below_set_by']}); 'uncertain' "
                           f"between. inswapper out of fold by person; photo hold-outs: the first half by person "
                           f"chose, the second only measures"),
        "uncertain_margin": 0.0,
        "rates": {
            "outside": {"fpr": max(overall[k]["fpr"] for k in outside if "fpr" in overall[k]),
                        "tpr": float(np.mean([overall[k]["tpr"] for k in outside if "tpr" in overall[k]])),
                        "fnr": max(k["told_real"] for k in by_kind),
                        "by_kind": [{"kind": k["kind"], "tpr": k["tpr"]} for k in by_kind],
                        "sets": ", ".join(NAMES.get(k, k) for k in outside),
                        "how": "fpr: the worst of the sets; tpr: per kind of swap; fnr: the worst kind's share told "
                               "real; file by file as a scan; these sets also chose the thresholds"},
            "val": {"fpr": val["fpr"], "tpr": val["tpr"]},
            **{k: {kk: m[kk] for kk in ("files", "auc", "fpr", "tpr", "reals_told", "fakes_told", "no_face", "failed")
                   if kk in m} for k, m in overall.items()},
        },
    })
    raw.setdefault("metrics", {})["val"] = val
    cfg_path.write_text(json.dumps(raw, indent=2) + "\n")
    print(json.dumps({"thresholds": v, "val": val, "measured": measured}, indent=1))


if __name__ == "__main__":
    main()
