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
        "shots": [{"start_s": _r(a, 3), "end_s": _r(b, 3)} for a, b in result.shots],
        "min_face_px": _r(result.min_face_px, 1),
        "faces_too_small": result.faces_too_small,
        "provenance": provenance_dict(result.provenance),
        "tracks": [
            {
                "track_id": tr.track_id,
                "shot": tr.shot,
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
                        "too_small": o.too_small,
                    }
                    for o in tr.observations
                ],
            }
            for tr in result.tracks
        ],
    }


PROVENANCE_KEYS = ("status", "trusted", "signer", "issuer", "signed_at", "claim_generator", "ai_generated",
                   "edited")


def provenance_dict(p) -> dict[str, Any] | None:
    """The scan's ``provenance`` object: what a ``Provenance`` says in brief (its
    ``errors`` as their C2PA codes), or None when the file carries no manifest."""
    if p is None:
        return None
    d = p.to_dict()
    return {**{k: d[k] for k in PROVENANCE_KEYS}, "errors": [e["code"] for e in d["errors"]]}


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
                            region_box=None if f.get("region_box") is None else np.array(f["region_box"], np.float32),
                            too_small=bool(f.get("too_small", False)))
            for f in t["frames"]
        ]
        segments = [Segment(g["start_s"], g["end_s"], g["p_fake_max"], g["frames"]) for g in t.get("segments", [])]
        tracks.append(Track(t["track_id"], obs, t["p_fake"], t["label"], segments, t.get("shot", 0)))
    det = d["detector"]
    return ScanResult(d["path"], media, Verdict(d["label"], d["p_fake"]), tracks,
                      m["frames_scored"], f"{det['name']}.{det['version']}", d["threshold"],
                      tool_version=d["tool"]["version"],
                      shots=[(s["start_s"], s["end_s"]) for s in d.get("shots", [])],
                      min_face_px=d.get("min_face_px", 0.0), provenance=_provenance_from(d.get("provenance"), d["path"]))


def _provenance_from(p: dict[str, Any] | None, path: str):
    """The ``Provenance`` a scan's ``provenance`` object says, as far as it says it."""
    if p is None:
        return None
    from unswap.evidence.provenance import Issue, Provenance

    return Provenance(path, **{k: p[k] for k in PROVENANCE_KEYS}, errors=tuple(Issue(c) for c in p["errors"]))


_WORDS = {
    "fake": "LIKELY FACE-SWAPPED",
    "real": "no sign of a face swap",
    "uncertain": "UNCERTAIN: too close to call",
    "too-small": "faces too small to judge",
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
        cfg = result.detector_config
        if cfg is not None and getattr(cfg, "real_below", None) is not None:
            head += (f" (p_fake {result.p_fake:.2f}; fake from {result.threshold:.2f}, "
                     f"no sign of a swap below {cfg.real_below:.2f})")
        else:
            head += f" (p_fake {result.p_fake:.2f}, threshold {result.threshold:.2f})"
    cuts = f"; {len(result.shots)} shots" if len(result.shots) > 1 else ""
    lines = [head, f"  {what}; {result.frames_scored} frame(s) scored{cuts}; {len(result.tracks)} face track(s); "
                   f"detector {result.detector}"]
    for tr in result.tracks:
        span = f"{tr.start_s:.1f}-{tr.end_s:.1f} s" if m.kind == "video" else "image"
        if tr.label == "too-small":
            widest = max(float(o.box[2] - o.box[0]) for o in tr.observations)
            lines.append(f"  face {tr.track_id}: too small to judge (at most {widest:.0f} px wide, under "
                         f"{result.min_face_px:g} px), {span}, {len(tr.observations)} frame(s); not scored")
            continue
        if tr.p_fake is None:
            continue
        worst = max(tr.observations, key=lambda o: o.p_fake or 0.0)
        x0, y0, x1, y1 = (round(float(v)) for v in worst.box)
        lines.append(
            f"  face {tr.track_id}: {tr.label}, p_fake {tr.p_fake:.2f}, {span}, {len(tr.observations)} frame(s); "
            f"most suspect at {worst.t:.1f} s, box ({x0},{y0})-({x1},{y1})"
        )
        if m.kind == "video" and tr.segments:
            spans = ", ".join(f"{g.start_s:.1f}-{g.end_s:.1f} s" for g in tr.segments)
            lines.append(f"    judged swapped during {spans}")
    if result.label == "too-small":
        lines.append(f"  Every face found is narrower than {result.min_face_px:g} px, too small for the detector to "
                     f"judge: nothing was scored. A larger copy of the file can be checked.")
    if result.label in ("fake", "uncertain", "real"):
        said = None if result.detector_config is None else result.detector_config.rates_sentence()
        if said:
            lines.append(f"  {said}")
    if result.label in ("fake", "uncertain"):
        lines.append("  A detector's score is evidence, not proof: check the moments and faces named above.")
    if result.provenance is not None:
        lines.append("  " + result.provenance.to_text().split("\n")[0].split(": ", 1)[-1])
    return "\n".join(lines)
