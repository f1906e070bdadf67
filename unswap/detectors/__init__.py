"""Face-swap detectors: registered by name, configured by the weights they ship with."""

from unswap.detectors.base import Detector, DetectorConfig
from unswap.detectors.registry import (
    DEFAULT_DETECTOR,
    create_detector,
    describe_detector,
    list_detectors,
    register_detector,
    register_weights,
)

__all__ = [
    "DEFAULT_DETECTOR",
    "Detector",
    "DetectorConfig",
    "create_detector",
    "describe_detector",
    "list_detectors",
    "register_detector",
    "register_weights",
]
