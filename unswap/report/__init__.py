"""Scan results as JSON (the pipeline contract) and as plain text for people."""

from __future__ import annotations

from typing import Any

from unswap.aggregate import Verdict
from unswap.scan import ScanResult
from unswap.types import FaceObservation, MediaInfo, Segment, Track

SCHEMA_VERSION = 1


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


def to_dict(result: ScanResult) -> dict[str, Any]:
    """The JSON object for one scanned file (one line of ``unswap scan --json``)."""
    m = result.media
    name, _, version = result.detector.rpartition(".")
    return {
        "schema": SCHEMA_VERSION,
        "path": result.path,
        "label": result.label,
        "p_fake": _r(result.p_fake),
        "threshold": _r(result.threshold),
        "media": {
            "kind": m.kind,
            "width": m.width,
            "height": m.height,
            "fps": _r(m.fps, 3),
            "duration_s": _r(m.duration_s, 3),
            "frames_scored": result.frames_scored,
        },
        "detector": {"name": name, "version": version},
        "tool": {"name": "unswap", "version": result.tool_version},
        "tracks": [
            {
                "track_id": tr.track_id,
                "label": tr.label,
                "p_fake": _r(tr.p_fake),
                "start_s": _r(tr.start_s, 3),
                "end_s": _r(tr.end_s, 3),
                "segments": [
                    {"start_s": _r(g.start_s, 3), "end_s": _r(g.end_s, 3), "p_fake_max": _r(g.p_fake_max),
                     "frames": g.frames}
                    for g in tr.segments
                ],
                "frames": [
                    {
                        "frame_index": o.frame_index,
                        "t": _r(o.t, 3),
                        "box": [round(float(v), 1) for v in o.box],
                        "landmarks": [[round(float(v), 1) for v in pt] for pt in o.landmarks],
                        "p_fake": _r(o.p_fake),
                        "region_box": None if o.region_box is None else [round(float(v), 1) for v in o.region_box],
                    }
                    for o in tr.observations
                ],
            }
            for tr in result.tracks
        ],
    }


def from_dict(d: dict[str, Any]) -> ScanResult:
    """Read back what ``to_dict`` wrote (for tools that post-process scans)."""
    import numpy as np

    m = d["media"]
    media = MediaInfo(d["path"], m["kind"], m["width"], m["height"], m["fps"], m["duration_s"])
    tracks = []
    for t in d["tracks"]:
        obs = [
            FaceObservation(f["frame_index"], f["t"], np.array(f["box"], np.float32),
                            np.array(f.get("landmarks", np.zeros((5, 2))), np.float32), 1.0, f["p_fake"],
                            region_box=None if f.get("region_box") is None else np.array(f["region_box"], np.float32))
            for f in t["frames"]
        ]
        segments = [Segment(g["start_s"], g["end_s"], g["p_fake_max"], g["frames"]) for g in t.get("segments", [])]
        tracks.append(Track(t["track_id"], obs, t["p_fake"], t["label"], segments))
    det = d["detector"]
    return ScanResult(d["path"], media, Verdict(d["label"], d["p_fake"]), tracks,
                      m["frames_scored"], f"{det['name']}.{det['version']}", d["threshold"],
                      tool_version=d["tool"]["version"])


_WORDS = {
    "fake": "LIKELY FACE-SWAPPED",
    "real": "no sign of a face swap",
    "uncertain": "UNCERTAIN: too close to call",
    "no-face": "no face found",
}


def to_text(result: ScanResult) -> str:
    """A few plain lines: the verdict, then one line per face track."""
    m = result.media
    what = f"{m.width}x{m.height} {m.kind}"
    if m.kind == "video" and m.duration_s:
        what += f", {m.duration_s:.1f} s"
    head = f"{result.path}: {_WORDS[result.label]}"
    if result.p_fake is not None:
        head += f" (p_fake {result.p_fake:.2f}, threshold {result.threshold:.2f})"
    lines = [head, f"  {what}; {result.frames_scored} frame(s) scored; {len(result.tracks)} face track(s); detector {result.detector}"]
    for tr in result.tracks:
        if tr.p_fake is None:
            continue
        span = f"{tr.start_s:.1f}-{tr.end_s:.1f} s" if m.kind == "video" else "image"
        worst = max(tr.observations, key=lambda o: o.p_fake or 0.0)
        x0, y0, x1, y1 = (round(float(v)) for v in worst.box)
        lines.append(
            f"  face {tr.track_id}: {tr.label}, p_fake {tr.p_fake:.2f}, {span}, {len(tr.observations)} frame(s); "
            f"most suspect at {worst.t:.1f} s, box ({x0},{y0})-({x1},{y1})"
        )
        if m.kind == "video" and tr.segments:
            spans = ", ".join(f"{g.start_s:.1f}-{g.end_s:.1f} s" for g in tr.segments)
            lines.append(f"    judged swapped during {spans}")
    if result.label in ("fake", "uncertain"):
        lines.append("  A detector's score is evidence, not proof: check the moments and faces named above.")
    return "\n".join(lines)
