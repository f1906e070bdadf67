"""Detector registry, timm style: detectors created by name ("arch.tag"), listed, described.

Every folder under ``unswap/detectors/weights/`` with a ``config.json`` is a detector named
after the folder; its config says everything else (input size, calibration, thresholds, a
one-sentence ``description``), so shipping a detector is adding its folder. Factories
written in code are registered with ``@register_detector``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from unswap.detectors.base import Detector, DetectorConfig
from unswap.detectors.effnet_onnx import OnnxDetector

DEFAULT_DETECTOR = "effnetlite0_mixed.v7"

WEIGHTS = Path(__file__).parent / "weights"
"""The shipped detectors' folders, one per detector: ``NAME.VERSION/config.json`` and weights."""


@dataclass(frozen=True)
class _Entry:
    factory: Callable[..., Detector]
    description: str
    folder: Path | None = None  # a detector registered from its weights folder


_REGISTRY: dict[str, _Entry] = {}


class UnknownDetector(ValueError):
    pass


def register_detector(name: str, description: str = "", folder: Path | None = None):
    """Register ``factory(**kwargs) -> Detector`` under ``name`` ("arch.tag"); ``folder``:
    the weights folder whose ``config.json`` configures it, if any."""

    def wrap(factory: Callable[..., Detector]) -> Callable[..., Detector]:
        if name in _REGISTRY:
            raise ValueError(f"detector {name!r} is registered twice")
        _REGISTRY[name] = _Entry(factory, description or (factory.__doc__ or "").strip(), folder)
        return factory

    return wrap


def register_weights(folder: Path) -> str:
    """Register the detector in ``folder`` (a ``config.json`` beside its ONNX weights) under
    the folder's name, which must be the config's ``name.version``; returns that name."""
    folder = Path(folder)
    raw = json.loads((folder / "config.json").read_text())
    name = f"{raw['name']}.{raw['version']}"
    if folder.name != name:
        raise ValueError(f"{folder}: the folder of detector {name!r} must be named {name}")

    def factory(**kwargs) -> Detector:
        return OnnxDetector(folder, **kwargs)

    register_detector(name, str(raw.get("description", "")), folder)(factory)
    return name


def list_detectors() -> list[str]:
    return sorted(_REGISTRY)


def describe_detector(name: str) -> str:
    """The detector's one-sentence description (its config's ``description``)."""
    require_detector(name)
    return _REGISTRY[name].description


def detector_config(name: str) -> DetectorConfig | None:
    """The ``DetectorConfig`` of a detector registered from its weights folder, read without
    loading its model; None for a name not registered so, or not registered at all."""
    entry = _REGISTRY.get(name)
    return None if entry is None or entry.folder is None else DetectorConfig.from_file(entry.folder / "config.json")


def require_detector(name: str) -> None:
    """Raise UnknownDetector unless ``name`` is registered (loads nothing)."""
    if name not in _REGISTRY:
        raise UnknownDetector(f"unknown detector {name!r}; available: {', '.join(list_detectors())}")


def create_detector(name: str = DEFAULT_DETECTOR, **kwargs) -> Detector:
    require_detector(name)
    return _REGISTRY[name].factory(**kwargs)


def _register_shipped() -> None:
    for folder in sorted(WEIGHTS.iterdir()):
        if (folder / "config.json").is_file():
            register_weights(folder)


_register_shipped()
