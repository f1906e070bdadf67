"""Training and validation data: real faces paired with their self-blends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from unswap.faces.align import resize_crop
from unswap.facesets import iter_split
from unswap.train.sbi import degrade, frequency_jitter, self_blend


def load_train_faces(faces_dir: Path, cache: Path) -> tuple[list[bytes], np.ndarray]:
    """JPEG bytes and (N, 5, 2) landmarks of the real faces of ``train``.

    Landmarks are found once and cached in ``cache`` (an .npz keyed by sample key);
    faces YuNet misses get the mean layout of the rest.
    """
    from unswap.train.landmarks import crop_landmarks  # face detection: not needed with a pack

    samples = [s for s in iter_split(faces_dir, "train") if s.label == "real"]
    keys = [s.key for s in samples]
    if cache.is_file():
        data = np.load(cache)
        if list(data["keys"]) == keys:
            return [s.jpeg for s in samples], data["landmarks"]
    lms = np.full((len(samples), 5, 2), np.nan, np.float32)
    for i, s in enumerate(samples):
        lm = crop_landmarks(s.decode())
        if lm is not None:
            lms[i] = lm
        if i % 1000 == 0:
            print(f"landmarks {i}/{len(samples)}", flush=True)
    missing = np.isnan(lms[:, 0, 0])
    lms[missing] = np.nanmean(lms[~missing], axis=0)
    print(f"landmarks: YuNet missed {int(missing.sum())} of {len(samples)}; mean layout used", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, keys=np.array(keys), landmarks=lms)
    return [s.jpeg for s in samples], lms


class BlendPairs(torch.utils.data.Dataset):
    """Item i: uint8 (2, 3, S, S) tensor [real, self-blend], labels [0, 1] and float
    (2, M, M) blend masks (zeros for the real face; M = S / ``mask_stride``, or an empty
    tensor when ``mask_stride`` is 0)."""

    def __init__(
        self, jpegs: list[bytes], landmarks: np.ndarray, size: int, seed: int,
        degrade_args: dict | None = None, mask_stride: int = 0, large_mask_p: float = 0.0,
        smooth_p: float = 0.0, real_jitter_p: float = 0.0,
    ):
        self.jpegs, self.landmarks, self.size, self.seed = jpegs, landmarks, size, seed
        self.degrade_args = degrade_args or {}
        self.mask_stride, self.large_mask_p, self.smooth_p = mask_stride, large_mask_p, smooth_p
        self.real_jitter_p = real_jitter_p
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.jpegs)

    def __getitem__(self, i: int):
        import cv2

        rng = np.random.default_rng([self.seed, self.epoch, i])
        bgr = cv2.imdecode(np.frombuffer(self.jpegs[i], np.uint8), cv2.IMREAD_COLOR)
        real = np.ascontiguousarray(bgr[:, :, ::-1])
        fake, mask = self_blend(real, self.landmarks[i], rng, self.large_mask_p, self.smooth_p)
        if self.real_jitter_p and rng.random() < self.real_jitter_p:
            # the real face gets a blend's frequency jitter too, over the whole crop: how
            # soft or sharp a face is then says nothing, only a step inside it does
            real = frequency_jitter(real, rng, self.smooth_p)
        pair, masks = [], []
        for im, m in ((real, np.zeros_like(mask)), (fake, mask)):
            if rng.random() < 0.5:
                im, m = im[:, ::-1], m[:, ::-1]
            im = degrade(np.ascontiguousarray(im), rng, **self.degrade_args)
            pair.append(resize_crop(im, self.size))
            if self.mask_stride:
                side = self.size // self.mask_stride
                masks.append(cv2.resize(np.ascontiguousarray(m), (side, side), interpolation=cv2.INTER_AREA))
        x = torch.from_numpy(np.stack(pair)).permute(0, 3, 1, 2).contiguous()
        m = torch.from_numpy(np.stack(masks)) if masks else torch.zeros(0)
        return x, torch.tensor([0.0, 1.0]), m


def load_split_inputs(faces_dir: Path, split: str, size: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Keys, labels (1 = fake) and uint8 (N, 3, S, S) inputs of a split, as they are."""
    keys, labels, xs = [], [], []
    for s in iter_split(faces_dir, split):
        keys.append(s.key)
        labels.append(1 if s.label == "fake" else 0)
        xs.append(resize_crop(s.decode(), size).transpose(2, 0, 1))
    return keys, np.array(labels), np.stack(xs)
