"""Requests an attacker or a broken client sends ``unswap serve``: each is refused with its
code, leaves nothing on disk, and the server goes on answering."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from tests.helpers.paths import REPO, SAMPLE
from tests.helpers.serve_server import BOUNDARY, part_head, read_response, client, module_server, upload, wait_done  # noqa: F401 (client: a fixture)

server = module_server("--max-upload-mb", "1", "--upload-timeout", "2")


def _left_on_disk(server) -> list[str]:
    return [p.name for p in (server.data / "uploads").iterdir()]


def _raw(server, head: bytes, body_chunks=(), pause: float = 0.0) -> tuple[int, bytes, int]:
    """Send a request by hand: ``head`` then each chunk, stopping once the server answers;
    returns (status, response, bytes of body sent before the answer came)."""
    import select

    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sent = 0
    try:
        sock.sendall(head)
        for chunk in body_chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            if pause:
                time.sleep(pause)
            if select.select([sock], [], [], 0)[0]:
                break
        data = read_response(sock)
        return int(data.split(b" ", 2)[1]), data, sent
    finally:
        sock.close()


def _request_head(length: int | None = None) -> bytes:
    size = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    return (f"POST /api/scans HTTP/1.1\r\nHost: 127.0.0.1\r\n{size}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n").encode()


def _chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def test_an_oversize_upload_is_refused_while_it_is_still_streaming(server, client):
    jpeg_like = b"\xff\xd8\xff\xe0" + bytes(64 * 1024 - 4)
    chunks = [_chunked(part_head())] + [_chunked(jpeg_like)] * 64  # 4 MB against a 1 MB limit
    status, response, sent = _raw(server, _request_head(), chunks, pause=0.01)
    assert status == 413 and b'"too_large"' in response
    assert sent < 3 * 2**20, "the server read the whole body before refusing it"
    assert _left_on_disk(server) == []
    assert client.get("/healthz").status_code == 200


def test_a_declared_oversize_body_is_refused_before_it_is_sent(server):
    status, response, _ = _raw(server, _request_head(length=10 * 2**30))
    assert status == 413 and b'"too_large"' in response
    assert _left_on_disk(server) == []


def test_the_type_is_told_from_the_bytes_not_the_name(server, client):
    r = upload(client, REPO / "README.md", name="photo.jpg")
    assert r.status_code == 415 and r.json()["code"] == "not_media"
    r = upload(client, REPO / "pyproject.toml", name="clip.mp4")
    assert r.status_code == 415
    r = upload(client, SAMPLE, name="notes.txt")
    assert r.status_code == 202
    assert wait_done(client, r.json()["id"])["status"] == "done"
    assert _left_on_disk(server) == []


def test_media_that_sniffs_right_but_does_not_decode_fails_its_job_with_one_line(client):
    r = client.post("/api/scans", files={"file": ("x.jpg", b"\xff\xd8\xff\xe0" + bytes(2000))})
    assert r.status_code == 202
    status = wait_done(client, r.json()["id"])
    assert status["status"] == "failed" and status["error"].startswith("not usable media")
    assert "\n" not in status["error"]


@pytest.mark.parametrize("name", ["../../../../evil.jpg", "..\\..\\evil.jpg", "/etc/evil.jpg", "..", "a/../../evil.jpg"])
def test_upload_names_are_never_paths(server, client, name):
    before = set(p for p in server.data.parent.rglob("*"))
    r = upload(client, SAMPLE, name=name)
    assert r.status_code == 202
    status = wait_done(client, r.json()["id"])
    assert status["name"] in ("evil.jpg", "upload")
    assert status["result"]["path"] == status["name"]
    assert not any(p.name == "evil.jpg" for p in server.data.parent.rglob("*"))
    new = {p for p in server.data.parent.rglob("*")} - before
    assert all(p.parent in (server.data, server.data / "uploads") for p in new), new


def test_a_huge_multipart_header_is_refused(client, server):
    r = client.post("/api/scans", files={"file": ("x" * 100_000 + ".jpg", SAMPLE.read_bytes())})
    assert r.status_code == 400 and r.json()["code"] == "header_too_large"
    many = b"".join(f"X-Pad-{i}: 1\r\n".encode() for i in range(50))
    body = part_head().replace(b"\r\n\r\n", b"\r\n" + many + b"\r\n") + SAMPLE.read_bytes() + f"\r\n--{BOUNDARY}--\r\n".encode()
    status, response, _ = _raw(server, _request_head(len(body)), [body])
    assert status == 400 and b"header" in response
    assert _left_on_disk(server) == []


def test_a_huge_http_header_is_refused_and_the_server_goes_on(client, server):
    head = b"GET /api/scans HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    try:
        status, _, _ = _raw(server, head)
    except (ConnectionResetError, BrokenPipeError, IndexError):
        status = None  # the connection was dropped, which is refusal too
    assert status in (None, 400, 431)
    assert client.get("/healthz").status_code == 200


def test_too_many_parts_and_a_truncated_body_are_refused(client, server):
    fields = {f"f{i}": "1" for i in range(20)}
    r = client.post("/api/scans", data=fields, files={"file": ("x.jpg", SAMPLE.read_bytes())})
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    body = part_head() + SAMPLE.read_bytes()  # no closing boundary
    status, response, _ = _raw(server, _request_head(len(body)), [body])
    assert status == 400 and b'"bad_request"' in response
    assert _left_on_disk(server) == []


def test_a_stalled_upload_times_out_and_does_not_hold_up_others(server, client):
    result = {}

    def stall():
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        body_start = part_head() + b"\xff\xd8\xff\xe0" + bytes(1000)
        sock.sendall(_request_head(length=len(body_start) + 10_000) + body_start)
        t0 = time.monotonic()
        data = read_response(sock)
        result["after_s"] = time.monotonic() - t0
        result["response"] = data
        sock.close()

    t = threading.Thread(target=stall)
    t.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    assert client.get("/healthz").status_code == 200
    r = upload(client, SAMPLE)
    assert r.status_code == 202 and time.monotonic() - t0 < 1.5  # served meanwhile
    t.join(30)
    assert result["response"].startswith(b"HTTP/1.1 408") and b'"timeout"' in result["response"]
    assert 1.0 < result["after_s"] < 10
    wait_done(client, r.json()["id"])
    assert _left_on_disk(server) == []


def test_a_client_that_goes_away_mid_upload_leaves_nothing(server, client):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    body_start = part_head() + b"\xff\xd8\xff\xe0" + bytes(100_000)
    sock.sendall(_request_head(length=len(body_start) + 100_000) + body_start)
    time.sleep(0.3)
    sock.close()
    end = time.monotonic() + 10
    while _left_on_disk(server) and time.monotonic() < end:
        time.sleep(0.1)
    assert _left_on_disk(server) == []
    assert client.get("/healthz").status_code == 200
    assert "Traceback" not in server.log.read_text()
