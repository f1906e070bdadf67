"""Worker processes that end with their parent, even when the parent is killed (kill -9),
so no orphan keeps a model in memory, or a file open, after a crash."""

from __future__ import annotations

import os
import signal


def die_with_parent() -> None:
    """Have the kernel kill this process when its parent ends (Linux ``PR_SET_PDEATHSIG``;
    a no-op elsewhere). The signal comes when the parent *thread* that started this
    process ends, so call it in a process started from a long-lived thread."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() == 1:  # the parent died before the call: nobody would signal us
        os._exit(1)
