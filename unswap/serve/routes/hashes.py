"""``/api/hash``: the PDQ hashes of an upload (docs/hash-format.md), matched against the
library; no media is kept."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from unswap.evidence.hashing import MAGIC, OPTIONS, HashConfig, format_hashes, hash_media, to_dict
from unswap.serve.routes.common import UPLOAD_ERRORS, errors, parse_options, upload_body
from unswap.serve.state import API, State
from unswap.serve.upload import ApiError

router = APIRouter()


@router.post("/api/hash", dependencies=API, openapi_extra=upload_body(OPTIONS), responses=errors(*UPLOAD_ERRORS),
             summary="PDQ hashes of an upload (docs/hash-format.md), matched against the library; keeps no media")
async def hash_upload(request: Request, st: State) -> dict[str, Any]:
    dest, up = await st.receive_temp(request)
    try:
        if up.path is None:
            raise ApiError(400, "bad_request", "no file: send the media in the field 'file'")
        cfg = HashConfig(**parse_options(OPTIONS, up.fields))
        h = await st.in_thread(hash_media, dest, cfg.sample_fps)
    finally:
        dest.unlink(missing_ok=True)
    h.path = up.name
    # a search of the whole library, in the hashing threads: not on the event loop
    found = await st.in_thread(st.library.match_hashes, h) if st.library else None
    return {"hashes": to_dict(h), "text": f"{MAGIC}\n{format_hashes(h)}\n", "match": found}
