"""The evidence modules live in unswap.evidence; the paths the README shows still import."""

import importlib


def test_old_evidence_paths_are_the_evidence_modules():
    for name in ("hashing", "match", "provenance"):
        old = importlib.import_module(f"unswap.{name}")
        assert old is importlib.import_module(f"unswap.evidence.{name}")


def test_readme_imports_work():
    from unswap.evidence.match import match as new_match
    from unswap.hashing import pdq
    from unswap.match import match
    from unswap.provenance import read_provenance

    assert match is new_match and callable(pdq) and callable(read_provenance)
