"""Media decode, the first stage: what a file is (``probe``) and its upright frames (``frames``).

Still images are read with Pillow, with EXIF orientation applied. Animated images (GIF,
animated WebP and PNG) are a timeline, so they are probed and sampled as a video of their
frames (``kind == "video"``), each frame at the time it shows from; the extra pages of other
multi-page files (TIFF, MPO) are other pictures, and only the first is used. Everything
Pillow cannot identify is handed to PyAV (FFmpeg) as a video.

Frames are (H, W, 3) uint8 RGB of the *upright* picture as a player shows it: EXIF
orientation and the video display matrix (rotation and mirroring metadata) are applied,
and a video stored with non-square pixels (anamorphic: DVD, broadcast) is resampled to
square pixels, so faces keep their shape and boxes found on them are in upright-frame pixels.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import stat
import struct
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO
from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import av.error
import av.sidedata.sidedata
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from unswap.errors import FileError
from unswap.shots import ShotDetector, luma_thumbnail, rgb_thumbnail
from unswap.types import Frame, MediaInfo, PathLike

__all__ = ["DEFAULT_SAMPLE_FPS", "MAX_PIXELS", "MAX_SAMPLE_FPS", "DecodeBudget", "DecodeLimits", "MediaError", "OFFLINE_URL",
           "OverBudget", "frames", "looks_like_url", "planned_frames", "probe", "readable_file", "spooled"]

DEFAULT_SAMPLE_FPS = 2.0
"""Frames per second sampled from a video by default: 20 frames for a 10 s clip."""

MAX_SAMPLE_FPS = 240
"""Most frames per second a user may ask to sample (scan, hash or match a video at)."""

MAX_PIXELS = 100_000_000
"""Largest upright frame accepted, in pixels (width * height): guards decompression bombs."""

# (clockwise degrees, then mirrored left-right) that make an image upright, by EXIF
# orientation; exif_transpose does the same to the pixels.
_EXIF_UPRIGHT = {1: (0, False), 2: (0, True), 3: (180, False), 4: (180, True),
                 5: (90, True), 6: (90, False), 7: (270, True), 8: (270, False)}

_DISPLAY_MATRIX = av.sidedata.sidedata.Type.DISPLAYMATRIX

# Pillow formats whose extra frames are a timeline (scanned as a video); the extra pages
# of other formats (multi-page TIFF, MPO) are other pictures, and only the first is read.
_ANIMATION_FORMATS = {"GIF", "WEBP", "PNG"}

# What Pillow raises on damaged data; a later animation frame claiming gigapixels (the
# fuzzer found one) raises its decompression-bomb error only when seeked to.
_PILLOW_ERRORS = (OSError, SyntaxError, ValueError, IndexError, Image.DecompressionBombError)

# Formats Pillow identifies from the header but cannot decode; FFmpeg can.
_PILLOW_IDENTIFY_ONLY = {"MPEG"}

_log = logging.getLogger(__name__)


class MediaError(FileError):
    """A file that is not a readable image or video."""


class OverBudget(MediaError):
    """Decoding a file would pass its DecodeBudget; ``str()`` says which budget."""


@dataclass(frozen=True)
class DecodeLimits:
    """How much decoding one file may cost, so a small hostile file (a huge GIF canvas of
    tiny frames, a few KB of lossless WebP that inflate to gigabytes) cannot hold a worker
    for minutes or gigabytes. A file may decode ``pixels_per_byte`` pixels per byte of its
    size, and at least ``min_pixels`` (a photo of that size always passes); ``frames`` and
    ``seconds`` (wall clock, from probing to the last frame) cap any file."""

    pixels_per_byte: float = 20_000.0  # a 1080p H.264 video runs at about 1,000
    min_pixels: int = 32_000_000
    frames: int = 500_000
    seconds: float = 3600.0


class DecodeBudget:
    """One file's decode work so far, charged frame by frame against its DecodeLimits;
    raises OverBudget (a MediaError) at the first frame past a limit."""

    def __init__(self, path: PathLike, limits: DecodeLimits = DecodeLimits()) -> None:
        try:
            size = os.stat(path).st_size
        except OSError:
            size = 0
        self.limits, self.path = limits, path
        self.max_pixels = max(limits.min_pixels, size * limits.pixels_per_byte)
        self.pixels = self.frames = 0
        self.deadline = time.monotonic() + limits.seconds

    def fits(self, pixels: int, what: str) -> None:
        """Raise OverBudget when one frame of ``pixels`` is past the whole pixel budget."""
        if pixels > self.max_pixels:
            raise OverBudget(f"{what} of {pixels / 1e6:.0f} megapixels is over the decode budget of "
                             f"{self.max_pixels / 1e6:.0f} megapixels for a file of its size", self.path)

    def charge(self, pixels: int, what: str = "frame") -> None:
        """Count one decoded (or about to be decoded) frame of ``pixels``."""
        self.fits(pixels, what)
        self.pixels += pixels
        self.frames += 1
        if self.pixels > self.max_pixels:
            raise OverBudget(f"decoding it passes the decode budget of {self.max_pixels / 1e6:.0f} megapixels "
                             f"for a file of its size (after {self.frames} frames)", self.path)
        if self.frames > self.limits.frames:
            raise OverBudget(f"decoding it passes the decode budget of {self.limits.frames} frames", self.path)
        if time.monotonic() > self.deadline:
            raise OverBudget(f"decoding it passes the decode budget of {self.limits.seconds:g} s", self.path)


def probe(path: PathLike, budget: DecodeBudget | None = None) -> MediaInfo:
    """What ``path`` is: image or video, upright size in pixels, and for videos fps, duration (s), frames.

    A video's first frame is decoded to read its rotation, so a video that probes fine has at
    least one decodable frame. Raises MediaError for anything that is not a readable image or
    video, or whose frame is over MAX_PIXELS, and OverBudget past ``budget`` (default: a
    DecodeBudget of the default DecodeLimits); pass the same budget on to ``frames``.
    """
    file = readable_file(path)
    budget = budget or DecodeBudget(file)
    image = _open_image(file)
    if image is not None:
        with image:
            budget.fits(image.width * image.height, "an image")
            return _probe_image(file, image, budget)
    with _open_video(file) as container:
        return _probe_video(file, container, budget)


def frames(
    path: PathLike,
    info: MediaInfo | None = None,
    *,
    every_frame: bool = False,
    sample_fps: float = DEFAULT_SAMPLE_FPS,
    max_frames: int | None = None,
    shots: ShotDetector | None = None,
    budget: DecodeBudget | None = None,
) -> Iterator[Frame]:
    """Upright RGB frames of ``path``, in stream order.

    An image gives one Frame(index=0, t=0.0). A video gives about ``sample_fps`` frames per
    second, evenly spaced in time from its first frame, or all of them with ``every_frame``.
    ``max_frames`` caps the count; when sampling, the step widens so the frames still span
    the whole video (as far as its frame count is known). ``Frame.t`` is the presentation
    time in seconds from the first frame. With ``every_frame`` (or a sampling step under
    two frames) ``Frame.index`` is the 0-based count of frames before it (FFmpeg's ``n``,
    exact for variable frame rates too); when sampling skips undecoded non-reference
    frames it is ``round(t * fps)``, the same number for constant-rate video. A video that
    breaks off mid-stream (truncated, corrupt) ends after its last decodable frame, with a
    logged warning; one with no decodable frame raises MediaError.
    ``info`` is ``probe(path)``, passed to save probing again. With ``shots``, every
    decoded frame of a video (sampled or not; for an animation, every sampled frame) is
    fed to that ``unswap.shots.ShotDetector``, and each Frame's ``shot`` is the index of
    the shot it belongs to. Every decoded frame is charged to ``budget`` (default: a new
    DecodeBudget of the default limits); past it, OverBudget is raised.
    """
    if sample_fps <= 0:
        raise ValueError(f"sample_fps must be positive, not {sample_fps}")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, not {max_frames}")
    budget = budget or DecodeBudget(path)
    if info is None:
        info = probe(path, budget)
    if info.kind == "image":
        return _image_frames(path, budget)
    return _video_frames(path, info, every_frame, sample_fps, max_frames, shots, budget)


def planned_frames(
    info: MediaInfo,
    *,
    every_frame: bool = False,
    sample_fps: float = DEFAULT_SAMPLE_FPS,
    max_frames: int | None = None,
) -> int | None:
    """How many frames ``frames(path, info, ...)`` gives with the same arguments, or None
    when the frame count is not known. Exact unless the stream breaks off early, or
    sampling skips non-reference frames and the last wanted frame has no decoded frame
    at or after it (then one fewer)."""
    if info.kind == "image":
        return 1
    if not info.frame_count or not info.fps:
        return None
    step = _sampling_step(info, every_frame, sample_fps, max_frames)
    # picks are int(k * step + 0.5) for k = 0, 1, ... while under frame_count: k * step + 0.5 < count
    n = math.ceil((info.frame_count - 0.5) / step)
    return min(n, max_frames) if max_frames is not None else n


def _sampling_step(info: MediaInfo, every_frame: bool, sample_fps: float, max_frames: int | None) -> float:
    """Frames from one pick to the next (fractional; 1.0 for every frame)."""
    step = 1.0 if every_frame else max(1.0, info.fps / sample_fps)
    if max_frames is not None and not every_frame and info.frame_count:
        step = max(step, info.frame_count / max_frames)
    return step


class _Picks:
    """The frame indexes sampling with ``step`` picks: ``int(k * step + 0.5)`` for k = 0, 1, ...
    (the count ``planned_frames`` gives). ``take(index)`` is True for the first frame at or
    after each pick, for frames seen in increasing index order."""

    def __init__(self, step: float) -> None:
        self.step, self.k = step, 0

    def take(self, index: int) -> bool:
        if index < int(self.k * self.step + 0.5):
            return False
        while int(self.k * self.step + 0.5) <= index:
            self.k += 1
        return True


OFFLINE_URL = "is a URL, and unswap works offline: download the file first, then scan the copy"
"""What a URL argument is told: nothing is ever fetched."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def looks_like_url(path: PathLike) -> bool:
    """Whether ``path`` is written as a URL (``https://...``, ``rtsp://...``) rather than a file name."""
    return bool(_URL.match(os.fspath(path)))


@contextmanager
def spooled(stream: BinaryIO, suffix: str = "") -> Iterator[Path]:
    """The bytes of ``stream`` (stdin, an upload) in a private temporary file, removed on exit.

    Probing and sampling seek in the file, which a pipe cannot do; the file is made with
    mode 0600 in its own temporary folder, so no other user reads what was piped in. On
    Linux the file has no name at all (read through /proc/self/fd), so not even a kill -9
    leaves the copy behind.
    """
    if os.path.isdir("/proc/self/fd"):
        with tempfile.TemporaryFile(prefix="unswap-") as f:  # O_TMPFILE, or unlinked at once
            shutil.copyfileobj(stream, f, 1 << 20)
            f.flush()
            yield Path(f"/proc/self/fd/{f.fileno()}")
        return
    folder = Path(tempfile.mkdtemp(prefix="unswap-"))
    try:
        path = folder / f"stdin{suffix}"
        with open(path, "xb") as out:
            os.chmod(path, 0o600)
            shutil.copyfileobj(stream, out, 1 << 20)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def readable_file(path: PathLike, error: type[FileError] = MediaError, allow_empty: bool = False) -> Path:
    """``path`` as a Path when it names a regular, readable (and, unless ``allow_empty``,
    non-empty) file; else raises ``error(reason, path)`` with a one-line reason. A URL is
    told that unswap works offline."""
    file = Path(path)
    try:
        st = file.stat()
    except FileNotFoundError:
        if looks_like_url(path):
            raise error(OFFLINE_URL, path) from None
        raise error("no such file", path) from None
    except OSError as err:
        raise error(f"cannot read file ({err.strerror or err})", path) from None
    if stat.S_ISDIR(st.st_mode):
        raise error("is a directory", path)
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or device could block or never end.
        raise error("not a regular file", path)
    if st.st_size == 0 and not allow_empty:
        raise error("file is empty", path)
    if not os.access(file, os.R_OK):
        raise error("cannot read file (permission denied)", path)
    return file


def _check_pixels(width: int, height: int, kind: str, path: Path) -> None:
    if width * height > MAX_PIXELS:
        raise MediaError(
            f"{kind} is {width}x{height} pixels, over the {MAX_PIXELS / 1e6:g} megapixel limit", path
        )


# ---- images ----------------------------------------------------------------------------


# ISO-BMFF brands of HEIF still images (iPhone and most Android photos: HEIC), which
# Pillow reads through the pi-heif plugin. FFmpeg opens them too, but as separate streams,
# one per 512x512 tile of a grid, and would scan a tile as if it were the photo.
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}


def _is_heif(file: Path) -> bool:
    with open(file, "rb") as f:
        head = f.read(12)
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


@cache
def _heif_plugin() -> bool:
    """Registers pi-heif's HEIF opener with Pillow, once; False when pi-heif is missing."""
    try:
        import pi_heif
    except ImportError:
        return False
    pi_heif.register_heif_opener(thumbnails=False)  # also applies the HEIF rotation and mirroring
    return True


def _open_image(file: Path) -> Image.Image | None:
    """The lazily opened image (header read, pixels not decoded), or None if Pillow can't identify it."""
    if _is_heif(file) and not _heif_plugin():
        raise MediaError("is a HEIF/HEIC photo, and reading one needs pi-heif: pip install pi-heif", file)
    try:
        with warnings.catch_warnings():
            # Our own MAX_PIXELS check below is the limit; Pillow's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(file)
    except UnidentifiedImageError:
        return None
    except Image.DecompressionBombError as err:
        # Pillow refuses (over twice its own limit) before its size is readable; its message has the count.
        found = re.search(r"\((\d+) pixels\)", str(err))
        size = f"{int(found.group(1)) / 1e6:.0f} megapixels" if found else "too large"
        raise MediaError(f"image is {size}, over the {MAX_PIXELS / 1e6:g} megapixel limit", file) from None
    except (OSError, SyntaxError, ValueError) as err:
        raise MediaError(f"image is corrupt ({err})", file) from None
    if image.format in _PILLOW_IDENTIFY_ONLY:
        image.close()
        return None
    try:
        _check_pixels(image.width, image.height, "image", file)
    except MediaError:
        image.close()
        raise
    return image


def _probe_image(file: Path, image: Image.Image, budget: DecodeBudget) -> MediaInfo:
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except (OSError, SyntaxError, ValueError) as err:
        raise MediaError(f"image is truncated or corrupt ({err})", file) from None
    rotation, mirrored = _EXIF_UPRIGHT.get(orientation, (0, False))
    width, height = image.size
    if rotation in (90, 270):
        width, height = height, width
    if _is_animation(image):
        return _probe_animation(file, image, rotation, mirrored, width, height, budget)
    return MediaInfo(str(file), "image", width, height, rotation=rotation, mirrored=mirrored)


def _image_frames(path: PathLike, budget: DecodeBudget) -> Iterator[Frame]:
    file = readable_file(path)
    image = _open_image(file)
    if image is None:
        raise MediaError("not an image Pillow can decode", file)
    with image:
        budget.charge(image.width * image.height, "an image")
        try:
            rgb = _upright_rgb(image)
        except (OSError, SyntaxError, ValueError, EOFError) as err:
            raise MediaError(f"image is truncated or corrupt ({err})", file) from None
    yield Frame(index=0, t=0.0, image=rgb)


def _upright_rgb(image: Image.Image) -> np.ndarray:
    """The current frame of ``image`` as (H, W, 3) uint8 RGB, EXIF orientation applied."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode.startswith(("I", "F")):
        return _grey_to_rgb8(np.asarray(upright), sixteen_bit=upright.mode.startswith("I;16"))
    if upright.has_transparency_data:
        # Transparent pixels hold arbitrary colour; show them as a white page would.
        upright = Image.alpha_composite(
            Image.new("RGBA", upright.size, (255, 255, 255, 255)), upright.convert("RGBA")
        )
    return np.array(upright.convert("RGB"), dtype=np.uint8)


def _grey_to_rgb8(grey: np.ndarray, sixteen_bit: bool) -> np.ndarray:
    """A 16-bit, 32-bit or float greyscale image (Pillow modes I;16, I, F) as (H, W, 3)
    uint8 RGB. Pillow's own conversion clips at 255, which turns a 16-bit picture white.
    Without a stated bit depth, values over 255 are taken as 16-bit (or scaled by the
    maximum beyond that), and floats no higher than 1.0 as 0..1."""
    top = float(grey.max(initial=0))
    if sixteen_bit:
        scale = 255 / 65535
    elif top > 65535:
        scale = 255 / top
    elif top > 255:
        scale = 255 / 65535
    elif grey.dtype.kind == "f" and top <= 1.0:
        scale = 255.0
    else:
        scale = 1.0
    grey8 = np.clip(np.rint(grey.astype(np.float64) * scale), 0, 255).astype(np.uint8)
    return np.repeat(grey8[:, :, None], 3, axis=2)


# ---- animations (GIF, animated WebP and PNG): a timeline, scanned as a video ----------------


def _is_animation(image: Image.Image) -> bool:
    if image.format not in _ANIMATION_FORMATS:
        return False
    try:
        return bool(getattr(image, "is_animated", False))
    except _PILLOW_ERRORS:
        return True  # a second frame that is there but broken: the animation's probe says how far it reads


def _frame_duration_s(image: Image.Image) -> float:
    """How long the current frame shows, in seconds; as browsers do, a delay of 10 ms or
    less (or none) shows for 100 ms."""
    ms = image.info.get("duration") or 0
    return ms / 1000 if ms > 10 else 0.1


def _probe_animation(file: Path, image: Image.Image, rotation: int, mirrored: bool,
                     width: int, height: int, budget: DecodeBudget) -> MediaInfo:
    durations: list[float] = []
    while True:
        budget.charge(width * height, "an animation frame")  # a frame is decoded onto the whole canvas
        try:
            image.seek(len(durations))
            image.load()  # animated WebP reads a frame's duration only when decoding it
        except EOFError:
            break
        except _PILLOW_ERRORS as err:
            if not durations:
                raise MediaError(f"animation is truncated or corrupt ({err})", file) from None
            break  # frames() ends at the same place, with a warning
        durations.append(_frame_duration_s(image))
    duration_s = sum(durations)
    return MediaInfo(str(file), "video", width, height, len(durations) / duration_s, duration_s, len(durations),
                     rotation, mirrored)


def _animation_frames(
    file: Path, image: Image.Image, info: MediaInfo, every_frame: bool, sample_fps: float, max_frames: int | None,
    shots: ShotDetector | None, budget: DecodeBudget,
) -> Iterator[Frame]:
    """Frames of an animated image, picked by index as a video's are (by the mean frame
    rate), each at the time it shows from. A frame that does not decode ends the
    animation, with a logged warning, as a broken video does."""
    picks = _Picks(_sampling_step(info, every_frame, sample_fps, max_frames))
    produced, t = 0, 0.0
    with image:
        for index in range(info.frame_count or 1):
            budget.charge(image.width * image.height, "an animation frame")
            try:
                image.seek(index)
                image.load()  # for its duration, and a GIF frame draws over the one before
                rgb = _upright_rgb(image) if picks.take(index) else None
            except (*_PILLOW_ERRORS, EOFError) as err:
                if produced == 0:
                    raise MediaError(f"animation is truncated or corrupt ({err})", file) from None
                _log.warning("%s: animation breaks off at frame %d: %s", file, index, err)
                return
            if rgb is not None:
                if shots is not None:
                    shots.feed(round(t, 6), rgb_thumbnail(rgb))
                yield Frame(index=index, t=round(t, 6), image=rgb, shot=shots.shot if shots else 0)
                produced += 1
                if max_frames is not None and produced >= max_frames:
                    return
            t += _frame_duration_s(image)


# ---- videos ----------------------------------------------------------------------------


@cache
def _demuxers() -> str:
    """Every FFmpeg demuxer but those that open other files or URLs named inside the file
    (an ffconcat list, an HLS or DASH playlist, an IMF package): a file is read alone."""
    readers_of_others = {"concat", "hls", "applehttp", "dash", "imf", "ffmetadata"}
    names = set()
    for fmt in av.formats_available:
        try:
            if av.ContainerFormat(fmt).is_input:
                names.update(fmt.split(","))
        except ValueError:
            pass
    return ",".join(sorted(names - readers_of_others))


def _open_video(file: Path) -> av.container.InputContainer:
    # "file:" and the whitelists make FFmpeg read this file as a file: a name such as
    # "concat:a.mp4|b.mp4" or "pipe:0" is a path, and nothing inside the file opens another
    options = {"protocol_whitelist": "file", "format_whitelist": _demuxers(), "pattern_type": "none"}
    try:
        container = av.open("file:" + os.path.abspath(file), options=options, metadata_errors="replace")
    except av.error.FFmpegError:
        raise MediaError("not an image or video FFmpeg can decode", file) from None
    stream = container.streams.best("video")
    if stream is None:
        container.close()
        raise MediaError("has no video stream", file)
    if stream.disposition & av.stream.Disposition.dependent:
        # One tile of a tiled still image (a HEIF or AVIF grid): FFmpeg gives each tile as
        # its own stream, and a scan of one tile would be a silent wrong answer.
        container.close()
        raise MediaError("is a tiled image whose tiles FFmpeg gives one by one; it cannot be read whole", file)
    return container


def _probe_video(file: Path, container: av.container.InputContainer, budget: DecodeBudget) -> MediaInfo:
    stream = container.streams.best("video")
    first = next(_decoded(container, stream, file, budget))
    rotation, mirrored = _display_transform(first)
    pixel_aspect = _pixel_aspect(stream)
    width, height = _square_pixel_width(first.width, pixel_aspect), first.height
    if rotation in (90, 270):
        width, height = height, width
    _check_pixels(width, height, "video frame", file)

    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if stream.duration is not None and stream.time_base is not None:
        duration_s: float | None = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration_s = container.duration / av.time_base
    else:
        duration_s = None
    frame_count: int | None = stream.frames or None
    if not rate and frame_count and duration_s:
        rate = Fraction(frame_count / duration_s)
    if not rate:
        raise MediaError("video has no frame rate", file)
    fps = float(rate)
    if frame_count is None and duration_s:
        frame_count = max(1, round(duration_s * fps))
    if duration_s is None and frame_count:
        duration_s = frame_count / fps
    return MediaInfo(str(file), "video", width, height, fps, duration_s, frame_count, rotation, mirrored,
                     pixel_aspect)


def _display_transform(frame: av.VideoFrame) -> tuple[int, bool]:
    """(clockwise degrees 0/90/180/270, mirrored) that make ``frame`` upright: turn it by
    the degrees, then mirror it left-right if mirrored; (0, False) without a display matrix.

    Read from the matrix itself, not ``frame.rotation``: FFmpeg's rotation angle ignores
    mirroring, and reads a plain left-right mirror as a half turn.
    """
    try:
        matrix = next((bytes(sd) for sd in frame.side_data if sd.type == _DISPLAY_MATRIX), None)
    except ValueError:
        # PyAV refuses a side-data type it has no name for (a damaged TIFF gave one):
        # such a frame has no display matrix PyAV could read either
        matrix = None
    if matrix is None or len(matrix) < 36:
        return 0, False
    # 3x3 int32, 16.16 fixed point; a display pixel is (x', y') = (a x + c y, b x + d y) + shift.
    a, b, _, c, d = struct.unpack("<5i", matrix[:20])
    mirrored = a * d - b * c < 0  # a reflection; with y pointing down as here, as in FFmpeg
    if mirrored:
        a, c = -a, -c  # undo the left-right mirror, leaving the turn before it
    degrees = round(math.degrees(math.atan2(b, a)) / 90) * 90 % 360
    return degrees, mirrored


def _pixel_aspect(stream: av.VideoStream) -> float:
    """Width over height of one stored pixel (the sample aspect ratio): the container's
    value, else the bitstream's; 1.0 when neither says or the value is absurd."""
    for sar in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        if sar and 0.1 <= sar <= 10:
            return float(sar)
    return 1.0


def _square_pixel_width(stored_width: int, pixel_aspect: float) -> int:
    return max(1, round(stored_width * pixel_aspect))


def _decoded(
    container: av.container.InputContainer, stream: av.VideoStream, file: Path, budget: DecodeBudget
) -> Iterator[av.VideoFrame]:
    """Every frame of ``stream`` in order, ending quietly where the stream breaks off.

    Raises MediaError if not one frame decodes, OverBudget past ``budget``.
    """
    count = 0
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                count += 1
                budget.charge(frame.width * frame.height)
                yield frame
    except av.error.FFmpegError as err:
        if count == 0:
            raise MediaError("video is truncated or corrupt: no frame decodes", file) from None
        _log.warning("%s: video breaks off after %d frames: %s", file, count, err)
        try:
            # Frames already sent to a (multi-threaded) decoder are still good.
            yield from stream.decode(None)
        except av.error.FFmpegError:
            pass
    if count == 0:
        raise MediaError("video is truncated or corrupt: no frame decodes", file)


def _video_frames(
    path: PathLike, info: MediaInfo, every_frame: bool, sample_fps: float, max_frames: int | None,
    shots: ShotDetector | None, budget: DecodeBudget,
) -> Iterator[Frame]:
    file = readable_file(path)
    if info.fps is None:
        info = probe(file, budget)
    picture = _open_image(file)
    if picture is not None:
        if _is_animation(picture):
            yield from _animation_frames(file, picture, info, every_frame, sample_fps, max_frames, shots, budget)
            return
        picture.close()
    fps = info.fps
    step = _sampling_step(info, every_frame, sample_fps, max_frames)
    turns = -info.rotation // 90  # np.rot90 turns counter-clockwise
    resample = info.pixel_aspect != 1.0
    interpolation = "AREA" if info.pixel_aspect < 1.0 else "BICUBIC"

    with _open_video(file) as container:
        stream = container.streams.best("video")
        stream.thread_type = "AUTO"
        # When sampling leaves at least two frames between picks, frames no other frame
        # refers to (most B-frames) need not be decoded at all: about a quarter less
        # decoding. The pick is then the first decoded frame at or after each wanted
        # index, and indexes come from timestamps rather than from counting.
        skip_nonref = step >= 2.0
        if skip_nonref:
            stream.codec_context.skip_frame = "NONREF"
        time_base = stream.time_base
        origin = stream.start_time
        picks = _Picks(step)
        produced = 0
        for count, frame in enumerate(_decoded(container, stream, file, budget)):
            if count == 0 and frame.pts is not None:
                origin = frame.pts if origin is None else min(origin, frame.pts)
            if frame.pts is None or origin is None or time_base is None:
                t = count / fps
                index = count
            else:
                t = float((frame.pts - origin) * time_base)
                index = round(t * fps) if skip_nonref else count
            if shots is not None:
                shots.feed(t, luma_thumbnail(frame))
            if not picks.take(index):
                continue  # only chosen frames pay for the RGB conversion
            if resample:
                image = frame.to_ndarray(format="rgb24", width=_square_pixel_width(frame.width, info.pixel_aspect),
                                         height=frame.height, interpolation=interpolation)
            else:
                image = frame.to_ndarray(format="rgb24")
            if turns % 4:
                image = np.rot90(image, turns)
            if info.mirrored:
                image = image[:, ::-1]
            if turns % 4 or info.mirrored:
                image = np.ascontiguousarray(image)
            yield Frame(index=index, t=t, image=image, shot=shots.shot if shots else 0)
            produced += 1
            if max_frames is not None and produced >= max_frames:
                return
