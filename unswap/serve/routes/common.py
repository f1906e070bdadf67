"""What the routers' OpenAPI descriptions share: the error body, the error responses and
the multipart upload forms, and the parsing of an upload's option fields."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from unswap.serve.upload import ApiError

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
                403: "forbidden", 408: "timeout", 413: "too_large", 415: "not_media", 429: "queue_full",
                507: "disk_full"}
UPLOAD_ERRORS = (400, 401, 403, 408, 413, 415, 429, 507)


class Error(BaseModel):
    code: str
    message: str


def errors(*codes: int) -> dict:
    return {c: {"model": Error, "description": STATUS_CODES.get(c, "error")} for c in codes}


def multipart(props: dict, required: list[str]) -> dict:
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


FILE = {"type": "string", "format": "binary", "description": "the image or video"}


def upload_body(options) -> dict:
    """An upload's form: the file and each of ``options`` (``unswap.options.Options``), as
    their config checks them."""
    return multipart({"file": FILE, **options.json_schema()}, ["file"])


def parse_options(options, fields: dict[str, str]) -> dict[str, Any]:
    """The config keyword arguments an upload's form fields ask for; 400 ``bad_option``
    with the config's own message for a field it refuses."""
    from unswap.options import OptionError

    try:
        return options.parse(fields)
    except OptionError as e:
        raise ApiError(400, "bad_option", str(e)) from None
