"""A training recipe (``configs/*.toml``) as one typed, frozen object.

Every key a recipe may hold is a field here, with its default stated once; a key not
listed is refused with one line naming it and the file, so a misspelt key cannot be
silently ignored. ``[[mix]]`` tables make a mixed recipe (``unswap.train.mixed``): each is
a ``MixSlot``; without them the recipe trains on self-blended pairs (``unswap.train.sbi``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROBE = (40, 240)  # steps between which a time-budgeted run measures its step rate (config: probe_steps)


class ConfigError(ValueError):
    """A recipe that cannot be trained; ``str()`` is one line naming the file and the key."""


@dataclass(frozen=True)
class MixSlot:
    """One ``[[mix]]`` table: ``n`` faces a batch from ``source`` (a name of
    ``unswap.train.mixed.load_sources``), self-blended when ``blend``."""

    source: str
    n: int
    blend: bool = False


@dataclass(frozen=True)
class TrainConfig:
    """What ``train()`` reads of a recipe. Lengths are in optimiser steps, sizes in pixels."""

    name: str
    seed: int
    # what the network sees: crops of input_size px, normalised by mean and std (0..1 scale)
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    # the schedule: AdamW, linear warm-up then cosine decay, a checkpoint every few steps
    epochs: int
    lr: float
    weight_decay: float
    warmup_steps: int
    checkpoint_every: int
    # the network and how it runs
    arch: str = "efficientnet-lite0"
    frozen_blocks: int = 0  # leading backbone blocks kept frozen, BatchNorm statistics too
    mask_weight: float = 0.0  # weight of the region-map loss; > 0 adds the region head
    workers: int = 1  # data-loading processes (0: in the training process)
    prefetch: int = 4  # batches each worker loads ahead (mixed recipes)
    threads: int = 2  # torch threads on the CPU
    init_from: str | None = None  # a checkpoint to start from (a fine-tune) instead of ImageNet
    probe_steps: tuple[int, int] = PROBE
    # mixed recipes
    mix: tuple[MixSlot, ...] = ()
    steps_per_epoch: int | None = None
    large_mask_p: float = 0.0
    augment_strength: float = 1.0
    geometry_p: float = 0.5
    smooth_p: float = 0.0
    fairface_holdout_per_group: int = 200
    inswapper_fold: int | None = None  # leave this fold's people of the inswapper pairs out
    monitor: bool = False  # score the cross-domain sets at each epoch
    # self-blend recipes
    pairs_per_batch: int | None = None
    downscale_p: float | None = None  # None: the degradation's own default
    downscale: tuple[float, float] | None = None
    real_jitter_p: float = 0.0

    @property
    def mixed(self) -> bool:
        return bool(self.mix)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "the config") -> TrainConfig:
        """Build from a recipe's table (as TOML reads it); ConfigError on an unknown or
        missing key, or a recipe that lacks what its kind needs."""
        names = {f.name for f in dataclasses.fields(cls)}
        for key in raw:
            if key not in names:
                raise ConfigError(f"{source}: unknown key {key!r}")
        missing = [f.name for f in dataclasses.fields(cls)
                   if f.default is dataclasses.MISSING and f.name not in raw]
        if missing:
            raise ConfigError(f"{source}: missing key {missing[0]!r}")
        values = dict(raw)
        slots = []
        for i, slot in enumerate(values.get("mix", ())):
            unknown = set(slot) - {"source", "n", "blend"}
            if unknown or "source" not in slot or "n" not in slot:
                what = f"unknown key {sorted(unknown)[0]!r}" if unknown else "a slot needs source and n"
                raise ConfigError(f"{source}: [[mix]] table {i + 1}: {what}")
            slots.append(MixSlot(str(slot["source"]), int(slot["n"]), bool(slot.get("blend", False))))
        values["mix"] = tuple(slots)
        for f in dataclasses.fields(cls):  # TOML gives lists where a field is a tuple
            if f.type.startswith("tuple") and values.get(f.name) is not None:
                values[f.name] = tuple(values[f.name])
        cfg = cls(**values)
        if cfg.mixed and cfg.steps_per_epoch is None:
            raise ConfigError(f"{source}: a mixed recipe needs steps_per_epoch")
        if not cfg.mixed and cfg.pairs_per_batch is None:
            raise ConfigError(f"{source}: a self-blend recipe (no [[mix]] tables) needs pairs_per_batch")
        return cfg

    @classmethod
    def from_file(cls, path: Path) -> TrainConfig:
        with open(path, "rb") as f:
            try:
                raw = tomllib.load(f)
            except tomllib.TOMLDecodeError as e:
                raise ConfigError(f"{path}: not TOML ({e})") from None
        return cls.from_dict(raw, str(path))

    def to_dict(self) -> dict[str, Any]:
        """Every field, as a checkpoint keeps it (plain lists and dicts)."""
        out = dataclasses.asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out

    def degrade_args(self) -> dict[str, Any]:
        """The self-blend degradation's settings that the recipe sets."""
        return {k: v for k, v in (("downscale_p", self.downscale_p), ("downscale", self.downscale)) if v is not None}


def load_config(path: Path) -> TrainConfig:
    return TrainConfig.from_file(path)
