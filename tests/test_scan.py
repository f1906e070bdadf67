"""The scan pipeline on the shared DFDC clips and on the report round trip."""

from __future__ import annotations

import csv
import json
from fractions import Fraction

import numpy as np
import pytest
from tests.helpers.paths import DATA, SAMPLE, shared
from tests.helpers.media_files import write_anamorphic_video

from unswap.report import from_dict, to_dict
from unswap.scan import ScanConfig, Scanner

FROZEN = DATA / "report_v1.json"


@pytest.fixture(scope="module")
def scanner():
    return Scanner(ScanConfig())


def _dfdc_clips():
    with open(shared("videos", "labels.csv")) as f:
        rows = list(csv.DictReader(f))
    return [(r["path"], r["label"]) for r in rows if r["path"].startswith("dfdc/")]


@pytest.mark.slow
def test_every_dfdc_clip_has_a_track_inside_the_upright_frame(scanner):
    clips = _dfdc_clips()
    assert len(clips) == 6
    for rel, _ in clips:
        result = scanner.scan(shared("videos", rel))
        m = result.media
        assert result.frames_scored >= 19
        assert len(result.tracks) >= 1, rel
        for tr in result.tracks:
            for o in tr.observations:
                x0, y0, x1, y1 = o.box
                assert -1 <= x0 < x1 <= m.width + 1 and -1 <= y0 < y1 <= m.height + 1, rel
                assert o.t == pytest.approx(o.frame_index / m.fps, abs=0.05)
        if rel.endswith("brtujopkby.mp4"):
            assert (m.width, m.height) == (1080, 1920)


def test_every_frame_option_scores_each_frame_of_a_face_track(scanner):
    path = shared("videos", "dfdc_face_tracks", "real_aayrffkzxn.mp4_0_0.mp4")
    every = Scanner(ScanConfig(every_frame=True), detector=scanner.detector).scan(path)
    assert every.frames_scored == every.media.frame_count
    longest = max(every.tracks, key=lambda t: len(t.observations))
    assert len(longest.observations) >= 0.9 * every.frames_scored


def test_progress_counts_up_to_the_frames_it_announced(scanner):
    # 301 frames at 30.02 fps: 21 frames at 2 a second, though 10.03 s x 2 rounds to 20
    path = shared("videos", "dfdc", "yhffcuhhjy.mp4")
    calls = []
    result = scanner.scan(path, progress=lambda done, expected: calls.append((done, expected)))
    assert [done for done, _ in calls] == list(range(1, result.frames_scored + 1))
    assert {expected for _, expected in calls} == {result.frames_scored}


def test_scores_are_deterministic(scanner):
    a = to_dict(scanner.scan(SAMPLE))
    b = to_dict(scanner.scan(SAMPLE))
    assert a == b


def test_report_round_trips(scanner):
    d = to_dict(scanner.scan(SAMPLE))
    again = to_dict(from_dict(json.loads(json.dumps(d))))
    assert again == d


def test_frozen_v1_report_stays_readable():
    d = json.loads(FROZEN.read_text())
    result = from_dict(d)
    assert result.label == d["label"] and len(result.tracks) == len(d["tracks"])
    assert np.allclose(result.tracks[0].observations[0].box, d["tracks"][0]["frames"][0]["box"])


def _iou(a, b) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.mark.parametrize("pixel_aspect", [Fraction(2), Fraction(2, 3)])
def test_a_face_in_anamorphic_video_is_found_and_scored_in_its_true_shape(scanner, sample_rgb, tmp_path,
                                                                          pixel_aspect):
    # Stored squeezed (or stretched) sideways, as DVD and broadcast video is; a player
    # shows it at its true shape, and the scan must see that shape too.
    path = write_anamorphic_video(tmp_path / "anamorphic.mp4", sample_rgb, pixel_aspect, n_frames=3)
    still = scanner.scan(SAMPLE)
    clip = Scanner(ScanConfig(every_frame=True), detector=scanner.detector).scan(path)
    assert (clip.media.width, clip.media.height) == (still.media.width, still.media.height)
    [track] = clip.tracks
    [face] = still.tracks
    assert len(track.observations) == clip.frames_scored == 3
    for o in track.observations:
        assert _iou(o.box, face.observations[0].box) > 0.8
        assert 0.0 <= o.p_fake <= 1.0


def test_a_face_in_a_tiled_heic_photo_is_found_where_the_jpeg_has_it(scanner):
    heic = scanner.scan(DATA / "astronaut_grid.heic")
    jpeg = scanner.scan(SAMPLE)
    assert (heic.media.kind, heic.media.width, heic.media.height) == ("image", 512, 512)
    [track] = heic.tracks
    assert _iou(track.observations[0].box, jpeg.tracks[0].observations[0].box) > 0.9
