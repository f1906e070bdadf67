"""Training recipes as a typed TrainConfig: every shipped recipe loads, unknown keys are refused."""

from __future__ import annotations

import dataclasses

import pytest

from tests.helpers.paths import REPO
from unswap.train.config import PROBE, ConfigError, MixSlot, TrainConfig, load_config

RECIPES = sorted((REPO / "configs").glob("*.toml"))

BASE = """name = "t"
seed = 0
input_size = 64
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
epochs = 1
lr = 1e-3
weight_decay = 0.0
warmup_steps = 2
checkpoint_every = 4
"""
MIX = """steps_per_epoch = 4
[[mix]]
source = "dfdc_real"
n = 2
[[mix]]
source = "dfdc_real"
n = 1
blend = true
"""


def _write(tmp_path, text: str):
    path = tmp_path / "recipe.toml"
    path.write_text(text)
    return path


def test_the_shipped_recipes_are_the_ones_configs_holds():
    assert [p.name for p in RECIPES] == ["mixed_effnetlite0_176_gpu.toml", "mixed_effnetlite0_176_v7.toml"]


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_every_shipped_recipe_loads_and_survives_a_round_trip(path):
    cfg = load_config(path)
    assert cfg.mixed and cfg.steps_per_epoch and all(isinstance(s, MixSlot) for s in cfg.mix)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_v7_leaves_no_fold_out_unless_asked(tmp_path):
    v7 = load_config(REPO / "configs" / "mixed_effnetlite0_176_v7.toml")
    assert v7.inswapper_fold is None and v7.init_from == "runs/v6_init.pt"
    text = (REPO / "configs" / "mixed_effnetlite0_176_v7.toml").read_text()
    fold = load_config(_write(tmp_path, text.replace("seed = 7\n", "seed = 7\ninswapper_fold = 1\n")))
    assert fold == dataclasses.replace(v7, inswapper_fold=1)


def test_defaults_fill_what_a_recipe_leaves_out(tmp_path):
    cfg = load_config(_write(tmp_path, BASE + MIX))
    assert cfg.mix == (MixSlot("dfdc_real", 2), MixSlot("dfdc_real", 1, blend=True))
    assert (cfg.arch, cfg.frozen_blocks, cfg.mask_weight, cfg.workers, cfg.probe_steps) == ("efficientnet-lite0", 0, 0.0, 1, PROBE)
    record = cfg.to_dict()
    assert record["mix"][1] == {"source": "dfdc_real", "n": 1, "blend": True} and record["mean"] == [0.485, 0.456, 0.406]


@pytest.mark.parametrize(("text", "said"), [
    (BASE + "lerning_rate = 0.1\n" + MIX, "unknown key 'lerning_rate'"),
    (BASE + MIX + "blnd = true\n", "[[mix]] table 2: unknown key 'blnd'"),
    (BASE.replace("seed = 0\n", "") + MIX, "missing key 'seed'"),
    (BASE + MIX.replace("steps_per_epoch = 4\n", ""), "a mixed recipe needs steps_per_epoch"),
    (BASE, "a self-blend recipe (no [[mix]] tables) needs pairs_per_batch"),
    (BASE + "seed = [\n", "not TOML"),
])
def test_a_bad_recipe_is_refused_in_one_line_naming_the_file(tmp_path, text, said):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ") and said in str(info.value) and "\n" not in str(info.value)


def test_training_refuses_an_unknown_key_before_reading_any_data(tmp_path, capsys):
    pytest.importorskip("torch")
    from unswap.train.__main__ import main

    cfg = _write(tmp_path, BASE + "lerning_rate = 0.1\n" + MIX)
    pack = tmp_path / "pack.npz"
    pack.write_bytes(b"")  # never opened: the recipe is refused first
    assert main(["--config", str(cfg), "--pack", str(pack), "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == f"python -m unswap.train: {cfg}: unknown key 'lerning_rate'\n"
    assert not (tmp_path / "run").exists()
