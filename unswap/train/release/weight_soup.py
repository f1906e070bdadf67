"""Average the weights of training runs that share a start (a "model soup") into one checkpoint.

Runs fine-tuned from the same weights tend to lie in one basin of the loss, where the mean
of their weights is a model of its own, often better than each, at the cost of one network
(Wortsman et al., ICML 2022). Greedy, as in that paper: the ingredients are ranked by their
`val` AUC and each is kept only if the running mean then scores higher on `val`
(``--uniform``: the mean of all; ``--weights``: a weighted mean, e.g. ``--weights 0.4 0.6
START.pt FINETUNED.pt`` interpolates between a start and its fine-tune, as WiSE-FT does,
Wortsman et al., CVPR 2022). Only `val` is read. The result is a checkpoint in the format of ``unswap train``, for
``unswap export``.

    python -m unswap.train weight-soup --out runs/soup/best.pt \\
        runs/effnetlite0_sbi_mask/best.pt runs/effnetlite0_sbi_ft_smooth/best.pt ...
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from unswap.metrics import roc_auc
from unswap.paths import shared_data_dir
from unswap.train.data import load_split_inputs
from unswap.train.loop import _normalizer, predict_logits
from unswap.train.model import build_model


def mean_state(states: list[dict], weights: list[float] | None = None) -> dict:
    """Element-wise mean of float tensors, weighted by ``weights`` (equal when None);
    integer ones (BatchNorm batch counts) from the first."""
    w = torch.tensor(weights if weights is not None else [1.0] * len(states), dtype=torch.float64)
    w = w / w.sum()
    out = {}
    for k, v in states[0].items():
        if v.is_floating_point():
            stacked = torch.stack([s[k].double() for s in states])
            out[k] = torch.tensordot(w, stacked, dims=1).to(v.dtype)
        else:
            out[k] = v.clone()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+", type=Path, help="best.pt files of runs with one common start")
    ap.add_argument("--out", required=True, type=Path, help="checkpoint to write")
    how = ap.add_mutually_exclusive_group()
    how.add_argument("--uniform", action="store_true", help="the plain mean of all, not the greedy pick")
    how.add_argument("--weights", type=float, nargs="+", help="a weighted mean of all, one weight per checkpoint "
                                                              "in order (normalised to sum to 1)")
    ap.add_argument("--faces", type=Path, default=None, help="face-crop set (default: $UNSWAP_DATA/faces)")
    args = ap.parse_args()

    if args.weights is not None and (len(args.weights) != len(args.checkpoints) or min(args.weights) < 0
                                     or sum(args.weights) <= 0):
        ap.error("--weights takes one non-negative weight per checkpoint, not all zero")
    loaded = [torch.load(p, map_location="cpu", weights_only=False) for p in args.checkpoints]
    cfg = loaded[0]["config"]
    sizes = {c["config"]["input_size"] for c in loaded}
    if len(sizes) != 1:
        ap.error(f"the runs were trained at different input sizes {sorted(sizes)}")
    _, labels, x = load_split_inputs(args.faces or shared_data_dir() / "faces", "val", cfg["input_size"])
    model = build_model(cfg, pretrained=False)
    model.eval()
    dev = torch.device("cpu")
    normalize = _normalizer(cfg, dev)

    def val_auc(state: dict) -> float:
        model.load_state_dict(state)
        with torch.inference_mode():
            return roc_auc(labels, predict_logits(model, x, normalize, dev))

    ranked = sorted(
        ((val_auc(c["model"]), p, c) for p, c in zip(args.checkpoints, loaded)), key=lambda r: -r[0]
    )
    for auc, p, _ in ranked:
        print(f"ingredient {p}: val AUC {auc:.4f}", flush=True)
    best_auc, _, first = ranked[0]
    soup, kept = [first["model"]], [str(ranked[0][1])]
    weights = None
    if args.uniform or args.weights is not None:
        soup, kept = [c["model"] for c in loaded], [str(p) for p in args.checkpoints]
        weights = args.weights
        best_auc = val_auc(mean_state(soup, weights))
    else:
        for _, p, c in ranked[1:]:
            auc = val_auc(mean_state([*soup, c["model"]]))
            print(f"+ {p}: soup val AUC {auc:.4f} ({'kept' if auc > best_auc else 'left out'})", flush=True)
            if auc > best_auc:
                best_auc = auc
                soup.append(c["model"])
                kept.append(str(p))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"model": mean_state(soup, weights), "step": first["step"], "best_auc": best_auc,
         "config": {**cfg, "name": cfg["name"] + "_soup", "soup_of": kept,
                    **({"soup_weights": weights} if weights is not None else {})}},
        args.out,
    )
    print(f"wrote {args.out}: mean of {len(kept)} run(s), val AUC {best_auc:.4f}")


if __name__ == "__main__":
    main()
