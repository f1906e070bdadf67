"""Shot cuts: found while decoding, and no face track spans one."""

from __future__ import annotations

import numpy as np
import pytest
from tests.helpers.paths import shared
from tests.helpers.joined_clips import join_clips
from tests.helpers.media_files import write_video

from unswap.media import frames, probe
from unswap.shots import ShotDetector, shot_spans

CLIPS = ["abofeumbvv.mp4", "lynaeydofd.mp4", "widuwuoiur.mp4"]  # three different people (labels.csv)


def _feed(pictures) -> list[float]:
    det = ShotDetector()
    for i, p in enumerate(pictures):
        det.feed(i / 30, np.asarray(p, np.int16))
    return det.cuts


def test_a_hard_change_is_a_cut_and_a_steady_picture_is_not():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 256, (36, 64)), rng.integers(0, 256, (36, 64))
    assert _feed([a] * 10) == []
    assert _feed([a] * 10 + [b] * 10) == [10 / 30]
    assert _feed([a] * 10 + [b] * 10 + [a] * 3) == [10 / 30, 20 / 30]  # a shot of three frames is one too


def test_a_pan_whose_every_frame_differs_is_not_a_cut():
    rng = np.random.default_rng(1)
    wide = rng.integers(0, 256, (36, 400)).astype(np.float32)
    wide = (wide + np.roll(wide, 1, 1) + np.roll(wide, 2, 1)) / 3  # some spatial correlation, like a scene
    pan = [wide[:, 4 * i : 4 * i + 64] for i in range(60)]
    assert _feed(pan[:12]) == _feed(pan) == []  # the same change frame after frame


def test_shot_spans_cover_the_video():
    assert shot_spans([], 10.0) == [(0.0, 10.0)]
    assert shot_spans([4.0, 8.0], 12.0) == [(0.0, 4.0), (4.0, 8.0), (8.0, 12.0)]


def test_a_small_synthetic_clip_is_one_shot(tmp_path):
    video = write_video(tmp_path / "clip.mp4")  # grey level steps of 4 a frame: no cut
    det = ShotDetector()
    shots = {f.shot for f in frames(video, every_frame=True, shots=det)}
    assert det.cuts == [] and shots == {0}


@pytest.mark.slow
@pytest.mark.parametrize("clip", ["abofeumbvv.mp4", "abqwwspghj.mp4", "brtujopkby.mp4", "lynaeydofd.mp4",
                                  "widuwuoiur.mp4", "yhffcuhhjy.mp4"])
def test_each_shared_dfdc_clip_is_one_shot(clip):
    path = shared("videos", "dfdc", clip)
    det = ShotDetector()
    for _ in frames(path, probe(path), shots=det):
        pass
    assert det.cuts == []


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    paths = [shared("videos", "dfdc", c) for c in CLIPS]
    out = tmp_path_factory.mktemp("joined") / "joined.mp4"
    return out, join_clips(paths, out)


@pytest.mark.slow
def test_a_file_joined_from_three_clips_has_its_cuts_and_no_track_spans_one(joined, capsys):
    import json

    from unswap.cli import main

    path, joins = joined
    assert main(["scan", "--json", str(path)]) == 0
    r = json.loads(capsys.readouterr().out)
    shots = r["shots"]
    assert len(shots) == len(joins) + 1
    for cut, truth in zip([s["start_s"] for s in shots[1:]], joins):
        assert abs(cut - truth) <= 0.5
    assert len(r["tracks"]) >= 3  # at 960x540 the first clip's face is too small to judge, still a track
    for t in r["tracks"]:
        shot = shots[t["shot"]]
        times = [f["t"] for f in t["frames"]]
        assert shot["start_s"] <= min(times) and max(times) < shot["end_s"] or t["shot"] == len(shots) - 1
        assert all(shot["start_s"] <= x <= shot["end_s"] for x in times)
    assert {t["shot"] for t in r["tracks"]} == set(range(len(shots)))  # a face found in every shot
