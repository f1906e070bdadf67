"""Where the tests find the repository, the bundled sample, their own fixtures and the
shared data (skipping, with the reason, where that is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from unswap.paths import shared_data_dir

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "unswap" / "samples" / "astronaut.jpg"
DATA = REPO / "tests" / "data"  # the tests' own fixtures (HEIC photos, fuzzing finds, a frozen report)


def shared(*parts: str) -> Path:
    """A path under the shared data folder; skips the test when it is absent."""
    p = shared_data_dir().joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data not found at {p} (set UNSWAP_DATA)")
    return p
