"""``/api/match``: an upload, or one file's posted hash list, matched against the library
(as ``unswap match --json``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from unswap.serve.library import parse_hash_list
from unswap.serve.routes.common import FILE, UPLOAD_ERRORS, errors, multipart
from unswap.serve.state import API, State
from unswap.serve.upload import ApiError

router = APIRouter()

# one of the two fields, not both: said in words, since a oneOf of `required` lists is read
# differently by different tools
_MATCH_BODY = multipart({"file": FILE, "hashes": {
    "type": "string", "description": "one file's hashes (docs/hash-format.md); send this or 'file', not both"}}, [])


@router.post("/api/match", dependencies=API, openapi_extra=_MATCH_BODY, responses=errors(*UPLOAD_ERRORS),
             summary="Match an upload, or one file's posted hash list, against the library (`unswap match --json`)")
async def match_upload(request: Request, st: State) -> dict[str, Any]:
    library = st.library
    if library is None:
        raise ApiError(400, "no_library", "this server was started without --library")
    dest, up = await st.receive_temp(request, max_field_bytes=16 * 2**20)
    try:
        extra = set(up.fields) - {"hashes"}
        if extra:
            raise ApiError(400, "bad_option", f"unknown field {sorted(extra)[0]!r} (send 'file' or 'hashes')")
        if (up.path is None) == ("hashes" not in up.fields):
            raise ApiError(400, "bad_request", "send either a file in 'file' or a hash list in 'hashes'")
        if up.path is not None:
            return await st.in_thread(library.match_file, dest, up.name)
        try:
            suspect = parse_hash_list(up.fields["hashes"])
        except ValueError as e:
            raise ApiError(400, "bad_request", str(e)) from None
        return await st.in_thread(library.match_hashes, suspect)  # not on the event loop
    finally:
        dest.unlink(missing_ok=True)
