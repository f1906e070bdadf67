"""Frame scores -> track verdicts -> file verdict.

A track's p_fake is the median of its faces' calibrated p_fake: every sampled frame
counts, a few dips cannot pull a clearly swapped track under the threshold nor a few
spikes push a real one over it, and the words agree with the frames (a track most of
whose frames score at or above the threshold is called fake; one most of whose frames
score below ``real_below`` is called real). The file's p_fake is
that of its most suspect track among those seen in at least ``min_track_frames``
sampled frames (short tracks are often false face detections), falling back to all
tracks when none is that long. Labels come from the detector's cuts (``label_for``, as
``DetectorConfig.label_for`` applies it): "fake" from its threshold up, "real" below its
``real_below``, "uncertain" between; older configs have a symmetric ``uncertain_margin``
around the threshold instead.

Segments say *when*: in a track judged fake, the runs of sampled frames
whose p_fake, smoothed by a running median of three frames (one odd frame neither makes
nor breaks a run), is at or above the threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from unswap.types import Segment, Track

MIN_TRACK_FRAMES = 2
"""A file takes its most suspect track among those seen in at least this many sampled
frames (a shorter one is often a false face detection)."""


@dataclass(frozen=True)
class Verdict:
    label: str  # "fake", "real", "uncertain", "too-small" (faces, all too small to judge) or "no-face"
    p_fake: float | None


def label_for(p: float, threshold: float, uncertain_margin: float = 0.0, real_below: float | None = None) -> str:
    """"fake", "uncertain" or "real" for a calibrated p_fake: "fake" from ``threshold`` up,
    "real" below ``real_below``, "uncertain" between. Without ``real_below`` (older
    configs), "uncertain" within ``uncertain_margin`` of the threshold on either side."""
    if real_below is None:
        if abs(p - threshold) < uncertain_margin:
            return "uncertain"
        return "fake" if p >= threshold else "real"
    if p >= threshold:
        return "fake"
    return "real" if p < real_below else "uncertain"


def track_p_fake(face_p: Sequence[float] | np.ndarray) -> float:
    """A track's p_fake from its faces' p_fake, one a sampled frame: their median."""
    return float(np.median(face_p))


def file_p_fake(tracks: Sequence[tuple[float, int]], min_track_frames: int = MIN_TRACK_FRAMES) -> float:
    """A file's p_fake from its scored tracks' (p_fake, sampled frames the track was seen
    in): the most suspect track's among those seen in at least ``min_track_frames``
    frames, or among all when none is that long."""
    long_enough = [p for p, n in tracks if n >= min_track_frames] or [p for p, _ in tracks]
    return max(long_enough)


def file_scores(p: np.ndarray, n_files: int, file_idx: np.ndarray, track: np.ndarray) -> np.ndarray:
    """(n_files,) file p_fake by the scan's rule (``track_p_fake``, ``file_p_fake``) from
    faces scored outside a scan: per-face scores ``p`` (N,), each face's file index
    (N,) and track id (N,), one face a sampled frame. NaN for a file with no face."""
    out = np.full(n_files, np.nan)
    for f in range(n_files):
        sel = file_idx == f
        if not sel.any():
            continue
        faces = [sel & (track == t) for t in np.unique(track[sel])]
        out[f] = file_p_fake([(track_p_fake(p[m]), int(m.sum())) for m in faces])
    return out


def score_tracks(tracks: list[Track], label: Callable[[float], str]) -> None:
    """Fill each track's ``p_fake`` and ``label`` from its observations; ``label`` maps a
    p_fake to its word (a detector config's ``label_for``). A track whose faces were all
    too small to judge is labelled "too-small", with no p_fake."""
    for tr in tracks:
        ps = [o.p_fake for o in tr.observations if o.p_fake is not None]
        tr.p_fake = track_p_fake(ps) if ps else None
        if tr.p_fake is not None:
            tr.label = label(tr.p_fake)
        else:
            tr.label = "too-small" if tr.observations and all(o.too_small for o in tr.observations) else None


def fake_segments(track: Track, threshold: float, min_frames: int = 2) -> list[Segment]:
    """Time spans (seconds, first and last sampled frame) in which ``track``'s face is
    judged swapped. A run needs ``min_frames`` sampled frames, except in a track of a
    single frame (a still image)."""
    obs = [o for o in track.observations if o.p_fake is not None]
    if not obs:
        return []
    p = np.array([o.p_fake for o in obs])
    if len(p) >= 3:
        padded = np.concatenate([p[:1], p, p[-1:]])
        p = np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
    need = 1 if len(obs) == 1 else min_frames
    out, start = [], None
    for i, above in enumerate(np.append(p >= threshold, False)):
        if above and start is None:
            start = i
        elif not above and start is not None:
            if i - start >= need:
                raw = [o.p_fake for o in obs[start:i]]
                out.append(Segment(obs[start].t, obs[i - 1].t, float(max(raw)), i - start))
            start = None
    return out


def score_segments(tracks: list[Track], threshold: float) -> None:
    """Fill the segments of tracks judged fake; a face not judged swapped over its track
    has none, however high a moment of it scored, so no "judged swapped" stretch is
    ever shown under a verdict that is not "fake"."""
    for tr in tracks:
        tr.segments = fake_segments(tr, threshold) if tr.label == "fake" else []


def file_verdict(tracks: list[Track], label: Callable[[float], str],
                 min_track_frames: int = MIN_TRACK_FRAMES) -> Verdict:
    scored = [t for t in tracks if t.p_fake is not None]
    if not scored:
        return Verdict("too-small" if any(t.label == "too-small" for t in tracks) else "no-face", None)
    p = file_p_fake([(t.p_fake, len(t.observations)) for t in scored], min_track_frames)
    return Verdict(label(p), float(p))
