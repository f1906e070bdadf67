"""``python -m unswap.train STEP``: the release steps are commands of the package."""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

from unswap.train.__main__ import STEPS, main  # noqa: E402


@pytest.mark.parametrize("step", sorted(STEPS))
def test_each_step_is_a_command_with_its_own_options(step, capsys):
    argv = list(sys.argv)
    with pytest.raises(SystemExit) as done:
        main([step, "--help"])
    assert done.value.code == 0 and sys.argv == argv
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m unswap.train {step} ")
    assert "--out" in out or "--detector-dir" in out or "--cache" in out


def test_training_stays_the_default_and_names_the_steps(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and "--config" in out and "--pack" in out
    assert all(f"  {step} " in out for step in STEPS)
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    assert capsys.readouterr().out == out


def test_a_step_usage_error_exits_2_without_a_traceback(capsys):
    with pytest.raises(SystemExit) as done:
        main(["half-checkpoints"])  # its runs and --out are required
    assert done.value.code == 2
    assert "python -m unswap.train half-checkpoints: error:" in capsys.readouterr().err



@pytest.fixture(scope="module")
def dfdc_rows(detector):
    """``scan_labelled`` rows of the shared DFDC face tracks and a real clip."""
    from tests.helpers.paths import shared

    from unswap.evaluate import scan_labelled
    from unswap.mediasets import dev_files
    from unswap.scan import ScanConfig, Scanner

    files = [f for f in dev_files(shared("videos", "labels.csv"))
             if f.rel.startswith("dfdc_face_tracks/") or f.rel == "dfdc/lynaeydofd.mp4"]
    return scan_labelled(Scanner(ScanConfig(), detector=detector), files)


@pytest.mark.parametrize("cuts", [None, (0.5, 0.2)])
def test_choose_cuts_tells_each_class_what_eval_media_counts_from_a_scan(detector, dfdc_rows, cuts):
    """choose-cuts' three-way answer from file scores and cuts is the one ``eval --media``
    counts from a scan's verdicts under the same cuts (the shipped ones, and cuts under
    which the swaps are told all three words)."""
    import dataclasses

    import numpy as np

    from unswap.evaluate import measure_rows
    from unswap.train.release.choose_cuts import three_way

    cfg = detector.config if cuts is None else dataclasses.replace(detector.config, threshold=cuts[0],
                                                                   real_below=cuts[1])
    rows = [{**r, "verdict": r["verdict"] if r["p_fake"] is None else cfg.label_for(r["p_fake"])} for r in dfdc_rows]
    measured = measure_rows(rows, "videos")["overall"]
    scored = [r for r in rows if r["p_fake"] is not None]
    told = three_way(np.array([r["p_fake"] for r in scored]), np.array([int(r["label"] == "fake") for r in scored]),
                     cfg.threshold, cfg.real_below)
    assert told["reals"] == {"n": measured["reals"], **measured["reals_told"]}
    assert told["fakes"] == {"n": measured["fakes"], **measured["fakes_told"]}
    assert told["auc"] == measured["auc"]
    if cuts is not None:
        assert all(measured["fakes_told"][w] > 0 for w in ("real", "uncertain", "fake"))
