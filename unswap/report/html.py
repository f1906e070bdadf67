"""The evidence report: one self-contained HTML file a person can read, keep and print.

Everything is inline (CSS, SVG timelines, PNG thumbnails as data URIs); a Content
Security Policy forbids every fetch and every script, so opening the file never touches
the network. What the report shows, in order: the verdict in plain words with what it
does and does not mean, a p_fake timeline per face track with the segments judged
swapped, the most suspect moments of each face with the region map over them, source
matches and difference maps (when given), C2PA findings, file hashes, and the tool,
model and time of the scan.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np

from unswap.report import words
from unswap.scan import ScanResult, check_provenance
from unswap.types import Track
from unswap.vocabulary import digits, number, provenance_words, words_for, words_key

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

def _p_fake_words(result: ScanResult) -> str:
    """What the file's p_fake means and does not mean, in words, with its own number."""
    p = result.p_fake
    if p is None:
        return ""
    cfg = result.detector_config
    prior = getattr(cfg, "prior_fake", None)
    share = (f"{round(100 * prior)} in 100" if prior is not None
             else "as many as in its validation data (about 63 in 100)")
    n = round(100 * p)
    shown = number(p, result.threshold)
    return (f"<p><strong>What p_fake {shown} means.</strong> It is the detector's calibrated probability that "
            f"the most suspect face is swapped: of faces the detector scored about {shown} in its validation "
            f"data, where {share} faces were swapped, about {n} in 100 were swapped. It assumes swaps are "
            f"that common. It is not \u201c{n}% sure\u201d, and it is not the chance that this file is fake "
            f"wherever it came from: where swaps are rarer than that, the same score means a smaller "
            f"chance. The threshold {result.threshold:.{digits(p, result.threshold)}f} is where the detector starts to say \u201cfake\u201d.</p>")


@dataclass
class ReportInputs:
    """What the report shows beside the scan itself; every part is optional.

    ``hashes``: an ``unswap.evidence.hashing.MediaHashes`` of the file. ``provenance``: a dict of
    ``unswap.evidence.provenance.Provenance.to_dict()``, or None with ``provenance_note`` saying
    why it is absent. ``matches``: dicts with at least ``source`` and ``segments``
    (``suspect_start_s``, ``suspect_end_s``, ``source_start_s``, ``source_end_s``,
    ``median_distance``); ``difference``: an RGB image of the difference map, with
    ``changed_box``.
    """

    hashes: Any = None
    provenance: dict | None = None
    provenance_note: str | None = None
    matches: list[dict] | None = None
    match_note: str | None = None
    scanned_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    command: str | None = None


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def png_data_uri(rgb: np.ndarray) -> str:
    """An (H, W, 3) uint8 RGB image as a PNG data URI."""
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:  # pragma: no cover - only on an empty image
        raise ValueError("cannot encode image")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


TINT_FROM = 0.3
"""Region-map values under this leave the crop untinted; above it the red deepens with the value."""


def overlay_region(crop: np.ndarray, region: np.ndarray, level: float = 0.5) -> np.ndarray:
    """The crop with its region map over it: red where the map is over ``TINT_FROM``,
    deeper where it is higher, and a yellow outline where it crosses ``level``.

    ``crop``: (S, S, 3) uint8 RGB; ``region``: (M, M) in 0..1 over the same square.
    """
    s = crop.shape[0]
    heat = cv2.resize(region.astype(np.float32), (s, s), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    alpha = (0.6 * ((heat - TINT_FROM) / (1 - TINT_FROM)).clip(0, 1))[..., None]
    red = np.zeros_like(crop, np.float32)
    red[..., 0] = 255
    out = (crop.astype(np.float32) * (1 - alpha) + red * alpha).clip(0, 255).astype(np.uint8)
    contours, _ = cv2.findContours((heat >= level).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, (255, 230, 0), max(1, s // 128), lineType=cv2.LINE_AA)
    return out


_COLORS = ["#c0392b", "#2c6fbb", "#8e44ad", "#16a085", "#d35400"]


def _color(k: int) -> str:
    return _COLORS[k % len(_COLORS)]


def _timeline(tracks: Sequence[Track], duration: float, threshold: float, cuts: Sequence[float] = ()) -> str:
    w, h, left, right, bottom, top = 720, 200, 58, 30, 44, 10
    pw, ph = w - left - right, h - bottom - top
    duration = max(duration, max((tr.end_s for tr in tracks if tr.observations), default=0.0), 1e-3)

    def x(t: float) -> float:
        return left + pw * t / duration

    def y(p: float) -> float:
        return top + ph * (1 - p)

    parts = [f'<svg class="timeline" viewBox="0 0 {w} {h}" role="img" aria-label="p_fake over time">',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="plot"/>']
    for tr in tracks:
        for g in tr.segments:
            x0, x1 = x(g.start_s), x(g.end_s)
            parts.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 3):.1f}" height="{ph}" '
                         f'class="segment"><title>face {tr.track_id}: judged swapped '
                         f'{g.start_s:.1f}-{g.end_s:.1f} s</title></rect>')
    for c in cuts:
        parts.append(f'<line x1="{x(c):.1f}" x2="{x(c):.1f}" y1="{top}" y2="{top + ph}" class="cut">'
                     f"<title>shot cut at {c:.2f} s</title></line>")
    for p in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{left - 6}" y="{y(p) + 4:.1f}" class="tick" text-anchor="end">{p:.2f}</text>')
    step = next(v for v in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 1e9)
                if duration / v <= 8)
    ticks = [i * step for i in range(int(duration / step + 1e-9) + 1)]
    for t in ticks:
        parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top + ph}" y2="{top + ph + 4}" class="tickmark"/>'
                     f'<text x="{x(t):.1f}" y="{top + ph + 17}" class="tick" text-anchor="middle">{t:g}</text>')
    parts.append(f'<text x="{left + pw / 2:.1f}" y="{h - 6}" class="axis" text-anchor="middle">'
                 "time in the file (seconds)</text>")
    parts.append(f'<text x="14" y="{top + ph / 2:.1f}" class="axis" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + ph / 2:.1f})">p_fake</text>')
    parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
                 f'class="threshold"><title>threshold {threshold:.2f}</title></line>')
    for k, tr in enumerate(tracks):
        pts = [(o.t, o.p_fake) for o in tr.observations if o.p_fake is not None]
        if not pts:
            continue
        c = _color(k)
        if len(pts) > 1:
            path = " ".join(f"{x(t):.1f},{y(p):.1f}" for t, p in pts)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
        for t, p in pts:
            parts.append(f'<circle cx="{x(t):.1f}" cy="{y(p):.1f}" r="2.5" fill="{c}">'
                         f'<title>face {tr.track_id}, {t:.2f} s: p_fake {number(p, threshold)}</title></circle>')
    parts.append("</svg>")
    legend = " ".join(f'<span style="color:{_color(k)}">&#9679; face {tr.track_id}</span>'
                      for k, tr in enumerate(tracks))
    cut_key = (f" &nbsp; grey dotted line: a shot cut ({len(cuts)}), where one continuous take ends and "
               "another begins; no face track crosses one" if cuts else "")
    return "".join(parts) + f'<p class="legend">{legend} &nbsp; <span class="seg-key">&#9632;</span> judged swapped' \
        f" &nbsp; dashed line: threshold {threshold:.2f}{cut_key}</p>"


_OVERLAY_KEY = ("right: the region map over the face; red where the detector judges a part blended in "
                "(deeper red, more strongly; none under {:.1f}), yellow outline where it passes 0.5").format(TINT_FROM)


def moments(result: ScanResult, tr: Track) -> list[dict]:
    """A track's kept moments in time order, each as ``when``, ``p_fake`` (words), ``face``
    (PNG data URI), ``region`` (the region map over it, or None) and ``note`` saying what
    the pictures show. The report and the page show these."""
    out = []
    for k, crop in sorted(result.crops.get(tr.track_id, []), key=lambda item: tr.observations[item[0]].t):
        o = tr.observations[k]
        suspect = o.p_fake is not None and o.p_fake >= result.threshold
        region = None
        if suspect and o.region is not None:
            peak = float(o.region.max())
            note = "left: the face as it is; " + _OVERLAY_KEY
            if peak < TINT_FROM:
                # no part passes the tint level: show the map against its own peak, said as such
                note += (f"; here the map marks no part over {TINT_FROM:.1f} (its highest is {peak:.2f}), so it is "
                         "drawn against its own highest value: the red is where it is strongest, a weak pointer")
            region = png_data_uri(overlay_region(crop, o.region / max(peak, 1e-6) if peak < TINT_FROM else o.region))
        elif suspect:
            note = "the face as it is; this detector gives no region map"
        else:
            note = "the face as it is; not judged swapped here, so no region is shown"
        out.append({"when": f"{o.t:.2f} s, frame {o.frame_index}" if result.media.kind == "video" else "the photo",
                    "p_fake": "n/a" if o.p_fake is None else number(o.p_fake, result.threshold),
                    "face": png_data_uri(crop), "region": region, "note": note, "size": crop.shape[0]})
    return out


def _moments(result: ScanResult, tr: Track) -> str:
    cells = []
    for m in moments(result, tr):
        alt = f"face {tr.track_id} at {m['when']}"
        pictures = f'<img src="{m["face"]}" alt="{_e(alt)}" width="{m["size"]}" height="{m["size"]}">'
        if m["region"]:
            pictures += f'<img src="{m["region"]}" alt="{_e(alt)}, region map" width="{m["size"]}" height="{m["size"]}">'
        cells.append(f'<figure class="moment{" overlay" if m["region"] else ""}"><div class="pair">{pictures}</div>'
                     f'<figcaption>{_e(m["when"])}: p_fake {m["p_fake"]}<br><small>{_e(m["note"])}</small>'
                     "</figcaption></figure>")
    return f'<div class="moments">{"".join(cells)}</div>' if cells else ""


def frame_pictures(result: ScanResult) -> list[dict]:
    """Each kept full frame (one per shot) with every face's box and track label drawn:
    ``what`` (a caption) and ``image`` (PNG data URI)."""
    colours = {tr.track_id: _color(k) for k, tr in enumerate(t for t in result.tracks if t.p_fake is not None)}
    cells = []
    for shot, (index, t, thumb) in sorted(result.keyframes.items()):
        img = thumb.copy()
        if max(img.shape[:2]) < 320:  # a tiny picture: enlarged, so a face's label does not cover it
            k = -(-320 // max(img.shape[:2]))
            img = cv2.resize(img, (img.shape[1] * k, img.shape[0] * k), interpolation=cv2.INTER_NEAREST)
        f = img.shape[1] / result.media.width
        for tr in result.tracks:
            for o in tr.observations:
                if o.frame_index != index:
                    continue
                hexc = colours.get(tr.track_id, "#7f7f7f")
                rgb = tuple(int(hexc[i:i + 2], 16) for i in (1, 3, 5))
                x0, y0, x1, y1 = (round(float(v) * f) for v in o.box)
                cv2.rectangle(img, (x0, y0), (x1, y1), (255, 255, 255), 4)  # a white rim: seen on any picture
                cv2.rectangle(img, (x0, y0), (x1, y1), rgb, 2)
                text = f"face {tr.track_id}" + (" (too small)" if o.too_small else "")
                (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
                ty = y0 - 4 if y0 > th + 8 else min(y1 + th + 6, img.shape[0] - 3)
                tx = min(max(x0, 0), max(img.shape[1] - tw - 4, 0))
                cv2.rectangle(img, (tx, ty - th - 4), (tx + tw + 4, ty + 3), rgb, -1)
                cv2.putText(img, text, (tx + 2, ty), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        if result.media.kind == "video":
            what = f"shot {shot + 1} of {max(len(result.shots), 1)}, at {t:.2f} s (frame {index})"
        else:
            what = "the photo"
        cells.append({"what": what, "image": png_data_uri(img), "width": img.shape[1], "height": img.shape[0]})
    return cells


def _frame_pictures(result: ScanResult) -> str:
    cells = [f'<figure class="frame"><img src="{c["image"]}" alt="{_e(c["what"])} with face boxes" '
             f'width="{c["width"]}" height="{c["height"]}"><figcaption>{_e(c["what"])}</figcaption></figure>'
             for c in frame_pictures(result)]
    return ('<p>Which face is which: each box is labelled with the name the rest of this report uses.</p>'
            f'<div class="frames">{"".join(cells)}</div>') if cells and result.tracks else ""


def _track_section(result: ScanResult, tr: Track) -> str:
    if tr.p_fake is None:
        return ""
    video = result.media.kind == "video"
    head = f"<h3>Face {tr.track_id}: {_e(tr.label)}, p_fake {number(tr.p_fake, result.threshold)}</h3>"
    shot = f", in shot {tr.shot + 1} of {len(result.shots)}" if len(result.shots) > 1 else ""
    seen = (f"<p>Seen from {tr.start_s:.2f} s to {tr.end_s:.2f} s in {len(tr.observations)} sampled "
            f"frame(s){shot}.</p>" if video else "")
    if tr.segments and not video:
        segs = f'<p class="segment">Judged swapped in this photo (p_fake {number(tr.segments[0].p_fake_max, result.threshold)}).</p>'
    elif tr.segments:
        rows = "".join(f'<tr class="segment"><td>{g.start_s:.2f} s</td><td>{g.end_s:.2f} s</td><td>{g.frames}</td>'
                       f"<td>{number(g.p_fake_max, result.threshold)}</td></tr>" for g in tr.segments)
        segs = ("<table><tr><th>judged swapped from</th><th>to</th><th>sampled frames</th>"
                f"<th>highest p_fake</th></tr>{rows}</table>")
    else:
        segs = "<p>No segment of this face is judged swapped.</p>" if video else "<p>Not judged swapped.</p>"
    return f'<section class="track">{head}{seen}{segs}{_moments(result, tr)}</section>'


def _matches(inputs: ReportInputs) -> str:
    if inputs.matches is None:
        return f"<p>{_e(inputs.match_note or 'Not checked: no source collection was given (--against).')}</p>"
    if not inputs.matches:
        return "<p>No known source matched this file.</p>"
    out = []
    for m in inputs.matches:
        rows = "".join(
            f"<tr><td>{s['suspect_start_s']:.2f}-{s['suspect_end_s']:.2f} s</td>"
            f"<td>{s['source_start_s']:.2f}-{s['source_end_s']:.2f} s</td><td>{s['median_distance']:g}</td></tr>"
            for s in m.get("segments", []))
        table = ("<table><tr><th>this file</th><th>source</th><th>median PDQ distance (of 256)</th></tr>"
                 f"{rows}</table>") if rows else ""
        diff = ""
        if m.get("difference") is not None:
            box = m.get("changed_box")
            where = "" if box is None else " Changed region: ({:.0f}, {:.0f})-({:.0f}, {:.0f}) px.".format(*box)
            figures = []
            for key, alt, caption in (
                    ("suspect_frame", "suspect frame", f"This file at {m.get('suspect_t', 0.0):.2f} s"),
                    ("source_frame", "source frame",
                     f"The source at {m.get('source_t', 0.0):.2f} s, aligned to this file"),
                    ("difference", "difference map", "Difference: bright where pixels changed, green box "
                                                     "around the changed region, blue where the source does "
                                                     "not cover this file")):
                if m.get(key) is not None:
                    figures.append(f'<figure class="diff"><img src="{png_data_uri(m[key])}" alt="{alt}">'
                                   f"<figcaption>{_e(caption)}</figcaption></figure>")
            diff = f'<div class="diffs">{"".join(figures)}</div><p>{_e(where.strip())}</p>'
        out.append(f"<h3>Source: {_e(m['source'])}</h3>{table}{diff}")
    return "".join(out)


def _provenance_line(inputs: ReportInputs) -> str:
    said = provenance_words(inputs.provenance)
    return f'<p class="provenance">{_e(said)}</p>' if said else ""


def _source_first(inputs: ReportInputs) -> str:
    """A source found with --against, at the top: the strongest evidence there is."""
    if not inputs.matches:
        return ""
    return ('<section class="source" id="source"><h2>The source was found</h2><p>This file matches media it '
            "was made from. What differs between them is what was changed: the strongest evidence this report "
            f"holds, stronger than any detector score.</p>{_matches(inputs)}</section>")


def _provenance(inputs: ReportInputs) -> str:
    p = inputs.provenance
    if p is None:
        return f"<p>{_e(inputs.provenance_note or 'Not checked.')}</p>"
    if p["status"] == "none":
        return "<p>No Content Credentials (C2PA manifest) in this file. Most files carry none; this proves nothing.</p>"
    rows = [("status", p["status"] + ("" if p.get("trusted") else " (signer not on a trust list)")),
            ("claim generator", p.get("claim_generator")), ("signed by", p.get("signer")),
            ("issuer", p.get("issuer")), ("signed at", p.get("signed_at")),
            ("AI-generated or AI-edited", "yes" if p.get("ai_generated") else "no"),
            ("edited", "yes" if p.get("edited") else "no")]
    for err in p.get("errors", []):
        rows.append(("error", f"{err.get('code')}: {err.get('explanation')}"))
    return "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows if v) + "</table>"


def _hashes(inputs: ReportInputs) -> str:
    h = inputs.hashes
    if h is None:
        return "<p>Not computed.</p>"
    rows = [("SHA-256", f"<code>{_e(h.sha256)}</code>")]
    if h.kind == "image" and len(h):
        rows.append(("PDQ", f"<code>{_e(h.hashes[0])}</code> (quality {int(h.quality[0])})"))
    elif len(h):
        lines = "".join(f"<tr><td>{t:.2f} s</td><td>{i}</td><td><code>{_e(x)}</code></td><td>{int(q)}</td></tr>"
                        for t, i, x, q in zip(h.t, h.index, h.hashes, h.quality))
        rows.append(("PDQ per frame", f"{len(h)} frame{'' if len(h) == 1 else 's'} at {h.sample_fps:g} per second"))
        table = ("<table class='pdq'><tr><th>time</th><th>frame</th><th>PDQ</th><th>quality</th></tr>"
                 f"{lines}</table>")
        return "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>" + table
    return "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}.verdict{padding:1rem 1.2rem;border-radius:6px;border:2px solid #888}
.verdict.fake{border-color:#c0392b;background:#fdf0ee}.verdict.fake-weak{border-color:#e67e22;background:#fdf3ea}
.verdict.too-small{border-color:#888;background:#f4f4f4}.verdict.real{border-color:#2e8b57;background:#eef8f2}
.verdict.uncertain{border-color:#d4a017;background:#fdf8e6}.verdict.no-face{border-color:#888;background:#f4f4f4}
.verdict p{margin:.4rem 0}table{border-collapse:collapse;margin:.4rem 0}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f6f6;font-weight:600}code{font-size:.8rem;word-break:break-all}
.timeline{width:100%;height:auto;max-width:720px}.timeline .plot{fill:#fafafa;stroke:#bbb}
.timeline .segment{fill:#c0392b;fill-opacity:.15}.timeline .threshold{stroke:#555;stroke-dasharray:5 4}
.timeline .tick{font-size:11px;fill:#555}.timeline .axis{font-size:12px;fill:#333}
.timeline .cut{stroke:#777;stroke-width:1.5;stroke-dasharray:2 3}.timeline .tickmark{stroke:#888}
pre{white-space:pre-wrap;overflow-wrap:anywhere}.legend{font-size:.85rem;color:#444}.seg-key{color:#e8b4ad}
.moments{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}figure img{display:block;width:160px;height:auto;border:1px solid #ccc}
.pair{display:flex;gap:4px}.moment figcaption{max-width:330px}
.frames,.diffs{display:flex;flex-wrap:wrap;gap:.8rem}.frame img{width:100%;max-width:460px}.frame figcaption{max-width:460px}
.diff img{width:100%;max-width:300px}figcaption{font-size:.8rem;color:#333;max-width:200px}.diff figcaption{max-width:300px}
.track{break-inside:avoid}footer{margin-top:2rem;font-size:.8rem;color:#555}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}.moments,figure,table{break-inside:avoid}}
"""


def gather(result: ScanResult, against: str | None = None, command: str | None = None,
           file: str | None = None, *, follow_links: bool = False, hidden: bool = False) -> ReportInputs:
    """Everything the report shows beside the scan, computed for the scanned file:
    hashes, C2PA findings (those the scan read, when it read them) and, with
    ``against`` (a folder of media or a file written by ``unswap hash``), source matches;
    a folder is read as ``scan DIR`` reads one, with ``follow_links`` and ``hidden``.
    ``file`` is where the scanned bytes are, when not at ``result.path`` (stdin spooled)."""
    from unswap.evidence.hashing import hash_media
    from unswap.evidence.provenance import Provenance

    file = file or result.path
    inputs = ReportInputs(hashes=hash_media(file), command=command)
    found, error = ((result.provenance, result.provenance_error) if result.provenance_read
                    else check_provenance(file))
    if error is not None:
        inputs.provenance_note = f"Not checked: {error}."
    else:
        inputs.provenance = (found or Provenance(str(file), "none")).to_dict()
    if against is not None:
        inputs.matches = _match_sources(file, against, follow_links, hidden)
    return inputs


def difference_image(diff) -> np.ndarray:
    """An ``unswap.evidence.match.Difference`` as an RGB picture: grey where the suspect matches
    its source, hot where it differs, the changed region outlined, blue where the source
    does not cover the suspect."""
    m = np.nan_to_num(diff.map, nan=0.0)
    scaled = np.clip(m * (255.0 / max(float(np.percentile(m, 99.9)), 24.0)), 0, 255).astype(np.uint8)
    out = cv2.applyColorMap(scaled, cv2.COLORMAP_INFERNO)[:, :, ::-1].copy()
    out[np.isnan(diff.map)] = (40, 60, 120)
    if diff.box is not None:
        x0, y0, x1, y1 = (round(float(v)) for v in diff.box)
        cv2.rectangle(out, (x0, y0), (x1, y1), (0, 255, 0), max(2, out.shape[1] // 400))
    side = max(out.shape[:2])
    if side > 960:
        f = 960 / side
        out = cv2.resize(out, (round(out.shape[1] * f), round(out.shape[0] * f)), interpolation=cv2.INTER_AREA)
    return out


def _frame_at(path: str, t: float) -> np.ndarray | None:
    """The upright RGB frame of ``path`` showing at ``t`` seconds (its first for an image)."""
    from unswap.media import MediaError, frames

    best = None
    try:
        for f in frames(path, every_frame=True):
            if f.t > t + 1e-3:
                return best if best is not None else f.image
            best = f.image
    except MediaError:
        return None
    return best


def _side_by_side(suspect: np.ndarray, source: np.ndarray, diff) -> tuple[np.ndarray, np.ndarray]:
    """The suspect frame and the source frame warped onto it, both at the difference picture's size."""
    h, w = diff.map.shape
    aligned = cv2.warpAffine(source, diff.source_from_suspect.astype(np.float64), (w, h),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=(40, 60, 120))
    return _fit(suspect), _fit(aligned)


def _fit(rgb: np.ndarray, side: int = 960) -> np.ndarray:
    f = min(1.0, side / max(rgb.shape[:2]))
    if f == 1.0:
        return rgb
    return cv2.resize(rgb, (round(rgb.shape[1] * f), round(rgb.shape[0] * f)), interpolation=cv2.INTER_AREA)


def _match_sources(file: str, against: str, follow_links: bool, hidden: bool) -> list[dict]:
    from unswap.evidence import match as matching

    found = matching.match(file, against, follow_links=follow_links, hidden=hidden)
    rows = matching.to_dict(found)["matches"]
    for row, m in zip(rows, found.matches):
        row["source"] = row["path"]
        d = m.difference
        if d is not None:
            row["difference"] = difference_image(d)
            row["changed_box"] = None if d.box is None else [float(v) for v in d.box]
            suspect, source = _frame_at(file, d.suspect_t), _frame_at(m.path, d.source_t)
            if suspect is not None and source is not None and suspect.shape[:2] == d.map.shape:
                row["suspect_frame"], row["source_frame"] = _side_by_side(suspect, source, d)
                row["suspect_t"], row["source_t"] = d.suspect_t, d.source_t
    return rows


def _face_words(result: ScanResult, tr: Track) -> dict:
    """One scored face as the page shows it: its verdict, when, its moments."""
    video = result.media.kind == "video"
    said = words_for(tr.label, tr.p_fake, result.detector_config, result.media.kind, result.min_face_px,
                     result.threshold)
    if tr.segments:
        when = ("judged swapped during " + ", ".join(f"{g.start_s:.1f}-{g.end_s:.1f} s" for g in tr.segments)
                if video else "judged swapped in this photo")
    else:
        when = "no stretch of it is judged swapped" if video else "not judged swapped"
    seen = f"seen {tr.start_s:.1f}-{tr.end_s:.1f} s in {len(tr.observations)} sampled frames; " if video else ""
    return {"track_id": tr.track_id, "label": tr.label, "headline": said.headline, "score": said.score,
            "when": seen + when, "segments": [[g.start_s, g.end_s] for g in tr.segments],
            "moments": moments(result, tr)}


def timeline_picture(result: ScanResult) -> str | None:
    """The report's p_fake timeline as a standalone SVG data URI (None for a photo or no face)."""
    tracks = [t for t in result.tracks if t.p_fake is not None]
    if result.media.kind != "video" or not tracks:
        return None
    svg = _timeline(tracks, result.media.duration_s or 0.0, result.threshold, [a for a, _ in result.shots[1:]])
    svg, legend = svg.split("</svg>", 1)
    style = "".join(rule + "}" for rule in _CSS.split("}") if rule.strip().startswith(".timeline"))
    doc = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" width="720" height="200" ', 1) + \
        f"<style>{style.replace('.timeline ', '')}</style></svg>"
    return "data:image/svg+xml;base64," + base64.b64encode(doc.encode()).decode("ascii")


def page_details(result: ScanResult, inputs: ReportInputs | None = None) -> dict:
    """What the page shows beside the verdict, as the report shows it: each scored face
    with its verdict, moments and region maps, the timeline, the frames with their boxes,
    and the Content Credentials in words."""
    inputs = inputs or ReportInputs()
    return {"faces": [_face_words(result, t) for t in result.tracks if t.p_fake is not None],
            "too_small": sum(t.label == "too-small" for t in result.tracks),
            "timeline": timeline_picture(result), "frames": frame_pictures(result) if result.tracks else [],
            "provenance": provenance_words(inputs.provenance)}


def render_html(result: ScanResult, inputs: ReportInputs | None = None) -> str:
    """The report for one scanned file, as a self-contained HTML document."""
    from unswap.report import to_text

    inputs = inputs or ReportInputs()
    m = result.media
    name = result.path.rsplit("/", 1)[-1]
    label = result.label
    said = words(result)
    key = words_key(label, result.p_fake, result.detector_config) if label == "fake" else label
    video = m.kind == "video"
    score = "" if result.p_fake is None else (
        f"<p>Score of the most suspect face: {_e(said.score)} (limits chosen on validation data the model was "
        "not trained on).</p>" + _p_fake_words(result))
    reliability = f"<p><strong>How reliable.</strong> {_e(said.rates)}</p>" if said.rates else ""
    tracks = [t for t in result.tracks if t.p_fake is not None]
    small = [t for t in result.tracks if t.label == "too-small"]
    what = f"{m.width}x{m.height} {m.kind}" + (f", {m.duration_s:.1f} s at {m.fps:.2f} fps" if video and m.duration_s and m.fps else "")
    cuts = [a for a, _ in result.shots[1:]]
    timeline = (_timeline(tracks, m.duration_s or 0.0, result.threshold, cuts) if video and tracks else
                "<p>A photo: one moment, scored below.</p>" if tracks else "<p>No face to plot.</p>")
    faces = "".join(_track_section(result, t) for t in tracks) or "<p>No face was scored.</p>"
    if small:
        n = result.faces_too_small
        faces += (f"<p>{len(small)} face track(s), {n} face(s) in all, too small to judge (narrower than "
                  f"{result.min_face_px:g} px): their boxes are in the frame pictures above and in the JSON; "
                  "they were not scored.</p>")
    where = "Where: each face at its most suspect moments, in time order" if video else "Where: each face in the photo"
    shots = f"<tr><th>shots</th><td>{len(result.shots)}</td></tr>" if video else ""
    when = inputs.scanned_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    command = f"<tr><th>command</th><td><code>{_e(inputs.command)}</code></td></tr>" if inputs.command else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>unswap report: {_e(name)}</title><style>{_CSS}</style></head>
<body>
<header><p>unswap evidence report</p><h1>{_e(name)}</h1></header>
<section class="verdict {_e(key)}" id="verdict">
<h2 style="border:0;margin:0">{_e(said.headline)}</h2>
<p><strong>What this means.</strong> {_e(said.means)}</p>{score}{reliability}
<p><strong>What it does not mean.</strong> {_e(said.not_means)}</p>
<p><strong>What to do next.</strong> {_e(said.next)}</p>{_provenance_line(inputs)}
</section>{_source_first(inputs)}
<h2>The file</h2>
<table><tr><th>file</th><td>{_e(result.path)}</td></tr><tr><th>media</th><td>{_e(what)}</td></tr>
<tr><th>frames scored</th><td>{result.frames_scored}</td></tr>{shots}<tr><th>face tracks scored</th><td>{len(tracks)}</td></tr>
<tr><th>faces too small to judge</th><td>{result.faces_too_small}</td></tr></table>
{_frame_pictures(result)}
<h2>When: p_fake over time</h2>{timeline}
<h2>{where}</h2>{faces}
<h2>Source match</h2>{"<p>Found: see the top of this report.</p>" if inputs.matches else _matches(inputs)}
<h2>Content Credentials (C2PA)</h2>{_provenance(inputs)}
<h2>File hashes</h2><p>Fingerprints of the file, to show later that a copy is this very file. The SHA-256 changes if a single byte of the file changes: the same SHA-256 means the same file. PDQ fingerprints what the picture looks like, so a re-saved, resized or recompressed copy still comes out close (a distance of up to about 31 of 256 bits); <code>unswap match</code> uses it to find where a file came from.</p>{_hashes(inputs)}
<h2>How this was made</h2>
<table><tr><th>tool</th><td>unswap {_e(result.tool_version)}</td></tr>
<tr><th>detector</th><td>{_e(result.detector)}</td></tr><tr><th>scanned at</th><td>{_e(when)}</td></tr>{command}</table>
<h3>Plain-text summary</h3><pre>{_e(to_text(result))}</pre>
<footer>Generated offline by unswap. A detector's score is evidence, not proof; keep the
original file and this report together.</footer>
</body></html>
"""
