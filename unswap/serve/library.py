"""The ``--library`` the service matches uploads against: a hash file or a folder of media."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from unswap.evidence.hashing import HashFileError, MediaHashes, read_hashes
from unswap.evidence.match import SourceIndex, match, to_dict


class Library:
    """The sources of ``--library``, indexed once at start (``SourceIndex.load``): the
    records of a file written by ``unswap hash``, or a folder of media read as ``scan
    DIR`` reads one (with ``follow_links`` and ``hidden``) and hashed then. MatchError
    when it is neither."""

    def __init__(self, path: Path, *, follow_links: bool = False, hidden: bool = False):
        self.path = Path(path)
        self.index = SourceIndex.load(self.path, follow_links=follow_links, hidden=hidden)

    def match_file(self, media: Path, name: str) -> dict[str, Any]:
        """``unswap match --json`` of an uploaded file: hashed, matched, and where a
        source's media is at hand, its difference map."""
        out = to_dict(match(media, self.index))
        out["suspect"]["path"] = name
        return out

    def match_hashes(self, suspect: MediaHashes) -> dict[str, Any]:
        """The match of already-hashed frames, from the hashes alone (no difference map)."""
        return to_dict(self.index.search(suspect))


def parse_hash_list(text: str) -> MediaHashes:
    """One file's hashes posted as text (docs/hash-format.md) or a JSON line; ValueError
    with one line otherwise."""
    try:
        records = read_hashes(io.StringIO(text))
    except (HashFileError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"not a hash list: {e}") from None
    if len(records) != 1:
        raise ValueError(f"post the hashes of one file, not {len(records)}")
    return records[0]
