"""``unswap serve``'s API against a real uvicorn on 127.0.0.1, driven with httpx."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys

import pytest
from tests.helpers.paths import SAMPLE, shared
from tests.helpers.serve_server import Server, client, module_server, upload, wait_done  # noqa: F401 (client: a fixture)

from unswap.cli import main

TRACK = ("videos", "dfdc_face_tracks", "fake_aaqaifqrwn.mp4_0_0.mp4")


server = module_server()


def _uploads(server) -> list[str]:
    return sorted(p.name for p in (server.data / "uploads").iterdir())


def _cli_json(capsys, path) -> dict:
    capsys.readouterr()
    assert main(["scan", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _without_run_details(doc: str) -> str:
    """A report without what differs between two runs of one scan: the time and the command."""
    doc = re.sub(r"<tr><th>command</th><td>.*?</td></tr>", "", doc)
    return re.sub(r"<tr><th>scanned at</th><td>[^<]*</td></tr>", "", doc)


@pytest.mark.slow
def test_a_finished_scan_is_scan_json_and_its_report_is_scan_report(server, client, tmp_path, capsys, monkeypatch):
    track = shared(*TRACK)
    r = upload(client, track)
    assert r.status_code == 202 and set(r.json()) == {"id"}
    job = r.json()["id"]
    status = wait_done(client, job)
    assert status["status"] == "done" and status["error"] is None
    assert status["name"] == track.name
    expected = _cli_json(capsys, track)
    assert status["result"]["path"] == track.name
    assert {**status["result"], "path": None} == {**expected, "path": None}
    frames = status["result"]["media"]["frames_scored"]
    assert status["progress"] == {"frames_done": frames, "frames_expected": frames}

    report = client.get(f"/api/scans/{job}/report")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in report.headers["content-security-policy"]
    # the CLI, run where the file is and given its bare name, writes the same report
    monkeypatch.chdir(track.parent)
    out = tmp_path / "cli_report.html"
    assert main(["scan", track.name, "--report", str(out)]) == 0
    assert _without_run_details(report.text) == _without_run_details(out.read_text(encoding="utf-8"))
    # beside it, what the page shows: each scored face with its words and its moments as pictures
    details = client.get(f"/api/scans/{job}/details").json()
    scored = [t for t in expected["tracks"] if t["p_fake"] is not None]
    assert [f["track_id"] for f in details["faces"]] == [t["track_id"] for t in scored]
    assert all(m["face"].startswith("data:image/png;base64,") for f in details["faces"] for m in f["moments"])
    assert details["faces"][0]["label"] == scored[0]["label"]
    assert _uploads(server) == []  # the media went when the scan ended


@pytest.mark.skipif(importlib.util.find_spec("c2pa") is None, reason="c2pa-python not installed (pip install -e .)")
def test_a_served_report_carries_the_credentials_its_scan_read(client):
    job = upload(client, shared("c2pa", "tampered_XCA.jpg")).json()["id"]
    status = wait_done(client, job)
    assert status["status"] == "done" and status["result"]["provenance"]["status"] == "invalid"
    report = client.get(f"/api/scans/{job}/report").text
    assert "Content Credentials INVALID" in report and "assertion.dataHash.mismatch: " in report
    assert client.get(f"/api/scans/{job}/details").json()["provenance"].startswith("Content Credentials INVALID")


def test_the_page_takes_its_words_from_the_vocabulary(client):
    from unswap.detectors import DEFAULT_DETECTOR, list_detectors
    from unswap.vocabulary import HEADLINES, detector_lines

    words = client.get("/api/vocabulary").json()
    assert words["headlines"] == HEADLINES and words["default_detector"] == DEFAULT_DETECTOR
    assert [d["name"] for d in words["detectors"]] == list_detectors()
    assert words["detectors"][0]["about"] == detector_lines(list_detectors()[0])
    assert client.get("/api/scans/" + "0" * 32 + "/details").status_code == 404


def test_scans_are_listed_newest_first_page_by_page_and_deleted(client):
    ids = [upload(client, SAMPLE, name=f"photo{i}.jpg").json()["id"] for i in range(3)]
    for job in ids:
        assert wait_done(client, job)["status"] == "done"
    first = client.get("/api/scans", params={"limit": 2}).json()
    assert first["limit"] == 2 and first["offset"] == 0 and first["total"] >= 3
    assert [it["id"] for it in first["items"]] == ids[::-1][:2]
    second = client.get("/api/scans", params={"limit": 2, "offset": 2}).json()
    assert second["items"][0]["id"] == ids[0]
    assert {it["id"] for it in first["items"]}.isdisjoint(it["id"] for it in second["items"])
    item = first["items"][0]
    assert item["name"] == "photo2.jpg" and item["status"] == "done" and item["label"] is not None

    assert client.delete(f"/api/scans/{ids[2]}").status_code == 204
    assert client.get(f"/api/scans/{ids[2]}").json()["code"] == "not_found"
    assert client.get(f"/api/scans/{ids[2]}/report").status_code == 404
    assert client.delete(f"/api/scans/{ids[2]}").status_code == 404
    assert ids[2] not in [it["id"] for it in client.get("/api/scans", params={"limit": 200}).json()["items"]]


def test_errors_are_json_with_a_stable_code(client):
    def code(r):
        assert r.headers["content-type"] == "application/json"
        return r.status_code, r.json()["code"]

    assert code(client.get("/api/scans/0123456789abcdef0123456789abcdef")) == (404, "not_found")
    assert code(client.get("/api/scans/not-an-id")) == (404, "not_found")
    assert code(client.get("/api/scans", params={"limit": 0})) == (400, "bad_request")
    assert code(upload(client, SAMPLE, sample_fps="0")) == (400, "bad_option")
    assert code(upload(client, SAMPLE, sample_fps="fast")) == (400, "bad_option")
    assert code(upload(client, SAMPLE, detector="nope")) == (400, "bad_option")
    assert code(upload(client, SAMPLE, max_frames="-3")) == (400, "bad_option")
    assert code(upload(client, SAMPLE, threshold="0.1")) == (400, "bad_option")
    assert code(client.post("/api/scans", content=b"\xff\xd8\xff", headers={"content-type": "image/jpeg"})) == (
        400, "bad_request")
    no_file = client.post("/api/scans", data={"sample_fps": "2"}, files={"other": ("x", b"1")})
    assert code(no_file) == (400, "bad_request") and "'file'" in no_file.json()["message"]
    assert code(client.put("/api/scans")) == (405, "method_not_allowed")
    assert client.put("/api/scans").headers["allow"] == "GET, POST"
    assert code(client.post("/api/match", files={"file": ("a.jpg", SAMPLE.read_bytes())})) == (400, "no_library")


def test_options_reach_the_scan(client):
    track = shared(*TRACK)
    job = upload(client, track, max_frames="3", sample_fps="4").json()["id"]
    status = wait_done(client, job)
    assert status["result"]["media"]["frames_scored"] == 3


def test_hash_gives_the_documented_format_matches_the_library_and_keeps_nothing(tmp_path, capsys):
    capsys.readouterr()
    assert main(["hash", str(SAMPLE)]) == 0
    cli_text = capsys.readouterr().out
    library = tmp_path / "library.txt"
    library.write_text(cli_text)
    with Server(tmp_path / "data", "--library", str(library)) as s, s.client() as c:
        r = upload(c, SAMPLE, name="copy.jpg", route="/api/hash")
        assert r.status_code == 200
        body = r.json()
        # the same text `unswap hash` writes, the path field aside
        assert re.sub(r"path=\S+", "", body["text"]) == re.sub(r"path=\S+", "", cli_text)
        assert "path=copy.jpg" in body["text"] and body["hashes"]["path"] == "copy.jpg"
        assert body["match"]["matches"][0]["path"] == str(SAMPLE)
        assert list((s.data / "uploads").iterdir()) == []

        by_file = upload(c, SAMPLE, route="/api/match").json()
        assert [m["path"] for m in by_file["matches"]] == [str(SAMPLE)]
        by_hashes = c.post("/api/match", data={"hashes": body["text"]}, files={"unused": ("", b"")})
        assert by_hashes.status_code == 400  # a stray field is refused by name, not ignored
        by_hashes = c.post("/api/match", files={"hashes": (None, body["text"])}).json()
        assert [m["path"] for m in by_hashes["matches"]] == [str(SAMPLE)]
        bad = c.post("/api/match", files={"hashes": (None, "not hashes")})
        assert bad.status_code == 400 and bad.json()["code"] == "bad_request"
        assert list((s.data / "uploads").iterdir()) == []


def test_a_library_folder_is_read_as_scan_reads_one_and_indexed_once(tmp_path):
    lib = tmp_path / "library"
    (lib / "sub").mkdir(parents=True)
    shutil.copy(SAMPLE, lib / "sub" / "original.jpg")
    shutil.copy(SAMPLE, lib / ".hidden.jpg")
    (lib / "notes.txt").write_text("not media\n")
    with Server(tmp_path / "data", "--library", str(lib)) as s, s.client() as c:
        assert c.get("/api/config").json()["library"] is True
        by_file = upload(c, SAMPLE, name="upload.jpg", route="/api/match").json()
        hashed = upload(c, SAMPLE, route="/api/hash").json()["match"]
        for found in (by_file, hashed):
            assert found["sources_compared"] == 1
            assert [m["path"] for m in found["matches"]] == [str(lib / "sub" / "original.jpg")]
            assert {(x["path"], x["reason"]) for x in found["skipped"]} == {
                (str(lib / ".hidden.jpg"), "hidden file (--hidden scans it)"),
                (str(lib / "notes.txt"), "not a media file (by its name)")}
        assert by_file["suspect"]["path"] == "upload.jpg"
        # the uploaded file is compared with the source's media; hashes alone give no map
        assert by_file["matches"][0]["difference"]["box"] is None and hashed["matches"][0]["difference"] is None
        assert list((s.data / "uploads").iterdir()) == []


def test_keep_media_keeps_the_upload_until_the_scan_is_deleted(tmp_path):
    with Server(tmp_path / "data", "--keep-media") as s, s.client() as c:
        job = upload(c, SAMPLE).json()["id"]
        assert wait_done(c, job)["status"] == "done"
        kept = s.data / "uploads" / f"{job}.media"
        assert kept.read_bytes() == SAMPLE.read_bytes()
        assert c.get("/api/config").json()["keep_media"] is True
        c.delete(f"/api/scans/{job}")
        assert not kept.exists()


def test_with_a_token_every_api_call_needs_it(tmp_path):
    with Server(tmp_path / "data", "--token", "s3cret") as s:
        with s.client() as anon:
            assert anon.get("/healthz").json()["token_required"] is True
            assert anon.get("/").status_code == 200  # the page, which asks for the token
            for method, path in [("GET", "/api/scans"), ("GET", "/api/config"), ("POST", "/api/scans"),
                                 ("POST", "/api/hash"), ("DELETE", "/api/scans/" + "0" * 32)]:
                r = anon.request(method, path)
                assert r.status_code == 401 and r.json()["code"] == "unauthorized", (method, path)
                assert r.headers["www-authenticate"] == "Bearer"
            assert upload(anon, SAMPLE).status_code == 401
            assert list((s.data / "uploads").iterdir()) == []
        with s.client("wrong") as bad:
            assert bad.get("/api/scans").status_code == 401
        with s.client("s3cret") as ok:
            job = upload(ok, SAMPLE).json()["id"]
            assert wait_done(ok, job)["status"] == "done"
        with s.client() as anon:
            assert anon.get(f"/api/scans/{job}/report").status_code == 401
            # the browser opens the report in a tab, with the cookie the page set
            assert anon.get(f"/api/scans/{job}/report", headers={"cookie": "unswap_token=s3cret"}).status_code == 200
            assert anon.get(f"/api/scans/{job}", headers={"cookie": "unswap_token=s3cret"}).status_code == 401


def _serve(*args: str, env: dict | None = None, code: str | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", code or "import sys; from unswap.cli import main; sys.exit(main(sys.argv[1:]))",
           "serve", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def test_off_loopback_without_a_token_it_refuses_to_start_with_one_line(tmp_path, monkeypatch):
    import os

    env = {k: v for k, v in os.environ.items() if k != "UNSWAP_TOKEN"}
    run = _serve("--host", "0.0.0.0", "--data", str(tmp_path), env=env)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "--token" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "jobs.sqlite3").exists()


def test_without_the_serve_extra_it_says_what_to_install(tmp_path):
    code = ("import sys; sys.modules['fastapi'] = None; from unswap.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    run = _serve("--data", str(tmp_path), code=code)
    assert run.returncode == 2
    # as the README installs unswap: from its clone
    assert run.stderr.strip().startswith("unswap: unswap serve needs the serve extra: pip install -e '.[serve]' ")


def test_bad_serve_options_are_one_line(tmp_path):
    assert _serve("--workers", "0", "--data", str(tmp_path)).stderr.strip() == "unswap: --workers must be at least 1"
    nope, notes = tmp_path / "nope.txt", tmp_path / "notes.txt"
    notes.write_text("not hashes\n")
    for library, why in ((nope, "no such file or folder"), (notes, "not a hash file")):
        run = _serve("--library", str(library), "--data", str(tmp_path))
        assert run.returncode == 2 and run.stderr.count("\n") == 1 and f"unswap: {library}: {why}" in run.stderr
