"""Find where a suspect image or video comes from (source matching on PDQ frame hashes)
and, where the source media is at hand, the region of a matched frame that differs.

The suspect's sampled frames are hashed (``unswap.evidence.hashing``) and compared with every
source's frame hashes: sources hashed on the fly from a folder, or read from a file
``unswap hash`` wrote. Two frames match when their PDQ hashes are at most
``max_distance`` bits apart (of 256) and both have PDQ quality ``min_quality`` or more
(flat or dark frames hash to near-constant bits that would match anything flat).

A video suspect matches a video source in *segments*: runs of suspect frames that match
source frames at one time offset (source time = suspect time + offset), so a trimmed or
re-cut copy is placed on the source's timeline. The offset chosen is the one whose aligned
frame pairs agree best, each pair scoring ``max_distance + 1 - distance``, summed: in a
static shot every frame looks like every other, and only the sum over the run tells the
moments apart. From hashes alone it is good to about half the coarser sampling step; with
the source media at hand it is refined to the source frame that differs least.

The difference map (``difference``) registers the suspect frame onto its source frame
(ORB features, RANSAC similarity: rescales and crops register, then ECC to sub-pixel),
matches brightness and contrast, and marks where the two still differ. For a face swap of
a matched source that region is the face and nothing else.

PDQ tolerates rescaling, re-encoding and local edits, but not much cropping: on the shared
DFDC clips 1% off each side moves a hash by 14-26 bits, 2% by 28-46, 5% by 54-96, so a copy
cropped by more than about 1% a side is mostly not found (scripts/pdq_distances.py, in git history at commit 3e40011).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from unswap.evidence.hashing import OPTIONS as HASH_OPTIONS
from unswap.evidence.hashing import MediaHashes, file_digest, hamming, hash_media, read_hashes
from unswap.media import MediaError, frames
from unswap.options import Option, Options
from unswap.types import PathLike

__all__ = [
    "MAX_DISTANCE",
    "MIN_QUALITY",
    "OPTIONS",
    "Difference",
    "MatchConfig",
    "MatchError",
    "MatchResult",
    "MatchedSegment",
    "SourceIndex",
    "SourceMatch",
    "align",
    "difference",
    "find_segments",
    "match",
    "media_files",
    "to_dict",
    "to_text",
]

MAX_DISTANCE = 31
"""PDQ Hamming distance (of 256 bits) up to which two frames match: vPDQ's and
ThreatExchange's default, kept because it sits in the gap measured on the shared DFDC clips
(scripts/pdq_distances.py, in git history at commit 3e40011): rescaled (down to 0.25x), JPEG-compressed, brightened or
face-blurred copies at 0-14, 1% cropped off each side at 14-26, a 0.5x H.264 re-encode at
2-12, while frames of different clips are 108 or more apart, seeded noise 112 or more."""

MIN_QUALITY = 50
"""PDQ quality (0..100) below which a frame's hash is ignored: ThreatExchange's advice."""


class MatchError(Exception):
    """A source collection that cannot be used (not a folder or a hash file); ``str()`` is one line."""


@dataclass(frozen=True)
class MatchConfig:
    """How the suspect is compared with sources; each field is an option (``OPTIONS``)."""

    sample_fps: float = 2.0
    max_distance: int = MAX_DISTANCE
    min_quality: int = MIN_QUALITY
    min_frames: int = 3
    max_gap_s: float = 2.0
    difference: bool = True

    def __post_init__(self) -> None:
        OPTIONS.check(self)


OPTIONS = Options(
    MatchConfig,
    dataclasses.replace(HASH_OPTIONS["fps"], help="video frames hashed per second, of the suspect and of a "
                                                  "folder's videos"),
    Option("max_distance", int, "PDQ bits (of 256) two matching frames may differ by", minimum=0, maximum=127),
    Option("min_quality", int, "PDQ quality (0..100) a frame's hash needs to be compared; flat or dark frames "
           "score low", minimum=0, maximum=100),
    Option("min_frames", int, "matched frames a video-to-video segment needs; fewer when the suspect has fewer "
           "usable frames", minimum=1),
    Option("max_gap_s", float, "longest unmatched stretch of suspect time inside one segment, in seconds "
           "(never under 2.5 sampling steps)", minimum=0),
    Option("difference", bool, "compute the difference map where the source media is at hand"),
)
"""The ``MatchConfig`` fields a user sets (``unswap match`` flags), in order."""


@dataclass(frozen=True)
class MatchedSegment:
    """A stretch of the suspect found in a source; times in seconds of each file.

    Start and end are the first and last matched sampled frames. ``offset_s`` is source time
    minus suspect time. ``frames``: matched suspect frames; the distances are the PDQ Hamming
    distances (of 256 bits) of those frames to their source frames, per frame in ``distances``.
    """

    suspect_start_s: float
    suspect_end_s: float
    source_start_s: float
    source_end_s: float
    offset_s: float
    frames: int
    median_distance: float
    max_distance: int
    suspect_t: np.ndarray = field(repr=False)  # (frames,) matched suspect frame times
    source_t: np.ndarray = field(repr=False)  # (frames,) the source frame each met
    distances: np.ndarray = field(repr=False)  # (frames,) int


@dataclass
class Difference:
    """Where a suspect frame differs from its source frame, in upright suspect-frame pixels.

    ``map`` (H, W) float32: per-pixel colour difference in levels 0..255 after registration
    and brightness matching, NaN where the source does not cover the suspect. ``changed``
    (H, W) bool: the region judged different. ``box`` [x0, y0, x1, y1] float32 around it
    (None when nothing differs). ``fraction``: the changed share of the covered pixels.
    ``source_from_suspect`` (2, 3) float64 maps suspect pixel (x, y, 1) to source pixel
    (x, y). ``inliers``: feature matches that agree with it. ``suspect_t``/``source_t``:
    the two frames' times in seconds, ``source_index`` the source frame's index.
    """

    map: np.ndarray
    changed: np.ndarray
    box: np.ndarray | None
    fraction: float
    source_from_suspect: np.ndarray
    inliers: int
    suspect_t: float = 0.0
    source_t: float = 0.0
    source_index: int = 0


@dataclass
class SourceMatch:
    """One source the suspect was found in, its segments longest first."""

    path: str
    sha256: str
    kind: str
    segments: list[MatchedSegment]
    difference: Difference | None = None

    @property
    def frames(self) -> int:
        return sum(s.frames for s in self.segments)


@dataclass
class MatchResult:
    """The suspect's hashes and the sources it was found in, most matched frames first."""

    suspect: MediaHashes
    matches: list[SourceMatch]
    sources_compared: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) of unusable files
    config: MatchConfig = field(default_factory=MatchConfig)


# ---- segments from hashes -------------------------------------------------------------


def _step(t: np.ndarray, fallback: float) -> float:
    """The usual time between sampled frames, in seconds."""
    gaps = np.diff(np.sort(t))
    gaps = gaps[gaps > 1e-6]
    return float(np.median(gaps)) if len(gaps) else fallback


def find_segments(suspect: MediaHashes, source: MediaHashes, cfg: MatchConfig = MatchConfig()
                  ) -> list[MatchedSegment]:
    """Stretches of ``suspect`` found in ``source``, most frames first; empty when unrelated.

    An image on either side matches frame by frame (there is no timeline to keep: a video
    suspect's segments against an image source have source times 0); two videos match in
    runs of at least ``cfg.min_frames`` frames, each run at one time offset.
    """
    source = source[np.argsort(source.t, kind="stable")]
    dist = hamming(suspect.bits, source.bits)
    far = 256 + cfg.max_distance
    dist[suspect.quality < cfg.min_quality, :] = far
    dist[:, source.quality < cfg.min_quality] = far
    if not (dist <= cfg.max_distance).any():
        return []
    max_gap = max(cfg.max_gap_s, 2.5 * _step(suspect.t, 1.0 / cfg.sample_fps))
    if suspect.kind == "image" or source.kind == "image" or len(source) == 1:
        j = dist.argmin(axis=1)
        return _runs(suspect, source, dist[np.arange(len(suspect)), j], j, None, 1, cfg.max_distance, max_gap)

    usable = int((suspect.quality >= cfg.min_quality).sum())
    min_frames = min(cfg.min_frames, usable)
    # Each suspect frame meets the source frame nearest its aligned time, if within half a
    # source step (plus timestamp jitter): past the source's ends it meets none.
    window = 0.5 * _step(source.t, 1.0 / cfg.sample_fps) + 0.02
    free = np.ones(len(suspect), bool)
    segments: list[MatchedSegment] = []
    while free.sum() >= min_frames:
        i_pairs, j_pairs = np.nonzero((dist <= cfg.max_distance) & free[:, None])
        if len(i_pairs) == 0:
            break
        best_offset, best_score, best_fit = 0.0, 0.0, None
        for offset in np.unique(np.round(source.t[j_pairs] - suspect.t[i_pairs], 3)):
            d, j = _aligned(dist, suspect.t, source.t, float(offset), window)
            score = float(np.clip(cfg.max_distance + 1 - d[free], 0, None).sum())
            if score > best_score:
                best_offset, best_score, best_fit = float(offset), score, (d, j)
        if best_fit is None:
            break
        d, j = best_fit
        found = _runs(suspect, source, np.where(free, d, far), j, best_offset, min_frames, cfg.max_distance,
                      max_gap)
        if not found:
            break
        for seg in found:
            free &= ~((suspect.t >= seg.suspect_start_s - 1e-6) & (suspect.t <= seg.suspect_end_s + 1e-6))
        segments += found
    return sorted(segments, key=lambda s: (-s.frames, s.suspect_start_s))


def _aligned(dist: np.ndarray, t_sus: np.ndarray, t_src: np.ndarray, offset: float, window: float):
    """Per suspect frame, the source frame nearest in time to t + offset, and their distance
    (a large one where that frame is more than ``window`` s away). ``t_src`` is ascending."""
    want = t_sus + offset
    right = np.clip(np.searchsorted(t_src, want), 0, len(t_src) - 1)
    left = np.clip(right - 1, 0, len(t_src) - 1)
    j = np.where(np.abs(t_src[left] - want) <= np.abs(t_src[right] - want), left, right)
    rows = np.arange(len(t_sus))
    d = np.where(np.abs(t_src[j] - want) <= window, dist[rows, j], np.iinfo(np.int64).max // 2)
    return d, j


def _runs(suspect: MediaHashes, source: MediaHashes, d: np.ndarray, j: np.ndarray, offset: float | None,
          min_frames: int, max_distance: int, max_gap: float) -> list[MatchedSegment]:
    """Runs of matched suspect frames (distance ``d`` to source frame ``j``) as segments;
    ``offset`` None: no timeline (an image on one side)."""
    matched = np.nonzero(d <= max_distance)[0]
    matched = matched[np.argsort(suspect.t[matched], kind="stable")]
    groups: list[list[int]] = []
    for i in matched:
        if groups and suspect.t[i] - suspect.t[groups[-1][-1]] <= max_gap + 1e-6:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    segments = []
    for g in groups:
        if len(g) < min_frames:
            continue
        t_sus, t_src, dg = suspect.t[g], source.t[j[g]], d[g].astype(np.int64)
        if offset is None:
            src_start, src_end = float(t_src.min()), float(t_src.max())
            off = float(np.median(t_src - t_sus))
        else:
            src_start, src_end, off = float(t_sus[0] + offset), float(t_sus[-1] + offset), offset
        segments.append(MatchedSegment(float(t_sus[0]), float(t_sus[-1]), src_start, src_end, off, len(g),
                                       float(np.median(dg)), int(dg.max()), t_sus.copy(), t_src.copy(), dg))
    return segments


# ---- registration and difference map ---------------------------------------------------

_WORK_SIDE = 640  # longer side of the suspect frame the difference is computed at, pixels
_ORB_SIDE = 1024  # longer side each frame is brought to for feature matching
_MIN_INLIERS = 12
_NOISE_FLOOR = 10.0  # colour levels (0..255) of local mean difference never called a change


def _luma(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def _shrink(img: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    import cv2

    h, w = img.shape[:2]
    f = min(1.0, side / max(h, w))
    if f == 1.0:
        return img, 1.0
    return cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA), f


def align(suspect_rgb: np.ndarray, source_rgb: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Register a suspect frame onto its source frame: (source_from_suspect, inliers) or None.

    ``source_from_suspect`` (2, 3) float64 maps suspect pixel (x, y, 1) to source pixel (x, y):
    a similarity (scale, rotation, shift), so rescales and crops register. Found from ORB
    features with a RANSAC fit; None when fewer than 12 matches agree (unrelated frames,
    or too little texture). Both are (H, W, 3) uint8 RGB.
    """
    import cv2

    sus, f_sus = _shrink(_luma(suspect_rgb), _ORB_SIDE)
    src, f_src = _shrink(_luma(source_rgb), _ORB_SIDE)
    orb = cv2.ORB_create(nfeatures=3000)
    k_sus, d_sus = orb.detectAndCompute(sus, None)
    k_src, d_src = orb.detectAndCompute(src, None)
    if d_sus is None or d_src is None or len(k_sus) < _MIN_INLIERS or len(k_src) < _MIN_INLIERS:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(d_sus, d_src, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < _MIN_INLIERS:
        return None
    p_sus = np.float32([k_sus[m.queryIdx].pt for m in good]) / f_sus
    p_src = np.float32([k_src[m.trainIdx].pt for m in good]) / f_src
    cv2.setRNGSeed(0)  # RANSAC draws from OpenCV's global generator: same frames, same fit
    matrix, inlier = cv2.estimateAffinePartial2D(
        p_sus, p_src, method=cv2.RANSAC, ransacReprojThreshold=3.0 / f_src, maxIters=5000, confidence=0.999
    )
    if matrix is None or int(inlier.sum()) < _MIN_INLIERS:
        return None
    return matrix.astype(np.float64), int(inlier.sum())


def _warped_source(sus: np.ndarray, source_rgb: np.ndarray, source_from_suspect: np.ndarray,
                   f: float, refine: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The source frame resampled onto ``sus`` (the suspect frame shrunk by ``f``), the mask
    of pixels it covers, and ``source_from_suspect``, refined to sub-pixel precision (ECC)
    with ``refine``."""
    import cv2

    h, w = sus.shape[:2]
    # Shrink the source first to about the working scale, so resampling it does not alias.
    scale = float(np.sqrt(abs(np.linalg.det(source_from_suspect[:, :2])))) / f  # source px per work px
    src, g = _shrink(source_rgb, max(source_rgb.shape[:2]) / max(scale, 1.0))
    shrunk_from_work = (np.diag([g, g, 1.0]) @ np.vstack([source_from_suspect, [0, 0, 1]])
                        @ np.diag([1 / f, 1 / f, 1.0]))[:2].astype(np.float32)
    if refine:
        shrunk_from_work = _ecc(sus, src, shrunk_from_work)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(src, shrunk_from_work, (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    cover = cv2.warpAffine(np.full(src.shape[:2], 255, np.uint8), shrunk_from_work, (w, h),
                           flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0)
    cover = cv2.erode(cover, np.ones((5, 5), np.uint8)) > 0
    refined_full = (np.diag([1 / g, 1 / g, 1.0]) @ np.vstack([shrunk_from_work, [0, 0, 1]])
                    @ np.diag([f, f, 1.0]))[:2]
    return warped, cover, refined_full


def _ecc(sus: np.ndarray, src: np.ndarray, src_from_sus: np.ndarray) -> np.ndarray:
    """``src_from_sus`` (2, 3) refined by ECC (an affine fit of the luma, gain-invariant),
    or as it was where ECC fails or strays more than 4 pixels from it."""
    import cv2

    h, w = sus.shape[:2]
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)
    try:
        _, refined = cv2.findTransformECC(_luma(sus), _luma(src), src_from_sus.copy(), cv2.MOTION_AFFINE,
                                          criteria, None, 3)
    except cv2.error:
        return src_from_sus
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float32).T
    if np.abs(refined @ corners - src_from_sus @ corners).max() >= 4.0:
        return src_from_sus
    return refined


def _residual(sus: np.ndarray, warped: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """Per-pixel colour difference of the suspect from the registered source, in levels 0..255.

    Brightness and contrast are matched first (gain and bias per channel, fitted on the
    covered pixels). Each pixel is then compared with the range of the other image's 3x3
    neighbourhood, both ways, and the larger is kept: a half-pixel registration error moves
    an edge within that range and costs nothing, while detail that one side lost (a blur, a
    pixelation) or gained still falls outside it.
    """
    import cv2

    a = cv2.GaussianBlur(sus, (0, 0), 0.7).astype(np.float32)
    b = cv2.GaussianBlur(warped, (0, 0), 0.7).astype(np.float32)
    kernel = np.ones((3, 3), np.uint8)
    out = np.zeros(sus.shape[:2], np.float32)
    for c in range(3):
        x, y = b[..., c][cover], a[..., c][cover]
        gain, bias = np.polyfit(x, y, 1) if x.std() > 1e-3 else (1.0, float(y.mean() - x.mean()))
        ac, bc = a[..., c], gain * b[..., c] + bias
        a_lo, a_hi = cv2.erode(ac, kernel), cv2.dilate(ac, kernel)
        b_lo, b_hi = cv2.erode(bc, kernel), cv2.dilate(bc, kernel)
        a_out = np.maximum(np.maximum(ac - b_hi, b_lo - ac), 0)
        b_out = np.maximum(np.maximum(bc - a_hi, a_lo - bc), 0)
        out = np.maximum(out, np.maximum(a_out, b_out))
    out[~cover] = 0.0
    return out


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` (uint8 0/1) with every region enclosed by it set too."""
    import cv2

    padded = np.pad(mask, 1)
    outside = padded.copy()
    flood = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(outside, flood, (0, 0), 1)
    return (mask | (1 - outside[1:-1, 1:-1])).astype(np.uint8)


def difference(suspect_rgb: np.ndarray, source_rgb: np.ndarray,
               registration: tuple[np.ndarray, int] | None = None) -> Difference | None:
    """Where ``suspect_rgb`` differs from ``source_rgb`` (its matched source frame), or None
    when the two frames do not register (see ``align``) or the source covers less than a
    quarter of the suspect frame. Both are (H, W, 3) uint8 RGB.

    The map is the per-pixel colour difference after registration and brightness matching;
    the changed region is where its local mean (over ~1.5% of the frame width) stands out of
    the frame's own noise (median + 8 MADs, at least 10 levels), its patches joined, and
    specks under 0.1% of the frame or a tenth of the largest patch dropped. ``registration`` is ``align``'s answer where already known.
    The time fields are left 0; ``match`` fills them in.
    """
    import cv2

    registration = registration or align(suspect_rgb, source_rgb)
    if registration is None:
        return None
    source_from_suspect, inliers = registration
    h, w = suspect_rgb.shape[:2]
    sus, f = _shrink(suspect_rgb, _WORK_SIDE)
    size = (sus.shape[1], sus.shape[0])
    warped, cover, source_from_suspect = _warped_source(sus, source_rgb, source_from_suspect, f)
    if cover.sum() < 0.25 * cover.size:
        return None
    diff = _residual(sus, warped, cover)

    k = max(3, round(0.015 * size[0]) | 1)
    local = cv2.blur(diff, (k, k))
    covered = local[cover]
    median = float(np.median(covered))
    mad = float(np.median(np.abs(covered - median))) * 1.4826
    changed = (local > max(_NOISE_FLOOR, median + 8.0 * mad)) & cover
    # Closing joins the patches of one edited region and filling closes its holes; opening
    # then drops slivers thinner than the kernel: edges a compression or resampling moved.
    ellipse = cv2.MORPH_ELLIPSE
    changed = cv2.morphologyEx(changed.astype(np.uint8), cv2.MORPH_CLOSE,
                               cv2.getStructuringElement(ellipse, (2 * k + 1, 2 * k + 1)))
    changed = _fill_holes(changed)
    changed = cv2.morphologyEx(changed, cv2.MORPH_OPEN, cv2.getStructuringElement(ellipse, (k, k)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(changed, connectivity=8)
    keep = np.zeros(count, bool)
    if count > 1:
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep[1:] = (areas >= 0.001 * cover.sum()) & (areas >= 0.1 * areas.max())
    changed = keep[labels]

    full_map = cv2.resize(diff, (w, h), interpolation=cv2.INTER_LINEAR)
    full_map[cv2.resize(cover.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) == 0] = np.nan
    full_changed = cv2.resize(changed.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    box = None
    if changed.any():
        ys, xs = np.nonzero(changed)
        box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32) / f
        box = np.minimum(box, [w, h, w, h]).astype(np.float32)
    return Difference(full_map.astype(np.float32), full_changed, box, float(changed.sum() / cover.sum()),
                      source_from_suspect, inliers)


# ---- matching files --------------------------------------------------------------------


def media_files(folder: PathLike, skipped: list[tuple[str, str]] | None = None, *, follow_links: bool = False,
                hidden: bool = False) -> list[Path]:
    """The media files under ``folder``, sorted by path, found as ``scan DIR`` finds them
    (``unswap.inputs.collect``: regular files with a media name; hidden ones left out unless
    ``hidden``, links out of the folder unless ``follow_links``); what the walk left out is
    added to ``skipped`` as (path, why)."""
    from unswap.inputs import collect

    found = collect([folder], follow_links=follow_links, hidden=hidden)
    if skipped is not None:
        skipped += found.skipped
    return [Path(p) for p in found.files]


def _same_file(a: PathLike, b: PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _unchanged(path: Path, sha256: str) -> bool:
    """Whether ``path`` is a file whose bytes still have this SHA-256."""
    try:
        return path.is_file() and file_digest(path)[0] == sha256
    except OSError:
        return False


def _media_at_hand(h: MediaHashes, beside: Path | None) -> Path | None:
    """The file ``h`` was hashed from, found as recorded or relative to ``beside`` (a hash
    file's folder), if its bytes are still the same (by SHA-256); else None."""
    recorded = Path(h.path)
    candidates = (recorded,) if beside is None else (recorded, beside / recorded)
    return next((c for c in candidates if _unchanged(c, h.sha256)), None)


class SourceIndex:
    """Sources' PDQ frame hashes, built once and searched for many suspects (as
    ThreatExchange's SignalTypeIndex is).

    Each source is its ``MediaHashes`` and the path of its media where that is at hand
    with the bytes it was hashed from (else None): a folder's files, or a hash file's
    recorded files still there. ``skipped``: (path, why) of what a folder's walk left out
    and of its files that could not be hashed. ``SourceIndex.load`` builds one from what
    ``match --against`` names.
    """

    def __init__(self, sources: Iterable[tuple[MediaHashes, Path | None]] = (),
                 skipped: Iterable[tuple[str, str]] = ()) -> None:
        self.sources = list(sources)
        self.skipped = list(skipped)

    @classmethod
    def from_hashes(cls, hashes: Iterable[MediaHashes], beside: PathLike | None = None) -> SourceIndex:
        """Hashes at hand (a hash file's records); each one's media is looked for where it
        was recorded, and relative to ``beside`` (the hash file's folder)."""
        beside = None if beside is None else Path(beside)
        return cls((h, _media_at_hand(h, beside)) for h in hashes)

    @classmethod
    def from_folder(cls, folder: PathLike, sample_fps: float = MatchConfig.sample_fps, *,
                    follow_links: bool = False, hidden: bool = False, leave_out: PathLike | None = None
                    ) -> SourceIndex:
        """Every media file under ``folder``, read as ``scan DIR`` reads a folder (see
        ``media_files``), hashed now at ``sample_fps``; a file that is ``leave_out`` (the
        suspect itself) is not."""
        skipped: list[tuple[str, str]] = []
        sources = []
        for path in media_files(folder, skipped, follow_links=follow_links, hidden=hidden):
            if leave_out is not None and _same_file(path, leave_out):
                continue
            try:
                sources.append((hash_media(path, sample_fps), path))
            except MediaError as err:
                skipped.append((str(path), str(err)))
        return cls(sources, skipped)

    @classmethod
    def load(cls, against: PathLike, sample_fps: float = MatchConfig.sample_fps, *, follow_links: bool = False,
             hidden: bool = False, leave_out: PathLike | None = None) -> SourceIndex:
        """A folder of media (``from_folder``) or a file ``unswap hash`` wrote; MatchError
        for anything else."""
        from unswap.evidence.hashing import HashFileError

        against = Path(against)
        if against.is_dir():
            return cls.from_folder(against, sample_fps, follow_links=follow_links, hidden=hidden,
                                   leave_out=leave_out)
        if not against.exists():
            raise MatchError("no such file or folder")
        if not against.is_file():
            raise MatchError("not a folder or a hash file")
        try:
            return cls.from_hashes(read_hashes(against), against.parent)
        except HashFileError as err:
            raise MatchError(str(err)) from None
        except OSError as err:
            raise MatchError(f"cannot read file ({err.strerror or err})") from None

    def search(self, suspect: MediaHashes, cfg: MatchConfig = MatchConfig(),
               suspect_file: PathLike | None = None) -> MatchResult:
        """The sources ``suspect`` is found in, most matched frames first.

        With ``suspect_file`` (the suspect's media), a source that is that very file is left
        out, and where a matched source's media is at hand and unchanged, its best segment
        is refined to the source frame that differs least and, with ``cfg.difference``,
        that frame pair's ``Difference`` is attached. Without it, the hashes alone answer.
        """
        matches, compared = [], 0
        for source, media in self.sources:
            if suspect_file is not None and media is not None and _same_file(media, suspect_file):
                continue
            compared += 1
            segments = find_segments(suspect, source, cfg)
            if not segments:
                continue
            found = SourceMatch(source.path, source.sha256, source.kind, segments)
            if suspect_file is not None and media is not None and cfg.difference and _unchanged(media, source.sha256):
                _compare_frames(found, suspect_file, suspect, media, source)
            matches.append(found)
        matches.sort(key=lambda m: (-m.frames, min(s.median_distance for s in m.segments)))
        return MatchResult(suspect, matches, compared, list(self.skipped), cfg)


def match(suspect: PathLike, against: PathLike | SourceIndex, cfg: MatchConfig = MatchConfig(), *,
          follow_links: bool = False, hidden: bool = False) -> MatchResult:
    """Find ``suspect`` (an image or video) among sources: every media file under the folder
    ``against`` (hashed now at ``cfg.sample_fps``), the records of the hash file
    ``against``, or a ``SourceIndex`` already built. The folder is read as ``scan DIR``
    reads one (``unswap.inputs.collect``, with ``follow_links`` and ``hidden``); what its
    walk left out, and files in it that are not media, are listed in ``skipped``.

    Where a matched source's media is at hand (the folder case, or a hash file whose
    recorded file is still there, unchanged), its best segment is refined to the source
    frame that differs least and, with ``cfg.difference``, that frame pair's ``Difference``
    is attached. Raises MediaError for a suspect that is not readable media and MatchError
    for an unusable ``against``.
    """
    index = against if isinstance(against, SourceIndex) else None
    if index is None and not Path(against).is_dir():
        index = SourceIndex.load(against)  # a hash file is read, or refused, before the suspect is hashed
    suspect_hashes = hash_media(suspect, cfg.sample_fps)
    if index is None:  # a folder is hashed once the suspect is known to be media
        index = SourceIndex.load(against, cfg.sample_fps, follow_links=follow_links, hidden=hidden, leave_out=suspect)
    return index.search(suspect_hashes, cfg, suspect)


def _frames_near(path: PathLike, t: float, before: float, after: float) -> Iterator:
    """Every frame of ``path`` from ``t - before`` to ``t + after`` seconds (an image's one frame)."""
    for frame in frames(path, every_frame=True):
        if frame.t > t + after + 1e-6:
            return
        if frame.t >= t - before - 1e-6:
            yield frame


def _compare_frames(found: SourceMatch, suspect: PathLike, suspect_hashes: MediaHashes, media: Path,
                    source: MediaHashes) -> None:
    """Refine ``found``'s best segment to the exact source frame and attach the difference."""
    seg = found.segments[0]
    k = int(np.argmin(seg.distances))
    t_sus, t_src = float(seg.suspect_t[k]), float(seg.source_t[k])
    near = _frames_near(suspect, t_sus, 1e-3, 1e-3)
    suspect_frame = next(near, None)
    near.close()  # closes the file now, not when collected
    if suspect_frame is None:
        return
    if source.kind == "image":
        window = 0.0
    else:
        # The offset is known to about half the coarser sampling step: search a whole step.
        window = max(_step(source.t, 1.0), _step(suspect_hashes.t, 1.0) if len(suspect_hashes) > 1 else 0.0)
    # Frames stream through one at a time (a second of 1080p would be ~370 MB held); the
    # first that registers stands for the window's geometry while the moment is chosen,
    # and the chosen frame is registered again for the map itself.
    small, f = _shrink(suspect_frame.image, _WORK_SIDE // 2)
    registration, best, best_mismatch = None, None, float("inf")
    try:
        for frame in _frames_near(media, t_src, window, window):
            registration = registration or align(suspect_frame.image, frame.image)
            if registration is None:
                continue
            mismatch = _mismatch(small, frame.image, registration[0], f)
            if mismatch < best_mismatch:
                best, best_mismatch = frame, mismatch
    except MediaError:
        return
    if best is None:
        return
    diff = difference(suspect_frame.image, best.image, align(suspect_frame.image, best.image) or registration)
    if diff is None:
        return
    diff.suspect_t, diff.source_t, diff.source_index = suspect_frame.t, best.t, best.index
    found.difference = diff
    if source.kind == "video" and suspect_hashes.kind == "video":
        offset = best.t - suspect_frame.t
        found.segments[0] = dataclasses.replace(
            seg, offset_s=offset, source_start_s=seg.suspect_start_s + offset,
            source_end_s=seg.suspect_end_s + offset)


def _mismatch(sus_small: np.ndarray, source_rgb: np.ndarray, source_from_suspect: np.ndarray, f: float) -> float:
    """Mean colour difference of the shrunk suspect frame from a source frame (no ECC): cheap,
    to pick the source frame of the same moment."""
    warped, cover, _ = _warped_source(sus_small, source_rgb, source_from_suspect, f, refine=True)
    return float(_residual(sus_small, warped, cover)[cover].mean()) if cover.any() else float("inf")


# ---- output ----------------------------------------------------------------------------


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def to_dict(result: MatchResult) -> dict[str, Any]:
    """The JSON object of one ``unswap match --json`` run. Boxes are [x0, y0, x1, y1] in
    upright suspect pixels; the difference map itself is left out (use ``match``)."""
    s = result.suspect
    return {
        "schema": 1,
        "suspect": {"path": s.path, "sha256": s.sha256, "kind": s.kind, "width": s.width, "height": s.height,
                    "frames_hashed": len(s), "frames_usable": int((s.quality >= result.config.min_quality).sum())},
        "sources_compared": result.sources_compared,
        "skipped": [{"path": p, "reason": why} for p, why in result.skipped],
        "max_distance": result.config.max_distance,
        "min_quality": result.config.min_quality,
        "matches": [
            {
                "path": m.path,
                "sha256": m.sha256,
                "kind": m.kind,
                "segments": [
                    {"suspect_start_s": _r(g.suspect_start_s), "suspect_end_s": _r(g.suspect_end_s),
                     "source_start_s": _r(g.source_start_s), "source_end_s": _r(g.source_end_s),
                     "offset_s": _r(g.offset_s), "frames": g.frames,
                     "median_distance": _r(g.median_distance, 1), "max_distance": g.max_distance}
                    for g in m.segments
                ],
                "difference": None if m.difference is None else {
                    "suspect_t": _r(m.difference.suspect_t), "source_t": _r(m.difference.source_t),
                    "source_frame_index": m.difference.source_index,
                    "box": None if m.difference.box is None else [_r(v, 1) for v in m.difference.box],
                    "fraction": _r(m.difference.fraction, 4),
                    "inliers": m.difference.inliers,
                    "source_from_suspect": [[_r(v, 5) for v in row] for row in m.difference.source_from_suspect],
                },
            }
            for m in result.matches
        ],
    }


def to_text(result: MatchResult) -> str:
    """A few lines for people: each source found, its segments and what differs. Names
    are shown with control characters escaped (``printable``): a file name cannot forge
    or hide a line."""
    from unswap.text import printable

    s = result.suspect
    n = result.sources_compared
    if not result.matches:
        lines = [f"{printable(s.path)}: no match among {n} source(s)"]
    else:
        lines = [f"{printable(s.path)}: found in {len(result.matches)} of {n} source(s)"]
    for m in result.matches:
        lines.append(f"  {printable(m.path)} ({m.kind})")
        for g in m.segments:
            if s.kind == "image" or m.kind == "image":
                where = f"source {g.source_start_s:.1f} s" if m.kind == "video" else "source image"
                what = f"suspect {g.suspect_start_s:.1f}-{g.suspect_end_s:.1f} s" if s.kind == "video" else "suspect"
                lines.append(f"    {what} = {where}; {g.frames} frame(s), "
                             f"PDQ distance median {g.median_distance:g}, max {g.max_distance}")
            else:
                lines.append(f"    suspect {g.suspect_start_s:.1f}-{g.suspect_end_s:.1f} s = source "
                             f"{g.source_start_s:.1f}-{g.source_end_s:.1f} s (offset {g.offset_s:+.2f} s); "
                             f"{g.frames} frames, PDQ distance median {g.median_distance:g}, max {g.max_distance}")
        d = m.difference
        if d is None:
            continue
        at = f" at {d.suspect_t:.2f} s (source {d.source_t:.2f} s)" if s.kind == "video" else ""
        if d.box is None:
            lines.append(f"    no region differs from the source{at}")
        else:
            x0, y0, x1, y1 = (round(float(v)) for v in d.box)
            lines.append(f"    differs from the source{at}: region ({x0},{y0})-({x1},{y1}), "
                         f"{100 * d.fraction:.1f}% of the frame")
    if result.skipped:
        lines.append(f"  {len(result.skipped)} file(s) skipped (not media)")
    return "\n".join(lines)
