"""PDQ hashes: the same bits as pdqhash, golden values, the hash file round trip, the CLI."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pdqhash
import pytest
from tests.helpers.paths import SAMPLE, shared
from tests.helpers.media_files import not_media, rgb, write_video

from unswap.cli import main
from unswap.evidence.hashing import (
    MAGIC,
    HashFileError,
    MediaHashes,
    file_digest,
    hamming,
    hash_media,
    pdq,
    read_hashes,
    write_hashes,
)

SAMPLE_SHA256 = "370adb9cb9dd03ca911ea316fb227495e01095398bc1f71188a3995209b9c81a"
SAMPLE_PDQ = "2d6f1af3a956c529c79ca3d2526fa834d4196c81cedd04de0a26b855fc99b724"
CLIP = ("videos", "dfdc", "lynaeydofd.mp4")
CLIP_SHA256 = "34d977591dfb9e8a6d92a9aec182b8c911d1c2e7ae94d3d19a558c94ec871cf2"
# First frames at 1 fps: (index, t, quality, hash), as `unswap hash` printed them when written.
CLIP_FRAMES = [
    (0, 0.000, 100, "3bc8f90e8c4820c7d7e76329c93227dbe1525b0d09de580bf6d086f9c8876b67"),
    (30, 1.001, 100, "3bc8f90e9c4820c7f7e72329c9323fdbe0525b0909de480bf6d086f9c8876b67"),
    (60, 2.002, 100, "1bc8f90e9c4820c7f7e3a329c93237dbe1525b0d09de480bf6d086f9c8876b67"),
    (90, 3.003, 100, "1bc8f90e8c4820c7f7e72329d93227dbe15a5b0909de580bf69286f9c8876b67"),
]
# Decoding is bit-exact within one FFmpeg/libjpeg build; another build's colour conversion may
# move a few pixels by one level, which moves a PDQ hash by a few bits at most.
GOLDEN_BITS = 4


def _bits(hex_hash: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(hex_hash), np.uint8)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- pdq() -------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["sample", "noise", "strided"])
def test_pdq_is_pdqhash_on_the_same_pixels(sample_rgb, case):
    pixels = {"sample": sample_rgb, "noise": rgb(97, 131, seed=3), "strided": sample_rgb[::2, 10:400]}[case]
    vector, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    hex_hash, q = pdq(pixels)
    assert q == quality
    assert len(hex_hash) == 64
    # Most significant bit first: the hex is the bit vector read as one binary number.
    assert int(hex_hash, 16) == int("".join(str(int(b)) for b in vector), 2)


def test_pdq_refuses_anything_but_rgb_uint8():
    with pytest.raises(ValueError, match="uint8"):
        pdq(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError):
        pdq(np.zeros((8, 8), np.uint8))


def test_flat_picture_has_low_quality_and_a_real_picture_high():
    assert pdq(np.full((64, 64, 3), 128, np.uint8))[1] < 50
    assert pdq(rgb(64, 64))[1] == 100


def test_hamming_counts_differing_bits():
    a = _bits(SAMPLE_PDQ)
    b = a.copy()
    b[0] ^= 0b1011_0000
    b[31] ^= 0b0000_0001
    np.testing.assert_array_equal(hamming(a, np.stack([a, b, ~a])), [[0, 4, 256]])


# ---- golden values -----------------------------------------------------------------


def test_sample_image_golden():
    h = hash_media(SAMPLE)
    assert (h.kind, h.width, h.height, len(h), h.fps, h.sample_fps) == ("image", 512, 512, 1, None, None)
    assert (int(h.index[0]), float(h.t[0]), int(h.quality[0])) == (0, 0.0, 100)
    assert h.sha256 == SAMPLE_SHA256 and file_digest(SAMPLE) == (SAMPLE_SHA256, SAMPLE.stat().st_size)
    assert hamming(h.bits, _bits(SAMPLE_PDQ))[0, 0] <= GOLDEN_BITS


def test_file_digest_reads_regular_files_only_and_does_not_wait_on_a_fifo(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path):
        with pytest.raises(OSError, match="not a regular file"):
            file_digest(path)
    with pytest.raises(FileNotFoundError):
        file_digest(tmp_path / "missing.jpg")


def test_video_golden_first_frames_and_stable_across_runs(capsys):
    clip = shared(*CLIP)
    code, out, err = run(capsys, "hash", str(clip))
    assert (code, err) == (0, "")
    [h] = read_hashes(io.StringIO(out))
    assert (h.sha256, h.kind, h.width, h.height, h.sample_fps) == (CLIP_SHA256, "video", 1920, 1080, 1.0)
    assert h.fps == pytest.approx(29.97, abs=0.01) and h.duration_s == pytest.approx(10.01, abs=0.01)
    assert len(h) == 10 and np.all(np.diff(h.t) == pytest.approx(1.0, abs=0.05))
    for k, (index, t, quality, hex_hash) in enumerate(CLIP_FRAMES):
        assert (int(h.index[k]), float(h.t[k]), int(h.quality[k])) == (index, pytest.approx(t, abs=1e-3), quality)
        assert hamming(h.bits[k], _bits(hex_hash))[0, 0] <= GOLDEN_BITS, f"frame {index}"
    assert hash_media(clip).same_frames(h), "hashing the same file twice gives other hashes"


def test_video_is_hashed_at_the_asked_rate(tmp_path):
    h = hash_media(write_video(tmp_path / "clip.mp4"), sample_fps=5.0)  # 2 s at 25 fps
    assert len(h) == 10 and list(h.index) == list(range(0, 50, 5))
    np.testing.assert_allclose(np.diff(h.t), 0.2, atol=1e-6)


# ---- the file format ---------------------------------------------------------------


def _records(tmp_path) -> list[MediaHashes]:
    video = hash_media(write_video(tmp_path / "clip.mp4"), sample_fps=2.0)
    odd = tmp_path / "a b%c,d é.png"
    from PIL import Image

    Image.fromarray(rgb(40, 60, seed=2)).save(odd)
    return [video, hash_media(odd), hash_media(SAMPLE)]


def _same(a: MediaHashes, b: MediaHashes) -> bool:
    meta = ("path", "sha256", "kind", "width", "height", "sample_fps")
    return (all(getattr(a, k) == getattr(b, k) for k in meta) and a.same_frames(b)
            and (a.fps is None) == (b.fps is None) and (a.fps is None or abs(a.fps - b.fps) < 1e-4))


@pytest.mark.parametrize("json_lines", [False, True], ids=["text", "json"])
def test_round_trip(tmp_path, json_lines):
    records = _records(tmp_path)
    out = io.StringIO()
    write_hashes(records, out, json_lines=json_lines)
    path = tmp_path / "hashes.txt"
    path.write_text(out.getvalue(), encoding="utf-8")
    back = read_hashes(path)
    assert len(back) == 3 and all(_same(a, b) for a, b in zip(records, back))
    assert back[1].path.endswith("a b%c,d é.png")
    if not json_lines:
        lines = out.getvalue().splitlines()
        assert lines[0] == MAGIC and lines[1].startswith("file sha256=")
        assert any(line.endswith("/a%20b%25c%2Cd%20%C3%A9.png") for line in lines if line.startswith("file "))
        assert all(len(line.split(",")) == 4 for line in lines if line[0].isdigit())


def test_text_format_lines_are_as_documented(tmp_path):
    out = io.StringIO()
    write_hashes([hash_media(SAMPLE)], out)
    assert out.getvalue().splitlines() == [
        MAGIC,
        f"file sha256={SAMPLE_SHA256} kind=image width=512 height=512 frames=1 path={SAMPLE}",
        f"0,100,{SAMPLE_PDQ},0.000",
    ]


def test_reader_skips_comments_and_ignores_unknown_keys(tmp_path):
    path = tmp_path / "h.txt"
    path.write_text(f"{MAGIC}\n\n# made by hand\nfile sha256={SAMPLE_SHA256} kind=image width=512 height=512 "
                    f"future=1 path=x.jpg\n0,100,{SAMPLE_PDQ.upper()},0.000\n")
    [h] = read_hashes(path)
    assert (h.path, h.hashes, len(h)) == ("x.jpg", [SAMPLE_PDQ], 1)


@pytest.mark.parametrize("text, says", [
    ("0,100,abc,0.0\n", "first line"),
    (f"{MAGIC}\n0,100,{SAMPLE_PDQ},0.000\n", "line 2: a frame line before any file line"),
    (f"{MAGIC}\nfile kind=image width=1 height=1 path=x\n", "line 2: file line has no sha256="),
    (f"{MAGIC}\nfile sha256={SAMPLE_SHA256} kind=image width=1 height=1 frames=2 path=x\n0,100,{SAMPLE_PDQ},0\n",
     "header says 2 frames, found 1"),
    (f"{MAGIC}\nfile sha256={SAMPLE_SHA256} kind=image width=1 height=1 path=x\n0,100,{SAMPLE_PDQ[:-2]},0\n",
     "line 3: a PDQ hash has 64 hex digits"),
    ('{"path": "x"}\n', "line 1: not a hash record"),
    # found by tools/fuzz_media.py: a frame number past int64 was an OverflowError
    (f"{MAGIC}\nfile sha256={SAMPLE_SHA256} kind=video width=1 height=1 path=x\n99999999999999999999,100,{SAMPLE_PDQ},0\n",
     "line 2: a frame index or quality does not fit in 64 bits"),
])
def test_reader_names_the_bad_line(tmp_path, text, says):
    path = tmp_path / "h.txt"
    path.write_text(text)
    with pytest.raises(HashFileError, match=says):
        read_hashes(path)


# ---- the command -------------------------------------------------------------------


def test_cli_json_lines_and_text_agree(tmp_path, capsys):
    video = write_video(tmp_path / "clip.mp4")
    code, text_out, _ = run(capsys, "hash", "--fps", "2", str(video), str(SAMPLE))
    assert code == 0
    code, json_out, _ = run(capsys, "hash", "--json", "--fps", "2", str(video), str(SAMPLE))
    assert code == 0
    rows = [json.loads(line) for line in json_out.splitlines()]
    assert [r["path"] for r in rows] == [str(video), str(SAMPLE)]
    assert rows[0]["sample_fps"] == 2.0 and len(rows[0]["frames"]) == 4
    assert set(rows[0]["frames"][0]) == {"index", "t", "quality", "pdq"}
    from_text = read_hashes(io.StringIO(text_out))
    from_json = read_hashes(io.StringIO(json_out))
    assert all(_same(a, b) for a, b in zip(from_text, from_json))


@pytest.mark.parametrize("case", ["missing", "text"])
def test_cli_bad_input_is_one_line_and_others_still_hash(tmp_path, capsys, case):
    bad = not_media(tmp_path, case)
    code, out, err = run(capsys, "hash", str(bad), str(SAMPLE))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"unswap: {bad}: ") and "Traceback" not in err
    assert [h.path for h in read_hashes(io.StringIO(out))] == [str(SAMPLE)]


def test_cli_refuses_a_bad_rate(capsys):
    code, _, err = run(capsys, "hash", "--fps", "0", str(SAMPLE))
    assert code == 2 and err.strip() == "unswap: fps must be a number above 0 and at most 240"
