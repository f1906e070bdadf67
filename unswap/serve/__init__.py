"""``unswap serve``: a local web page and HTTP API over the same Scanner the CLI uses.

``app.py`` makes the app (error handlers, security middleware), ``routes/`` has its
routers, one per concern, ``state.py`` what they share, ``jobs.py`` the SQLite job store
and the worker processes, ``upload.py`` the streaming upload, ``static/`` the page. FastAPI and uvicorn come with
the ``serve`` extra; this module imports neither, so the CLI can say what is missing.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from unswap.errors import MissingExtra

@dataclass
class ServeConfig:
    """Every setting of ``unswap serve``."""

    host: str = "127.0.0.1"
    port: int = 8000
    data: Path | None = None
    workers: int = 1
    token: str | None = None
    max_upload_mb: int = 2048
    library: Path | None = None
    follow_links: bool = False  # a --library folder: follow links out of it (unswap.inputs.collect)
    hidden: bool = False  # a --library folder: read its hidden files and folders too
    keep_media: bool = False
    max_queue: int = 64  # unfinished jobs (queued or running) before a new one gets 429
    upload_timeout_s: float = 60.0  # an upload that sends nothing this long is refused
    upload_deadline_s: float = 1800.0  # an upload not finished this long after it began is refused
    max_uploads: int = 16  # uploads streaming at once, every route together
    max_disk_mb: int = 8192  # bytes under DATA/uploads (queued media and uploads streaming)
    allowed_hosts: tuple[str, ...] = ()  # Host names served beyond loopback and --host; "*": any


def check_token(token: str | None) -> None:
    """Raise ValueError for a token no request could send: blank, or with spaces at its
    ends (the page and HTTP clients trim them)."""
    if token is not None and (not token.strip() or token != token.strip()):
        raise ValueError("--token must not be blank nor start or end with a space")


def served_hosts(cfg: ServeConfig) -> frozenset[str]:
    """Host names (lower case, no port) a request may name: loopback names, the address
    listened on unless it is a wildcard, and ``allowed_hosts``. A web page on another
    site that rebinds its own name to 127.0.0.1 sends its own name, and is refused."""
    names = {"localhost", "127.0.0.1", "::1", *(h.lower() for h in cfg.allowed_hosts)}
    if cfg.host not in ("0.0.0.0", "::", ""):
        names.add(cfg.host.strip("[]").lower())
    return frozenset(names)


def default_data_dir() -> Path:
    """The per-user data folder: $XDG_DATA_HOME/unswap (default ~/.local/share/unswap),
    or ~/Library/Application Support/unswap on macOS, %LOCALAPPDATA%\\unswap on Windows."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "unswap"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local")) / "unswap"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "unswap"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_extra() -> None:
    """Raise MissingExtra unless the serve extra's packages import."""
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise MissingExtra("serve", "unswap serve") from None


def run(cfg: ServeConfig, library=None) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM), then stop the workers. ``library``:
    ``cfg.library`` already read (a ``unswap.serve.library.Library``), else read here."""
    import uvicorn

    from unswap.serve.app import create_app

    app = create_app(cfg, library)
    url_host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
    print(f"unswap serve: http://{url_host}:{cfg.port}/ ({cfg.workers} worker(s), data in {cfg.data})",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_level="warning", access_log=False,
                h11_max_incomplete_event_size=16384)
