"""The server itself: ``/healthz``, ``/api/config`` (what it offers) and ``/api/vocabulary``
(the words the page says things with, from ``unswap.vocabulary``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from unswap import __version__
from unswap.detectors import DEFAULT_DETECTOR, list_detectors
from unswap.scan import OPTIONS
from unswap.serve.routes.common import errors
from unswap.serve.state import API, State

router = APIRouter()


class Health(BaseModel):
    status: str
    version: str
    token_required: bool


@router.get("/healthz", response_model=Health, summary="Liveness; says whether a token is needed")
def healthz(st: State):
    return Health(status="ok", version=__version__, token_required=bool(st.cfg.token))


@router.get("/api/config", dependencies=API, responses=errors(401), summary="What this server offers")
def config(st: State) -> dict[str, Any]:
    cfg = st.cfg
    return {"keep_media": cfg.keep_media, "library": st.library is not None, "max_upload_mb": cfg.max_upload_mb,
            "workers": cfg.workers, "max_queue": cfg.max_queue, "detectors": list_detectors(),
            "default_detector": DEFAULT_DETECTOR, "scan_options": [o.name for o in OPTIONS]}


@router.get("/api/vocabulary", dependencies=API, responses=errors(401),
            summary="Each label's headline, the detectors with what each is, the default sample rate")
def vocabulary(st: State) -> dict[str, Any]:
    return st.words
