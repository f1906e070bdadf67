"""How much of the face-texture gap between inswapper's swaps and real FFHQ photos survives
the re-encoding a training pack applies (scripts/make_pack.py): a check of the pack, not a
detector.

For each inswapper dev face as the scan cuts it (the monitor cache's 224 px crops), the log
noise residual (grey minus its 3x3 median) of the inner 40% of the crop; a swap's face is
smoother. Printed per encoding: the AUC of smoothness for swaps against real photos and the
mean log residual of each. Reads the xdomain dev set only.

    python scripts/pack_texture.py --monitor-cache runs/cache/monitor_224.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from unswap.metrics import roc_auc
from unswap.paths import shared_data_dir
from unswap.train import monitor
from unswap.train.pack import reencode

# (row name, side or None for the crop as cut, (format, quality) or None for a plain resize)
ENCODINGS = [("224 px as cut", None, None), ("176 px", 176, None), ("176 px JPEG 95", 176, ("jpeg", 95)),
             ("176 px JPEG 90", 176, ("jpeg", 90)), ("176 px WebP 90", 176, ("webp", 90)),
             ("176 px WebP 80", 176, ("webp", 80))]


def inner_log_residual(rgb: np.ndarray) -> float:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    res = grey.astype(np.float32) - cv2.medianBlur(grey, 3).astype(np.float32)
    a, b = int(grey.shape[0] * 0.3), int(grey.shape[0] * 0.7)
    return float(np.log(np.mean(np.abs(res[a:b, a:b])) + 1e-3))


def encoded(rgb: np.ndarray, side: int | None, how) -> np.ndarray:
    if side is None:
        return rgb
    if how is None:
        return cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA)
    data = cv2.imencode(".png", rgb[:, :, ::-1])[1].tobytes()
    return cv2.imdecode(np.frombuffer(reencode(data, side, how[1], how[0]), np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--monitor-cache", type=Path, required=True, help="monitor_224.npz (built if absent, ~10 min)")
    args = ap.parse_args()
    sets = monitor.build(shared_data_dir(), args.monitor_cache, 224)
    y, crops, files, _ = sets["inswapper"]
    fake = y[files]
    print("encoding | swaps vs real photos, AUC of smoothness | mean log residual, real | swaps")
    print("---|---|---|---")
    for name, side, how in ENCODINGS:
        e = np.array([inner_log_residual(np.ascontiguousarray(encoded(c, side, how))) for c in crops])
        print(f"{name} | {roc_auc(fake, -e):.3f} | {e[fake == 0].mean():.2f} | {e[fake == 1].mean():.2f}", flush=True)


if __name__ == "__main__":
    main()
