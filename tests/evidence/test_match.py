"""Source matching: segments from hashes (synthetic, seeded) and, on real transformations of a
real DFDC clip built here, trimmed copies found with their times, unrelated media rejected,
and the difference map landing on the edited face."""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers.paths import SAMPLE, shared
from tests.helpers.derived_clips import Clips, build, noise_clip
from tests.helpers.media_files import not_media

from unswap.cli import main
from unswap.evidence.hashing import MediaHashes, read_hashes, write_hashes
from unswap.evidence.match import (
    MatchConfig,
    MatchError,
    SourceIndex,
    align,
    difference,
    find_segments,
    match,
    media_files,
    to_dict,
)

# ---- segments from hashes (synthetic) --------------------------------------------------


def _hashes(bits: np.ndarray, t: np.ndarray | None = None, quality=100, kind: str = "video") -> MediaHashes:
    n = len(bits)
    t = np.arange(n, dtype=float) if t is None else t
    return MediaHashes("x", "0" * 64, kind, 64, 48, None if kind == "image" else 30.0, None,
                       None if kind == "image" else 1.0, np.arange(n) * 30, t, np.full(n, quality), bits)


def _flip(bits: np.ndarray, count: int, rng) -> np.ndarray:
    """``bits`` (N, 32) with ``count`` random bits of each row flipped (a re-encoded copy)."""
    out = np.unpackbits(bits, axis=1)
    for row in out:
        row[rng.choice(256, count, replace=False)] ^= 1
    return np.packbits(out, axis=1)


@pytest.fixture
def source_bits() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (60, 32), dtype=np.uint8)


def test_recut_copy_gives_one_segment_per_cut(source_bits):
    rng = np.random.default_rng(1)
    # Suspect: source 10-19 s, then source 40-49 s, each frame 12 bits off (a re-encode).
    suspect = _hashes(_flip(np.concatenate([source_bits[10:20], source_bits[40:50]]), 12, rng))
    segments = find_segments(suspect, _hashes(source_bits), MatchConfig(sample_fps=1.0))
    got = sorted((s.suspect_start_s, s.suspect_end_s, s.source_start_s, s.source_end_s, s.offset_s, s.frames)
                 for s in segments)
    assert got == [(0, 9, 10, 19, 10, 10), (10, 19, 40, 49, 30, 10)]
    assert all(s.median_distance == 12 and s.max_distance == 12 for s in segments)


def test_denser_suspect_sampling_still_finds_the_offset(source_bits):
    t = np.arange(0, 10, 0.5)  # suspect at 2 fps, source at 1 fps; half the frames fall between
    src = _hashes(source_bits)
    bits = np.array([source_bits[int(25 + x)] if x % 1 == 0 else _flip(source_bits[[int(25 + x)]], 20,
                     np.random.default_rng(int(x * 10)))[0] for x in t])
    [seg] = find_segments(_hashes(bits, t), src, MatchConfig())
    assert seg.offset_s == 25 and (seg.suspect_start_s, seg.suspect_end_s) == (0, 9.5)


@pytest.mark.parametrize("case", ["unrelated", "two frames", "inconsistent times", "low quality"])
def test_no_segment_without_several_consistent_good_frames(source_bits, case):
    rng = np.random.default_rng(2)
    suspect_bits = rng.integers(0, 256, (20, 32), dtype=np.uint8)
    quality = 100
    if case == "two frames":
        suspect_bits[5:7] = source_bits[30:32]
    elif case == "inconsistent times":
        suspect_bits[[4, 5, 6]] = source_bits[[30, 5, 50]]
    elif case == "low quality":
        suspect_bits[:] = source_bits[20:40]
        quality = 30
    assert find_segments(_hashes(suspect_bits, quality=quality), _hashes(source_bits)) == []


def test_an_image_matches_the_video_frame_it_was_taken_from(source_bits):
    still = _hashes(_flip(source_bits[[37]], 9, np.random.default_rng(3)), kind="image")
    [seg] = find_segments(still, _hashes(source_bits))
    assert (seg.suspect_start_s, seg.source_start_s, seg.frames, seg.max_distance) == (0, 37, 1, 9)
    # And a video that shows that image for a while matches it in one run.
    video = _hashes(np.concatenate([source_bits[:5], np.repeat(still.bits, 4, axis=0)]))
    [seg] = find_segments(video, still)
    assert (seg.suspect_start_s, seg.suspect_end_s, seg.source_start_s, seg.frames) == (5, 8, 0, 4)


# ---- registration ------------------------------------------------------------------


def test_align_maps_suspect_pixels_to_source_pixels_through_crop_and_rescale(sample_rgb):
    crop = sample_rgb[20:480, 30:500]
    suspect = cv2.resize(crop, (round(470 * 0.7), round(460 * 0.7)), interpolation=cv2.INTER_AREA)
    matrix, inliers = align(suspect, sample_rgb)
    expected = np.array([[1 / 0.7, 0, 30], [0, 1 / 0.7, 20]])
    points = np.array([[0, 0, 1], [300, 0, 1], [0, 300, 1], [300, 300, 1]], float).T
    assert np.abs(matrix @ points - expected @ points).max() < 2.0
    assert inliers >= 50
    noise = np.random.default_rng(0).integers(0, 256, sample_rgb.shape, dtype=np.uint8)
    assert align(noise, sample_rgb) is None


# ---- real transformations of a real clip -------------------------------------------


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _outside(changed: np.ndarray, box, grow: float = 0.15) -> float:
    """Share of the changed pixels outside ``box`` grown by ``grow`` of its size."""
    x0, y0, x1, y1 = box
    gx, gy = grow * (x1 - x0), grow * (y1 - y0)
    inside = np.zeros_like(changed)
    inside[max(0, int(y0 - gy)):int(y1 + gy) + 1, max(0, int(x0 - gx)):int(x1 + gx) + 1] = True
    return float((changed & ~inside).sum() / max(1, changed.sum()))


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Clips:
    return build(shared("videos", "dfdc", "lynaeydofd.mp4"), tmp_path_factory.mktemp("derived"))


@pytest.fixture(scope="module")
def library(clips, tmp_path_factory) -> Path:
    """The sources: the clip's library copy, unrelated media, and a file that is not media;
    one source is a link to a clip out of the folder (read with ``follow_links``)."""
    lib = tmp_path_factory.mktemp("library")
    for clip in (clips.source, clips.noise, clips.flat):
        shutil.copy(clip, lib / clip.name)
    (lib / "brtujopkby.mp4").symlink_to(shared("videos", "dfdc", "brtujopkby.mp4"))
    (lib / "notes.txt").write_text("not media\n")
    return lib


@pytest.fixture(scope="module")
def hash_file(library, tmp_path_factory) -> Path:
    """``unswap hash --fps 2`` of the library's videos, as a user would write it."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["hash", "--fps", "2", *(str(p) for p in sorted(library.glob("*.mp4")))])
    assert code == 0
    path = tmp_path_factory.mktemp("hashes") / "library.txt"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.mark.slow
def test_edit_box_covers_the_face_throughout(clips):
    x0, y0, x1, y1 = clips.box
    fx0, fy0, fx1, fy1 = clips.last_face
    assert x0 <= fx0 and y0 <= fy0 and x1 >= fx1 and y1 >= fy1


def _check_trim(seg, tolerance: float) -> None:
    assert seg.suspect_start_s == pytest.approx(0.0, abs=tolerance)
    assert seg.suspect_end_s == pytest.approx(5.0, abs=tolerance)
    assert seg.source_start_s == pytest.approx(3.0, abs=tolerance)
    assert seg.source_end_s == pytest.approx(8.0, abs=tolerance)
    assert seg.frames >= 8 and seg.max_distance <= 31


@pytest.mark.slow
def test_trimmed_rescaled_reencoded_copy_is_found_in_a_folder(clips, library):
    result = match(clips.suspect, library, follow_links=True)
    assert result.sources_compared == 4
    assert [Path(p).name for p, _ in result.skipped] == ["notes.txt"]
    [found] = result.matches
    assert Path(found.path).name == "source.mp4"
    [seg] = found.segments
    _check_trim(seg, 1.0)
    # With the source media at hand the offset is refined to the frame (a near-still shot:
    # neighbouring frames barely differ, so within three frames).
    assert seg.offset_s == pytest.approx(3.0, abs=0.1)
    assert seg.median_distance <= 12
    d = found.difference
    assert d is not None and d.source_t == pytest.approx(d.suspect_t + 3.0, abs=0.1)
    assert d.box is None and d.fraction == 0.0, "a plain re-encode changed nothing"
    assert d.map.shape == (270, 480) and np.nanmax(d.map) < 60


@pytest.mark.slow
def test_hash_file_finds_the_same_and_uses_the_media_still_at_hand(clips, hash_file, tmp_path):
    result = match(clips.suspect, hash_file)
    assert result.sources_compared == 4 and result.skipped == []
    [found] = result.matches
    _check_trim(found.segments[0], 1.0)
    assert found.difference is not None  # recorded path still there, same SHA-256

    # Without the media, the hashes alone still place the copy, to within a second.
    records = read_hashes(hash_file)
    for r in records:
        r.path = str(tmp_path / "gone" / Path(r.path).name)
    moved = tmp_path / "moved.txt"
    with open(moved, "w", encoding="utf-8") as f:
        write_hashes(records, f)
    [found] = match(clips.suspect, moved).matches
    assert found.difference is None and found.path.endswith("gone/source.mp4")
    _check_trim(found.segments[0], 1.0)


@pytest.mark.slow
def test_unrelated_media_do_not_match_each_other(hash_file):
    records = {Path(r.path).name: r for r in read_hashes(hash_file)}
    assert set(records) == {"source.mp4", "noise.mp4", "flat.mp4", "brtujopkby.mp4"}
    for a in records.values():
        for b in records.values():
            if a is not b:
                assert find_segments(a, b) == [], (a.path, b.path)


@pytest.mark.slow
def test_flat_frames_are_ignored_not_matched(hash_file):
    [flat] = [r for r in read_hashes(hash_file) if r.path.endswith("flat.mp4")]
    assert flat.quality.max() < 50
    assert find_segments(flat, flat) == []
    assert find_segments(flat, flat, MatchConfig(min_quality=0)) != []  # the quality rule is what refuses


@pytest.mark.slow
def test_blurred_face_is_the_region_that_differs(clips, hash_file):
    result = match(clips.blurred, hash_file)
    [found] = result.matches
    _check_trim(found.segments[0], 1.0)
    d = found.difference
    assert d is not None and d.map.shape == d.changed.shape == (266, 474)
    assert _iou(d.box, clips.blurred_box) >= 0.6, (d.box, clips.blurred_box)
    assert _outside(d.changed, clips.blurred_box) <= 0.02
    assert 0.01 <= d.fraction <= 0.06  # the face, not the frame


@pytest.mark.slow
def test_pixelated_still_is_placed_in_time_and_its_face_found(clips, hash_file):
    [found] = match(clips.still, hash_file).matches
    [seg] = found.segments
    assert seg.source_start_s == pytest.approx(5.0, abs=0.5) and seg.frames == 1
    d = found.difference
    assert d.source_t == pytest.approx(5.0, abs=0.1)
    assert _iou(d.box, clips.still_box) >= 0.6, (d.box, clips.still_box)
    assert _outside(d.changed, clips.still_box) <= 0.02


@pytest.mark.slow
def test_difference_of_a_frame_with_itself_is_empty(clips):
    from unswap.media import frames

    frame = next(iter(frames(clips.source, sample_fps=0.5))).image
    d = difference(frame, frame)
    assert d.box is None and d.fraction == 0.0 and np.nanmax(d.map) < 1.0
    np.testing.assert_allclose(d.source_from_suspect, [[1, 0, 0], [0, 1, 0]], atol=0.01)


# ---- the command -------------------------------------------------------------------


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_cli_json_and_text(clips, hash_file, capsys):
    code, out, err = run(capsys, "match", clips.suspect, "--against", hash_file, "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["sources_compared"] == 4 and doc["max_distance"] == 31
    [m] = doc["matches"]
    [seg] = m["segments"]
    assert seg["source_start_s"] == pytest.approx(3.0, abs=1.0) and seg["frames"] >= 8
    assert m["difference"]["box"] is None and len(m["difference"]["source_from_suspect"]) == 2

    code, out, _ = run(capsys, "match", clips.suspect, "--against", hash_file, "--no-difference")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{clips.suspect}: found in 1 of 4 source(s)"
    assert "source.mp4 (video)" in lines[1] and "offset +" in lines[2] and len(lines) == 3


@pytest.mark.slow
def test_cli_noise_suspect_matches_nothing(hash_file, tmp_path, capsys):
    noise = noise_clip(tmp_path / "other_noise.mp4", seed=6)
    code, out, _ = run(capsys, "match", noise, "--against", hash_file)
    assert code == 0 and out.strip() == f"{noise}: no match among 4 source(s)"


def test_cli_bad_inputs_are_one_line(tmp_path, capsys):
    hashes = tmp_path / "h.txt"
    hashes.write_text("# unswap-hashes 1\n")
    cases = [
        (not_media(tmp_path, "missing"), hashes),
        (not_media(tmp_path, "text"), hashes),
        (SAMPLE, tmp_path / "nowhere"),
        (SAMPLE, SAMPLE),  # a picture is not a hash file
    ]
    for suspect, against in cases:
        code, out, err = run(capsys, "match", suspect, "--against", against)
        lines = err.strip().splitlines()
        assert code == 2 and out == "" and len(lines) == 1 and "Traceback" not in err, (suspect, against, err)
        assert lines[0].startswith(f"unswap: {against if suspect == SAMPLE else suspect}: ")


def test_empty_hash_file_matches_nothing(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# unswap-hashes 1\n")
    result = match(SAMPLE, path)
    assert result.matches == [] and result.sources_compared == 0


def test_media_files_walks_sorted_and_skips_hidden(tmp_path):
    for rel in ["b.mp4", "a/c.jpg", ".hidden.jpg", ".git/x.jpg", "a/.d.png"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in media_files(tmp_path)] == ["a/c.jpg", "b.mp4"]
    with pytest.raises(MatchError, match="no such file or folder"):
        match(SAMPLE, tmp_path / "missing")


def test_an_index_built_once_answers_as_match_does_each_time(tmp_path):
    """One index (a folder's, a hash file's, or hashes at hand) searched for several
    suspects gives what ``match`` gives when it reads the sources itself."""
    folder = tmp_path / "sources"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "copy.jpg")
    cv2.imwrite(str(folder / "other.png"), cv2.imread(str(SAMPLE))[::-1])  # upside down: another picture
    (folder / "notes.txt").write_text("not media\n")
    hash_file = tmp_path / "sources.txt"
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["hash", str(folder)]) == 0
    hash_file.write_text(out.getvalue(), encoding="utf-8")
    upside_down = tmp_path / "upside_down.jpg"
    cv2.imwrite(str(upside_down), cv2.imread(str(SAMPLE))[::-1])

    for against in (folder, hash_file):
        index = SourceIndex.load(against)
        for suspect in (SAMPLE, upside_down):
            by_index, by_path = match(suspect, index), match(suspect, against)
            assert to_dict(by_index) == to_dict(by_path)
            assert [Path(m.path).name for m in by_index.matches] == [
                "copy.jpg" if suspect == SAMPLE else "other.png"]
            assert by_index.matches[0].difference is not None  # the source's media is at hand
        assert [Path(p).name for p, _ in index.skipped] == (["notes.txt"] if against == folder else [])
    # hashes alone: the same sources found, without a difference map
    from_hashes = SourceIndex.from_hashes(read_hashes(hash_file)).search(match(SAMPLE, folder).suspect)
    assert [(Path(m.path).name, m.difference) for m in from_hashes.matches] == [("copy.jpg", None)]
