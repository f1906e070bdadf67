"""The README's example outputs are what the current code prints (regenerate them with
``python tools/readme_examples.py``)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers.paths import REPO

EXAMPLE = re.compile(r"<!-- example: (?P<command>.+?) -->\n```(?P<lang>\w*)\n")


def test_the_readme_has_its_examples():
    found = list(EXAMPLE.finditer((REPO / "README.md").read_text(encoding="utf-8")))
    commands = [m["command"] for m in found]
    assert "unswap scan unswap/samples/astronaut.jpg" in commands
    assert any(m["lang"] == "json" for m in found)


def test_every_readme_example_is_what_the_code_prints():
    # the tool runs each example's command in-process and compares; an example whose
    # shared data is absent is left as it is
    r = subprocess.run([sys.executable, "tools/readme_examples.py", "--check"], cwd=REPO, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr + "\nrun python tools/readme_examples.py"
