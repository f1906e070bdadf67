"""Detector registry, timm style: ``@register_detector`` factories, created by name."""

from __future__ import annotations

from collections.abc import Callable

from unswap.detectors.base import Detector

DEFAULT_DETECTOR = "effnetlite0_mixed.v6"

_FACTORIES: dict[str, Callable[..., Detector]] = {}


class UnknownDetector(ValueError):
    pass


def register_detector(name: str):
    """Register ``factory(**kwargs) -> Detector`` under ``name`` ("arch.tag")."""

    def wrap(factory: Callable[..., Detector]) -> Callable[..., Detector]:
        if name in _FACTORIES:
            raise ValueError(f"detector {name!r} is registered twice")
        _FACTORIES[name] = factory
        return factory

    return wrap


def list_detectors() -> list[str]:
    return sorted(_FACTORIES)


def require_detector(name: str) -> None:
    """Raise UnknownDetector unless ``name`` is registered (loads nothing)."""
    if name not in _FACTORIES:
        raise UnknownDetector(f"unknown detector {name!r}; available: {', '.join(list_detectors())}")


def create_detector(name: str = DEFAULT_DETECTOR, **kwargs) -> Detector:
    require_detector(name)
    return _FACTORIES[name](**kwargs)
