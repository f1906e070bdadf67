"""``python -m unswap.train``: the training loop alone, for a machine that has PyTorch but
not the scan's own dependencies (a lent GPU machine has no PyAV, YuNet or C2PA reader),
and the release steps that turn a run into a shipped detector (``unswap.train.release``).
Training (``fit``, the default) takes what ``unswap train`` takes; with ``--pack`` it needs
no data folder:

    python -m unswap.train --config configs/mixed_effnetlite0_176_gpu.toml --pack runs/gpu/pack_176.npz \\
        --out runs/gpu_176 --time-budget-s 430
    python -m unswap.train set-verdict --detector-dir unswap/detectors/weights/effnetlite0_mixed.v6
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

PROG = "python -m unswap.train"

STEPS = {
    "make-pack": ("make_pack", "the faces a GPU run trains on as one file, and the recipe's ImageNet start"),
    "half-checkpoints": ("half_checkpoints", "chosen epochs of runs as small weights-only checkpoints"),
    "weight-soup": ("weight_soup", "average the weights of runs that share a start into one checkpoint"),
    "checkpoint-from-onnx": ("checkpoint_from_onnx", "a trainable checkpoint rebuilt from a shipped detector"),
    "choose-cuts": ("choose_cuts", "score runs file by file and set the verdict's cuts on stated error rates"),
    "derive-variant": ("derive_variant", "a shipped detector's weights with a test-time flip or another input size"),
    "set-verdict": ("set_verdict", "calibrate an exported detector and set its three-way verdict"),
}
"""Release steps: subcommand -> (module of ``unswap.train.release``, what it does)."""


def fit(argv: list[str]) -> int:
    """Train one recipe (``unswap.train.loop.train``); 2 on a user error."""
    steps = "\n".join(f"  {name:22} {what}" for name, (_, what) in STEPS.items())
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=f"release steps ({PROG} STEP --help):\n{steps}")
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
            print(f"{PROG}: {path}: no such file", file=sys.stderr)
            return 2
    from unswap.train.loop import train

    data_dir = None if args.faces is None else args.faces.parent
    try:
        best = train(args.config, args.out, args.faces, args.device, data_dir=data_dir, pack=args.pack,
                     time_budget_s=args.time_budget_s)
    except ValueError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    print(f"checkpoint: {best}")
    return 0


def run_step(name: str, argv: list[str]) -> int:
    """Run release step ``name`` with ``argv``. The steps parse ``sys.argv`` as they did
    when they were scripts (their code moved unchanged), so it holds the step's command
    line while the step runs."""
    module = importlib.import_module(f"unswap.train.release.{STEPS[name][0]}")
    saved = sys.argv
    sys.argv = [f"{PROG} {name}", *argv]
    try:
        return module.main() or 0
    finally:
        sys.argv = saved


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in STEPS:
        return run_step(argv[0], argv[1:])
    return fit(argv[1:] if argv[:1] == ["fit"] else argv)


if __name__ == "__main__":
    raise SystemExit(main())
