"""``unswap serve`` attacked as a hostile web page, a hostile client and a crash would:
another site's page, a rebound host name, held and trickled uploads, a full disk, a kill -9.
Every request goes to a real server on 127.0.0.1."""

from __future__ import annotations

import os
import select
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from tests.helpers.paths import SAMPLE
from tests.helpers.serve_server import BOUNDARY, part_head, read_response, Server, client, module_server, upload, wait_done  # noqa: F401 (client: a fixture)

from unswap.serve.jobs import JobStore, new_job_id

server = module_server("--allow-host", "unswap.lan", "--max-uploads", "2", "--max-disk-mb", "2",
                       "--max-upload-mb", "1", "--upload-timeout", "5", "--upload-deadline", "3")


def _uploads(server) -> list[str]:
    return sorted(p.name for p in (server.data / "uploads").iterdir())


def _hold(server, route: str = "/api/hash", nbytes: int = 1000, length: int = 2**20) -> socket.socket:
    """Start an upload of ``length`` bytes to ``route``, send its first ``nbytes`` of a
    JPEG, and leave it open; the server holds it until it ends or times out."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    body = part_head() + b"\xff\xd8\xff\xe0" + bytes(nbytes - 4)
    sock.sendall((f"POST {route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n"
                  f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n").encode() + body)
    return sock


def _wait_for(predicate, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


# ---- a hostile web page ---------------------------------------------------------------------


def test_a_request_for_a_rebound_host_name_is_refused_on_every_route(server, client):
    job = upload(client, SAMPLE).json()["id"]
    wait_done(client, job)
    evil = {"host": "attacker.example"}
    for method, path in [("GET", "/api/scans"), ("GET", f"/api/scans/{job}"), ("GET", f"/api/scans/{job}/report"),
                         ("DELETE", f"/api/scans/{job}"), ("GET", "/"), ("GET", "/healthz")]:
        r = client.request(method, path, headers=evil)
        assert r.status_code == 403 and r.json()["code"] == "bad_host", (method, path)
    assert upload(client, SAMPLE, headers=evil).status_code == 403
    assert client.get(f"/api/scans/{job}").json()["status"] == "done"  # the DELETE did nothing
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", "unswap.lan", f"[::1]:{server.port}"):
        assert client.get("/api/scans", headers={"host": host}).status_code == 200, host


def test_a_state_change_from_another_sites_page_is_refused(server, client):
    before = client.get("/api/scans").json()["total"]
    page = f"http://127.0.0.1:{server.port}"
    for headers in ({"origin": "http://evil.example", "sec-fetch-site": "cross-site"},  # a plain HTML form
                    {"origin": "http://evil.example"}, {"origin": "null"}, {"sec-fetch-site": "same-site"},
                    {"origin": "http://127.0.0.1:1", "sec-fetch-site": "same-site"}):
        r = upload(client, SAMPLE, headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "cross_origin", headers
    assert client.get("/api/scans").json()["total"] == before and _uploads(server) == []
    job = upload(client, SAMPLE, headers={"origin": page, "sec-fetch-site": "same-origin"}).json()["id"]
    wait_done(client, job)
    r = client.delete(f"/api/scans/{job}", headers={"origin": "http://evil.example", "sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    assert client.delete(f"/api/scans/{job}", headers={"origin": page}).status_code == 204


# ---- uploads --------------------------------------------------------------------------------


def test_every_route_shares_one_upload_budget_checked_before_the_body_is_stored(server, client):
    held = [_hold(server, "/api/hash"), _hold(server, "/api/scans")]
    try:
        _wait_for(lambda: len(_uploads(server)) == 2)
        for p in (server.data / "uploads").iterdir():  # readable by this user alone
            assert stat.S_IMODE(p.stat().st_mode) == 0o600
        for route in ("/api/scans", "/api/hash"):
            r = upload(client, SAMPLE, route=route)
            assert r.status_code == 429 and r.json()["code"] == "busy", route
    finally:
        for sock in held:
            sock.close()
    _wait_for(lambda: _uploads(server) == [])
    # bytes on disk: what waits in the folder counts, also what another route left
    filler = server.data / "uploads" / "filler.tmp"
    filler.write_bytes(bytes(int(1.95 * 2**20)))  # with the 75 KB photo: over 2 MB
    try:
        r = upload(client, SAMPLE, route="/api/hash")
        assert r.status_code == 429 and r.json()["code"] == "busy" and "MB" in r.json()["message"]
    finally:
        filler.unlink()
    assert upload(client, SAMPLE, route="/api/hash").status_code == 200


def test_an_upload_trickled_a_byte_at_a_time_is_cut_off_at_its_deadline(server):
    sock = _hold(server, "/api/scans")
    t0 = time.monotonic()
    try:
        # a byte every 0.2 s: never silent for the 5 s timeout; until the server answers
        while not select.select([sock], [], [], 0.2)[0] and time.monotonic() - t0 < 20:
            sock.sendall(b"\0")
        after_s = time.monotonic() - t0
        response = read_response(sock)
    finally:
        sock.close()
    assert response.startswith(b"HTTP/1.1 408") and b"took over 3 s" in response
    assert 2.5 < after_s < 6
    _wait_for(lambda: _uploads(server) == [])


def test_a_repeated_form_field_is_refused_not_resolved(client):
    with open(SAMPLE, "rb") as f:
        r = client.post("/api/hash", data={"fps": ["abc", "2"]}, files={"file": ("x.jpg", f)})
    assert r.status_code == 400 and "more than one 'fps'" in r.json()["message"]
    with open(SAMPLE, "rb") as f:
        r = client.post("/api/scans", data={"sample_fps": ["1", "2"]}, files={"file": ("x.jpg", f)})
    assert r.status_code == 400


# ---- the data folder ------------------------------------------------------------------------


def test_the_data_folder_is_private_to_the_user(server, client):
    wait_done(client, upload(client, SAMPLE).json()["id"])
    assert stat.S_IMODE(server.data.stat().st_mode) == 0o700
    assert stat.S_IMODE((server.data / "uploads").stat().st_mode) == 0o700
    for name in ("jobs.sqlite3", "jobs.sqlite3-wal", "jobs.sqlite3-shm"):
        assert stat.S_IMODE((server.data / name).stat().st_mode) == 0o600, name


def test_the_upload_of_a_job_that_failed_for_its_worker_is_deleted(tmp_path):
    store = JobStore(tmp_path / "data")
    job = new_job_id()
    store.media_path(job).write_bytes(SAMPLE.read_bytes())
    store.add(job, "x.jpg", {}, 10)
    for pid in (101, 102, 103):  # three workers die scanning it
        assert store.claim(pid)["id"] == job
        store.worker_died(pid, -9)
    assert store.get(job)["status"] == "failed" and "3 times" in store.get(job)["error"]
    assert not store.media_path(job).exists()


def test_kill_9_mid_upload_leaves_nothing_once_started_again(tmp_path):
    data = tmp_path / "data"
    s = Server(data).start()
    try:
        held = [_hold(s, "/api/hash", 300_000), _hold(s, "/api/scans", 300_000)]
        _wait_for(lambda: sorted(p.suffix for p in (data / "uploads").iterdir()) == [".media", ".tmp"])
        s.kill9()
        for sock in held:
            sock.close()
        assert len(list((data / "uploads").iterdir())) == 2  # what the crash left
        # a failed job's upload, left by a server killed before it could delete it
        store = JobStore(data)
        job = new_job_id()
        store.media_path(job).write_bytes(b"x")
        store.add(job, "x.jpg", {}, 10)
        store.fail(job, "stand-in")
        store.media_path(job).write_bytes(b"x")
    finally:
        s.stop()
    with Server(data) as again:
        assert list((data / "uploads").iterdir()) == []
        with again.client() as c:
            assert c.get(f"/api/scans/{job}").json()["status"] == "failed"


# ---- starting -------------------------------------------------------------------------------


def _serve(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "UNSWAP_TOKEN"}
    return subprocess.run([sys.executable, "-m", "unswap.cli", "serve", *args], capture_output=True, text=True,
                          timeout=60, env=env)


@pytest.mark.parametrize("token", [" ", "", " padded "])
def test_a_token_no_request_could_send_is_refused_at_start(tmp_path, token):
    run = _serve("--token", token, "--data", str(tmp_path / "data"))
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "--token" in run.stderr


def _mount_tmpfs(folder: Path, *options: str) -> None:
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "size=3m")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_read_only_data_folder_is_one_line(tmp_path):
    ro = tmp_path / "ro"
    _mount_tmpfs(ro, "ro,size=1m")
    try:
        run = _serve("--data", str(ro / "data"))
        assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
        assert "cannot use it as the data folder" in run.stderr and "Read-only" in run.stderr
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)


def test_a_full_disk_is_a_json_error_and_loses_no_finished_result(small_disk):
    with Server(small_disk / "data") as s, s.client() as c:
        done = wait_done(c, upload(c, SAMPLE).json()["id"])
        assert done["status"] == "done"
        filler = small_disk / "filler"
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(bytes(65536))
                    f.flush()
            except OSError:
                pass
        for route in ("/api/scans", "/api/hash"):
            r = upload(c, SAMPLE, route=route)
            assert r.status_code == 507 and r.json() == {"code": "disk_full", "message": r.json()["message"]}, route
        assert c.get(f"/api/scans/{done['id']}").json() == done
        assert list((s.data / "uploads").iterdir()) == []
        filler.unlink()
        assert wait_done(c, upload(c, SAMPLE).json()["id"])["status"] == "done"


def test_a_job_whose_result_could_not_be_saved_says_so_when_tried_again(tmp_path):
    from unswap.serve.jobs import _run_job

    store = JobStore(tmp_path / "data")
    job = new_job_id()
    store.media_path(job).write_bytes(SAMPLE.read_bytes())
    store.add(job, "x.jpg", {}, 10)
    store.claim(1)
    store.media_path(job).unlink()  # as a try that deleted it, then met a full disk, left it
    store.worker_died(1, 1)
    _run_job(store, {}, store.claim(2))
    row = store.get(job)
    assert row["status"] == "failed" and "could not save its result" in row["error"]


def test_a_token_the_page_url_encodes_into_its_cookie_opens_the_report(tmp_path):
    token = "a b;c+d=e%f"
    with Server(tmp_path / "data", "--token", token) as s, s.client(token) as c:
        job = upload(c, SAMPLE).json()["id"]
        wait_done(c, job)
        with s.client() as anon:
            cookie = {"cookie": "unswap_token=" + quote(token, safe="")}  # as encodeURIComponent writes it
            assert anon.get(f"/api/scans/{job}/report", headers=cookie).status_code == 200
            wrong = {"cookie": "unswap_token=" + quote("a b;c+d=e%g", safe="")}
            assert anon.get(f"/api/scans/{job}/report", headers=wrong).status_code == 401
