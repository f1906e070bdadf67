"""The ``--library`` of known media the service matches uploads against: a hash file."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from unswap.evidence.hashing import HashFileError, MediaHashes, read_hashes
from unswap.evidence.match import MatchConfig, MatchError, MatchResult, SourceMatch, find_segments, match, to_dict


class Library:
    """The records of a file written by ``unswap hash``, read once at start."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.records = read_hashes(self.path)
        except HashFileError as e:
            raise MatchError(str(e)) from None
        except OSError as e:
            raise MatchError(f"cannot read file ({e.strerror or e})") from None

    def match_file(self, media: Path, name: str) -> dict[str, Any]:
        """``unswap match --json`` of an uploaded file: hashed, matched, and where a
        source's media is at hand, its difference map."""
        out = to_dict(match(media, self.path))
        out["suspect"]["path"] = name
        return out

    def match_hashes(self, suspect: MediaHashes) -> dict[str, Any]:
        """The match of already-hashed frames, from the hashes alone (no difference map)."""
        cfg = MatchConfig()
        found = []
        for source in self.records:
            segments = find_segments(suspect, source, cfg)
            if segments:
                found.append(SourceMatch(source.path, source.sha256, source.kind, segments))
        found.sort(key=lambda m: (-m.frames, min(s.median_distance for s in m.segments)))
        return to_dict(MatchResult(suspect, found, len(self.records), [], cfg))


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
