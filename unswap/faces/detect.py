"""Face detection with YuNet (``yuface`` wheel: weights compiled in, BSD-3, offline).

Chosen over MediaPipe (pins numpy<2, pulls JAX) and dlib's 68-point model
(non-commercial): YuNet is small, fast on a CPU (~13 ms a frame at 512 px here; 34 ms at 640) and gives the
five landmarks the crop geometry needs.

yuface's Python binding holds the GIL for the whole detection (13 ms a frame), which
stalls the thread decoding the next frames. The same compiled function in the wheel's
``libfacedetection.so`` is called through ctypes instead, which releases the GIL; its
output is the binding's, value for value (tests/faces/test_detect.py). The library runs its
layers on an OpenMP team (its own vendored libgomp); during a scan both cores are already
decoding, and a two-thread team then spins waiting for a core: about 0.7 CPU-seconds
lost per 10 s clip. It is kept to one thread. If the library or its symbol is missing,
the binding is used.
"""

from __future__ import annotations

import ctypes
import threading
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from unswap.types import Faces

DETECT_MAX_SIDE = 512


def detect_faces(
    image: np.ndarray, min_confidence: float = 0.6, max_side: int = DETECT_MAX_SIDE
) -> Faces:
    """Find faces in an (H, W, 3) uint8 RGB image.

    The image is shrunk so its longer side is at most ``max_side`` for detection; boxes
    and landmarks come back in pixels of ``image``.
    """
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = image if scale == 1.0 else shrink(image, (max(1, round(w * scale)), max(1, round(h * scale))))
    bgr = np.ascontiguousarray(small[:, :, ::-1])
    raw = _detect_cnn(bgr)
    if raw.size == 0:
        return Faces.empty()
    raw = raw.astype(np.float32)
    conf = raw[:, 0] / 100.0
    keep = conf >= min_confidence
    raw, conf = raw[keep], conf[keep]
    if len(raw) == 0:
        return Faces.empty()
    xywh = raw[:, 1:5] / scale
    boxes = np.stack([xywh[:, 0], xywh[:, 1], xywh[:, 0] + xywh[:, 2], xywh[:, 1] + xywh[:, 3]], 1)
    landmarks = raw[:, 5:15].reshape(-1, 5, 2) / scale
    return Faces(boxes=boxes, landmarks=landmarks, scores=conf)


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` resized down to ``size`` (width, height) without aliasing, fast.

    OpenCV's area filter is exact but slow at fractional factors (about 5 ms for 1080p to
    512 px here); area-averaging by the largest whole factor first, then a bilinear step
    of less than 2x, looks the same to the face detector at a tenth of the cost.
    """
    h, w = image.shape[:2]
    k = int(min(w / size[0], h / size[1]))
    if k >= 2:
        image = cv2.resize(image, (w // k, h // k), interpolation=cv2.INTER_AREA)
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


_BUFFER_BYTES = 0x9000  # libfacedetection's DETECT_BUFFER_SIZE: an int count, then 16 shorts a face
_cnn_lock = threading.Lock()


@cache
def _cnn_function():
    """libfacedetection's ``facedetect_cnn`` and its OpenMP ``omp_set_num_threads`` through
    ctypes; None for either that is unavailable."""
    import yuface

    try:
        lib = ctypes.CDLL(str(Path(yuface.__file__).parent / "libfacedetection.so"))
        fn = lib._Z14facedetect_cnnPhS_iii  # int* facedetect_cnn(uchar* buf, uchar* bgr, int w, int h, int step)
    except (OSError, AttributeError):
        return None, None
    fn.restype = ctypes.POINTER(ctypes.c_int)
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    threads = getattr(lib, "omp_set_num_threads", None)  # found through the library's libgomp
    return fn, threads


def _detect_cnn(bgr: np.ndarray, use_ctypes: bool = True) -> np.ndarray:
    """YuNet on a contiguous (H, W, 3) uint8 BGR image: (N, 15) int rows of confidence
    (0-100), box x, y, w, h and five landmark x, y pairs, as ``yuface.c_detect`` gives."""
    fn, threads = _cnn_function() if use_ctypes else (None, None)
    if fn is None:
        import yuface

        return np.asarray(yuface.c_detect(bgr))[:, :15]
    buf = ctypes.create_string_buffer(_BUFFER_BYTES)
    with _cnn_lock:  # the library keeps its weights in process-wide state
        if threads is not None:
            threads(1)  # a per-calling-thread setting in OpenMP, so set at every call
        result = fn(ctypes.addressof(buf), bgr.ctypes.data, bgr.shape[1], bgr.shape[0], bgr.strides[0])
    n = result[0] if result else 0
    if n <= 0:
        return np.zeros((0, 15), np.int16)
    faces = ctypes.cast(ctypes.cast(result, ctypes.c_void_p).value + 4, ctypes.POINTER(ctypes.c_short))
    return np.ctypeslib.as_array(faces, shape=(n, 16))[:, :15].copy()
