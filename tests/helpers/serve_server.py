"""A real ``unswap serve`` process on 127.0.0.1 for the service tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="the serve tests need the test extra: pip install -e '.[test]'")
pytest.importorskip("fastapi", reason="unswap serve needs the serve extra: pip install -e '.[serve]'")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``unswap serve --data DATA ARGS...`` as a child process; its stderr goes to DATA.log."""

    def __init__(self, data: Path, *args: str, env: dict[str, str] | None = None):
        self.data, self.args, self.env = Path(data), list(args), env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = self.data.with_suffix(".log")

    def start(self, timeout: float = 60) -> Server:
        cmd = [sys.executable, "-m", "unswap.cli", "serve", "--port", str(self.port), "--data", str(self.data),
               *self.args]
        env = {**os.environ, **(self.env or {})}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer in {timeout} s: {self.log.read_text()}")

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def children(self) -> list[int]:
        """Process ids of the server's children (its workers)."""
        out = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            try:
                out += [int(x) for x in (task / "children").read_text().split()]
            except OSError:
                pass
        return out

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def upload(client: httpx.Client, path: Path, name: str | None = None, route: str = "/api/scans",
           headers: dict[str, str] | None = None, **fields: str) -> httpx.Response:
    """POST one file as multipart field ``file`` (under ``name``), with form ``fields``."""
    with open(path, "rb") as f:
        return client.post(route, files={"file": (name or path.name, f)}, data=fields, headers=headers)


def wait_done(client: httpx.Client, job_id: str, timeout: float = 180) -> dict:
    """Poll a scan until it is done or failed; its status object."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = client.get(f"/api/scans/{job_id}").json()
        if s["status"] in ("done", "failed"):
            return s
        time.sleep(0.2)
    raise AssertionError(f"scan {job_id} not finished in {timeout} s: {s}")


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def module_server(*args: str):
    """A module-scoped fixture ``server``: one server with ``args`` for a test module."""

    @pytest.fixture(scope="module")
    def server(tmp_path_factory):
        with Server(tmp_path_factory.mktemp("serve") / "data", *args) as s:
            yield s

    return server


@pytest.fixture(scope="module")
def client(server):
    """An httpx client of the module's ``server``."""
    with server.client() as c:
        yield c


# raw HTTP, for requests a client library would not send
BOUNDARY = "unswapboundary"


def read_response(sock: socket.socket) -> bytes:
    """The status line, headers and Content-Length body the server sends."""
    data = b""
    while True:
        part = sock.recv(65536)
        if not part:
            return data
        data += part
        head, sep, body = data.partition(b"\r\n\r\n")
        length = [int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                  if line.startswith(b"content-length:")]
        if sep and len(body) >= (length[0] if length else 0):
            return data


def part_head(name: str = "file", filename: str = "x.jpg") -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
