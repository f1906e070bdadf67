"""What unswap tells a person, written once: every label's words and how numbers are shown.

The CLI's text, the ``summary`` of ``scan --json``, the HTML report and the page (through
the API) all take their words from here, so a verdict cannot read one way in one place
and another way in the next. Each label has a headline, what it means, what it does not
mean and what to do next. "uncertain" is said for what it is, the detector cannot tell;
its words depend on where the score lies in the uncertain band (lower, middle or upper
third of the span from "no sign" to "fake"), and say so.

Numbers are shown as they compare: a score is printed with as many digits as it takes
(up to four) not to read equal to a limit it falls short of, else as "just under" it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class Label(StrEnum):
    FAKE = "fake"
    REAL = "real"
    UNCERTAIN = "uncertain"
    TOO_SMALL = "too-small"
    NO_FACE = "no-face"
    FAILED = "failed"


@dataclass(frozen=True)
class Words:
    """One verdict in words: ``headline`` (a few words), ``means``, ``not_means``, ``next``
    (full sentences); ``score`` the numbers behind it and ``rates`` how often the detector
    errs (None when nothing was scored)."""

    headline: str
    means: str
    not_means: str
    next: str
    score: str | None = None
    rates: str | None = None

    def summary(self) -> str:
        """The verdict in one line: headline, numbers, what it means, how reliable."""
        score = f" ({self.score})" if self.score else ""
        return f"{self.headline}{score}. {self.means}" + (f" {self.rates}" if self.rates else "")

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


_FAKE_NOT = "It is not proof: detectors also flag real faces that are blurred, dark, tiny or heavily compressed."
_UNCERTAIN_NOT = "It is neither a finding of a swap nor a clearance."
_UNCERTAIN_NEXT = ("Look for the original {original}; the moments and faces the report names are where to "
                   "look, but they prove nothing either way.")

WORDS: dict[str, Words] = {
    "fake": Words(
        "Likely face-swapped",
        "The detector found the traces face-swap tools leave when they paste a face in (blending seams, a change "
        "of sharpness or colour between the face and its surroundings), clearly enough to call it.",
        _FAKE_NOT,
        "Check the moments and regions the report names, and look for the original the {kind} was made from: "
        "it shows what was changed."),
    "fake-weak": Words(
        "Possibly face-swapped",
        "The detector scores a face at or above its threshold for \"fake\", but its error rates are not measured "
        "outside its training data, or the score is not high, so the call is a weak one.",
        _FAKE_NOT,
        "Check the moments and regions the report names, and look for the original the {kind} was made from."),
    "real": Words(
        "No sign of a face swap",
        "Over the time each face was seen, the detector did not find the traces face-swap tools leave.",
        "It does not prove the {kind} is authentic: the detector misses many face swaps, especially clean, "
        "sharp ones, and it does not look for other kinds of editing.",
        "Nothing more is needed from this tool; if the {kind} matters, check where it came from."),
    "uncertain-lower": Words(
        "The detector cannot tell",
        "The score lies in the lower third of the uncertain band: nearer \"no sign of a swap\" than \"fake\", "
        "but not low enough to clear the {kind}. Most real faces the detector cannot clear score here.",
        _UNCERTAIN_NOT, _UNCERTAIN_NEXT),
    "uncertain-middle": Words(
        "The detector cannot tell",
        "The score lies in the middle third of the uncertain band: the detector leans neither way.",
        _UNCERTAIN_NOT, _UNCERTAIN_NEXT),
    "uncertain-upper": Words(
        "The detector cannot tell",
        "The score lies in the upper third of the uncertain band: nearer \"fake\" than \"no sign of a swap\", "
        "but short of the threshold where the detector calls a face swapped.",
        _UNCERTAIN_NOT, _UNCERTAIN_NEXT),
    "too-small": Words(
        "Faces too small to judge",
        "Every face found is narrower than {min_px} pixels; at that size the detector cannot tell a real face "
        "from a swapped one (measured: docs/face-size.md), so no face was scored.",
        "It is neither a finding of a swap nor a clearance: nothing was judged.",
        "Check a larger or sharper copy of the {kind}."),
    "no-face": Words(
        "No face found",
        "No face large and clear enough was detected in the frames looked at, so nothing could be checked.",
        "It says nothing about whether the {kind} is genuine: it may have been edited in other ways.",
        "If a face is there, try a larger or sharper copy, or (for a video) a higher --sample-fps."),
    "failed": Words(
        "Could not be scanned",
        "The file could not be read as an image or video.",
        "It says nothing about the file's content.",
        "Check that the file is whole and is a photo or video; the error says what went wrong."),
}
"""Each label's words; "fake-weak" and the three "uncertain-*" bands are variants chosen by
``words_key``. ``{kind}``, ``{original}`` and ``{min_px}`` are filled per file."""

HEADLINES: dict[str, str] = {label.value: WORDS[label.value if label != Label.UNCERTAIN else "uncertain-middle"]
                             .headline for label in Label}

STRONG_P = 0.9
"""A "fake" is said strongly only from this calibrated p_fake up, and only for a detector
whose error rates were measured outside its training data."""


def band(cfg) -> tuple[float, float] | None:
    """The uncertain band [low, high) of a detector config, or None when it has none."""
    if cfg is None:
        return None
    if getattr(cfg, "real_below", None) is not None:
        return cfg.real_below, cfg.threshold
    margin = getattr(cfg, "uncertain_margin", 0.0)
    return (cfg.threshold - margin, cfg.threshold + margin) if margin > 0 else None


def words_key(label: str, p: float | None, cfg) -> str:
    """Which entry of ``WORDS`` tells a file's (or face's) verdict."""
    if label == "fake":
        strong = p is not None and p >= STRONG_P and cfg is not None and cfg.rates_sentence()
        return "fake" if strong else "fake-weak"
    if label == "uncertain":
        b = band(cfg)
        if p is None or b is None:
            return "uncertain-middle"
        third = (p - b[0]) / max(b[1] - b[0], 1e-9) * 3
        return "uncertain-" + ("lower" if third < 1 else "middle" if third < 2 else "upper")
    return label


def digits(p: float, *limits: float) -> int:
    """How many decimals (2 to 4) show ``p`` on the right side of every limit."""
    for d in (2, 3, 4):
        if all((round(p, d) < round(t, d)) == (p < t) and (p >= t or round(p, d) != round(t, d))
               for t in limits) and (round(p, d) not in (0.0, 1.0) or p in (0.0, 1.0)):
            return d
    return 4


def number(p: float, *limits: float) -> str:
    """``p`` printed so it compares with ``limits`` as it truly does, and is never shown as
    0 or 1 when it is not: 0.9809 against 0.9812 is "0.9809", 0.996 alone "0.996"; a
    score too close for four digits is "just under" or "just over" the limit."""
    d = digits(p, *limits)
    text = f"{p:.{d}f}"
    for t in limits:
        if f"{t:.{d}f}" == text and p != t:
            return f"just {'under' if p < t else 'over'} {t:.{d}f}"
    if text in ("0.0000", "1.0000") and p not in (0.0, 1.0):
        return "just over 0" if p < 0.5 else "just under 1"
    return text


def score_words(p: float | None, cfg, threshold: float | None = None) -> str | None:
    """The numbers behind a verdict: "p_fake 0.08; fake from 0.98, no sign of a swap below 0.05"."""
    if p is None:
        return None
    t = threshold if threshold is not None else cfg.threshold
    low = None if cfg is None else getattr(cfg, "real_below", None)
    limits = (t,) if low is None else (t, low)
    d = digits(p, *limits)
    said = f"p_fake {number(p, *limits)}; fake from {t:.{d}f}"
    return said + ("" if low is None else f", no sign of a swap below {low:.{d}f}")


def words_for(label: str, p: float | None, cfg, kind: str = "image", min_face_px: float = 64.0,
              threshold: float | None = None) -> Words:
    """The words telling one verdict, filled for the file (``kind`` "image" or "video")."""
    w = WORDS[words_key(label, p, cfg)]
    noun = "video" if kind == "video" else "photo"
    fill = {"kind": noun, "original": "video" if kind == "video" else "photo, or an earlier copy of it",
            "min_px": f"{min_face_px:g}"}
    return Words(w.headline, w.means.format(**fill), w.not_means.format(**fill), w.next.format(**fill),
                 score_words(p, cfg, threshold), None if p is None else rates_words(cfg))


def rates_words(cfg) -> str:
    """How often the detector errs, in one sentence: its config's measured rates, or that
    they were not measured."""
    said = None if cfg is None else cfg.rates_sentence()
    return said or ("This detector's error rates have not been measured on faces from outside its training "
                    "data, so how often it is wrong on files like this one is not known.")


def provenance_words(p: dict | None) -> str | None:
    """Content Credentials (a scan's ``provenance`` object) in one sentence, or None when
    the file carries none."""
    if not p or p.get("status") in (None, "none"):
        return None
    trust = "on a trust list" if p.get("trusted") else "not on a trust list"
    if p["status"] == "valid":
        return (f"Content Credentials valid (signer {trust}): the file carries a signed record of where it "
                f"came from{', saying it was made or edited with AI' if p.get('ai_generated') else ''}, and its "
                "contents match it.")
    return (f"Content Credentials INVALID (signer {trust}): the file carries a signed record of where it came "
            "from, but the record does not check out: the file was changed after it was signed, or the record "
            "is damaged or forged. Do not trust what the record claims.")


def detector_lines(name: str) -> list[str]:
    """What a registered detector is, in a few sentences: its description, where it calls
    a face fake (and clears one), and its measured error rates."""
    from unswap.detectors.registry import describe_detector
    from unswap.report import shipped_config

    doc = " ".join(describe_detector(name).split())
    cfg = shipped_config(name)
    said = [doc] if doc else []
    if cfg is not None:
        d = digits(cfg.threshold, *([cfg.real_below] if cfg.real_below is not None else []))
        said.append(f"Calls a face fake from p_fake {cfg.threshold:.{d}f}" + (
            f", finds no sign of a swap below {cfg.real_below:.{d}f}." if cfg.real_below is not None else "."))
        said.append(rates_words(cfg))
    return said


def page_words() -> dict:
    """What the page needs to say things as the CLI says them: each label's headline, the
    detectors (what each is, which is the default) and the default sample rate."""
    from unswap.detectors import DEFAULT_DETECTOR, list_detectors
    from unswap.media import DEFAULT_SAMPLE_FPS

    return {"headlines": HEADLINES, "default_detector": DEFAULT_DETECTOR, "default_sample_fps": DEFAULT_SAMPLE_FPS,
            "detectors": [{"name": n, "about": detector_lines(n)} for n in list_detectors()]}
