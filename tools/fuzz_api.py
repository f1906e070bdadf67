"""Fuzz ``unswap serve``'s API from its own OpenAPI schema with schemathesis, for a bounded
number of cases per operation.

Starts a server on 127.0.0.1 (fresh data folder, a token, a library of the bundled sample's
hashes, so every route is reachable), runs every schemathesis check but one, and exits with
schemathesis's status. The check left out, positive_data_acceptance, expects any body the
schema allows to be accepted; the schema can say "a binary file" but not "an image or
video", so random bytes are rightly answered 415.

    python -m tools.fuzz_api --max-examples 200 --seed 1

Run as a module from the repository root: it starts the server with the tests' own
loopback helper (``tests.helpers.serve_server``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.helpers.paths import REPO
from tests.helpers.serve_server import Server
from unswap.evidence.hashing import hash_media, write_hashes

TOKEN = "fuzz-token"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-examples", type=int, default=100, help="cases per operation and phase (default 100)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1, help="the server's scanning processes (default 1)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library.txt"
        with open(library, "w") as f:
            write_hashes([hash_media(REPO / "unswap" / "samples" / "astronaut.jpg")], f)
        with Server(Path(tmp) / "data", "--token", TOKEN, "--library", str(library),
                    "--workers", str(args.workers)) as server:
            cmd = [sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
                   "run", f"{server.url}/openapi.json", "--checks", "all",
                   "--exclude-checks", "positive_data_acceptance", "--max-examples", str(args.max_examples),
                   "--seed", str(args.seed), "--header", f"Authorization: Bearer {TOKEN}", "--workers", "1",
                   "--generation-database", "none", "--no-color", "--request-timeout", "60"]
            # run in the temporary folder: schemathesis leaves its own files where it runs
            return subprocess.run(cmd, check=False, cwd=tmp).returncode


if __name__ == "__main__":
    sys.exit(main())
