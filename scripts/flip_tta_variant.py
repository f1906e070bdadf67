"""Derive a detector that averages each crop with its mirror image (test-time flip).

The variant reuses the base detector's ONNX file (its ``config.json`` points at it, so
no weights are copied) and is calibrated afresh on ``val``: Platt scaling and the
threshold are fitted on the flip-averaged logits. Only ``val`` is read.

    python scripts/flip_tta_variant.py --base effnetlite0_sbi.v2 --version v3 \\
        --out unswap/detectors/weights/effnetlite0_sbi.v3
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

from unswap.calibrate import calibrate_on_val
from unswap.detectors import create_detector
from unswap.detectors.effnet_onnx import OnnxDetector
from unswap.evaluate import split_logits
from unswap.paths import shared_data_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True,
                    help="registered detector whose weights are reused, or a folder `unswap export` wrote")
    ap.add_argument("--version", required=True, help="version tag of the variant")
    ap.add_argument("--out", required=True, type=Path, help="folder for the variant's config.json")
    ap.add_argument("--faces", type=Path, default=None, help="face-crop set (default: $UNSWAP_DATA/faces)")
    args = ap.parse_args()
    det = OnnxDetector(Path(args.base)) if Path(args.base).is_dir() else create_detector(args.base)
    base_config = json.loads((det.folder / "config.json").read_text())
    det.config = dataclasses.replace(det.config, flip_tta=True)
    _, labels, logits = split_logits(det, args.faces or shared_data_dir() / "faces", "val")
    args.out.mkdir(parents=True, exist_ok=True)
    config = {
        **base_config,
        "version": args.version,
        "model": os.path.relpath(det.folder / det.config.model_file, args.out),
        "test_time": {"flip": True, "how": "mean of the raw outputs of the crop and its mirror image"},
        "derived_from": det.id,
        **calibrate_on_val(logits, labels),
    }
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    v = config["metrics"]["val"]
    print(f"wrote {args.out / 'config.json'}: val AUC {v['auc']:.4f}, ECE {v['ece_15']:.4f}, "
          f"threshold {config['threshold']:.4f}")


if __name__ == "__main__":
    main()
