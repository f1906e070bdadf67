"""Run an iterator in a background thread so decoding overlaps with detection and scoring.

FFmpeg decodes (and OpenCV / ONNX Runtime compute) with the GIL released, so on two
cores the next frames decode while the current one is scored. The thread starts when
``prefetch`` is called, not at the first ``next``: a caller can start decoding, then
load a model while the first frames come in.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()


def _put(q: queue.Queue, stop: threading.Event, entry: tuple) -> bool:
    """Queue ``entry`` unless the consumer has stopped; False when it has."""
    while not stop.is_set():
        try:
            q.put(entry, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _produce(items: Iterator, q: queue.Queue, stop: threading.Event) -> None:
    # A plain function, not a method: the thread must not keep the consumer object
    # alive, or dropping it (a ``for`` loop left by ``break``) would not stop the thread.
    try:
        for item in items:
            if not _put(q, stop, (item, None)):
                return
        _put(q, stop, (_END, None))
    except BaseException as err:  # handed to the consumer, not lost in the thread
        _put(q, stop, (_END, err))
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()  # a generator's finally / with blocks run (files are closed)


class prefetch(Generic[T]):  # lower case: used like the function it replaced
    """Yield what ``items`` yields, produced up to ``depth`` ahead in a daemon thread.

    An exception raised by ``items`` is re-raised here, at the point it occurred. When the
    consumer stops early (``close()``, the ``with`` block ends, or the object is dropped),
    the producer is told to stop at its next item and ``items`` is closed.
    """

    def __init__(self, items: Iterator[T], depth: int = 4) -> None:
        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        threading.Thread(target=_produce, args=(items, self._q, self._stop), daemon=True).start()

    def __iter__(self) -> prefetch[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item, err = self._q.get()
        if item is _END:
            self._done = True
            if err is not None:
                raise err
            raise StopIteration
        return item

    def close(self) -> None:
        self._done = True
        self._stop.set()

    def __enter__(self) -> prefetch[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
