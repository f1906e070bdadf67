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
from unswap.train.model import MASK_STRIDE, Ensemble, MaskedNet, build_model


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


INPUT_KEYS = ("input_size", "mean", "std")


def load_network(checkpoints: Path | list[Path]) -> tuple[torch.nn.Module, dict, dict]:
    """(network in eval mode, the first run's config, what the shipped config records of
    its training). Several checkpoints make an ensemble: one network whose outputs are the
    mean of theirs; their runs must share input size and normalisation."""
    paths = [checkpoints] if isinstance(checkpoints, Path) else list(checkpoints)
    states = [torch.load(p, map_location="cpu", weights_only=False) for p in paths]
    cfgs = [s["config"] for s in states]
    for c, p in zip(cfgs[1:], paths[1:]):
        differ = [k for k in INPUT_KEYS if c[k] != cfgs[0][k]]
        if differ:
            raise ValueError(f"{p}: its {', '.join(differ)} differ from {paths[0]}'s; an ensemble needs one input")
    nets = []
    for s in states:
        net = build_model(s["config"], pretrained=False)
        net.load_state_dict(s["model"])
        nets.append(net)
    records = [{"config": s["config"], "step": s["step"], "data": training_data(s["config"])} for s in states]
    if len(nets) == 1:
        return nets[0].eval(), cfgs[0], records[0]
    return Ensemble(nets).eval(), cfgs[0], {"ensemble": "mean of the members' logits and region logits",
                                           "members": records}


def export(
    checkpoint: Path | list[Path], out: Path, faces_dir: Path, name: str, version: str, uncertain_margin: float = 0.0
) -> dict:
    model, cfg, training = load_network(checkpoint)
    members = training.get("members", [training])
    # an ensemble's members all have a region head or none (Ensemble checks)
    masked = isinstance(model.members[0] if isinstance(model, Ensemble) else model, MaskedNet)
    arch = ", ".join(m["config"].get("arch", "efficientnet-lite0") + ("+region" if masked else "") for m in members)
    if len(members) > 1:
        arch = f"ensemble of {len(members)}: {arch}"
    out.mkdir(parents=True, exist_ok=True)
    size = cfg["input_size"]
    outputs = ["logit", "region"] if masked else ["logit"]
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
        "arch": arch,
        "region": {"stride": MASK_STRIDE, "side": size // MASK_STRIDE, "meaning": "p(cell was blended in), trained on self-blend masks"}
        if masked else None,
        "input_size": size,
        "mean": cfg["mean"],
        "std": cfg["std"],
        "crop": {"side_per_scale": align.SIDE_PER_SCALE, "center_below": align.CENTER_BELOW},
        "calibration": calibrated["calibration"],
        "threshold": calibrated["threshold"],
        "threshold_rule": calibrated["threshold_rule"],
        "uncertain_margin": uncertain_margin,
        "training": training,
        "metrics": calibrated["metrics"],
        "export_check": {"inputs": "unswap.detectors.base.golden_crops", "torch_logits": golden_logits.tolist()},
        "license": "weights trained on DFDC data: research and non-commercial use only",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return config
