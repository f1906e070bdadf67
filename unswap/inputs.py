"""Which files a command reads: the one rule for paths given and folders walked.

``collect`` turns the paths a user gave (files and folders) into the files to read, and
says why each file a folder walk left out was left out. ``scan DIR``, ``hash DIR``,
``match --against DIR`` and ``serve --library DIR`` all read a folder by it: a folder is
walked recursively in sorted order; only regular files whose name ends in one of
``MEDIA_SUFFIXES`` are taken (a ``.ts`` must be MPEG-TS inside); hidden files and folders
are skipped unless ``hidden``; symbolic links are not followed out of the folder unless
``follow_links``. A file named explicitly is always taken, whatever its name.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["MEDIA_SUFFIXES", "Inputs", "collect", "read_list"]

MEDIA_SUFFIXES = frozenset(
    ".jpg .jpeg .jpe .jfif .png .apng .webp .avif .heic .heif .tif .tiff .bmp .gif .mpo .jxl"
    " .mp4 .m4v .mov .qt .mkv .webm .avi .wmv .asf .flv .mpg .mpeg .m2v .ts .mts .m2ts .3gp .3g2"
    " .ogv .vob .mxf .y4m".split()
)
"""File name endings taken as media when walking a folder (any case); a file named
explicitly is always tried, whatever its name."""


@dataclass
class Inputs:
    """The files to read, in order; ``explicit`` are those named by the user (not
    found in a folder); ``skipped`` is (path, reason) for what a folder walk left out."""

    files: list[str] = field(default_factory=list)
    explicit: set[str] = field(default_factory=set)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


_NOT_REGULAR = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                (stat.S_ISBLK, "a device"))


def _not_media(path: str, name: str) -> str | None:
    """Why a file found in a folder is not taken, or None: only regular files are opened
    (a FIFO would block, a device never end), and a name ending in a media suffix that
    other files use too (TypeScript's ``.ts``) must have the content to match."""
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        return f"cannot read file ({err.strerror or err})"
    if not stat.S_ISREG(mode):
        kind = next((what for test, what in _NOT_REGULAR if test(mode)), "not a file")
        return f"not a regular file ({kind})"
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in MEDIA_SUFFIXES:
        return "not a media file (by its name)"
    if suffix == ".ts":
        try:
            with open(path, "rb") as f:
                head = f.read(189)
        except OSError as err:
            return f"cannot read file ({err.strerror or err})"
        if len(head) < 189 or head[0] != 0x47 or head[188] != 0x47:  # MPEG-TS packets: 188 bytes, 0x47 first
            return "not a media file (by its content)"
    return None


def _walk(root: str, follow_links: bool, hidden: bool, into: Inputs) -> list[str]:
    real_root = os.path.realpath(root)
    seen = {real_root}  # real folders walked: a link loop is walked once
    found = []
    for folder, subdirs, names in os.walk(root, followlinks=follow_links):
        keep = []
        for d in sorted(subdirs):
            full = os.path.join(folder, d)
            real = os.path.realpath(full)
            if d.startswith(".") and not hidden:
                into.skipped.append((full, "hidden folder (--hidden walks it)"))
            elif os.path.islink(full) and not follow_links:
                where = "inside the tree (its files are scanned where they are)" if _inside(real, real_root) \
                    else "outside the tree (--follow-links follows it)"
                into.skipped.append((full, f"symbolic link to a folder {where}"))
            elif real in seen:
                into.skipped.append((full, "symbolic link to a folder already walked"))
            else:
                seen.add(real)
                keep.append(d)
        subdirs[:] = keep
        for name in names:
            full = os.path.join(folder, name)
            if name.startswith(".") and not hidden:
                into.skipped.append((full, "hidden file (--hidden scans it)"))
            elif os.path.islink(full) and not follow_links and not _inside(os.path.realpath(full), real_root):
                into.skipped.append((full, "symbolic link to a file outside the tree (--follow-links follows it)"))
            elif (why := _not_media(full, name)) is not None:
                into.skipped.append((full, why))
            else:
                found.append(full)
    return sorted(found)


def collect(paths: Iterable[str | os.PathLike[str]], *, follow_links: bool = False, hidden: bool = False) -> Inputs:
    """The files to read: each path that is a folder walked recursively in sorted order,
    each other path taken as it is. A folder's regular files whose name ends in one of
    MEDIA_SUFFIXES are taken; hidden files and folders (a name starting with '.': .git,
    .venv) are skipped unless ``hidden``, and symbolic links are not followed out of the
    folder unless ``follow_links``. A file given twice is read once."""
    out = Inputs()
    files: dict[str, None] = {}
    for p in map(str, paths):
        if os.path.isdir(p):
            files.update(dict.fromkeys(_walk(p, follow_links, hidden, out)))
        else:
            files[p] = None
            out.explicit.add(p)
    out.files = list(files)
    return out


def read_list(lines: Iterable[str]) -> list[str]:
    """Paths of a ``--from-list`` file: one a line, blank lines ignored, the line end stripped."""
    return [s for s in (line.rstrip("\r\n") for line in lines) if s.strip()]
