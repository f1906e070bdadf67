"""Every registered detector: output shape and range, determinism, export equivalence."""

from __future__ import annotations

import json

import numpy as np
import pytest

from unswap.detectors import create_detector, list_detectors
from unswap.detectors.base import golden_crops
from unswap.faces import align


@pytest.fixture(scope="module", params=list_detectors())
def det(request):
    return create_detector(request.param)


def test_scores_have_one_probability_per_crop(det):
    s = det.config.input_size
    crops = np.random.default_rng(0).integers(0, 256, (5, s, s, 3), dtype=np.uint8)
    p = det.score(crops, batch_size=2)
    assert p.shape == (5,) and ((0 <= p) & (p <= 1)).all()
    assert det.score(crops[:0]).shape == (0,)


def test_scores_are_deterministic_and_batch_independent(det):
    g = golden_crops(det.config.input_size)
    a = det.score(g, batch_size=3)
    b = np.concatenate([det.score(g[i : i + 1]) for i in range(3)])
    assert np.allclose(a, b, atol=1e-5)


def test_onnx_matches_the_torch_model_it_was_exported_from(det):
    check = json.loads((det.folder / "config.json").read_text()).get("export_check")
    if check is None:
        pytest.skip(f"{det.id} ships no export check")
    logits = det.forward(det.preprocess(golden_crops(det.config.input_size)))
    torch_logits = np.asarray(check["torch_logits"])
    # The seeded noise crop is the same bytes on every machine: the graph must match torch
    # to float precision on it. The face crops were resampled on the exporting machine,
    # whose SIMD warpAffine may round a grey level away from the plain path used now
    # (measured: logits up to 0.005 apart); an export bug moves logits by tenths.
    assert np.allclose(logits[2], torch_logits[2], atol=2e-3)
    assert np.allclose(logits[:2], torch_logits[:2], atol=1e-2)


def test_config_crop_geometry_is_the_one_the_scan_path_uses(det):
    assert det.config.side_per_scale == align.SIDE_PER_SCALE
    assert det.config.center_below == align.CENTER_BELOW


def test_region_maps_when_a_detector_has_them_agree_with_its_scores(det):
    g = golden_crops(det.config.input_size)
    p, regions = det.score_regions(g, batch_size=2)
    assert np.allclose(p, det.score(g), atol=1e-6)
    region = json.loads((det.folder / "config.json").read_text()).get("region")
    if region is None:
        assert regions is None
        return
    side = region["side"]
    assert regions.shape == (3, side, side) and regions.dtype == np.float32
    assert ((0 <= regions) & (regions <= 1)).all()


def test_flip_tta_averages_a_crop_and_its_mirror_image(det):
    """With ``flip_tta`` a face and its mirror image score the same (the test-time flip
    is symmetric), and the raw logit is the mean of the two plain forward passes."""
    import dataclasses

    g = golden_crops(det.config.input_size)[:1]  # the sample's face
    pair = np.concatenate([g, g[:, :, ::-1]])
    flip_cfg = dataclasses.replace(det.config, flip_tta=True)
    plain_cfg = dataclasses.replace(det.config, flip_tta=False)
    orig = det.config
    try:
        det.config = plain_cfg
        plain, plain_maps = det.raw(pair, regions=True)
        det.config = flip_cfg
        flipped, flipped_maps = det.raw(pair, regions=True)
    finally:
        det.config = orig
    assert not np.isclose(plain[0], plain[1], atol=1e-3)  # the network itself is not symmetric
    assert np.allclose(flipped, [plain.mean()] * 2, atol=1e-4)
    if plain_maps is not None:
        assert np.allclose(flipped_maps[0], (plain_maps[0] + plain_maps[1][:, ::-1]) / 2, atol=1e-4)
        assert np.allclose(flipped_maps[0], flipped_maps[1][:, ::-1], atol=1e-4)


def test_a_variant_sharing_weights_finds_them():
    """effnetlite0_sbi.v3 reuses v2's ONNX file rather than shipping a copy."""
    v3 = create_detector("effnetlite0_sbi.v3")
    assert v3.config.flip_tta and (v3.folder / v3.config.model_file).resolve() == (
        create_detector("effnetlite0_sbi.v2").folder / "model.onnx").resolve()


def test_a_size_variant_runs_its_base_graph_on_larger_crops():
    """effnetlite0_mixed.v5 is v4's ONNX file run once on 192x192 crops: the graph takes
    either size, and its region map grows with the input (12x12 cells of 16 px)."""
    v4, v5 = create_detector("effnetlite0_mixed.v4"), create_detector("effnetlite0_mixed.v5")
    assert (v5.folder / v5.config.model_file).resolve() == (v4.folder / "model.onnx").resolve()
    assert (v4.config.input_size, v4.config.flip_tta) == (160, True)
    assert (v5.config.input_size, v5.config.flip_tta) == (192, False)
    _, maps4 = v4.score_regions(golden_crops(160))
    _, maps5 = v5.score_regions(golden_crops(192))
    assert maps4.shape == (3, 10, 10) and maps5.shape == (3, 12, 12)


def test_freeing_a_graphs_spatial_size_leaves_its_outputs_as_they_were(tmp_path):
    """scripts/derive_variant.py frees a fixed-size graph's height and width in place: the
    same weights then run at another size, and at the old one give the same bytes."""
    import importlib.util
    import shutil

    pytest.importorskip("onnx")
    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("derive_variant", REPO / "scripts" / "derive_variant.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    v1 = create_detector("effnetlite0_sbi.v1")  # exported for 160x160 only
    folder = tmp_path / "v1"
    shutil.copytree(v1.folder, folder)
    from unswap.detectors.effnet_onnx import OnnxDetector

    fixed = OnnxDetector(folder)
    g160 = fixed.preprocess(golden_crops(160))
    before = fixed.forward(g160)
    with pytest.raises(Exception):
        fixed.forward(fixed.preprocess(golden_crops(192)))
    assert mod.free_spatial_dims(folder / "model.onnx")
    assert not mod.free_spatial_dims(folder / "model.onnx")  # already free
    freed = OnnxDetector(folder)
    assert np.array_equal(freed.forward(g160), before)
    assert freed.forward(freed.preprocess(golden_crops(192))).shape == (3,)
