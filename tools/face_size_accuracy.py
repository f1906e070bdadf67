"""How well the detector separates real from swapped faces by face size: the measurement
behind ``ScanConfig.min_face_px`` (docs/face-size.md).

A face of W px is simulated as a scan would see it: the shared face crop (or, for the
inswapper photos, the whole photo) is shrunk so the face's YuNet box is W px wide (area
filter, as a camera or a re-encode would), and the detector's crop is then taken from
that small picture and resized up to the network input, as the scan does. ``val`` crops
are a fixed, seeded sample of both classes; xdomain/inswapper is used whole.

    python tools/face_size_accuracy.py --sizes 16 24 32 48 64 96 --per-class 600
"""

from __future__ import annotations

import argparse
import csv

import cv2
import numpy as np

from unswap.detectors import DEFAULT_DETECTOR, create_detector
from unswap.faces.align import crop
from unswap.faces.detect import detect_faces
from unswap.facesets import iter_split
from unswap.metrics import roc_auc
from unswap.paths import shared_data_dir


def at_face_width(rgb: np.ndarray, landmarks: np.ndarray, box_w: float, width: float | None, det) -> np.ndarray:
    """The detector's input crop of the face, the picture first shrunk so the face box is ``width`` px."""
    if width is None or width >= box_w:
        return crop(rgb, det.crop_box(landmarks), det.config.input_size)
    f = width / box_w
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    return crop(small, det.crop_box(landmarks * f), det.config.input_size)


def faces_of(images, det):
    """(label, rgb, landmarks, box width) for each picture with a face found."""
    for label, rgb in images:
        found = detect_faces(rgb)
        if len(found):
            k = int(np.argmax(found.boxes[:, 2] - found.boxes[:, 0]))
            yield label, rgb, found.landmarks[k], float(found.boxes[k, 2] - found.boxes[k, 0])


def val_images(per_class: int, seed: int = 0):
    samples = list(iter_split(shared_data_dir() / "faces", "val"))
    rng = np.random.default_rng(seed)
    for label in ("real", "fake"):
        pool = [s for s in samples if s.label == label]
        for i in rng.choice(len(pool), min(per_class, len(pool)), replace=False):
            yield (1 if label == "fake" else 0), pool[i].decode()


def inswapper_images():
    root = shared_data_dir() / "xdomain" / "inswapper"
    with open(root / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            bgr = cv2.imread(str(root / row["path"]))
            if bgr is not None:
                yield (1 if row["label"] == "fake" else 0), np.ascontiguousarray(bgr[:, :, ::-1])


def table(name: str, faces: list, sizes: list[float | None], det) -> None:
    labels = np.array([f[0] for f in faces])
    widths = np.array([f[3] for f in faces])
    print(f"\n{name}: {len(faces)} faces ({int(labels.sum())} fake), face box median {np.median(widths):.0f} px")
    print(f"{'face px':>8} {'AUC':>6} {'mean p_fake real':>17} {'mean p_fake fake':>17} {'called fake, real':>18}")
    for width in sizes:
        crops = np.stack([at_face_width(rgb, lm, bw, width, det) for _, rgb, lm, bw in faces])
        p = det.score(crops)
        fpr = float(np.mean([det.config.label_for(x) == "fake" for x in p[labels == 0]]))
        print(f"{'as is' if width is None else f'{width:g}':>8} {roc_auc(labels, p):>6.3f} {p[labels == 0].mean():>17.3f} "
              f"{p[labels == 1].mean():>17.3f} {fpr:>18.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[16, 24, 32, 48, 64, 96])
    ap.add_argument("--per-class", type=int, default=600, help="val faces per class (seeded sample)")
    ap.add_argument("--detector", default=DEFAULT_DETECTOR)
    args = ap.parse_args()
    det = create_detector(args.detector)
    sizes = [*args.sizes, None]
    print(f"detector {det.id}")
    table("val (DFDC crops)", list(faces_of(val_images(args.per_class), det)), sizes, det)
    if (shared_data_dir() / "xdomain" / "inswapper" / "labels.csv").is_file():
        table("xdomain/inswapper (photos)", list(faces_of(inswapper_images(), det)), sizes, det)


if __name__ == "__main__":
    main()
