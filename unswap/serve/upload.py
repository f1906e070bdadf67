"""Receiving an upload: a multipart body streamed to one file on disk, never held whole.

The body is parsed as it arrives (python-multipart's streaming parser). The media part goes
straight to a file named by the caller (the job id), and the byte count is checked on every
chunk, so an upload past the limit is refused while it is still streaming. The upload's own
name is kept as text to show, never used as a path. What the file is, is told from its
first bytes, not from its name or the type the client claims.
"""

from __future__ import annotations

import asyncio
import errno
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

SNIFF_BYTES = 512
MAX_PARTS = 16
MAX_HEADER_BYTES = 4096  # one header line of a part: a name and a filename fit many times
MAX_NAME_CHARS = 255


class ApiError(Exception):
    """A request refused: HTTP status, a stable code for programs, one line for people."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def is_media(head: bytes) -> bool:
    """Whether these first bytes start an image or video container unswap can read."""
    if head[:3] == b"\xff\xd8\xff" or head[:8] == b"\x89PNG\r\n\x1a\n" or head[:6] in (b"GIF87a", b"GIF89a"):
        return True
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"AVI "):
        return True
    if head[:4] in (b"II*\x00", b"MM\x00*") or head[:2] == b"BM":
        return True
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):  # MP4, MOV, HEIC, AVIF
        return True
    if head[:4] in (b"\x1aE\xdf\xa3", b"OggS", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3") or head[:3] == b"FLV":
        return True
    if head[:8] == b"\x30\x26\xb2\x75\x8e\x66\xcf\x11":  # ASF / WMV
        return True
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n":  # JPEG 2000
        return True
    return len(head) > 188 and head[0] == 0x47 and head[188] == 0x47  # MPEG transport stream


def display_name(filename: str | None) -> str:
    """The upload's name as shown to people: its last path component, control characters
    dropped, at most MAX_NAME_CHARS; 'upload' when nothing is left."""
    text = "".join(c for c in (filename or "") if c.isprintable())
    name = PurePosixPath(text.replace("\\", "/")).name.strip()
    return name[:MAX_NAME_CHARS] if name not in ("", ".", "..") else "upload"


class UploadBudget:
    """What every upload route shares: at most ``max_count`` uploads streaming at once, and
    at most ``max_bytes`` under ``folder`` (queued media plus what is streaming), checked
    before a byte is stored and on every chunk. One event loop calls it: no lock needed."""

    def __init__(self, folder: Path, max_count: int, max_bytes: int):
        self.folder, self.max_count, self.max_bytes = folder, max_count, max_bytes
        self.scans = 0
        self.streaming = 0  # bytes received by the uploads streaming now
        self.stored = 0  # bytes of the other files under the folder, as last measured
        self._dests: set[str] = set()

    def _measure(self) -> None:
        with os.scandir(self.folder) as it:
            self.stored = sum(e.stat().st_size for e in it
                              if e.name not in self._dests and e.is_file(follow_symlinks=False))

    def full(self) -> ApiError:
        return ApiError(429, "busy", f"uploads waiting to be scanned fill the {self.max_bytes // 2**20} MB "
                                     "this server keeps for them; try again later")

    @contextmanager
    def slot(self, dest: Path, scan: bool = False) -> Iterator[_Slot]:
        """The share of one upload to ``dest`` (a file in the folder), given back when it
        ends; ApiError 429 when none is free."""
        if len(self._dests) >= self.max_count:
            raise ApiError(429, "busy", f"{self.max_count} uploads are streaming; try again later")
        self._measure()
        if self.stored >= self.max_bytes:
            raise self.full()
        s = _Slot(self)
        self._dests.add(dest.name)
        self.scans += scan
        try:
            yield s
        finally:
            self._dests.discard(dest.name)
            self.scans -= scan
            self.streaming -= s.taken

    def take(self, s: _Slot, n: int) -> None:
        """Count ``n`` more bytes of one upload; ApiError 429 past the budget."""
        s.taken += n
        self.streaming += n
        if self.stored + self.streaming > self.max_bytes:
            self._measure()  # media may have gone since: scans end
            if self.stored + self.streaming > self.max_bytes:
                raise self.full()

    def room(self) -> int:
        return self.max_bytes - self.stored - self.streaming


@dataclass
class _Slot:
    budget: UploadBudget
    taken: int = 0


@dataclass
class Upload:
    """What was received: the media file (None when none was sent), its display name,
    its size in bytes, and the other form fields as text."""

    path: Path | None
    name: str
    size: int
    fields: dict[str, str] = field(default_factory=dict)


class _Receiver:
    def __init__(self, dest: Path, max_bytes: int, file_fields: tuple[str, ...], max_field_bytes: int,
                 slot: _Slot | None):
        self.dest, self.max_bytes, self.file_fields, self.max_field_bytes = dest, max_bytes, file_fields, max_field_bytes
        self.slot = slot
        self.parts = 0
        self.fields: dict[str, str] = {}
        self.size = 0
        self.name: str | None = None
        self._file = None
        self._head = b""
        self._sniffed = False
        self._header_field = b""
        self._headers: dict[bytes, bytes] = {}
        self._part_name: str | None = None
        self._field_buf = bytearray()
        self._is_file = False
        self.open_part = False

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._hfield, "on_header_value": self._hvalue,
                "on_header_end": self._hend, "on_headers_finished": self._hdone, "on_part_data": self._data,
                "on_part_end": self._end}

    def _begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise ApiError(400, "bad_request", f"more than {MAX_PARTS} form fields")
        self._headers, self._header_field, self._field_buf = {}, b"", bytearray()
        self.open_part = True

    def _hfield(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _hvalue(self, data: bytes, start: int, end: int) -> None:
        key = self._header_field.lower()
        self._headers[key] = self._headers.get(key, b"") + data[start:end]

    def _hend(self) -> None:
        self._header_field = b""

    def _hdone(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name")
        if name is None:
            raise ApiError(400, "bad_request", "a form field without a name")
        self._part_name = name.decode("utf-8", "replace")
        if self._part_name in self.fields:  # which of two values was meant cannot be told
            raise ApiError(400, "bad_request", f"more than one {self._part_name!r} field")
        self._is_file = self._part_name in self.file_fields
        if self._is_file:
            if self._file is not None:
                raise ApiError(400, "bad_request", f"more than one {self._part_name!r} field")
            self.name = display_name(params.get(b"filename", b"").decode("utf-8", "replace"))
            # the job id's file: exclusive, never a given name, readable by this user alone
            with _disk_full_is_507():
                self._file = os.fdopen(os.open(self.dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if not self._is_file:
            self._field_buf += chunk
            if len(self._field_buf) > self.max_field_bytes:
                raise ApiError(413, "too_large", f"form field {self._part_name!r} over {self.max_field_bytes} bytes")
            return
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise ApiError(413, "too_large", f"the upload is over the limit of {self.max_bytes // 2**20} MB")
        if self.slot is not None:
            self.slot.budget.take(self.slot, len(chunk))
        if not self._sniffed:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
            if len(self._head) >= SNIFF_BYTES:
                self._sniff()
        with _disk_full_is_507():
            self._file.write(chunk)

    def _sniff(self) -> None:
        self._sniffed = True
        if not is_media(self._head):
            raise ApiError(415, "not_media", "the file is not an image or video unswap reads "
                                                "(told from its first bytes, not its name)")

    def _end(self) -> None:
        self.open_part = False
        if self._is_file:
            if not self._sniffed:
                self._sniff()
            self._is_file = False
            return
        try:
            self.fields[self._part_name] = self._field_buf.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "bad_request", f"form field {self._part_name!r} is not UTF-8 text") from None

    def close(self) -> None:
        """Close the file (its last bytes may meet a full disk: ApiError 507), once."""
        f, self._file = self._file, None
        if f is not None:
            with _disk_full_is_507():
                f.close()


@contextmanager
def _disk_full_is_507() -> Iterator[None]:
    try:
        yield
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise ApiError(507, "disk_full", "the server's disk is full: the upload was not kept") from None


def _discard(rx: _Receiver, dest: Path) -> None:
    try:
        rx.close()
    except ApiError:
        pass  # the upload is refused already; its file goes all the same
    dest.unlink(missing_ok=True)


async def receive(request, dest: Path, max_bytes: int, timeout_s: float, deadline_s: float = float("inf"),
                  slot: _Slot | None = None, *, file_fields: tuple[str, ...] = ("file",),
                  max_field_bytes: int = 4096) -> Upload:
    """Stream a multipart/form-data request body: the part named in ``file_fields`` to
    ``dest``, the other fields into memory (each at most ``max_field_bytes``), within
    ``timeout_s`` of silence and ``deadline_s`` in all, counting its bytes against the
    ``slot`` this request holds of an UploadBudget. Raises ApiError (and leaves no file at ``dest``)
    for a malformed, oversize, stalled, slow or not-media upload, or one over the budget."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise ApiError(400, "bad_request", "send the media as multipart/form-data in the field 'file'")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes + MAX_PARTS * max_field_bytes + 65536:
        raise ApiError(413, "too_large", f"the upload is over the limit of {max_bytes // 2**20} MB")
    if slot is not None and declared is not None and declared.isdigit() and int(declared) > slot.budget.room() + 65536:
        raise slot.budget.full()
    rx = _Receiver(dest, max_bytes, file_fields, max_field_bytes, slot)
    parser = MultipartParser(boundary, rx.callbacks(), max_header_count=8, max_header_size=MAX_HEADER_BYTES)
    chunks = request.stream().__aiter__()
    end = time.monotonic() + deadline_s
    try:
        while True:
            left = end - time.monotonic()
            try:
                chunk = await asyncio.wait_for(chunks.__anext__(), min(timeout_s, max(left, 0)))
            except StopAsyncIteration:
                break
            except TimeoutError:
                if left < timeout_s:  # a trickle that sends a byte now and then is still cut off
                    raise ApiError(408, "timeout", f"the upload took over {deadline_s:g} s") from None
                raise ApiError(408, "timeout", f"no upload data for {timeout_s:g} s") from None
            except ClientDisconnect:  # nobody is left to answer; the file goes all the same
                raise ApiError(400, "bad_request", "the client went away during the upload") from None
            if chunk:
                parser.write(chunk)
        parser.finalize()
        if rx.open_part or rx.parts == 0:
            raise ApiError(400, "bad_request", "the multipart body ends before its closing boundary")
        rx.close()
    except MultipartParseError as e:
        _discard(rx, dest)
        too_big = "header" in str(e).lower()
        raise ApiError(400, "header_too_large" if too_big else "bad_request",
                          f"malformed multipart body: {e}") from None
    except BaseException:
        _discard(rx, dest)
        raise
    return Upload(dest if rx.name is not None else None, rx.name or "", rx.size, rx.fields)
