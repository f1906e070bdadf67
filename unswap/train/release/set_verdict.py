"""Calibrate an exported detector to a stated prior and set its three-way verdict
around false accusations, from `val` and the xdomain dev sets only (never `test`).

1. Platt scaling on `val`'s frame logits, each class weighted to ``--prior`` (50/50 by
   default: a user's file is as likely real as not, whatever `val`'s mix).
2. The xdomain dev sets are scanned file by file, as `unswap scan` does.
3. ``threshold`` ("fake" at or above): the lowest that keeps the FPR at most ``--max-fpr``
   on `val`'s real faces and on each xdomain set's real files. ``real_below`` ("no sign
   of a face swap found" below): the highest below which at most ``--max-fnr`` of `val`'s
   fakes and of each xdomain set's fakes fall.
4. The error rates at those thresholds are measured on the same sets and on the FairFace
   hold-out (never trained on, not used to choose), and written to the config with the
   sentence the CLI and the report say.

    python scripts/set_verdict.py --detector-dir unswap/detectors/weights/effnetlite0_mixed.v4
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from unswap.calibrate import fit_platt, prior_weights, verdict_thresholds
from unswap.detectors.base import sigmoid
from unswap.detectors.effnet_onnx import OnnxDetector
from unswap.evaluate import measure_rows, scan_labelled, split_logits
from unswap.mediasets import fairface_holdout, read_labels
from unswap.metrics import expected_calibration_error, summary
from unswap.paths import shared_data_dir
from unswap.scan import ScanConfig, Scanner

DEV = {"ffpp_c23": "xdomain/ffpp_c23/labels.csv", "inswapper": "xdomain/inswapper/labels.csv"}
NAMES = {"ffpp_c23": "FaceForensics++ clips", "inswapper": "FFHQ photos and inswapper swaps",
         "fairface_holdout": "FairFace photos"}


def _rows_scores(rows: list[dict], label: str) -> np.ndarray:
    return np.array([r["p_fake"] for r in rows if r["label"] == label and r["p_fake"] is not None])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector-dir", required=True, type=Path)
    ap.add_argument("--prior", type=float, default=0.5, help="share of fakes p_fake assumes (default 0.5)")
    ap.add_argument("--max-fpr", type=float, default=0.05)
    ap.add_argument("--max-fnr", type=float, default=0.10)
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
    rows = {k: scan_labelled(scanner, read_labels(data / rel)) for k, rel in DEV.items()}
    ff_labels = data / "reals" / "fairface" / "labels.csv"
    if ff_labels.is_file():
        rows["fairface_holdout"] = scan_labelled(scanner, fairface_holdout(read_labels(ff_labels))[1])

    reals = {"val": p_val[y == 0], **{k: _rows_scores(rows[k], "real") for k in DEV}}
    fakes = {"val": p_val[y == 1], **{k: _rows_scores(rows[k], "fake") for k in DEV}}
    v = verdict_thresholds(reals, fakes, args.max_fpr, args.max_fnr)
    det.config = dataclasses.replace(det.config, threshold=v["threshold"], real_below=v["real_below"])

    def relabel(rs):
        return [{**r, "verdict": r["verdict"] if r["p_fake"] is None else det.config.label_for(r["p_fake"])}
                for r in rs]

    measured = {k: measure_rows(relabel(rs), k)["overall"] for k, rs in rows.items()}
    w = prior_weights(y, args.prior)
    val = {**summary(y, p_val, v["threshold"]), "ece_15": expected_calibration_error(y, p_val),
           "ece_15_at_prior": expected_calibration_error(y, p_val, weights=w),
           "fpr": float(np.mean(p_val[y == 0] >= v["threshold"])), "tpr": float(np.mean(p_val[y == 1] >= v["threshold"])),
           "fakes_labelled_real": float(np.mean(p_val[y == 1] < v["real_below"]))}
    outside = [k for k in measured if k != "val"]
    with_fakes = [k for k in outside if measured[k].get("tpr") is not None]
    raw.update({
        "calibration": {"method": "platt", "a": a, "b": b, "fitted_on": "val",
                        "prior_fake": args.prior, "how": "each class of val weighted to the prior"},
        "prior_fake": args.prior,
        "threshold": v["threshold"],
        "real_below": v["real_below"],
        "threshold_rule": (f"'fake' at or above: the lowest p_fake with FPR <= {args.max_fpr} on val's real faces and on "
                           f"the real files of each xdomain dev set (set by {v['threshold_set_by']}); 'real' below: "
                           f"at most {args.max_fnr} of val's and each xdomain dev set's fakes fall there (set by "
                           f"{v['real_below_set_by']}); 'uncertain' between"),
        "uncertain_margin": 0.0,
        "rates": {
            "outside": {"fpr": max(measured[k]["fpr"] for k in outside),
                        "tpr": float(np.mean([measured[k]["tpr"] for k in with_fakes])),
                        "sets": ", ".join(NAMES.get(k, k) for k in outside),
                        "how": "fpr: the worst of the sets; tpr: the mean over the sets with fakes; file by file as a "
                               "scan; the xdomain sets also chose the thresholds, FairFace's hold-out did not"},
            "val": {"fpr": val["fpr"], "tpr": val["tpr"]},
            **{k: {kk: m[kk] for kk in ("files", "auc", "fpr", "tpr", "no_face", "failed") if kk in m}
               for k, m in measured.items()},
        },
    })
    raw.setdefault("metrics", {})["val"] = val
    cfg_path.write_text(json.dumps(raw, indent=2) + "\n")
    print(json.dumps({"thresholds": v, "val": val, "measured": measured}, indent=1))


if __name__ == "__main__":
    main()
