"""What shot detection costs per decoded frame, unswap's own test against PySceneDetect's
ContentDetector, on the 1080p clips of $UNSWAP_DATA/videos/dfdc (the frames a scan
decodes: non-reference frames skipped). PySceneDetect needs a BGR picture of every frame;
the scan converts only the sampled ones, so its cost includes that conversion (at full
size, and at a quarter of each side, which PySceneDetect's own downscaling would use).

    pip install scenedetect==0.6.7.1   # only for this comparison
    python tools/bench_shots.py
"""

from __future__ import annotations

import sys
import time

import av

from unswap.media import probe
from unswap.paths import shared_data_dir
from unswap.shots import ShotDetector, luma_thumbnail


def decoded(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        s.codec_context.skip_frame = "NONREF"
        yield from c.decode(s)


def main() -> None:
    try:
        from scenedetect.detectors import ContentDetector
    except ImportError:
        ContentDetector = None
        print("scenedetect not installed: only unswap's own test is timed")
    clips = [p for p in sorted((shared_data_dir() / "videos" / "dfdc").glob("*.mp4"))
             if min(probe(p).width, probe(p).height) == 1080]
    if not clips:
        sys.exit("no 1080p clips (set UNSWAP_DATA)")
    print(f"{'clip':<16} {'frames':>6} {'own ms':>7} {'PySD full ms':>13} {'PySD 1/4 ms':>12}")
    for clip in clips:
        frames = list(decoded(clip))
        det = ShotDetector()
        t = time.perf_counter()
        for f in frames:
            det.feed(f.time or 0.0, luma_thumbnail(f))
        own = (time.perf_counter() - t) / len(frames) * 1000
        cost = []
        for scale in (1, 4):
            if ContentDetector is None:
                cost.append(float("nan"))
                continue
            cd = ContentDetector()
            t = time.perf_counter()
            for i, f in enumerate(frames):
                cd.process_frame(i, f.to_ndarray(format="bgr24", width=f.width // scale, height=f.height // scale))
            cost.append((time.perf_counter() - t) / len(frames) * 1000)
        print(f"{clip.name:<16} {len(frames):>6} {own:>7.2f} {cost[0]:>13.2f} {cost[1]:>12.2f}")


if __name__ == "__main__":
    main()
