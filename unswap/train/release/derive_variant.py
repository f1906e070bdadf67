"""Derive a detector from a shipped one's weights: a test-time flip, another input size.

The variant reuses the base detector's ONNX file (its ``config.json`` points at it, so
no weights are copied) and is calibrated afresh on ``val``: Platt scaling and the
threshold are fitted on the variant's own logits. Only ``val`` is read.

- ``--flip`` / ``--no-flip``: average each crop's raw outputs with its mirror image's
  (two network passes a face), or run it once.
- ``--input-size N``: run the network on N x N crops of the same face region (the crop
  geometry does not change, only how many pixels cover it). EfficientNet-Lite ends in a
  global pool, so its weights take any input size; the graph's Pad nodes hold the
  training size's padding, so with ``--checkpoint`` the variant's logits on the golden
  crops must match the torch network's at the new size (they become its export check;
  without it the variant ships no export check). A graph exported for one fixed size
  has its height and width made free first (``onnx`` needed, the ``train`` extra): only
  the shape annotations change, and the base detector's outputs stay bit for bit.

    python -m unswap.train derive-variant --base effnetlite0_sbi.v2 --version v3 --flip \\
        --out unswap/detectors/weights/effnetlite0_sbi.v3
    python -m unswap.train derive-variant --base effnetlite0_mixed.v4 --version v5 --no-flip \\
        --input-size 192 --checkpoint runs/v4_init.pt --out unswap/detectors/weights/effnetlite0_mixed.v5
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from unswap.calibrate import calibrate_on_val
from unswap.detectors import create_detector
from unswap.detectors.base import golden_crops
from unswap.detectors.effnet_onnx import OnnxDetector
from unswap.evaluate import split_logits
from unswap.paths import shared_data_dir


def free_spatial_dims(path: Path) -> bool:
    """Give an ONNX graph's input a free height and width (and its region output a free
    side), in place. False when they were free already."""
    import onnx

    model = onnx.load(str(path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if not (dims[2].dim_value or dims[3].dim_value):
        return False
    for d, name in ((dims[2], "height"), (dims[3], "width")):
        d.Clear()
        d.dim_param = name
    for out in model.graph.output[1:]:  # the region map, (N, M, M)
        for d, name in zip(out.type.tensor_type.shape.dim[1:], ("region_h", "region_w")):
            d.Clear()
            d.dim_param = name
    del model.graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return True


def torch_logits(checkpoint: Path, size: int) -> list[float]:
    """The torch network's logits on the golden crops at ``size`` (``train`` extra)."""
    import torch

    from unswap.train.export import load_network
    from unswap.train.loop import _normalizer, predict_logits

    net, cfg, _ = load_network(checkpoint)
    normalize = _normalizer({**cfg, "input_size": size}, torch.device("cpu"))
    x = golden_crops(size).transpose(0, 3, 1, 2).copy()
    return predict_logits(net, x, normalize, torch.device("cpu")).tolist()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True,
                    help="registered detector whose weights are reused, or a folder `unswap export` wrote")
    ap.add_argument("--version", required=True, help="version tag of the variant")
    ap.add_argument("--out", required=True, type=Path, help="folder for the variant's config.json")
    ap.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True,
                    help="average each crop with its mirror image (default: on)")
    ap.add_argument("--input-size", type=int, default=None, help="crop side in pixels (default: the base's)")
    ap.add_argument("--checkpoint", type=Path, default=None,
                    help="the base's torch checkpoint: its logits at the new size become the export check")
    ap.add_argument("--faces", type=Path, default=None, help="face-crop set (default: $UNSWAP_DATA/faces)")
    args = ap.parse_args()
    det = OnnxDetector(Path(args.base)) if Path(args.base).is_dir() else create_detector(args.base)
    base_config = json.loads((det.folder / "config.json").read_text())
    size = args.input_size or det.config.input_size
    resized = size != det.config.input_size
    config = {**base_config, "version": args.version}
    hows = []
    if resized:
        if free_spatial_dims(det.folder / det.config.model_file):
            det = OnnxDetector(det.folder)  # reload the freed graph
        hows.append(f"the base's weights run at {size}x{size} instead of {det.config.input_size}")
        config["input_size"] = size
        if config.get("region"):
            config["region"] = {**config["region"], "side": size // config["region"]["stride"]}
        config.pop("export_check", None)  # the base's was taken at its own size
    det.config = dataclasses.replace(det.config, flip_tta=args.flip, input_size=size)
    if resized and args.checkpoint:
        expected = torch_logits(args.checkpoint, size)
        gap = float(np.abs(det.forward(det.preprocess(golden_crops(size))) - np.asarray(expected)).max())
        if gap > 1e-2:
            raise SystemExit(f"the graph at {size} px is {gap:.3f} from the torch network: its padding differs")
        config["export_check"] = {"inputs": "unswap.detectors.base.golden_crops", "torch_logits": expected}
    _, labels, logits = split_logits(det, args.faces or shared_data_dir() / "faces", "val")
    args.out.mkdir(parents=True, exist_ok=True)
    hows.append("mean of the raw outputs of the crop and its mirror image" if args.flip else "one pass, no mirror image")
    config.update({
        "model": os.path.relpath(det.folder / det.config.model_file, args.out),
        "test_time": {"flip": args.flip, "how": "; ".join(hows)},
        "derived_from": det.id,
        **calibrate_on_val(logits, labels),
    })
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    v = config["metrics"]["val"]
    print(f"wrote {args.out / 'config.json'}: val AUC {v['auc']:.4f}, ECE {v['ece_15']:.4f}, "
          f"threshold {config['threshold']:.4f}")


if __name__ == "__main__":
    main()
