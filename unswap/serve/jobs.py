"""The service's job store (SQLite in WAL mode) and its bounded pool of scanning processes.

Every job is a row; its status moves queued -> running -> done | failed. Worker processes
claim queued rows themselves (one atomic UPDATE), so the web process only inserts rows and
reads them: it never waits on a scan. A worker writes its progress, then the result (the
``scan --json`` object) and the HTML report, into the row. Rows outlive the server: at
start, rows left ``running`` by a server that died are queued again, and since uploads
live on disk under the data folder until their scan ends, they are scanned again.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import signal
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unswap.lifetime import die_with_parent

_log = logging.getLogger("unswap.serve")

STATUSES = ("queued", "running", "done", "failed")
MAX_ATTEMPTS = 3  # a job whose worker died this often is failed, not retried forever

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    name TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    expected INTEGER,
    result TEXT,
    report TEXT,
    error TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq);
"""


class QueueFull(Exception):
    """The queue holds as many unfinished jobs as it may."""


def _connect(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(db, timeout=30, isolation_level=None, check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL loses nothing when a process is killed, only on power loss.
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA busy_timeout=30000")
    return con


def _private_folder(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


class JobStore:
    """The jobs table of ``DATA/jobs.sqlite3``; safe to share between threads of one process.

    The data folder and the uploads folder are made 0700 and the database 0600 (SQLite
    gives its -wal and -shm files the database's mode): uploads and results are private
    to the user. With ``keep_media`` a finished job's upload stays until it is deleted.
    Raises OSError or sqlite3.Error for a folder that cannot be written.
    """

    def __init__(self, data: Path, keep_media: bool = False):
        self.data, self.keep_media = Path(data), keep_media
        self.uploads = self.data / "uploads"
        _private_folder(self.data)
        _private_folder(self.uploads)
        db = self.data / "jobs.sqlite3"
        os.close(os.open(db, os.O_RDWR | os.O_CREAT, 0o600))
        db.chmod(0o600)
        self._con = _connect(db)
        self._lock = threading.Lock()
        with self._lock:
            self._con.executescript(_SCHEMA)

    def media_path(self, job_id: str) -> Path:
        """Where a job's upload lives: named by the job id alone, never by the upload's name."""
        return self.uploads / f"{job_id}.media"

    def _q(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._con.execute(sql, args).fetchall()

    def _x(self, sql: str, args: tuple = ()) -> int:
        with self._lock:
            return self._con.execute(sql, args).rowcount

    def unfinished(self) -> int:
        """Jobs queued or running."""
        return self._q("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")[0][0]

    def add(self, job_id: str, name: str, options: dict[str, Any], max_unfinished: int) -> None:
        """Queue a job whose media is already at ``media_path(job_id)``; QueueFull past the bound."""
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                n = self._con.execute("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')").fetchone()[0]
                if n >= max_unfinished:
                    raise QueueFull
                self._con.execute("INSERT INTO jobs (id, name, options, status, created) VALUES (?, ?, ?, 'queued', ?)",
                                  (job_id, name, json.dumps(options), time.time()))
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    def get(self, job_id: str) -> sqlite3.Row | None:
        rows = self._q("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    def page(self, offset: int, limit: int) -> tuple[int, list[sqlite3.Row]]:
        """(total, rows newest first) without the report and result bodies."""
        total = self._q("SELECT count(*) FROM jobs")[0][0]
        rows = self._q("SELECT id, name, status, done, expected, error, created, finished,"
                       " json_extract(result, '$.label') AS label, json_extract(result, '$.p_fake') AS p_fake"
                       " FROM jobs ORDER BY seq DESC LIMIT ? OFFSET ?", (limit, offset))
        return total, rows

    def delete(self, job_id: str) -> bool:
        """Forget a job and delete its media; a worker scanning it stops at its next frame."""
        gone = self._x("DELETE FROM jobs WHERE id = ?", (job_id,)) > 0
        if gone:
            self.media_path(job_id).unlink(missing_ok=True)
        return gone

    def sweep_uploads(self) -> int:
        """Delete what ``uploads/`` holds for no queued or running job (nor, with
        ``keep_media``, a finished one): half-written uploads of a server that was killed,
        hashing's temporary files, media of failed jobs. Returns how many went."""
        keep = ("'queued', 'running', 'done', 'failed'" if self.keep_media else "'queued', 'running'")
        live = {r["id"] for r in self._q(f"SELECT id FROM jobs WHERE status IN ({keep})")}
        gone = 0
        for p in self.uploads.iterdir():
            if not (p.suffix == ".media" and p.stem in live):
                p.unlink(missing_ok=True)
                gone += 1
        return gone

    def requeue_interrupted(self) -> int:
        """At start: jobs a previous server left running are queued again (or failed, when
        their worker has died on them MAX_ATTEMPTS times); returns how many were queued."""
        self._x("UPDATE jobs SET status = 'failed', error = 'the scan stopped its worker process "
                f"{MAX_ATTEMPTS} times', finished = ? WHERE status = 'running' AND attempts >= ?",
                (time.time(), MAX_ATTEMPTS))
        return self._x("UPDATE jobs SET status = 'queued', done = 0, worker = NULL WHERE status = 'running'")

    def worker_died(self, pid: int, exitcode: int | None) -> None:
        """A worker process ended while holding jobs: queue them again, or fail them."""
        with self._lock:
            rows = self._con.execute("SELECT id, attempts FROM jobs WHERE status = 'running' AND worker = ?",
                                     (pid,)).fetchall()
        for row in rows:
            if row["attempts"] >= MAX_ATTEMPTS:
                self.fail(row["id"], f"the scan stopped its worker process {MAX_ATTEMPTS} times "
                                     f"(last exit code {exitcode})")
            else:
                self._x("UPDATE jobs SET status = 'queued', done = 0, worker = NULL WHERE id = ?", (row["id"],))

    # ---- called by workers ------------------------------------------------------------

    def claim(self, pid: int) -> sqlite3.Row | None:
        """Take the oldest queued job, atomically, for worker ``pid``."""
        rows = self._q("UPDATE jobs SET status = 'running', started = ?, attempts = attempts + 1, worker = ?"
                       " WHERE seq = (SELECT seq FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1)"
                       " RETURNING id, name, options", (time.time(), pid))
        return rows[0] if rows else None

    def progress(self, job_id: str, done: int, expected: int | None) -> bool:
        """Record frames done; False when the job was deleted meanwhile."""
        return self._x("UPDATE jobs SET done = ?, expected = ? WHERE id = ?", (done, expected, job_id)) > 0

    def finish(self, job_id: str, result: dict[str, Any], report: str) -> None:
        self._x("UPDATE jobs SET status = 'done', result = ?, report = ?, finished = ? WHERE id = ?",
                (json.dumps(result), report, time.time(), job_id))

    def fail(self, job_id: str, error: str) -> None:
        """Record the job failed, and delete its upload: it will not be scanned again."""
        if not self.keep_media:
            self.media_path(job_id).unlink(missing_ok=True)
        self._x("UPDATE jobs SET status = 'failed', error = ?, finished = ? WHERE id = ?",
                (error, time.time(), job_id))


def new_job_id() -> str:
    """A random job id: 32 hex digits, unguessable, so one user cannot read another's job."""
    return uuid.uuid4().hex


# ---- the worker processes -------------------------------------------------------------


class _Deleted(Exception):
    """The job was deleted while it was being scanned."""


def _worker_main(data: str, keep_media: bool, parent: int, poll_s: float) -> None:
    die_with_parent()  # no orphan keeps scanning (and holding the upload) after a crash
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server; it stops us
    from unswap.detectors import DEFAULT_DETECTOR, create_detector

    store = JobStore(Path(data), keep_media)
    # one loaded model per detector name, shared by every job's Scanner, so options that
    # differ from job to job never load the model again (nor fill memory with copies)
    detectors = {DEFAULT_DETECTOR: create_detector(DEFAULT_DETECTOR)}
    pid = os.getpid()
    while os.getppid() == parent:
        job = store.claim(pid)
        if job is None:
            time.sleep(poll_s)
            continue
        _run_job(store, detectors, job)


def _run_job(store: JobStore, detectors: dict, job: sqlite3.Row) -> None:
    from unswap.detectors import create_detector
    from unswap.media import MediaError
    from unswap.report import to_dict
    from unswap.report.html import gather, page_details, render_html
    from unswap.scan import ScanConfig, Scanner

    job_id, name = job["id"], job["name"]
    opts = json.loads(job["options"])
    path = store.media_path(job_id)
    last = [0.0]

    def progress(done: int, expected: int | None) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and done != expected:
            return
        last[0] = now
        if not store.progress(job_id, done, expected):
            raise _Deleted

    if not path.exists():  # an earlier try deleted it, then could not record its outcome
        store.fail(job_id, "its upload is gone: an earlier try of this scan could not save its result "
                           "(was the disk full?)")
        return
    # The outcome is recorded only once the upload is gone (unless kept): a client that
    # sees a job finished must find no trace of its media left on disk.
    finished = failed = None
    try:
        cfg = ScanConfig(keep_crops=3, **opts)
        if cfg.detector not in detectors:
            detectors[cfg.detector] = create_detector(cfg.detector)
        result = Scanner(cfg, detectors[cfg.detector]).scan(path, progress)
        inputs = gather(result)
        # the upload's name stands for the file in what the user reads; the server's own
        # path for it is no business of theirs
        result.path = inputs.hashes.path = name
        finished = ({**to_dict(result), "details": page_details(result, inputs)}, render_html(result, inputs))
    except _Deleted:
        pass
    except MediaError as e:
        failed = f"not usable media: {e}"
    except Exception as e:  # a bug: keep the service up, say so in the job
        _log.exception("scan of job %s failed", job_id)
        failed = f"internal error: {type(e).__name__}: {e}"
    finally:
        if not store.keep_media:
            path.unlink(missing_ok=True)
    if finished is not None:
        try:
            store.finish(job_id, *finished)
        except sqlite3.OperationalError as e:  # disk full: the short error line may still fit
            failed = f"the result could not be saved: {e}"
    if failed is not None:
        store.fail(job_id, failed)


@dataclass
class PoolConfig:
    data: Path
    workers: int = 1
    keep_media: bool = False
    poll_s: float = 0.1


class WorkerPool:
    """N scanning processes, kept at N: one that dies is replaced, and its job queued again."""

    def __init__(self, cfg: PoolConfig, store: JobStore):
        self.cfg, self.store = cfg, store
        self._ctx = mp.get_context("spawn")
        self._procs: list = []
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None

    def _spawn(self):
        p = self._ctx.Process(target=_worker_main, name="unswap-worker", daemon=True,
                              args=(str(self.cfg.data), self.cfg.keep_media, os.getpid(), self.cfg.poll_s))
        p.start()
        return p

    def start(self) -> None:
        self.store.requeue_interrupted()
        self._watch = threading.Thread(target=self._watch_loop, name="unswap-pool", daemon=True)
        self._watch.start()

    def _watch_loop(self) -> None:
        # Workers are started from this long-lived thread: a worker's parent-death signal
        # fires when the thread that forked it ends.
        self._procs = [self._spawn() for _ in range(self.cfg.workers)]
        while not self._stop.wait(0.5):
            for i, p in enumerate(self._procs):
                if not p.is_alive() and not self._stop.is_set():
                    _log.warning("worker %s ended (exit code %s); starting another", p.pid, p.exitcode)
                    self.store.worker_died(p.pid, p.exitcode)
                    self._procs[i] = self._spawn()
        for p in self._procs:
            p.terminate()
        for p in self._procs:
            p.join(5)
            if p.is_alive():
                p.kill()

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid]

    def stop(self) -> None:
        """Stop the workers; what they were scanning is queued again at the next start."""
        self._stop.set()
        if self._watch is not None:
            self._watch.join(15)
