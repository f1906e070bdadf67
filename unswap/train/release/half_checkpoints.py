"""Copy chosen epochs of a run as small, weights-only checkpoints: what comes back from a
lent GPU machine (at most 8 files of 16 MiB there) and what ``unswap export`` and
``tools/score_checkpoints.py`` read. Weights go to half precision (BatchNorm statistics
stay single); optimiser state is dropped.

    python -m unswap.train half-checkpoints runs/gpu_176 --out $OUT --keep 3

keeps the last epoch and the epochs at about 1/2 and 3/4 of the run (``--keep 3``), named
RUN_eNN.pt, with the run's log as RUN_log.jsonl.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch

from unswap.train.release.make_pack import half_state


def chosen(epochs: list[Path], keep: int) -> list[Path]:
    """``keep`` epochs spread over the second half of the run, the last always among them."""
    if len(epochs) <= keep:
        return epochs
    n = len(epochs)
    picks = {round((n - 1) * (1 - 0.5 * i / max(1, keep - 1))) for i in range(keep)}
    return [epochs[i] for i in sorted(picks)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--keep", type=int, default=3)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for run in args.runs:
        if (run / "log.jsonl").is_file():
            shutil.copy(run / "log.jsonl", args.out / f"{run.name}_log.jsonl")
        for path in chosen(sorted(run.glob("epoch*.pt")), args.keep):
            state = torch.load(path, map_location="cpu", weights_only=False)
            small = {"model": half_state(state["model"]), "config": state["config"], "step": state["step"],
                     "total": state.get("total")}
            dest = args.out / f"{run.name}_e{path.stem.removeprefix('epoch')}.pt"
            torch.save(small, dest)
            print(f"{dest}: step {state['step']}, {dest.stat().st_size / 2**20:.1f} MiB", flush=True)


if __name__ == "__main__":
    main()
