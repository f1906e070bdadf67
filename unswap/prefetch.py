"""Run an iterator in a background thread so decoding overlaps with detection and scoring.

FFmpeg decodes (and OpenCV / ONNX Runtime compute) with the GIL released, so on two
cores the next frames decode while the current one is scored.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()


def prefetch(items: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Yield what ``items`` yields, produced up to ``depth`` ahead in a daemon thread.

    An exception raised by ``items`` is re-raised here, at the point it occurred. When the
    consumer stops early, the producer is told to stop at its next item.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((_END, None))
        except BaseException as err:  # handed to the consumer, not lost in the thread
            q.put((_END, err))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's finally / with blocks run (files are closed)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item, err = q.get()
            if item is _END:
                if err is not None:
                    raise err
                return
            yield item
    finally:
        stop.set()
