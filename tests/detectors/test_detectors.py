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


def test_every_shipped_detector_is_its_weights_folder_with_a_description():
    """A folder under detectors/weights is a detector: no list in code to keep in step."""
    from unswap.detectors import DEFAULT_DETECTOR, describe_detector
    from unswap.detectors.registry import WEIGHTS

    folders = sorted(p.name for p in WEIGHTS.iterdir() if (p / "config.json").is_file())
    assert DEFAULT_DETECTOR in folders and set(folders) <= set(list_detectors())
    for name in folders:
        said = describe_detector(name)
        assert said and "\n" not in said and said == create_detector(name).config.description


def test_a_folder_misnamed_for_its_config_is_refused(tmp_path, monkeypatch):
    from unswap.detectors import DEFAULT_DETECTOR, register_weights, registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    folder = tmp_path / "other.v1"
    folder.mkdir()
    (folder / "config.json").write_bytes((registry.WEIGHTS / DEFAULT_DETECTOR / "config.json").read_bytes())
    with pytest.raises(ValueError, match=f"must be named {DEFAULT_DETECTOR}"):
        register_weights(folder)
    assert "other.v1" not in list_detectors()


def test_a_registered_folder_is_created_by_name_and_may_share_weights(second_detector):
    """A variant's config may name another folder's ONNX file (``model``) rather than copy
    it: the registered variant runs that graph with its own settings (here a test-time flip)."""
    from unswap.detectors import DEFAULT_DETECTOR

    assert second_detector in list_detectors()
    base, variant = create_detector(DEFAULT_DETECTOR), create_detector(second_detector)
    assert (variant.folder / variant.config.model_file).resolve() == (base.folder / "model.onnx").resolve()
    assert variant.config.flip_tta and not base.config.flip_tta
    face = golden_crops(base.config.input_size)[:1]
    mirrored = np.concatenate([face, face[:, :, ::-1]])
    assert np.allclose(variant.raw(face)[0], base.raw(mirrored)[0].mean(), atol=1e-4)


def test_freeing_a_graphs_spatial_size_leaves_its_outputs_as_they_were(tmp_path):
    """derive_variant frees a fixed-size graph's height and width in place: the same
    weights then run at another size, their region map growing with the input (one cell
    per 16 px), and at the old size give the same bytes."""
    import shutil

    pytest.importorskip("onnx")
    from unswap.detectors import DEFAULT_DETECTOR
    from unswap.train.release.derive_variant import free_spatial_dims

    base = create_detector(DEFAULT_DETECTOR)  # exported for 176x176 only
    folder = tmp_path / DEFAULT_DETECTOR
    shutil.copytree(base.folder, folder)
    from unswap.detectors.effnet_onnx import OnnxDetector

    fixed = OnnxDetector(folder)
    g176 = fixed.preprocess(golden_crops(176))
    before, maps176 = fixed.forward_regions(g176)
    with pytest.raises(Exception, match="invalid dimensions"):
        fixed.forward(fixed.preprocess(golden_crops(192)))
    assert free_spatial_dims(folder / "model.onnx")
    assert not free_spatial_dims(folder / "model.onnx")  # already free
    freed = OnnxDetector(folder)
    after, maps_after = freed.forward_regions(g176)
    assert np.array_equal(after, before) and np.array_equal(maps_after, maps176)
    logits192, maps192 = freed.forward_regions(freed.preprocess(golden_crops(192)))
    assert logits192.shape == (3,) and maps176.shape == (3, 11, 11) and maps192.shape == (3, 12, 12)
