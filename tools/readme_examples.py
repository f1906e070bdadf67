"""Regenerate the README's example outputs from what the current code prints.

Each example is a code block right after a marker line naming the command:

    <!-- example: unswap scan unswap/samples/astronaut.jpg -->

The command runs in-process from the repository root (the default detector, today's
code); a text block gets ``$ COMMAND`` and the output, a ``json`` block the object, one
key a line. ``python tools/readme_examples.py`` rewrites README.md; ``--check`` only
says which examples differ (exit 1). An example reading ``../shared/data`` is left as it
is when that data is absent. ``tests/test_readme.py`` runs the check.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
EXAMPLE = re.compile(r"<!-- example: (?P<command>.+?) -->\n```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


def run(command: str) -> str:
    """What ``command`` (``unswap ...``) prints on stdout, run from the repository root."""
    from unswap.cli import main

    argv = shlex.split(command)[1:]
    out, here = io.StringIO(), os.getcwd()
    os.chdir(REPO)
    try:
        with contextlib.redirect_stdout(out):
            main(argv)
    finally:
        os.chdir(here)
    return out.getvalue()


def one_key_a_line(text: str) -> str:
    """A JSON object one top-level key a line (a track a line), so a README reader can scan it."""
    d = json.loads(text)
    lines = []
    for k, v in d.items():
        if k == "tracks" and v:
            inner = ",\n  ".join(json.dumps(t) for t in v)
            lines.append(f' "{k}": [\n  {inner}]')
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def available(command: str) -> bool:
    """Whether every path the command names is here (shared data may be absent)."""
    return all((REPO / a).exists() for a in shlex.split(command)[1:] if "/" in a and not a.startswith("-"))


def render(command: str, lang: str) -> str:
    out = run(command)
    return one_key_a_line(out) if lang == "json" else f"$ {command}\n{out}"


def examples(text: str):
    """(match, fresh body or None when its data is absent) for each example in ``text``."""
    for m in EXAMPLE.finditer(text):
        command = m["command"]
        yield m, render(command, m["lang"]) if available(command) else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="only say which examples differ (exit 1 if any)")
    args = p.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    stale, out, last = [], [], 0
    for m, fresh in examples(text):
        out.append(text[last:m.start("body")])
        body = m["body"] if fresh is None else fresh
        if body != m["body"]:
            stale.append(m["command"])
        out.append(body)
        last = m.end("body")
    out.append(text[last:])
    for command in stale:
        print(f"README example out of date: {command}", file=sys.stderr)
    if not args.check and stale:
        README.write_text("".join(out), encoding="utf-8")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
