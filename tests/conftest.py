"""Fixtures shared by every test folder; paths and data helpers live in ``tests.helpers``."""

import numpy as np
import pytest

from tests.helpers.paths import SAMPLE


@pytest.fixture(scope="session")
def sample_rgb() -> np.ndarray:
    import cv2

    return np.ascontiguousarray(cv2.imread(str(SAMPLE))[:, :, ::-1])


@pytest.fixture(scope="session")
def sample_face(sample_rgb) -> tuple[np.ndarray, np.ndarray]:
    """The sample's face cut at the training crops' 224 px as the scan cuts it, and its
    five landmarks in that crop's pixels (as training sources hold them)."""
    from unswap.faces.align import CROP, crop, crop_box
    from unswap.faces.detect import detect_faces

    lm = detect_faces(sample_rgb).landmarks[0]
    box = crop_box(lm)
    return crop(sample_rgb, box, CROP), ((lm - box[:2]) * CROP / (box[2] - box[0])).astype(np.float32)


@pytest.fixture(scope="session")
def detector():
    from unswap.detectors import create_detector

    return create_detector()


@pytest.fixture
def second_detector(tmp_path, monkeypatch) -> str:
    """The name of a second detector, registered for this test only: the default's config
    under version ``<v>flip``, scoring each face and its mirror image with the default's
    ONNX file (referred to, not copied). Built here because the package ships one detector."""
    import json

    from unswap.detectors import DEFAULT_DETECTOR, registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    base = registry.WEIGHTS / DEFAULT_DETECTOR
    raw = json.loads((base / "config.json").read_text())
    raw.update(version=raw["version"] + "flip", model=str(base / "model.onnx"), test_time={"flip": True},
               description="The default detector's network run on each face and its mirror image.")
    raw.pop("export_check", None)  # the flip changes the logits the check holds
    folder = tmp_path / f"{raw['name']}.{raw['version']}"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(raw, indent=2))
    return registry.register_weights(folder)
