"""Where unswap finds the team's shared data: one setting, ``UNSWAP_DATA``."""

from __future__ import annotations

import os
from pathlib import Path

_DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data_dir() -> Path:
    """The shared data folder: ``$UNSWAP_DATA`` or ``../shared/data`` beside the repo."""
    return Path(os.environ.get("UNSWAP_DATA", _DEFAULT))
