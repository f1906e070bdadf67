"""unswap: find face-swapped faces in images and video."""

__version__ = "0.1.0"


def install_hint(extra: str) -> str:
    """How to add an optional part, as the README installs unswap (from its clone)."""
    return f"pip install -e '.[{extra}]' in the unswap clone (pip install 'unswap[{extra}]' from a package index)"
