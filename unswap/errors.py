"""Errors that several parts of unswap raise alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from unswap.types import PathLike


class FileError(Exception):
    """Something about one file that stops a part of unswap reading it.

    ``str()`` is one line saying why, without the path (callers print it); ``path`` names the file.
    """

    def __init__(self, reason: str, path: PathLike | None = None) -> None:
        super().__init__(reason)
        self.path = None if path is None else str(path)


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
