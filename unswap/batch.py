"""Many files at once: folders and lists in, one result per file out, in parallel.

Which files (folders walked, links, hidden files, what is not media) is the rule of
``unswap.inputs.collect``; ``scan_many`` and ``hash_many`` run the per-file work and yield a
``FileOutcome`` per file as each finishes. Where the work runs is one argument: in this
process (``jobs=1``), in ``jobs`` worker processes, or on a Ray cluster (``ray=``: an
address, ``"auto"``, or ``""`` for a local Ray). Each worker loads the model once and keeps
it for every file it is given.

``ResultsFile`` is ``scan --out``: JSON Lines, one whole line written and flushed per file,
so a run stopped at any moment loses only the files in flight; ``--resume`` skips the files
it already holds, keyed by path, SHA-256 and detector. ``write_csv`` is the table a
moderator sorts.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from unswap.errors import MissingExtra
from unswap.lifetime import die_with_parent
from unswap.media import MediaError
from unswap.scan import ScanConfig, ScanResult, Scanner
from unswap.text import printable

__all__ = ["FileOutcome", "ResultsError", "ResultsFile", "Summary", "hash_many", "scan_many", "write_csv"]

# Progress callback of the per-file work: (path, frames done, frames expected or None).
FrameProgress = Callable[[str, int, "int | None"], None]


class ResultsError(ValueError):
    """A results file that is not what ``scan --out`` writes; ``str()`` is one line."""


# ---- the per-file work --------------------------------------------------------------------


@dataclass
class FileOutcome:
    """What became of one file: its ``result`` (a ScanResult, or MediaHashes for hashing),
    or the one-line ``error`` why it could not be read. ``sha256`` (64 hex digits) and
    ``size`` (bytes) are of the file's bytes, None when it could not be read at all."""

    path: str
    sha256: str | None
    size: int | None
    result: Any = None
    error: str | None = None


class ScanTask:
    """Scans one file; a worker builds its Scanner (and loads the model) at its first file.
    ``threads`` caps ONNX Runtime's threads, so N workers do not each take every core."""

    def __init__(self, config: ScanConfig, threads: int | None = None) -> None:
        self.config, self.threads = config, threads
        self._scanner: Scanner | None = None

    def __getstate__(self) -> dict:
        return {"config": self.config, "threads": self.threads, "_scanner": None}

    def __call__(self, path: str, progress: Callable[[int, int | None], None] | None) -> ScanResult:
        if self._scanner is None:
            from unswap.detectors import create_detector

            kwargs = {"threads": self.threads} if self.threads else {}
            self._scanner = Scanner(self.config, create_detector(self.config.detector, **kwargs))
        return self._scanner.scan(path, progress)

    @staticmethod
    def renamed(result: ScanResult, path: str) -> ScanResult:
        return replace(result, path=path, media=replace(result.media, path=path))


class HashTask:
    """PDQ-hashes one file (``unswap hash``)."""

    def __init__(self, sample_fps: float) -> None:
        self.sample_fps = sample_fps

    def __call__(self, path: str, progress=None):
        from unswap.evidence.hashing import hash_media

        return hash_media(path, self.sample_fps)

    @staticmethod
    def renamed(hashes, path: str):
        return replace(hashes, path=path)


def _file_digest(path: str) -> tuple[str, int] | tuple[None, None]:
    """``file_digest``, or (None, None) for a file it cannot read: the work itself then says
    why, in its own words."""
    from unswap.evidence.hashing import file_digest

    try:
        return file_digest(path)
    except OSError:
        return None, None


def _handle(task, path: str, source: str | None = None, digest: tuple | None = None,
            progress: FrameProgress | None = None) -> FileOutcome:
    """Run ``task`` on ``source`` (default ``path``), reported under ``path``."""
    source = source or path
    sha, size = digest or _file_digest(source)
    report = None if progress is None else (lambda done, total: progress(path, done, total))
    try:
        result = task(source, report)
    except MediaError as err:
        return FileOutcome(path, sha, size, error=str(err))
    if source != path:
        result = task.renamed(result, path)
    return FileOutcome(path, sha, size, result)


# ---- where it runs ------------------------------------------------------------------------


def default_jobs() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _run(make_task: Callable[[int | None], Any], paths: Iterable[str], jobs: int | None, ray: str | None,
         progress: FrameProgress | None) -> Iterator[FileOutcome]:
    """Each path's outcome, as it finishes; ``make_task(threads)`` builds the per-file work."""
    if ray is not None:
        yield from _on_ray(make_task, paths, ray, jobs)
        return
    jobs = jobs or default_jobs()
    if jobs <= 1:
        task = make_task(None)
        for path in paths:
            yield _handle(task, path, progress=progress)
        return
    yield from _on_processes(make_task(1), paths, jobs, progress)


def scan_many(paths: Iterable[str], config: ScanConfig = ScanConfig(), *, jobs: int | None = None,
              ray: str | None = None, progress: FrameProgress | None = None) -> Iterator[FileOutcome]:
    """Scan each file; yield its FileOutcome (``result`` a ScanResult) as each one finishes.

    ``jobs``: worker processes (default: the cores; 1 scans in this process). ``ray``: run on
    Ray instead, with ``jobs`` actors (default: the cluster's CPUs): ``""`` starts a local
    Ray (or joins the one this process already has), ``"auto"`` or ``"host:port"`` joins a
    cluster; file bytes reach the actors through Ray's object store. ``progress(path,
    frames_done, frames_expected)`` follows the frames of the files being scanned.
    Results are the same wherever they run; the order is the order they finish in.
    """
    return _run(lambda threads: ScanTask(config, threads), paths, jobs, ray, progress)


def hash_many(paths: Iterable[str], sample_fps: float, *, jobs: int | None = None,
              ray: str | None = None) -> Iterator[FileOutcome]:
    """PDQ-hash each file (``result`` a MediaHashes), run as ``scan_many`` runs."""
    return _run(lambda threads: HashTask(sample_fps), paths, jobs, ray, None)


_worker_task = None
_worker_queue = None


def _worker_init(task, queue) -> None:
    global _worker_task, _worker_queue
    die_with_parent()  # the forkserver, which itself dies with this batch's process
    _worker_task, _worker_queue = task, queue


def _worker_progress(path: str, done: int, total: int | None) -> None:
    _worker_queue.put_nowait((path, done, total))


def _worker_handle(path: str) -> FileOutcome:
    return _handle(_worker_task, path, progress=_worker_progress if _worker_queue is not None else None)


def _on_processes(task, paths: Iterable[str], jobs: int, progress: FrameProgress | None) -> Iterator[FileOutcome]:
    import multiprocessing
    import queue as queue_errors
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # forkserver: workers fork from a clean process that imported unswap once (fast to
    # start), never from this one, whose threads a fork would copy mid-state.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["unswap._forkserver", "unswap.batch", "unswap.detectors"])
    frames = ctx.Queue() if progress else None

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init, initargs=(task, frames))

    # A worker that dies (killed, or a decoder crashing on a hostile file) breaks the whole
    # pool, and which of the files in flight it had cannot be told: each is tried once more
    # in a new pool, and a file that is in flight at a second death gets the error.
    pool, pending, retry, tried = new_pool(), {}, deque(), set()
    todo = iter(paths)
    try:
        while True:
            # two files per worker in flight: the next one is ready when a worker finishes
            for path in itertools.chain((retry.popleft() for _ in range(len(retry))), todo):
                pending[pool.submit(_worker_handle, path)] = path
                if len(pending) >= 2 * jobs:
                    break
            if not pending:
                return
            done, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            while frames is not None:
                try:
                    progress(*frames.get_nowait())
                except queue_errors.Empty:
                    break
            broken = []
            for fut in done:
                path = pending.pop(fut)
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    broken.append(path)
                    continue
                yield outcome
            if not broken:
                continue
            for fut, path in pending.items():
                try:
                    yield fut.result()  # finished before the pool broke
                except BrokenProcessPool:
                    broken.append(path)
            pending.clear()
            pool.shutdown(wait=True)
            pool = new_pool()
            for path in broken:
                if path in tried:
                    yield FileOutcome(path, *_file_digest(path), error="the worker process scanning it died")
                else:
                    tried.add(path)
                    retry.append(path)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _Actor:
    """A Ray actor holding one task (and its loaded model); files come to it as bytes."""

    def __init__(self, task) -> None:
        self.task = task

    def handle(self, path: str, data: bytes, sha256: str, size: int) -> FileOutcome:
        with tempfile.TemporaryDirectory(prefix="unswap-") as tmp:
            local = os.path.join(tmp, "file" + os.path.splitext(path)[1])
            with open(local, "wb") as f:
                f.write(data)
            return _handle(self.task, path, local, (sha256, size))


def _import_ray():
    try:
        import ray
    except ImportError:
        raise MissingExtra("ray", "--ray") from None
    return ray


def _read_for_ray(path: str) -> tuple[bytes | None, FileOutcome | None]:
    """The file's bytes, or the outcome of a file that cannot be read here."""
    from unswap.media import readable_file

    try:
        if os.path.isfile(path) and os.path.getsize(path) == 0:
            return b"", None  # the worker says "file is empty", as for any other empty file
        readable_file(path)
        return Path(path).read_bytes(), None
    except MediaError as err:
        return None, FileOutcome(path, None, None, error=str(err))
    except OSError as err:
        return None, FileOutcome(path, None, None, error=f"cannot read file ({err.strerror or err})")


def _on_ray(make_task, paths: Iterable[str], address: str, actors: int | None) -> Iterator[FileOutcome]:
    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address or None, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    cpus = ray.cluster_resources().get("CPU", 1.0)
    n = actors or max(1, int(cpus))
    # an actor a CPU, or a share of one when asked for more actors than the cluster has
    # CPUs (else the extra actors would wait for a CPU forever, and their files with them)
    remote = ray.remote(num_cpus=min(1.0, cpus / n))(_Actor)
    pool = [remote.remote(make_task(1 if n > 1 else None)) for _ in range(n)]
    idle = pool * 2  # two files per actor in flight: the next one's bytes travel while one scans
    running: dict = {}

    def finished() -> FileOutcome:
        [ref], _ = ray.wait(list(running), num_returns=1)
        idle.append(running.pop(ref))
        return ray.get(ref)

    try:
        for path in paths:
            data, failed = _read_for_ray(path)
            if failed is not None:
                yield failed
                continue
            while not idle:
                yield finished()
            actor = idle.pop()
            running[actor.handle.remote(path, ray.put(data), hashlib.sha256(data).hexdigest(), len(data))] = actor
        while running:
            yield finished()
    finally:
        for actor in pool:
            ray.kill(actor)
        if started:
            ray.shutdown()


# ---- results: --out, --resume, --csv ------------------------------------------------------


def record_key(record: dict[str, Any]) -> tuple[str, str | None, str]:
    """What ``--resume`` matches a file by: path, SHA-256 and detector (name.version)."""
    det = record.get("detector") or {}
    return record["path"], record.get("sha256"), f"{det.get('name')}.{det.get('version')}"


class ResultsFile:
    """A JSON Lines results file (``scan --out``), appended one whole line per file.

    Opening it reads the lines already there; a torn last line (a run killed mid-write) is
    cut off, so its file is done again. Each ``append`` writes one line and flushes it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.records: list[dict[str, Any]] = []
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        except OSError as err:
            raise ResultsError(f"cannot read ({err.strerror or err})") from None
        # Every line is written whole with its line end: bytes after the last line end are
        # the torn line of a run killed mid-write, cut off here so that file is done again.
        good = data.rfind(b"\n") + 1
        for n, line in enumerate(data[:good].splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                record_key(record)
            except (ValueError, KeyError, TypeError, AttributeError):
                raise ResultsError(f"line {n} is not a result record of 'unswap scan --out'") from None
            self.records.append(record)
        try:
            self._f = open(self.path, "ab")
            self._f.truncate(good)
        except OSError as err:
            raise ResultsError(f"cannot write ({err.strerror or err})") from None

    def done(self) -> set[tuple[str, str | None, str]]:
        """Keys (``record_key``) of the files already in the file."""
        return {record_key(r) for r in self.records}

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line, and flush it to the file."""
        self._f.write(json.dumps(record).encode() + b"\n")
        self._f.flush()
        self.records.append(record)

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def pending(files: Iterable[str], done: set[tuple[str, str | None, str]], detector: str) -> Iterator[str]:
    """The files not yet in ``done`` (a ResultsFile's keys) with their current bytes and
    ``detector``; only files whose path is there are read to check."""
    paths = {key[0] for key in done}
    for path in files:
        if path not in paths or (path, _file_digest(path)[0], detector) not in done:
            yield path


CSV_COLUMNS = ["path", "label", "p_fake", "track_id", "track_start_s", "track_end_s", "faces", "duration_s", "error"]


def _csv_row(record: dict[str, Any]) -> dict[str, Any]:
    tracks = [t for t in record.get("tracks", []) if t.get("p_fake") is not None]
    # the file's p_fake is its most suspect track's (seen in 2+ frames): name that track
    worst = next((t for t in tracks if t["p_fake"] == record["p_fake"]), None) or max(
        tracks, key=lambda t: t["p_fake"], default=None)
    media = record.get("media") or {}
    return {"path": record["path"], "label": record.get("label") or "", "p_fake": record.get("p_fake"),
            "track_id": None if worst is None else worst["track_id"],
            "track_start_s": None if worst is None else worst["start_s"],
            "track_end_s": None if worst is None else worst["end_s"],
            "faces": len(record.get("tracks", [])) if record.get("error") is None else None,
            "duration_s": media.get("duration_s"), "error": record.get("error") or ""}


def write_csv(records: Iterable[dict[str, Any]], path: str | os.PathLike[str]) -> int:
    """One row per file (the last record of each path), highest p_fake first, files
    without a p_fake (no face, errors) last; returns the number of rows."""
    latest = {r["path"]: r for r in records}
    rows = sorted(map(_csv_row, latest.values()),
                  key=lambda r: (r["p_fake"] is None, -(r["p_fake"] or 0.0), r["path"]))
    # a file name's bytes that are not UTF-8 are written back as the same bytes
    with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
        w = csv.DictWriter(f, CSV_COLUMNS)
        w.writeheader()
        w.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    return len(rows)


# ---- what a person sees -------------------------------------------------------------------


@dataclass
class Summary:
    """Counts of a batch run, for its closing line."""

    total: int = 0
    started: float = field(default_factory=time.monotonic)
    labels: Counter = field(default_factory=Counter)
    errors: int = 0
    skipped: int = 0
    resumed: int = 0

    @property
    def done(self) -> int:
        return sum(self.labels.values()) + self.errors

    def add(self, outcome: FileOutcome) -> None:
        if outcome.error is not None:
            self.errors += 1
        else:
            self.labels[getattr(outcome.result, "label", "hashed")] += 1

    def rate(self) -> float:
        return self.done / max(time.monotonic() - self.started, 1e-9)

    def progress_text(self, current: str | None = None, frames: tuple[int, int | None] | None = None) -> str:
        """``12/26 files, 0.8 files/s, ETA 18 s`` and the current file's frames."""
        rate = self.rate()
        text = f"{self.done}/{self.total} files, {rate:.2f} files/s"
        if self.done and rate > 0:
            text += f", ETA {(self.total - self.done) / rate:.0f} s"
        if current is not None and frames is not None:
            done, expected = frames
            text += f"; {printable(os.path.basename(current))} frame {done}" + (f"/{expected}" if expected else "")
        return text

    def text(self) -> str:
        """The closing line: counts per label, errors, skipped, wall time, files/s."""
        wall = time.monotonic() - self.started
        counts = ", ".join(f"{label} {n}" for label, n in sorted(self.labels.items())) or "none"
        text = (f"{self.done} file(s) in {wall:.1f} s ({self.rate():.2f} files/s): {counts}; "
                f"{self.errors} error(s); {self.skipped} skipped")
        if self.resumed:
            text += f"; {self.resumed} already in the results file"
        return text
