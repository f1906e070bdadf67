"""Rebuild a trainable checkpoint from a shipped detector (model.onnx + config.json).

A shipped detector keeps only its ONNX graph, where the exporter folded every
BatchNorm into the convolution before it. To train further from it (``init_from``), this
script loads the folded weights into the torch network, then splits each folded layer
back into a convolution and a BatchNorm whose statistics are measured on real training
faces: ``gamma = s``, ``beta = b + mu``, running mean ``mu`` and variance ``s**2``, where
``mu`` and ``s`` are the mean and spread of the folded convolution's output. In eval mode
the network computes exactly what the ONNX graph does (checked here on the golden
crops); in train mode its batch statistics start near the running ones, so training
carries on from where the shipped model stopped.

    python -m unswap.train checkpoint-from-onnx unswap/detectors/weights/effnetlite0_mixed.v4 \
        --out runs/v4_init.pt
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

from unswap.detectors.base import golden_crops
from unswap.facesets import iter_split
from unswap.faces.align import resize_crop
from unswap.train.loop import _normalizer
from unswap.train.model import build_model
from unswap.paths import shared_data_dir


def execution_order(model: torch.nn.Module, size: int) -> list[torch.nn.Module]:
    """Convolutions and BatchNorms in the order a forward pass runs them."""
    order, hooks = [], []
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d)):
            hooks.append(m.register_forward_hook(lambda mod, i, o: order.append(mod)))
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, size, size))
    for h in hooks:
        h.remove()
    return order


def onnx_weights(path: Path) -> tuple[dict[str, np.ndarray], list[tuple[np.ndarray, np.ndarray | None]]]:
    """An ONNX graph's initializers by name, and (weight, bias) of its Conv nodes in graph order."""
    graph = onnx.load(str(path)).graph
    init = {i.name: numpy_helper.to_array(i).copy() for i in graph.initializer}
    convs = [(init[n.input[1]], init[n.input[2]] if len(n.input) > 2 else None)
             for n in graph.node if n.op_type == "Conv"]
    return init, convs


def sample_faces(n: int, size: int) -> np.ndarray:
    """``n`` real training faces as uint8 (N, 3, S, S), every k-th of the split."""
    faces = shared_data_dir() / "faces"
    reals = [s for s in iter_split(faces, "train") if s.label == "real"]
    step = max(1, len(reals) // n)
    return np.stack([resize_crop(s.decode(), size).transpose(2, 0, 1) for s in reals[::step][:n]])


def rebuild(detector_dir: Path, n_faces: int = 512, max_gap: float = 1e-3) -> dict:
    cfg = json.loads((detector_dir / "config.json").read_text())
    if "members" in cfg["training"]:
        raise SystemExit(f"{detector_dir} is an ensemble; train on from its members' own checkpoints")
    train_cfg = cfg["training"]["config"]
    size = train_cfg["input_size"]
    model = build_model(train_cfg, pretrained=False)
    order = execution_order(model, size)
    convs = [m for m in order if isinstance(m, torch.nn.Conv2d)]
    init, onnx_convs = onnx_weights(detector_dir / "model.onnx")
    if len(convs) != len(onnx_convs):
        raise SystemExit(f"{len(convs)} convolutions in torch, {len(onnx_convs)} in the ONNX graph")
    follows = {}  # conv -> the BatchNorm that runs right after it
    for a, b in zip(order, order[1:]):
        if isinstance(a, torch.nn.Conv2d) and isinstance(b, torch.nn.BatchNorm2d):
            follows[a] = b
    fc = model.backbone._fc if hasattr(model, "backbone") else model._fc
    prefix = "backbone." if hasattr(model, "backbone") else ""
    with torch.no_grad():
        fc.weight.copy_(torch.from_numpy(init[f"{prefix}_fc.weight"]))
        fc.bias.copy_(torch.from_numpy(init[f"{prefix}_fc.bias"]))
        for conv, (w, b) in zip(convs, onnx_convs):
            if tuple(conv.weight.shape) != w.shape:
                raise SystemExit(f"shape mismatch: {tuple(conv.weight.shape)} vs {w.shape}")
            conv.weight.copy_(torch.from_numpy(w))
            bn = follows.get(conv)
            if bn is None:
                conv.bias.copy_(torch.from_numpy(b))
                continue
            # the folded layer first: BN as the identity plus the folded bias
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(b))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
    # measure what each folded convolution puts out on real faces
    stats, hooks = {}, []
    for conv, bn in follows.items():
        def grab(mod, inp, out, bn=bn):
            y = out.detach().double()
            stats[bn] = (y.mean(dim=(0, 2, 3)), y.std(dim=(0, 2, 3)))
        hooks.append(conv.register_forward_hook(grab))
    normalize = _normalizer(train_cfg, torch.device("cpu"))
    x = normalize(torch.from_numpy(sample_faces(n_faces, size)))
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    with torch.no_grad():
        for bn, (mu, s) in stats.items():
            s = s.clamp_min(1e-3)
            folded_bias = bn.bias.double().clone()
            bn.weight.copy_(s.float())
            bn.bias.copy_((folded_bias + mu).float())
            bn.running_mean.copy_(mu.float())
            bn.running_var.copy_((s * s - bn.eps).clamp_min(1e-6).float())
    # the check: eval mode equals the shipped graph on the golden crops
    golden = golden_crops(size).transpose(0, 3, 1, 2).copy()
    g = normalize(torch.from_numpy(golden))
    with torch.no_grad():
        out = model.eval()(g)
    torch_logit = (out[0] if isinstance(out, tuple) else out).view(-1).numpy()
    sess = ort.InferenceSession(str(detector_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_logit = sess.run(None, {"input": g.numpy()})[0].reshape(-1)
    gap = float(np.abs(torch_logit - onnx_logit).max())
    if gap > max_gap:
        raise SystemExit(f"rebuilt network differs from the ONNX graph by {gap:.2e} in logit (--max-gap {max_gap:g})")
    return {"model": model.state_dict(), "config": train_cfg, "step": cfg["training"].get("step"),
            "rebuilt_from": str(detector_dir), "logit_gap": gap}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("detector_dir", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--faces", type=int, default=512, help="real training faces to measure BatchNorm statistics on")
    ap.add_argument("--max-gap", type=float, default=1e-3,
                    help="refuse a rebuild whose logit differs from the ONNX graph's by more on the golden crops")
    args = ap.parse_args(argv)
    state = rebuild(args.detector_dir, args.faces, args.max_gap)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, args.out)
    print(f"{args.out}: rebuilt from {args.detector_dir}, max logit gap to ONNX {state['logit_gap']:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
