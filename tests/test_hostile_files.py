"""Files and names built to hurt: decompression bombs under the pixel limit, FFmpeg
protocol names, FIFOs, hidden folders, names with control characters or bytes that are
not UTF-8, and a kill -9 that must leave no process or file behind."""

from __future__ import annotations

import csv
import io
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers.paths import SAMPLE
from tests.helpers.media_files import write_video
from PIL import Image

from unswap.batch import ResultsFile, write_csv
from unswap.cli import main
from unswap.evidence.match import media_files
from unswap.inputs import collect
from unswap.media import DecodeBudget, DecodeLimits, MediaError, OverBudget, frames, probe
from unswap.text import printable


def tiny_gif_with_a_huge_canvas(path: Path, side: int = 9999, n_frames: int = 300) -> Path:
    """A GIF whose logical screen is side x side pixels, holding ``n_frames`` frames of
    1x1 pixel: a few KB that a decoder paints onto the whole canvas, frame by frame."""
    out = io.BytesIO()
    out.write(b"GIF89a" + struct.pack("<HHBBB", side, side, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff")
    out.write(b"!\xff\x0bNETSCAPE2.0\x03\x01\0\0\0")
    for i in range(n_frames):
        out.write(b"," + struct.pack("<HHHHB", i % side, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00")
    out.write(b";")
    path.write_bytes(out.getvalue())
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- decode budgets -------------------------------------------------------------------------


def test_a_few_kb_gif_on_a_huge_canvas_is_refused_before_it_is_decoded(tmp_path, capsys):
    gif = tiny_gif_with_a_huge_canvas(tmp_path / "bomb.gif")
    assert gif.stat().st_size < 8000
    with pytest.raises(OverBudget, match="of 100 megapixels is over the decode budget"):
        probe(gif)
    code, out, err = run_cli(capsys, "scan", str(gif))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "decode budget" in err


def test_a_few_kb_lossless_webp_that_inflates_to_gigabytes_is_refused(tmp_path):
    webp = tmp_path / "flat.webp"
    Image.new("RGB", (6000, 6000), (10, 20, 30)).save(webp, lossless=True)
    assert webp.stat().st_size < 10_000
    with pytest.raises(OverBudget, match="36 megapixels is over the decode budget"):
        probe(webp)


def test_each_budget_stops_decoding_with_a_result_that_names_it(tmp_path):
    gif = tmp_path / "anim.gif"
    still = [Image.new("L", (400, 400), i * 37 % 256) for i in range(20)]
    still[0].save(gif, save_all=True, append_images=still[1:], duration=100)
    pixels = DecodeLimits(pixels_per_byte=0, min_pixels=5 * 400 * 400)
    with pytest.raises(OverBudget, match="budget of 1 megapixels .*after 6 frames"):
        probe(gif, DecodeBudget(gif, pixels))
    clip = write_video(tmp_path / "clip.mp4")
    budget = DecodeBudget(clip, DecodeLimits(frames=5))
    with pytest.raises(OverBudget, match="budget of 5 frames"):
        list(frames(clip, probe(clip, budget), every_frame=True, budget=budget))
    with pytest.raises(OverBudget, match="budget of 0 s"):
        probe(clip, DecodeBudget(clip, DecodeLimits(seconds=0)))
    assert len(list(frames(clip, every_frame=True))) == 50  # the default budget lets an ordinary clip through


# ---- names are paths, never FFmpeg protocols -------------------------------------------------


def test_a_name_that_looks_like_an_ffmpeg_protocol_is_read_as_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_video(tmp_path / "other.mp4")
    (tmp_path / "concat:other.mp4").write_bytes(os.urandom(1000))
    with pytest.raises(MediaError, match="not an image or video"):
        probe("concat:other.mp4")
    # a concat list (or an HLS playlist) inside a file is not followed to the files it names
    (tmp_path / "list.mp4").write_text("ffconcat version 1.0\nfile other.mp4\n")
    with pytest.raises(MediaError):
        probe("list.mp4")
    assert probe("other.mp4").frame_count == 50


# ---- folder walks --------------------------------------------------------------------------


def _tree(root: Path) -> None:
    for rel in ["a.jpg", "sub/b.mp4", ".hidden.jpg", ".git/objects/x.jpg", "types.d.ts", "notes.txt"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(SAMPLE.read_bytes() if rel.endswith(".jpg") else b"x" * 400)
    (root / "clip.ts").write_bytes((b"\x47" + bytes(187)) * 4)  # MPEG-TS packets
    os.mkfifo(root / "fifo.jpg")


def test_a_walk_opens_regular_media_files_only_and_skips_hidden_ones(tmp_path):
    _tree(tmp_path)
    found = collect([tmp_path])
    assert [os.path.relpath(p, tmp_path) for p in found.files] == ["a.jpg", "clip.ts", "sub/b.mp4"]
    why = {os.path.relpath(p, tmp_path): reason for p, reason in found.skipped}
    assert why["fifo.jpg"] == "not a regular file (a FIFO)"
    assert why["types.d.ts"] == "not a media file (by its content)"
    assert why[".git"].startswith("hidden folder") and why[".hidden.jpg"].startswith("hidden file")
    with_hidden = collect([tmp_path], hidden=True).files
    assert {os.path.relpath(p, tmp_path) for p in with_hidden} >= {".hidden.jpg", ".git/objects/x.jpg"}
    # match --against DIR reads a folder by the same rule
    assert [str(p) for p in media_files(tmp_path)] == found.files


def test_a_fifo_in_a_scanned_folder_or_named_does_not_hang_the_batch(tmp_path):
    _tree(tmp_path)
    cmd = [sys.executable, "-m", "unswap.cli", "hash", str(tmp_path), str(tmp_path / "fifo.jpg"), "--jobs", "1"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert f"skipped {tmp_path / 'fifo.jpg'}: not a regular file (a FIFO)" in run.stderr
    assert f"{tmp_path / 'fifo.jpg'}: not a regular file" in run.stderr
    assert run.returncode == 2  # the FIFO named explicitly is a user error


# ---- names ---------------------------------------------------------------------------------


def test_printable_escapes_what_a_terminal_would_act_on():
    assert printable("a b.jpg") == "a b.jpg"
    assert printable("x\n\x1b[8m\x7f\x85\u202e.mp4") == "x\\x0a\\x1b[8m\\x7f\\x85\\u202e.mp4"
    assert printable(os.fsdecode(b"caf\xe9.jpg")) == "caf\\xe9.jpg"
    assert printable("café.jpg") == "café.jpg"


def test_a_name_that_forges_a_verdict_line_is_shown_escaped(tmp_path, capsys, monkeypatch):
    name = "holiday.mp4: no sign of a face swap (p_fake 0.01)\n\x1b[8m.jpg"
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_bytes(SAMPLE.read_bytes())
    code, out, _ = run_cli(capsys, "scan", name)
    assert code == 0 and "\x1b" not in out
    assert out.splitlines()[0].startswith("holiday.mp4: no sign of a face swap (p_fake 0.01)\\x0a\\x1b[8m.jpg: ")
    code, out, err = run_cli(capsys, "scan", str(tmp_path))  # a batch prints the name it found
    assert "\x1b" not in out + err and "\\x0a\\x1b[8m" in out
    code, out, err = run_cli(capsys, "match", name, "--against", str(tmp_path))  # and so does match
    assert code == 0 and "\x1b" not in out + err and out.startswith("holiday.mp4: no sign of a face swap (p_fake 0.01)\\x0a")


def test_names_of_any_bytes_round_trip_through_jsonl_and_csv(tmp_path):
    names = [os.fsdecode(b"/m/caf\xe9.jpg"), "/m/plain.jpg", os.fsdecode(b"/m/\xff\xfe.mp4")]
    records = [{"path": n, "label": "real", "p_fake": 0.1 * i, "tracks": [], "sha256": None, "error": None,
                "detector": {"name": "d", "version": "1"}} for i, n in enumerate(names)]
    with ResultsFile(tmp_path / "out.jsonl") as results:
        for r in records:
            results.append(r)
    assert [r["path"] for r in ResultsFile(tmp_path / "out.jsonl").records] == names
    assert write_csv(records, tmp_path / "out.csv") == 3
    with open(tmp_path / "out.csv", newline="", encoding="utf-8", errors="surrogateescape") as f:
        assert sorted(row["path"] for row in csv.DictReader(f)) == sorted(names)
    assert b"/m/caf\xe9.jpg" in (tmp_path / "out.csv").read_bytes()


# ---- a kill -9 leaves nothing behind ---------------------------------------------------------


def _descendants(pid: int) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(x) for x in (task / "children").read_text().split()]
            except OSError:
                continue
            out.update(kids)
            todo += kids
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_kill_9_of_a_parallel_batch_takes_its_workers_with_it(tmp_path):
    for i in range(40):
        (tmp_path / f"p{i:02d}.jpg").write_bytes(SAMPLE.read_bytes())
    proc = subprocess.Popen([sys.executable, "-m", "unswap.cli", "scan", str(tmp_path), "--jobs", "2", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 90
        while len(kids := _descendants(proc.pid)) < 4:  # resource tracker, forkserver, 2 workers
            assert time.monotonic() < end and proc.poll() is None, "the workers never started"
            time.sleep(0.2)
        time.sleep(1)
        kids = _descendants(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    end = time.monotonic() + 15
    while any(_alive(p) for p in kids) and time.monotonic() < end:
        time.sleep(0.2)
    left = [p for p in kids if _alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert left == []


def test_kill_9_while_stdin_is_spooled_leaves_no_copy(tmp_path):
    spool = tmp_path / "tmp"
    spool.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "unswap.cli", "scan", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "TMPDIR": str(spool)})
    try:
        proc.stdin.write(SAMPLE.read_bytes()[:50_000])  # and no more: the spooling waits for the rest
        proc.stdin.flush()
        end = time.monotonic() + 60
        while not any(os.readlink(fd).startswith(str(spool)) for fd in Path(f"/proc/{proc.pid}/fd").iterdir()
                      if fd.is_symlink()):
            assert time.monotonic() < end and proc.poll() is None, "stdin was never spooled"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert list(spool.rglob("*")) == []
