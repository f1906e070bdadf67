"""Text for a terminal: names from the file system or an upload shown so they cannot
forge or hide a line."""

from __future__ import annotations


def printable(name: str) -> str:
    """``name`` with every character a terminal would act on or not show written as an
    escape: control characters (newline, ESC, DEL, C1), format and separator characters
    (bidirectional overrides) as ``\\xNN`` or ``\\uNNNN``, and the bytes of a file name that
    were not UTF-8 (Python's surrogate escapes) as the ``\\xNN`` of the byte. Space and
    other printable text stay as they are."""
    out = []
    for c in name:
        n = ord(c)
        if c.isprintable():
            out.append(c)
        elif 0xDC80 <= n <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
            out.append(f"\\x{n - 0xDC00:02x}")
        elif n < 0x100:
            out.append(f"\\x{n:02x}")
        else:
            out.append(f"\\u{n:04x}")
    return "".join(out)
