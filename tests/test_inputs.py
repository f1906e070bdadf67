"""One folder rule: ``scan DIR`` and ``match --against DIR`` read a real folder (hidden
files, links out of it, files that are not media, real media) and take the same files."""

from __future__ import annotations

import json
import os
import shutil
from fractions import Fraction
from pathlib import Path

import cv2
import pytest
from tests.helpers.paths import SAMPLE
from tests.helpers.media_files import write_anamorphic_video

from unswap.cli import main
from unswap.inputs import collect


def _folder(tmp_path: Path) -> Path:
    """Copies of the sample picture as a JPEG, a PNG and a short video, some hidden, one
    reached through a link out of the folder; beside them files that are not media."""
    root, outside = tmp_path / "sources", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    (root / ".cache").mkdir()
    outside.mkdir()
    picture = cv2.imread(str(SAMPLE))
    shutil.copy(SAMPLE, root / "a.jpg")
    cv2.imwrite(str(root / "sub" / "b.png"), picture)
    small = cv2.resize(picture, (128, 128), interpolation=cv2.INTER_AREA)[:, :, ::-1]
    write_anamorphic_video(root / "sub" / "c.mp4", small, Fraction(1))
    shutil.copy(SAMPLE, root / ".hidden.jpg")
    shutil.copy(SAMPLE, root / ".cache" / "d.jpg")
    shutil.copy(SAMPLE, outside / "far.jpg")
    (root / "far.jpg").symlink_to(outside / "far.jpg")
    (root / "far_folder").symlink_to(outside)
    (root / "near.jpg").symlink_to(root / "a.jpg")  # a link inside the folder is read
    (root / "notes.txt").write_text("not media\n")
    (root / "types.d.ts").write_text("export type A = 1;\n" * 20)  # TypeScript, not MPEG-TS
    return root


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("flags", [[], ["--hidden", "--follow-links"]])
def test_scan_and_match_read_a_folder_by_one_rule(tmp_path, capsys, flags):
    root = _folder(tmp_path)
    rule = collect([root], follow_links="--follow-links" in flags, hidden="--hidden" in flags)
    names = {os.path.relpath(p, root) for p in rule.files}
    expected = {"a.jpg", "near.jpg", "sub/b.png", "sub/c.mp4"}
    if flags:
        expected |= {".hidden.jpg", ".cache/d.jpg", "far.jpg", "far_folder/far.jpg"}
    assert names == expected
    skipped = set(rule.skipped)
    assert (str(root / "notes.txt"), "not a media file (by its name)") in skipped
    assert (str(root / "types.d.ts"), "not a media file (by its content)") in skipped

    # scan DIR: one result per file taken, a "skipped" line per file left out
    code, out, err = _run(capsys, "scan", root, "--jobs", "1", "--json", "--quiet", *flags)
    assert code == 0
    assert sorted(json.loads(line)["path"] for line in out.splitlines()) == sorted(rule.files)
    said = {line.removeprefix("unswap: skipped ") for line in err.splitlines() if line.startswith("unswap: skipped ")}
    assert said == {f"{path}: {why}" for path, why in rule.skipped}

    # match --against DIR: every file taken is a copy of the suspect, so each is a match
    code, out, err = _run(capsys, "match", SAMPLE, "--against", root, "--json", "--no-difference", *flags)
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["sources_compared"] == len(rule.files)
    assert sorted(m["path"] for m in doc["matches"]) == sorted(rule.files)
    assert {(s["path"], s["reason"]) for s in doc["skipped"]} == skipped
