"""The README's example outputs are what the current code prints (regenerate them with
``python scripts/readme_examples.py``)."""

from __future__ import annotations

import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
import readme_examples  # noqa: E402

EXAMPLES = list(readme_examples.EXAMPLE.finditer(readme_examples.README.read_text(encoding="utf-8")))


def test_the_readme_has_its_examples():
    commands = [m["command"] for m in EXAMPLES]
    assert "unswap scan unswap/samples/astronaut.jpg" in commands
    assert any(m["lang"] == "json" for m in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[m["command"] for m in EXAMPLES])
def test_a_readme_example_is_what_the_code_prints(example):
    if not readme_examples.available(example["command"]):
        pytest.skip(f"shared data for {example['command']!r} not found (set UNSWAP_DATA)")
    assert readme_examples.render(example["command"], example["lang"]) == example["body"], \
        "README example out of date: run python scripts/readme_examples.py"
