"""What the routes of ``unswap serve`` share: one ``ServeState`` per app, kept as
``app.state.serve`` and handed to a route by the ``State`` dependency, and the token check
(``API``, ``auth_or_cookie``) the routes depend on."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import unquote

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from unswap.serve import ServeConfig, upload
from unswap.serve.jobs import JobStore, PoolConfig, WorkerPool, new_job_id
from unswap.serve.upload import ApiError, Upload, UploadBudget

if TYPE_CHECKING:
    from unswap.serve.library import Library

TOKEN_COOKIE = "unswap_token"
_JOB_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class ServeState:
    """The server's settings and what its routes share: the job store, the worker pool,
    the library, the upload budget and the threads that hash and match."""

    cfg: ServeConfig
    store: JobStore
    pool: WorkerPool
    library: Library | None
    budget: UploadBudget  # uploads streaming at once and bytes on disk, every route together
    hashing: anyio.CapacityLimiter  # hashing and matching threads: as many as scanning workers
    words: dict[str, Any]  # what /api/vocabulary says

    @classmethod
    def create(cls, cfg: ServeConfig, library: Library | None = None) -> ServeState:
        """``library``: ``cfg.library`` already read, else read here."""
        from unswap.serve.library import Library
        from unswap.vocabulary import page_words

        store = JobStore(cfg.data, cfg.keep_media)
        return cls(cfg, store, WorkerPool(PoolConfig(cfg.data, cfg.workers, cfg.keep_media), store),
                   library if library is not None or not cfg.library
                   else Library(cfg.library, follow_links=cfg.follow_links, hidden=cfg.hidden),
                   UploadBudget(store.uploads, cfg.max_uploads, cfg.max_disk_mb * 2**20),
                   anyio.CapacityLimiter(max(1, cfg.workers)), page_words())

    def check_token(self, request: Request, cookie_ok: bool) -> None:
        """ApiError 401 unless the request carries the token (when one is set): in its
        Authorization header, or where ``cookie_ok`` in the cookie the page sets."""
        token = self.cfg.token
        if not token:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
            return
        cookie = request.cookies.get(TOKEN_COOKIE)  # the page writes it URL-encoded
        if cookie_ok and cookie and hmac.compare_digest(unquote(cookie).encode(), token.encode()):
            return
        raise ApiError(401, "unauthorized", "this server needs a token: send 'Authorization: Bearer TOKEN'")

    def job_row(self, job_id: str):
        """The store's row of the scan ``job_id``; ApiError 404 when there is none."""
        row = self.store.get(job_id) if _JOB_ID.fullmatch(job_id) else None
        if row is None:
            raise ApiError(404, "not_found", f"no scan {job_id!r}")
        return row

    async def receive(self, request: Request, dest: Path, slot, max_field_bytes: int = 4096) -> Upload:
        """The request's upload, streamed to ``dest`` within the server's size and time limits."""
        cfg = self.cfg
        return await upload.receive(request, dest, cfg.max_upload_mb * 2**20, cfg.upload_timeout_s,
                                    cfg.upload_deadline_s, slot, max_field_bytes=max_field_bytes)

    async def receive_temp(self, request: Request, max_field_bytes: int = 4096) -> tuple[Path, Upload]:
        """The request's upload, streamed to a temporary file the caller removes."""
        dest = self.store.uploads / f"{new_job_id()}.tmp"
        with self.budget.slot(dest) as slot:
            return dest, await self.receive(request, dest, slot, max_field_bytes)

    async def in_thread(self, fn, *args):
        """``fn(*args)`` in a hashing thread; a MediaError is 415 ``not_media``."""
        from unswap.media import MediaError

        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=self.hashing)
        except MediaError as e:
            raise ApiError(415, "not_media", f"not usable media: {e}") from None


def serve_state(request: Request) -> ServeState:
    return request.app.state.serve


State = Annotated[ServeState, Depends(serve_state)]
"""A route's parameter ``st: State`` is the app's ``ServeState``."""

# HTTPBearer only puts the scheme in the OpenAPI schema; check_token does the checking
_bearer = HTTPBearer(auto_error=False)


def auth(request: Request, _credentials=Depends(_bearer)) -> None:
    serve_state(request).check_token(request, cookie_ok=False)


def auth_or_cookie(request: Request, _credentials=Depends(_bearer)) -> None:
    serve_state(request).check_token(request, cookie_ok=True)


API = [Depends(auth)]
"""The dependencies of an ``/api`` route: the token, when the server has one."""
