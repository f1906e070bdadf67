"""Are the region maps meaningful on real face swaps? Numbers on a labelled split.

The shared DFDC crops have no ground-truth masks, so this measures what a meaningful map
must show: (1) the map alone separates swapped from real faces (AUC of its peak value);
(2) on swapped faces it lights up the inner face, where a swap pastes pixels, more than
the crop's outer ring (hair, background, neck), which a swap leaves alone; (3) on real
faces it stays low. It also writes the mean map of swapped and of real faces as a picture.

    python scripts/region_maps.py --split val --out build/region_maps.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from unswap.detectors import DEFAULT_DETECTOR, create_detector
from unswap.facesets import iter_split
from unswap.metrics import roc_auc
from unswap.paths import shared_data_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default=DEFAULT_DETECTOR)
    ap.add_argument("--faces", type=Path, default=None)
    ap.add_argument("--split", default="val")
    ap.add_argument("--out", type=Path, default=Path("build/region_maps.png"))
    args = ap.parse_args()
    det = create_detector(args.detector)
    samples = list(iter_split(args.faces or shared_data_dir() / "faces", args.split))
    labels, probs, maps = [s.label == "fake" for s in samples], [], []
    for i in range(0, len(samples), 64):
        p, r = det.score_regions(det.resize_faces([s.decode() for s in samples[i : i + 64]]))
        if r is None:
            raise SystemExit(f"{det.id} has no region output")
        probs.append(p)
        maps.append(r)
    y, p, r = np.array(labels), np.concatenate(probs), np.concatenate(maps)
    m = r.shape[1]
    yy, xx = np.mgrid[:m, :m]
    c = (m - 1) / 2
    inner = ((xx - c) / (0.32 * m)) ** 2 + ((yy - c) / (0.38 * m)) ** 2 <= 1  # the inner face
    ring = (xx == 0) | (yy == 0) | (xx == m - 1) | (yy == m - 1)  # the crop's outermost cells
    flagged = y & (p >= det.config.threshold)
    print(f"{det.id} on {args.split}: {len(y)} faces ({int(y.sum())} swapped), region map {m}x{m}")
    print(f"  AUC of p_fake {roc_auc(y, p):.4f}; AUC of the map's peak alone {roc_auc(y, r.max((1, 2))):.4f}")
    for name, sel in (("swapped, flagged", flagged), ("swapped, all", y), ("real", ~y)):
        print(f"  {name:17} n={int(sel.sum()):5d}  mean map: inner face {r[sel][:, inner].mean():.3f}, "
              f"outer ring {r[sel][:, ring].mean():.3f}; cells >= 0.5: {(r[sel] >= 0.5).mean():.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tiles = [cv2.resize(r[sel].mean(0), (160, 160), interpolation=cv2.INTER_NEAREST) for sel in (flagged, ~y)]
    img = cv2.applyColorMap((np.hstack([tiles[0], np.ones((160, 8)), tiles[1]]) * 255).astype(np.uint8),
                            cv2.COLORMAP_INFERNO)
    cv2.imwrite(str(args.out), img)
    print(f"  mean maps (left: flagged swapped faces, right: real faces) written to {args.out}")


if __name__ == "__main__":
    main()
