"""Media decode: probe() and frames() on small files built here, plus a few shared clips."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from tests.helpers.paths import DATA, shared
from tests.helpers.media_files import (
    FPS,
    N_FRAMES,
    H,
    W,
    level,
    not_media,
    png_claiming,
    rgb,
    write_anamorphic_video,
    write_video,
)
from PIL import ExifTags, Image

from unswap import media
from unswap.media import DEFAULT_SAMPLE_FPS, MediaError, frames, planned_frames, probe
from unswap.types import MediaInfo


def _grey(frame_image: np.ndarray) -> float:
    """Mean of the stored frame's plain grey area (right half, above the noise strip)."""
    return float(frame_image[H // 2 : H - 8, W // 2 :].mean())


def av_width(path: Path) -> int:
    """The stored (coded) width of a video's frames."""
    with av.open(str(path)) as c:
        return next(c.decode(video=0)).width


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("media") / "clip.mp4")


def _bright_quadrant(image: np.ndarray) -> str:
    h, w = image.shape[0] // 2, image.shape[1] // 2
    quads = {"tl": image[:h, :w], "tr": image[:h, w:], "bl": image[h:, :w], "br": image[h:, w:]}
    return max(quads, key=lambda k: quads[k].mean())


# ---- still images ---------------------------------------------------------------------


@pytest.mark.parametrize("ext, lossless", [("jpg", False), ("png", True), ("webp", True), ("avif", False)])
def test_still_image_gives_one_upright_rgb_frame(tmp_path, ext, lossless):
    pixels = rgb()
    path = tmp_path / f"img.{ext}"
    Image.fromarray(pixels).save(path, **({"lossless": True} if ext == "webp" else {}))

    info = probe(path)
    assert (info.kind, info.width, info.height, info.fps, info.rotation) == ("image", 40, 30, None, 0)
    [frame] = list(frames(path, info))
    assert (frame.index, frame.t, frame.image.shape, frame.image.dtype) == (0, 0.0, (30, 40, 3), np.uint8)
    if lossless:
        np.testing.assert_array_equal(frame.image, pixels)


def test_exif_orientation_6_is_applied(tmp_path):
    stored = np.zeros((30, 40, 3), np.uint8)
    stored[:15, :20] = 255
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # shown turned 90 degrees clockwise
    path = tmp_path / "phone.jpg"
    Image.fromarray(stored).save(path, exif=exif, quality=95)

    info = probe(path)
    assert (info.width, info.height, info.rotation) == (30, 40, 90)
    [frame] = list(frames(path))
    assert frame.image.shape == (40, 30, 3)
    assert _bright_quadrant(frame.image) == "tr"


COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]


@pytest.mark.parametrize("ext", ["gif", "webp", "png"])
def test_animated_image_is_a_timeline_of_its_frames(tmp_path, ext):
    pages = [Image.new("RGB", (32, 24), c) for c in COLOURS]
    durations = [200, 300, 0, 500, 100]  # ms; a delay of none shows for 100 ms, as in browsers
    path = tmp_path / f"anim.{ext}"
    pages[0].save(path, save_all=True, append_images=pages[1:], duration=durations, loop=0,
                  **({"lossless": True} if ext == "webp" else {}))

    info = probe(path)
    assert (info.kind, info.width, info.height, info.frame_count) == ("video", 32, 24, 5)
    assert info.duration_s == pytest.approx(1.2)
    got = list(frames(path, info, every_frame=True))
    assert [f.index for f in got] == [0, 1, 2, 3, 4]
    assert [f.t for f in got] == pytest.approx([0.0, 0.2, 0.5, 0.6, 1.1])
    assert [tuple(f.image[12, 16]) for f in got] == COLOURS
    sampled = list(frames(path, info, sample_fps=2.0))  # mean rate 4.2 fps: every other frame
    assert [f.index for f in sampled] == [0, 2, 4]
    assert planned_frames(info, sample_fps=2.0) == len(sampled)


@pytest.mark.parametrize(
    "name, stored",
    [
        ("g16.png", lambda g: g.astype(np.uint16) * 257),  # Pillow mode I;16
        ("g32.tif", lambda g: g.astype(np.int32) * 257),  # mode I, 16-bit values
        ("gf.tif", lambda g: (g / 255).astype(np.float32)),  # mode F, 0..1
    ],
)
def test_deep_greyscale_image_keeps_its_tones(tmp_path, name, stored):
    grey = rgb(30, 40)[:, :, 0]
    path = tmp_path / name
    Image.fromarray(stored(grey)).save(path)
    [frame] = list(frames(path))
    assert frame.image.shape == (30, 40, 3)
    np.testing.assert_array_equal(frame.image[:, :, 0], grey)
    np.testing.assert_array_equal(frame.image[:, :, 2], grey)


def test_multi_page_tiff_uses_its_first_page(tmp_path):
    pages = [Image.new("RGB", (32, 24), c) for c in COLOURS[:3]]
    path = tmp_path / "pages.tiff"
    pages[0].save(path, save_all=True, append_images=pages[1:])

    info = probe(path)
    assert (info.kind, info.width, info.height) == ("image", 32, 24)
    [frame] = list(frames(path, info))
    assert tuple(frame.image[0, 0]) == COLOURS[0]


def test_animation_that_breaks_off_ends_after_the_frames_that_decode(tmp_path, caplog):
    rng = np.random.default_rng(0)
    pages = [Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)) for _ in range(4)]
    path = tmp_path / "anim.gif"
    pages[0].save(path, save_all=True, append_images=pages[1:], duration=500, loop=0)
    whole = probe(path)
    data = path.read_bytes()
    cut = tmp_path / "cut.gif"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    info = probe(cut)
    assert 0 < info.frame_count < 4
    assert len(list(frames(cut, info, every_frame=True))) == info.frame_count
    # with the whole file's count, as when it is cut while being scanned
    assert len(list(frames(cut, whole, every_frame=True))) == info.frame_count
    assert "breaks off" in caplog.text


@pytest.mark.parametrize(
    "width, height, says",
    [
        (30000, 30000, "900 megapixels, over the 100 megapixel limit"),  # Pillow itself refuses
        (12000, 10000, "12000x10000 pixels, over the 100 megapixel limit"),  # only our check does
    ],
)
def test_decompression_bomb_is_refused_from_the_header(tmp_path, width, height, says):
    path = png_claiming(tmp_path / "bomb.png", width, height)
    with pytest.raises(MediaError, match=says):
        probe(path)
    with pytest.raises(MediaError, match=says):
        next(frames(path, MediaInfo(str(path), "image", 8, 8)))  # frames() guards on its own too


HEIC_GRID = DATA / "astronaut_grid.heic"
HEIC_PORTRAIT = DATA / "astronaut_portrait.heic"


@pytest.mark.parametrize("path, columns", [(HEIC_GRID, slice(0, 512)), (HEIC_PORTRAIT, slice(64, 448))])
def test_heic_photo_is_read_whole_and_upright(path, columns, sample_rgb):
    # A phone's HEIC photo is a grid of tiles, often stored turned with an irot box.
    expected = sample_rgb[:, columns]
    info = probe(path)
    assert (info.kind, info.width, info.height) == ("image", expected.shape[1], expected.shape[0])
    [frame] = list(frames(path, info))
    assert frame.image.shape == expected.shape
    assert np.abs(frame.image.astype(int) - expected).mean() < 4  # HEVC at quality 60 against the JPEG


def test_tiled_image_is_refused_by_the_video_path_rather_than_read_one_tile():
    # FFmpeg opens a HEIF grid as one stream per tile; scanning a tile would be a silent wrong answer.
    with pytest.raises(MediaError, match="tiled image"):
        media._open_video(HEIC_GRID)


def test_heic_without_its_plugin_says_what_to_install(monkeypatch):
    monkeypatch.setattr(media, "_heif_plugin", lambda: False)
    with pytest.raises(MediaError, match="pip install pi-heif"):
        probe(HEIC_GRID)


# ---- videos ---------------------------------------------------------------------------


def test_video_probe(video):
    info = probe(video)
    assert (info.kind, info.width, info.height, info.rotation) == ("video", W, H, 0)
    assert info.fps == pytest.approx(FPS)
    assert info.frame_count == N_FRAMES
    assert info.duration_s == pytest.approx(N_FRAMES / FPS, abs=0.05)


def test_every_frame_has_its_true_index_and_time(video):
    got = list(frames(video, every_frame=True))
    assert [f.index for f in got] == list(range(N_FRAMES))
    assert [f.t for f in got] == pytest.approx([i / FPS for i in range(N_FRAMES)], abs=1e-6)
    for f in got:
        assert f.image.shape == (H, W, 3)
        assert _grey(f.image) == pytest.approx(level(f.index), abs=4)


@pytest.mark.parametrize(
    "kwargs, indexes",
    [
        ({}, [0, 13, 25, 38]),  # DEFAULT_SAMPLE_FPS = 2: one frame every 12.5
        ({"sample_fps": 5.0}, list(range(0, N_FRAMES, 5))),
        ({"sample_fps": 100.0}, list(range(N_FRAMES))),
        ({"max_frames": 3}, [0, 17, 33]),  # the cap spreads the frames over the whole clip
        ({"every_frame": True, "max_frames": 3}, [0, 1, 2]),
    ],
)
def test_sampling_picks_frames_evenly_in_time(video, kwargs, indexes):
    assert DEFAULT_SAMPLE_FPS == 2.0
    got = list(frames(video, probe(video), **kwargs))
    assert [f.index for f in got] == indexes
    for f in got:
        assert f.t == pytest.approx(f.index / FPS, abs=1e-6)
        assert _grey(f.image) == pytest.approx(level(f.index), abs=4)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"sample_fps": 0.7}, {"sample_fps": 3.0}, {"sample_fps": 100.0}, {"max_frames": 3},
     {"sample_fps": FPS / 49.5}, {"max_frames": 7, "sample_fps": 0.7}, {"every_frame": True},
     {"every_frame": True, "max_frames": 3}],
)
def test_planned_frame_count_is_the_count_frames_gives(video, kwargs):
    # at 0.7 frames a second a 2 s clip gives frames 0 and 36: two, though 2 s x 0.7 rounds to 1
    info = probe(video)
    assert planned_frames(info, **kwargs) == len(list(frames(video, info, **kwargs)))


def test_planned_frame_count_of_an_image_and_of_the_dfdc_clips(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(rgb()).save(path)
    assert planned_frames(probe(path)) == 1
    for name in ("abofeumbvv.mp4", "brtujopkby.mp4"):
        clip = shared("videos", "dfdc", name)
        info = probe(clip)
        for fps in (2.0, 0.7):
            assert planned_frames(info, sample_fps=fps) == len(list(frames(clip, info, sample_fps=fps)))


@pytest.mark.parametrize(
    "ccw, rotation, quadrant",
    [(90, 270, "bl"), (-90, 90, "tr"), (180, 180, "br")],
)
def test_rotated_video_frames_are_upright(tmp_path, ccw, rotation, quadrant):
    path = write_video(tmp_path / "rotated.mp4", rotation=ccw)
    info = probe(path)
    upright = (W, H) if rotation == 180 else (H, W)
    assert (info.width, info.height, info.rotation) == (*upright, rotation)
    frame = next(frames(path, info))
    assert frame.image.shape == (info.height, info.width, 3)
    assert frame.image.flags.c_contiguous
    assert _bright_quadrant(frame.image) == quadrant


@pytest.mark.parametrize(
    "ccw, hflip, vflip, rotation, quadrant",
    [
        (0, True, False, 0, "tr"),  # FFmpeg's rotation angle reads this plain mirror as a half turn
        (0, False, True, 180, "bl"),  # upside down = a half turn, then mirrored
        (90, True, False, 270, "br"),
        (-90, True, False, 90, "tl"),
    ],
)
def test_mirrored_video_frames_are_shown_as_a_player_shows_them(tmp_path, ccw, hflip, vflip, rotation, quadrant):
    path = write_video(tmp_path / "mirrored.mp4", rotation=ccw, hflip=hflip, vflip=vflip)
    info = probe(path)
    upright = (W, H) if rotation in (0, 180) else (H, W)
    assert (info.width, info.height, info.rotation, info.mirrored) == (*upright, rotation, True)
    frame = next(frames(path, info))
    assert frame.image.shape == (info.height, info.width, 3)
    assert frame.image.flags.c_contiguous
    assert _bright_quadrant(frame.image) == quadrant


@pytest.mark.parametrize("pixel_aspect", [Fraction(2), Fraction(8, 9), Fraction(32, 27)])
def test_anamorphic_video_is_resampled_to_square_pixels(tmp_path, pixel_aspect):
    upright = np.full((64, 96, 3), 200, np.uint8)
    upright[16:48, 32:64] = 0  # a 32x32 black square, which must come out square
    path = write_anamorphic_video(tmp_path / "anamorphic.mp4", upright, pixel_aspect)
    stored_w = av_width(path)
    assert stored_w != 96

    info = probe(path)
    assert info.pixel_aspect == pytest.approx(float(pixel_aspect))
    assert (info.width, info.height) == (round(stored_w * pixel_aspect), 64)
    for f in frames(path, info, every_frame=True):
        assert f.image.shape == (info.height, info.width, 3)
        ys, xs = np.nonzero(f.image.mean(axis=2) < 100)
        side_x, side_y = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
        assert side_x == pytest.approx(side_y, abs=2)


def test_exif_mirrored_orientations_say_so(tmp_path):
    stored = np.zeros((30, 40, 3), np.uint8)
    stored[:15, :20] = 255
    for orientation, rotation, quadrant in [(2, 0, "tr"), (4, 180, "bl"), (5, 90, "tl"), (7, 270, "br")]:
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = orientation
        path = tmp_path / f"o{orientation}.png"
        Image.fromarray(stored).save(path, exif=exif)
        info = probe(path)
        assert (info.rotation, info.mirrored) == (rotation, True), orientation
        [frame] = list(frames(path, info))
        assert frame.image.shape == (info.height, info.width, 3)
        assert _bright_quadrant(frame.image) == quadrant, orientation


def test_truncated_video_ends_after_the_frames_that_decode(tmp_path, video):
    path = tmp_path / "half.mp4"
    data = video.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    got = list(frames(path, every_frame=True))
    assert 0 < len(got) < N_FRAMES
    assert [f.index for f in got] == list(range(len(got)))
    assert _grey(got[-1].image) == pytest.approx(level(got[-1].index), abs=4)


def test_damaged_packet_ends_iteration_after_the_frames_that_decode(tmp_path, video, caplog):
    data = bytearray(video.read_bytes())
    at = data.index(b"mdat") + (len(data) - data.index(b"mdat")) // 2
    data[at : at + 300] = np.random.default_rng(1).integers(0, 256, 300, dtype=np.uint8).tobytes()
    path = tmp_path / "damaged.mp4"
    path.write_bytes(bytes(data))
    got = list(frames(path, every_frame=True))
    assert 0 < len(got) < N_FRAMES
    assert [f.index for f in got] == list(range(len(got)))
    assert "video breaks off after" in caplog.text


def test_video_with_index_but_no_frame_data_is_refused(tmp_path, video):
    data = video.read_bytes()
    mdat = data.index(b"mdat") + 4
    path = tmp_path / "header_only.mp4"
    path.write_bytes(data[: mdat + 64])
    with pytest.raises(MediaError, match="no frame decodes"):
        probe(path)


def test_truncated_video_without_its_index_is_refused(tmp_path):
    full = write_video(tmp_path / "moov_at_end.mp4", faststart=False)
    path = tmp_path / "cut.mp4"
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(MediaError, match="not an image or video FFmpeg can decode"):
        probe(path)


# ---- what is not media ----------------------------------------------------------------


@pytest.mark.parametrize(
    "case, says",
    [
        ("text", "not an image or video FFmpeg can decode"),
        ("empty", "file is empty"),
        ("directory", "is a directory"),
        ("missing", "no such file"),
    ],
)
def test_what_is_not_media_gives_one_clear_line(tmp_path, case, says):
    path = not_media(tmp_path, case)
    with pytest.raises(MediaError) as err:
        probe(path)
    assert str(err.value) == says
    assert err.value.path == str(path)
    with pytest.raises(MediaError, match=says):
        next(frames(path))


def _damaged(data: bytes, trial: int, rng: np.random.Generator) -> bytes:
    """Trials 0-7 cut the file at 1/9 ... 8/9 of its length; 8-15 overwrite a few random bytes."""
    if trial < 8:
        return data[: len(data) * (trial + 1) // 9]
    damaged = bytearray(data)
    for i in rng.integers(0, len(data), rng.integers(1, 16)):
        damaged[i] = rng.integers(0, 256)
    return bytes(damaged)


@pytest.mark.parametrize("ext", ["jpg", "gif", "webp", "png", "heic", "mp4"])
def test_damaged_files_give_frames_or_one_media_error_never_another_exception(tmp_path, video, ext):
    if ext == "mp4":
        data = video.read_bytes()
    elif ext == "heic":
        data = HEIC_GRID.read_bytes()
    else:
        pages = [Image.fromarray(rgb(48, 64, seed)) for seed in range(3)]
        source = tmp_path / f"source.{ext}"
        pages[0].save(source, save_all=ext != "jpg", append_images=pages[1:], duration=100)
        data = source.read_bytes()
    rng = np.random.default_rng(0)
    for trial in range(16):
        path = tmp_path / f"damaged{trial}.{ext}"
        path.write_bytes(_damaged(data, trial, rng))
        try:
            info = probe(path)
            for frame in frames(path, info, every_frame=True):
                assert frame.image.shape == (info.height, info.width, 3)
        except MediaError as err:
            assert str(err) and "\n" not in str(err)


def test_bad_arguments_are_refused(video):
    with pytest.raises(ValueError):
        frames(video, sample_fps=0)
    with pytest.raises(ValueError):
        frames(video, max_frames=0)


# ---- shared clips ---------------------------------------------------------------------


def test_portrait_dfdc_clip_is_upright_and_sampled_in_time():
    path = shared("videos", "dfdc", "brtujopkby.mp4")
    info = probe(path)
    assert (info.kind, info.width, info.height, info.rotation) == ("video", 1080, 1920, 0)
    assert info.fps == pytest.approx(29.97, abs=0.01)
    indexes, times = [], []
    for f in frames(path, info):
        assert f.image.shape == (1920, 1080, 3)
        assert f.t == pytest.approx(f.index / info.fps, abs=0.5 / info.fps)
        indexes.append(f.index)
        times.append(f.t)
    assert indexes == sorted(set(indexes))
    assert 0.0 == times[0] and times[-1] < info.duration_s
    assert len(indexes) == pytest.approx(info.duration_s * DEFAULT_SAMPLE_FPS, abs=1)


def test_every_frame_of_a_face_track_clip():
    path = shared("videos", "dfdc_face_tracks", "real_aayrffkzxn.mp4_0_0.mp4")
    info = probe(path)
    got = [(f.index, f.image.shape) for f in frames(path, info, every_frame=True)]
    assert len(got) == info.frame_count
    assert [i for i, _ in got] == list(range(info.frame_count))
    assert {s for _, s in got} == {(info.height, info.width, 3)}
