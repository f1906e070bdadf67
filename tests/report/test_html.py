"""The HTML evidence report: content, self-containment, and rendering in headless Chromium."""

from __future__ import annotations

import base64
import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers.paths import REPO, SAMPLE, shared

from unswap.aggregate import Verdict
from unswap.report.html import CSP, ReportInputs, gather, overlay_region, render_html
from unswap.scan import ScanConfig, Scanner, ScanResult
from unswap.types import FaceObservation, MediaInfo, Segment, Track
from unswap.vocabulary import WORDS

ARTIFACTS = REPO / "build" / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _synthetic_result(region: bool = True) -> ScanResult:
    """A two-face video result built by hand: face 1 swapped from 1.0 to 2.0 s."""
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    reg = np.zeros((10, 10), np.float32)
    reg[3:8, 3:7] = 0.9

    def obs(i, p):
        return FaceObservation(i * 15, i * 0.5, np.array([10, 10, 50, 50.0]), np.zeros((5, 2)), 0.99, p,
                               region=reg if region else None)

    t0 = Track(0, [obs(i, 0.1) for i in range(6)], 0.1, "real")
    t1 = Track(1, [obs(i, p) for i, p in enumerate([0.2, 0.3, 0.9, 0.95, 0.9, 0.3])], 0.6, "fake",
               [Segment(1.0, 2.0, 0.95, 3)])
    media = MediaInfo("clip.mp4", "video", 640, 360, 30.0, 3.0, 90)
    return ScanResult("dir/clip<1>.mp4", media, Verdict("fake", 0.6), [t0, t1], 6, "x.v0", 0.5,
                      crops={0: [(0, crop)], 1: [(3, crop), (1, crop)]})


def _images(doc: str) -> list[np.ndarray]:
    out = []
    for b64 in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', doc):
        out.append(cv2.imdecode(np.frombuffer(base64.b64decode(b64), np.uint8), cv2.IMREAD_COLOR))
    return out


def test_report_names_verdict_segments_and_draws_overlays_only_on_swapped_moments():
    doc = render_html(_synthetic_result(), ReportInputs(command="unswap scan clip.mp4 --report r.html"))
    assert "What it does not mean." in doc and "What p_fake 0.60 means." in doc
    assert doc.count('<tr class="segment">') == 1 and "1.00 s</td><td>2.00 s" in doc
    assert doc.count('class="moment overlay"') == 1  # face 1's swapped moment, not its 0.3 one
    assert doc.count('class="moment"') == 2  # face 0 and face 1's unswapped moment
    assert "clip&lt;1&gt;.mp4" in doc and "<1>" not in doc  # the path is escaped
    imgs = _images(doc)
    # three moments as they are, and the swapped one again with its region map beside it
    assert len(imgs) == 4 and all(im is not None and im.shape == (64, 64, 3) for im in imgs)
    assert doc.index("0.50 s, frame 15") < doc.index("1.50 s, frame 45")  # face 1's moments in time order


def _config(**kw):
    from unswap.detectors.base import DetectorConfig

    return DetectorConfig(name="x", version="v0", input_size=160, mean=(0.5,) * 3, std=(0.5,) * 3, side_per_scale=2.39,
                          center_below=0.02, threshold=0.5, **kw)


RATES = {"outside": {"fpr": 0.04, "tpr": 0.55, "sets": "two held-out sets"}}


@pytest.mark.parametrize(("p", "rates", "strong"), [(0.95, RATES, True), (0.95, {}, False), (0.6, RATES, False)])
def test_headline_strength_follows_p_fake_and_the_measured_error_rates(p, rates, strong):
    result = _synthetic_result()
    result.verdict, result.detector_config = Verdict("fake", p), _config(rates=rates)
    doc = render_html(result)
    assert ('class="verdict fake"' in doc) == strong and ('class="verdict fake-weak"' in doc) != strong
    assert (f">{WORDS['fake'].headline}<" in doc) == strong and (f">{WORDS['fake-weak'].headline}<" in doc) != strong
    if rates:
        assert "called about 4 in 100 real faces fake, and caught about 55 in 100 face swaps" in doc
    else:
        assert "error rates have not been measured on faces from outside its training data" in doc
    assert f"What p_fake {p:.2f} means." in doc and f"It is not \u201c{round(100 * p)}% sure\u201d" in doc


def test_a_still_image_is_told_what_fits_a_photo():
    result = _synthetic_result()
    result.media = MediaInfo("photo.jpg", "image", 640, 360)
    result.verdict = Verdict("uncertain", 0.5)
    doc = render_html(result)
    assert "for the original photo" in doc and "original video" not in doc


def test_timeline_marks_shot_cuts_and_labels_its_axes():
    result = _synthetic_result()
    result.shots = [(0.0, 1.2), (1.2, 3.0)]
    doc = render_html(result)
    assert doc.count('class="cut"') == 1 and "shot cut at 1.20 s" in doc
    assert "time in the file (seconds)" in doc and ">p_fake</text>" in doc


def test_report_is_self_contained():
    doc = render_html(_synthetic_result())
    assert f'content="{CSP}"' in doc
    assert "<script" not in doc
    assert not re.search(r'(src|href)="(?!data:)', doc)
    assert "http://" not in doc and "https://" not in doc


def test_without_a_region_output_the_report_says_so():
    doc = render_html(_synthetic_result(region=False))
    assert 'class="moment overlay"' not in doc
    assert "this detector gives no region map" in doc


def test_overlay_marks_the_region_and_leaves_the_rest():
    crop = np.full((100, 100, 3), 128, np.uint8)
    region = np.zeros((10, 10), np.float32)
    region[:, :5] = 1.0
    out = overlay_region(crop, region)
    assert out[50, 20, 0] > 190 and out[50, 20, 1] < 80  # left half: red
    assert np.array_equal(out[50, 90], crop[50, 90])  # right half: untouched


def test_report_of_the_bundled_sample_has_its_hashes(tmp_path):
    result = Scanner(ScanConfig(keep_crops=3)).scan(SAMPLE)
    inputs = gather(result)
    doc = render_html(result, inputs)
    assert inputs.hashes.sha256 in doc and inputs.hashes.hashes[0] in doc
    assert len(_images(doc)) == 2  # the face, and the photo with its box


@pytest.mark.skipif(importlib.util.find_spec("c2pa") is None, reason="c2pa-python not installed (pip install -e .)")
def test_the_report_shows_the_credentials_the_scan_read_and_reads_them_itself_only_if_it_did_not(tmp_path):
    photo = tmp_path / "photo.jpg"
    shutil.copy(shared("c2pa", "signed_C.jpg"), photo)
    result = Scanner(ScanConfig()).scan(photo)
    assert result.provenance_read and result.provenance.status == "valid"
    # the file changes after its scan (a picture without credentials now): the report still
    # says what the scan read, of the bytes it scanned, rather than reading the file again
    shutil.copy(SAMPLE, photo)
    inputs = gather(result)
    assert inputs.provenance == result.provenance.to_dict()
    assert "Content Credentials valid" in render_html(result, inputs)
    # a scan told not to look leaves the reading to the report, which reads the file as it is
    unread = Scanner(ScanConfig(provenance=False)).scan(photo)
    assert not unread.provenance_read
    inputs = gather(unread)
    assert inputs.provenance["status"] == "none" and inputs.provenance_note is None
    assert "No Content Credentials" in render_html(unread, inputs)


def _chromium(url: str, *args: str) -> subprocess.CompletedProcess:
    # The flags the machine's notes give for a closed network; no host resolves, so any
    # fetch the report tried would fail and show up as a console message.
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _two_face_photo(tmp: Path) -> Path:
    """Two real people side by side: a FairFace photo on the left, the bundled sample on the right."""
    right = cv2.imread(str(SAMPLE))
    left = cv2.resize(cv2.imread(str(shared("reals", "fairface", "train_10029.jpg"))), right.shape[1::-1],
                      interpolation=cv2.INTER_CUBIC)
    path = tmp / "two_faces.jpg"
    cv2.imwrite(str(path), np.hstack([left, right]))
    return path


def _joined(tmp: Path) -> Path:
    from tests.helpers.joined_clips import join_clips

    path = tmp / "joined.mp4"
    join_clips([shared("videos", "dfdc", c) for c in ("abofeumbvv.mp4", "lynaeydofd.mp4", "widuwuoiur.mp4")], path)
    return path


_CASES = {
    "fake_clip": lambda tmp: shared("videos", "dfdc", "brtujopkby.mp4"),
    "real_clip": lambda tmp: shared("videos", "dfdc", "lynaeydofd.mp4"),
    "two_face_photo": _two_face_photo,
    "joined_clips": _joined,
}


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (apt-get install chromium)")
@pytest.mark.parametrize("case", list(_CASES))
def test_report_renders_in_headless_chromium_without_console_errors(tmp_path, case):
    path = _CASES[case](tmp_path)
    result = Scanner(ScanConfig(keep_crops=3)).scan(path)
    report = tmp_path / "report.html"
    doc = render_html(result, gather(result))
    report.write_text(doc, encoding="utf-8")
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    shot = tmp_path / "report.png"
    run = _chromium(report.as_uri(), profile, f"--screenshot={shot}", "--window-size=1000,3000")
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (3000, 1000)
    assert image.std() > 20  # something was drawn, not a blank page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / f"report_{case}.png")
    shutil.copy(report, ARTIFACTS / f"report_{case}.html")
    dom = _chromium(report.as_uri(), profile, "--dump-dom").stdout
    assert 'id="verdict"' in dom and "unswap evidence report" in dom
    assert 'class="frame"' in dom  # the full-frame picture naming each face
    if case == "two_face_photo":
        assert len(result.tracks) == 2 and "Where: each face in the photo" in dom and "video" not in dom.split(
            "<h2>The file</h2>")[0]
    if case == "joined_clips":
        assert dom.count('class="cut"') == len(result.shots) - 1 >= 2 and dom.count('class="frame"') == len(result.shots)
    pdf = tmp_path / "report.pdf"
    _chromium(report.as_uri(), profile, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert pdf.read_bytes()[:5] == b"%PDF-"


@pytest.mark.slow
def test_report_with_against_shows_the_source_segments_and_difference_map(tmp_path, capsys):
    from tests.helpers.derived_clips import build

    from unswap.cli import main

    (tmp_path / "derived").mkdir()
    clips = build(shared("videos", "dfdc", "lynaeydofd.mp4"), tmp_path / "derived")
    lib = tmp_path / "library"
    lib.mkdir()
    shutil.copy(clips.source, lib / "original.mp4")
    shutil.copy(clips.noise, lib / clips.noise.name)
    out = tmp_path / "r.html"
    assert main(["scan", str(clips.blurred), "--report", str(out), "--against", str(lib)]) == 0
    assert "report written to" in capsys.readouterr().out
    doc = out.read_text(encoding="utf-8")
    assert "<h3>Source: " in doc and "original.mp4" in doc and clips.noise.name not in doc
    # a found source is the strongest evidence: it comes right after the verdict, before the rest
    assert doc.index('id="verdict"') < doc.index('id="source"') < doc.index("<h2>The file</h2>")
    assert 'alt="difference map"' in doc and "Changed region:" in doc
    # suspect | source | difference, side by side, all three of the same size
    block = doc[doc.index('<div class="diffs">'):]
    block = block[: block.index("</div>")]
    assert block.index('alt="suspect frame"') < block.index('alt="source frame"') < block.index('alt="difference map"')
    sizes = {im.shape for im in _images(block)}
    assert len(_images(block)) == 3 and len(sizes) == 1
    assert "3.00-" in doc  # the blurred copy starts 3 s into the original
    assert len(_images(doc)) >= 1


def test_report_options_are_checked(tmp_path, capsys):
    from unswap.cli import main

    assert main(["scan", str(SAMPLE), str(SAMPLE), "--report", str(tmp_path / "r.html")]) == 2
    assert "--report takes exactly one PATH" in capsys.readouterr().err
    assert main(["scan", str(SAMPLE), "--against", str(tmp_path)]) == 2
    assert "--against needs --report" in capsys.readouterr().err
    assert main(["scan", str(SAMPLE), "--report", str(tmp_path / "r.html"), "--against", str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def _dfdc_clips() -> list[tuple[str, str]]:
    import csv

    from unswap.paths import shared_data_dir

    labels = shared_data_dir() / "videos" / "labels.csv"
    if not labels.is_file():
        return [("missing", "unknown")]
    with open(labels) as f:
        return [(r["path"], r["label"]) for r in csv.DictReader(f) if r["path"].startswith("dfdc/")]


@pytest.mark.slow
@pytest.mark.parametrize(("clip", "label"), _dfdc_clips())
def test_report_on_each_dfdc_clip_never_contradicts_its_verdict_nor_accuses_the_real(clip, label):
    path = shared("videos", clip)
    result = Scanner(ScanConfig(keep_crops=3)).scan(path)
    doc = render_html(result)
    flagged = result.label in ("fake", "uncertain")
    # segments (moments at or above the "fake" threshold) and their overlays come with a
    # file judged fake or uncertain, never with one cleared as real
    if '<tr class="segment">' in doc or 'class="moment overlay"' in doc:
        assert flagged
    if result.label == "fake":
        assert '<tr class="segment">' in doc and 'class="moment overlay"' in doc
    # the default detector says "fake" only on strong evidence: the real clip is never
    # accused, and no swapped clip is cleared as "no sign of a face swap"
    assert result.label != ("fake" if label == "real" else "real")


def test_a_weak_region_map_still_points_somewhere_and_says_it_is_weak():
    result = _synthetic_result()
    weak = np.zeros((10, 10), np.float32)
    weak[2:5, 2:5] = 0.2  # under the tint level everywhere: drawn against its own peak
    for o in result.tracks[1].observations:
        o.region = weak
    doc = render_html(result)
    assert "marks no part over 0.3 (its highest is 0.20)" in doc and "a weak pointer" in doc
    face, overlay = _images(doc)[2:4]  # face 1 at 1.5 s, its swapped moment, as it is and with the map
    changed = np.abs(face.astype(int) - overlay.astype(int)).sum(axis=2) > 30
    ys, xs = np.nonzero(changed)
    assert changed.any() and xs.mean() < 32 and ys.mean() < 32  # the tint sits where the map is strongest
