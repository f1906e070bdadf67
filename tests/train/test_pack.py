"""Training packs (what travels to a lent GPU machine) and training from one with no data
folder, as that machine does: real faces cut from the bundled sample."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers.paths import REPO

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")

ROOT = REPO


@pytest.fixture(scope="module")
def sources(sample_face):
    from unswap.train.mixed import Source

    face, lm_crop = sample_face
    rng = np.random.default_rng(0)
    faces = [np.clip(face.astype(int) + rng.integers(-4, 5, face.shape), 0, 255).astype(np.uint8) for _ in range(4)]
    jpegs = [cv2.imencode(".jpg", f[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes() for f in faces]
    return {"dfdc_real": Source(jpegs, np.stack([lm_crop] * 4), 0), "dfdc_fake": Source(jpegs[:2], None, 1),
            "fairface_real": Source(jpegs[2:], np.stack([lm_crop] * 2), 0)}, faces


def test_a_pack_gives_back_its_sources_resized_and_reencoded(sources, tmp_path):
    from unswap.train.pack import load_pack, write_pack

    srcs, faces = sources
    stats = write_pack(srcs, tmp_path / "p.npz", 176, 85)
    assert {k: n for k, (n, _) in stats.items()} == {"dfdc_real": 4, "dfdc_fake": 2, "fairface_real": 2}
    back = load_pack(tmp_path / "p.npz")
    assert sorted(back) == sorted(srcs)
    for name, src in srcs.items():
        assert back[name].label == src.label and len(back[name].jpegs) == len(src.jpegs)
        if src.landmarks is None:
            assert back[name].landmarks is None
        else:
            np.testing.assert_array_equal(back[name].landmarks, src.landmarks)
    im = cv2.imdecode(np.frombuffer(back["dfdc_real"].jpegs[1], np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
    assert im.shape == (176, 176, 3)
    ref = cv2.resize(faces[1], (176, 176), interpolation=cv2.INTER_AREA).astype(float)
    psnr = 10 * np.log10(255**2 / np.mean((im.astype(float) - ref) ** 2))
    assert psnr > 30, psnr


def _config(tmp_path: Path, init: Path, **extra) -> Path:
    cfg = {"name": "t", "seed": 0, "arch": "efficientnet-lite0", "input_size": 64,
           "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "epochs": 3, "steps_per_epoch": 4,
           "lr": 1e-3, "weight_decay": 0.0, "warmup_steps": 2, "frozen_blocks": 2, "workers": 0,
           "checkpoint_every": 4, "mask_weight": 0.3, "init_from": str(init), **extra}
    lines = [f"{k} = {json.dumps(v)}" for k, v in cfg.items()]
    for source, n, blend in (("dfdc_real", 1, False), ("dfdc_fake", 1, False), ("fairface_real", 1, True)):
        lines += ["[[mix]]", f'source = "{source}"', f"n = {n}", f"blend = {str(blend).lower()}"]
    path = tmp_path / "cfg.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def init(tmp_path_factory):
    from unswap.train.model import build_model

    from unswap.train.release.make_pack import half_state

    torch.manual_seed(0)
    model = build_model({"arch": "efficientnet-lite0", "frozen_blocks": 2, "mask_weight": 0.3}, pretrained=False)
    path = tmp_path_factory.mktemp("init") / "init.pt"
    state = half_state(model.state_dict())
    assert state["backbone._conv_stem.weight"].dtype == torch.float16
    assert state["backbone._bn0.running_var"].dtype == torch.float32
    torch.save({"model": state}, path)
    return path


@pytest.fixture
def small_pack(sources, tmp_path) -> Path:
    """The sources as a 96 px pack, what the training runs below read."""
    from unswap.train.pack import write_pack

    write_pack(sources[0], tmp_path / "p.npz", 96, 85)
    return tmp_path / "p.npz"


def _run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_training_from_a_pack_needs_no_data_folder_and_a_budget_cuts_the_epochs(sources, small_pack, init, tmp_path):
    cfg = _config(tmp_path, init, probe_steps=[1, 3], warmup_steps=3)
    out = tmp_path / "run"
    # no face-crop set: UNSWAP_DATA points nowhere, so no val and every epoch is kept
    done = _run("-m", "unswap.train", "--config", cfg, "--pack", small_pack, "--out", out,
                "--device", "cpu", "--time-budget-s", "0.01")
    assert done.returncode == 0, done.stderr[-2000:]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    sched = [r for r in log if r["event"] == "schedule"]
    # the budget is spent before the rate is known: the run is cut to one epoch, not three
    assert len(sched) == 1 and sched[0]["total"] == 4
    epochs = [r for r in log if r["event"] == "epoch"]
    assert [r["epoch"] for r in epochs] == [0] and "val_auc" not in epochs[0]
    assert sorted(p.name for p in out.glob("epoch*.pt")) == ["epoch00.pt"] and not (out / "best.pt").exists()
    assert "checkpoint: " in done.stdout and "last.pt" in done.stdout

    # the small copy that comes back gives the same logits as the full checkpoint
    back = tmp_path / "back"
    done = _run("-m", "unswap.train", "half-checkpoints", out, "--out", back, "--keep", "3")
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in back.iterdir()) == ["run_e00.pt", "run_log.jsonl"]
    from unswap.train.model import build_model

    full, small = (torch.load(p, map_location="cpu", weights_only=False) for p in (out / "epoch00.pt", back / "run_e00.pt"))
    x = torch.from_numpy(cv2.resize(sources[1][0], (64, 64)).transpose(2, 0, 1)[None].astype(np.float32) / 255)
    logits = []
    for state in (full, small):
        net = build_model(state["config"], pretrained=False).eval()
        net.load_state_dict(state["model"])
        with torch.no_grad():
            logits.append(float(net(x)[0]))
    assert abs(logits[0] - logits[1]) < 0.05, logits
    assert small["step"] == 4 and small["total"] == 4


def test_a_budget_with_too_short_a_warmup_is_refused(small_pack, init, tmp_path):
    cfg = _config(tmp_path, init, warmup_steps=2)
    done = _run("-m", "unswap.train", "--config", cfg, "--pack", small_pack, "--out", tmp_path / "r",
                "--device", "cpu", "--time-budget-s", "10")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "python -m unswap.train: a time budget needs warmup_steps of at least 240: the schedule is fixed then")


@pytest.mark.slow
def test_data_workers_start_after_opencv_ran_threaded_in_the_parent(small_pack, init, tmp_path):
    """Loading training faces runs OpenCV's thread pool in the parent before the data workers
    fork; a worker that then set OpenCV's thread count hung forever (stop 26's first CPU run)."""
    cfg = _config(tmp_path, init, workers=1, epochs=1)
    script = (
        "import sys, cv2, numpy as np\n"
        "cv2.setNumThreads(2)\n"
        "for _ in range(20): cv2.resize(np.zeros((2000, 2000, 3), np.uint8), (1500, 1500), interpolation=cv2.INTER_CUBIC)\n"
        "from unswap.train.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "--config", str(cfg), "--pack", str(small_pack),
         "--out", str(tmp_path / "run"), "--device", "cpu"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and the worker it forked
        proc.communicate()
        pytest.fail("training with a data worker hung after OpenCV had run threaded in the parent")
    assert proc.returncode == 0, err[-2000:]
    assert (tmp_path / "run" / "last.pt").exists()
