"""``python -m unswap.train``: the training loop alone, for a machine that has PyTorch but
not the scan's own dependencies (a lent GPU machine has no PyAV, YuNet or C2PA reader).
It takes what ``unswap train`` takes; with ``--pack`` it needs no data folder:

    python -m unswap.train --config configs/mixed_effnetlite0_176_gpu.toml --pack runs/gpu/pack_176.npz \\
        --out runs/gpu_176 --time-budget-s 430
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from unswap.train.loop import train


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m unswap.train", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--pack", type=Path, default=None)
    ap.add_argument("--faces", type=Path, default=None, help="face-crop set; scored as val when given")
    ap.add_argument("--device", default=None)
    ap.add_argument("--time-budget-s", type=float, default=None)
    args = ap.parse_args(argv)
    if args.pack is None and args.faces is None:
        ap.error("give --pack, or --faces for a recipe that reads the face-crop set")
    for path in (args.config, args.pack):
        if path is not None and not path.is_file():
            print(f"python -m unswap.train: {path}: no such file", file=sys.stderr)
            return 2
    data_dir = None if args.faces is None else args.faces.parent
    try:
        best = train(args.config, args.out, args.faces, args.device, data_dir=data_dir, pack=args.pack,
                     time_budget_s=args.time_budget_s)
    except ValueError as e:
        print(f"python -m unswap.train: {e}", file=sys.stderr)
        return 2
    print(f"checkpoint: {best}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
