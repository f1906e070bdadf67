"""Batch scanning: folders and lists, --out / --resume / --csv, worker processes and Ray."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers.paths import REPO, SAMPLE, shared
from tests.helpers.media_files import not_media, write_video

from unswap.batch import ResultsError, ResultsFile, hash_many, scan_many
from unswap.cli import main
from unswap.inputs import collect
from unswap.scan import ScanConfig

CFG = ScanConfig()


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def assert_same_scan(a, b, tol: float = 1e-6) -> None:
    """Two ScanResults of one file agree: label, p_fake to ``tol``, and every track and frame."""
    assert a.path == b.path and a.label == b.label and a.frames_scored == b.frames_scored
    assert (a.p_fake is None) == (b.p_fake is None)
    if a.p_fake is not None:
        assert abs(a.p_fake - b.p_fake) <= tol, a.path
    assert [(t.track_id, t.label, len(t.observations)) for t in a.tracks] == \
        [(t.track_id, t.label, len(t.observations)) for t in b.tracks], a.path
    for ta, tb in zip(a.tracks, b.tracks):
        assert (ta.p_fake is None) == (tb.p_fake is None)  # a too-small track is not scored
        if ta.p_fake is not None:
            assert abs(ta.p_fake - tb.p_fake) <= tol
        for oa, ob in zip(ta.observations, tb.observations):
            assert oa.frame_index == ob.frame_index and (oa.p_fake is None) == (ob.p_fake is None)
            if oa.p_fake is not None:
                assert abs(oa.p_fake - ob.p_fake) <= tol
            assert abs(oa.box - ob.box).max() < 1e-3


def assert_record_matches(record: dict, result, tol: float = 5e-5 + 1e-6) -> None:
    """A JSON record (p_fake printed to 4 places) shows the same scan as ``result``."""
    assert record["path"] == result.path and record["label"] == result.label and record["error"] is None
    if result.p_fake is None:
        assert record["p_fake"] is None
    else:
        assert abs(record["p_fake"] - result.p_fake) <= tol
    assert [(t["track_id"], t["label"], [f["frame_index"] for f in t["frames"]]) for t in record["tracks"]] == \
        [(t.track_id, t.label, [o.frame_index for o in t.observations]) for t in result.tracks]
    for t, tr in zip(record["tracks"], result.tracks):
        assert (t["p_fake"] is None) == (tr.p_fake is None)  # a too-small track is not scored
        if tr.p_fake is not None:
            assert abs(t["p_fake"] - tr.p_fake) <= tol


@pytest.fixture(scope="session")
def videos() -> Path:
    return shared("videos")


@pytest.fixture(scope="session")
def clips(videos) -> list[str]:
    files = collect([videos]).files
    assert len(files) == 26
    return files


@pytest.fixture(scope="session")
def local(clips) -> dict:
    """The 26 shared clips scanned in this process, one after another: what every other way must give."""
    return {o.path: o for o in scan_many(clips, CFG, jobs=1)}


# ---- which files ----------------------------------------------------------------------------


def test_collect_walks_folders_in_sorted_order_and_skips_what_is_not_media(tmp_path):
    for rel in ["b/2.mp4", "b/1.JPG", "a.png", "c/d/e.webm", "notes.txt", "b/Thumbs.db"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    inputs = collect([tmp_path / "b/2.mp4", tmp_path])
    rel = [os.path.relpath(p, tmp_path) for p in inputs.files]
    assert rel == ["b/2.mp4", "a.png", "b/1.JPG", "c/d/e.webm"]  # given first; a file given twice once
    assert sorted(os.path.relpath(p, tmp_path) for p, _ in inputs.skipped) == ["b/Thumbs.db", "notes.txt"]
    assert inputs.explicit == {str(tmp_path / "b/2.mp4")}


def test_links_out_of_the_tree_are_followed_only_when_asked(tmp_path):
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    (tree / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "o.jpg").write_bytes(b"x")
    (tree / "sub" / "in.jpg").write_bytes(b"x")
    (tree / "out_dir").symlink_to(outside)
    (tree / "out_file.jpg").symlink_to(outside / "o.jpg")
    (tree / "in_file.jpg").symlink_to(tree / "sub" / "in.jpg")
    (tree / "sub" / "loop").symlink_to(tree)
    plain = collect([tree])
    assert [os.path.relpath(p, tree) for p in plain.files] == ["in_file.jpg", "sub/in.jpg"]
    reasons = {os.path.relpath(p, tree): why for p, why in plain.skipped}
    assert set(reasons) == {"out_dir", "out_file.jpg", "sub/loop"}
    assert "outside the tree" in reasons["out_dir"] and "--follow-links" in reasons["out_dir"]
    followed = collect([tree], follow_links=True)
    assert [os.path.relpath(p, tree) for p in followed.files] == [
        "in_file.jpg", "out_dir/o.jpg", "out_file.jpg", "sub/in.jpg"]  # the loop is walked once
    assert [os.path.relpath(p, tree) for p, _ in followed.skipped] == ["sub/loop"]


# ---- the results file -----------------------------------------------------------------------


def test_results_file_cuts_a_torn_last_line_and_refuses_a_damaged_one(tmp_path):
    path = tmp_path / "r.jsonl"
    whole = [{"path": "a.jpg", "sha256": "0" * 64, "detector": {"name": "d", "version": "v1"}},
             {"path": "b.jpg", "sha256": "1" * 64, "detector": {"name": "d", "version": "v1"}}]
    path.write_text("".join(json.dumps(r) + "\n" for r in whole) + '{"path": "c.jpg", "sha2')
    with ResultsFile(path) as results:
        assert results.done() == {("a.jpg", "0" * 64, "d.v1"), ("b.jpg", "1" * 64, "d.v1")}
        results.append({"path": "c.jpg", "sha256": "2" * 64, "detector": {"name": "d", "version": "v1"}})
        # flushed: another reader sees the whole line while the file is still open
        assert [r["path"] for r in read_jsonl(path)] == ["a.jpg", "b.jpg", "c.jpg"]
    path.write_text(json.dumps(whole[0]) + "\nnot json\n" + json.dumps(whole[1]) + "\n")
    with pytest.raises(ResultsError, match="line 2"):
        ResultsFile(path)


# ---- the command line on the shared clips ---------------------------------------------------


@pytest.mark.slow
def test_folder_scan_writes_a_line_per_clip_and_a_csv_sorted_by_p_fake(tmp_path, capsys, videos, local):
    out, table = tmp_path / "r.jsonl", tmp_path / "s.csv"
    code, stdout, err = run(capsys, "scan", videos, "--out", out, "--csv", table, "--quiet")
    assert code == 0 and "Traceback" not in err
    assert f"unswap: skipped {videos / 'labels.csv'}: not a media file" in err
    assert "26 file(s) in" in err.splitlines()[-1] and "0 error(s); 1 skipped" in err.splitlines()[-1]
    records = read_jsonl(out)
    assert sorted(r["path"] for r in records) == sorted(local)
    for r in records:
        assert r["sha256"] == sha256(r["path"]) and r["size"] == os.path.getsize(r["path"])
        assert_record_matches(r, local[r["path"]].result)
    rows = list(csv.DictReader(table.open()))
    assert len(rows) == 26 and sorted(row["path"] for row in rows) == sorted(local)
    p = [float(row["p_fake"]) for row in rows if row["p_fake"]]
    assert p == sorted(p, reverse=True) and len(p) == sum(r["p_fake"] is not None for r in records)
    by_path = {r["path"]: r for r in records}
    for row in rows:
        r = by_path[row["path"]]
        assert row["label"] == r["label"] and int(row["faces"]) == len(r["tracks"])
        assert float(row["duration_s"]) == r["media"]["duration_s"]
        scored = [t for t in r["tracks"] if t["p_fake"] is not None]
        if scored:
            worst = max(scored, key=lambda t: t["p_fake"])
            assert float(row["track_start_s"]) <= float(row["track_end_s"])
            assert float(row["p_fake"]) <= worst["p_fake"]


@pytest.mark.slow
def test_two_worker_processes_give_the_same_results_as_one(clips, local):
    parallel = {o.path: o for o in scan_many(clips, CFG, jobs=2)}
    assert sorted(parallel) == sorted(local)
    for path, o in parallel.items():
        assert o.error is None and o.sha256 == local[path].sha256 and o.size == local[path].size
        assert_same_scan(o.result, local[path].result)


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _pool_workers() -> list[int]:
    """The worker processes of this process's forkserver (Linux /proc)."""
    servers = [c for c in _children(os.getpid()) if b"forkserver" in Path(f"/proc/{c}/cmdline").read_bytes()]
    return [w for s in servers for w in _children(s)]


@pytest.mark.slow
@pytest.mark.parametrize("kills", [1, 2])
def test_a_worker_that_dies_costs_no_file_but_one_that_is_in_flight_twice(kills):
    if not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists():
        pytest.skip("needs /proc/PID/task/PID/children to find the workers")
    files = collect([shared("videos", "dfdc_face_tracks")]).files[:6]
    outcomes = []
    for o in scan_many(files, CFG, jobs=2):
        outcomes.append(o)
        if len(outcomes) <= kills:
            for pid in _pool_workers():
                os.kill(pid, signal.SIGKILL)
    assert sorted(o.path for o in outcomes) == sorted(files)  # each file once
    died = [o for o in outcomes if o.error]
    if kills == 1:
        assert not died  # the files in flight were scanned again in a new pool
    # a file in flight at two deaths is not tried a third time: it gets this line
    assert all(o.error == "the worker process scanning it died" and o.sha256 for o in died)


@pytest.mark.slow
def test_killed_run_resumes_without_scanning_a_file_twice(tmp_path, capsys):
    tracks = shared("videos", "dfdc_face_tracks")
    out = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "unswap.cli", "scan", str(tracks), "--out", str(out), "--jobs", "2", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while (not out.exists() or out.read_bytes().count(b"\n") < 3) and time.monotonic() < deadline:
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers, mid-run
        proc.wait()
    before = read_jsonl(out)
    assert 3 <= len(before) < 20
    # and a write cut off mid-line, as a kill during a write leaves it
    with out.open("ab") as f:
        f.write(b'{"schema": 1, "path": "' + str(tracks).encode() + b'/torn')
    code, _, err = run(capsys, "scan", tracks, "--out", out, "--resume", "--jobs", "1", "--quiet")
    assert code == 0
    after = read_jsonl(out)  # every line parses: the torn one is gone
    assert after[: len(before)] == before
    paths = [r["path"] for r in after]
    assert sorted(paths) == sorted(collect([tracks]).files)  # every file exactly once
    assert f"{len(before)} already in the results file" in err.splitlines()[-1]
    assert f"{20 - len(before)} file(s) in" in err.splitlines()[-1]
    code, _, err = run(capsys, "scan", tracks, "--out", out, "--resume", "--quiet")
    assert code == 0 and len(read_jsonl(out)) == 20 and "0 file(s) in" in err.splitlines()[-1]


def test_changed_bytes_or_another_detector_are_scanned_again_on_resume(tmp_path, capsys, second_detector):
    folder = tmp_path / "in"
    folder.mkdir()
    clip = write_video(folder / "clip.mp4")
    out = tmp_path / "r.jsonl"
    assert run(capsys, "scan", folder, "--out", out, "--jobs", "1")[0] == 0
    assert run(capsys, "scan", folder, "--out", out, "--resume", "--jobs", "1")[0] == 0
    assert len(read_jsonl(out)) == 1
    write_video(clip, hflip=True)  # same path, other bytes
    assert run(capsys, "scan", folder, "--out", out, "--resume", "--jobs", "1")[0] == 0
    assert run(capsys, "scan", folder, "--out", out, "--resume", "--jobs", "1", "--detector",
               second_detector)[0] == 0
    records = read_jsonl(out)
    assert len({r["sha256"] for r in records}) == 2 and len(records) == 3
    name, version = second_detector.split(".")
    assert records[-1]["detector"] == {"name": name, "version": version}


def test_a_folder_of_broken_files_gives_error_and_skip_lines_and_exit_0(tmp_path, capsys):
    folder, outside = tmp_path / "in", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (folder / "readme.txt").write_text("not media\n")
    not_media(folder, "empty")  # empty.jpg
    not_media(folder, "text")  # x.mp4, text inside
    video = write_video(tmp_path / "clip.mp4")
    (folder / "truncated.mp4").write_bytes(video.read_bytes()[: video.stat().st_size // 3])
    write_video(outside / "elsewhere.mp4")
    (folder / "link").symlink_to(outside)
    out, table = tmp_path / "r.jsonl", tmp_path / "s.csv"
    code, stdout, err = run(capsys, "scan", folder, "--out", out, "--csv", table, "--jobs", "1")
    assert code == 0 and "Traceback" not in err
    assert f"unswap: skipped {folder / 'readme.txt'}: not a media file" in err
    assert f"unswap: skipped {folder / 'link'}: symbolic link to a folder outside the tree" in err
    assert f"unswap: {folder / 'empty.jpg'}: file is empty" in err
    assert f"unswap: {folder / 'x.mp4'}: " in err
    records = {os.path.basename(r["path"]): r for r in read_jsonl(out)}
    assert set(records) == {"empty.jpg", "truncated.mp4", "x.mp4"}
    assert records["empty.jpg"]["error"] == "file is empty" and records["empty.jpg"]["size"] == 0
    assert records["x.mp4"]["error"] and records["x.mp4"]["label"] is None
    assert records["x.mp4"]["sha256"] == sha256(folder / "x.mp4")
    truncated = records["truncated.mp4"]  # cut to a third: its first frames still decode, and are scanned
    assert truncated["error"] is None and truncated["label"] == "no-face"
    assert 0 < truncated["media"]["frames_scored"] < 4
    rows = {os.path.basename(r["path"]): r for r in csv.DictReader(table.open())}
    assert rows["empty.jpg"]["error"] == "file is empty" and rows["empty.jpg"]["p_fake"] == ""
    assert "2 skipped" in err.splitlines()[-1]
    code, stdout, _ = run(capsys, "scan", folder, "--follow-links", "--jobs", "1", "--json")
    assert code == 0
    assert str(folder / "link" / "elsewhere.mp4") in [json.loads(line)["path"] for line in stdout.splitlines()]


def test_a_file_named_explicitly_that_fails_still_exits_2_in_a_batch(tmp_path, capsys):
    missing = tmp_path / "missing.mp4"
    code, out, err = run(capsys, "scan", missing, SAMPLE, "--jobs", "1", "--json")
    assert code == 2 and f"unswap: {missing}: no such file" in err
    assert [json.loads(line)["path"] for line in out.splitlines()] == [str(SAMPLE)]


def test_from_list_reads_paths_from_a_file_or_stdin(tmp_path, capsys, monkeypatch):
    listing = tmp_path / "list.txt"
    listing.write_text(f"{SAMPLE}\n\n{SAMPLE}\n")
    code, out, _ = run(capsys, "scan", "--from-list", listing, "--jobs", "1", "--json")
    assert code == 0 and len(out.splitlines()) == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{SAMPLE}\n"))
    code, out, _ = run(capsys, "hash", "--from-list", "-", "--jobs", "1")
    assert code == 0 and f"path={SAMPLE}" in out


def test_ray_right_before_a_folder_takes_the_folder_as_a_path_not_an_address(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # stops at the import, after the arguments are read
    code, _, err = run(capsys, "scan", "--ray", SAMPLE.parent)
    assert code == 2 and "pip install 'unswap[ray]'" in err  # not "no PATH given"


@pytest.mark.parametrize("argv, message", [
    (["scan", str(SAMPLE), "--resume"], "--resume needs --out"),
    (["scan", str(SAMPLE), "--jobs", "0"], "--jobs must be at least 1"),
    (["scan", "--from-list", "/nonexistent/list.txt"], "cannot read the list"),
    (["scan", "--jobs", "2"], "no PATH given"),
    (["hash"], "no PATH given"),
    (["scan", str(REPO / "unswap" / "samples"), "--report", "r.html"], "--report takes exactly one file"),
])
def test_batch_usage_errors_are_one_line_and_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_ray_missing_says_what_to_install(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    code, _, err = run(capsys, "scan", SAMPLE, "--ray")
    assert code == 2 and "pip install 'unswap[ray]'" in err and "Traceback" not in err


@pytest.mark.slow
def test_hash_a_folder_with_two_workers_gives_the_hashes_of_one(capsys):
    tracks = shared("videos", "dfdc_face_tracks")
    one = {h.result.path: h.result for h in hash_many(collect([tracks]).files, 1.0, jobs=1)}
    code, out, err = run(capsys, "hash", tracks, "--jobs", "2", "--json", "--quiet")
    assert code == 0 and "20 file(s) in" in err
    from unswap.evidence.hashing import read_hashes

    two = {h.path: h for h in read_hashes(io.StringIO(out))}
    assert sorted(two) == sorted(one)
    assert all(two[p].same_frames(one[p]) and two[p].sha256 == one[p].sha256 for p in one)


# ---- Ray --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install -e '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_scans_the_shared_clips_as_they_are_scanned_locally(ray_cluster, tmp_path, capsys, videos, local):
    out, table = tmp_path / "r.jsonl", tmp_path / "s.csv"
    code, _, err = run(capsys, "scan", videos, "--ray", "--out", out, "--csv", table, "--quiet")
    assert code == 0 and "26 file(s) in" in err.splitlines()[-1]
    records = read_jsonl(out)
    assert sorted(r["path"] for r in records) == sorted(local)
    for r in records:
        assert r["sha256"] == local[r["path"]].sha256 and r["size"] == local[r["path"]].size
        assert_record_matches(r, local[r["path"]].result)
    assert len(list(csv.DictReader(table.open()))) == 26


@pytest.mark.slow
def test_a_ray_actor_scans_the_bytes_it_is_sent_not_a_path_of_its_own(ray_cluster):
    from unswap.batch import ScanTask, _Actor

    data = SAMPLE.read_bytes()
    actor = ray_cluster.remote(_Actor).remote(ScanTask(CFG))
    ref = actor.handle.remote("/nowhere/on/this/machine/astronaut.jpg", ray_cluster.put(data),
                              hashlib.sha256(data).hexdigest(), len(data))
    outcome = ray_cluster.get(ref)
    here = next(scan_many([str(SAMPLE)], CFG, jobs=1)).result
    assert outcome.error is None and outcome.path == "/nowhere/on/this/machine/astronaut.jpg"
    assert outcome.result.path == outcome.path and outcome.result.label == here.label
    assert abs(outcome.result.p_fake - here.p_fake) < 1e-6


@pytest.mark.slow
def test_ray_gives_each_file_the_results_of_a_local_scan_to_1e6(ray_cluster, local):
    tracks = [p for p in local if "dfdc_face_tracks" in p][:6]
    # three actors on two CPUs: each gets a share of a CPU, none waits for one forever
    on_ray = {o.path: o for o in scan_many(tracks, CFG, ray="", jobs=3)}
    assert sorted(on_ray) == sorted(tracks)
    for path, o in on_ray.items():
        assert_same_scan(o.result, local[path].result)
    hashed = {o.path: o.result for o in hash_many(tracks, 1.0, ray="", jobs=2)}
    here = {o.path: o.result for o in hash_many(tracks, 1.0, jobs=1)}
    assert all(hashed[p].same_frames(here[p]) for p in tracks)
