"""`unswap eval --media`: whole files scanned as `unswap scan` does, measured file by file."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.paths import SAMPLE, shared
from unswap.cli import main
from unswap.mediasets import MediaSetError, fairface_holdout, read_labels


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _write_labels(root: Path, rows: list[tuple[str, str, str]]) -> Path:
    with open(root / "labels.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "method", "race"])
        w.writerows(rows)
    return root / "labels.csv"


def test_eval_media_counts_faces_no_faces_and_failures(tmp_path, capsys):
    (tmp_path / "photos").mkdir()
    shutil.copy(SAMPLE, tmp_path / "photos" / "a.jpg")
    img = np.asarray(Image.open(SAMPLE))
    Image.fromarray(np.ascontiguousarray(img[:, ::-1])).save(tmp_path / "photos" / "b.png")
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(tmp_path / "blank.png")
    (tmp_path / "notes.txt").write_text("not media")
    labels = _write_labels(tmp_path, [("photos/a.jpg", "real", "camera", "x"), ("photos/b.png", "fake", "mirror", "y"),
                                      ("blank.png", "fake", "mirror", "y"), ("notes.txt", "real", "camera", "x")])
    scores = tmp_path / "scores.csv"
    code, out, _ = run(capsys, "eval", "--media", str(labels), "--json", "--by", "race", "--scores", str(scores))
    assert code == 0
    res = json.loads(out.splitlines()[0])
    overall = res["overall"]
    assert overall["files"] == 4 and overall["no_face"] == 1 and overall["failed"] == 1
    assert overall["reals"] == 1 and overall["fakes"] == 1 and 0.0 <= overall["auc"] <= 1.0
    assert set(res["by_method"]) == {"camera", "mirror"} and set(res["by_group"]) == {"x", "y"}
    assert res["by_method"]["mirror"]["no_face"] == 1 and "auc" not in res["by_method"]["mirror"]
    # the three-way answer: each class's shares of the three words sum to one, and the
    # "fake" shares are the FPR and TPR
    for key, rate in (("reals_told", "fpr"), ("fakes_told", "tpr")):
        told = overall[key]
        assert set(told) == {"real", "uncertain", "fake"} and abs(sum(told.values()) - 1) < 1e-9
        assert told["fake"] == overall[rate]
    rows = {r["path"]: r for r in csv.DictReader(scores.open())}
    assert rows["notes.txt"]["verdict"] == "failed" and rows["notes.txt"]["error"]
    assert rows["blank.png"]["verdict"] == "no-face" and rows["blank.png"]["p_fake"] == ""
    assert 0.0 <= float(rows["photos/a.jpg"]["p_fake"]) <= 1.0
    code, out, _ = run(capsys, "eval", "--media", str(labels))
    assert code == 0 and "AUC" in out and "no face 1, failed 1" in out
    assert "reals told real" in out and "fakes told fake" in out


def test_eval_media_scores_equal_the_scan(tmp_path, capsys):
    shutil.copy(SAMPLE, tmp_path / "a.jpg")
    labels = _write_labels(tmp_path, [("a.jpg", "real", "camera", "")])
    scores = tmp_path / "s.csv"
    assert run(capsys, "eval", "--media", str(labels), "--scores", str(scores))[0] == 0
    code, out, _ = run(capsys, "scan", "--json", str(tmp_path / "a.jpg"))
    scanned = json.loads(out)
    row = next(csv.DictReader(scores.open()))
    assert row["verdict"] == scanned["label"]
    assert float(row["p_fake"]) == pytest.approx(scanned["p_fake"], abs=1e-4)


@pytest.mark.parametrize("rows, message", [
    ([("a.jpg", "maybe", "m", "")], "is not 'real' or 'fake'"),
    ([("../outside.jpg", "real", "m", "")], "leaves the set's folder"),
    ([("", "real", "m", "")], "empty path"),
    ([("a\x00b.jpg", "real", "m", "")], "NUL byte"),
    ([("/etc/passwd", "real", "m", "")], "leaves the set's folder"),
])
def test_bad_labels_files_are_one_line(tmp_path, capsys, rows, message):
    labels = _write_labels(tmp_path, rows)
    code, _, err = run(capsys, "eval", "--media", str(labels))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_by_a_column_the_labels_lack_is_one_line_and_by_method_is_reported_once(tmp_path, capsys):
    shutil.copy(SAMPLE, tmp_path / "a.jpg")
    labels = _write_labels(tmp_path, [("a.jpg", "real", "camera", "x")])
    code, _, err = run(capsys, "eval", "--media", str(labels), "--by", "age")
    assert code == 2 and "no column 'age' to report by" in err and "race" in err
    assert len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, "eval", "--media", str(labels), "--by", "method", "--json")
    res = json.loads(out.splitlines()[0])
    assert code == 0 and set(res["by_method"]) == {"camera"} and res["by_group"] == {}


def test_labels_file_missing_or_without_columns(tmp_path, capsys):
    code, _, err = run(capsys, "eval", "--media", str(tmp_path / "none.csv"))
    assert code == 2 and "no such labels file" in err
    (tmp_path / "labels.csv").write_text("file,kind\na.jpg,real\n")
    code, _, err = run(capsys, "eval", "--media", str(tmp_path / "labels.csv"))
    assert code == 2 and "missing column(s) path, label" in err
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(MediaSetError):
        read_labels(tmp_path / "bin.csv")
    code, _, err = run(capsys, "eval", "--media", str(tmp_path / "labels.csv"), "--split", "val")
    assert code == 2 and "takes no --faces, --split" in err
    code, _, err = run(capsys, "eval")
    assert code == 2 and "--media" in err


def test_fairface_holdout_is_fixed_disjoint_and_balanced():
    files = read_labels(shared("reals", "fairface", "labels.csv"))
    train, held = fairface_holdout(files)
    again = fairface_holdout(list(reversed(files)))[1]
    assert [f.rel for f in held] == [f.rel for f in again]
    assert not {f.rel for f in train} & {f.rel for f in held}
    assert len(train) + len(held) == len(files)
    groups = {}
    for f in held:
        groups[f.extra["race"]] = groups.get(f.extra["race"], 0) + 1
    assert len(groups) == 7 and set(groups.values()) == {200}
