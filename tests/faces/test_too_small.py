"""Faces too small to judge are reported as "too-small" with their boxes, never scored."""

from __future__ import annotations

import json

import av
import cv2
import numpy as np
import pytest
from tests.helpers.paths import SAMPLE
from tests.helpers.media_files import VIDEO_CODEC

from unswap.cli import main
from unswap.faces.detect import detect_faces
from unswap.scan import MIN_FACE_PX, ScanConfig, Scanner
from unswap.vocabulary import words_for

FACE_PX = 16


def _small_face_picture() -> np.ndarray:
    """The bundled sample shrunk so its face box is about 16 px wide, on a grey 320x240 canvas."""
    rgb = np.ascontiguousarray(cv2.imread(str(SAMPLE))[:, :, ::-1])
    box = detect_faces(rgb).boxes[0]
    f = FACE_PX / float(box[2] - box[0])
    small = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    canvas = np.full((240, 320, 3), 128, np.uint8)
    canvas[60 : 60 + small.shape[0], 100 : 100 + small.shape[1]] = small
    return canvas


def _photo(tmp_path):
    path = tmp_path / "small_face.png"
    cv2.imwrite(str(path), _small_face_picture()[:, :, ::-1])
    return path


def _video(tmp_path, seconds: float = 2.0):
    path = tmp_path / "small_face.mp4"
    picture = _small_face_picture()
    with av.open(str(path), "w") as out:
        stream = out.add_stream(VIDEO_CODEC, rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for _ in range(round(25 * seconds)):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        out.mux(stream.encode())
    return path


@pytest.mark.parametrize("make", [_photo, _video], ids=["photo", "video"])
def test_a_16_px_face_is_too_small_and_the_file_says_so(tmp_path, capsys, make):
    path = make(tmp_path)
    assert main(["scan", "--json", str(path)]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["label"] == "too-small" and r["p_fake"] is None
    assert r["faces_too_small"] == sum(len(t["frames"]) for t in r["tracks"]) > 0
    for t in r["tracks"]:
        assert t["label"] == "too-small" and t["p_fake"] is None and t["segments"] == []
        for f in t["frames"]:
            x0, _, x1, _ = f["box"]
            assert f["too_small"] and f["p_fake"] is None and x1 - x0 < MIN_FACE_PX
            assert 100 < x0 < x1 < 100 + 512 * FACE_PX / 89  # inside the shrunk sample (its face is 89 px)
    assert main(["scan", str(path)]) == 0
    text = capsys.readouterr().out
    said = words_for("too-small", None, None, "video" if path.suffix == ".mp4" else "image")
    assert f": {said.headline}\n  {said.means}\n" in text and "nothing was scored" not in text


def test_a_lower_minimum_scores_the_same_face(tmp_path):
    path = _photo(tmp_path)
    result = Scanner(ScanConfig(min_face_px=8)).scan(path)
    assert result.label not in ("too-small", "no-face") and result.p_fake is not None
    assert result.faces_too_small == 0


def test_a_face_large_enough_is_scored_beside_a_small_one(tmp_path):
    canvas = np.ascontiguousarray(cv2.imread(str(SAMPLE))[:, :, ::-1])
    canvas[440:500, 10:100] = _small_face_picture()[50:110, 110:200]
    path = tmp_path / "two.png"
    cv2.imwrite(str(path), canvas[:, :, ::-1])
    result = Scanner().scan(path)
    labels = sorted(t.label for t in result.tracks)
    assert len(labels) == 2 and "too-small" in labels
    assert result.label != "too-small" and result.p_fake is not None
    assert result.faces_too_small == 1
