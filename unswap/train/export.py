"""Export a training checkpoint to a shipped detector folder: ONNX + config.json.

Calibration (Platt scaling) and the decision threshold are fitted on ``val`` only.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from unswap.calibrate import calibrate_on_val
from unswap.detectors.base import golden_crops
from unswap.faces import align
from unswap.train.data import load_split_inputs
from unswap.train.loop import _normalizer, predict_logits
from unswap.train.model import MASK_STRIDE, MaskedNet, build_model


def training_data(cfg: dict) -> str:
    """What a run trained on, in words, from its config."""
    if not cfg.get("mix"):
        return "real faces of the shared DFDC train split + self-blended images"
    names = {"dfdc_real": "real DFDC faces (train split)",
             "dfdc_fake": "labelled DFDC face swaps (train split)",
             "fairface_real": "real FairFace photos (less a hold-out of "
                              f"{cfg.get('fairface_holdout_per_group', 200)} per race group) cropped as a scan crops"}
    parts = []
    for m in cfg["mix"]:
        what = names.get(m["source"], m["source"])
        parts.append(f"{m['n']} self-blends of {what}" if m.get("blend") else f"{m['n']} {what}")
    return "each batch: " + "; ".join(parts)


def export(
    checkpoint: Path, out: Path, faces_dir: Path, name: str, version: str, uncertain_margin: float = 0.0
) -> dict:
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    cfg = state["config"]
    model = build_model(cfg, pretrained=False)
    model.load_state_dict(state["model"])
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    size = cfg["input_size"]
    outputs = ["logit", "region"] if isinstance(model, MaskedNet) else ["logit"]
    torch.onnx.export(
        model, torch.zeros(1, 3, size, size), str(out / "model.onnx"), input_names=["input"],
        output_names=outputs, dynamic_axes={"input": {0: "batch"}, **{o: {0: "batch"} for o in outputs}},
        opset_version=17, dynamo=False,
    )
    normalize = _normalizer(cfg, torch.device("cpu"))
    golden = golden_crops(size).transpose(0, 3, 1, 2).copy()
    golden_logits = predict_logits(model, golden, normalize, torch.device("cpu"))
    _, labels, x = load_split_inputs(faces_dir, "val", size)
    logits = predict_logits(model, x, normalize, torch.device("cpu"))
    calibrated = calibrate_on_val(logits, labels)
    config = {
        "name": name,
        "version": version,
        "arch": cfg.get("arch", "efficientnet-lite0") + ("+region" if isinstance(model, MaskedNet) else ""),
        "region": {"stride": MASK_STRIDE, "side": size // MASK_STRIDE, "meaning": "p(cell was blended in), trained on self-blend masks"}
        if isinstance(model, MaskedNet) else None,
        "input_size": size,
        "mean": cfg["mean"],
        "std": cfg["std"],
        "crop": {"side_per_scale": align.SIDE_PER_SCALE, "center_below": align.CENTER_BELOW},
        "calibration": calibrated["calibration"],
        "threshold": calibrated["threshold"],
        "threshold_rule": calibrated["threshold_rule"],
        "uncertain_margin": uncertain_margin,
        "training": {"config": cfg, "step": state["step"], "data": training_data(cfg)},
        "metrics": calibrated["metrics"],
        "export_check": {"inputs": "unswap.detectors.base.golden_crops", "torch_logits": golden_logits.tolist()},
        "license": "weights trained on DFDC data: research and non-commercial use only",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return config
