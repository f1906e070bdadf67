"""The scan jobs: upload a file to scan, list the scans, read one's status, result, details
and report, delete one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from unswap.report.html import CSP as REPORT_CSP
from unswap.scan import OPTIONS
from unswap.serve.jobs import QueueFull, new_job_id
from unswap.serve.routes.common import UPLOAD_ERRORS, errors, parse_options, upload_body
from unswap.serve.state import API, State, auth_or_cookie
from unswap.serve.upload import ApiError

router = APIRouter()


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


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _progress(row) -> Progress:
    return Progress(frames_done=row["done"], frames_expected=row["expected"])


def _scan_json(row) -> dict[str, Any] | None:
    """A finished job's ``scan --json`` object, without the page's details stored beside it."""
    if not row["result"]:
        return None
    result = json.loads(row["result"])
    result.pop("details", None)
    return result


@router.get("/api/scans/{job_id}/details", dependencies=API, responses=errors(401, 404, 409),
            summary="A finished scan's faces, moments, region maps and timeline, as pictures and words")
def get_details(job_id: str, st: State) -> dict[str, Any]:
    # what the page shows beside the verdict, as the report does (each face's verdict,
    # moments and region maps, the timeline, the frames); no docstring: it would be the
    # operation's OpenAPI description
    r = st.job_row(job_id)
    if r["status"] != "done":
        raise ApiError(409, "not_finished", f"scan {job_id} is {r['status']}: no details yet")
    return json.loads(r["result"]).get("details") or {}


def _queue_full(max_queue: int) -> ApiError:
    """429: the queue is full, checked before the upload is read and again as it is stored."""
    return ApiError(429, "queue_full", f"{max_queue} scans are waiting or running; try again later")


@router.post("/api/scans", status_code=202, response_model=Created, dependencies=API,
             openapi_extra=upload_body(OPTIONS), responses=errors(*UPLOAD_ERRORS), summary="Upload a file to scan")
async def create_scan(request: Request, st: State):
    store, cfg = st.store, st.cfg
    if store.unfinished() + st.budget.scans >= cfg.max_queue:
        raise _queue_full(cfg.max_queue)
    job_id = new_job_id()
    with st.budget.slot(store.media_path(job_id), scan=True) as slot:
        up = await st.receive(request, store.media_path(job_id), slot)
    try:
        if up.path is None:
            raise ApiError(400, "bad_request", "no file: send the media in the field 'file'")
        opts = parse_options(OPTIONS, up.fields)
        try:
            store.add(job_id, up.name, opts, cfg.max_queue)
        except QueueFull:
            raise _queue_full(cfg.max_queue) from None
    except ApiError:
        store.media_path(job_id).unlink(missing_ok=True)
        raise
    return Created(id=job_id)


@router.get("/api/scans", response_model=ScanPage, dependencies=API, responses=errors(400, 401),
            summary="Past and current scans, newest first")
def list_scans(st: State, offset: int = Query(0, ge=0, le=2**31), limit: int = Query(50, ge=1, le=200)):
    total, rows = st.store.page(offset, limit)
    items = [ScanItem(id=r["id"], name=r["name"], status=r["status"], progress=_progress(r), label=r["label"],
                      p_fake=r["p_fake"], error=r["error"], created=_iso(r["created"]),
                      finished=_iso(r["finished"])) for r in rows]
    return ScanPage(items=items, total=total, offset=offset, limit=limit)


@router.get("/api/scans/{job_id}", response_model=ScanStatus, dependencies=API, responses=errors(401, 404),
            summary="A scan's status, progress and, when done, the `scan --json` object")
def get_scan(job_id: str, st: State):
    r = st.job_row(job_id)
    return ScanStatus(id=r["id"], name=r["name"], status=r["status"], progress=_progress(r),
                      result=_scan_json(r), error=r["error"],
                      created=_iso(r["created"]), finished=_iso(r["finished"]))


@router.get("/api/scans/{job_id}/report", response_class=HTMLResponse, dependencies=[Depends(auth_or_cookie)],
            responses=errors(401, 404, 409), summary="The HTML evidence report (as `scan --report` writes)")
def get_report(job_id: str, st: State):
    r = st.job_row(job_id)
    if r["status"] != "done":
        raise ApiError(409, "not_finished", f"scan {job_id} is {r['status']}: no report yet")
    return HTMLResponse(r["report"], headers={"content-security-policy": REPORT_CSP})


@router.delete("/api/scans/{job_id}", status_code=204, dependencies=API, responses=errors(401, 403, 404),
               summary="Delete a scan, its result and report (and its media, if still there)")
def delete_scan(job_id: str, st: State):
    st.job_row(job_id)
    st.store.delete(job_id)
    return Response(status_code=204)
