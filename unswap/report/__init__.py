"""Scan results as JSON (the pipeline contract) and as plain text for people."""

from __future__ import annotations

from typing import Any

from unswap.aggregate import Verdict
from unswap.scan import ScanResult
from unswap.types import FaceObservation, MediaInfo, Segment, Track
from unswap.vocabulary import Words, number, provenance_words, words_for

SCHEMA_VERSION = 1


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


def to_dict(result: ScanResult) -> dict[str, Any]:
    """The JSON object for one scanned file (one line of ``unswap scan --json``)."""
    m = result.media
    return {
        "schema": SCHEMA_VERSION,
        "path": result.path,
        "label": result.label,
        "p_fake": _r(result.p_fake),
        "threshold": _r(result.threshold),
        "real_below": _r(getattr(result.detector_config, "real_below", None)),
        "summary": words(result).summary(),
        "words": words(result).to_dict(),
        "media": {
            "kind": m.kind,
            "width": m.width,
            "height": m.height,
            "fps": _r(m.fps, 3),
            "duration_s": _r(m.duration_s, 3),
            "frames_scored": result.frames_scored,
        },
        "detector": _detector(result.detector),
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


def scan_record(path: str, detector: str, result: ScanResult | None, *, sha256: str | None, size: int | None,
                error: str | None) -> dict[str, Any]:
    """One file's line of ``scan --out``: ``to_dict(result)``, or for a file that could not
    be scanned (``result`` None) the keys that need no scan, with ``label`` and ``p_fake``
    null and no tracks; then the ``sha256`` and ``size`` of its bytes and its ``error``
    (null when scanned). ``detector`` is the id (name.version) of the detector asked for."""
    if result is not None:
        record = to_dict(result)
    else:
        from unswap import __version__

        record = {"schema": SCHEMA_VERSION, "path": path, "label": None, "p_fake": None,
                  "detector": _detector(detector), "tool": {"name": "unswap", "version": __version__}, "tracks": []}
    return record | {"sha256": sha256, "size": size, "error": error}


def _detector(detector_id: str) -> dict[str, str]:
    name, _, version = detector_id.rpartition(".")
    return {"name": name, "version": version}


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
                      min_face_px=d.get("min_face_px", 0.0), provenance=_provenance_from(d.get("provenance"), d["path"]),
                      detector_config=shipped_config(f"{det['name']}.{det['version']}"))


def shipped_config(detector_id: str):
    """The ``DetectorConfig`` of a detector registered here from its weights folder,
    without loading its model; None for one not registered here."""
    from unswap.detectors.registry import detector_config

    return detector_config(detector_id)


def _provenance_from(p: dict[str, Any] | None, path: str):
    """The ``Provenance`` a scan's ``provenance`` object says, as far as it says it."""
    if p is None:
        return None
    from unswap.evidence.provenance import Issue, Provenance

    return Provenance(path, **{k: p[k] for k in PROVENANCE_KEYS}, errors=tuple(Issue(c) for c in p["errors"]))


def words(result: ScanResult) -> Words:
    """The words telling ``result``'s verdict (``unswap.vocabulary``)."""
    return words_for(result.label, result.p_fake, result.detector_config, result.media.kind,
                     result.min_face_px, result.threshold)


def most_suspect(tr: Track) -> FaceObservation:
    """A track's most suspect moment: its highest-scoring frame, taken within the
    segments judged swapped when it has any (so the moment named lies in one)."""
    scored = [o for o in tr.observations if o.p_fake is not None]
    inside = [o for o in scored if any(g.start_s <= o.t <= g.end_s for g in tr.segments)]
    return max(inside or scored, key=lambda o: o.p_fake)


def _plural(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def to_text(result: ScanResult) -> str:
    """A few plain lines: the verdict in words, then one line per face (track)."""
    m = result.media
    video = m.kind == "video"
    said = words(result)
    what = f"{m.width}x{m.height} {m.kind}"
    if video and m.duration_s:
        what += f", {m.duration_s:.1f} s"
    head = f"{result.path}: {said.headline}" + (f" ({said.score})" if said.score else "")
    scored = sum(tr.p_fake is not None for tr in result.tracks)
    if video:
        what += (f"; {_plural(result.frames_scored, 'frame')} sampled"
                 + (f"; {len(result.shots)} shots" if len(result.shots) > 1 else "")
                 + f"; {_plural(len(result.tracks), 'face track')}")
    else:
        what += f"; {_plural(len(result.tracks), 'face')}"
    lines = [head, f"  {said.means}", f"  {what}, {scored} scored; detector {result.detector}"]
    limits = [result.threshold]
    for tr in result.tracks:
        span = f", {tr.start_s:.1f}-{tr.end_s:.1f} s, {_plural(len(tr.observations), 'frame')}" if video else ""
        if tr.label == "too-small":
            widest = max(float(o.box[2] - o.box[0]) for o in tr.observations)
            lines.append(f"  face {tr.track_id}: too small to judge (at most {widest:.0f} px wide, under "
                         f"{result.min_face_px:g} px){span}; not scored")
            continue
        if tr.p_fake is None:
            continue
        worst = most_suspect(tr)
        x0, y0, x1, y1 = (round(float(v)) for v in worst.box)
        at = f"most suspect at {worst.t:.1f} s, box" if video else "box"
        lines.append(f"  face {tr.track_id}: {tr.label}, p_fake {number(tr.p_fake, *limits)}{span}; "
                     f"{at} ({x0},{y0})-({x1},{y1})")
        if video and tr.segments:
            spans = ", ".join(f"{g.start_s:.1f}-{g.end_s:.1f} s" for g in tr.segments)
            lines.append(f"    judged swapped during {spans}")
    if said.rates:
        lines.append(f"  {said.rates}")
    lines += [f"  Not: {said.not_means}", f"  Next: {said.next}"]
    prov = provenance_words(provenance_dict(result.provenance))
    if prov:
        lines.append(f"  {prov}")
    return "\n".join(lines)
