"""The page of ``unswap serve`` in a real browser: Playwright driving Debian's chromium
(never a browser Playwright downloads). A person picks the shared fake clip, watches it
scanned, reads the verdict, opens the report; drops a photo; hashes one; deletes a scan;
gives a token. Screenshots go to build/test-artifacts/."""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import pytest
from tests.helpers.paths import REPO, SAMPLE, shared
from tests.helpers.serve_server import Server

from unswap.detectors import DEFAULT_DETECTOR as DEFAULT
from unswap.evidence.hashing import file_digest

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright (the test extra)")

ARTIFACTS = REPO / "build" / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# the flags the machine's notes give for a closed network: no background fetches, and no
# host resolves, so a fetch the page tried outside 127.0.0.1 fails and shows up
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (apt-get install chromium)")]


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


class Watched:
    """A page whose console messages, errors and requests are recorded."""

    def __init__(self, context, origin: str):
        self.page = context.new_page()
        self.problems: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.problems.append(m.text))
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        context.on("request", lambda r: r.url.startswith(origin) or self.outside.append(r.url))


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_a_person_scans_the_fake_clip_reads_the_verdict_and_opens_the_report(browser, tmp_path):
    clip = shared("videos", "dfdc", "abofeumbvv.mp4")
    with Server(tmp_path / "data", "--workers", "1") as s, s.client() as api:
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        w = Watched(context, s.url)
        page = w.page
        page.goto(s.url + "/")
        assert "this machine only" in page.locator("#where").inner_text()
        assert "deleted as soon as its scan ends" in page.locator("#where").inner_text()

        page.set_input_files("#files", str(clip))
        item = page.locator("#uploads li").first
        item.locator(".line").filter(has_text="frame").wait_for(timeout=60_000)  # progress shows frames
        verdict = item.locator(":scope > .verdict")
        verdict.wait_for(timeout=180_000)
        job = item.get_attribute("data-id")
        result = api.get(f"/api/scans/{job}").json()["result"]
        assert verdict.get_attribute("class") == f"verdict {result['label']}"
        assert result["words"]["score"] in verdict.inner_text()
        page.locator(f"#history tr[data-id='{job}']").wait_for()
        _shot(page, "serve_page_verdict.png")

        with context.expect_page() as opened:
            item.locator("a.report").click()
        report = opened.value
        report.wait_for_load_state()
        assert report.url == f"{s.url}/api/scans/{job}/report"
        assert report.locator("#verdict").is_visible()
        assert clip.name in report.locator("h1").inner_text()
        _shot(report, "serve_report.png")

        assert w.problems == [] and w.outside == []
        context.close()


def test_drop_hash_only_and_delete(browser, tmp_path):
    with Server(tmp_path / "data", "--workers", "1") as s, s.client() as api:
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        w = Watched(context, s.url)
        page = w.page
        page.goto(s.url + "/")
        # drop a photo on the drop zone, as a file manager would
        data = base64.b64encode(SAMPLE.read_bytes()).decode()
        transfer = page.evaluate_handle("""(b64) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], "dropped.jpg", {type: "image/jpeg"}));
            return dt;
        }""", data)
        page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
        page.locator("#uploads li > .verdict").wait_for(timeout=120_000)
        row = page.locator("#history tbody tr").filter(has_text="dropped.jpg")
        row.wait_for()
        job = row.get_attribute("data-id")
        assert api.get(f"/api/scans/{job}").json()["status"] == "done"

        page.check("#hash-only")
        page.set_input_files("#files", str(SAMPLE))
        hashed = page.locator("#uploads li").filter(has_text="hashed 1 frame(s)")
        hashed.wait_for(timeout=60_000)
        assert file_digest(SAMPLE)[0] in hashed.inner_text()
        assert "No library loaded" in hashed.inner_text()
        assert api.get("/api/scans").json()["total"] == 1  # hashing made no scan
        assert list((s.data / "uploads").iterdir()) == []
        _shot(page, "serve_page_hash_only.png")

        row.locator("button.delete").click()
        page.locator("#history tbody tr").filter(has_text="dropped.jpg").wait_for(state="detached")
        assert api.get(f"/api/scans/{job}").status_code == 404
        assert w.problems == [] and w.outside == []
        context.close()


def test_the_page_asks_for_the_token_once_and_the_report_opens_with_it(browser, tmp_path):
    with Server(tmp_path / "data", "--token", "s3cret") as s, s.client("s3cret") as api:
        job = api.post("/api/scans", files={"file": ("a.jpg", SAMPLE.read_bytes())}).json()["id"]
        context = browser.new_context()
        w = Watched(context, s.url)
        page = w.page
        page.goto(s.url + "/")
        page.locator("#auth").wait_for()
        page.fill("#token", "s3cret")
        page.click("#token-save")
        link = page.locator(f"#history tr[data-id='{job}'] a.report")
        link.wait_for(timeout=60_000)
        assert page.locator("#auth").is_hidden()
        with context.expect_page() as opened:
            link.click()
        opened.value.locator("#verdict").wait_for()
        page.reload()  # the token is kept for the session: not asked again
        page.locator(f"#history tr[data-id='{job}']").wait_for()
        assert page.locator("#auth").is_hidden()
        assert w.problems == [] and w.outside == []
        context.close()


def _first_labelled(label: str, paths) -> Path:
    """The first of ``paths`` a scan labels ``label`` (chosen by scanning, not by name)."""
    from unswap.scan import Scanner

    scanner = Scanner()
    for path in paths:
        if scanner.scan(path).label == label:
            return path
    pytest.skip(f"no file labelled {label!r} among the candidates")


def _cases(tmp: Path) -> dict[str, Path]:
    """A real file for each thing a person can be told."""
    from PIL import Image

    photos = sorted(shared("reals", "fairface").glob("*.jpg"))[:40]
    small = tmp / "small_face.jpg"
    Image.open(SAMPLE).resize((96, 96)).save(small)  # the astronaut's face, 89 px, becomes 17 px
    plain = tmp / "no_face.png"
    Image.linear_gradient("L").convert("RGB").save(plain)
    clips = [shared("videos", "dfdc", n) for n in ("widuwuoiur.mp4", "abofeumbvv.mp4")]
    return {"fake": _first_labelled("fake", clips), "real": _first_labelled("real", photos),
            "uncertain": _first_labelled("uncertain", photos), "too-small": small, "no-face": plain,
            "invalid C2PA": shared("c2pa", "tampered_XCA.jpg")}


def _cli(*argv: str) -> str:
    import contextlib
    import io

    from unswap.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def test_every_label_reads_the_same_in_the_cli_the_json_the_report_and_the_page(browser, tmp_path):
    import html
    import json

    from unswap.vocabulary import WORDS, band

    cases = _cases(tmp_path)
    with Server(tmp_path / "data", "--workers", "1") as s:
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        w = Watched(context, s.url)
        page = w.page
        page.goto(s.url + "/")
        assert page.locator("#session-empty").is_visible()  # the empty list says what will come there
        page.locator("#detector option").first.wait_for(state="attached")  # the choices come from /api/vocabulary
        assert page.locator("#detector option").count() >= 2 and "(default)" in page.locator("#detector").inner_text()
        assert "Calls a face fake from p_fake" in page.locator("#detector-about").inner_text()
        for case, path in cases.items():
            record = json.loads(_cli("scan", "--json", str(path)))
            said = record["words"]
            label = record["label"]
            if case != "invalid C2PA":
                assert label == case
            # the words are the vocabulary's for this label, by band where the label is "uncertain"
            key = label if label in WORDS else None
            if label == "uncertain":
                from unswap.report import shipped_config

                lo, hi = band(shipped_config(DEFAULT))
                key = "uncertain-" + ("lower", "middle", "upper")[int(3 * (record["p_fake"] - lo) / (hi - lo))]
            if label == "fake":
                key = "fake" if said["headline"] == WORDS["fake"].headline else "fake-weak"
            assert said["headline"] == WORDS[key].headline
            for part in ("means", "not_means", "next"):  # as written there, up to the first word filled per file
                assert said[part].startswith(getattr(WORDS[key], part).split("{")[0]), part
            assert record["summary"].startswith(said["headline"]) and said["means"] in record["summary"]
            # the CLI's text
            text = _cli("scan", str(path))
            score = f" ({said['score']})" if said["score"] else ""
            assert text.startswith(f"{path}: {said['headline']}{score}\n  {said['means']}\n")
            assert f"  Not: {said['not_means']}\n  Next: {said['next']}" in text
            assert (f"\n  {said['rates']}\n" in text) == (said["rates"] is not None)
            # the report
            report = tmp_path / "r.html"
            _cli("scan", str(path), "--report", str(report))
            doc = report.read_text(encoding="utf-8")
            for part in ("headline", "means", "not_means", "next", "rates"):
                assert said[part] is None or html.escape(said[part]) in doc, part
            # the page
            page.set_input_files("#files", str(path))
            item = page.locator("#uploads li").first
            item.locator(".verdict").first.wait_for(timeout=180_000)
            card = item.locator(":scope > .verdict")
            assert card.get_attribute("class") == f"verdict {label}"
            assert card.locator(".headline").inner_text() == said["headline"] + score
            for part, lead in (("means", "What this means."), ("not_means", "What it does not mean."),
                               ("next", "What to do next.")):
                assert card.locator("." + part.replace("_", "-")).inner_text() == f"{lead} {said[part]}"
            if said["rates"]:
                assert card.locator(".rates").inner_text() == f"How reliable. {said['rates']}"
            faces = item.locator("section.face")
            scored = [t for t in record["tracks"] if t["p_fake"] is not None]
            assert faces.count() == len(scored)
            for k, t in enumerate(scored):
                face = faces.nth(k)
                assert face.locator("h3").inner_text().startswith(f"Face {t['track_id']}: ")
                assert face.locator("figure.moment img").count() >= 1
                swapped = re.search(r"(^|; )judged swapped (during|in this photo)", face.locator(".when").inner_text())
                assert bool(swapped) == bool(t["segments"])
                assert (face.locator("figure.overlay").count() > 0) == (t["label"] == "fake")
            if case == "fake":
                assert item.locator("img.timeline").is_visible()
                assert "judged swapped during" in item.locator("section.face .when").first.inner_text()
            if case == "invalid C2PA":
                assert "Content Credentials INVALID" in card.locator(".provenance").inner_text()
                assert "Content Credentials INVALID" in text and "Content Credentials INVALID" in doc
            row = page.locator(f"#history tr[data-id='{item.get_attribute('data-id')}'] td.result")
            row.filter(has_text=said["headline"]).wait_for()
            _shot(page, f"serve_page_{case.replace(' ', '_')}.png")
        assert w.problems == [] and w.outside == []
        context.close()
