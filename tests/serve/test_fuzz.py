"""A brief schemathesis run against the service's OpenAPI schema (python -m tools.fuzz_api;
run that script with more --max-examples for a longer one)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.helpers.paths import REPO

pytest.importorskip("schemathesis", reason="the fuzz test needs schemathesis (the test extra)")
pytest.importorskip("fastapi", reason="unswap serve needs the serve extra: pip install -e '.[serve]'")


@pytest.mark.slow
def test_schemathesis_finds_nothing_in_a_brief_run():
    run = subprocess.run([sys.executable, "-m", "tools.fuzz_api", "--max-examples", "8"],
                         capture_output=True, text=True, timeout=600, cwd=REPO)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failure" not in run.stdout.split("SUMMARY")[-1]
