"""Average the weights of training runs that share a start (a "model soup") into one checkpoint.

Runs fine-tuned from the same weights tend to lie in one basin of the loss, where the mean
of their weights is a model of its own, often better than each, at the cost of one network
(Wortsman et al., ICML 2022). Greedy, as in that paper: the ingredients are ranked by their
`val` AUC and each is kept only if the running mean then scores higher on `val`
(``--uniform``: the mean of all). Only
`val` is read. The result is a checkpoint in the format of ``unswap train``, for
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


def mean_state(states: list[dict]) -> dict:
    """Element-wise mean of float tensors; integer ones (BatchNorm batch counts) from the first."""
    out = {}
    for k, v in states[0].items():
        out[k] = torch.stack([s[k] for s in states]).mean(0) if v.is_floating_point() else v.clone()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+", type=Path, help="best.pt files of runs with one common start")
    ap.add_argument("--out", required=True, type=Path, help="checkpoint to write")
    ap.add_argument("--uniform", action="store_true", help="the plain mean of all, not the greedy pick")
    ap.add_argument("--faces", type=Path, default=None, help="face-crop set (default: $UNSWAP_DATA/faces)")
    args = ap.parse_args()

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
    if args.uniform:
        soup, kept = [c["model"] for c in loaded], [str(p) for p in args.checkpoints]
        best_auc = val_auc(mean_state(soup))
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
        {"model": mean_state(soup), "step": first["step"], "best_auc": best_auc,
         "config": {**cfg, "name": cfg["name"] + "_soup", "soup_of": kept}},
        args.out,
    )
    print(f"wrote {args.out}: mean of {len(kept)} run(s), val AUC {best_auc:.4f}")


if __name__ == "__main__":
    main()
