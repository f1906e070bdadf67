"""What a person is told: numbers that compare as they truly do, uncertain words by band,
and verdicts, segments and moments that agree (scanned on real files)."""

from __future__ import annotations

import json

import pytest
from tests.helpers.paths import SAMPLE, shared

from unswap.cli import main
from unswap.detectors import DEFAULT_DETECTOR
from unswap.report import shipped_config
from unswap.vocabulary import WORDS, Label, band, number, words_for

DEFAULT = shipped_config(DEFAULT_DETECTOR)


@pytest.mark.parametrize(("p", "limits", "shown"), [
    (0.9809, (0.9812,), "0.9809"),  # under the threshold: never "0.98" beside "fake from 0.98"
    (0.98121, (0.981239,), "just under 0.9812"),
    (0.996, (), "0.996"),  # not 1.00
    (0.0004, (), "0.0004"),
    (0.08, (0.98, 0.046), "0.08"),
    (0.9812, (0.9812,), "0.98"),  # at the threshold it may read equal: it is "fake"
])
def test_a_score_never_reads_on_the_wrong_side_of_a_limit(p, limits, shown):
    assert number(p, *limits) == shown


def test_every_label_has_its_four_parts_of_words():
    from unswap.vocabulary import HEADLINES

    assert set(HEADLINES) == {label.value for label in Label}
    # a label is written once, or once per variant ("fake-weak", "uncertain-lower" ...)
    assert all(k in HEADLINES or k.split("-")[0] in ("fake", "uncertain") for k in WORDS)
    for w in WORDS.values():
        assert w.headline and all(part.endswith(".") for part in (w.means, w.not_means, w.next))


@pytest.mark.parametrize(("third", "word"), [(0.1, "lower"), (0.5, "middle"), (0.9, "upper")])
def test_uncertain_words_say_where_in_the_band_the_score_lies(third, word):
    lo, hi = band(DEFAULT)
    said = words_for("uncertain", lo + third * (hi - lo), DEFAULT)
    assert f"the {word} third of the uncertain band" in said.means
    assert "traces were found" not in said.means and said.headline == "The detector cannot tell"


def _scan_json(capsys, path) -> dict:
    capsys.readouterr()
    assert main(["scan", "--json", str(path)]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_carries_real_below_and_the_summary_the_text_starts_with(capsys):
    r = _scan_json(capsys, SAMPLE)
    assert r["real_below"] == round(DEFAULT.real_below, 4) and r["threshold"] == round(DEFAULT.threshold, 4)
    assert main(["scan", str(SAMPLE)]) == 0
    text = capsys.readouterr().out
    first, means = text.splitlines()[:2]
    rates = r["words"]["rates"]
    assert rates.startswith("On faces from outside its training data") and f"\n  {rates}\n" in text
    assert r["summary"] == f"{first.split(': ', 1)[1]}. {means.strip()} {rates}"


def test_face_boxes_lie_inside_the_picture(capsys):
    # FairFace photos are cut close around the face: the detector's box runs past the edge
    for path in sorted(shared("reals", "fairface").glob("*.jpg"))[:12]:
        r = _scan_json(capsys, path)
        for t in r["tracks"]:
            for f in t["frames"]:
                x0, y0, x1, y1 = f["box"]
                assert 0 <= x0 < x1 <= r["media"]["width"] and 0 <= y0 < y1 <= r["media"]["height"], path


@pytest.mark.slow
@pytest.mark.parametrize("clip", ["widuwuoiur.mp4", "yhffcuhhjy.mp4"])
def test_verdicts_segments_and_moments_agree(capsys, clip):
    path = shared("videos", "dfdc", clip)
    r = _scan_json(capsys, path)
    assert main(["scan", str(path)]) == 0
    text = capsys.readouterr().out
    for t in r["tracks"]:
        ps = sorted(f["p_fake"] for f in t["frames"] if f["p_fake"] is not None)
        if not ps:
            continue
        if t["label"] != "fake":
            assert t["segments"] == []
        # most frames at or above the threshold: called fake, and the words say so
        if sum(p >= r["threshold"] for p in ps) > len(ps) / 2:
            assert t["label"] == "fake" and f"face {t['track_id']}: fake," in text
        if t["segments"]:
            moment = float(text.split(f"face {t['track_id']}: ")[1].split("most suspect at ")[1].split(" s")[0])
            assert any(g["start_s"] - 0.05 <= moment <= g["end_s"] + 0.05 for g in t["segments"])
    if r["label"] != "fake":
        assert "judged swapped" not in text
