"""Load: 20 uploads at once to ``unswap serve --workers 2`` with a short queue. Each gets
202 and then its result, or 429; none is lost; the refused ones, sent again, complete too.
Prints jobs done, 429s and the peak memory (server plus workers)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.helpers.paths import SAMPLE
from tests.helpers.serve_server import Server, upload, wait_done

from unswap.paths import shared_data_dir


def _inputs() -> list[Path]:
    tracks = sorted((shared_data_dir() / "videos" / "dfdc_face_tracks").glob("*.mp4"))
    return (tracks + [SAMPLE] * 20)[:20]  # without the shared data: the bundled photo, 20 times


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@pytest.mark.slow
def test_twenty_concurrent_uploads_each_get_a_result_or_a_429_and_none_is_lost(tmp_path):
    inputs = _inputs()
    with Server(tmp_path / "data", "--workers", "2", "--max-queue", "8") as s:
        peak = [0]
        stop = threading.Event()

        def sample_memory():
            while not stop.wait(0.1):
                pids = [s.proc.pid, *s.children()]
                peak[0] = max(peak[0], sum(_rss_kb(p) for p in pids))

        sampler = threading.Thread(target=sample_memory)
        sampler.start()
        t0 = time.monotonic()
        with s.client() as c, ThreadPoolExecutor(20) as pool:
            first = list(pool.map(lambda p: upload(c, p), inputs))
            codes = [r.status_code for r in first]
            assert set(codes) <= {202, 429}, codes
            refused = [p for p, r in zip(inputs, first) if r.status_code == 429]
            assert all(r.json()["code"] == "queue_full" for r in first if r.status_code == 429)
            ids = [r.json()["id"] for r in first if r.status_code == 202]
            statuses = [wait_done(c, job, timeout=300) for job in ids]
            # the refused ones were refused, not dropped: sent again, one by one, they complete
            for path in refused:
                r = upload(c, path)
                assert r.status_code == 202
                statuses.append(wait_done(c, r.json()["id"], timeout=300))
            listed = c.get("/api/scans", params={"limit": 200}).json()
        elapsed = time.monotonic() - t0
        stop.set()
        sampler.join()

    done = sum(st["status"] == "done" for st in statuses)
    print(f"\nload: 20 uploads at once, workers 2, queue 8: {len(ids)} accepted, {len(refused)} answered 429 "
          f"(then sent again); jobs done {done} of 20, lost {20 - len(statuses)}; "
          f"peak RSS {peak[0] / 1024:.0f} MB (server + workers); {elapsed:.1f} s")
    assert done == 20 and listed["total"] == 20
    assert {st["name"] for st in statuses} == {p.name for p in inputs}
    assert not list((tmp_path / "data" / "uploads").iterdir())
    assert 0 < peak[0] < 4 * 2**20  # KB: a bound on memory, far above what two workers need
