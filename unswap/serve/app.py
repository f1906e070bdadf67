"""The app of ``unswap serve``: its routers (``unswap.serve.routes``), the state they share
(``unswap.serve.state.ServeState``), the error handlers and the security middleware.

Errors are JSON ``{"code", "message"}`` with a stable ``code``. With a token set, every
``/api`` call needs ``Authorization: Bearer TOKEN``; the report link, which a browser opens
without that header, also takes the token from the cookie the page sets.

A server on loopback is reachable from every web page its user opens, so, token or not,
a request must name a served host (``served_hosts``: no DNS rebinding), and one that
changes state (not GET or HEAD) must come from no browser or from the page's own origin.
"""

from __future__ import annotations

import sqlite3
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException

from unswap import __version__
from unswap.serve import ServeConfig, is_loopback, served_hosts
from unswap.serve.routes import hashes, matching, pages, scans, server
from unswap.serve.routes.common import STATUS_CODES
from unswap.serve.state import ServeState
from unswap.serve.upload import ApiError

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")


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


def create_app(cfg: ServeConfig, library=None) -> FastAPI:
    """The ASGI app for ``cfg``; its lifespan starts and stops the worker processes. What the
    routes share is ``app.state.serve``. ``library``: ``cfg.library`` already read (a
    ``Library``), else read here."""
    app = FastAPI(title="unswap", version=__version__, lifespan=_lifespan, docs_url=None, redoc_url=None,
                  description="Scan images and videos for face-swapped faces, hash them (PDQ) and match them "
                              "against a library, on this machine. Errors are JSON with a stable `code`.")
    app.state.serve = ServeState.create(cfg, library)
    app.add_middleware(_SameSite, hosts=served_hosts(cfg))
    app.add_middleware(_SecurityHeaders)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(sqlite3.OperationalError, _store_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.include_router(pages.router)
    app.mount("/static", pages.static_files(), name="static")
    for concern in (server, scans, hashes, matching):
        app.include_router(concern.router)
    app.openapi = lambda: _openapi(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI):
    st: ServeState = app.state.serve
    st.pool.start()  # first: jobs a killed server left running are queued again, or failed
    st.store.sweep_uploads()  # what it left half-written, and the uploads of jobs that ended
    yield
    st.pool.stop()


async def _api_error(_request, e: ApiError):
    headers = {"www-authenticate": "Bearer"} if e.status == 401 else None
    return JSONResponse({"code": e.code, "message": e.message}, e.status, headers=headers)


async def _http_error(request: Request, e: HTTPException):
    headers = {k.lower(): v for k, v in (getattr(e, "headers", None) or {}).items()}
    if e.status_code == 405:  # Starlette names the methods of one route; the path may have several
        headers["allow"] = ", ".join(_allowed_methods(request.app, request.scope))
    return JSONResponse({"code": STATUS_CODES.get(e.status_code, "error"), "message": str(e.detail)},
                        e.status_code, headers=headers or None)


async def _store_error(_request, e: sqlite3.OperationalError):
    if "full" in str(e):
        return JSONResponse({"code": "disk_full", "message": "the server's disk is full"}, 507)
    raise e


async def _invalid(_request, e: RequestValidationError):
    first = e.errors()[0] if e.errors() else {}
    where = ".".join(str(x) for x in first.get("loc", ()))
    return JSONResponse({"code": "bad_request", "message": f"{where}: {first.get('msg', 'invalid')}"}, 400)


def _allowed_methods(app: FastAPI, scope) -> list[str]:
    """The methods of every route at the request's path, the included routers' too."""
    from fastapi.routing import iter_route_contexts
    from starlette.routing import Match

    methods: set[str] = set()
    for route in iter_route_contexts(app.router.routes):
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
