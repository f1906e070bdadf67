"""Score a shipped detector's weights at several input sizes, with and without the
test-time flip, on `val` and the cross-domain dev sets (and the FairFace hold-out and the
shared clips), as a training run's monitor does: each set's faces cut once by the scan's
crop function at the cache's size, then resized to each size. Reads `val` and the monitor
sets only, never `test`.

    python scripts/score_sizes.py --detector effnetlite0_mixed.v4 --sizes 160 176 192 208 224 \\
        --monitor-cache runs/monitor_224.npz

A graph exported at a fixed input size is scored through a copy whose height and width are
freed (``derive_variant.free_spatial_dims``); the folder itself is left as it is.
Columns: cost (network compute per face against one pass at 160), `val` frame AUC, FF++ and
inswapper file AUC, the FairFace hold-out's share at or above `val`'s 95% real cut, the
shared DFDC clips' file AUC.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
from pathlib import Path

import numpy as np

from unswap.detectors import create_detector
from unswap.detectors.effnet_onnx import OnnxDetector
from unswap.faces.align import resize_crop
from unswap.facesets import iter_split
from unswap.metrics import roc_auc
from unswap.paths import shared_data_dir
from unswap.train import monitor

from derive_variant import free_spatial_dims  # scripts/ is on the path when run as a script


def any_size(det: OnnxDetector, scratch: Path) -> OnnxDetector:
    """``det`` itself when its graph takes any input size, else the same weights from a copy
    in ``scratch`` with the height and width freed."""
    if not any(isinstance(d, int) for d in det.session.get_inputs()[0].shape[2:]):
        return det
    copy = scratch / det.folder.name
    copy.mkdir()
    shutil.copy(det.folder / "config.json", copy / "config.json")
    shutil.copy(det.folder / det.config.model_file, copy / "model.onnx")
    config = (copy / "config.json").read_text()
    (copy / "config.json").write_text(config.replace(f'"{det.config.model_file}"', '"model.onnx"'))
    free_spatial_dims(copy / "model.onnx")
    return OnnxDetector(copy)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default="effnetlite0_mixed.v4",
                    help="a registered detector, or a folder `unswap export` wrote")
    ap.add_argument("--sizes", type=int, nargs="+", default=[160, 176, 192, 208, 224])
    ap.add_argument("--monitor-cache", type=Path, required=True,
                    help="monitor_SIZE.npz of a run, or a path to build it at (takes about 10 min)")
    ap.add_argument("--cache-size", type=int, default=224, help="crop size when building the cache")
    args = ap.parse_args()
    data = shared_data_dir()
    det = OnnxDetector(Path(args.detector)) if Path(args.detector).is_dir() else create_detector(args.detector)
    scratch = tempfile.TemporaryDirectory()
    det = any_size(det, Path(scratch.name))
    sets = monitor.build(data, args.monitor_cache, args.cache_size)
    val = [(int(s.label == "fake"), s.decode()) for s in iter_split(data / "faces", "val")]
    val_y = np.array([y for y, _ in val])
    base = det.config
    print("size | flip | cost | val AUC | FF++ AUC | inswapper AUC | FairFace >= val cut | clips AUC")
    print("---|---|---|---|---|---|---|---")
    for size in args.sizes:
        det.config = dataclasses.replace(base, input_size=size, flip_tta=False)

        def logits(crops) -> tuple[np.ndarray, np.ndarray]:
            x = np.stack([resize_crop(c, size) for c in crops])
            return det.raw(x, 64)[0], det.raw(np.ascontiguousarray(x[:, :, ::-1]), 64)[0]

        plain, mirrored = {}, {}
        plain["val"], mirrored["val"] = logits([c for _, c in val])
        for name, (_, x, _, _) in sets.items():
            plain[name], mirrored[name] = logits(list(x))
        for flip in (False, True):
            z = {k: (v + mirrored[k]) / 2 if flip else v for k, v in plain.items()}
            cut = float(np.quantile(z["val"][val_y == 0], 0.95))
            r = monitor.report_scores({k: z[k] for k in sets}, sets, cut)
            cost = (size / 160) ** 2 * (2 if flip else 1)
            cells = [f"{roc_auc(val_y, z['val']):.3f}", f"{r['ffpp'].get('auc', float('nan')):.3f}",
                     f"{r['inswapper'].get('auc', float('nan')):.3f}",
                     f"{100 * r['fairface_holdout'].get('fpr_at_cut', float('nan')):.1f}%",
                     f"{r['videos'].get('auc', float('nan')):.3f}" if "videos" in r else "-"]
            print(f"{size} | {'yes' if flip else 'no'} | {cost:.2f} | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
