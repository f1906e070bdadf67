"""Score training checkpoints, and ensembles of them, on `val` and the cross-domain dev sets
exactly as a run's per-epoch monitor does (``unswap.train.monitor``), optionally averaged
with the mirror image as the shipped detectors do. An ensemble's logit is the mean of its
members' (what ``unswap export`` ships when given several checkpoints). Reads `val`, the
xdomain dev sets, the FairFace hold-out and the shared clips; never `test`.

    python tools/score_checkpoints.py --monitor-cache runs/RUN/monitor_160.npz --flip --pairs \\
        runs/v4_init.pt runs/RUN/epoch02.pt

``--sizes`` scores every checkpoint at each input size instead of its own: the faces are
then read at the monitor cache's size (224 for a cache ``score_sizes.py`` built) and resized,
as ``score_sizes.py`` does for an exported detector.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import torch

from unswap.faces.align import resize_crop
from unswap.metrics import roc_auc
from unswap.paths import shared_data_dir
from unswap.train import monitor
from unswap.train.data import load_split_inputs
from unswap.train.loop import _normalizer, predict_logits
from unswap.train.model import build_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+", type=Path)
    ap.add_argument("--monitor-cache", type=Path, required=True, help="a run's monitor_SIZE.npz (built if absent)")
    ap.add_argument("--flip", action="store_true", help="average each face's logit with its mirror image's")
    ap.add_argument("--pairs", action="store_true", help="also score every two-member ensemble")
    ap.add_argument("--all", action="store_true", help="also score the ensemble of all the checkpoints")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", type=int, nargs="+", help="input sizes to score at (default: the checkpoints' own)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = shared_data_dir()
    dev = torch.device("cpu")
    states = [torch.load(p, map_location="cpu", weights_only=False) for p in args.checkpoints]
    own = states[0]["config"]["input_size"]
    read_at = 224 if args.sizes else own
    _, val_y, val_x = load_split_inputs(data / "faces", "val", read_at)
    sets = monitor.build(data, args.monitor_cache, read_at)
    for size in args.sizes or [own]:
        score(args, states, [str(p) for p in args.checkpoints], size, val_y, val_x, sets, dev)


def _resized(x: np.ndarray, size: int) -> np.ndarray:
    """(N, 3, S, S) uint8 faces at ``size``, through the scan's own resize."""
    if x.shape[-1] == size:
        return x
    return np.stack([resize_crop(c.transpose(1, 2, 0), size).transpose(2, 0, 1) for c in x])


def score(args, states, names, size, val_y, val_x, sets, dev) -> None:
    def logits_of(state: dict) -> dict[str, np.ndarray]:
        """Each face's logit, for val and every monitor set."""
        model = build_model(state["config"], pretrained=False).to(memory_format=torch.channels_last)
        model.load_state_dict(state["model"])
        normalize = _normalizer(state["config"], dev)

        def run(x: np.ndarray) -> np.ndarray:
            x = _resized(x, size)
            out = predict_logits(model, x, normalize, dev)
            if args.flip:
                out = (out + predict_logits(model, np.ascontiguousarray(x[..., ::-1]), normalize, dev)) / 2
            return out

        out = {"val": run(val_x)}
        for name, (_, x, _, _) in sets.items():
            out[name] = run(x.transpose(0, 3, 1, 2).copy())
        return out

    per_model = [logits_of(s) for s in states]
    combos = [(i,) for i in range(len(names))]
    if args.pairs:
        combos += list(itertools.combinations(range(len(names)), 2))
    if args.all and len(names) > 2:
        combos.append(tuple(range(len(names))))
    for combo in combos:
        mean = {k: np.mean([per_model[i][k] for i in combo], axis=0) for k in per_model[0]}
        v = mean["val"]
        cut = float(np.quantile(v[val_y == 0], 0.95))
        cross = monitor.report_scores(mean, sets, cut)
        row = {"checkpoints": " + ".join(names[i] for i in combo), "size": size, "flip": args.flip,
               "val_auc": round(roc_auc(val_y, v), 4)}
        for k, r in cross.items():
            row[k] = {m: round(x, 4) if isinstance(x, float) else x for m, x in r.items() if m != "files"}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
