"""PDQ Hamming distances that set ``unswap match``'s threshold (``unswap.evidence.match.MAX_DISTANCE``).

For every clip in $UNSWAP_DATA/videos/dfdc, frames sampled at --fps are hashed as they are
and after real transformations (rescale, JPEG, brightness, face blur, crops); the distance
of each transformed frame to its original says what a copy looks like. Frames of different
clips say what unrelated media look like; frames of one clip a second or more apart, what
other moments of the same shot look like (why a segment's time offset needs many frames).

    python scripts/pdq_distances.py --fps 1
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import cv2
import numpy as np

from unswap.faces.detect import detect_faces
from unswap.evidence.hashing import hamming, pdq
from unswap.evidence.match import MAX_DISTANCE
from unswap.media import frames
from unswap.paths import shared_data_dir


def _bits(image: np.ndarray) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(pdq(np.ascontiguousarray(image))[0]), np.uint8)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    _, data = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1]


def _crop(image: np.ndarray, share: float) -> np.ndarray:
    h, w = image.shape[:2]
    dy, dx = round(h * share), round(w * share)
    return image[dy:h - dy, dx:w - dx]


def _scale(image: np.ndarray, f: float) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)


def _blur_faces(image: np.ndarray) -> np.ndarray:
    out = image.copy()
    for x0, y0, x1, y1 in detect_faces(image).boxes.astype(int):
        x0, y0 = max(0, x0), max(0, y0)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(out[y0:y1, x0:x1], (0, 0), 8)
    return out


TRANSFORMS = {
    "0.5x": lambda im: _scale(im, 0.5),
    "0.25x": lambda im: _scale(im, 0.25),
    "JPEG q30": lambda im: _jpeg(im, 30),
    "0.5x + JPEG q50": lambda im: _jpeg(_scale(im, 0.5), 50),
    "brightness +20": lambda im: np.clip(im.astype(np.int16) + 20, 0, 255).astype(np.uint8),
    "faces blurred": _blur_faces,
    "crop 1% a side": lambda im: _crop(im, 0.01),
    "crop 2% a side": lambda im: _crop(im, 0.02),
    "crop 5% a side": lambda im: _crop(im, 0.05),
}


def _row(name: str, d: np.ndarray) -> str:
    d = np.asarray(d).ravel()
    share = 100 * float((d <= MAX_DISTANCE).mean())
    return (f"| {name} | {len(d)} | {d.min()} | {np.percentile(d, 5):.0f} | {np.median(d):.0f} | "
            f"{np.percentile(d, 95):.0f} | {d.max()} | {share:.0f}% |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fps", type=float, default=1.0, help="frames sampled per second of each clip")
    ap.add_argument("--clips", type=Path, default=shared_data_dir() / "videos" / "dfdc")
    args = ap.parse_args()

    originals: dict[str, list[tuple[float, np.ndarray]]] = {}
    copies: dict[str, list[int]] = {name: [] for name in TRANSFORMS}
    for clip in sorted(args.clips.glob("*.mp4")):
        originals[clip.name] = []
        for frame in frames(clip, sample_fps=args.fps):
            bits = _bits(frame.image)
            originals[clip.name].append((frame.t, bits))
            for name, transform in TRANSFORMS.items():
                copies[name].append(int(hamming(bits, _bits(transform(frame.image)))[0, 0]))
        print(f"{clip.name}: {len(originals[clip.name])} frames", flush=True)

    same_shot = []
    for hashed in originals.values():
        for (ta, a), (tb, b) in itertools.combinations(hashed, 2):
            if abs(ta - tb) >= 1.0:
                same_shot.append(int(hamming(a, b)[0, 0]))
    unrelated = []
    for x, y in itertools.combinations(originals.values(), 2):
        unrelated += hamming(np.stack([b for _, b in x]), np.stack([b for _, b in y])).ravel().tolist()

    print(f"\nPDQ Hamming distance of 256 bits; 'match' is the share at or under {MAX_DISTANCE}.\n")
    print("| pair | count | min | 5% | median | 95% | max | match |")
    print("|---|---|---|---|---|---|---|---|")
    for name, d in copies.items():
        print(_row(f"copy: {name}", np.array(d)))
    print(_row("same clip, frames >= 1 s apart", np.array(same_shot)))
    print(_row("different clips", np.array(unrelated)))


if __name__ == "__main__":
    main()
