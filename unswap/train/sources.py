"""Faces for training and monitoring, cut from whole files exactly as a scan cuts them.

A scan finds faces with YuNet, tracks them and crops each with the detector's geometry
(``unswap.faces.align``); photos and clips from outside the shared face-crop layout go
through the same steps here, so what the network learns from them is what it will see.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from unswap.faces.align import CROP, SIDE_PER_SCALE, crop, crop_box
from unswap.faces.detect import detect_faces
from unswap.faces.track import FaceTracker
from unswap.media import MediaError, frames, probe
from unswap.mediasets import LabelledFile


def file_crops(
    path: Path, size: int = CROP, sample_fps: float = 2.0, min_face_px: float = 24.0,
    side_per_scale: float = SIDE_PER_SCALE,
):
    """Face crops of a file as a scan takes them: a list of (track id, (size, size, 3)
    uint8 RGB crop, (5, 2) landmarks in crop pixels). Empty when no face is found.
    A larger ``side_per_scale`` than the scan's takes the face with more of its
    surroundings, on the same centre."""
    info = probe(path)
    tracker, out = FaceTracker(), []
    for frame in frames(path, info, sample_fps=sample_fps):
        faces = detect_faces(frame.image)
        if len(faces):
            faces = faces[(faces.boxes[:, 2] - faces.boxes[:, 0]) >= min_face_px]
        ids = tracker.update(frame.index, frame.t, faces)
        for tid, lm in zip(ids, faces.landmarks):
            box = crop_box(lm, side_per_scale)
            scale = size / (box[2] - box[0])
            out.append((tid, crop(frame.image, box, size), ((lm - box[:2]) * scale).astype(np.float32)))
    return out


def largest_face_crops(files: list[LabelledFile], cache: Path, size: int = CROP):
    """(JPEG bytes at quality 95, (N, 5, 2) landmarks, kept files) of the largest face
    of each photo, cached in ``cache``; photos where no face is found are left out."""
    names = [f.rel for f in files]
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        if list(data["names"]) == names:
            keep = data["keep"]
            jpegs = [bytes(b) for b in np.split(data["blob"], np.cumsum(data["sizes"])[:-1])]
            return jpegs, data["landmarks"], [f for f, k in zip(files, keep) if k]
    jpegs, lms, keep = [], [], []
    for i, f in enumerate(files):
        try:
            crops = file_crops(f.path, size)
        except MediaError:
            crops = []
        if not crops:
            keep.append(False)
            continue
        _, c, lm = max(crops, key=lambda item: np.linalg.norm(item[2][1] - item[2][0]))
        jpegs.append(cv2.imencode(".jpg", c[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
        lms.append(lm)
        keep.append(True)
        if i % 500 == 0:
            print(f"crops {i}/{len(files)}", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    sizes = np.array([len(b) for b in jpegs])
    np.savez(cache, names=np.array(names), keep=np.array(keep), sizes=sizes,
             blob=np.frombuffer(b"".join(jpegs), np.uint8), landmarks=np.stack(lms).astype(np.float32))
    return jpegs, np.stack(lms), [f for f, k in zip(files, keep) if k]
