"""The command-line contract: exit codes, one-line errors, JSON Lines, eval on any face set."""

from __future__ import annotations

import csv
import io
import json
import tarfile
from pathlib import Path

import pytest
from tests.helpers.paths import SAMPLE, shared
from tests.helpers.media_files import not_media, png_claiming, write_video
from PIL import Image

from unswap.cli import main
from unswap.detectors import DEFAULT_DETECTOR
from unswap.vocabulary import WORDS

TRACK_KEYS = {"track_id", "p_fake", "start_s", "end_s", "frames"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _bad_inputs(tmp: Path) -> dict[str, Path]:
    video = write_video(tmp / "clip.mp4")
    truncated = tmp / "truncated.mp4"
    truncated.write_bytes(video.read_bytes()[: video.stat().st_size // 3])
    cut_index = write_video(tmp / "moov_at_end.mp4", faststart=False)
    no_index = tmp / "no_index.mp4"
    no_index.write_bytes(cut_index.read_bytes()[: cut_index.stat().st_size // 2])
    return {
        "missing": not_media(tmp, "missing"),
        "empty": not_media(tmp, "empty"),
        "text named .mp4": not_media(tmp, "text"),
        "truncated without index": no_index,
        "30000x30000 header": png_claiming(tmp / "bomb.png", 30000, 30000),
    }


@pytest.mark.parametrize("case", ["missing", "empty", "text named .mp4",
                                  "truncated without index", "30000x30000 header"])
def test_bad_input_is_one_line_naming_the_file_and_others_still_scan(tmp_path, capsys, case):
    bad = _bad_inputs(tmp_path)[case]
    code, out, err = run(capsys, "scan", "--json", str(bad), str(SAMPLE))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"unswap: {bad}: ")
    assert "Traceback" not in err
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["path"] == str(SAMPLE)


def test_truncated_video_scans_the_frames_that_decode(tmp_path, capsys):
    video = write_video(tmp_path / "clip.mp4")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    code, out, _ = run(capsys, "scan", "--json", "--every-frame", str(cut))
    assert code == 0
    record = json.loads(out)
    assert 0 < record["media"]["frames_scored"] < 50
    assert record["label"] == "no-face" and record["p_fake"] is None


def test_video_without_a_face_says_so(tmp_path, capsys):
    video = write_video(tmp_path / "grey.mp4")
    code, out, _ = run(capsys, "scan", str(video))
    assert code == 0
    assert f": {WORDS['no-face'].headline}\n" in out
    code, out, _ = run(capsys, "scan", "--json", str(video))
    record = json.loads(out)
    assert (record["label"], record["p_fake"], record["tracks"]) == ("no-face", None, [])
    assert record["media"]["frames_scored"] == 4  # 2 s at the default 2 fps


def test_animated_image_is_scanned_frame_by_frame(tmp_path, capsys):
    # A face, then none, then the face again: each shown for half a second.
    face = Image.open(SAMPLE).convert("RGB")
    path = tmp_path / "anim.gif"
    face.save(path, save_all=True, append_images=[Image.new("RGB", face.size, (0, 0, 0)), face], duration=500)
    code, out, _ = run(capsys, "scan", "--json", str(path))
    record = json.loads(out)
    assert code == 0
    assert (record["media"]["kind"], record["media"]["duration_s"], record["media"]["frames_scored"]) == (
        "video", 1.5, 3)
    seen = sorted(f["t"] for track in record["tracks"] for f in track["frames"])
    assert seen == [0.0, 1.0]


def test_json_contract_on_the_bundled_sample(capsys):
    code, out, err = run(capsys, "scan", "--json", str(SAMPLE))
    assert code == 0 and err == ""
    r = json.loads(out)
    assert r["path"] == str(SAMPLE)
    assert r["label"] in ("fake", "real", "uncertain")
    assert 0.0 <= r["p_fake"] <= 1.0
    assert r["media"] == {"kind": "image", "width": 512, "height": 512, "fps": None, "duration_s": None,
                          "frames_scored": 1}
    assert f"{r['detector']['name']}.{r['detector']['version']}" == DEFAULT_DETECTOR
    [track] = r["tracks"]
    assert TRACK_KEYS <= set(track)
    [f] = track["frames"]
    x0, y0, x1, y1 = f["box"]
    assert 150 < x0 < x1 < 300 and 40 < y0 < y1 < 200  # the astronaut's face
    assert f["frame_index"] == 0 and f["t"] == 0.0 and f["p_fake"] == track["p_fake"]


def test_human_output_is_plain_language(capsys):
    code, out, _ = run(capsys, "scan", str(SAMPLE))
    assert code == 0
    assert out.startswith(f"{SAMPLE}: ") and "face 0:" in out and "{" not in out


def test_usage_errors_exit_2(capsys):
    assert run(capsys, "scan")[0] == 2
    assert run(capsys, "scan", "--sample-fps", "0", str(SAMPLE))[0] == 2
    code, _, err = run(capsys, "scan", "--detector", "nope.v0", str(SAMPLE))
    assert code == 2 and err.startswith("unswap: detector must be one of: ")


def test_detectors_says_what_each_is_and_which_is_the_default(capsys):
    from unswap.detectors import list_detectors

    code, out, _ = run(capsys, "detectors")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines() if not line.startswith(" ")]
    assert names == list_detectors()
    default = out.split(DEFAULT_DETECTOR + "  (default", 1)[1].split("\n")
    # under each name, at least its threshold and whether its error rates were measured
    assert default[1].startswith("  ") and any("Calls a face fake from p_fake" in line for line in default[1:4])
    assert out.count("Calls a face fake from p_fake") == len(names)


def test_bare_unswap_prints_usage_and_the_commands(capsys):
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    assert err.startswith("usage: unswap") and all(f"    {c} " in err or f"    {c}\n" in err
                                                   for c in ("scan", "eval", "detectors", "hash", "serve"))


def _options(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from ((f"{name} {a}", h, d) for a, h, d in _options(sub))
        elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield "/".join(action.option_strings) or action.dest, action.help, action.default


def test_every_option_has_help_and_says_its_default():
    from unswap.cli import _parser

    for name, help_, default in _options(_parser()):
        assert help_, f"{name} has no help"
        if default not in (None, False, "", [], "none") and "--" in name:
            assert "default" in help_, f"{name}'s help does not say its default ({default!r})"


def test_a_closed_stdout_ends_quietly_and_the_csv_keeps_every_row(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        shutil.copy(SAMPLE, folder / f"p{i}.jpg")
    table = tmp_path / "all.csv"
    for extra in ([], ["--csv", str(table)]):
        # `unswap scan DIR | head -1`: the reader takes one line and goes
        proc = subprocess.Popen([sys.executable, "-m", "unswap.cli", "scan", str(folder), "--jobs", "1", *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ)
        proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(120) in (0, 141, -13), err
        assert "--ray" not in err and "Broken pipe" not in err and "Traceback" not in err
    with open(table, newline="") as f:
        assert sorted(r["path"] for r in csv.DictReader(f)) == sorted(str(p) for p in folder.iterdir())


def _face_set(root: Path, samples: list[tuple[str, str, bytes]], split: str = "mini") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(root / f"{split}-000.tar", "w") as tar:
        for key, label, jpeg in samples:
            for name, data in ((f"{key}.jpg", jpeg), (f"{key}.json", json.dumps({"key": key, "label": label}).encode())):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    with open(root / f"{split}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label", "group", "shard"])
        for key, label, _ in samples:
            w.writerow([key, label, key, f"{split}-000.tar"])
    return root


def test_eval_scores_any_folder_in_the_face_set_layout(tmp_path, capsys):
    from unswap.facesets import iter_split

    picked = []
    for s in iter_split(shared("faces"), "val"):
        if sum(p[1] == s.label for p in picked) < 4:
            picked.append((s.key, s.label, s.jpeg))
        if len(picked) == 8:
            break
    root = _face_set(tmp_path / "set", picked)
    scores = tmp_path / "scores.csv"
    code, out, _ = run(capsys, "eval", "--faces", str(root), "--split", "mini", "--scores", str(scores))
    assert code == 0
    assert "AUC" in out and "(8 faces)" in out
    rows = list(csv.DictReader(scores.open()))
    assert [r["key"] for r in rows] == [p[0] for p in picked]
    assert [r["label"] for r in rows] == [p[1] for p in picked]
    assert all(0.0 <= float(r["p_fake"]) <= 1.0 for r in rows)
    code, out, _ = run(capsys, "eval", "--faces", str(root), "--split", "mini", "--json")
    clean = json.loads(out)
    assert clean["count"] == 8 and clean["degrade"] == "none" and 0 <= clean["ece_15"] <= 1
    code, out, _ = run(capsys, "eval", "--faces", str(root), "--split", "mini", "--json", "--degrade", "half+jpeg40")
    degraded = json.loads(out)
    assert code == 0 and degraded["degrade"] == "half+jpeg40" and degraded["count"] == 8
    code, _, err = run(capsys, "eval", "--faces", str(root), "--split", "mini", "--degrade", "blur")
    assert code == 2 and "invalid choice" in err


def test_eval_on_a_folder_that_is_not_a_face_set(tmp_path, capsys):
    code, _, err = run(capsys, "eval", "--faces", str(tmp_path), "--split", "test")
    assert code == 2 and "no manifest for split 'test'" in err
    root = _face_set(tmp_path / "set", [("a", "real", b"")])
    (root / "mini-000.tar").unlink()
    code, _, err = run(capsys, "eval", "--faces", str(root), "--split", "mini")
    assert code == 2 and "shard named in mini.csv is missing" in err


@pytest.mark.parametrize("argv", [["--max-frames", "0"], ["--max-frames", "-3"], ["--sample-fps", "-1"],
                                  ["--sample-fps", "nan"], ["--every-frame", "--max-frames", "x"],
                                  ["--min-face-px", "-2"]])
def test_bad_numeric_options_are_one_line_and_exit_2(capsys, argv):
    code, out, err = run(capsys, "scan", *argv, str(SAMPLE))
    assert code == 2 and out == ""
    [line] = err.splitlines()
    name = argv[-2].removeprefix("--").replace("-", "_")
    assert line.startswith(f"unswap: {name} must be ")  # ScanConfig's message: tests/test_scan_options.py


@pytest.mark.parametrize("argv", [["hash", "--fps", "0"], ["match", "--fps", "-1", "--against", "."],
                                  ["match", "--max-distance", "-1", "--against", "."]])
def test_other_commands_check_their_numbers_alike(capsys, argv):
    code, _, err = run(capsys, *argv, str(SAMPLE))
    assert code == 2 and len(err.splitlines()) == 1 and "must be" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["scan", "hash", "provenance"])
def test_a_url_is_told_unswap_works_offline(capsys, command):
    url = "https://example.com/clip.mp4"
    code, _, err = run(capsys, command, url)
    assert code == 2
    assert err.splitlines() == [f"unswap: {url}: is a URL, and unswap works offline: download the file first, "
                                "then scan the copy"]


def test_stdin_gives_the_same_verdict_as_the_path_and_leaves_no_file(tmp_path):
    import os
    import subprocess
    import sys

    clip = shared("videos", "dfdc", "lynaeydofd.mp4")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "unswap.cli", "scan", "--json", "--max-frames", "4"]
    by_path = subprocess.run([*cmd, str(clip)], capture_output=True, text=True, check=True, env=env)
    with open(clip, "rb") as f:
        by_stdin = subprocess.run([*cmd, "-"], stdin=f, capture_output=True, text=True, check=True, env=env)
    a, b = json.loads(by_path.stdout), json.loads(by_stdin.stdout)
    assert b["path"] == "-"
    assert (a["label"], a["p_fake"], a["tracks"], a["media"]) == (b["label"], b["p_fake"], b["tracks"], b["media"])
    assert not list(tmp_path.glob("unswap-*"))  # the spooled copy is gone


def test_stdin_twice_or_empty_is_one_line(tmp_path):
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "unswap.cli", "scan"]
    twice = subprocess.run([*cmd, "-", "-"], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert twice.returncode == 2 and twice.stderr.splitlines() == ["unswap: - (stdin) can be given once"]
    empty = subprocess.run([*cmd, "-"], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert empty.returncode == 2 and empty.stderr.splitlines() == ["unswap: -: file is empty"]
