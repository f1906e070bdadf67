"""Nothing lost on a crash: kill -9 the server with one scan finished, one running and one
queued; started again on the same data folder, all three are there and the two unfinished
ones complete."""

from __future__ import annotations

import time

import pytest
from tests.helpers.paths import SAMPLE, shared
from tests.helpers.serve_server import Server, alive, upload, wait_done


@pytest.mark.slow
def test_kill_9_keeps_finished_results_and_reruns_queued_and_running_jobs(tmp_path):
    clip = shared("videos", "dfdc", "abofeumbvv.mp4")
    track = shared("videos", "dfdc_face_tracks", "fake_aaqaifqrwn.mp4_0_0.mp4")
    data = tmp_path / "data"
    first = Server(data, "--workers", "1").start()
    try:
        with first.client() as c:
            finished = upload(c, SAMPLE).json()["id"]
            before = wait_done(c, finished)
            assert before["status"] == "done"
            # every frame of a 10 s 1080p clip: long enough to be caught running
            running = upload(c, clip, every_frame="true").json()["id"]
            queued = upload(c, track).json()["id"]
            end = time.monotonic() + 60
            while c.get(f"/api/scans/{running}").json()["progress"]["frames_done"] == 0:
                assert time.monotonic() < end, "the long scan never started"
                time.sleep(0.1)
            assert c.get(f"/api/scans/{running}").json()["status"] == "running"
            assert c.get(f"/api/scans/{queued}").json()["status"] == "queued"
        workers = first.children()
        assert workers
        first.kill9()
    finally:
        first.stop()
    # the workers die with the server (no orphan keeps scanning)
    end = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < end:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
    uploads = sorted(p.name for p in (data / "uploads").iterdir())
    assert uploads == sorted([f"{running}.media", f"{queued}.media"])  # kept for the rerun

    with Server(data, "--workers", "1") as second, second.client() as c:
        after = c.get(f"/api/scans/{finished}").json()
        assert after == before
        for job in (queued, running):
            status = wait_done(c, job, timeout=300)
            assert status["status"] == "done", status
            assert status["result"]["media"]["frames_scored"] > 0
        assert c.get(f"/api/scans/{running}").json()["result"]["media"]["frames_scored"] >= 250  # every frame
        assert list((data / "uploads").iterdir()) == []
        assert c.get("/api/scans").json()["total"] == 3
