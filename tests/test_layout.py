"""The Python names the README and docs show import from where they say."""

import importlib
import re

import pytest

from tests.helpers.paths import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FROM_IMPORT = re.compile(r"from (unswap[\w.]*) import ([\w, ]+)")
CALL = re.compile(r"(unswap(?:\.\w+)+)\(")


def _shown_names() -> list[tuple[str, str]]:
    """(module, attribute) for every ``from unswap... import x`` and ``unswap.mod.f(`` in the docs."""
    names = []
    for doc in DOCS:
        text = doc.read_text()
        for module, attrs in FROM_IMPORT.findall(text):
            names += [(module, a.strip()) for a in attrs.split(",") if a.strip()]
        for dotted in CALL.findall(text):
            module, _, attr = dotted.rpartition(".")
            names.append((module, attr))
    return names


def test_the_docs_show_python_names():
    assert ("unswap.evidence.provenance", "read_provenance") in _shown_names()


@pytest.mark.parametrize(("module", "attr"), _shown_names())
def test_a_python_name_the_docs_show_imports(module, attr):
    assert callable(getattr(importlib.import_module(module), attr))
