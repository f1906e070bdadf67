"""The routes of ``unswap serve``: the page, the scan jobs, hashing and matching.

Errors are JSON ``{"code", "message"}`` with a stable ``code``. With a token set, every
``/api`` call needs ``Authorization: Bearer TOKEN``; the report link, which a browser opens
without that header, also takes the token from the cookie the page sets.

A server on loopback is reachable from every web page its user opens, so, token or not,
a request must name a served host (``served_hosts``: no DNS rebinding), and one that
changes state (not GET or HEAD) must come from no browser or from the page's own origin.
"""

from __future__ import annotations

import hmac
import json
import re
import sqlite3
from urllib.parse import unquote, urlsplit
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException

from unswap import __version__
from unswap.serve import ServeConfig, is_loopback, served_hosts
from unswap.serve.jobs import (
    JobStore,
    PoolConfig,
    QueueFull,
    WorkerPool,
    new_job_id,
)
from unswap.serve.upload import ApiError, UploadBudget, receive

STATIC = Path(__file__).parent / "static"
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
TOKEN_COOKIE = "unswap_token"
_JOB_ID = re.compile(r"[0-9a-f]{32}")
_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
                 403: "forbidden", 408: "timeout", 413: "too_large", 415: "not_media", 429: "queue_full",
                 507: "disk_full"}


class Error(BaseModel):
    code: str
    message: str


class Created(BaseModel):
    id: str


class Progress(BaseModel):
    frames_done: int
    frames_expected: int | None


class ScanStatus(BaseModel):
    id: str
    name: str
    status: str
    progress: Progress
    result: dict[str, Any] | None
    error: str | None
    created: str
    finished: str | None


class ScanItem(BaseModel):
    id: str
    name: str
    status: str
    progress: Progress
    label: str | None
    p_fake: float | None
    error: str | None
    created: str
    finished: str | None


class ScanPage(BaseModel):
    items: list[ScanItem]
    total: int
    offset: int
    limit: int


class Health(BaseModel):
    status: str
    version: str
    token_required: bool


_UPLOAD_ERRORS = (400, 401, 403, 408, 413, 415, 429, 507)


def _errors(*codes: int) -> dict:
    return {c: {"model": Error, "description": _STATUS_CODES.get(c, "error")} for c in codes}


def _multipart(props: dict, required: list[str]) -> dict:
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


_FILE = {"type": "string", "format": "binary", "description": "the image or video"}


def _upload_body(options) -> dict:
    """An upload's form: the file and each of ``options`` (``unswap.options.Options``), as
    their config checks them."""
    return _multipart({"file": _FILE, **options.json_schema()}, ["file"])


def _parse_options(options, fields: dict[str, str]) -> dict[str, Any]:
    """The config keyword arguments an upload's form fields ask for; 400 ``bad_option``
    with the config's own message for a field it refuses."""
    from unswap.options import OptionError

    try:
        return options.parse(fields)
    except OptionError as e:
        raise ApiError(400, "bad_option", str(e)) from None


# one of the two fields, not both: said in words, since a oneOf of `required` lists is read
# differently by different tools
_MATCH_BODY = _multipart({"file": _FILE, "hashes": {
    "type": "string", "description": "one file's hashes (docs/hash-format.md); send this or 'file', not both"}}, [])


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _progress(row) -> Progress:
    return Progress(frames_done=row["done"], frames_expected=row["expected"])


class _SecurityHeaders:
    """Every response gets the page's CSP (unless it set its own), no sniffing, no framing, no referrer."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                if "content-security-policy" not in h:
                    h["content-security-policy"] = PAGE_CSP
                h["x-content-type-options"] = "nosniff"
                h["x-frame-options"] = "DENY"
                h["referrer-policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _host_name(host: str) -> str:
    """The name part of a Host header (``[::1]:8000`` -> ``::1``), lower case."""
    name = host.rsplit("]", 1)[0].lstrip("[") if host.startswith("[") else host.rsplit(":", 1)[0]
    return name.lower()


class _SameSite:
    """Refuses (403, JSON) a request whose Host is not served, and a state-changing one
    sent by a page of another origin: ``Sec-Fetch-Site`` cross-site or same-site, or an
    ``Origin`` that is not this Host. Clients that send neither (curl, scripts) pass."""

    def __init__(self, app, hosts: frozenset[str]):
        self.app, self.hosts = app, hosts

    def _refusal(self, scope) -> tuple[str, str] | None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        name = _host_name(host)
        if not (name in self.hosts or "*" in self.hosts or is_loopback(name)):
            return "bad_host", (f"this server does not serve the host {host!r}; "
                                "start it with --allow-host NAME to serve that name")
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return None
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return "cross_origin", "a request from another site's page is refused"
        origin = headers.get("origin")
        if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
            return "cross_origin", f"a request from the origin {origin!r} is refused"
        return None

    async def __call__(self, scope, receive, send):
        refused = self._refusal(scope) if scope["type"] == "http" else None
        if refused is None:
            return await self.app(scope, receive, send)
        await JSONResponse({"code": refused[0], "message": refused[1]}, 403)(scope, receive, send)


def create_app(cfg: ServeConfig) -> FastAPI:
    """The ASGI app for ``cfg``; its lifespan starts and stops the worker processes."""
    from unswap.detectors import DEFAULT_DETECTOR, list_detectors
    from unswap.evidence.hashing import OPTIONS as HASH_OPTIONS
    from unswap.report.html import CSP as REPORT_CSP
    from unswap.scan import OPTIONS
    from unswap.serve.library import Library

    store = JobStore(cfg.data, cfg.keep_media)
    pool = WorkerPool(PoolConfig(cfg.data, cfg.workers, cfg.keep_media), store)
    library = Library(cfg.library) if cfg.library else None
    max_bytes = cfg.max_upload_mb * 2**20
    budget = UploadBudget(store.uploads, cfg.max_uploads, cfg.max_disk_mb * 2**20)
    hashing = anyio.CapacityLimiter(max(1, cfg.workers))

    @asynccontextmanager
    async def lifespan(_app):
        pool.start()  # first: jobs a killed server left running are queued again, or failed
        store.sweep_uploads()  # what it left half-written, and the uploads of jobs that ended
        yield
        pool.stop()

    app = FastAPI(title="unswap", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Scan images and videos for face-swapped faces, hash them (PDQ) and match them "
                              "against a library, on this machine. Errors are JSON with a stable `code`.")
    app.add_middleware(_SameSite, hosts=served_hosts(cfg))
    app.add_middleware(_SecurityHeaders)
    app.state.pool = pool

    @app.exception_handler(ApiError)
    async def _api_error(_request, e: ApiError):
        headers = {"www-authenticate": "Bearer"} if e.status == 401 else None
        return JSONResponse({"code": e.code, "message": e.message}, e.status, headers=headers)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, e: HTTPException):
        headers = {k.lower(): v for k, v in (getattr(e, "headers", None) or {}).items()}
        if e.status_code == 405:  # Starlette names the methods of one route; the path may have several
            headers["allow"] = ", ".join(_allowed_methods(app, request.scope))
        return JSONResponse({"code": _STATUS_CODES.get(e.status_code, "error"), "message": str(e.detail)},
                            e.status_code, headers=headers or None)

    @app.exception_handler(sqlite3.OperationalError)
    async def _store_error(_request, e: sqlite3.OperationalError):
        if "full" in str(e):
            return JSONResponse({"code": "disk_full", "message": "the server's disk is full"}, 507)
        raise e

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request, e: RequestValidationError):
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return JSONResponse({"code": "bad_request", "message": f"{where}: {first.get('msg', 'invalid')}"}, 400)

    def _check_token(request: Request, cookie_ok: bool) -> None:
        if not cfg.token:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), cfg.token.encode()):
            return
        cookie = request.cookies.get(TOKEN_COOKIE)  # the page writes it URL-encoded
        if cookie_ok and cookie and hmac.compare_digest(unquote(cookie).encode(), cfg.token.encode()):
            return
        raise ApiError(401, "unauthorized", "this server needs a token: send 'Authorization: Bearer TOKEN'")

    # HTTPBearer only puts the scheme in the OpenAPI schema; _check_token does the checking
    bearer = HTTPBearer(auto_error=False)

    def auth(request: Request, _credentials=Depends(bearer)) -> None:
        _check_token(request, cookie_ok=False)

    def auth_or_cookie(request: Request, _credentials=Depends(bearer)) -> None:
        _check_token(request, cookie_ok=True)

    def job_row(job_id: str):
        row = store.get(job_id) if _JOB_ID.fullmatch(job_id) else None
        if row is None:
            raise ApiError(404, "not_found", f"no scan {job_id!r}")
        return row

    api = [Depends(auth)]

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", response_model=Health, summary="Liveness; says whether a token is needed")
    def healthz():
        return Health(status="ok", version=__version__, token_required=bool(cfg.token))

    @app.get("/api/config", dependencies=api, responses=_errors(401), summary="What this server offers")
    def config() -> dict[str, Any]:
        return {"keep_media": cfg.keep_media, "library": library is not None, "max_upload_mb": cfg.max_upload_mb,
                "workers": cfg.workers, "max_queue": cfg.max_queue, "detectors": list_detectors(),
                "default_detector": DEFAULT_DETECTOR, "scan_options": [o.name for o in OPTIONS]}

    _vocabulary_route(app, api)
    _details_route(app, api, job_row)

    @app.post("/api/scans", status_code=202, response_model=Created, dependencies=api, openapi_extra=_upload_body(OPTIONS),
              responses=_errors(*_UPLOAD_ERRORS), summary="Upload a file to scan")
    async def create_scan(request: Request):
        if store.unfinished() + budget.scans >= cfg.max_queue:
            raise ApiError(429, "queue_full", f"{cfg.max_queue} scans are waiting or running; try again later")
        job_id = new_job_id()
        with budget.slot(store.media_path(job_id), scan=True) as slot:
            up = await _receive(request, store.media_path(job_id), slot)
        try:
            if up.path is None:
                raise ApiError(400, "bad_request", "no file: send the media in the field 'file'")
            opts = _parse_options(OPTIONS, up.fields)
            try:
                store.add(job_id, up.name, opts, cfg.max_queue)
            except QueueFull:
                raise ApiError(429, "queue_full", f"{cfg.max_queue} scans are waiting or running; "
                                                  "try again later") from None
        except ApiError:
            store.media_path(job_id).unlink(missing_ok=True)
            raise
        return Created(id=job_id)

    @app.get("/api/scans", response_model=ScanPage, dependencies=api, responses=_errors(400, 401),
             summary="Past and current scans, newest first")
    def list_scans(offset: int = Query(0, ge=0, le=2**31), limit: int = Query(50, ge=1, le=200)):
        total, rows = store.page(offset, limit)
        items = [ScanItem(id=r["id"], name=r["name"], status=r["status"], progress=_progress(r), label=r["label"],
                          p_fake=r["p_fake"], error=r["error"], created=_iso(r["created"]),
                          finished=_iso(r["finished"])) for r in rows]
        return ScanPage(items=items, total=total, offset=offset, limit=limit)

    @app.get("/api/scans/{job_id}", response_model=ScanStatus, dependencies=api, responses=_errors(401, 404),
             summary="A scan's status, progress and, when done, the `scan --json` object")
    def get_scan(job_id: str):
        r = job_row(job_id)
        return ScanStatus(id=r["id"], name=r["name"], status=r["status"], progress=_progress(r),
                          result=_scan_json(r), error=r["error"],
                          created=_iso(r["created"]), finished=_iso(r["finished"]))

    @app.get("/api/scans/{job_id}/report", response_class=HTMLResponse, dependencies=[Depends(auth_or_cookie)],
             responses=_errors(401, 404, 409), summary="The HTML evidence report (as `scan --report` writes)")
    def get_report(job_id: str):
        r = job_row(job_id)
        if r["status"] != "done":
            raise ApiError(409, "not_finished", f"scan {job_id} is {r['status']}: no report yet")
        return HTMLResponse(r["report"], headers={"content-security-policy": REPORT_CSP})

    @app.delete("/api/scans/{job_id}", status_code=204, dependencies=api, responses=_errors(401, 403, 404),
                summary="Delete a scan, its result and report (and its media, if still there)")
    def delete_scan(job_id: str):
        job_row(job_id)
        store.delete(job_id)
        return Response(status_code=204)

    async def _receive(request: Request, dest: Path, slot, max_field_bytes: int = 4096):
        return await receive(request, dest, max_bytes, cfg.upload_timeout_s, cfg.upload_deadline_s, slot,
                             max_field_bytes=max_field_bytes)

    async def _receive_temp(request: Request, max_field_bytes: int = 4096):
        dest = store.uploads / f"{new_job_id()}.tmp"
        with budget.slot(dest) as slot:
            return dest, await _receive(request, dest, slot, max_field_bytes)

    async def _in_thread(fn, *args):
        from unswap.media import MediaError

        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=hashing)
        except MediaError as e:
            raise ApiError(415, "not_media", f"not usable media: {e}") from None

    @app.post("/api/hash", dependencies=api, openapi_extra=_upload_body(HASH_OPTIONS), responses=_errors(*_UPLOAD_ERRORS),
              summary="PDQ hashes of an upload (docs/hash-format.md), matched against the library; keeps no media")
    async def hash_upload(request: Request) -> dict[str, Any]:
        from unswap.evidence.hashing import MAGIC, HashConfig, format_hashes, hash_media, to_dict

        dest, up = await _receive_temp(request)
        try:
            if up.path is None:
                raise ApiError(400, "bad_request", "no file: send the media in the field 'file'")
            hashing_cfg = HashConfig(**_parse_options(HASH_OPTIONS, up.fields))
            h = await _in_thread(hash_media, dest, hashing_cfg.sample_fps)
        finally:
            dest.unlink(missing_ok=True)
        h.path = up.name
        return {"hashes": to_dict(h), "text": f"{MAGIC}\n{format_hashes(h)}\n",
                "match": library.match_hashes(h) if library else None}

    @app.post("/api/match", dependencies=api, openapi_extra=_MATCH_BODY, responses=_errors(*_UPLOAD_ERRORS),
              summary="Match an upload, or one file's posted hash list, against the library (`unswap match --json`)")
    async def match_upload(request: Request) -> dict[str, Any]:
        from unswap.serve.library import parse_hash_list

        if library is None:
            raise ApiError(400, "no_library", "this server was started without --library")
        dest, up = await _receive_temp(request, max_field_bytes=16 * 2**20)
        try:
            extra = set(up.fields) - {"hashes"}
            if extra:
                raise ApiError(400, "bad_option", f"unknown field {sorted(extra)[0]!r} (send 'file' or 'hashes')")
            if (up.path is None) == ("hashes" not in up.fields):
                raise ApiError(400, "bad_request", "send either a file in 'file' or a hash list in 'hashes'")
            if up.path is not None:
                return await _in_thread(library.match_file, dest, up.name)
            try:
                suspect = parse_hash_list(up.fields["hashes"])
            except ValueError as e:
                raise ApiError(400, "bad_request", str(e)) from None
            return library.match_hashes(suspect)
        finally:
            dest.unlink(missing_ok=True)

    app.openapi = lambda: _openapi(app)
    return app


def _vocabulary_route(app: FastAPI, api: list) -> None:
    """``/api/vocabulary``: the words the page says things with, from ``unswap.vocabulary``."""
    from unswap.vocabulary import page_words

    words = page_words()

    @app.get("/api/vocabulary", dependencies=api, responses=_errors(401),
             summary="Each label's headline, the detectors with what each is, the default sample rate")
    def vocabulary() -> dict[str, Any]:
        return words


def _scan_json(row) -> dict[str, Any] | None:
    """A finished job's ``scan --json`` object, without the page's details stored beside it."""
    if not row["result"]:
        return None
    result = json.loads(row["result"])
    result.pop("details", None)
    return result


def _details_route(app: FastAPI, api: list, job_row) -> None:
    """``/api/scans/{id}/details``: what the page shows beside the verdict, as the report
    does (each face's verdict, moments and region maps, the timeline, the frames)."""

    @app.get("/api/scans/{job_id}/details", dependencies=api, responses=_errors(401, 404, 409),
             summary="A finished scan's faces, moments, region maps and timeline, as pictures and words")
    def get_details(job_id: str) -> dict[str, Any]:
        r = job_row(job_id)
        if r["status"] != "done":
            raise ApiError(409, "not_finished", f"scan {job_id} is {r['status']}: no details yet")
        return json.loads(r["result"]).get("details") or {}


def _allowed_methods(app: FastAPI, scope) -> list[str]:
    from starlette.routing import Match

    methods: set[str] = set()
    for route in app.router.routes:
        if getattr(route, "methods", None) and route.matches(scope)[0] != Match.NONE:
            methods |= set(route.methods)
    return sorted(methods)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, saying what this app answers: errors are 400 with the Error body
    (never FastAPI's 422), and always JSON, also where the success is HTML."""
    from fastapi.openapi.utils import get_openapi

    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for ops in schema["paths"].values():
        for op in ops.values():
            responses = op.get("responses", {})
            if responses.pop("422", None) is not None:
                responses.setdefault("400", {"description": "bad_request"})
            for status, resp in responses.items():
                if not status.startswith("2"):
                    resp["content"] = error
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    app.openapi_schema = schema
    return schema
