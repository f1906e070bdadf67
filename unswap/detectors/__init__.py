"""Face-swap detectors: registered by name, configured by the weights they ship with."""

# Importing the architecture modules registers them.
from unswap.detectors import effnet_onnx as _effnet_onnx  # noqa: F401
from unswap.detectors.base import Detector, DetectorConfig
from unswap.detectors.registry import (
    DEFAULT_DETECTOR,
    create_detector,
    list_detectors,
    register_detector,
)

__all__ = [
    "DEFAULT_DETECTOR",
    "Detector",
    "DetectorConfig",
    "create_detector",
    "list_detectors",
    "register_detector",
]
