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
