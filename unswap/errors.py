"""Errors that several parts of unswap raise alike."""

from __future__ import annotations


class MissingExtra(RuntimeError):
    """A package that a part of unswap imports on first use is not installed.

    ``extra`` names the extra that installs it (``serve``, ``ray``, ``train``), or is None
    for ``package``, a dependency of the core install. ``str()`` is one line: what needed
    it and the command that installs it, as the README installs unswap (``install_hint``).
    """

    def __init__(self, extra: str | None, needed_for: str, package: str | None = None) -> None:
        if extra is None:
            if package is None:
                raise TypeError("MissingExtra(None, ...) names the core install's package")
            name = package.split("==")[0]
            message = f"{needed_for} needs {name}, part of unswap's install: pip install {package}"
        else:
            from unswap import install_hint

            message = f"{needed_for} needs the {extra} extra: {install_hint(extra)}"
        super().__init__(message)
        self.extra = extra
